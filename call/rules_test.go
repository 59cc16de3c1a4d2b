package call

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

var (
	t0       = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	custAnn  = Party{User: UserRef{ID: "ann", Name: "Ann", Role: Customer}, Audio: true, Video: true, JoinedAt: t0}
	custBob  = Party{User: UserRef{ID: "bob", Name: "Bob", Role: Customer}, Audio: true, Video: true, JoinedAt: t0}
	agentZoe = Party{User: UserRef{ID: "zoe", Name: "Zoe", Role: Agent}, Audio: true, Video: false, JoinedAt: t0.Add(time.Minute)}
	agentMax = Party{User: UserRef{ID: "max", Name: "Max", Role: Agent}, JoinedAt: t0.Add(time.Minute)}
	errCause = errors.New("ice_failed")
)

// Call states the tests start from.
func stQueued() State { return State{ID: "c1", Queue: "sales", Phase: PhaseQueued} }
func stWaiting() State {
	return State{ID: "c1", Queue: "sales", Phase: PhaseQueued, Parties: []Party{custAnn}}
}
func stRinging() State {
	return State{ID: "c1", Queue: "sales", Phase: PhaseRinging, Parties: []Party{custAnn}}
}
func stConnected() State {
	return State{ID: "c1", Queue: "sales", Phase: PhaseConnected, Parties: []Party{custAnn, agentZoe}}
}
func stEnded() State {
	return State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: []Party{custAnn},
		Ended: &CallEnded{CallID: "c1", Reason: "hangup", By: "zoe"}}
}

// deepCopy copies a State so that a test can tell whether Next touched the caller's value, including
// the backing array of Parties.
func deepCopy(s State) State {
	c := s
	c.Parties = slices.Clone(s.Parties)
	if s.Ended != nil {
		e := *s.Ended
		c.Ended = &e
	}
	return c
}

// comparable keeps what the table states of each effect: a Finish is compared by the CallEnded it
// announces (fields added to Finish later, such as the reason as an error, are not in the table).
func comparable(effects []Effect) []Effect {
	out := make([]Effect, len(effects))
	for i, e := range effects {
		if f, ok := e.(Finish); ok {
			e = Finish{Ended: f.Ended}
		}
		out[i] = e
	}
	if effects == nil {
		return nil
	}
	return out
}

// bogus is a command the rules do not know.
type bogus struct{}

func (bogus) command() {}

func TestNext(t *testing.T) {
	tests := []struct {
		name    string
		from    State
		cmd     Command
		want    State    // ignored when wantErr is set: a refusal must return from unchanged (R28)
		effects []Effect // exact list
		wantErr error
	}{
		// Joining (R1: the customer arrives, the agent accepts).
		{
			name: "customer joins an empty call and waits",
			from: stQueued(), cmd: Join{Party: custAnn},
			want:    State{ID: "c1", Queue: "sales", Phase: PhaseQueued, Parties: []Party{custAnn}},
			effects: []Effect{JoinRoom{Party: "ann"}, Publish{}},
		},
		{
			name: "agent joins a ringing call: connected",
			from: stRinging(), cmd: Join{Party: agentZoe},
			want:    State{ID: "c1", Queue: "sales", Phase: PhaseConnected, Parties: []Party{custAnn, agentZoe}},
			effects: []Effect{JoinRoom{Party: "zoe"}, Publish{}},
		},
		{
			name: "agent joins a queued call: connected",
			from: stWaiting(), cmd: Join{Party: agentZoe},
			want:    State{ID: "c1", Queue: "sales", Phase: PhaseConnected, Parties: []Party{custAnn, agentZoe}},
			effects: []Effect{JoinRoom{Party: "zoe"}, Publish{}},
		},
		{name: "second customer refused", from: stWaiting(), cmd: Join{Party: custBob}, wantErr: ErrInvalidState},
		{name: "second customer refused once connected", from: stConnected(), cmd: Join{Party: custBob}, wantErr: ErrInvalidState},
		{name: "same customer twice refused", from: stWaiting(), cmd: Join{Party: custAnn}, wantErr: ErrInvalidState},
		{name: "agent before any customer refused", from: stQueued(), cmd: Join{Party: agentZoe}, wantErr: ErrInvalidState},
		{name: "second agent refused (one-to-one model)", from: stConnected(), cmd: Join{Party: agentMax}, wantErr: ErrInvalidState},
		{name: "same agent twice refused", from: stConnected(), cmd: Join{Party: agentZoe}, wantErr: ErrInvalidState},
		{
			name: "supervisor is not a party: forbidden", from: stConnected(), wantErr: ErrForbidden,
			cmd: Join{Party: Party{User: UserRef{ID: "sue", Role: Supervisor}}},
		},
		{
			name: "admin is not a party: forbidden", from: stWaiting(), wantErr: ErrForbidden,
			cmd: Join{Party: Party{User: UserRef{ID: "adm", Role: Admin}}},
		},
		{
			name: "unknown role forbidden", from: stQueued(), wantErr: ErrForbidden,
			cmd: Join{Party: Party{User: UserRef{ID: "x", Role: Role("robot")}}},
		},

		// Leaving: R11 any party may hang up; R13 the call ends when fewer than two parties remain.
		{
			name: "R11 R13 customer hangs up a 1:1 call: it ends, by the customer",
			from: stConnected(), cmd: Leave{Party: "ann", Reason: ReasonHangup},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: []Party{agentZoe},
				Ended: &CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}},
			effects: []Effect{
				LeaveRoom{Party: "ann", Reason: ReasonHangup},
				Finish{Ended: CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}},
			},
		},
		{
			name: "R11 R13 agent hangs up a 1:1 call: it ends, by the agent",
			from: stConnected(), cmd: Leave{Party: "zoe", Reason: ReasonHangup},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: []Party{custAnn},
				Ended: &CallEnded{CallID: "c1", Reason: "hangup", By: "zoe"}},
			effects: []Effect{
				LeaveRoom{Party: "zoe", Reason: ReasonHangup},
				Finish{Ended: CallEnded{CallID: "c1", Reason: "hangup", By: "zoe"}},
			},
		},
		{
			name: "R13 agent's transport fails: the call ends with that cause",
			from: stConnected(), cmd: Leave{Party: "zoe", Reason: errCause},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: []Party{custAnn},
				Ended: &CallEnded{CallID: "c1", Reason: "ice_failed", By: "zoe"}},
			effects: []Effect{
				LeaveRoom{Party: "zoe", Reason: errCause},
				Finish{Ended: CallEnded{CallID: "c1", Reason: "ice_failed", By: "zoe"}},
			},
		},
		{
			name: "R13 a leave without a reason counts as a hangup",
			from: stConnected(), cmd: Leave{Party: "ann"},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: []Party{agentZoe},
				Ended: &CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}},
			effects: []Effect{
				LeaveRoom{Party: "ann"},
				Finish{Ended: CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}},
			},
		},
		{
			name: "R13 waiting customer leaves: the call is abandoned",
			from: stWaiting(), cmd: Leave{Party: "ann", Reason: ReasonHangup},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: nil,
				Ended: &CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}},
			effects: []Effect{
				LeaveRoom{Party: "ann", Reason: ReasonHangup},
				Finish{Ended: CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}},
			},
		},
		{
			name: "R13 ringing customer disconnects: the call is abandoned",
			from: stRinging(), cmd: Leave{Party: "ann", Reason: ReasonDisconnected},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: nil,
				Ended: &CallEnded{CallID: "c1", Reason: "disconnected", By: "ann"}},
			effects: []Effect{
				LeaveRoom{Party: "ann", Reason: ReasonDisconnected},
				Finish{Ended: CallEnded{CallID: "c1", Reason: "disconnected", By: "ann"}},
			},
		},
		{name: "leave of a stranger: not found", from: stConnected(), cmd: Leave{Party: "eve"}, wantErr: ErrNotFound},

		// End for everyone (shutdown).
		{
			name: "end a connected call: shutdown, by nobody",
			from: stConnected(), cmd: End{Reason: ReasonShutdown},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: []Party{custAnn, agentZoe},
				Ended: &CallEnded{CallID: "c1", Reason: "shutdown"}},
			effects: []Effect{Finish{Ended: CallEnded{CallID: "c1", Reason: "shutdown"}}},
		},
		{
			name: "end a waiting call",
			from: stWaiting(), cmd: End{Reason: ReasonMediaFailed},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseEnded, Parties: []Party{custAnn},
				Ended: &CallEnded{CallID: "c1", Reason: "media_failed"}},
			effects: []Effect{Finish{Ended: CallEnded{CallID: "c1", Reason: "media_failed"}}},
		},

		// Media state.
		{
			name: "SetMedia changes only that party",
			from: stConnected(), cmd: SetMedia{Party: "zoe", Audio: false, Video: true},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseConnected, Parties: []Party{
				custAnn,
				{User: agentZoe.User, Audio: false, Video: true, JoinedAt: agentZoe.JoinedAt},
			}},
			effects: []Effect{Publish{}},
		},
		{
			name: "SetMedia of a waiting customer",
			from: stWaiting(), cmd: SetMedia{Party: "ann", Audio: true, Video: false},
			want: State{ID: "c1", Queue: "sales", Phase: PhaseQueued, Parties: []Party{
				{User: custAnn.User, Audio: true, Video: false, JoinedAt: t0},
			}},
			effects: []Effect{Publish{}},
		},
		{name: "SetMedia of a stranger: not found", from: stConnected(), cmd: SetMedia{Party: "eve", Audio: true}, wantErr: ErrNotFound},

		// Phase moves are routing's business, and only while the call waits.
		{
			name: "queued -> ringing", from: stWaiting(), cmd: SetPhase{Phase: PhaseRinging},
			want:    State{ID: "c1", Queue: "sales", Phase: PhaseRinging, Parties: []Party{custAnn}},
			effects: []Effect{Publish{}},
		},
		{
			name: "ringing -> queued (offer withdrawn)", from: stRinging(), cmd: SetPhase{Phase: PhaseQueued},
			want:    State{ID: "c1", Queue: "sales", Phase: PhaseQueued, Parties: []Party{custAnn}},
			effects: []Effect{Publish{}},
		},
		{name: "SetPhase refused once connected", from: stConnected(), cmd: SetPhase{Phase: PhaseRinging}, wantErr: ErrInvalidState},
		{name: "SetPhase queued refused once connected", from: stConnected(), cmd: SetPhase{Phase: PhaseQueued}, wantErr: ErrInvalidState},
		{name: "SetPhase cannot connect", from: stRinging(), cmd: SetPhase{Phase: PhaseConnected}, wantErr: ErrInvalidState},
		{name: "SetPhase cannot end", from: stWaiting(), cmd: SetPhase{Phase: PhaseEnded}, wantErr: ErrInvalidState},
		{name: "SetPhase to nonsense", from: stWaiting(), cmd: SetPhase{Phase: Phase("x")}, wantErr: ErrInvalidState},

		// An ended call refuses everything (R28: nothing changes).
		{name: "ended: join refused", from: stEnded(), cmd: Join{Party: agentZoe}, wantErr: ErrInvalidState},
		{name: "ended: leave refused", from: stEnded(), cmd: Leave{Party: "ann"}, wantErr: ErrInvalidState},
		{name: "ended: media refused", from: stEnded(), cmd: SetMedia{Party: "ann"}, wantErr: ErrInvalidState},
		{name: "ended: phase refused", from: stEnded(), cmd: SetPhase{Phase: PhaseQueued}, wantErr: ErrInvalidState},
		{name: "ended: end refused", from: stEnded(), cmd: End{Reason: ReasonShutdown}, wantErr: ErrInvalidState},

		{name: "unknown command refused", from: stConnected(), cmd: bogus{}, wantErr: ErrInvalidState},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := deepCopy(tc.from)
			got, effects, err := Next(tc.from, tc.cmd)

			// Next works on a value: the caller's state, its parties included, is never touched.
			if !reflect.DeepEqual(tc.from, before) {
				t.Fatalf("Next modified its input:\n got %+v\nwant %+v", tc.from, before)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				// R28: a refused command changes nothing and asks nothing of the world.
				if !reflect.DeepEqual(got, before) {
					t.Errorf("refused command changed the state:\n got %+v\nwant %+v", got, before)
				}
				if len(effects) != 0 {
					t.Errorf("refused command has effects %+v", effects)
				}
				if err.Error() == "" || err.Error() == tc.wantErr.Error() {
					t.Errorf("error %q does not say what was refused", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("state:\n got %+v\nwant %+v", got, tc.want)
			}
			if !reflect.DeepEqual(comparable(effects), tc.effects) {
				t.Errorf("effects:\n got %#v\nwant %#v", effects, tc.effects)
			}
		})
	}
}

// A whole one-to-one call through Next alone: arrival, offer, answer, hangup (R1, R11, R13).
func TestNextOneToOneLifecycle(t *testing.T) {
	s := State{ID: "c9", Queue: "sales", Phase: PhaseQueued}
	steps := []struct {
		cmd   Command
		phase Phase
		n     int
	}{
		{Join{Party: custAnn}, PhaseQueued, 1},
		{SetPhase{Phase: PhaseRinging}, PhaseRinging, 1},
		{SetPhase{Phase: PhaseQueued}, PhaseQueued, 1}, // declined: back in the queue
		{SetPhase{Phase: PhaseRinging}, PhaseRinging, 1},
		{Join{Party: agentZoe}, PhaseConnected, 2},
		{SetMedia{Party: "ann", Video: false, Audio: true}, PhaseConnected, 2},
		{Leave{Party: "zoe", Reason: ReasonHangup}, PhaseEnded, 1}, // R11, R13
	}
	for i, st := range steps {
		var err error
		s, _, err = Next(s, st.cmd)
		if err != nil {
			t.Fatalf("step %d %T: %v", i, st.cmd, err)
		}
		if s.Phase != st.phase || len(s.Parties) != st.n {
			t.Fatalf("step %d %T: phase %s with %d parties, want %s with %d", i, st.cmd, s.Phase, len(s.Parties), st.phase, st.n)
		}
	}
	if s.Ended == nil || s.Ended.By != "zoe" || s.Ended.Reason != "hangup" || s.Ended.CallID != "c9" {
		t.Fatalf("ended = %+v", s.Ended)
	}
	// After the end, nothing more happens (R13, R28).
	if _, _, err := Next(s, Leave{Party: "ann"}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("leave after end: %v", err)
	}
}

// Next must not write through the caller's Parties backing array, even when it has spare capacity:
// the loop keeps the previous state for onEnd while the next one is built.
func TestNextDoesNotAliasParties(t *testing.T) {
	parties := make([]Party, 2, 8)
	parties[0], parties[1] = custAnn, agentZoe
	s := State{ID: "c1", Phase: PhaseConnected, Parties: parties}
	spare := parties[:3]

	for _, cmd := range []Command{
		SetMedia{Party: "ann", Audio: false, Video: false},
		Leave{Party: "ann"},
		Leave{Party: "zoe"},
	} {
		if _, _, err := Next(s, cmd); err != nil {
			t.Fatalf("%T: %v", cmd, err)
		}
		if !reflect.DeepEqual(spare[:2], []Party{custAnn, agentZoe}) || spare[2] != (Party{}) {
			t.Fatalf("%T wrote into the caller's array: %+v", cmd, spare)
		}
	}
	w := State{ID: "c1", Phase: PhaseQueued, Parties: parties[:1]}
	if _, _, err := Next(w, Join{Party: agentZoe}); err != nil {
		t.Fatal(err)
	}
	if spare[1] != agentZoe || spare[2] != (Party{}) {
		t.Fatalf("Join wrote into the caller's array: %+v", spare)
	}
}

func TestActions(t *testing.T) {
	tests := []struct {
		name string
		s    State
		p    PartyID
		want []string
	}{
		{"customer waiting", stWaiting(), "ann", []string{"hangup", "media_state"}},
		{"customer connected", stConnected(), "ann", []string{"hangup", "media_state"}},
		{"agent connected", stConnected(), "zoe", []string{"hangup", "media_state"}},
		{"stranger", stConnected(), "eve", nil},
		{"agent not yet in a ringing call", stRinging(), "zoe", nil},
		{"ended call", stEnded(), "ann", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Actions(tc.s, tc.p); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Actions = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestView(t *testing.T) {
	s := stConnected()
	got := View(s, "ann")
	want := CallState{
		CallID: "c1", Phase: PhaseConnected, Queue: "sales",
		Parties: []PartyView{
			{ID: "ann", Name: "Ann", Role: Customer, Audio: true, Video: true},
			{ID: "zoe", Name: "Zoe", Role: Agent, Audio: true, Video: false},
		},
		Actions: []string{"hangup", "media_state"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("View:\n got %+v\nwant %+v", got, want)
	}

	// Only the actions depend on the viewer.
	stranger := View(s, "eve")
	if stranger.Actions != nil {
		t.Errorf("a stranger may do %q", stranger.Actions)
	}
	stranger.Actions = want.Actions
	if !reflect.DeepEqual(stranger, want) {
		t.Errorf("view differs by viewer beyond actions: %+v", stranger)
	}

	// The view is a copy: changing it leaves the state alone.
	got.Parties[0].Name = "changed"
	if s.Parties[0].User.Name != "Ann" {
		t.Error("View shares memory with the state")
	}

	// An ended call shows its phase, and nobody may act.
	e := View(stEnded(), "ann")
	if e.Phase != PhaseEnded || e.Actions != nil || len(e.Parties) != 1 {
		t.Errorf("ended view = %+v", e)
	}
	// An empty call has an empty, non-nil party list.
	if v := View(stQueued(), "ann"); v.Parties == nil || len(v.Parties) != 0 {
		t.Errorf("empty view parties = %#v", v.Parties)
	}
}

func TestRoleValid(t *testing.T) {
	for _, r := range []Role{Customer, Agent, Supervisor, Admin} {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	for _, r := range []Role{"", "robot", "Agent"} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}
