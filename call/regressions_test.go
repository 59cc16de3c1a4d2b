package call

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// R1: a customer whom every available agent declined must not hold up the customers behind them.
// Center.dispatch stops at the first waiting customer for whom pick finds nobody ("break"), so bob
// waits while amy, available and with the skill, has only declined ann.
func TestDeclinedCallDoesNotBlockTheQueue(t *testing.T) { // R1
	h := newHarness(t, Config{})
	ann, bob, amy := h.customer("ann"), h.customer("bob"), h.agent("amy")
	id1 := h.enqueue(ann, "sales", 1)
	h.available(amy)
	h.offered(amy, id1)
	if err := h.c.Decline(h.ctx(), amy.u, id1); err != nil {
		t.Fatal(err)
	}
	wantState(t, amy, AgentAvailable)
	id2 := h.enqueue(bob, "sales", 2)
	h.offered(amy, id2)
}

// Close takes its list of calls, ends them and waits for every call loop. A customer who arrives in
// between gets a call loop that nothing ends, and Close waits for it forever.
func TestCloseWhileEnqueueing(t *testing.T) {
	h := newHarness(t, Config{})
	ann, bob := h.customer("ann"), h.customer("bob")
	h.enqueue(ann, "sales", 1)

	hold, closing := make(chan struct{}), make(chan CallID, 8)
	h.rooms.holdClose(hold, closing)
	release := sync.OnceFunc(func() { close(hold) })
	defer release()
	closed := make(chan struct{})
	go func() { h.c.Close(); close(closed) }()
	<-closing // Close has its list and is ending ann's call; the center goroutine is free

	_, err := h.c.Enqueue(h.ctx(), bob.u, "sales", bob.ep, bob.n)
	release()
	if err == nil {
		t.Errorf("Enqueue while closing succeeded, want ErrClosed")
		select {
		case <-closed:
		case <-time.After(waitLimit):
			t.Errorf("Close hangs on the call enqueued while closing")
		}
		bob.ep.fail(ReasonDisconnected) // end bob's call so that Close can return
		<-closed
		return
	}
	wantErr(t, "enqueue while closing", err, ErrClosed)
	<-closed
}

// Endpoints closed because the call ends are told the call's end reason: on shutdown a leg's
// context cause must read "shutdown", not "hangup" (loop.apply closes them with ReasonHangup).
func TestEndpointsClosedWithTheEndReason(t *testing.T) {
	h := newHarness(t, Config{})
	ann, bob, zoe := h.customer("ann"), h.customer("bob"), h.agent("zoe")
	id := h.enqueue(ann, "sales", 1)
	h.enqueue(bob, "sales", 2)
	h.available(zoe)
	h.offered(zoe, id)
	h.accept(zoe, id, ann)
	h.c.Close()
	for _, p := range []*person{ann, bob, zoe} {
		if reason, n := p.ep.closed(); n == 0 || !errors.Is(reason, ReasonShutdown) {
			t.Errorf("%s's endpoint: closed %d times, first reason %v, want shutdown", p.u.ID, n, reason)
		}
		if cause := p.ep.Context().Err(); cause == nil {
			t.Errorf("%s's endpoint context still live", p.u.ID)
		}
	}
}

// The customer's phase follows the offers: after a decline and a new offer it is ringing. The center
// posts each SetPhase from its own goroutine, so "queued" (withdrawn) and "ringing" (offered to the
// next agent) reach the loop in either order.
func TestPhaseFollowsTheOffer(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.customer("ann")
	agents := []*person{h.agent("a1"), h.agent("a2"), h.agent("a3"), h.agent("a4"), h.agent("a5")}
	id := h.enqueue(ann, "sales", 1)
	h.available(agents[0])
	h.offered(agents[0], id)
	waitFor(t, ann.n, func(s CallState) bool { return s.Phase == PhaseRinging })
	for _, a := range agents[1:] {
		h.available(a)
	}
	for i, a := range agents[:len(agents)-1] {
		if err := h.c.Decline(h.ctx(), a.u, id); err != nil {
			t.Fatal(err)
		}
		h.offered(agents[i+1], id)
		// Both phase changes reach the customer; the later one must be ringing.
		first, second := next[CallState](t, ann.n), next[CallState](t, ann.n)
		if first.Phase != PhaseQueued || second.Phase != PhaseRinging {
			t.Fatalf("decline %d: customer saw %s then %s, want queued then ringing", i+1, first.Phase, second.Phase)
		}
	}
}

// A customer whose media the room refuses has no call: Enqueue must fail, not queue a call that has
// already ended (today the customer is told CallEnded, then a queue position, and an available agent
// is offered the dead call until the end reaches the center).
func TestEnqueueWhenRoomRefusesCustomer(t *testing.T) { // R13
	h := newHarness(t, Config{})
	ann, amy := h.customer("ann"), h.agent("amy")
	h.available(amy)
	h.rooms.failJoin["ann"] = errors.New("no ports")
	_, err := h.c.Enqueue(h.ctx(), ann.u, "sales", ann.ep, ann.n)
	wantErr(t, "enqueue", err, ReasonMediaFailed)
	if e := next[CallEnded](t, ann.n); e.Reason != "media_failed" {
		t.Fatalf("ended = %+v", e)
	}
	h.barrier()
	none[QueuePosition](t, ann.n)
	none[CallOffered](t, amy.n)
	h.waitStats(Stats{})
}
