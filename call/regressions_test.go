package call

import (
	"errors"
	"fmt"
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

// R2, R25, R27: an agent who gives a wrap-up reason the moment their wrap-up starts is not refused,
// and the wrap-up record is kept. The call's end and the agent's release reach the center from the
// call loop separately, in either order, and the wrap-up may come before the end has arrived: it
// was refused ("call has ended") in most such races, and when the release arrived after the end the
// record was silently dropped.
func TestWrapupRightAfterTheCallEnds(t *testing.T) { // R2 R25 R27
	st := newFakeStore()
	h := newHarness(t, Config{}, WithStore(st))
	zoe := h.agent("zoe")
	h.available(zoe)
	for i := range 40 {
		c := h.customer(fmt.Sprintf("c%d", i))
		id, err := h.c.Enqueue(h.ctx(), c.u, "sales", c.ep, c.n)
		if err != nil {
			t.Fatal(err)
		}
		h.offered(zoe, id)
		h.accept(zoe, id, c)
		hangs := zoe // the agent's release comes before the end; the customer's with it
		if i%2 == 1 {
			hangs = c
		}
		if err := h.c.Hangup(h.ctx(), hangs.u); err != nil {
			t.Fatal(err)
		}
		waitFor(t, zoe.n, func(w WrapupStarted) bool { return w.CallID == id })
		if err := h.c.Wrapup(h.ctx(), zoe.u, "done"); err != nil {
			t.Fatalf("call %d: wrap-up refused: %v", i, err)
		}
		wantState(t, zoe, AgentAvailable)
		recs := st.timeline(id)
		if n := len(recs); n == 0 || recs[n-1].Type != RecWrapup || recs[n-1].Data["reason"] != "done" || recs[n-2].Type != RecCallEnded {
			t.Fatalf("call %d: records %v", i, recordTypes(recs))
		}
	}
}

// R2: when the customer hangs up, the agent left in the call is released into wrap-up too (the
// rules released only the party who left, so the agent stayed busy forever and was never offered
// another call).
func TestAgentReleasedWhenTheCustomerLeaves(t *testing.T) { // R2 R13
	h := newHarness(t, Config{})
	ann, bob, zoe := h.customer("ann"), h.customer("bob"), h.agent("zoe")
	id := h.connect(ann, zoe, "sales")
	id2 := h.enqueue(bob, "sales", 1)
	if err := h.c.Hangup(h.ctx(), ann.u); err != nil {
		t.Fatal(err)
	}
	h.wrapup(zoe, id, "done")
	h.offered(zoe, id2)
}

// R5: in auto mode the helper who arrives moves the call to the MCU; their leg must be joined to
// the new room once. The rules emitted the move before the helper's JoinRoom, so the loop moved
// the helper's leg with everyone else and then joined it again: a real room (sfu.Room) refuses a
// second Join, and the helper was dropped with media_failed.
func TestAutoMoveJoinsTheHelperOnce(t *testing.T) { // R5
	s, fx := apply(t, consulting(ModeAuto, false, false), Join{Party: as(pAmy, "")})
	if s.Media != ModeMCU {
		t.Fatalf("media %s", s.Media)
	}
	if j, sw := at(fx, JoinRoom{Party: "amy"}), at(fx, SwitchMedia{To: ModeMCU}); j < 0 || sw < j {
		t.Fatalf("the helper joins after the move: %#v", fx)
	}
}

// R14 (known bug, see the report): the customer hangs up while the agent consults a helper who has
// answered. RULES.md: "When the customer leaves while agents remain, the call enters wrap-up
// assist: the remaining parties may go on talking" (and R11: the call goes on while R13 allows).
// leave() drops the helper instead (dropConsult) and the call ends with the agent alone.
func TestCustomerLeavesDuringAnsweredConsult(t *testing.T) { // R14 R11
	s, fx := apply(t, consulting(ModeMCU, false, true), Leave{Party: "ann", Reason: ReasonHangup})
	wantOn(t, s, PhaseConnected)
	wantParties(t, s, "zoe", "amy")
	if !s.Assist || s.Consult != nil {
		t.Fatalf("state %+v", s)
	}
	hasNo[Released](t, fx)
}

// R2, R29: an agent in wrap-up may not place a direct call. Dial allowed it, and the wrap-up timer
// of the previous call, still running, then made the agent available in the middle of the direct
// call: they were offered the next customer while busy.
func TestNoDialDuringWrapup(t *testing.T) { // R2 R29
	h := newHarness(t, Config{})
	ann, bob, zoe, amy := h.customer("ann"), h.customer("bob"), h.agent("zoe"), h.agent("amy")
	id := h.connect(ann, zoe, "sales")
	if err := h.c.Hangup(h.ctx(), zoe.u); err != nil {
		t.Fatal(err)
	}
	waitFor(t, zoe.n, func(w WrapupStarted) bool { return w.CallID == id })
	h.available(amy)
	_, err := h.c.Dial(h.ctx(), zoe.u, Target{Kind: TargetAgent, ID: "amy"}, newEndpoint(zoe.u), zoe.n)
	wantErr(t, "dial during wrap-up", err, ErrInvalidState)
	h.barrier()
	none[CallOffered](t, amy.n)
	// The wrap-up ends as usual; then the customer waiting is offered (to the longest idle: amy),
	// and zoe may dial.
	h.waitTimer("for zoe's wrap-up", func(tm *fakeTimer) bool { return tm.d == time.Minute }).fire()
	wantState(t, zoe, AgentAvailable)
	id2 := h.enqueue(bob, "sales", 1)
	h.offered(amy, id2)
	if _, err := h.c.Dial(h.ctx(), zoe.u, Target{Kind: TargetNumber, ID: "+1"}, newEndpoint(zoe.u), zoe.n); CodeOf(err) != "gateway_unavailable" {
		t.Fatalf("dial after the wrap-up: %v", err)
	}
}
