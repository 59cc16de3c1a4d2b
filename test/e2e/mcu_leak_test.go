package e2e

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMCUCallLeavesNoGoroutines: a recorded three-party MCU call (decoders, composite encoder, audio
// clock, recorder) ends and the server stops without leaving a goroutine behind.
func TestMCUCallLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// fasthttp's process-wide date ticker and its worker-pool cleaner (exits within 10 s of stop).
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	func() {
		srv := startServerNoCleanup(t)
		defer stopServer(t, srv)
		mctx, stopMedia := context.WithCancel(ctx)
		defer stopMedia()
		admin := dial(t, mctx, srv, "user=admin1")
		defer admin.Close()
		if err := admin.Request(mctx, "video_mode", map[string]string{"mode": "mcu"}); err != nil {
			t.Fatal(err)
		}
		cust := newParty(t, mctx, srv, "role=customer&name=Lee", 0)
		a := newParty(t, mctx, srv, "user=agent1", 1)
		b := newParty(t, mctx, srv, "user=agent2", 2)
		for _, p := range []*party{cust, a, b} {
			defer p.c.Close()
		}
		id := connectCall(t, mctx, cust.c, a.c)
		if err := b.c.Request(mctx, "agent_state", map[string]string{"state": "available"}); err != nil {
			t.Fatal(err)
		}
		if err := a.c.Request(mctx, "consult", map[string]string{"kind": "agent", "target": "agent2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.c.WaitFor(mctx, "call_offered", nil); err != nil {
			t.Fatal(err)
		}
		if err := b.c.Request(mctx, "accept", map[string]string{"call_id": id}); err != nil {
			t.Fatal(err)
		}
		if err := a.c.Request(mctx, "conference", struct{}{}); err != nil {
			t.Fatal(err)
		}
		if err := a.c.Request(mctx, "record", map[string]bool{"on": true}); err != nil {
			t.Fatal(err)
		}
		waitPictures(t, mctx, cust, 10)
		waitHeard(t, mctx, "customer hears the helper", cust, b, 10)
		if err := a.c.Request(mctx, "end_call", struct{}{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cust.c.WaitFor(mctx, "call_ended", nil); err != nil {
			t.Fatal(err)
		}
		stopMedia()
	}()
}
