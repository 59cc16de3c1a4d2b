package call

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// R17 to a number: the agent is released at once; the customer waits while the number rings and
// is joined with whoever answers. A number that does not answer puts the customer back in the queue.
func TestBlindTransferToNumber(t *testing.T) { // R17
	t.Run("answered", func(t *testing.T) {
		d := &fakeDialer{}
		h := newHarness(t, Config{}, WithDialer(d))
		ann, zoe := h.customer("ann"), h.agent("zoe")
		h.connect(ann, zoe, "sales")
		h.control(zoe, BlindTransfer{By: "zoe", Target: Target{Kind: TargetNumber, ID: "+100"}})
		s := h.sees(ann, "joined with the number", func(s CallState) bool {
			return s.Phase == PhaseConnected && len(s.Parties) == 2 && s.Parties[1].ID == "tel:+100"
		})
		if p := s.Parties[1]; p.As != AsParticipant || !p.Phone {
			t.Fatalf("the number joined as %+v", p)
		}
		if !reflect.DeepEqual(d.numbers(), []string{"+100"}) {
			t.Fatalf("dialled %v", d.numbers())
		}
		waitFor(t, zoe.n, func(w WrapupStarted) bool { return true }) // R17: released into wrap-up
	})
	t.Run("no answer", func(t *testing.T) {
		d := &fakeDialer{err: errors.New("no_answer")}
		h := newHarness(t, Config{}, WithDialer(d))
		ann, zoe, amy := h.customer("ann"), h.agent("zoe"), h.agent("amy")
		id := h.connect(ann, zoe, "sales")
		h.control(zoe, BlindTransfer{By: "zoe", Target: Target{Kind: TargetNumber, ID: "+100"}})
		h.sees(ann, "told the transfer failed", func(s CallState) bool { return s.Note == "transfer_failed: no_answer" })
		h.available(amy)
		h.offered(amy, id) // back in the queue, offered to the next agent
	})
}

// ringingDialer never answers: it reports when the dial is given up.
type ringingDialer struct{ cancelled chan struct{} }

func (d *ringingDialer) Dial(ctx context.Context, _ string, _ func()) (Endpoint, error) {
	<-ctx.Done()
	close(d.cancelled)
	return nil, ctx.Err()
}

// R29: an agent who hangs up while the number still rings stops the ringing at once (the gateway
// sends CANCEL) instead of letting it ring until the offer timeout.
func TestHangupWhileNumberRings(t *testing.T) { // R29
	d := &ringingDialer{cancelled: make(chan struct{})}
	h := newHarness(t, Config{}, WithDialer(d))
	zoe := h.agent("zoe")
	if _, err := h.c.Dial(h.ctx(), zoe.u, Target{Kind: TargetNumber, ID: "+100"}, zoe.ep, zoe.n); err != nil {
		t.Fatal(err)
	}
	if err := h.c.Hangup(h.ctx(), zoe.u); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the number kept ringing after the agent hung up")
	}
}
