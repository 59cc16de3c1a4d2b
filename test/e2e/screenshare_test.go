package e2e

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

// TestScreenShareRenegotiatesAndNoLeaks: mid-call the customer adds a second video track (a screen
// share). The client's offer is answered, the server renegotiates the agent's connection to add the
// track, and the agent receives it. When the call is over and the server stopped, no goroutine of
// the call is left behind.
func TestScreenShareRenegotiatesAndNoLeaks(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// fasthttp's process-wide date ticker and its worker-pool cleaner (exits within 10 s of stop).
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	func() {
		srv := startServerNoCleanup(t)
		defer stopServer(t, srv)
		cust := dial(t, ctx, srv, "role=customer&name=Sharer")
		agent := dial(t, ctx, srv, "user=agent3")
		defer cust.Close()
		defer agent.Close()
		cv, ca := rtpTracks(t, "c")
		cust.AddTrack(cv)
		cust.AddTrack(ca)
		screenIDs := make(chan string, 4)
		agent.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				if len(p.Payload) >= 5 && binary.BigEndian.Uint32(p.Payload[1:]) == 0x5C4EE7 {
					select {
					case screenIDs <- tr.ID():
					default:
					}
				}
			}
		})
		if err := agent.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
			t.Fatal(err)
		}
		// agent3 serves only the billing queue.
		if err := cust.Request(ctx, "join", map[string]string{"queue": "billing"}); err != nil {
			t.Fatal(err)
		}
		m, err := agent.WaitFor(ctx, "call_offered", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := agent.Request(ctx, "accept", map[string]string{"call_id": callID(m)}); err != nil {
			t.Fatal(err)
		}
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		go sendLoop(sctx, 0xC, cv, ca)
		for cust.PC() == nil || cust.PC().ConnectionState() != webrtc.PeerConnectionStateConnected {
			select {
			case <-ctx.Done():
				t.Fatal("customer never connected")
			case <-time.After(10 * time.Millisecond):
			}
		}

		screen, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "screen", "screen-stream")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cust.AddTrackLive(screen); err != nil {
			t.Fatal(err)
		}
		go func() {
			payload := []byte{0x10, 0, 0x5C, 0x4E, 0xE7, 1, 2, 3}
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := uint16(0); sctx.Err() == nil; i++ {
				<-tick.C
				_ = screen.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: i, Timestamp: uint32(i) * 3000, Marker: true}, Payload: payload})
			}
		}()
		select {
		case id := <-screenIDs:
			if id == "" {
				t.Fatal("screen track without id")
			}
		case <-ctx.Done():
			t.Fatal("the agent never received the screen share")
		}
		stop()
		if err := cust.Request(ctx, "hangup", struct{}{}); err != nil {
			t.Fatal(err)
		}
		if _, err := agent.WaitFor(ctx, "call_ended", nil); err != nil {
			t.Fatal(err)
		}
	}()
}
