package gateway

import (
	"net/netip"
	"testing"
)

// FuzzSDP feeds arbitrary offers to the parser and, for those a leg would accept, checks that the
// answer we build reads back to the same codec, events and mirrored direction, with one m= line per
// offered one. Seeds: testdata/fuzz/FuzzSDP and the cases below.
func FuzzSDP(f *testing.F) {
	f.Add([]byte(sippOffer))
	f.Add([]byte("v=0\nc=IN IP4 10.0.0.1\nm=video 5000 RTP/AVP 96\nm=audio 4000 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=sendonly\n"))
	f.Add([]byte("v=0\nc=IN IP6 ::1\nm=audio 4000/2 RTP/AVP 96\na=rtpmap:96 PCMA/8000/1\na=inactive\n"))
	f.Add([]byte(opusPhoneOffer))
	f.Add([]byte("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/SAVP 8 0\na=crypto:1 F8_128_HMAC_SHA1_80 inline:AAAA\n" +
		"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20\n"))
	f.Add([]byte("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/SAVP 0\na=crypto:7 AEAD_AES_128_GCM inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA==\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		sd, err := ParseSDP(body)
		if err != nil {
			return
		}
		o, err := sd.Negotiate(-1)
		if err != nil {
			return
		}
		l := localSDP{addr: netip.MustParseAddr("192.0.2.1"), port: 40000, session: 1, version: 1,
			codecs: []sdpCodec{{o.Law, o.PT}}, events: eventsOf(o), dir: o.Dir.Answer()}
		if o.SRTP != nil {
			if _, err := o.SRTP.context(); err != nil {
				t.Fatalf("an accepted key makes no SRTP context: %v", err)
			}
			k, err := newSDESKey(o.SRTP.tag, o.SRTP.suite)
			if err != nil {
				t.Fatal(err)
			}
			l.crypto = &k
		}
		ans := l.marshal(sd)
		back, err := ParseSDP(ans)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
		if len(back.medias) != len(sd.medias) {
			t.Fatalf("answer has %d m= lines for an offer of %d:\n%s", len(back.medias), len(sd.medias), ans)
		}
		bo, err := back.Negotiate(-1)
		if err != nil {
			t.Fatalf("our answer is not usable: %v\n%s", err, ans)
		}
		if (bo.SRTP == nil) != (o.SRTP == nil) || bo.SRTP != nil && (bo.SRTP.tag != o.SRTP.tag || bo.SRTP.suite != o.SRTP.suite) {
			t.Fatalf("answer's SRTP %+v for the offer's %+v:\n%s", bo.SRTP, o.SRTP, ans)
		}
		if bo.Law != o.Law || bo.PT != o.PT || bo.Event != o.Event || bo.EventRate != o.EventRate || bo.Dir != o.Dir.Answer() || bo.Remote.Port() != 40000 {
			t.Fatalf("answer %+v does not match offer %+v:\n%s", bo, o, ans)
		}
	})
}
