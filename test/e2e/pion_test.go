package e2e

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/client"
	"github.com/contactcenter/vcc/cmd/app"
)

// sendLoop writes RTP on both tracks until ctx ends; each payload starts with a magic and a counter
// so the receiver can tell forwarded bytes are intact.
func sendLoop(ctx context.Context, magic uint32, video, audio *webrtc.TrackLocalStaticRTP) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	vp := make([]byte, 1000)
	ap := make([]byte, 120)
	for i := uint32(0); ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		vp[0] = 0x10 // VP8 descriptor: start of partition
		binary.BigEndian.PutUint32(vp[1:], magic)
		binary.BigEndian.PutUint32(vp[5:], i)
		_ = video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: uint16(i), Timestamp: i * 3000}, Payload: vp})
		binary.BigEndian.PutUint32(ap, magic)
		binary.BigEndian.PutUint32(ap[4:], i)
		_ = audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: i * 960}, Payload: ap})
	}
}

type received struct {
	video, audio atomic.Int64
	videoTrack   atomic.Pointer[webrtc.TrackRemote]
	got          chan struct{} // closed once both kinds arrived intact
	closed       atomic.Bool
}

// receive counts packets whose payload carries the expected sender's magic.
func receive(magic uint32) (*received, func(*webrtc.TrackRemote, *webrtc.RTPReceiver)) {
	r := &received{got: make(chan struct{})}
	return r, func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			r.videoTrack.Store(tr)
		}
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			off := 0
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				off = 1
			}
			if len(p.Payload) < off+8 || binary.BigEndian.Uint32(p.Payload[off:]) != magic {
				continue
			}
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				r.video.Add(1)
			} else {
				r.audio.Add(1)
			}
			if r.video.Load() > 10 && r.audio.Load() > 10 && r.closed.CompareAndSwap(false, true) {
				close(r.got)
			}
		}
	}
}

// mediaCall routes a Go customer and agent1 into one call, both sending synthetic VP8 and Opus
// whose payloads carry the sender's magic, and returns what each receives from the other.
func mediaCall(t *testing.T, ctx context.Context, srv *app.Server, name string) (cust, agent *client.Client, atCust, atAgent *received) {
	t.Helper()
	cust = dial(t, ctx, srv, "role=customer&name="+name)
	agent = dial(t, ctx, srv, "user=agent1")
	cv, ca := rtpTracks(t, "cust")
	av, aa := rtpTracks(t, "agent")
	cust.AddTrack(cv)
	cust.AddTrack(ca)
	agent.AddTrack(av)
	agent.AddTrack(aa)
	atCust, onCust := receive(0xA6E17)
	atAgent, onAgent := receive(0xC057)
	cust.OnTrack(onCust)
	agent.OnTrack(onAgent)
	connectCall(t, ctx, cust, agent)
	go sendLoop(ctx, 0xC057, cv, ca)
	go sendLoop(ctx, 0xA6E17, av, aa)
	return cust, agent, atCust, atAgent
}

// TestPionClientsForwardingAndPLI: two Go pion clients, a customer and an agent, are routed into one
// SFU call; each receives the other's audio and video unchanged, and a PLI the agent sends for the
// customer's video reaches the customer's sender.
func TestPionClientsForwardingAndPLI(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cust, agent, atCust, atAgent := mediaCall(t, ctx, srv, "Pia")

	for name, r := range map[string]*received{"customer": atCust, "agent": atAgent} {
		select {
		case <-r.got:
		case <-ctx.Done():
			t.Fatalf("%s received video=%d audio=%d packets from the other party", name, r.video.Load(), r.audio.Load())
		}
	}

	// Count PLIs at the customer's video sender. Attaching a viewer costs one keyframe request;
	// the agent's repeated PLIs must add more (the server rate-limits them to one per 300 ms).
	var videoSender *webrtc.RTPSender
	for _, s := range cust.Senders() {
		if s.Track() != nil && s.Track().Kind() == webrtc.RTPCodecTypeVideo {
			videoSender = s
		}
	}
	plis := make(chan struct{}, 64)
	go func() {
		for {
			pkts, _, err := videoSender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if _, ok := p.(*rtcp.PictureLossIndication); ok {
					plis <- struct{}{}
				}
			}
		}
	}()
	tr := atAgent.videoTrack.Load()
	pliTick := time.NewTicker(100 * time.Millisecond)
	defer pliTick.Stop()
	seen := 0
	for seen < 3 {
		select {
		case <-plis:
			seen++
		case <-pliTick.C:
			if err := agent.PC().WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}}); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatalf("customer's sender saw %d PLIs; want >= 3", seen)
		}
	}

	// The forwarding is visible in the metrics.
	if v := metricValue(t, srv, "vcc_forwarded_packets_total"); v < 40 {
		t.Fatalf("vcc_forwarded_packets_total = %v after forwarding both ways", v)
	}
	if v := metricValue(t, srv, "vcc_calls"); v != 1 {
		t.Fatalf("vcc_calls = %v during the call", v)
	}

	// Hang up: both are told the call ended.
	if err := agent.Request(ctx, "hangup", struct{}{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{cust, agent} {
		if _, err := c.WaitFor(ctx, "call_ended", nil); err != nil {
			t.Fatal(err)
		}
	}
}
