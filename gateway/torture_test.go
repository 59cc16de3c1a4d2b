package gateway

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// tortureMessages are malformed and unusual SIP messages in the spirit of RFC 4475's torture tests
// (written for this suite, one per category the RFC covers): odd whitespace and line folding,
// escaped and wide characters, a wrong or duplicated Content-Length, missing mandatory headers,
// unknown methods and schemes, a bad SIP version, a non-numeric CSeq or Max-Forwards, an unterminated
// quote, IPv6 in Via, a huge header, a body that is not SDP.
var tortureMessages = []string{
	// Line folding and extra whitespace in headers.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo:   <sip:100@127.0.0.1>\r\nFrom: \"Torture\"\r\n  <sip:t@127.0.0.1>;tag=1\r\nCall-ID: fold-1\r\nCSeq:   1   INVITE\r\nVia:  SIP/2.0/UDP   127.0.0.1:5999 ; branch=z9hG4bKfold\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	// Escaped characters in the user part, and a non-ASCII display name.
	"INVITE sip:%31%30%30@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: \"J\xc3\xbcrgen\" <sip:j%40x@127.0.0.1>;tag=2\r\nCall-ID: esc-1\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKesc\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	// Content-Length larger than the body.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=3\r\nCall-ID: len-1\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKlen\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 9999\r\n\r\nv=0\r\n",
	// Two different Content-Length headers.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=4\r\nCall-ID: len-2\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKlen2\r\nMax-Forwards: 70\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nv=0\r\n",
	// No Call-ID, no CSeq.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=5\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKnoid\r\nContent-Length: 0\r\n\r\n",
	// No Via.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=6\r\nCall-ID: novia\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	// Unknown method, unknown URI scheme.
	"NEWMETHOD sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=7\r\nCall-ID: newm\r\nCSeq: 1 NEWMETHOD\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKnewm\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	"INVITE nope:100@127.0.0.1 SIP/2.0\r\nTo: <nope:100>\r\nFrom: sip:t@127.0.0.1;tag=8\r\nCall-ID: scheme\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKsch\r\nContent-Length: 0\r\n\r\n",
	// A SIP version from the future.
	"INVITE sip:100@127.0.0.1 SIP/7.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=9\r\nCall-ID: ver\r\nCSeq: 1 INVITE\r\nVia: SIP/7.0/UDP 127.0.0.1:5999;branch=z9hG4bKver\r\nContent-Length: 0\r\n\r\n",
	// Non-numeric CSeq and Max-Forwards; a CSeq method that disagrees with the request line.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=10\r\nCall-ID: cseq\r\nCSeq: one BYE\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKcseq\r\nMax-Forwards: many\r\nContent-Length: 0\r\n\r\n",
	// An unterminated quoted display name.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: \"never closed <sip:t@127.0.0.1>;tag=11\r\nCall-ID: quote\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKq\r\nContent-Length: 0\r\n\r\n",
	// IPv6 in Via and Contact.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@[::1];tag=12\r\nCall-ID: v6\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP [::1]:5999;branch=z9hG4bKv6\r\nContact: <sip:t@[::1]:5999>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	// A body that claims to be SDP and is not.
	"INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=13\r\nCall-ID: notsdp\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKns\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 11\r\n\r\nhello world",
	// Not SIP at all, and an empty datagram's neighbour: a single CRLF keep-alive.
	"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"\r\n",
}

// hugeHeader is a request with a 60 kB header value: it must be refused or dropped, not kept.
func hugeHeader() string {
	return "OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=14\r\nCall-ID: huge\r\nCSeq: 1 OPTIONS\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKhuge\r\nX-Big: " +
		strings.Repeat("a", 60000) + "\r\nContent-Length: 0\r\n\r\n"
}

// Garbage SIP on the gateway's socket is answered or dropped, and the gateway goes on taking calls:
// a well-formed call afterwards is queued as usual, and none of the malformed ones was.
func TestMalformedSIPKeepsServing(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	conn, err := net.Dial("udp", gw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range append(tortureMessages, hugeHeader()) {
		if _, err := conn.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	phone := newSIPPeer(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := phone.invite(ctx, gw, "100", phoneSDP(4000, "sendrecv")); err != nil {
		t.Fatalf("a good call after the garbage: %v", err)
	}
	got := <-q.got
	if got.user.ID != "tel:alice" {
		t.Fatalf("queued %+v, want the good caller only", got.user)
	}
	select {
	case extra := <-q.got:
		t.Fatalf("a malformed message was queued as a call: %+v", extra.user)
	default:
	}
}

// FuzzSIPMessage: whatever arrives, parsing it (sipgo) and, for a request carrying a body, reading
// it as an SDP offer and negotiating an answer never panics; what negotiates must answer.
func FuzzSIPMessage(f *testing.F) {
	for _, m := range tortureMessages {
		f.Add([]byte(m))
	}
	f.Add([]byte("INVITE sip:100@127.0.0.1 SIP/2.0\r\nTo: sip:100@127.0.0.1\r\nFrom: sip:t@127.0.0.1;tag=1\r\nCall-ID: ok\r\nCSeq: 1 INVITE\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKok\r\nContent-Type: application/sdp\r\nContent-Length: 70\r\n\r\nv=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := sip.ParseMessage(b)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || len(req.Body()) == 0 {
			return
		}
		sd, err := ParseSDP(req.Body())
		if err != nil {
			return
		}
		_, _ = sd.Negotiate(0)
	})
}
