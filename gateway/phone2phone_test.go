package gateway

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media/audio"
)

// A phone hearing another phone (a consulted number, a transfer) takes its 8 kHz audio as it is:
// A's PCMU tone reaches B as PCMA, with no Opus made and no PCM sink on A's source.
func TestPhoneHearsPhone(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call := func(user, sdp string) (*Leg, *net.UDPConn) {
		phone := newSIPPeer(t, user)
		media8 := rtpSocket(t)
		if _, err := phone.invite(ctx, gw, "100", fmt.Appendf(nil, sdp, media8.LocalAddr().(*net.UDPAddr).Port)); err != nil {
			t.Fatal(err)
		}
		return (<-q.got).ep.(*Leg), media8
	}
	a, aRTP := call("alice", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	b, bRTP := call("bob", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
	if err := b.Attach(a.Sources()[0]); err != nil {
		t.Fatal(err)
	}
	var heard atomic.Int64
	go readRTP(bRTP, func(h *rtp.Header, p []byte) {
		if h.PayloadType == 8 && power(audio.DecodeALaw(nil, p), 700, 8000) > 1e6 {
			heard.Add(1)
		}
	})
	stop := phoneTone(aRTP, net.UDPAddrFromAddrPort(a.remoteOfLocal()), 700, ptPCMU, nil)
	defer stop()
	eventually(t, "A's tone at B in PCMA", func() bool { return heard.Load() >= 20 })
	if n, p := a.src.fan.Len(), len(a.src.pcm.Load()); n != 0 || p != 0 {
		t.Fatalf("A's source has %d RTP and %d PCM sinks: its voice was transcoded through Opus or 48 kHz", n, p)
	}
	b.Detach(a.Sources()[0])
	if len(a.src.nb.Load()) != 0 {
		t.Fatal("B still subscribed after Detach")
	}
}
