package gateway

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// sippOffer is what sipp's uac_pcap scenario offers.
const sippOffer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n"

// opusPhoneOffer is a phone offering Opus (dynamic payload type 107, as some desk phones number
// it) before G.711, with telephone-event at both clock rates.
const opusPhoneOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/AVP 107 8 0 101 96\r\na=rtpmap:107 opus/48000/2\r\na=fmtp:107 useinbandfec=1\r\n" +
	"a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:96 telephone-event/48000\r\na=ptime:20\r\n"

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sdp       string
		law, pt   uint8
		event     int
		eventRate int
		dir       Direction
		remote    string
		err       error
	}{
		{name: "sipp pcap", sdp: sippOffer, law: ptPCMA, pt: 8, event: 101, eventRate: 8000, remote: "127.0.0.1:6000"},
		{name: "peer order PCMU first", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0 8\n", law: ptPCMU, pt: 0, event: -1, remote: "10.0.0.1:4000"},
		{name: "static without rtpmap", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 18 8\n", law: ptPCMA, pt: 8, event: -1, remote: "10.0.0.1:4000"},
		{name: "dynamic alias", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 96\na=rtpmap:96 PCMU/8000\n", law: ptPCMU, pt: 96, event: -1, remote: "10.0.0.1:4000"},
		{name: "media-level c= and sendonly", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.2\na=sendonly\n", law: ptPCMU, event: -1, dir: SendOnly, remote: "10.0.0.2:4000"},
		{name: "session-level inactive", sdp: "v=0\nc=IN IP4 10.0.0.1\na=inactive\nm=audio 4000 RTP/AVP 0\n", law: ptPCMU, event: -1, dir: Inactive, remote: "10.0.0.1:4000"},
		{name: "ipv6", sdp: "v=0\nc=IN IP6 ::1\nm=audio 4000 RTP/AVP 0\n", law: ptPCMU, event: -1, remote: "[::1]:4000"},
		{name: "video first, audio second", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=video 5000 RTP/AVP 96\nm=audio 4000 RTP/AVP 0\n", law: ptPCMU, event: -1, remote: "10.0.0.1:4000"},
		{name: "opus only", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n", law: codecOpus, pt: 111, event: -1, remote: "10.0.0.1:4000"},
		{name: "opus after PCMA: opus", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 8 96 101\na=rtpmap:96 OPUS/48000/2\na=rtpmap:101 telephone-event/8000\n", law: codecOpus, pt: 96, event: 101, eventRate: 8000, remote: "10.0.0.1:4000"},
		{name: "opus with both event rates: 48000", sdp: opusPhoneOffer, law: codecOpus, pt: 107, event: 96, eventRate: 48000, remote: "127.0.0.1:6000"},
		{name: "opus without channels", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 120\na=rtpmap:120 opus/48000\n", law: codecOpus, pt: 120, event: -1, remote: "10.0.0.1:4000"},
		{name: "PCMU only", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0 101 102\na=rtpmap:101 telephone-event/48000\na=rtpmap:102 telephone-event/8000\n", law: ptPCMU, pt: 0, event: 102, eventRate: 8000, remote: "10.0.0.1:4000"},
		{name: "opus at 16000 ignored", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 111 0\na=rtpmap:111 opus/16000/2\n", law: ptPCMU, pt: 0, event: -1, remote: "10.0.0.1:4000"},
		{name: "opus at 16000 only", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 111\na=rtpmap:111 opus/16000/2\n", err: ErrNoCodec},
		{name: "opus over srtp", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/SAVP 111\na=rtpmap:111 opus/48000/2\n", err: ErrNoCodec},
		{name: "srtp", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/SAVP 0\n", err: ErrNoCodec},
		{name: "audio disabled", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 0 RTP/AVP 0\n", err: ErrNoCodec},
		{name: "no connection", sdp: "v=0\nm=audio 4000 RTP/AVP 0\n", err: ErrNoCodec},
		{name: "empty", sdp: "", err: ErrNoSDP},
		{name: "not sdp", sdp: "hello world", err: ErrBadSDP},
		{name: "bad version", sdp: "v=1\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n", err: ErrBadSDP},
		{name: "bad port", sdp: "v=0\nc=IN IP4 10.0.0.1\nm=audio 70000 RTP/AVP 0\n", err: ErrBadSDP},
		{name: "bad address", sdp: "v=0\nc=IN IP4 ::1\nm=audio 4000 RTP/AVP 0\n", err: ErrBadSDP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := ParseSDP([]byte(tc.sdp))
			var o Offer
			if err == nil {
				o, err = sd.Negotiate(-1)
			}
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Law != tc.law || o.PT != tc.pt || o.Event != tc.event || o.EventRate != tc.eventRate || o.Dir != tc.dir || o.Remote != netip.MustParseAddrPort(tc.remote) {
				t.Fatalf("got %+v", o)
			}
		})
	}
}

func TestNegotiateKeepsPreferredCodec(t *testing.T) {
	sd, err := ParseSDP([]byte("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0 8\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := sd.Negotiate(int(ptPCMA)); o.Law != ptPCMA {
		t.Fatalf("a re-offer listing the call's codec second must keep it, got %d", o.Law)
	}
	if o, _ := sd.Negotiate(-1); o.Law != ptPCMU {
		t.Fatalf("a new offer takes the peer's first, got %d", o.Law)
	}
	// A G.711 call re-offered Opus as well keeps its law; an Opus call keeps Opus, wherever the
	// peer lists it.
	sd, err = ParseSDP([]byte("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0 111\na=rtpmap:111 opus/48000/2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := sd.Negotiate(int(ptPCMU)); o.Law != ptPCMU {
		t.Fatalf("a PCMU call re-offered Opus too must stay PCMU, got %d", o.Law)
	}
	if o, _ := sd.Negotiate(int(codecOpus)); o.Law != codecOpus || o.PT != 111 {
		t.Fatalf("an Opus call must stay Opus, got %d/%d", o.Law, o.PT)
	}
	if o, _ := sd.Negotiate(-1); o.Law != codecOpus {
		t.Fatalf("a new offer with Opus takes Opus, got %d", o.Law)
	}
}

// The answer lists every offered m= line (declining the others) and mirrors the direction.
func TestAnswer(t *testing.T) {
	offer := "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
	sd, err := ParseSDP([]byte(offer))
	if err != nil {
		t.Fatal(err)
	}
	o, err := sd.Negotiate(-1)
	if err != nil {
		t.Fatal(err)
	}
	l := localSDP{addr: netip.MustParseAddr("127.0.0.1"), port: 30000, session: 7, version: 1,
		codecs: []sdpCodec{{o.Law, o.PT}}, events: eventsOf(o), dir: o.Dir.Answer()}
	ans := string(l.marshal(sd))
	for _, want := range []string{"m=video 0 RTP/AVP 96\r\n", "m=audio 30000 RTP/AVP 0 101\r\n", "a=rtpmap:0 PCMU/8000\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n", "a=recvonly\r\n", "c=IN IP4 127.0.0.1\r\n", "o=vcc 7 1 IN IP4 127.0.0.1\r\n"} {
		if !strings.Contains(ans, want) {
			t.Errorf("answer lacks %q:\n%s", want, ans)
		}
	}
	if strings.Index(ans, "m=video") > strings.Index(ans, "m=audio") {
		t.Errorf("answer reorders the m= lines:\n%s", ans)
	}
	back, err := ParseSDP([]byte(ans))
	if err != nil {
		t.Fatal(err)
	}
	bo, err := back.Negotiate(-1)
	if err != nil || bo.Law != ptPCMU || bo.Event != 101 || bo.Dir != RecvOnly || bo.Remote.Port() != 30000 {
		t.Fatalf("our answer read back: %+v, %v", bo, err)
	}
}

// Hold and resume (RFC 3264 §8.4): what the phone only sends we only receive, and so on.
func TestHoldDirections(t *testing.T) {
	for offer, want := range map[Direction]Direction{SendRecv: SendRecv, SendOnly: RecvOnly, RecvOnly: SendOnly, Inactive: Inactive} {
		if got := offer.Answer(); got != want {
			t.Errorf("offer %s answered %s, want %s", offer, got, want)
		}
	}
}
