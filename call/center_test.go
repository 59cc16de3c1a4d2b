package call

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// Center tests drive the routing goroutine and the call loops through the fakes in fakes_test.go.
// They synchronise on the events the clients receive; harness.barrier orders a check after
// everything the center has decided so far.

// waitStats waits until the center counts the given calls. The end of a call reaches the center
// asynchronously (the loop posts it), and when nobody is told anything there is no event to wait for;
// each Stats is a round trip through the center goroutine, so this waits on channels, not on time.
func (h *harness) waitStats(want Stats) {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		st := h.stats()
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("stats = %+v, want %+v", st, want)
		}
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func wantState(t *testing.T, p *person, want AgentState) {
	t.Helper()
	if st := next[AgentStateChanged](t, p.n); st.State != want {
		t.Fatalf("%s: agent state %s, want %s", p.u.ID, st.State, want)
	}
}

// R1: a customer arriving while no agent is available waits and is told their position.
func TestEnqueueTellsQueuePosition(t *testing.T) { // R1
	h := newHarness(t, Config{})
	ann, bob := h.customer("ann"), h.customer("bob")

	id1, err := h.c.Enqueue(h.ctx(), ann.u, "", ann.ep, ann.n) // "" is the default queue
	if err != nil {
		t.Fatal(err)
	}
	// The call state comes first (the customer joined their call), then the position.
	st := next[CallState](t, ann.n)
	want := CallState{CallID: id1, Phase: PhaseQueued, Queue: "sales", Media: ModeSFU,
		Parties: []PartyView{{ID: "ann", Name: "Customer ann", Role: Customer, As: AsCustomer, Audio: true, Video: true}},
		Actions: []string{"hangup", "media_state"}}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("call state:\n got %+v\nwant %+v", st, want)
	}
	if pos := next[QueuePosition](t, ann.n); pos != (QueuePosition{CallID: id1, Queue: "sales", Position: 1}) {
		t.Fatalf("position = %+v", pos)
	}
	id2 := h.enqueue(bob, "sales", 2)
	if id1 == id2 {
		t.Fatal("two calls share an id")
	}
	if joined, _, _ := h.rooms.room(t, id1).snapshot(); !reflect.DeepEqual(joined, []PartyID{"ann"}) {
		t.Fatalf("room of ann's call joined %v", joined)
	}
	if st := h.stats(); st != (Stats{Calls: 2, Waiting: 2}) {
		t.Fatalf("stats = %+v", st)
	}

	// A customer cannot queue twice.
	_, err = h.c.Enqueue(h.ctx(), ann.u, "sales", newEndpoint(ann.u), ann.n)
	wantErr(t, "second enqueue", err, ErrInvalidState)

	// The first customer gives up (R11, R13): the call ends and the next moves up (R1).
	if err := h.c.Hangup(h.ctx(), ann.u); err != nil {
		t.Fatal(err)
	}
	if e := next[CallEnded](t, ann.n); e != (CallEnded{CallID: id1, Reason: "hangup", By: "ann"}) {
		t.Fatalf("ended = %+v", e)
	}
	h.waitClosed(id1)
	if pos := next[QueuePosition](t, bob.n); pos != (QueuePosition{CallID: id2, Queue: "sales", Position: 1}) {
		t.Fatalf("bob's position = %+v", pos)
	}
	h.waitStats(Stats{Calls: 1, Waiting: 1})
	if reason, n := ann.ep.closed(); n == 0 || !errors.Is(reason, ReasonHangup) {
		t.Fatalf("ann's endpoint closed %d times, reason %v", n, reason)
	}
}

// R1: the call is offered to the available agent who has been idle longest; the other is not offered.
func TestOfferGoesToLongestIdleAgent(t *testing.T) { // R1
	h := newHarness(t, Config{})
	// Names chosen so that the tie-break by id would pick the other agent.
	zed, amy := h.agent("zed"), h.agent("amy")
	h.available(zed)
	h.clk.Advance(time.Minute)
	h.available(amy)

	ann := h.customer("ann")
	id := h.enqueue(ann, "sales", 1)
	o := h.offered(zed, id)
	want := CallOffered{CallID: id, Kind: "inbound", Queue: "sales", Customer: ann.u, Timeout: testTimeout}
	if o != want {
		t.Fatalf("offer = %+v, want %+v", o, want)
	}
	h.barrier()
	none[CallOffered](t, amy.n)

	// The next customer goes to the remaining available agent.
	bob := h.customer("bob")
	id2 := h.enqueue(bob, "sales", 2)
	h.offered(amy, id2)
	h.barrier()
	none[CallOffered](t, zed.n)
}

// R1: an agent who just finished a call has been idle for less time than one who waited meanwhile.
func TestIdleTimeRestartsAfterACall(t *testing.T) { // R1
	h := newHarness(t, Config{})
	zed, amy := h.agent("zed"), h.agent("amy")
	ann := h.customer("ann")
	id := h.enqueue(ann, "sales", 1)
	h.available(zed) // idle since t0; offered ann at once
	h.offered(zed, id)
	h.clk.Advance(time.Minute)
	h.available(amy) // idle since t0+1m
	h.accept(zed, id, ann)
	h.clk.Advance(time.Minute)
	if err := h.c.Hangup(h.ctx(), zed.u); err != nil {
		t.Fatal(err)
	}
	h.wrapup(zed, id, "done") // R2: available again, idle since t0+2m

	bob := h.customer("bob")
	id2 := h.enqueue(bob, "sales", 1)
	h.offered(amy, id2)
	h.barrier()
	none[CallOffered](t, zed.n)
}

// R1: only agents with the queue's skill are offered its calls; agents not configured have every skill.
func TestOfferNeedsTheQueueSkill(t *testing.T) { // R1
	h := newHarness(t, Config{
		Queues: []QueueConfig{{Name: "sales"}, {Name: "billing", Skill: "money"}},
		Agents: []AgentConfig{{ID: "sam", Skills: []string{"sales"}}, {ID: "bea", Skills: []string{"money"}}},
	})
	sam, bea, gus := h.agent("sam"), h.agent("bea"), h.agent("gus")
	ann := h.customer("ann")
	id := h.enqueue(ann, "billing", 1)
	h.available(sam) // idle longest, but no skill for billing
	h.barrier()
	none[CallOffered](t, sam.n)
	h.available(bea)
	h.offered(bea, id)

	bob := h.customer("bob")
	id2 := h.enqueue(bob, "billing", 2)
	h.available(gus) // not configured: every skill
	h.offered(gus, id2)
	h.barrier()
	none[CallOffered](t, sam.n)
}

// Accept: both parties are in the room, the agent is busy, and both see the call connected.
func TestAcceptConnects(t *testing.T) { // R1
	h := newHarness(t, Config{})
	ann, zoe := h.customer("ann"), h.agent("zoe")
	id := h.enqueue(ann, "sales", 1)
	h.available(zoe)
	h.offered(zoe, id)
	// The customer learns that the call rings (before the answer: a late ringing would be refused).
	waitFor(t, ann.n, func(s CallState) bool { return s.Phase == PhaseRinging })

	if err := h.c.Accept(h.ctx(), zoe.u, id, zoe.ep, zoe.n); err != nil {
		t.Fatal(err)
	}
	wantState(t, zoe, AgentBusy)
	parties := []PartyView{
		{ID: "ann", Name: "Customer ann", Role: Customer, As: AsCustomer, Audio: true, Video: true},
		{ID: "zoe", Name: "Agent zoe", Role: Agent, As: AsControlling, Audio: true, Video: true},
	}
	// The same call, each with the actions they may take (sfu: no help-seeking consult, R3).
	actions := map[*person][]string{
		ann: {"hangup", "media_state", "screenshare"},
		zoe: {"hangup", "media_state", "end_call", "consult_transfer", "transfer", "hold", "screenshare", "record"},
	}
	for _, p := range []*person{ann, zoe} {
		st := waitFor(t, p.n, func(s CallState) bool { return s.Phase == PhaseConnected })
		want := CallState{CallID: id, Phase: PhaseConnected, Queue: "sales", Media: ModeSFU, Parties: parties,
			Actions: actions[p]}
		if p == zoe {
			want.Blocked = map[string]string{"consult": "mode_forbids_multiparty"} // R3, told to the UI
		}
		if !reflect.DeepEqual(st, want) {
			t.Fatalf("%s sees\n %+v\nwant %+v", p.u.ID, st, want)
		}
	}
	joined, left, closes := h.rooms.room(t, id).snapshot()
	if !reflect.DeepEqual(joined, []PartyID{"ann", "zoe"}) || len(left) != 0 || closes != 0 {
		t.Fatalf("room: joined %v left %v closed %d", joined, left, closes)
	}
	if st := h.stats(); st != (Stats{Calls: 1, Waiting: 0}) {
		t.Fatalf("stats = %+v", st)
	}
	if len(h.clk.active()) != 0 {
		t.Fatal("the offer timer still runs after accept")
	}

	// A second accept, and state changes while busy, are refused.
	wantErr(t, "accept twice", h.c.Accept(h.ctx(), zoe.u, id, zoe.ep, zoe.n), ErrInvalidState)
	wantErr(t, "offline while busy", h.c.SetAgentState(h.ctx(), zoe.u, AgentOffline, zoe.n), ErrInvalidState)

	// SetMedia changes that party only, and both see it.
	if err := h.c.SetMedia(h.ctx(), ann.u, false, true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{ann, zoe} {
		st := next[CallState](t, p.n)
		if st.Parties[0].Audio || !st.Parties[0].Video || !st.Parties[1].Audio || !st.Parties[1].Video {
			t.Fatalf("%s sees media %+v", p.u.ID, st.Parties)
		}
	}
}

// R11, R13: either party hangs up; the call ends for both with the leaver's reason, the room closes.
// R2: the agent enters wrap-up for that call, is offered nothing meanwhile, and is available again
// (and offered the next waiting customer, R1) only after giving a wrap-up reason.
func TestHangupEndsOneToOneCall(t *testing.T) { // R11 R13 R2 R1
	for _, by := range []string{"customer", "agent"} {
		t.Run("by "+by, func(t *testing.T) {
			h := newHarness(t, Config{})
			ann, bob, zoe := h.customer("ann"), h.customer("bob"), h.agent("zoe")
			id := h.enqueue(ann, "sales", 1)
			id2 := h.enqueue(bob, "sales", 2)
			h.available(zoe)
			h.offered(zoe, id)
			h.accept(zoe, id, ann)
			if pos := next[QueuePosition](t, bob.n); pos.Position != 1 {
				t.Fatalf("bob's position = %+v", pos)
			}

			leaver, stayer := ann, zoe
			if by == "agent" {
				leaver, stayer = zoe, ann
			}
			if err := h.c.Hangup(h.ctx(), leaver.u); err != nil {
				t.Fatal(err)
			}
			want := CallEnded{CallID: id, Reason: "hangup", By: PartyID(leaver.u.ID)}
			if e := next[CallEnded](t, ann.n); e != want {
				t.Fatalf("ann: ended = %+v, want %+v", e, want)
			}
			// R2: the agent is in wrap-up for this call, as the controlling agent (their reason is the
			// call's, R27). The center and the call loop tell the agent in either order.
			expect(t, zoe.n,
				eq(want),
				eq(AgentStateChanged{State: AgentWrapup}),
				is(func(w WrapupStarted) bool {
					return w.CallID == id && w.Queue == "sales" && w.Timeout == time.Minute && w.Applies
				}))
			for _, p := range []*person{leaver, stayer} {
				if _, n := p.ep.closed(); n == 0 {
					t.Fatalf("%s's endpoint was not closed", p.u.ID)
				}
			}
			r := h.waitClosed(id)
			if _, left, _ := r.snapshot(); !slices.Contains(left, PartyID(leaver.u.ID)) {
				t.Fatalf("room: %s never left (left %v)", leaver.u.ID, left)
			}

			// Bob keeps waiting while zoe wraps up.
			h.waitStats(Stats{Calls: 1, Waiting: 1}) // the end has reached the center
			none[CallOffered](t, zoe.n)
			wantErr(t, "available without a wrap-up reason", h.c.SetAgentState(h.ctx(), zoe.u, AgentAvailable, zoe.n), ErrInvalidState)
			wantErr(t, "empty wrap-up reason", h.c.Wrapup(h.ctx(), zoe.u, ""), ErrWrapupReason)
			h.barrier()
			none[CallOffered](t, zoe.n)

			// With a reason the agent is available again and gets the next customer.
			if err := h.c.Wrapup(h.ctx(), zoe.u, "solved"); err != nil {
				t.Fatal(err)
			}
			wantState(t, zoe, AgentAvailable)
			h.offered(zoe, id2)
			wantErr(t, "second wrap-up", h.c.Wrapup(h.ctx(), zoe.u, "solved"), ErrInvalidState)

			// The call is over for both: hanging up again is harmless and tells nobody anything.
			if err := h.c.Hangup(h.ctx(), stayer.u); err != nil {
				t.Fatalf("hangup again: %v", err)
			}
			wantErr(t, "media after end", h.c.SetMedia(h.ctx(), ann.u, true, true), ErrInvalidState)
			h.barrier()
			none[CallEnded](t, ann.n)
		})
	}
}

// Decline: the offer moves to the next agent and is never offered again to the one who declined.
func TestDeclineOffersNextAgent(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.customer("ann")
	amy, bea, cid := h.agent("amy"), h.agent("bea"), h.agent("cid")
	id := h.enqueue(ann, "sales", 1)
	h.available(amy)
	h.offered(amy, id)
	waitFor(t, ann.n, func(s CallState) bool { return s.Phase == PhaseRinging })
	h.available(bea) // the call already rings at amy
	h.barrier()
	none[CallOffered](t, bea.n)

	wantErr(t, "decline by someone not offered", h.c.Decline(h.ctx(), bea.u, id), ErrInvalidState)
	if err := h.c.Decline(h.ctx(), amy.u, id); err != nil {
		t.Fatal(err)
	}
	if w := next[OfferWithdrawn](t, amy.n); w != (OfferWithdrawn{CallID: id, Reason: "declined"}) {
		t.Fatalf("withdrawn = %+v", w)
	}
	wantState(t, amy, AgentAvailable)
	h.offered(bea, id)
	waitFor(t, ann.n, func(s CallState) bool { return s.Phase == PhaseRinging })

	// bea declines too: nobody left who has not declined, the call waits.
	if err := h.c.Decline(h.ctx(), bea.u, id); err != nil {
		t.Fatal(err)
	}
	h.barrier()
	none[CallOffered](t, amy.n)
	none[CallOffered](t, bea.n)
	wantErr(t, "accept after decline", h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n), ErrInvalidState)
	if st := h.stats(); st != (Stats{Calls: 1, Waiting: 1}) {
		t.Fatalf("stats = %+v", st)
	}

	// A fresh agent gets it.
	h.available(cid)
	h.offered(cid, id)
	h.accept(cid, id, ann)
	h.barrier()
	none[CallOffered](t, amy.n)
	none[CallOffered](t, bea.n)
}

// An offer not answered in time sets the agent offline (R1) and the call is offered to the next.
func TestOfferTimeout(t *testing.T) { // R1
	h := newHarness(t, Config{OfferTimeout: 15 * time.Second})
	ann, amy, bea := h.customer("ann"), h.agent("amy"), h.agent("bea")
	id := h.enqueue(ann, "sales", 1)
	h.available(amy)
	h.offered(amy, id)
	h.available(bea)
	h.barrier()

	timers := h.clk.active()
	if len(timers) != 1 || timers[0].d != 15*time.Second {
		t.Fatalf("offer timers = %+v", timers)
	}
	timers[0].fire()

	if w := next[OfferWithdrawn](t, amy.n); w != (OfferWithdrawn{CallID: id, Reason: "timeout"}) {
		t.Fatalf("withdrawn = %+v", w)
	}
	wantState(t, amy, AgentOffline)
	h.offered(bea, id)
	wantErr(t, "late accept", h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n), ErrInvalidState)
	h.accept(bea, id, ann)
	h.barrier()
	none[CallOffered](t, amy.n)
	if len(h.clk.active()) != 0 {
		t.Fatal("an offer timer still runs after accept")
	}
}

// A customer who leaves while the call rings withdraws the offer; the agent is available again.
func TestCustomerLeavesWhileRinging(t *testing.T) { // R11 R13
	h := newHarness(t, Config{})
	ann, amy := h.customer("ann"), h.agent("amy")
	id := h.enqueue(ann, "sales", 1)
	h.available(amy)
	h.offered(amy, id)
	if err := h.c.Hangup(h.ctx(), ann.u); err != nil {
		t.Fatal(err)
	}
	if e := next[CallEnded](t, ann.n); e != (CallEnded{CallID: id, Reason: "hangup", By: "ann"}) {
		t.Fatalf("ended = %+v", e)
	}
	if w := next[OfferWithdrawn](t, amy.n); w != (OfferWithdrawn{CallID: id, Reason: "customer_left"}) {
		t.Fatalf("withdrawn = %+v", w)
	}
	wantState(t, amy, AgentAvailable)
	wantErr(t, "accept abandoned call", h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n), ErrNotFound)
	h.waitClosed(id)
	h.waitStats(Stats{})
}

// An agent going offline while ringing withdraws the offer; the call goes to the next agent.
func TestAgentOfflineWhileRinging(t *testing.T) { // R1
	h := newHarness(t, Config{})
	ann, amy, bea := h.customer("ann"), h.agent("amy"), h.agent("bea")
	id := h.enqueue(ann, "sales", 1)
	h.available(amy)
	h.offered(amy, id)
	h.available(bea)
	if err := h.c.SetAgentState(h.ctx(), amy.u, AgentOffline, amy.n); err != nil {
		t.Fatal(err)
	}
	if w := next[OfferWithdrawn](t, amy.n); w != (OfferWithdrawn{CallID: id, Reason: "agent_offline"}) {
		t.Fatalf("withdrawn = %+v", w)
	}
	wantState(t, amy, AgentOffline)
	h.offered(bea, id)
	if len(h.clk.active()) != 1 {
		t.Fatal("want exactly one offer timer running (bea's)")
	}
}

// Roles: only customers queue, only agents have a state and accept calls (R28: nothing changes).
func TestWrongRoleForbidden(t *testing.T) {
	h := newHarness(t, Config{})
	ann, zoe := h.customer("ann"), h.agent("zoe")
	sue := &person{u: UserRef{ID: "sue", Role: Supervisor}, n: newNotifier("sue")}
	sue.ep = newEndpoint(sue.u)

	wantErr(t, "customer sets agent state", h.c.SetAgentState(h.ctx(), ann.u, AgentAvailable, ann.n), ErrForbidden)
	wantErr(t, "customer accepts", h.c.Accept(h.ctx(), ann.u, "c1", ann.ep, ann.n), ErrForbidden)
	_, err := h.c.Enqueue(h.ctx(), zoe.u, "sales", zoe.ep, zoe.n)
	wantErr(t, "agent enqueues", err, ErrForbidden)
	_, err = h.c.Enqueue(h.ctx(), sue.u, "sales", sue.ep, sue.n)
	wantErr(t, "supervisor enqueues", err, ErrForbidden)
	wantErr(t, "supervisor sets agent state", h.c.SetAgentState(h.ctx(), sue.u, AgentAvailable, sue.n), ErrForbidden)
	wantErr(t, "agent sets busy", h.c.SetAgentState(h.ctx(), zoe.u, AgentBusy, zoe.n), ErrInvalidState)
	wantErr(t, "agent sets ringing", h.c.SetAgentState(h.ctx(), zoe.u, AgentRinging, zoe.n), ErrInvalidState)
	if err := h.c.Hangup(h.ctx(), zoe.u); err != nil { // idempotent: nothing to hang up
		t.Fatalf("hangup outside a call: %v", err)
	}
	wantErr(t, "media outside a call", h.c.SetMedia(h.ctx(), ann.u, true, true), ErrInvalidState)
	wantErr(t, "agent control outside a call", h.c.Control(h.ctx(), zoe.u, Hold{By: "zoe"}), ErrInvalidState)
	// R7: only agents seek help or transfer; R23: only supervisors monitor; R6: only admins set the mode.
	wantErr(t, "customer consults", h.c.Consult(h.ctx(), ann.u, Target{Kind: TargetQueue, ID: "sales"}, false), ErrForbidden)
	wantErr(t, "customer transfers", h.c.BlindTransfer(h.ctx(), ann.u, Target{Kind: TargetQueue, ID: "sales"}), ErrForbidden)
	wantErr(t, "supervisor uses call controls", h.c.Control(h.ctx(), sue.u, Hold{By: "sue"}), ErrForbidden)
	wantErr(t, "agent monitors", h.c.Monitor(h.ctx(), zoe.u, "c1", false, zoe.ep, zoe.n), ErrForbidden)
	wantErr(t, "customer wraps up", h.c.Wrapup(h.ctx(), ann.u, "x"), ErrForbidden)
	wantErr(t, "agent sets the video mode", h.c.SetVideoMode(h.ctx(), zoe.u, ModeMCU), ErrForbidden)
	_, err = h.c.Dial(h.ctx(), ann.u, Target{Kind: TargetAgent, ID: "zoe"}, ann.ep, ann.n)
	wantErr(t, "customer dials", err, ErrForbidden)
	_, err = h.c.ScheduleCallback(h.ctx(), ann.u, Callback{Customer: "ann", Due: h.clk.Now()})
	wantErr(t, "customer schedules a callback", err, ErrForbidden)
	_, err = h.c.Callbacks(h.ctx(), ann.u, CallbackFilter{})
	wantErr(t, "customer lists callbacks", err, ErrForbidden)
	_, err = h.c.ActiveCalls(h.ctx(), zoe.u)
	wantErr(t, "agent lists calls", err, ErrForbidden)
	if m, err := h.c.VideoMode(h.ctx()); err != nil || m != ModeSFU {
		t.Fatalf("video mode = %q, %v", m, err)
	}

	h.barrier()
	for _, p := range []*person{ann, zoe, sue} {
		if ev := drain(p.n); len(ev) != 0 {
			t.Errorf("%s was told %+v", p.u.ID, ev)
		}
	}
	if st := h.stats(); st != (Stats{}) {
		t.Fatalf("stats = %+v", st)
	}
	h.rooms.mu.Lock()
	defer h.rooms.mu.Unlock()
	if len(h.rooms.rooms) != 0 {
		t.Fatalf("refused commands built %d rooms", len(h.rooms.rooms))
	}
}

// Accept of a call that is not offered to you is refused; an unknown call is not found.
func TestAcceptNotOffered(t *testing.T) {
	h := newHarness(t, Config{})
	ann, amy, bea := h.customer("ann"), h.agent("amy"), h.agent("bea")
	id := h.enqueue(ann, "sales", 1)
	wantErr(t, "accept while offline", h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n), ErrInvalidState)
	h.available(amy)
	h.offered(amy, id)
	h.available(bea)
	wantErr(t, "accept another's offer", h.c.Accept(h.ctx(), bea.u, id, bea.ep, bea.n), ErrInvalidState)
	wantErr(t, "accept unknown call", h.c.Accept(h.ctx(), amy.u, "nope", amy.ep, amy.n), ErrNotFound)
	wantErr(t, "decline unknown call", h.c.Decline(h.ctx(), amy.u, "nope"), ErrInvalidState)

	// Nothing changed (R28): the offer still rings at amy, who can take it; bea was never joined.
	h.accept(amy, id, ann)
	if joined, _, _ := h.rooms.room(t, id).snapshot(); !reflect.DeepEqual(joined, []PartyID{"ann", "amy"}) {
		t.Fatalf("room joined %v", joined)
	}
	h.barrier()
	if ev := drain(bea.n); len(ev) != 0 {
		t.Fatalf("bea was told %+v", ev)
	}
}

func TestUnknownQueue(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.customer("ann")
	_, err := h.c.Enqueue(h.ctx(), ann.u, "nope", ann.ep, ann.n)
	wantErr(t, "enqueue", err, ErrNotFound)
	h.barrier()
	if ev := drain(ann.n); len(ev) != 0 {
		t.Fatalf("ann was told %+v", ev)
	}
	if st := h.stats(); st != (Stats{}) {
		t.Fatalf("stats = %+v", st)
	}
	// The refusal left no trace: the same customer can queue now.
	h.enqueue(ann, "sales", 1)
}

func TestRoomFactoryFails(t *testing.T) {
	h := newHarness(t, Config{})
	boom := errors.New("no room")
	h.rooms.failNew = boom
	ann := h.customer("ann")
	_, err := h.c.Enqueue(h.ctx(), ann.u, "sales", ann.ep, ann.n)
	wantErr(t, "enqueue", err, boom)
	if st := h.stats(); st != (Stats{}) {
		t.Fatalf("stats = %+v", st)
	}
}

// An endpoint whose context ends (ICE failed, socket gone) is a party leaving: the call ends (R13).
func TestEndpointFailureEndsCall(t *testing.T) { // R11 R13
	for _, who := range []string{"customer", "agent"} {
		t.Run(who, func(t *testing.T) {
			h := newHarness(t, Config{})
			ann, zoe := h.customer("ann"), h.agent("zoe")
			id := h.enqueue(ann, "sales", 1)
			h.available(zoe)
			h.offered(zoe, id)
			h.accept(zoe, id, ann)

			failing := ann
			if who == "agent" {
				failing = zoe
			}
			failing.ep.fail(ReasonMediaFailed)
			want := CallEnded{CallID: id, Reason: "media_failed", By: PartyID(failing.u.ID)}
			if e := next[CallEnded](t, ann.n); e != want {
				t.Fatalf("ann: ended = %+v, want %+v", e, want)
			}
			expect(t, zoe.n, eq(want), is(func(w WrapupStarted) bool { return w.CallID == id })) // R2
			r := h.waitClosed(id)
			if _, left, _ := r.snapshot(); !reflect.DeepEqual(left, []PartyID{PartyID(failing.u.ID)}) {
				t.Fatalf("room left = %v", left)
			}
			if err := h.c.Wrapup(h.ctx(), zoe.u, "lost"); err != nil {
				t.Fatal(err)
			}
			wantState(t, zoe, AgentAvailable)
			h.waitStats(Stats{})
		})
	}
}

// A context cancelled without a cause reads as "disconnected".
func TestEndpointCancelledWithoutCause(t *testing.T) { // R13
	h := newHarness(t, Config{})
	ann := h.customer("ann")
	id := h.enqueue(ann, "sales", 1)
	ann.ep.fail(context.Canceled)
	if e := next[CallEnded](t, ann.n); e != (CallEnded{CallID: id, Reason: "disconnected", By: "ann"}) {
		t.Fatalf("ended = %+v", e)
	}
	h.waitStats(Stats{})
}

// A media room that refuses the agent ends the call with media_failed instead of leaving it half-joined.
func TestRoomRefusesAgent(t *testing.T) { // R13
	h := newHarness(t, Config{})
	ann, zoe := h.customer("ann"), h.agent("zoe")
	h.rooms.failJoin["zoe"] = errors.New("no ports")
	id := h.enqueue(ann, "sales", 1)
	h.available(zoe)
	h.offered(zoe, id)
	// Accept may say so (the proposed fix) or leave it to CallEnded (now).
	if err := h.c.Accept(h.ctx(), zoe.u, id, zoe.ep, zoe.n); err != nil && !errors.Is(err, ReasonMediaFailed) {
		t.Fatal(err)
	}
	want := CallEnded{CallID: id, Reason: "media_failed", By: "zoe"}
	for _, p := range []*person{ann, zoe} {
		if e := next[CallEnded](t, p.n); e != want {
			t.Fatalf("%s: ended = %+v, want %+v", p.u.ID, e, want)
		}
	}
	h.waitClosed(id)
	// Accept failed: the agent never had the call, so there is nothing to wrap up (R2).
	waitFor(t, zoe.n, func(s AgentStateChanged) bool { return s.State == AgentAvailable })
	h.waitStats(Stats{})
	h.barrier()
	none[WrapupStarted](t, zoe.n)
}

// Disconnect of a ringing agent moves the offer on; the agent is offline.
func TestDisconnectRingingAgent(t *testing.T) { // R1
	h := newHarness(t, Config{})
	ann, amy, bea := h.customer("ann"), h.agent("amy"), h.agent("bea")
	id := h.enqueue(ann, "sales", 1)
	h.available(amy)
	h.offered(amy, id)
	h.available(bea)
	h.c.Disconnect(amy.u)
	h.offered(bea, id)
	wantErr(t, "accept after disconnect", h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n), ErrInvalidState)

	// Back online with a new client: available, but the call already rings at bea.
	amy2 := newNotifier("amy2")
	if err := h.c.SetAgentState(h.ctx(), amy.u, AgentAvailable, amy2); err != nil {
		t.Fatal(err)
	}
	if st := next[AgentStateChanged](t, amy2); st.State != AgentAvailable {
		t.Fatalf("amy: %+v", st)
	}
	h.barrier()
	none[CallOffered](t, amy2)
}

// Disconnect of a party in a call ends it; a disconnected agent is offline afterwards, not offered more.
func TestDisconnectInCall(t *testing.T) { // R11 R13
	t.Run("customer", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann, zoe := h.customer("ann"), h.agent("zoe")
		id := h.enqueue(ann, "sales", 1)
		h.available(zoe)
		h.offered(zoe, id)
		h.accept(zoe, id, ann)
		h.c.Disconnect(ann.u)
		expect(t, zoe.n, eq(CallEnded{CallID: id, Reason: "disconnected", By: "ann"}),
			is(func(w WrapupStarted) bool { return w.CallID == id })) // R2
		if err := h.c.Wrapup(h.ctx(), zoe.u, "lost"); err != nil {
			t.Fatal(err)
		}
		wantState(t, zoe, AgentAvailable)
	})
	t.Run("agent", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann, bob, zoe := h.customer("ann"), h.customer("bob"), h.agent("zoe")
		id := h.enqueue(ann, "sales", 1)
		h.enqueue(bob, "sales", 2)
		h.available(zoe)
		h.offered(zoe, id)
		h.accept(zoe, id, ann)
		h.c.Disconnect(zoe.u)
		if e := next[CallEnded](t, ann.n); e != (CallEnded{CallID: id, Reason: "disconnected", By: "zoe"}) {
			t.Fatalf("ended = %+v", e)
		}
		h.waitStats(Stats{Calls: 1, Waiting: 1}) // ann's call is gone, bob still waits
		none[CallOffered](t, zoe.n)
		none[AgentStateChanged](t, zoe.n) // told nothing: the client is gone
		if err := h.c.Hangup(h.ctx(), zoe.u); err != nil {
			t.Fatalf("hangup after disconnect: %v", err)
		}
		wantErr(t, "media after disconnect", h.c.SetMedia(h.ctx(), zoe.u, true, true), ErrInvalidState)
		// Even when the wrap-up times out (R2), an agent without a client is offered nothing.
		h.waitTimer("for zoe's wrap-up", func(tm *fakeTimer) bool { return tm.d == time.Minute }).fire()
		h.barrier()
		h.waitStats(Stats{Calls: 1, Waiting: 1})
		none[CallOffered](t, zoe.n)
	})
}

// Close ends every call with reason "shutdown", closes every room, and refuses work afterwards.
func TestCloseEndsEveryCall(t *testing.T) {
	h := newHarness(t, Config{})
	ann, bob, cal := h.customer("ann"), h.customer("bob"), h.customer("cal")
	zoe, yan := h.agent("zoe"), h.agent("yan")
	id1 := h.enqueue(ann, "sales", 1)
	id2 := h.enqueue(bob, "sales", 2)
	id3 := h.enqueue(cal, "sales", 3)
	h.available(zoe)
	h.offered(zoe, id1)
	h.accept(zoe, id1, ann) // connected
	h.available(yan)
	h.offered(yan, id2) // ringing; cal stays queued

	h.c.Close()
	for _, x := range []struct {
		p  *person
		id CallID
	}{{ann, id1}, {zoe, id1}, {bob, id2}, {cal, id3}} {
		if e := next[CallEnded](t, x.p.n); e != (CallEnded{CallID: x.id, Reason: "shutdown"}) {
			t.Fatalf("%s: ended = %+v", x.p.u.ID, e)
		}
		if _, n := x.p.ep.closed(); n == 0 {
			t.Fatalf("%s's endpoint was not closed", x.p.u.ID)
		}
	}
	for _, id := range []CallID{id1, id2, id3} {
		h.waitClosed(id)
	}

	// The center is closed.
	_, err := h.c.Enqueue(context.Background(), h.customer("dan").u, "sales", newEndpoint(UserRef{ID: "dan"}), newNotifier("dan"))
	wantErr(t, "enqueue after close", err, ErrClosed)
	wantErr(t, "agent state after close", h.c.SetAgentState(context.Background(), zoe.u, AgentAvailable, zoe.n), ErrClosed)
	_, err = h.c.Stats(context.Background())
	wantErr(t, "stats after close", err, ErrClosed)
	h.c.Close() // twice is harmless
	h.c.Disconnect(zoe.u)
}

// A context that ends while the center is working on a request must not misinform the caller:
// Enqueue either fails and leaves no call behind, or succeeds and returns the call's id; the center
// keeps working. (Both selects in Center.do pick at random between ready cases, so 200 rounds with
// an already-cancelled context cover every interleaving.)
func TestCancelledContext(t *testing.T) {
	h := newHarness(t, Config{})
	queued := 0
	for i := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		p := h.customer(fmt.Sprintf("c%d", i))
		id, err := h.c.Enqueue(ctx, p.u, "sales", p.ep, p.n)
		switch {
		case err == nil:
			if id == "" {
				t.Fatal("enqueue succeeded without a call id")
			}
			queued++
		case errors.Is(err, context.Canceled):
		default:
			t.Fatalf("enqueue: %v", err)
		}
		if _, err := h.c.Stats(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("stats: %v", err)
		}
	}
	// Exactly the calls reported as queued exist.
	h.waitStats(Stats{Calls: queued, Waiting: queued})
}

func TestNewCenterValidates(t *testing.T) {
	rooms := newRoomSet()
	if _, err := NewCenter(Config{}, rooms.factory); err == nil {
		t.Error("no queue accepted")
	}
	if _, err := NewCenter(Config{Queues: []QueueConfig{{Skill: "x"}}}, rooms.factory); err == nil {
		t.Error("unnamed queue accepted")
	}
	c, err := NewCenter(Config{Queues: []QueueConfig{{Name: "a"}, {Name: "b"}}}, rooms.factory, WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	defer verifyNoLeaks(t)
	defer c.Close()
	if c.DefaultQueue() != "a" || !reflect.DeepEqual(c.QueueNames(), []string{"a", "b"}) {
		t.Fatalf("queues %q default %q", c.QueueNames(), c.DefaultQueue())
	}
}
