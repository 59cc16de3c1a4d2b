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
		if bo.Law != o.Law || bo.PT != o.PT || bo.Event != o.Event || bo.EventRate != o.EventRate || bo.Dir != o.Dir.Answer() || bo.Remote.Port() != 40000 {
			t.Fatalf("answer %+v does not match offer %+v:\n%s", bo, o, ans)
		}
	})
}
