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
	custAnn  = Party{User: UserRef{ID: "ann", Name: "Ann", Role: Customer}, As: AsCustomer, Audio: true, Video: true, JoinedAt: t0}
	custBob  = Party{User: UserRef{ID: "bob", Name: "Bob", Role: Customer}, As: AsCustomer, Audio: true, Video: true, JoinedAt: t0}
	agentZoe = Party{User: UserRef{ID: "zoe", Name: "Zoe", Role: Agent}, As: AsControlling, Audio: true, Video: false, JoinedAt: t0.Add(time.Minute)}
	agentMax = Party{User: UserRef{ID: "max", Name: "Max", Role: Agent}, JoinedAt: t0.Add(time.Minute)} // As left to the rules
	errCause = errors.New("ice_failed")
)

// Call states the tests start from: a 1:1 call in sfu mode (the default).
func stQueued() State {
	return State{ID: "c1", Queue: "sales", Phase: PhaseQueued, Mode: ModeSFU, Media: ModeSFU}
}
func stWaiting() State {
	s := stQueued()
	s.Parties = []Party{custAnn}
	return s
}
func stRinging() State {
	s := stWaiting()
	s.Phase = PhaseRinging
	return s
}
func stConnected() State {
	s := stQueued()
	s.Phase, s.Parties = PhaseConnected, []Party{custAnn, agentZoe}
	return s
}
func stEnded() State {
	s := stQueued()
	s.Phase, s.Parties = PhaseEnded, []Party{custAnn}
	s.Ended = &CallEnded{CallID: "c1", Reason: "hangup", By: "zoe"}
	return s
}

// with returns s with its phase and parties replaced (for want states).
func with(s State, ph Phase, parties ...Party) State {
	s.Phase, s.Parties = ph, parties
	return s
}

// as returns p with the role it has in the call.
func as(p Party, r PartyRole) Party { p.As = r; return p }

// lg is a Log effect (R25): a record the loop makes durable.
func lg(typ, actor, role string, kv ...string) Log {
	var data map[string]string
	if len(kv) > 0 {
		data = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			data[kv[i]] = kv[i+1]
		}
	}
	return Log{Type: typ, Actor: actor, Role: role, Data: data}
}

// deepCopy copies a State so that a test can tell whether Next touched the caller's value, including
// the backing arrays of Parties and Supervisors and what the pointers point at.
func deepCopy(s State) State {
	c := s
	c.Parties = slices.Clone(s.Parties)
	c.Supervisors = slices.Clone(s.Supervisors)
	if s.Ended != nil {
		e := *s.Ended
		c.Ended = &e
	}
	if s.Consult != nil {
		x := *s.Consult
		c.Consult = &x
	}
	if s.Transfer != nil {
		x := *s.Transfer
		c.Transfer = &x
	}
	return c
}

// bogus is a command the rules do not know.
type bogus struct{}

func (bogus) command() {}

// checkRefusal is R28 for one refused command: the error carries a stable code and a message that
// says what was refused, the state comes back unchanged and nothing is asked of the world.
func checkRefusal(t *testing.T, before, got State, effects []Effect, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if CodeOf(err) == "" || CodeOf(err) != CodeOf(want) {
		t.Errorf("err %v has code %q, want %q", err, CodeOf(err), CodeOf(want))
	}
	if err.Error() == "" {
		t.Errorf("error without a message")
	}
	if !reflect.DeepEqual(got, before) {
		t.Errorf("refused command changed the state:\n got %+v\nwant %+v", got, before)
	}
	if len(effects) != 0 {
		t.Errorf("refused command has effects %+v", effects)
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name    string
		from    State
		cmd     Command
		want    State    // ignored when wantErr is set: a refusal must return from unchanged (R28)
		effects []Effect // exact list, Log records included (R25)
		wantErr error
	}{
		// Joining (R1: the customer arrives, the agent accepts). A role left empty is derived.
		{
			name: "customer joins an empty call and waits",
			from: stQueued(), cmd: Join{Party: as(custAnn, "")},
			want: with(stQueued(), PhaseQueued, custAnn),
			effects: []Effect{lg(RecPartyJoined, "ann", "customer", "name", "Ann", "via", "browser"),
				JoinRoom{Party: "ann"}, Reroute{}, Publish{}},
		},
		{
			name: "agent joins a ringing call: connected, as controlling agent",
			from: stRinging(), cmd: Join{Party: as(agentZoe, "")},
			want: with(stQueued(), PhaseConnected, custAnn, agentZoe),
			effects: []Effect{lg(RecPartyJoined, "zoe", "controlling_agent", "name", "Zoe", "via", "browser"),
				JoinRoom{Party: "zoe"}, Reroute{}, Publish{}},
		},
		{
			name: "agent joins a queued call: connected",
			from: stWaiting(), cmd: Join{Party: agentZoe},
			want: with(stQueued(), PhaseConnected, custAnn, agentZoe),
			effects: []Effect{lg(RecPartyJoined, "zoe", "controlling_agent", "name", "Zoe", "via", "browser"),
				JoinRoom{Party: "zoe"}, Reroute{}, Publish{}},
		},
		{
			name: "a blind-transferred customer is answered: connected, the transfer is over",
			from: func() State { s := stWaiting(); s.Transfer = &Target{Kind: TargetQueue, ID: "billing"}; return s }(),
			cmd:  Join{Party: agentZoe},
			want: with(stQueued(), PhaseConnected, custAnn, agentZoe),
			effects: []Effect{lg(RecPartyJoined, "zoe", "controlling_agent", "name", "Zoe", "via", "browser"),
				JoinRoom{Party: "zoe"}, Reroute{}, Publish{}},
		},
		{
			name: "R29 the caller of a direct call joins its empty call: it waits for the callee",
			from: stQueued(), cmd: Join{Party: agentZoe},
			want: with(stQueued(), PhaseQueued, agentZoe),
			effects: []Effect{lg(RecPartyJoined, "zoe", "controlling_agent", "name", "Zoe", "via", "browser"),
				JoinRoom{Party: "zoe"}, Reroute{}, Publish{}},
		},
		{name: "second customer refused", from: stWaiting(), cmd: Join{Party: custBob}, wantErr: ErrInvalidState},
		{name: "second customer refused once connected", from: stConnected(), cmd: Join{Party: custBob}, wantErr: ErrInvalidState},
		{name: "same customer twice refused", from: stWaiting(), cmd: Join{Party: custAnn}, wantErr: ErrInvalidState},
		{name: "agent joining a ringing call without a customer refused", from: with(stQueued(), PhaseRinging), cmd: Join{Party: agentZoe}, wantErr: ErrInvalidState},
		{name: "second agent without a consult refused", from: stConnected(), cmd: Join{Party: agentMax}, wantErr: ErrInvalidState},
		{name: "second controlling agent refused", from: stConnected(), cmd: Join{Party: as(agentMax, AsControlling)}, wantErr: ErrInvalidState},
		{name: "conferenced agent without a consult refused", from: stConnected(), cmd: Join{Party: as(agentMax, AsConferenced)}, wantErr: ErrInvalidState},
		{name: "same agent twice refused", from: stConnected(), cmd: Join{Party: agentZoe}, wantErr: ErrInvalidState},
		{name: "join without a time refused", from: stWaiting(), cmd: Join{Party: Party{User: agentZoe.User}}, wantErr: ErrBadRequest},
		{
			name: "a customer cannot control a call: forbidden", from: stWaiting(), wantErr: ErrForbidden,
			cmd: Join{Party: Party{User: custBob.User, As: AsControlling, JoinedAt: t0}},
		},
		{
			name: "supervisor is not a party: forbidden", from: stConnected(), wantErr: ErrForbidden,
			cmd: Join{Party: Party{User: UserRef{ID: "sue", Role: Supervisor}, JoinedAt: t0}},
		},
		{
			name: "admin is not a party: forbidden", from: stWaiting(), wantErr: ErrForbidden,
			cmd: Join{Party: Party{User: UserRef{ID: "adm", Role: Admin}, JoinedAt: t0}},
		},
		{
			name: "unknown role forbidden", from: stQueued(), wantErr: ErrForbidden,
			cmd: Join{Party: Party{User: UserRef{ID: "x", Role: Role("robot")}, JoinedAt: t0}},
		},

		// Leaving: R11 any party may hang up; R13 the call ends when fewer than two parties remain,
		// with the leaver's reason; R2 an agent who leaves is released into wrap-up.
		{
			name: "R11 R13 R2 customer hangs up a 1:1 call: it ends, by the customer; the agent is released",
			from: stConnected(), cmd: Leave{Party: "ann", Reason: ReasonHangup},
			want: func() State {
				s := with(stQueued(), PhaseEnded, agentZoe)
				s.Ended = &CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}
				return s
			}(),
			effects: []Effect{
				LeaveRoom{Party: "ann", Reason: ReasonHangup},
				lg(RecPartyLeft, "ann", "customer", "reason", "hangup"),
				Released{Agent: agentZoe.User, Applies: true}, // R2: the agent left behind goes to wrap-up
				lg(RecCallEnded, "ann", "", "reason", "hangup"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}, Reason: ReasonHangup},
			},
		},
		{
			name: "R11 R13 R2 agent hangs up a 1:1 call: it ends, by the agent, who is released",
			from: stConnected(), cmd: Leave{Party: "zoe", Reason: ReasonHangup},
			want: func() State {
				s := with(stQueued(), PhaseEnded, custAnn)
				s.Ended = &CallEnded{CallID: "c1", Reason: "hangup", By: "zoe"}
				return s
			}(),
			effects: []Effect{
				LeaveRoom{Party: "zoe", Reason: ReasonHangup},
				lg(RecPartyLeft, "zoe", "controlling_agent", "reason", "hangup"),
				Released{Agent: agentZoe.User, Applies: true},
				lg(RecCallEnded, "zoe", "", "reason", "hangup"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "hangup", By: "zoe"}, Reason: ReasonHangup},
			},
		},
		{
			name: "R13 agent's transport fails: the call ends with that cause",
			from: stConnected(), cmd: Leave{Party: "zoe", Reason: errCause},
			want: func() State {
				s := with(stQueued(), PhaseEnded, custAnn)
				s.Ended = &CallEnded{CallID: "c1", Reason: "ice_failed", By: "zoe"}
				return s
			}(),
			effects: []Effect{
				LeaveRoom{Party: "zoe", Reason: errCause},
				lg(RecPartyLeft, "zoe", "controlling_agent", "reason", "ice_failed"),
				Released{Agent: agentZoe.User, Applies: true},
				lg(RecCallEnded, "zoe", "", "reason", "ice_failed"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "ice_failed", By: "zoe"}, Reason: errCause},
			},
		},
		{
			name: "R13 a leave without a reason counts as a hangup",
			from: stConnected(), cmd: Leave{Party: "ann"},
			want: func() State {
				s := with(stQueued(), PhaseEnded, agentZoe)
				s.Ended = &CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}
				return s
			}(),
			effects: []Effect{
				LeaveRoom{Party: "ann", Reason: ReasonHangup},
				lg(RecPartyLeft, "ann", "customer", "reason", "hangup"),
				Released{Agent: agentZoe.User, Applies: true}, // R2: the agent left behind goes to wrap-up
				lg(RecCallEnded, "ann", "", "reason", "hangup"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}, Reason: ReasonHangup},
			},
		},
		{
			name: "R13 waiting customer leaves: the call is abandoned (the leg itself is told hangup)",
			from: stWaiting(), cmd: Leave{Party: "ann", Reason: ReasonHangup},
			want: func() State {
				s := with(stQueued(), PhaseEnded)
				s.Parties = []Party{}
				s.Ended = &CallEnded{CallID: "c1", Reason: "abandoned", By: "ann"}
				return s
			}(),
			effects: []Effect{
				LeaveRoom{Party: "ann", Reason: ReasonHangup},
				lg(RecPartyLeft, "ann", "customer", "reason", "hangup"),
				lg(RecCallEnded, "ann", "", "reason", "abandoned"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "abandoned", By: "ann"}, Reason: ReasonAbandoned},
			},
		},
		{
			name: "R13 ringing customer disconnects: the call is abandoned",
			from: stRinging(), cmd: Leave{Party: "ann", Reason: ReasonDisconnected},
			want: func() State {
				s := with(stQueued(), PhaseEnded)
				s.Parties = []Party{}
				s.Ended = &CallEnded{CallID: "c1", Reason: "abandoned", By: "ann"}
				return s
			}(),
			effects: []Effect{
				LeaveRoom{Party: "ann", Reason: ReasonDisconnected},
				lg(RecPartyLeft, "ann", "customer", "reason", "disconnected"),
				lg(RecCallEnded, "ann", "", "reason", "abandoned"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "abandoned", By: "ann"}, Reason: ReasonAbandoned},
			},
		},
		{name: "leave of a stranger: not found", from: stConnected(), cmd: Leave{Party: "eve"}, wantErr: ErrNotFound},

		// End for everyone: by the system (shutdown), or by the controlling agent (R13).
		{
			name: "end a connected call: shutdown, by nobody; the agent is released",
			from: stConnected(), cmd: End{Reason: ReasonShutdown},
			want: func() State {
				s := stConnected()
				s.Phase, s.Ended = PhaseEnded, &CallEnded{CallID: "c1", Reason: "shutdown"}
				return s
			}(),
			effects: []Effect{
				Released{Agent: agentZoe.User, Applies: true},
				lg(RecCallEnded, "", "", "reason", "shutdown"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "shutdown"}, Reason: ReasonShutdown},
			},
		},
		{
			name: "end a waiting call",
			from: stWaiting(), cmd: End{Reason: ReasonMediaFailed},
			want: func() State {
				s := stWaiting()
				s.Phase, s.Ended = PhaseEnded, &CallEnded{CallID: "c1", Reason: "media_failed"}
				return s
			}(),
			effects: []Effect{
				lg(RecCallEnded, "", "", "reason", "media_failed"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "media_failed"}, Reason: ReasonMediaFailed},
			},
		},
		{
			name: "R13 the controlling agent ends the call for everyone",
			from: stConnected(), cmd: End{By: "zoe"},
			want: func() State {
				s := stConnected()
				s.Phase, s.Ended = PhaseEnded, &CallEnded{CallID: "c1", Reason: "ended_by_agent", By: "zoe"}
				return s
			}(),
			effects: []Effect{
				Released{Agent: agentZoe.User, Applies: true},
				lg(RecCallEnded, "zoe", "", "reason", "ended_by_agent"),
				Finish{Ended: CallEnded{CallID: "c1", Reason: "ended_by_agent", By: "zoe"}, Reason: ReasonEndedByAgent},
			},
		},
		{name: "R13 the customer cannot end the call for everyone", from: stConnected(), cmd: End{By: "ann"}, wantErr: ErrForbidden},

		// Media state.
		{
			name: "SetMedia changes only that party",
			from: stConnected(), cmd: SetMedia{Party: "zoe", Audio: false, Video: true},
			want: with(stQueued(), PhaseConnected, custAnn,
				Party{User: agentZoe.User, As: AsControlling, Audio: false, Video: true, JoinedAt: agentZoe.JoinedAt}),
			effects: []Effect{lg(RecMedia, "zoe", "controlling_agent", "audio", "false", "video", "true"), Reroute{}, Publish{}},
		},
		{
			name: "SetMedia of a waiting customer",
			from: stWaiting(), cmd: SetMedia{Party: "ann", Audio: true, Video: false},
			want: with(stQueued(), PhaseQueued,
				Party{User: custAnn.User, As: AsCustomer, Audio: true, Video: false, JoinedAt: t0}),
			effects: []Effect{lg(RecMedia, "ann", "customer", "audio", "true", "video", "false"), Reroute{}, Publish{}},
		},
		{name: "SetMedia of a stranger: not found", from: stConnected(), cmd: SetMedia{Party: "eve", Audio: true}, wantErr: ErrNotFound},
		{
			name: "a phone party has no video to turn on", wantErr: ErrInvalidState,
			from: with(stQueued(), PhaseConnected, Party{User: custAnn.User, As: AsCustomer, Phone: true, Audio: true, JoinedAt: t0}, agentZoe),
			cmd:  SetMedia{Party: "ann", Audio: true, Video: true},
		},

		// Phase moves are routing's business, and only while the call waits.
		{
			name: "queued -> ringing", from: stWaiting(), cmd: SetPhase{Phase: PhaseRinging},
			want: with(stQueued(), PhaseRinging, custAnn), effects: []Effect{Publish{}},
		},
		{
			name: "ringing -> queued (offer withdrawn)", from: stRinging(), cmd: SetPhase{Phase: PhaseQueued},
			want: with(stQueued(), PhaseQueued, custAnn), effects: []Effect{Publish{}},
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
		{name: "ended: hold refused", from: stEnded(), cmd: Hold{By: "zoe", Party: "ann"}, wantErr: ErrInvalidState},

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
				checkRefusal(t, before, got, effects, err, tc.wantErr) // R28
				if err.Error() == tc.wantErr.Error() {
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
			if !reflect.DeepEqual(effects, tc.effects) {
				t.Errorf("effects:\n got %#v\nwant %#v", effects, tc.effects)
			}
		})
	}
}

// A whole one-to-one call through Next alone: arrival, offer, answer, hangup (R1, R11, R13).
func TestNextOneToOneLifecycle(t *testing.T) {
	s := State{ID: "c9", Queue: "sales", Phase: PhaseQueued, Mode: ModeSFU, Media: ModeSFU}
	steps := []struct {
		cmd   Command
		phase Phase
		n     int
	}{
		{Join{Party: as(custAnn, "")}, PhaseQueued, 1},
		{SetPhase{Phase: PhaseRinging}, PhaseRinging, 1},
		{SetPhase{Phase: PhaseQueued}, PhaseQueued, 1}, // declined: back in the queue
		{SetPhase{Phase: PhaseRinging}, PhaseRinging, 1},
		{Join{Party: as(agentZoe, "")}, PhaseConnected, 2},
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
	if s.Parties[0].As != AsCustomer {
		t.Fatalf("the customer joined as %q", s.Parties[0].As)
	}
	if s.Ended == nil || s.Ended.By != "zoe" || s.Ended.Reason != "hangup" || s.Ended.CallID != "c9" {
		t.Fatalf("ended = %+v", s.Ended)
	}
	// After the end, nothing more happens (R13, R28).
	if _, _, err := Next(s, Leave{Party: "ann"}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("leave after end: %v", err)
	}
}

// Next must not write through the caller's Parties (or Supervisors) backing array, even when it has
// spare capacity: the loop keeps the previous state while the next one is built, and a refused
// command must leave it as it was (R28).
func TestNextDoesNotAliasParties(t *testing.T) {
	amy := Party{User: UserRef{ID: "amy", Name: "Amy", Role: Agent}, As: AsConferenced, Audio: true, Video: true, JoinedAt: t0.Add(2 * time.Minute)}
	parties := make([]Party, 3, 8)
	parties[0], parties[1], parties[2] = custAnn, agentZoe, amy
	orig := slices.Clone(parties)
	sups := make([]Watcher, 1, 4)
	sups[0] = Watcher{User: UserRef{ID: "sue", Role: Supervisor}}
	s := State{ID: "c1", Phase: PhaseConnected, Mode: ModeMCU, Media: ModeMCU, Parties: parties, Supervisors: sups, Conference: true}
	spare := parties[:4]

	for _, cmd := range []Command{
		SetMedia{Party: "ann", Audio: false, Video: false},
		Leave{Party: "ann"},
		Leave{Party: "zoe"}, // control passes to amy (R12): written into the copy only
		Leave{Party: "amy"},
		Monitor{Supervisor: UserRef{ID: "sid", Role: Supervisor}},
		StopMonitor{Supervisor: "sue"},
		End{By: "zoe"},
	} {
		if _, _, err := Next(s, cmd); err != nil {
			t.Fatalf("%T: %v", cmd, err)
		}
		if !reflect.DeepEqual(spare[:3], orig) || spare[3] != (Party{}) {
			t.Fatalf("%T wrote into the caller's array: %+v", cmd, spare)
		}
		if sups[:2][0].User.ID != "sue" || sups[:2][1] != (Watcher{}) {
			t.Fatalf("%T wrote into the caller's supervisors: %+v", cmd, sups[:2])
		}
	}
	w := State{ID: "c1", Phase: PhaseQueued, Parties: parties[:1]}
	if _, _, err := Next(w, Join{Party: agentZoe}); err != nil {
		t.Fatal(err)
	}
	if spare[1] != agentZoe || spare[2] != amy {
		t.Fatalf("Join wrote into the caller's array: %+v", spare)
	}
	c := State{ID: "c1", Phase: PhaseConnected, Mode: ModeMCU, Media: ModeMCU, Parties: parties[:2]}
	if _, _, err := Next(c, StartConsult{By: "zoe", Target: Target{Kind: TargetQueue, ID: "sales"}}); err != nil {
		t.Fatal(err)
	}
	if spare[0].Held || spare[2] != amy {
		t.Fatalf("StartConsult wrote into the caller's array: %+v", spare)
	}
}

func TestActions(t *testing.T) {
	mcu := stConnected()
	mcu.Mode, mcu.Media = ModeMCU, ModeMCU
	mcu.Parties[1].Video = true
	consulting := mcu
	consulting.Parties = []Party{{User: custAnn.User, As: AsCustomer, Audio: true, Video: true, Held: true, JoinedAt: t0},
		mcu.Parties[1], as(Party{User: UserRef{ID: "amy", Role: Agent}, Audio: true, Video: true, JoinedAt: t0.Add(2 * time.Minute)}, AsConferenced)}
	consulting.Consult = &Consult{Target: Target{Kind: TargetAgent, ID: "amy"}, Helper: "amy", By: "zoe"}
	held := stConnected()
	held.Parties = []Party{{User: custAnn.User, As: AsCustomer, Audio: true, Video: true, Held: true, JoinedAt: t0}, agentZoe}
	recording := stConnected()
	recording.Recording = true

	tests := []struct {
		name string
		s    State
		p    PartyID
		want []string
	}{
		{"customer waiting", stWaiting(), "ann", []string{"hangup", "media_state"}},
		{"customer connected", stConnected(), "ann", []string{"hangup", "media_state"}},
		// sfu (R3): no help-seeking consult; zoe's camera is off (R19): no screen share.
		{"agent connected, sfu", stConnected(), "zoe", []string{"hangup", "media_state", "end_call", "consult_transfer", "transfer", "hold", "record"}},
		{"agent connected, mcu, all video", mcu, "zoe", []string{"hangup", "media_state", "end_call", "consult", "consult_transfer", "transfer", "hold", "screenshare", "layout", "record"}},
		{"customer connected, mcu, all video", mcu, "ann", []string{"hangup", "media_state", "screenshare", "layout"}},
		{"agent consulting", consulting, "zoe", []string{"hangup", "media_state", "end_call", "cancel_consult", "conference", "complete_transfer", "screenshare", "layout", "record"}},
		{"helper in a consult", consulting, "amy", []string{"hangup", "media_state", "screenshare", "layout"}},
		{"agent with the customer held", held, "zoe", []string{"hangup", "media_state", "end_call", "consult_transfer", "transfer", "resume", "record"}},
		{"agent while recording", recording, "zoe", []string{"hangup", "media_state", "end_call", "consult_transfer", "transfer", "hold", "record", "tag"}},
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
		CallID: "c1", Phase: PhaseConnected, Queue: "sales", Media: ModeSFU,
		Parties: []PartyView{
			{ID: "ann", Name: "Ann", Role: Customer, As: AsCustomer, Audio: true, Video: true},
			{ID: "zoe", Name: "Zoe", Role: Agent, As: AsControlling, Audio: true, Video: false},
		},
		Actions: []string{"hangup", "media_state"},
		Blocked: map[string]string{"screenshare": "screenshare_needs_all_video"}, // R19, said to the UI
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("View:\n got %+v\nwant %+v", got, want)
	}

	// Without supervisors or a consult, only the actions (and why others are blocked) depend on
	// the viewer.
	for _, v := range []PartyID{"zoe", "eve"} {
		other := View(s, v)
		if !reflect.DeepEqual(other.Actions, Actions(s, v)) {
			t.Errorf("%s: actions %q, want %q", v, other.Actions, Actions(s, v))
		}
		other.Actions, other.Blocked = want.Actions, want.Blocked
		if !reflect.DeepEqual(other, want) {
			t.Errorf("%s: view differs by viewer beyond actions: %+v", v, other)
		}
	}
	if a := View(s, "eve").Actions; a != nil {
		t.Errorf("a stranger may do %q", a)
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
	for _, m := range []Mode{ModeSFU, ModeMCU, ModeAuto} {
		if !m.Valid() {
			t.Errorf("mode %s not valid", m)
		}
	}
	for _, m := range []Mode{"", "SFU", "p2p"} {
		if m.Valid() {
			t.Errorf("mode %q valid", m)
		}
	}
}
