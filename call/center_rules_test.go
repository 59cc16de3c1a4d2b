package call

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// The rules the center decides (who is offered what, wrap-up, video mode, callbacks, records), and
// the rules of Next seen through the center and the call loops: RULES.md numbers in every name.

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if CodeOf(err) != code {
		t.Fatalf("%s: err = %v (code %q), want code %q", what, err, CodeOf(err), code)
	}
}

// partyView finds id in a call state.
func partyView(s CallState, id PartyID) (PartyView, bool) {
	for _, p := range s.Parties {
		if p.ID == id {
			return p, true
		}
	}
	return PartyView{}, false
}

func heldIn(s CallState, id PartyID) bool {
	p, ok := partyView(s, id)
	return ok && p.Held
}

func viewIDs(s CallState) []PartyID {
	var out []PartyID
	for _, p := range s.Parties {
		out = append(out, p.ID)
	}
	return out
}

// records lists the types of a call's records, in order.
func recordTypes(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Type)
	}
	return out
}

func sameSet(a, b []PartyID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return reflect.DeepEqual(a, b)
}

// R2: an agent who left a call is in wrap-up until the queue's wrap-up timeout passes; then they are
// available and offered the next customer (R1); the wrap-up record says it timed out.
func TestR2WrapupTimesOut(t *testing.T) { // R2 R25
	st := newFakeStore()
	h := newHarness(t, Config{Queues: []QueueConfig{{Name: "sales", WrapupTimeout: 30 * time.Second}}}, WithStore(st))
	ann, bob, zoe := h.customer("ann"), h.customer("bob"), h.agent("zoe")
	id := h.connect(ann, zoe, "sales")
	id2 := h.enqueue(bob, "sales", 1)
	if err := h.c.Hangup(h.ctx(), zoe.u); err != nil {
		t.Fatal(err)
	}
	w := waitFor(t, zoe.n, func(w WrapupStarted) bool { return w.CallID == id })
	if w.Timeout != 30*time.Second || !w.Applies {
		t.Fatalf("wrap-up %+v", w)
	}
	h.waitStats(Stats{Calls: 1, Waiting: 1})
	none[CallOffered](t, zoe.n) // R2: not while in wrap-up

	h.waitTimer("of 30 s for the wrap-up", func(tm *fakeTimer) bool { return tm.d == 30*time.Second }).fire()
	wantState(t, zoe, AgentAvailable)
	h.offered(zoe, id2)
	recs := st.ofType(id, RecWrapup)
	if len(recs) != 1 || recs[0].Actor != "zoe" ||
		!reflect.DeepEqual(recs[0].Data, map[string]string{"reason": "", "applies_to_call": "true", "timed_out": "true"}) {
		t.Fatalf("wrap-up records %+v", recs)
	}
	wantErr(t, "wrap-up after the timeout", h.c.Wrapup(h.ctx(), zoe.u, "late"), ErrInvalidState)
}

// R27: wrap-up reasons come from the queue's list (bad_wrapup_reason otherwise, and the agent stays
// in wrap-up); a conferenced agent who exits wraps up without applying the call's reason, the
// controlling agent's applies. Both are in the call's record (R25), whether the call still runs
// or has ended.
func TestR27WrapupReasons(t *testing.T) { // R27 R2 R25 R12
	st := newFakeStore()
	h := newHarness(t, Config{Mode: ModeMCU, Queues: []QueueConfig{{Name: "sales", WrapupReasons: []string{"sale", "no_sale"}}}}, WithStore(st))
	ann, zoe, amy := h.customer("ann"), h.agent("zoe"), h.agent("amy")
	id := h.connect(ann, zoe, "sales")
	h.available(amy)
	if err := h.c.Consult(h.ctx(), zoe.u, Target{Kind: TargetAgent, ID: "amy"}, false); err != nil {
		t.Fatal(err)
	}
	h.offered(amy, id)
	if err := h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n); err != nil {
		t.Fatal(err)
	}
	h.sees(zoe, "amy answered", func(s CallState) bool { return len(s.Parties) == 3 })
	h.control(zoe, StartConference{By: "zoe"})
	h.sees(amy, "the conference", func(s CallState) bool { return s.Conference })

	// The conferenced agent exits (R12: the call goes on).
	if err := h.c.Hangup(h.ctx(), amy.u); err != nil {
		t.Fatal(err)
	}
	w := waitFor(t, amy.n, func(w WrapupStarted) bool { return w.CallID == id })
	if w.Applies || !reflect.DeepEqual(w.Reasons, []string{"sale", "no_sale"}) {
		t.Fatalf("amy's wrap-up %+v", w)
	}
	h.sees(ann, "amy gone", func(s CallState) bool { return reflect.DeepEqual(viewIDs(s), []PartyID{"ann", "zoe"}) })

	err := h.c.Wrapup(h.ctx(), amy.u, "bogus")
	wantErr(t, "reason not in the list", err, ErrWrapupReason)
	wantCode(t, "reason not in the list", err, "bad_wrapup_reason")
	wantErr(t, "available without a valid reason", h.c.SetAgentState(h.ctx(), amy.u, AgentAvailable, amy.n), ErrInvalidState)
	if recs := st.ofType(id, RecWrapup); len(recs) != 0 {
		t.Fatalf("a refused wrap-up was recorded: %+v", recs)
	}
	if err := h.c.Wrapup(h.ctx(), amy.u, "sale"); err != nil {
		t.Fatal(err)
	}
	wantState(t, amy, AgentAvailable)

	// The controlling agent ends the call: their reason applies.
	h.control(zoe, End{By: "zoe"})
	h.wrapup(zoe, id, "no_sale")

	recs := st.ofType(id, RecWrapup)
	want := []map[string]string{
		{"reason": "sale", "applies_to_call": "false", "timed_out": "false"},
		{"reason": "no_sale", "applies_to_call": "true", "timed_out": "false"},
	}
	if len(recs) != 2 || recs[0].Actor != "amy" || recs[1].Actor != "zoe" ||
		!reflect.DeepEqual(recs[0].Data, want[0]) || !reflect.DeepEqual(recs[1].Data, want[1]) {
		t.Fatalf("wrap-up records %+v", recs)
	}
	types := recordTypes(st.timeline(id))
	if types[len(types)-1] != RecWrapup || !slices.Contains(types, RecCallEnded) ||
		slices.Index(types, RecCallEnded) > len(types)-2 {
		t.Fatalf("zoe's wrap-up is not after the end: %v", types)
	}
}

// R6: the video mode an admin sets applies to calls that start afterwards; a call in progress keeps
// its mode. Only admins set it; it is persisted, so a restarted center uses it.
func TestR6VideoModeForNewCallsOnly(t *testing.T) { // R6 R3
	st := newFakeStore()
	h := newHarness(t, Config{Mode: ModeSFU}, WithStore(st))
	ann, bob, zoe, amy := h.customer("ann"), h.customer("bob"), h.agent("zoe"), h.agent("amy")
	adm := UserRef{ID: "adm", Role: Admin}
	id := h.connect(ann, zoe, "sales")

	wantErr(t, "agent sets the mode", h.c.SetVideoMode(h.ctx(), zoe.u, ModeMCU), ErrForbidden)
	wantErr(t, "supervisor sets the mode", h.c.SetVideoMode(h.ctx(), UserRef{ID: "sue", Role: Supervisor}, ModeMCU), ErrForbidden)
	wantErr(t, "unknown mode", h.c.SetVideoMode(h.ctx(), adm, "p2p"), ErrBadRequest)
	if m, _ := h.c.VideoMode(h.ctx()); m != ModeSFU {
		t.Fatalf("mode after refusals = %s", m)
	}
	if err := h.c.SetVideoMode(h.ctx(), adm, ModeMCU); err != nil {
		t.Fatal(err)
	}
	if m, _ := h.c.VideoMode(h.ctx()); m != ModeMCU {
		t.Fatalf("mode = %s", m)
	}
	if v, ok, _ := st.Setting(h.ctx(), "video_mode"); !ok || v != "mcu" {
		t.Fatalf("persisted mode = %q, %v", v, ok)
	}

	// The call in progress keeps sfu: help-seeking is still refused (R3), its room is the SFU.
	h.available(amy)
	err := h.c.Consult(h.ctx(), zoe.u, Target{Kind: TargetAgent, ID: "amy"}, false)
	wantErr(t, "consult in the sfu call", err, ErrModeMultiparty)
	if rooms := h.rooms.of(id); len(rooms) != 1 || rooms[0].mode != ModeSFU {
		t.Fatalf("rooms of the call in progress: %d", len(rooms))
	}

	// A call that starts now is an MCU call.
	id2 := h.enqueue(bob, "sales", 1)
	h.offered(amy, id2)
	h.accept(amy, id2, bob)
	if rooms := h.rooms.of(id2); len(rooms) != 1 || rooms[0].mode != ModeMCU {
		t.Fatalf("rooms of the new call: %+v", rooms)
	}
	h.control(amy, SetMedia{Party: "amy", Audio: true, Video: true})
	if s := next[CallState](t, bob.n); s.Media != ModeMCU {
		t.Fatalf("the new call is on %s", s.Media)
	}
	if err := h.c.Consult(h.ctx(), amy.u, Target{Kind: TargetAgent, ID: "nobody"}, false); !errors.Is(err, ErrAgentBusy) {
		t.Fatalf("consult in the mcu call: %v (the mode allows it; the agent is not there)", err)
	}

	// A restarted center reads the persisted mode.
	h.c.Close()
	verifyNoLeaks(t)
	h2 := newHarness(t, Config{Mode: ModeSFU}, WithStore(st))
	h2.clk.Advance(time.Second) // a restart takes time (call ids embed the start time)
	if m, _ := h2.c.VideoMode(h2.ctx()); m != ModeMCU {
		t.Fatalf("mode after restart = %s", m)
	}
	// auto: a new call starts on the SFU (R5).
	if err := h2.c.SetVideoMode(h2.ctx(), adm, ModeAuto); err != nil {
		t.Fatal(err)
	}
	cal := h2.customer("cal")
	id3 := h2.enqueue(cal, "sales", 1)
	if rooms := h2.rooms.of(id3); len(rooms) != 1 || rooms[0].mode != ModeSFU {
		t.Fatalf("an auto call starts on %+v", rooms)
	}
}

// R5 through the loop: in auto mode the helper's arrival moves the call to an MCU room while it
// goes on: every leg (the helper's included, once) is in the new room, the old one is closed, and
// every party is told the call is on the MCU.
func TestR5AutoCallMovesRooms(t *testing.T) { // R5
	h := newHarness(t, Config{Mode: ModeAuto})
	ann, zoe, amy := h.customer("ann"), h.agent("zoe"), h.agent("amy")
	id := h.connect(ann, zoe, "sales")
	h.available(amy)
	if err := h.c.Consult(h.ctx(), zoe.u, Target{Kind: TargetAgent, ID: "amy"}, false); err != nil {
		t.Fatal(err)
	}
	h.offered(amy, id)
	if err := h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n); err != nil {
		t.Fatalf("the helper's accept: %v", err)
	}
	for _, p := range []*person{ann, zoe, amy} {
		h.sees(p, "the call on the MCU with three parties", func(s CallState) bool { return s.Media == ModeMCU && len(s.Parties) == 3 })
	}
	rooms := h.rooms.of(id)
	if len(rooms) != 2 || rooms[0].mode != ModeSFU || rooms[1].mode != ModeMCU {
		t.Fatalf("rooms %+v", rooms)
	}
	select {
	case <-rooms[0].closedC:
	default:
		t.Fatal("the SFU room is still open")
	}
	if m := rooms[1].members(); !sameSet(m, []PartyID{"ann", "zoe", "amy"}) {
		t.Fatalf("MCU room members %v", m)
	}
	if m := rooms[0].members(); len(m) != 0 {
		t.Fatalf("SFU room still holds %v", m)
	}
	// Nobody was dropped or re-joined: the endpoints are the same, still open.
	for _, p := range []*person{ann, zoe, amy} {
		if _, n := p.ep.closed(); n != 0 {
			t.Fatalf("%s's endpoint was closed", p.u.ID)
		}
	}
	// Routing went to the new room: ann (held for the consult) hears music there.
	if rt := rooms[1].lastRouting(); !rt["ann"].Music {
		t.Fatalf("MCU routing %+v", rt)
	}
}

// R8 (and R9, R4): help from a skill queue rings the longest-idle available agent of that skill;
// the customer waits on hold; the conference takes them off hold.
func TestR8ConsultQueuePicksLongestIdle(t *testing.T) { // R8 R9 R4
	h := newHarness(t, Config{Mode: ModeMCU,
		Queues: []QueueConfig{{Name: "sales"}, {Name: "tech"}},
		Agents: []AgentConfig{{ID: "zoe", Skills: []string{"sales"}}, {ID: "amy", Skills: []string{"tech"}}, {ID: "bea", Skills: []string{"tech"}}, {ID: "sam", Skills: []string{"sales"}}},
	})
	ann, zoe, amy, bea, sam := h.customer("ann"), h.agent("zoe"), h.agent("amy"), h.agent("bea"), h.agent("sam")
	id := h.connect(ann, zoe, "sales")
	h.available(sam) // idle longest of all, but without the tech skill
	h.clk.Advance(time.Minute)
	h.available(amy) // the longest-idle tech agent
	h.clk.Advance(time.Minute)
	h.available(bea)

	if err := h.c.Consult(h.ctx(), zoe.u, Target{Kind: TargetQueue, ID: "tech"}, false); err != nil {
		t.Fatal(err)
	}
	h.sees(ann, "ann on hold", func(s CallState) bool { return heldIn(s, "ann") }) // R9
	if o := h.offered(amy, id); o.Kind != "consult" {
		t.Fatalf("offer %+v", o)
	}
	h.barrier()
	none[CallOffered](t, bea.n)
	none[CallOffered](t, sam.n)
	if rt := h.rooms.room(t, id).lastRouting(); !rt["ann"].Music || len(rt["zoe"].From) != 0 {
		t.Fatalf("routing while consulting %+v", rt) // R15: music, nobody hears ann
	}

	if err := h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n); err != nil {
		t.Fatal(err)
	}
	s := h.sees(zoe, "the helper", func(s CallState) bool { return len(s.Parties) == 3 })
	if p, _ := partyView(s, "amy"); p.As != AsConferenced || s.Consult == nil || s.Consult.Helper != "amy" || !heldIn(s, "ann") {
		t.Fatalf("zoe sees %+v", s)
	}
	if rt := h.rooms.room(t, id).lastRouting(); !reflect.DeepEqual(rt["zoe"].From, []PartyID{"amy"}) || !rt["ann"].Music {
		t.Fatalf("zoe and amy talk alone: %+v", rt) // R9
	}

	h.control(zoe, StartConference{By: "zoe"})
	for _, p := range []*person{ann, zoe, amy} {
		h.sees(p, "the conference", func(s CallState) bool { return s.Conference && !heldIn(s, "ann") && len(s.Parties) == 3 })
	}
	if rt := h.rooms.room(t, id).lastRouting(); !reflect.DeepEqual(rt["ann"].From, []PartyID{"zoe", "amy"}) {
		t.Fatalf("routing in the conference %+v", rt)
	}
}

// R8: a target that cannot be reached is refused at once with its reason, and nothing changes: a
// named agent not available (agent_unavailable), a queue without available agents
// (no_agent_available), a number without the SIP gateway (gateway_unavailable).
func TestR8ConsultTargetUnreachable(t *testing.T) { // R8 R28
	h := newHarness(t, Config{Mode: ModeMCU, Queues: []QueueConfig{{Name: "sales"}, {Name: "tech"}},
		Agents: []AgentConfig{{ID: "zoe", Skills: []string{"sales"}}, {ID: "bea", Skills: []string{"sales"}}}})
	ann, zoe, bea := h.customer("ann"), h.agent("zoe"), h.agent("bea")
	id := h.connect(ann, zoe, "sales")
	ctx := h.ctx()

	for _, tc := range []struct {
		name     string
		target   Target
		transfer bool
		code     string
	}{
		{"named agent offline", Target{Kind: TargetAgent, ID: "bea"}, false, "agent_unavailable"},
		{"named agent unknown", Target{Kind: TargetAgent, ID: "nobody"}, true, "agent_unavailable"},
		{"yourself", Target{Kind: TargetAgent, ID: "zoe"}, false, "bad_request"},
		{"queue without available agents", Target{Kind: TargetQueue, ID: "tech"}, false, "no_agent_available"},
		{"unknown queue", Target{Kind: TargetQueue, ID: "nope"}, false, "not_found"},
		{"number without the gateway", Target{Kind: TargetNumber, ID: "+100"}, false, "gateway_unavailable"},
		{"number without the gateway, transfer", Target{Kind: TargetNumber, ID: "+100"}, true, "gateway_unavailable"},
	} {
		wantCode(t, tc.name, h.c.Consult(ctx, zoe.u, tc.target, tc.transfer), tc.code)
	}
	wantCode(t, "blind transfer to a number", h.c.BlindTransfer(ctx, zoe.u, Target{Kind: TargetNumber, ID: "+100"}), "gateway_unavailable")
	wantCode(t, "blind transfer to an offline agent", h.c.BlindTransfer(ctx, zoe.u, Target{Kind: TargetAgent, ID: "bea"}), "agent_unavailable")

	// R28: nothing changed. A state change would have been published to the parties.
	h.barrier()
	none[CallState](t, ann.n)
	none[CallState](t, zoe.n)
	// The call goes on unchanged: a consult to an available agent works now.
	h.available(bea)
	if err := h.c.Consult(ctx, zoe.u, Target{Kind: TargetAgent, ID: "bea"}, false); err != nil {
		t.Fatal(err)
	}
	h.offered(bea, id)
}

// R8 (a number): with the SIP gateway a consult dials the number; the callee joins as a non-agent
// participant on a phone, and has no call controls (R7).
func TestR8ConsultNumber(t *testing.T) { // R8 R7
	d := &fakeDialer{}
	h := newHarness(t, Config{Mode: ModeMCU}, WithDialer(d))
	ann, zoe := h.customer("ann"), h.agent("zoe")
	id := h.connect(ann, zoe, "sales")
	if err := h.c.Consult(h.ctx(), zoe.u, Target{Kind: TargetNumber, ID: "+100"}, false); err != nil {
		t.Fatal(err)
	}
	s := h.sees(zoe, "the number answered", func(s CallState) bool { return len(s.Parties) == 3 })
	p, _ := partyView(s, "tel:+100")
	if p.As != AsParticipant || !p.Phone || p.Video || s.Consult == nil || s.Consult.Helper != "tel:+100" {
		t.Fatalf("zoe sees %+v", s)
	}
	if !reflect.DeepEqual(d.numbers(), []string{"+100"}) {
		t.Fatalf("dialled %v", d.numbers())
	}
	if joined, _, _ := h.rooms.room(t, id).snapshot(); !slices.Contains(joined, "tel:+100") {
		t.Fatalf("the callee is not in the room: %v", joined)
	}
}

// R9 (a number): the agent sees the number being dialled, then ringing when the network says so
// (SIP 180), then the helper once it answers. A ringing report for another number changes nothing.
func TestR9ConsultNumberDialingThenRinging(t *testing.T) { // R9 R8
	d := &fakeDialer{ring: make(chan struct{}), answer: make(chan struct{})}
	h := newHarness(t, Config{Mode: ModeMCU}, WithDialer(d))
	ann, zoe := h.customer("ann"), h.agent("zoe")
	h.connect(ann, zoe, "sales")
	if err := h.c.Consult(h.ctx(), zoe.u, Target{Kind: TargetNumber, ID: "+100"}, false); err != nil {
		t.Fatal(err)
	}
	h.sees(zoe, "dialling", func(s CallState) bool { return s.Consult != nil && !s.Consult.Ringing && s.Consult.Helper == "" })
	wantErr(t, "ringing for another number", h.c.Control(h.ctx(), zoe.u, ConsultRinging{Target: "+200"}), ErrInvalidState)
	close(d.ring)
	h.sees(zoe, "ringing", func(s CallState) bool { return s.Consult != nil && s.Consult.Ringing && s.Consult.Helper == "" })
	close(d.answer)
	h.sees(zoe, "answered", func(s CallState) bool { return s.Consult != nil && s.Consult.Helper == "tel:+100" })
}

// R17: a blind transfer to a queue releases the agent into wrap-up at once and hands the customer
// to the queue, where the next agent of its skill takes them.
func TestR17BlindTransferRequeues(t *testing.T) { // R17 R2
	h := newHarness(t, Config{Queues: []QueueConfig{{Name: "sales"}, {Name: "billing"}},
		Agents: []AgentConfig{{ID: "zoe", Skills: []string{"sales"}}, {ID: "bea", Skills: []string{"billing"}}}})
	ann, zoe, bea := h.customer("ann"), h.agent("zoe"), h.agent("bea")
	id := h.connect(ann, zoe, "sales")
	h.available(bea) // a transfer to a queue is refused while nobody there can take it (R8's check)
	if err := h.c.BlindTransfer(h.ctx(), zoe.u, Target{Kind: TargetQueue, ID: "billing"}); err != nil {
		t.Fatal(err)
	}
	expect(t, zoe.n, eq(CallEnded{CallID: id, Reason: "transferred", By: "zoe"}),
		is(func(w WrapupStarted) bool { return w.CallID == id && w.Applies }))
	h.sees(ann, "ann waiting again", func(s CallState) bool {
		return s.Phase != PhaseConnected && reflect.DeepEqual(viewIDs(s), []PartyID{"ann"})
	})
	if _, n := zoe.ep.closed(); n == 0 {
		t.Fatal("zoe's leg was not closed")
	}
	// It cannot be undone: zoe is in no call.
	wantErr(t, "zoe's controls after the transfer", h.c.Control(h.ctx(), zoe.u, CancelConsult{By: "zoe"}), ErrInvalidState)

	if o := h.offered(bea, id); o.Kind != "inbound" || o.Customer != ann.u {
		t.Fatalf("offer %+v", o)
	}
	if err := h.c.Accept(h.ctx(), bea.u, id, bea.ep, bea.n); err != nil {
		t.Fatal(err)
	}
	s := h.sees(ann, "bea controlling", func(s CallState) bool { return s.Phase == PhaseConnected })
	if p, _ := partyView(s, "bea"); p.As != AsControlling || !reflect.DeepEqual(viewIDs(s), []PartyID{"ann", "bea"}) {
		t.Fatalf("ann sees %+v", s)
	}
	h.barrier()
	none[CallOffered](t, zoe.n)
}

// R18: a consultative transfer. The target declines: the agent is back with the customer. The agent
// cancels while the target rings: the ringing stops. The target accepts and the agent completes: the
// agent drops out (wrap-up), the customer is with the target, who controls the call. Allowed in sfu
// mode (R3).
func TestR18ConsultativeTransferThroughTheCenter(t *testing.T) { // R18 R3 R9
	h := newHarness(t, Config{Mode: ModeSFU})
	ann, zoe, amy := h.customer("ann"), h.agent("zoe"), h.agent("amy")
	id := h.connect(ann, zoe, "sales")
	h.available(amy)
	toAmy := Target{Kind: TargetAgent, ID: "amy"}

	// Declined.
	if err := h.c.Consult(h.ctx(), zoe.u, toAmy, true); err != nil {
		t.Fatal(err)
	}
	h.sees(ann, "ann on hold", func(s CallState) bool { return heldIn(s, "ann") })
	h.offered(amy, id)
	if err := h.c.Decline(h.ctx(), amy.u, id); err != nil {
		t.Fatal(err)
	}
	s := h.sees(zoe, "the consult failed", func(s CallState) bool { return s.Consult == nil })
	if heldIn(s, "ann") || s.Note != "consult_failed: declined" {
		t.Fatalf("zoe sees %+v", s)
	}
	h.sees(ann, "ann back", func(s CallState) bool { return !heldIn(s, "ann") })
	wantState(t, amy, AgentAvailable)

	// Cancelled while ringing.
	if err := h.c.Consult(h.ctx(), zoe.u, toAmy, true); err != nil {
		t.Fatal(err)
	}
	h.offered(amy, id)
	h.control(zoe, CancelConsult{By: "zoe"})
	expect(t, amy.n, eq(OfferWithdrawn{CallID: id, Reason: "consult_cancelled"}), eq(AgentStateChanged{State: AgentAvailable}))
	h.sees(ann, "ann back", func(s CallState) bool { return !heldIn(s, "ann") })
	wantErr(t, "accept after the cancel", h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n), ErrInvalidState)

	// Accepted and completed.
	if err := h.c.Consult(h.ctx(), zoe.u, toAmy, true); err != nil {
		t.Fatal(err)
	}
	h.offered(amy, id)
	if err := h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n); err != nil {
		t.Fatal(err)
	}
	h.sees(zoe, "amy answered", func(s CallState) bool { return len(s.Parties) == 3 })
	h.control(zoe, CompleteTransfer{By: "zoe"})
	expect(t, zoe.n, eq(CallEnded{CallID: id, Reason: "transferred", By: "zoe"}),
		is(func(w WrapupStarted) bool { return w.CallID == id && w.Applies }))
	s = h.sees(ann, "ann with amy", func(s CallState) bool { return len(s.Parties) == 2 && !heldIn(s, "ann") })
	if p, _ := partyView(s, "amy"); p.As != AsControlling || s.Media != ModeSFU || !reflect.DeepEqual(viewIDs(s), []PartyID{"ann", "amy"}) {
		t.Fatalf("ann sees %+v", s)
	}
	if rt := h.rooms.room(t, id).lastRouting(); !reflect.DeepEqual(rt["ann"].From, []PartyID{"amy"}) {
		t.Fatalf("routing %+v", rt)
	}
}

// R23, R24 through the center: a silent supervisor is seen by agents only and heard by nobody; a
// barging one is heard; no new monitoring once the call is in wrap-up assist, but monitoring
// already going on continues.
func TestR23R24MonitorThroughTheCenter(t *testing.T) { // R23 R24 R14
	h := newHarness(t, Config{Mode: ModeMCU})
	ann, zoe, amy := h.customer("ann"), h.agent("zoe"), h.agent("amy")
	sue, sid := h.supervisor("sue"), h.supervisor("sid")
	id := h.connect(ann, zoe, "sales")

	calls, err := h.c.ActiveCalls(h.ctx(), sue.u)
	if err != nil || len(calls) != 1 || calls[0].ID != id || !reflect.DeepEqual(calls[0].Agents, []string{"zoe"}) {
		t.Fatalf("active calls %+v, %v", calls, err)
	}
	if err := h.c.Monitor(h.ctx(), sue.u, id, false, sue.ep, sue.n); err != nil {
		t.Fatal(err)
	}
	h.sees(zoe, "sue monitoring", func(s CallState) bool {
		return reflect.DeepEqual(s.Supervisors, []SupervisorView{{ID: "sue", Name: "Supervisor sue"}})
	})
	h.sees(sue, "herself", func(s CallState) bool { return len(s.Supervisors) == 1 })
	for _, e := range drain(ann.n) {
		if s, ok := e.(CallState); ok && s.Supervisors != nil {
			t.Fatalf("R23: the customer sees supervisors %+v", s.Supervisors)
		}
	}
	rt := h.rooms.room(t, id).lastRouting()
	if !reflect.DeepEqual(rt["sue"].From, []PartyID{"ann", "zoe"}) || slices.Contains(rt["ann"].From, "sue") || slices.Contains(rt["zoe"].From, "sue") {
		t.Fatalf("routing %+v", rt)
	}
	if joined, _, _ := h.rooms.room(t, id).snapshot(); !slices.Contains(joined, "sue") {
		t.Fatalf("sue is not in the room: %v", joined)
	}

	// Barge in: heard and seen by the parties.
	if err := h.c.Monitor(h.ctx(), sue.u, id, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	h.sees(zoe, "sue barging", func(s CallState) bool { return len(s.Supervisors) == 1 && s.Supervisors[0].Barge })
	if rt := h.rooms.room(t, id).lastRouting(); !slices.Contains(rt["ann"].From, "sue") {
		t.Fatalf("the customer does not hear the barging supervisor: %+v", rt)
	}

	// Bring amy in, then the customer leaves: wrap-up assist (R14).
	h.available(amy)
	if err := h.c.Consult(h.ctx(), zoe.u, Target{Kind: TargetAgent, ID: "amy"}, false); err != nil {
		t.Fatal(err)
	}
	h.offered(amy, id)
	if err := h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n); err != nil {
		t.Fatal(err)
	}
	h.sees(zoe, "amy answered", func(s CallState) bool { return len(s.Parties) == 3 })
	h.control(zoe, StartConference{By: "zoe"})
	if err := h.c.Hangup(h.ctx(), ann.u); err != nil {
		t.Fatal(err)
	}
	h.sees(zoe, "wrap-up assist", func(s CallState) bool { return s.Assist && len(s.Supervisors) == 1 })

	wantErr(t, "new monitoring in wrap-up assist", h.c.Monitor(h.ctx(), sid.u, id, false, sid.ep, sid.n), ErrWrapupAssist)
	wantErr(t, "consult in wrap-up assist", h.c.Consult(h.ctx(), zoe.u, Target{Kind: TargetAgent, ID: "bea"}, false), ErrWrapupAssist)
	wantErr(t, "hold in wrap-up assist", h.c.Control(h.ctx(), zoe.u, Hold{By: "zoe", Party: "amy"}), ErrWrapupAssist)
	if _, n := sid.ep.closed(); n != 0 {
		t.Fatal("sid was joined")
	}
	// sue continues and may leave when she likes.
	if err := h.c.Hangup(h.ctx(), sue.u); err != nil {
		t.Fatal(err)
	}
	h.sees(zoe, "sue gone", func(s CallState) bool { return len(s.Supervisors) == 0 })
	if _, n := sue.ep.closed(); n == 0 {
		t.Fatal("sue's leg was not closed")
	}
}

// R26: a queue with automatic recording records its calls from the start (a record says so); any
// agent of the call may then tag it (R25: the tag is in the call's record).
func TestR26AutoRecordQueue(t *testing.T) { // R26 R25
	st := newFakeStore()
	h := newHarness(t, Config{Queues: []QueueConfig{{Name: "sales", AutoRecord: true}, {Name: "other"}}}, WithStore(st))
	ann, zoe := h.customer("ann"), h.agent("zoe")
	id := h.connect(ann, zoe, "sales")
	recs := st.timeline(id)
	if len(recs) < 2 || recs[0].Type != RecCallStarted || recs[1].Type != RecRecording ||
		!reflect.DeepEqual(recs[1].Data, map[string]string{"state": "started", "automatic": "true"}) {
		t.Fatalf("records %+v", recs)
	}
	h.control(zoe, AddTag{By: "zoe", Text: "upsell"})
	s := h.sees(zoe, "the tagged call", func(s CallState) bool { return s.Recording })
	if !slices.Contains(s.Actions, "tag") || !slices.Contains(s.Actions, "record") {
		t.Fatalf("actions %q", s.Actions)
	}
	tags := st.ofType(id, RecTag)
	if len(tags) != 1 || tags[0].Actor != "zoe" || tags[0].Data["text"] != "upsell" {
		t.Fatalf("tags %+v", tags)
	}
	// The customer may not tag; a call of a queue without automatic recording is not recorded.
	wantErr(t, "customer tags", h.c.Control(h.ctx(), ann.u, AddTag{By: "ann", Text: "x"}), ErrForbidden)
	bob := h.customer("bob")
	id2 := h.enqueue(bob, "other", 1)
	if recs := st.ofType(id2, RecRecording); len(recs) != 0 {
		t.Fatalf("a call of a queue without automatic recording was recorded: %+v", recs)
	}
}

// R25: what happens to a call is durable, in order: the records of a whole 1:1 call, its wrap-up
// included (after the end).
func TestR25CallRecord(t *testing.T) { // R25
	st := newFakeStore()
	h := newHarness(t, Config{}, WithStore(st))
	ann, zoe := h.customer("ann"), h.agent("zoe")
	id := h.connect(ann, zoe, "sales")
	h.control(zoe, Hold{By: "zoe", Party: "ann"})
	h.control(zoe, Resume{By: "zoe", Party: "ann"})
	if err := h.c.Hangup(h.ctx(), ann.u); err != nil {
		t.Fatal(err)
	}
	h.wrapup(zoe, id, "solved")
	want := []string{RecCallStarted, RecPartyJoined, RecPartyJoined, RecHold, RecResume, RecPartyLeft, RecCallEnded, RecWrapup}
	recs := st.timeline(id)
	if got := recordTypes(recs); !reflect.DeepEqual(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	for i, r := range recs {
		if r.Seq != i+1 || r.CallID != id || r.At.IsZero() {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	if r := recs[2]; r.Actor != "zoe" || r.Role != "controlling_agent" {
		t.Fatalf("zoe's join %+v", r)
	}
	if r := recs[6]; r.Data["reason"] != "hangup" || r.Actor != "ann" {
		t.Fatalf("end %+v", r)
	}
	if r := recs[7]; r.Actor != "zoe" || r.Data["reason"] != "solved" || r.Data["applies_to_call"] != "true" {
		t.Fatalf("wrap-up %+v", r)
	}
}

// R25: every command the loop applies has its Log effects appended to the store, in order, before
// anyone is told; when the store fails, the command is refused and nothing changes: not the state,
// not the room, not the clients (R28).
func TestR25LoopRecordsBeforeApplying(t *testing.T) { // R25 R28
	st := newFakeStore()
	rooms := newRoomSet()
	mr, _ := rooms.factory("c1", ModeMCU)
	room := mr.(*fakeRoom)
	start := State{ID: "c1", Queue: "sales", Phase: PhaseQueued, Mode: ModeMCU, Media: ModeMCU}
	l := newLoop(start, room, rooms.factory, st, newFakeClock(), nopHooks(), quietLog())
	done := make(chan struct{})
	go func() { l.run(); close(done) }()
	defer func() {
		st.failAppends(nil)
		_ = l.submit(context.Background(), End{Reason: ReasonShutdown}, nil)
		<-done
	}()
	ctx := context.Background()
	state := func() State {
		var s State
		if err := l.submitQuery(func(x State) { s = deepCopy(x) }); err != nil {
			t.Fatal(err)
		}
		return s
	}
	legs := map[PartyID]*leg{}
	eps, nots := map[PartyID]*fakeEndpoint{}, map[PartyID]*notifier{}
	for _, u := range []UserRef{pAnn.User, pZoe.User, pAmy.User} {
		id := PartyID(u.ID)
		eps[id], nots[id] = newEndpoint(u), newNotifier(u.ID)
		legs[id] = &leg{ep: eps[id], n: nots[id]}
	}

	// A model of the call, through Next alone, gives the records the store must hold.
	model := start
	var wantLogs []Log
	steps := []Command{
		Join{Party: pAnn}, SetPhase{Phase: PhaseRinging}, Join{Party: pZoe},
		SetMedia{Party: "ann", Audio: true, Video: false}, SetRecording{By: "zoe", On: true}, AddTag{By: "zoe", Text: "t1"},
		StartConsult{By: "zoe", Target: toAmy}, Join{Party: pAmy}, StartConference{By: "zoe"},
		SetLayout{By: "amy", Layout: LayoutEqual}, Monitor{Supervisor: sue}, Leave{Party: "amy", Reason: ReasonExited},
	}
	for _, cmd := range steps {
		var lg *leg
		if j, ok := cmd.(Join); ok {
			lg = legs[j.Party.ID()]
		}
		if err := l.submit(ctx, cmd, lg); err != nil {
			t.Fatalf("%T: %v", cmd, err)
		}
		var fx []Effect
		model, fx = apply(t, model, cmd)
		for _, e := range fx {
			if x, ok := e.(Log); ok {
				wantLogs = append(wantLogs, x)
			}
		}
	}
	recs := st.timeline("c1")
	if len(recs) != len(wantLogs) {
		t.Fatalf("%d records, want %d: %v", len(recs), len(wantLogs), recordTypes(recs))
	}
	for i, r := range recs {
		w := wantLogs[i]
		if r.Seq != i+1 || r.Type != w.Type || r.Actor != w.Actor || r.Role != w.Role || !reflect.DeepEqual(r.Data, w.Data) {
			t.Fatalf("record %d = %+v, want %+v", i+1, r, w)
		}
	}
	if got := state(); !reflect.DeepEqual(got, deepCopy(model)) {
		t.Fatalf("loop state\n %+v\nmodel\n %+v", got, model)
	}

	// The store fails: every command that would change the call is refused; nothing changes.
	before := state()
	drain(nots["ann"])
	drain(nots["zoe"])
	st.failAppends(errors.New("disk full"))
	for _, cmd := range []Command{
		SetMedia{Party: "ann", Audio: false, Video: false}, Hold{By: "zoe", Party: "ann"}, SetRecording{By: "zoe", On: false},
		AddTag{By: "zoe", Text: "lost"}, StopMonitor{Supervisor: "sue"}, Leave{Party: "ann", Reason: ReasonHangup}, End{By: "zoe"},
	} {
		err := l.submit(ctx, cmd, nil)
		if !errors.Is(err, ErrInvalidState) {
			t.Fatalf("%T with the store down: %v", cmd, err)
		}
		if got := state(); !reflect.DeepEqual(got, before) {
			t.Fatalf("%T changed the call without its record:\n got %+v\nwant %+v", cmd, got, before)
		}
	}
	for _, id := range []PartyID{"ann", "zoe"} {
		if ev := drain(nots[id]); len(ev) != 0 {
			t.Fatalf("%s was told %+v", id, ev)
		}
		if _, n := eps[id].closed(); n != 0 {
			t.Fatalf("%s's leg was closed", id)
		}
	}
	if m := room.members(); !slices.Contains(m, "ann") {
		t.Fatalf("room members %v", m)
	}
	if n := len(st.timeline("c1")); n != len(recs) {
		t.Fatalf("records while the store was down: %d, want %d", n, len(recs))
	}

	// The store is back: the call goes on, its records without a gap.
	st.failAppends(nil)
	if err := l.submit(ctx, SetMedia{Party: "ann", Audio: false, Video: false}, nil); err != nil {
		t.Fatal(err)
	}
	if recs2 := st.timeline("c1"); len(recs2) != len(recs)+1 || recs2[len(recs)].Type != RecMedia {
		t.Fatalf("records after recovery: %v", recordTypes(recs2))
	}
	if s := next[CallState](t, nots["zoe"]); !reflect.DeepEqual(s, View(state(), "zoe")) {
		t.Fatalf("zoe sees %+v", s)
	}
}

// R29: an agent calls another agent directly: the callee is offered a direct call, joins as a
// conferenced agent, and the call connects without a customer.
func TestR29DialAgent(t *testing.T) { // R29 R13 R2
	h := newHarness(t, Config{})
	zoe, amy, bea := h.agent("zoe"), h.agent("amy"), h.agent("bea")
	h.available(amy)
	id, err := h.c.Dial(h.ctx(), zoe.u, Target{Kind: TargetAgent, ID: "amy"}, zoe.ep, zoe.n)
	if err != nil {
		t.Fatal(err)
	}
	if o := h.offered(amy, id); o.Kind != "direct" {
		t.Fatalf("offer %+v", o)
	}
	if err := h.c.Accept(h.ctx(), amy.u, id, amy.ep, amy.n); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{zoe, amy} {
		s := h.sees(p, "the direct call connected", func(s CallState) bool { return s.Phase == PhaseConnected })
		want := []PartyView{
			{ID: "zoe", Name: "Agent zoe", Role: Agent, As: AsControlling, Audio: true, Video: true},
			{ID: "amy", Name: "Agent amy", Role: Agent, As: AsConferenced, Audio: true, Video: true},
		}
		if !reflect.DeepEqual(s.Parties, want) {
			t.Fatalf("%s sees %+v", p.u.ID, s.Parties)
		}
	}
	// Busy agents cannot dial; the target must be available.
	wantErr(t, "dial while in a call", func() error {
		_, err := h.c.Dial(h.ctx(), zoe.u, Target{Kind: TargetAgent, ID: "bea"}, zoe.ep, zoe.n)
		return err
	}(), ErrInvalidState)
	_, err = h.c.Dial(h.ctx(), bea.u, Target{Kind: TargetAgent, ID: "amy"}, bea.ep, bea.n)
	wantCode(t, "dial a busy agent", err, "agent_unavailable")

	// Either hangs up: two parties no more, the call ends (R13), both wrap up (R2).
	if err := h.c.Hangup(h.ctx(), amy.u); err != nil {
		t.Fatal(err)
	}
	h.wrapup(amy, id, "internal")
	h.wrapup(zoe, id, "internal")
	h.waitStats(Stats{})
}

// R29: dialling a number needs the SIP gateway (gateway_unavailable, and no call is made); with it
// the callee is the customer of the call, and the rules apply as to any call (hold, R15).
func TestR29DialNumber(t *testing.T) { // R29 R15
	t.Run("without gateway", func(t *testing.T) {
		h := newHarness(t, Config{})
		zoe := h.agent("zoe")
		_, err := h.c.Dial(h.ctx(), zoe.u, Target{Kind: TargetNumber, ID: "+100"}, zoe.ep, zoe.n)
		wantCode(t, "dial without gateway", err, "gateway_unavailable")
		if st := h.stats(); st != (Stats{}) {
			t.Fatalf("stats %+v", st)
		}
		h.barrier()
		none[AgentStateChanged](t, zoe.n)
	})
	t.Run("with gateway", func(t *testing.T) {
		d := &fakeDialer{}
		h := newHarness(t, Config{}, WithDialer(d))
		zoe := h.agent("zoe")
		id, err := h.c.Dial(h.ctx(), zoe.u, Target{Kind: TargetNumber, ID: "+100"}, zoe.ep, zoe.n)
		if err != nil {
			t.Fatal(err)
		}
		s := h.sees(zoe, "the number answered", func(s CallState) bool { return s.Phase == PhaseConnected })
		if p, _ := partyView(s, "tel:+100"); p.As != AsCustomer || !p.Phone || !reflect.DeepEqual(viewIDs(s), []PartyID{"zoe", "tel:+100"}) {
			t.Fatalf("zoe sees %+v", s)
		}
		if !reflect.DeepEqual(d.numbers(), []string{"+100"}) {
			t.Fatalf("dialled %v", d.numbers())
		}
		h.control(zoe, Hold{By: "zoe"})
		h.sees(zoe, "the callee on hold", func(s CallState) bool { return heldIn(s, "tel:+100") })
		if rt := h.rooms.room(t, id).lastRouting(); !rt["tel:+100"].Music {
			t.Fatalf("routing %+v", rt)
		}
	})
}

// R30: callbacks are persisted; a due personal callback is offered to its agent (and nobody else),
// accepting it dials the customer; they can be listed (an agent sees theirs and the queues'),
// moved and cancelled, and survive a restart.
func TestR30Callbacks(t *testing.T) { // R30
	st := newFakeStore()
	d := &fakeDialer{}
	h := newHarness(t, Config{}, WithStore(st), WithDialer(d))
	zoe, amy := h.agent("zoe"), h.agent("amy")
	sup := UserRef{ID: "sue", Role: Supervisor}
	ctx := h.ctx()
	now := h.clk.Now()

	mine, err := h.c.ScheduleCallback(ctx, zoe.u, Callback{Customer: "ann", Name: "Ann", Number: "+100", Agent: "zoe", Due: now.Add(time.Hour), Reason: "quote"})
	if err != nil {
		t.Fatal(err)
	}
	queued, err := h.c.ScheduleCallback(ctx, zoe.u, Callback{Customer: "bob", Queue: "sales", Due: now.Add(2 * time.Hour), Reason: "later"})
	if err != nil {
		t.Fatal(err)
	}
	amys, err := h.c.ScheduleCallback(ctx, amy.u, Callback{Customer: "cal", Number: "+300", Agent: "amy", Due: now.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if mine.ID == "" || mine.ID == queued.ID || mine.State != CallbackScheduled || mine.CreatedBy != "zoe" {
		t.Fatalf("scheduled %+v", mine)
	}
	if got, err := st.Callback(ctx, mine.ID); err != nil || !reflect.DeepEqual(got, mine) {
		t.Fatalf("stored %+v, %v", got, err)
	}

	// Refusals (R28: nothing stored).
	_, err = h.c.ScheduleCallback(ctx, zoe.u, Callback{Customer: "ann", Agent: "amy", Due: now})
	wantErr(t, "a personal callback for someone else", err, ErrForbidden)
	_, err = h.c.ScheduleCallback(ctx, zoe.u, Callback{Customer: "ann", Queue: "nope", Due: now})
	wantErr(t, "unknown queue", err, ErrNotFound)
	_, err = h.c.ScheduleCallback(ctx, zoe.u, Callback{Customer: "ann", Agent: "zoe"})
	wantErr(t, "no due time", err, ErrBadRequest)
	_, err = h.c.ScheduleCallback(ctx, zoe.u, Callback{Agent: "zoe", Due: now})
	wantErr(t, "nobody to call", err, ErrBadRequest)
	if all, _ := st.Callbacks(ctx, CallbackFilter{}); len(all) != 3 {
		t.Fatalf("%d callbacks stored", len(all))
	}

	// Listing: an agent sees their own and the queues'; a supervisor sees all.
	list := func(u UserRef) []string {
		cbs, err := h.c.Callbacks(ctx, u, CallbackFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, cb := range cbs {
			out = append(out, cb.ID)
		}
		return out
	}
	if got := list(zoe.u); !reflect.DeepEqual(got, []string{mine.ID, queued.ID}) {
		t.Fatalf("zoe lists %v", got)
	}
	if got := list(amy.u); !reflect.DeepEqual(got, []string{queued.ID, amys.ID}) {
		t.Fatalf("amy lists %v", got)
	}
	if got := list(sup); !reflect.DeepEqual(got, []string{mine.ID, queued.ID, amys.ID}) {
		t.Fatalf("the supervisor lists %v", got)
	}

	// Move and cancel.
	h.waitTimer("for the queue callback", func(tm *fakeTimer) bool { return tm.d == 2*time.Hour })
	if err := h.c.MoveCallback(ctx, zoe.u, queued.ID, now.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Callback(ctx, queued.ID); !got.Due.Equal(now.Add(4*time.Hour)) || got.State != CallbackScheduled {
		t.Fatalf("moved %+v", got)
	}
	h.noTimer("for the old due time", func(tm *fakeTimer) bool { return tm.d == 2*time.Hour })
	h.waitTimer("for the new due time", func(tm *fakeTimer) bool { return tm.d == 4*time.Hour })
	wantErr(t, "move another agent's callback", h.c.MoveCallback(ctx, zoe.u, amys.ID, now), ErrForbidden)
	wantErr(t, "move without a time", h.c.MoveCallback(ctx, zoe.u, queued.ID, time.Time{}), ErrBadRequest)
	wantErr(t, "move an unknown callback", h.c.MoveCallback(ctx, zoe.u, "cb-nope", now), ErrNotFound)
	if err := h.c.CancelCallback(ctx, sup, queued.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Callback(ctx, queued.ID); got.State != CallbackCancelled {
		t.Fatalf("cancelled %+v", got)
	}
	h.noTimer("for the cancelled callback", func(tm *fakeTimer) bool { return tm.d == 4*time.Hour })
	wantErr(t, "cancel twice", h.c.CancelCallback(ctx, zoe.u, queued.ID), ErrInvalidState)
	wantErr(t, "customer cancels", h.c.CancelCallback(ctx, UserRef{ID: "ann", Role: Customer}, mine.ID), ErrForbidden)

	// Due: offered to its agent only, although amy has been idle longer.
	h.available(amy)
	h.clk.Advance(time.Minute)
	h.available(zoe)
	due := h.waitTimer("for zoe's callback", func(tm *fakeTimer) bool { return tm.d == time.Hour })
	h.clk.Advance(time.Hour)
	due.fire()
	cbCall := CallID("callback:" + mine.ID)
	o := h.offered(zoe, cbCall)
	if o.Kind != "callback" || o.Callback != mine.ID || o.Customer.ID != "ann" {
		t.Fatalf("offer %+v", o)
	}
	h.barrier()
	none[CallOffered](t, amy.n)
	if got, _ := st.Callback(ctx, mine.ID); got.State != CallbackOffered {
		t.Fatalf("offered callback %+v", got)
	}

	// Accepting dials the customer's number: a call with zoe and the customer on the phone.
	if err := h.c.Accept(ctx, zoe.u, cbCall, zoe.ep, zoe.n); err != nil {
		t.Fatal(err)
	}
	s := h.sees(zoe, "the customer answered", func(s CallState) bool { return s.Phase == PhaseConnected })
	if p, _ := partyView(s, "tel:+100"); p.As != AsCustomer || !p.Phone {
		t.Fatalf("zoe sees %+v", s)
	}
	if !reflect.DeepEqual(d.numbers(), []string{"+100"}) {
		t.Fatalf("dialled %v", d.numbers())
	}
	if got, _ := st.Callback(ctx, mine.ID); got.State != CallbackDone {
		t.Fatalf("accepted callback %+v", got)
	}

	// Callbacks survive a restart: a new center on the same store arms amy's.
	h.c.Close()
	verifyNoLeaks(t)
	h2 := newHarness(t, Config{}, WithStore(st), WithDialer(d))
	h2.waitTimer("for amy's callback after the restart", func(tm *fakeTimer) bool { return tm.d == 3*time.Hour })
	cbs, err := h2.c.Callbacks(h2.ctx(), amy.u, CallbackFilter{State: CallbackScheduled})
	if err != nil || len(cbs) != 1 || cbs[0].ID != amys.ID {
		t.Fatalf("amy's agenda after the restart: %+v, %v", cbs, err)
	}
}

// R30: a due callback whose agent is not available waits and is offered again later; an offer the
// agent declines goes back on the schedule.
func TestR30CallbackRetries(t *testing.T) { // R30
	st := newFakeStore()
	h := newHarness(t, Config{}, WithStore(st), WithDialer(&fakeDialer{}))
	zoe := h.agent("zoe")
	cb, err := h.c.ScheduleCallback(h.ctx(), zoe.u, Callback{Customer: "ann", Number: "+100", Agent: "zoe", Due: h.clk.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	h.waitTimer("due in a minute", func(tm *fakeTimer) bool { return tm.d == time.Minute }).fire()
	// zoe is offline: retried later, still scheduled.
	retry := h.waitTimer("retrying", func(tm *fakeTimer) bool { return tm.d == callbackRetry })
	if got, _ := st.Callback(h.ctx(), cb.ID); got.State != CallbackScheduled {
		t.Fatalf("callback %+v", got)
	}
	h.available(zoe)
	retry.fire()
	id := CallID("callback:" + cb.ID)
	h.offered(zoe, id)
	if err := h.c.Decline(h.ctx(), zoe.u, id); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Callback(h.ctx(), cb.ID); got.State != CallbackScheduled {
		t.Fatalf("declined callback %+v", got)
	}
	h.waitTimer("retrying after the decline", func(tm *fakeTimer) bool { return tm.d == callbackRetry })
}
