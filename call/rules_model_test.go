package call

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Table tests of Next for the rules of RULES.md that the call decides (R3-R28). Each case names
// the rule it proves; a refusal is also checked for R28 (checkRefusal: coded error, state
// unchanged, no effects).

// The people of these calls. Everyone has video on unless a case turns it off.
var (
	pAnn = Party{User: UserRef{ID: "ann", Name: "Ann", Role: Customer}, As: AsCustomer, Audio: true, Video: true, JoinedAt: t0}
	pZoe = Party{User: UserRef{ID: "zoe", Name: "Zoe", Role: Agent}, As: AsControlling, Audio: true, Video: true, JoinedAt: t0.Add(1 * time.Minute)}
	pAmy = Party{User: UserRef{ID: "amy", Name: "Amy", Role: Agent}, As: AsConferenced, Audio: true, Video: true, JoinedAt: t0.Add(2 * time.Minute)}
	pMax = Party{User: UserRef{ID: "max", Name: "Max", Role: Agent}, As: AsConferenced, Audio: true, Video: true, JoinedAt: t0.Add(3 * time.Minute)}
	// A non-agent participant: an external number on a phone (audio only).
	pPat = Party{User: UserRef{ID: "tel:+100", Name: "+100", Role: Customer}, As: AsParticipant, Phone: true, Audio: true, JoinedAt: t0.Add(4 * time.Minute)}
	pPia = Party{User: UserRef{ID: "tel:+200", Name: "+200", Role: Customer}, As: AsParticipant, Phone: true, Audio: true, JoinedAt: t0.Add(5 * time.Minute)}

	sue = UserRef{ID: "sue", Name: "Sue", Role: Supervisor}
	sid = UserRef{ID: "sid", Name: "Sid", Role: Supervisor}

	toAmy   = Target{Kind: TargetAgent, ID: "amy"}
	toSales = Target{Kind: TargetQueue, ID: "sales"}
	toPhone = Target{Kind: TargetNumber, ID: "+100"}
)

// connected is a call in progress in the given service mode: auto starts on the SFU (R5).
func connected(mode Mode, parties ...Party) State {
	media := mode
	if mode == ModeAuto {
		media = ModeSFU
	}
	return State{ID: "c1", Queue: "sales", Phase: PhaseConnected, Mode: mode, Media: media, Parties: slices.Clone(parties)}
}

// conference is a call of three or more parties talking together (R9) on the MCU.
func conference(parties ...Party) State {
	s := connected(ModeMCU, parties...)
	s.Conference = true
	return s
}

// consulting is ann's call in which zoe consults amy (help-seeking, or a consultative transfer):
// ann is on hold (R9, R15); amy has answered when answered is set.
func consulting(mode Mode, transfer, answered bool) State {
	s := connected(mode, held(pAnn), pZoe)
	s.Consult = &Consult{Target: toAmy, Transfer: transfer, By: "zoe"}
	if answered {
		s.Parties = append(s.Parties, pAmy)
		s.Consult.Helper = "amy"
		if mode == ModeAuto && !transfer {
			s.Media = ModeMCU // R5: the helper's arrival moved it
		}
	}
	return s
}

// assist is a call in wrap-up assist: the customer left, zoe and amy remain (R14).
func assist() State {
	s := connected(ModeMCU, pZoe, pAmy)
	s.Assist = true
	return s
}

func held(p Party) Party    { p.Held = true; return p }
func noVideo(p Party) Party { p.Video = false; return p }
func monitoring(u UserRef) Watcher {
	return Watcher{User: u}
}
func barging(u UserRef) Watcher { return Watcher{User: u, Barge: true} }

func withSupervisors(s State, w ...Watcher) State { s.Supervisors = w; return s }

// ruleCase is one command applied to one state: refused with wantErr, or accepted and checked.
type ruleCase struct {
	name    string
	from    State
	cmd     Command
	wantErr error
	check   func(t *testing.T, s State, fx []Effect)
}

func runRules(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := deepCopy(tc.from)
			got, fx, err := Next(tc.from, tc.cmd)
			if !reflect.DeepEqual(tc.from, before) {
				t.Fatalf("Next modified its input:\n got %+v\nwant %+v", tc.from, before)
			}
			if tc.wantErr != nil {
				checkRefusal(t, before, got, fx, err, tc.wantErr) // R28
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.check == nil {
				t.Fatal("case checks nothing")
			}
			tc.check(t, got, fx)
		})
	}
}

// apply runs cmds through Next one after the other and fails on a refusal.
func apply(t *testing.T, s State, cmds ...Command) (State, []Effect) {
	t.Helper()
	var all []Effect
	for _, cmd := range cmds {
		var fx []Effect
		var err error
		if s, fx, err = Next(s, cmd); err != nil {
			t.Fatalf("%T %+v: %v", cmd, cmd, err)
		}
		all = append(all, fx...)
	}
	return s, all
}

// Effect helpers.

func has(t *testing.T, fx []Effect, want ...Effect) {
	t.Helper()
	for _, w := range want {
		if !slices.ContainsFunc(fx, func(e Effect) bool { return reflect.DeepEqual(e, w) }) {
			t.Errorf("no effect %#v in\n%#v", w, fx)
		}
	}
}

func hasNo[T Effect](t *testing.T, fx []Effect) {
	t.Helper()
	for _, e := range fx {
		if _, is := e.(T); is {
			t.Errorf("unexpected effect %#v", e)
		}
	}
}

// at is the position of the first effect equal to e (-1: none).
func at(fx []Effect, e Effect) int {
	return slices.IndexFunc(fx, func(x Effect) bool { return reflect.DeepEqual(x, e) })
}

// hasLog checks for a Log effect of type typ by actor whose data include kv (R25).
func hasLog(t *testing.T, fx []Effect, typ, actor string, kv ...string) {
	t.Helper()
	for _, e := range fx {
		l, ok := e.(Log)
		if !ok || l.Type != typ || l.Actor != actor {
			continue
		}
		match := true
		for i := 0; i+1 < len(kv); i += 2 {
			match = match && l.Data[kv[i]] == kv[i+1]
		}
		if match {
			return
		}
	}
	t.Errorf("no %s record by %q with %v in\n%#v", typ, actor, kv, fx)
}

func hasNoLog(t *testing.T, fx []Effect, typ string) {
	t.Helper()
	for _, e := range fx {
		if l, ok := e.(Log); ok && l.Type == typ {
			t.Errorf("unexpected record %#v", l)
		}
	}
}

// State helpers.

func partyOf(t *testing.T, s State, id PartyID) Party {
	t.Helper()
	p, ok := s.party(id)
	if !ok {
		t.Fatalf("%s is not a party of %+v", id, s.Parties)
	}
	return p
}

func ids(s State) []PartyID {
	var out []PartyID
	for _, p := range s.Parties {
		out = append(out, p.ID())
	}
	return out
}

func wantParties(t *testing.T, s State, want ...PartyID) {
	t.Helper()
	if got := ids(s); !reflect.DeepEqual(got, want) {
		t.Errorf("parties %v, want %v", got, want)
	}
}

func wantOn(t *testing.T, s State, phase Phase) {
	t.Helper()
	if s.Phase != phase {
		t.Errorf("phase %s, want %s (ended %+v)", s.Phase, phase, s.Ended)
	}
}

// R3: in sfu mode a call carries at most two parties: help-seeking and conference are refused with
// mode_forbids_multiparty, whatever the target; a consultative transfer (which ends with two
// parties again) is allowed.
func TestR3SFUForbidsMultiparty(t *testing.T) { // R3
	sfu := connected(ModeSFU, pAnn, pZoe)
	runRules(t, []ruleCase{
		{name: "R3 help from a named agent", from: sfu, cmd: StartConsult{By: "zoe", Target: toAmy}, wantErr: ErrModeMultiparty},
		{name: "R3 help from a queue", from: sfu, cmd: StartConsult{By: "zoe", Target: toSales}, wantErr: ErrModeMultiparty},
		{name: "R3 help from a number", from: sfu, cmd: StartConsult{By: "zoe", Target: toPhone}, wantErr: ErrModeMultiparty},
		{
			name: "R3 conference from a transfer consult", from: consulting(ModeSFU, true, true),
			cmd: StartConference{By: "zoe"}, wantErr: ErrModeMultiparty,
		},
		{
			name: "R3 consultative transfer allowed", from: sfu, cmd: StartConsult{By: "zoe", Target: toAmy, Transfer: true},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Consult == nil || *s.Consult != (Consult{Target: toAmy, Transfer: true, By: "zoe", Ringing: true}) {
					t.Errorf("consult = %+v", s.Consult)
				}
				has(t, fx, Ring{Target: toAmy, Transfer: true})
				hasLog(t, fx, RecConsultStarted, "zoe", "purpose", "transfer", "target_kind", "agent", "target", "amy")
				if s.Media != ModeSFU {
					t.Errorf("media %s", s.Media)
				}
			},
		},
		{
			name: "R3 the transfer target joins: the call stays on the SFU", from: consulting(ModeSFU, true, false),
			cmd: Join{Party: as(pAmy, "")},
			check: func(t *testing.T, s State, fx []Effect) {
				wantParties(t, s, "ann", "zoe", "amy")
				if p := partyOf(t, s, "amy"); p.As != AsConferenced || s.Consult.Helper != "amy" {
					t.Errorf("amy joined as %s; consult %+v", p.As, s.Consult)
				}
				if s.Media != ModeSFU {
					t.Errorf("media %s", s.Media)
				}
				hasNo[SwitchMedia](t, fx)
			},
		},
	})
	if CodeOf(ErrModeMultiparty) != "mode_forbids_multiparty" {
		t.Errorf("code %q", CodeOf(ErrModeMultiparty))
	}
}

// R4: in mcu mode three-party and larger calls are allowed, and nothing moves: the call is on the
// MCU from the start.
func TestR4MCUAllowsMultiparty(t *testing.T) { // R4
	runRules(t, []ruleCase{
		{
			name: "R4 help-seeking consult", from: connected(ModeMCU, pAnn, pZoe), cmd: StartConsult{By: "zoe", Target: toSales},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Consult == nil || s.Consult.Transfer || s.Consult.Target != toSales {
					t.Errorf("consult = %+v", s.Consult)
				}
				has(t, fx, Ring{Target: toSales})
			},
		},
		{
			name: "R4 the helper joins", from: consulting(ModeMCU, false, false), cmd: Join{Party: as(pAmy, "")},
			check: func(t *testing.T, s State, fx []Effect) {
				wantParties(t, s, "ann", "zoe", "amy")
				if s.Media != ModeMCU {
					t.Errorf("media %s", s.Media)
				}
				hasNo[SwitchMedia](t, fx)
				hasNoLog(t, fx, RecModeChanged)
			},
		},
		{
			name: "R4 conference", from: consulting(ModeMCU, false, true), cmd: StartConference{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				if !s.Conference || s.Media != ModeMCU {
					t.Errorf("conference %v on %s", s.Conference, s.Media)
				}
				hasNo[SwitchMedia](t, fx)
			},
		},
	})
}

// R5: an auto call starts on the SFU and moves to the MCU when a third party is added for help,
// while the call goes on: one SwitchMedia effect (the loop moves every leg; nobody re-joins) and a
// mode record. Its mode stays auto.
func TestR5AutoMovesToMCU(t *testing.T) { // R5
	runRules(t, []ruleCase{
		{
			name: "R5 a consult alone does not move the call", from: connected(ModeAuto, pAnn, pZoe), cmd: StartConsult{By: "zoe", Target: toAmy},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Media != ModeSFU {
					t.Errorf("media %s", s.Media)
				}
				hasNo[SwitchMedia](t, fx)
			},
		},
		{
			name: "R5 the helper joins: the call moves to the MCU", from: consulting(ModeAuto, false, false), cmd: Join{Party: as(pAmy, "")},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Media != ModeMCU || s.Mode != ModeAuto {
					t.Errorf("mode %s media %s, want auto on mcu", s.Mode, s.Media)
				}
				has(t, fx, SwitchMedia{To: ModeMCU}, lg(RecModeChanged, "", "system", "mode", "mcu"))
				// The helper joins the room the call is in, then the move takes everyone along;
				// routing is applied to the new room.
				join, sw, rr := at(fx, JoinRoom{Party: "amy"}), at(fx, SwitchMedia{To: ModeMCU}), at(fx, Reroute{})
				if join < 0 || !(join < sw && sw < rr) {
					t.Errorf("effects out of order (join %d, switch %d, reroute %d): %#v", join, sw, rr, fx)
				}
			},
		},
		{
			name: "R5 a transfer target joins: no move (two parties again after the transfer)",
			from: consulting(ModeAuto, true, false), cmd: Join{Party: as(pAmy, "")},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Media != ModeSFU {
					t.Errorf("media %s", s.Media)
				}
				hasNo[SwitchMedia](t, fx)
			},
		},
		{
			name: "R5 a conference started from a transfer consult moves the call",
			from: consulting(ModeAuto, true, true), cmd: StartConference{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Media != ModeMCU || !s.Conference {
					t.Errorf("media %s conference %v", s.Media, s.Conference)
				}
				has(t, fx, SwitchMedia{To: ModeMCU})
				hasLog(t, fx, RecModeChanged, "", "mode", "mcu")
			},
		},
		{
			name: "R5 a conference after the move does not move it again",
			from: consulting(ModeAuto, false, true), cmd: StartConference{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Media != ModeMCU {
					t.Errorf("media %s", s.Media)
				}
				hasNo[SwitchMedia](t, fx)
			},
		},
	})
}

// R7: only an agent adds participants (or uses any call control): the customer and non-agent
// participants are refused with forbidden.
func TestR7OnlyAgentsAddParticipants(t *testing.T) { // R7
	conf := conference(pAnn, pZoe, pPat)
	cons := consulting(ModeMCU, false, true)
	var cases []ruleCase
	for _, who := range []PartyID{"ann", "tel:+100"} {
		for _, cmd := range []Command{
			StartConsult{By: who, Target: toAmy},
			StartConsult{By: who, Target: toSales, Transfer: true},
			BlindTransfer{By: who, Target: toSales},
			Hold{By: who, Party: "ann"},
			End{By: who},
			SetRecording{By: who, On: true},
		} {
			cases = append(cases, ruleCase{name: "R7 " + string(who) + " " + typeName(cmd), from: conf, cmd: cmd, wantErr: ErrForbidden})
		}
	}
	for _, cmd := range []Command{StartConference{By: "ann"}, CompleteTransfer{By: "ann"}, CancelConsult{By: "ann"}, Resume{By: "ann", Party: "ann"}} {
		cases = append(cases, ruleCase{name: "R7 ann " + typeName(cmd) + " in a consult", from: cons, cmd: cmd, wantErr: ErrForbidden})
	}
	runRules(t, cases)
}

func typeName(cmd Command) string { return strings.TrimPrefix(reflect.TypeOf(cmd).String(), "call.") }

// R8: the controlling agent seeks help (from a queue, an agent or a number); a conferenced agent
// may not. (Which agent a queue gives, and unreachable targets, are the center's: see
// TestR8ConsultQueuePicksLongestIdle and TestR8ConsultTargetUnreachable.)
func TestR8OnlyTheControllingAgentSeeksHelp(t *testing.T) { // R8
	conf := conference(pAnn, pZoe, pAmy)
	runRules(t, []ruleCase{
		{name: "R8 conferenced agent consults", from: conf, cmd: StartConsult{By: "amy", Target: toSales}, wantErr: ErrForbidden},
		{name: "R8 conferenced agent starts a transfer", from: conf, cmd: StartConsult{By: "amy", Target: toSales, Transfer: true}, wantErr: ErrForbidden},
		{name: "R8 conferenced agent blind-transfers", from: conf, cmd: BlindTransfer{By: "amy", Target: toSales}, wantErr: ErrForbidden},
		{name: "R8 unknown target kind", from: conf, cmd: StartConsult{By: "zoe", Target: Target{Kind: "room", ID: "x"}}, wantErr: ErrBadRequest},
		{name: "R8 empty target", from: conf, cmd: StartConsult{By: "zoe", Target: Target{Kind: TargetAgent}}, wantErr: ErrBadRequest},
		{name: "R8 a stranger consults", from: conf, cmd: StartConsult{By: "eve", Target: toSales}, wantErr: ErrNotFound},
		{name: "R8 a second consult while one runs", from: consulting(ModeMCU, false, false), cmd: StartConsult{By: "zoe", Target: toSales}, wantErr: ErrInvalidState},
	})
	for _, target := range []Target{toAmy, toSales, toPhone} {
		s, fx := apply(t, conf, StartConsult{By: "zoe", Target: target})
		if s.Consult == nil || s.Consult.Target != target || s.Consult.By != "zoe" {
			t.Errorf("R8 consult of %+v = %+v", target, s.Consult)
		}
		has(t, fx, Ring{Target: target})
		hasLog(t, fx, RecConsultStarted, "zoe", "target_kind", string(target.Kind), "target", target.ID, "purpose", "consult")
	}
}

// R9: a consult puts the customer on hold while the agent talks to the helper; from it the agent
// starts the conference (customer off hold, all talk together) or cancels (helper dropped,
// customer resumed).
func TestR9ConsultConferenceCancel(t *testing.T) { // R9
	runRules(t, []ruleCase{
		{
			name: "R9 consult holds the customer", from: connected(ModeMCU, pAnn, pZoe), cmd: StartConsult{By: "zoe", Target: toAmy},
			check: func(t *testing.T, s State, fx []Effect) {
				if !partyOf(t, s, "ann").Held || partyOf(t, s, "zoe").Held {
					t.Errorf("parties %+v", s.Parties)
				}
				hasLog(t, fx, RecHold, "zoe", "party", "ann")
				has(t, fx, Ring{Target: toAmy}, Reroute{}, Publish{})
				if rt := RoutingOf(s); !rt["ann"].Music || len(rt["zoe"].From) != 0 {
					t.Errorf("routing %+v", rt)
				}
			},
		},
		{
			name: "R9 conference: the customer is taken off hold, all talk together", from: consulting(ModeMCU, false, true),
			cmd: StartConference{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Consult != nil || !s.Conference || partyOf(t, s, "ann").Held {
					t.Errorf("state %+v", s)
				}
				hasLog(t, fx, RecConferenceStarted, "zoe")
				hasLog(t, fx, RecResume, "", "party", "ann")
				rt := RoutingOf(s)
				for id, from := range map[PartyID][]PartyID{"ann": {"zoe", "amy"}, "zoe": {"ann", "amy"}, "amy": {"ann", "zoe"}} {
					if !reflect.DeepEqual(rt[id].From, from) || rt[id].Music {
						t.Errorf("%s receives %+v, want %v", id, rt[id], from)
					}
				}
			},
		},
		{
			name: "R9 cancel: the helper is dropped, the customer resumed", from: consulting(ModeMCU, false, true),
			cmd: CancelConsult{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantParties(t, s, "ann", "zoe")
				if s.Consult != nil || partyOf(t, s, "ann").Held || s.Conference {
					t.Errorf("state %+v", s)
				}
				has(t, fx, LeaveRoom{Party: "amy", Reason: ReasonConsultEnded}, Released{Agent: pAmy.User, Applies: false})
				hasLog(t, fx, RecConsultEnded, "zoe", "outcome", "cancelled")
				hasLog(t, fx, RecResume, "", "party", "ann")
			},
		},
		{name: "R9 conference before the helper answered", from: consulting(ModeMCU, false, false), cmd: StartConference{By: "zoe"}, wantErr: ErrInvalidState},
		{name: "R9 conference without a consult", from: connected(ModeMCU, pAnn, pZoe), cmd: StartConference{By: "zoe"}, wantErr: ErrInvalidState},
		{name: "R9 the helper starts the conference", from: consulting(ModeMCU, false, true), cmd: StartConference{By: "amy"}, wantErr: ErrForbidden},
		{name: "R9 resume during a consult (conference or cancel instead)", from: consulting(ModeMCU, false, true), cmd: Resume{By: "zoe", Party: "ann"}, wantErr: ErrInvalidState},
		{name: "R9 cancel without a consult", from: connected(ModeMCU, pAnn, pZoe), cmd: CancelConsult{By: "zoe"}, wantErr: ErrInvalidState},
	})
}

// R10: at most 8 parties, the customer and the controlling agent included; a ninth is refused
// with conference_full.
func TestR10ConferenceFull(t *testing.T) { // R10
	var eight []Party
	eight = append(eight, pAnn, pZoe)
	for i := range 6 {
		p := pAmy
		p.User.ID = "a" + string(rune('1'+i))
		p.JoinedAt = t0.Add(time.Duration(2+i) * time.Minute)
		eight = append(eight, p)
	}
	full := conference(eight...)
	seven := conference(eight[:7]...)
	sevenRinging := seven
	sevenRinging.Consult = &Consult{Target: toAmy, By: "zoe"}
	fullRinging := full
	fullRinging.Consult = &Consult{Target: toAmy, By: "zoe"}
	if MaxParties != 8 {
		t.Fatalf("MaxParties = %d", MaxParties)
	}
	runRules(t, []ruleCase{
		{name: "R10 consult from a call of 8", from: full, cmd: StartConsult{By: "zoe", Target: toAmy}, wantErr: ErrConferenceFull},
		{name: "R10 transfer consult from a call of 8", from: full, cmd: StartConsult{By: "zoe", Target: toAmy, Transfer: true}, wantErr: ErrConferenceFull},
		{name: "R10 a ninth joins", from: fullRinging, cmd: Join{Party: as(pAmy, "")}, wantErr: ErrConferenceFull},
		{name: "R10 a ninth participant joins", from: fullRinging, cmd: Join{Party: pPat}, wantErr: ErrConferenceFull},
		{
			name: "R10 the eighth joins", from: sevenRinging, cmd: Join{Party: as(pAmy, "")},
			check: func(t *testing.T, s State, fx []Effect) {
				if len(s.Parties) != 8 {
					t.Errorf("%d parties", len(s.Parties))
				}
			},
		},
		{
			name: "R10 a consult from a call of 7", from: seven, cmd: StartConsult{By: "zoe", Target: toAmy},
			check: func(t *testing.T, s State, fx []Effect) { has(t, fx, Ring{Target: toAmy}) },
		},
	})
}

// R11: any party may hang up; the call goes on among the others while R13 allows.
func TestR11AnyPartyHangsUp(t *testing.T) { // R11
	runRules(t, []ruleCase{
		{
			name: "R11 a conferenced agent hangs up a three-party conference", from: conference(pAnn, pZoe, pAmy),
			cmd: Leave{Party: "amy", Reason: ReasonHangup},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				wantParties(t, s, "ann", "zoe")
				if s.Conference {
					t.Error("two parties are no conference")
				}
				has(t, fx, LeaveRoom{Party: "amy", Reason: ReasonHangup}, Released{Agent: pAmy.User, Applies: false}, Reroute{}, Publish{})
				hasLog(t, fx, RecPartyLeft, "amy", "reason", "hangup")
				hasNo[Finish](t, fx)
			},
		},
		{
			name: "R11 a participant hangs up a four-party conference", from: conference(pAnn, pZoe, pAmy, pPat),
			cmd: Leave{Party: "tel:+100", Reason: ReasonHangup},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				wantParties(t, s, "ann", "zoe", "amy")
				if !s.Conference {
					t.Error("three parties still talk together")
				}
				hasNo[Released](t, fx)
				hasNo[Finish](t, fx)
			},
		},
		{
			name: "R11 the helper hangs up a consult", from: consulting(ModeMCU, false, true), cmd: Leave{Party: "amy"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				wantParties(t, s, "ann", "zoe")
			},
		},
	})
}

// R12: when the controlling agent exits, control passes to the agent who has been in the call
// longest (by join time, not by position); a conferenced agent who exits just leaves.
func TestR12ControlPasses(t *testing.T) { // R12
	// max is listed before amy but joined after her.
	conf := conference(pAnn, pZoe, pMax, pAmy)
	runRules(t, []ruleCase{
		{
			name: "R12 the controlling agent exits: the longest-present agent takes control", from: conf,
			cmd: Leave{Party: "zoe", Reason: ReasonExited},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				wantParties(t, s, "ann", "max", "amy")
				if partyOf(t, s, "amy").As != AsControlling || partyOf(t, s, "max").As != AsConferenced {
					t.Errorf("parties %+v", s.Parties)
				}
				hasLog(t, fx, RecControlPassed, "amy")
				has(t, fx, Released{Agent: pZoe.User, Applies: true})
				// amy may now do what only the controlling agent does.
				if _, _, err := Next(s, End{By: "amy"}); err != nil {
					t.Errorf("amy cannot end the call: %v", err)
				}
			},
		},
		{
			name: "R12 a conferenced agent exits: control stays", from: conf, cmd: Leave{Party: "amy", Reason: ReasonExited},
			check: func(t *testing.T, s State, fx []Effect) {
				wantParties(t, s, "ann", "zoe", "max")
				if partyOf(t, s, "zoe").As != AsControlling || partyOf(t, s, "max").As != AsConferenced {
					t.Errorf("parties %+v", s.Parties)
				}
				hasNoLog(t, fx, RecControlPassed)
				has(t, fx, Released{Agent: pAmy.User, Applies: false})
			},
		},
		{
			name: "R12 the controlling agent exits, no other agent: nobody controls", from: conference(pAnn, pZoe, pPat, pPia),
			cmd: Leave{Party: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				if _, ok := s.controlling(); ok {
					t.Errorf("a participant took control: %+v", s.Parties)
				}
				hasNoLog(t, fx, RecControlPassed)
			},
		},
	})
}

// R13: the call ends when fewer than two parties remain, or when neither the customer nor any agent
// remains; the controlling agent (only) can end it for everyone.
func TestR13WhenTheCallEnds(t *testing.T) { // R13
	// Two participants, a customer and an agent: the agent leaves (the customer remains), then the
	// customer leaves: two participants remain, but nobody the call is for.
	s, _ := apply(t, conference(pAnn, pZoe, pPat, pPia), Leave{Party: "zoe"})
	wantOn(t, s, PhaseConnected)

	ringing := conference(pAnn, pZoe, pAmy)
	ringing.Consult = &Consult{Target: toSales, By: "zoe"}
	runRules(t, []ruleCase{
		{
			name: "R13 no customer and no agent remain", from: s, cmd: Leave{Party: "ann", Reason: ReasonHangup},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseEnded)
				if s.Ended == nil || *s.Ended != (CallEnded{CallID: "c1", Reason: "hangup", By: "ann"}) {
					t.Errorf("ended %+v", s.Ended)
				}
				has(t, fx, Finish{Ended: *s.Ended, Reason: ReasonHangup})
				hasLog(t, fx, RecCallEnded, "ann", "reason", "hangup")
			},
		},
		{
			name: "R13 one party left in wrap-up assist", from: assist(), cmd: Leave{Party: "amy", Reason: ReasonExited},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseEnded)
				has(t, fx, Released{Agent: pZoe.User, Applies: true}, Released{Agent: pAmy.User, Applies: false})
			},
		},
		{
			name: "R13 the controlling agent ends a conference for everyone", from: ringing, cmd: End{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseEnded)
				if s.Ended == nil || *s.Ended != (CallEnded{CallID: "c1", Reason: "ended_by_agent", By: "zoe"}) {
					t.Errorf("ended %+v", s.Ended)
				}
				// Every agent goes to wrap-up (R2); only the controlling agent's reason is the call's (R27);
				// the consult still ringing is withdrawn.
				has(t, fx, Released{Agent: pZoe.User, Applies: true}, Released{Agent: pAmy.User, Applies: false},
					CancelRing{Target: toSales}, Finish{Ended: *s.Ended, Reason: ReasonEndedByAgent})
			},
		},
		{name: "R13 a conferenced agent cannot end the call", from: ringing, cmd: End{By: "amy"}, wantErr: ErrForbidden},
		{name: "R13 the customer cannot end the call", from: ringing, cmd: End{By: "ann"}, wantErr: ErrForbidden},
		{name: "R13 a stranger cannot end the call", from: ringing, cmd: End{By: "eve"}, wantErr: ErrNotFound},
	})
}

// R14: when the customer leaves while agents remain, the call enters wrap-up assist: the others go
// on talking, nobody can be added, and hold, resume and consult are refused with wrapup_assist.
func TestR14WrapupAssist(t *testing.T) { // R14
	assistRinging := assist() // a consult left ringing: its helper may not join any more
	assistRinging.Consult = &Consult{Target: toSales, By: "zoe"}
	runRules(t, []ruleCase{
		{
			name: "R14 the customer leaves a conference of two agents", from: conference(pAnn, pZoe, pAmy), cmd: Leave{Party: "ann"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				wantParties(t, s, "zoe", "amy")
				if !s.Assist {
					t.Error("not in wrap-up assist")
				}
				hasLog(t, fx, RecWrapupAssist, "")
				hasNo[Released](t, fx)
				if rt := RoutingOf(s); !reflect.DeepEqual(rt["zoe"].From, []PartyID{"amy"}) {
					t.Errorf("zoe and amy do not talk: %+v", rt)
				}
			},
		},
		{
			name: "R14 the customer leaves an agent and a participant", from: conference(pAnn, pZoe, pPat), cmd: Leave{Party: "ann"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				if !s.Assist {
					t.Error("not in wrap-up assist")
				}
			},
		},
		{name: "R14 consult", from: assist(), cmd: StartConsult{By: "zoe", Target: toSales}, wantErr: ErrWrapupAssist},
		{name: "R14 transfer consult", from: assist(), cmd: StartConsult{By: "zoe", Target: toAmy, Transfer: true}, wantErr: ErrWrapupAssist},
		{name: "R14 hold", from: assist(), cmd: Hold{By: "zoe", Party: "amy"}, wantErr: ErrWrapupAssist},
		{name: "R14 resume", from: func() State { s := assist(); s.Parties[1].Held = true; return s }(), cmd: Resume{By: "zoe", Party: "amy"}, wantErr: ErrWrapupAssist},
		{name: "R14 blind transfer", from: assist(), cmd: BlindTransfer{By: "zoe", Target: toSales}, wantErr: ErrWrapupAssist},
		{name: "R14 an agent joins", from: assistRinging, cmd: Join{Party: as(pMax, "")}, wantErr: ErrWrapupAssist},
		{name: "R14 a participant joins", from: assistRinging, cmd: Join{Party: pPat}, wantErr: ErrWrapupAssist},
		{
			name: "R14 the agents may go on (media, recording)", from: assist(), cmd: SetMedia{Party: "amy", Audio: true},
			check: func(t *testing.T, s State, fx []Effect) { wantOn(t, s, PhaseConnected) },
		},
	})
	if CodeOf(ErrWrapupAssist) != "wrapup_assist" {
		t.Errorf("code %q", CodeOf(ErrWrapupAssist))
	}
}

// R15: an agent holds the customer in a two-party call; the held party hears music and sends no
// audio or video to anyone (parties and supervisors alike); resume returns them.
func TestR15Hold(t *testing.T) { // R15
	one := connected(ModeSFU, pAnn, pZoe)
	runRules(t, []ruleCase{
		{
			name: "R15 hold the customer", from: one, cmd: Hold{By: "zoe", Party: "ann"},
			check: func(t *testing.T, s State, fx []Effect) {
				if !partyOf(t, s, "ann").Held {
					t.Error("ann not held")
				}
				has(t, fx, lg(RecHold, "zoe", "controlling_agent", "party", "ann"), Reroute{}, Publish{})
				if rt := RoutingOf(s); !reflect.DeepEqual(rt["ann"], Reception{Music: true}) || len(rt["zoe"].From) != 0 {
					t.Errorf("routing %+v", rt)
				}
			},
		},
		{
			name: "R15 hold without naming the party holds the customer", from: one, cmd: Hold{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				if !partyOf(t, s, "ann").Held {
					t.Error("ann not held")
				}
			},
		},
		{
			name: "R15 resume", from: connected(ModeSFU, held(pAnn), pZoe), cmd: Resume{By: "zoe", Party: "ann"},
			check: func(t *testing.T, s State, fx []Effect) {
				if partyOf(t, s, "ann").Held {
					t.Error("ann still held")
				}
				has(t, fx, lg(RecResume, "zoe", "controlling_agent", "party", "ann"), Reroute{})
				if rt := RoutingOf(s); !reflect.DeepEqual(rt["ann"].From, []PartyID{"zoe"}) || !reflect.DeepEqual(rt["zoe"].From, []PartyID{"ann"}) {
					t.Errorf("routing %+v", rt)
				}
			},
		},
		{name: "R15 the customer holds", from: one, cmd: Hold{By: "ann", Party: "ann"}, wantErr: ErrForbidden},
		{name: "R15 hold an agent", from: one, cmd: Hold{By: "zoe", Party: "zoe"}, wantErr: ErrInvalidState},
		{name: "R15 hold twice", from: connected(ModeSFU, held(pAnn), pZoe), cmd: Hold{By: "zoe", Party: "ann"}, wantErr: ErrInvalidState},
		{name: "R15 resume who is not held", from: one, cmd: Resume{By: "zoe", Party: "ann"}, wantErr: ErrInvalidState},
		{name: "R15 hold a stranger", from: one, cmd: Hold{By: "zoe", Party: "eve"}, wantErr: ErrNotFound},
	})
}

// R15, R23: who receives whom. A held party hears music and is received by nobody; a monitoring
// supervisor receives every talking party and is received by nobody; a barging supervisor is heard
// and seen by every talking party (and by the other supervisors).
func TestRoutingOf(t *testing.T) { // R15 R23
	s := consulting(ModeMCU, false, true) // ann held, zoe consulting amy
	s.Supervisors = []Watcher{monitoring(sue), barging(sid)}
	want := Routing{
		"ann": {Music: true},
		"zoe": {From: []PartyID{"amy", "sid"}},
		"amy": {From: []PartyID{"zoe", "sid"}},
		"sue": {From: []PartyID{"zoe", "amy", "sid"}},
		"sid": {From: []PartyID{"zoe", "amy"}},
	}
	got := RoutingOf(s)
	for id, r := range got {
		r.Picture = Picture{} // TestPicture covers it
		got[id] = r
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("routing:\n got %+v\nwant %+v", got, want)
	}
	for id, r := range RoutingOf(s) {
		if slices.Contains(r.From, "ann") {
			t.Errorf("R15: %s receives the held customer", id)
		}
		if slices.Contains(r.From, "sue") {
			t.Errorf("R23: %s receives the silent supervisor", id)
		}
	}

	// A waiting customer hears music (queue) and nobody else is there.
	if got := RoutingOf(stWaiting()); !reflect.DeepEqual(got, Routing{"ann": {Music: true}}) {
		t.Errorf("waiting: %+v", got)
	}
}

// R16: during a conference (three or more talking) hold is refused with hold_in_conference.
func TestR16NoHoldInConference(t *testing.T) { // R16
	talking3 := connected(ModeMCU, pAnn, pZoe, pAmy) // three talking, though no conference was started
	runRules(t, []ruleCase{
		{name: "R16 hold the customer in a conference", from: conference(pAnn, pZoe, pAmy), cmd: Hold{By: "zoe", Party: "ann"}, wantErr: ErrHoldConference},
		{name: "R16 hold a participant in a conference", from: conference(pAnn, pZoe, pPat), cmd: Hold{By: "zoe", Party: "tel:+100"}, wantErr: ErrHoldConference},
		{name: "R16 a conferenced agent holds", from: conference(pAnn, pZoe, pAmy), cmd: Hold{By: "amy", Party: "ann"}, wantErr: ErrHoldConference},
		{name: "R16 three talking", from: talking3, cmd: Hold{By: "zoe", Party: "ann"}, wantErr: ErrHoldConference},
	})
	if CodeOf(ErrHoldConference) != "hold_in_conference" {
		t.Errorf("code %q", CodeOf(ErrHoldConference))
	}
}

// R17: a blind transfer hands the customer over at once: the agent is released into wrap-up, the
// customer waits (music) for the target, and it cannot be undone (the agent is no party any more).
func TestR17BlindTransfer(t *testing.T) { // R17
	to := Target{Kind: TargetQueue, ID: "billing"}
	one := connected(ModeSFU, held(pAnn), pZoe)
	runRules(t, []ruleCase{
		{
			name: "R17 blind transfer to a queue", from: one, cmd: BlindTransfer{By: "zoe", Target: to},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseQueued)
				wantParties(t, s, "ann")
				if s.Transfer == nil || *s.Transfer != to || partyOf(t, s, "ann").Held {
					t.Errorf("state %+v", s)
				}
				want := []Effect{
					lg(RecTransferred, "zoe", "controlling_agent", "kind", "blind", "target_kind", "queue", "target", "billing"),
					lg(RecPartyLeft, "zoe", "controlling_agent", "reason", "transferred"),
					LeaveRoom{Party: "zoe", Reason: ReasonTransferred},
					Released{Agent: pZoe.User, Applies: true},
					Requeue{Target: to},
					Reroute{}, Publish{},
				}
				if !reflect.DeepEqual(fx, want) {
					t.Errorf("effects:\n got %#v\nwant %#v", fx, want)
				}
				if rt := RoutingOf(s); !rt["ann"].Music {
					t.Errorf("the customer waits without music: %+v", rt)
				}
				// It cannot be undone.
				for _, cmd := range []Command{CancelConsult{By: "zoe"}, BlindTransfer{By: "zoe", Target: toSales}, End{By: "zoe"}} {
					if _, _, err := Next(s, cmd); CodeOf(err) != "not_found" {
						t.Errorf("%T after the transfer: %v", cmd, err)
					}
				}
			},
		},
		{
			name: "R17 to a named agent", from: one, cmd: BlindTransfer{By: "zoe", Target: toAmy},
			check: func(t *testing.T, s State, fx []Effect) { has(t, fx, Requeue{Target: toAmy}) },
		},
		{name: "R17 in a conference", from: conference(pAnn, pZoe, pAmy), cmd: BlindTransfer{By: "zoe", Target: to}, wantErr: ErrInvalidState},
		{name: "R17 during a consult", from: consulting(ModeMCU, false, false), cmd: BlindTransfer{By: "zoe", Target: to}, wantErr: ErrInvalidState},
		{name: "R17 bad target", from: one, cmd: BlindTransfer{By: "zoe", Target: Target{Kind: TargetQueue}}, wantErr: ErrBadRequest},
		{name: "R17 no customer (direct call)", from: connected(ModeSFU, pZoe, pAmy), cmd: BlindTransfer{By: "zoe", Target: to}, wantErr: ErrInvalidState},
	})
}

// R18: consultative transfer. The target accepts: the agent drops out and the customer is joined
// with the target, who takes control. The target declines or hangs up: the agent is back with the
// customer. The agent cancels while it rings: the ringing stops.
func TestR18ConsultativeTransfer(t *testing.T) { // R18
	runRules(t, []ruleCase{
		{
			name: "R18 complete: the agent drops out, the target controls", from: consulting(ModeSFU, true, true),
			cmd: CompleteTransfer{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				wantParties(t, s, "ann", "amy")
				if s.Consult != nil || partyOf(t, s, "ann").Held || partyOf(t, s, "amy").As != AsControlling {
					t.Errorf("state %+v", s)
				}
				has(t, fx, LeaveRoom{Party: "zoe", Reason: ReasonTransferred}, Released{Agent: pZoe.User, Applies: true})
				hasLog(t, fx, RecTransferred, "zoe", "kind", "consultative", "target", "amy")
				hasLog(t, fx, RecControlPassed, "amy")
				hasLog(t, fx, RecResume, "", "party", "ann")
				if rt := RoutingOf(s); !reflect.DeepEqual(rt["ann"].From, []PartyID{"amy"}) {
					t.Errorf("routing %+v", rt)
				}
			},
		},
		{
			name: "R18 the target declines: back with the customer", from: consulting(ModeSFU, true, false),
			cmd: ConsultFailed{Outcome: "declined"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantParties(t, s, "ann", "zoe")
				if s.Consult != nil || partyOf(t, s, "ann").Held {
					t.Errorf("state %+v", s)
				}
				has(t, fx, Publish{Note: "consult_failed: declined"}, Reroute{})
				hasLog(t, fx, RecConsultEnded, "", "outcome", "declined")
				hasNo[CancelRing](t, fx)
			},
		},
		{
			name: "R18 cancel while the target rings", from: consulting(ModeSFU, true, false), cmd: CancelConsult{By: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Consult != nil || partyOf(t, s, "ann").Held {
					t.Errorf("state %+v", s)
				}
				has(t, fx, CancelRing{Target: toAmy})
				hasNo[LeaveRoom](t, fx)
			},
		},
		{
			name: "R18 the target hangs up after answering: back with the customer", from: consulting(ModeSFU, true, true),
			cmd: Leave{Party: "amy", Reason: ReasonHangup},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected)
				wantParties(t, s, "ann", "zoe")
				if s.Consult != nil || partyOf(t, s, "ann").Held || partyOf(t, s, "zoe").As != AsControlling {
					t.Errorf("state %+v", s)
				}
				has(t, fx, Released{Agent: pAmy.User, Applies: false})
				hasLog(t, fx, RecConsultEnded, "amy", "outcome", "helper_left")
			},
		},
		{name: "R18 complete before the target answered", from: consulting(ModeSFU, true, false), cmd: CompleteTransfer{By: "zoe"}, wantErr: ErrInvalidState},
		{name: "R18 the target completes", from: consulting(ModeSFU, true, true), cmd: CompleteTransfer{By: "amy"}, wantErr: ErrForbidden},
		{name: "R18 a decline after the answer", from: consulting(ModeSFU, true, true), cmd: ConsultFailed{Outcome: "declined"}, wantErr: ErrInvalidState},
		{name: "R18 a decline without a consult", from: connected(ModeSFU, pAnn, pZoe), cmd: ConsultFailed{Outcome: "declined"}, wantErr: ErrInvalidState},
	})
}

// R19: screen sharing starts only while every party has video on (screenshare_needs_all_video).
// R20: a share stops when a party turns video off or a party without video joins; everyone is
// told why (the Publish note). R21: a viewer's layout other than the default needs every party's
// video on (layout_needs_all_video), and layouts exist only on the MCU.
func TestR19R20R21ScreenAndLayout(t *testing.T) { // R19 R20 R21
	mcu := connected(ModeMCU, pAnn, pZoe)
	camOff := connected(ModeMCU, noVideo(pAnn), pZoe)
	sharing := mcu
	sharing.Screen = "zoe"
	sharingConsult := consulting(ModeMCU, false, false)
	sharingConsult.Screen = "zoe"
	runRules(t, []ruleCase{
		{name: "R19 a party has video off", from: camOff, cmd: ScreenShare{By: "zoe", On: true}, wantErr: ErrScreenVideo},
		{name: "R19 the customer, with the agent's video off", from: connected(ModeSFU, pAnn, noVideo(pZoe)), cmd: ScreenShare{By: "ann", On: true}, wantErr: ErrScreenVideo},
		{name: "R19 a phone party in the call", from: conference(pAnn, pZoe, pPat), cmd: ScreenShare{By: "zoe", On: true}, wantErr: ErrScreenVideo},
		{name: "R19 someone already shares", from: sharing, cmd: ScreenShare{By: "ann", On: true}, wantErr: ErrInvalidState},
		{name: "R19 stop a share that is not yours", from: sharing, cmd: ScreenShare{By: "ann", On: false}, wantErr: ErrInvalidState},
		{
			name: "R19 every party has video: the share starts", from: mcu, cmd: ScreenShare{By: "ann", On: true},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Screen != "ann" {
					t.Errorf("screen %q", s.Screen)
				}
				has(t, fx, lg(RecScreenShare, "ann", "customer", "state", "started"), Publish{})
			},
		},
		{
			name: "R20 a party turns video off: the share stops and everyone is told", from: sharing,
			cmd: SetMedia{Party: "ann", Audio: true, Video: false},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Screen != "" {
					t.Errorf("screen %q", s.Screen)
				}
				hasLog(t, fx, RecScreenShare, "zoe", "state", "stopped")
				var note string
				for _, e := range fx {
					if p, ok := e.(Publish); ok {
						note = p.Note
					}
				}
				if !strings.HasPrefix(note, "screenshare_stopped") {
					t.Errorf("nobody is told why: note %q", note)
				}
			},
		},
		{
			name: "R20 a party without video joins: the share stops", from: sharingConsult, cmd: Join{Party: pPat},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Screen != "" {
					t.Errorf("screen %q", s.Screen)
				}
				hasLog(t, fx, RecScreenShare, "zoe", "state", "stopped")
			},
		},
		{
			name: "R20 video stays on: the share goes on", from: sharing, cmd: SetMedia{Party: "ann", Audio: false, Video: true},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Screen != "zoe" {
					t.Errorf("screen %q", s.Screen)
				}
				has(t, fx, Publish{})
			},
		},
		{name: "R21 layouts exist only on the MCU", from: connected(ModeSFU, pAnn, pZoe), cmd: SetLayout{By: "ann", Layout: LayoutMaxAgent}, wantErr: ErrInvalidState},
		{name: "R21 a party has video off", from: camOff, cmd: SetLayout{By: "zoe", Layout: LayoutMaxCustomer}, wantErr: ErrLayoutVideo},
		{name: "R21 max_third with a phone party", from: conference(pAnn, pZoe, pPat), cmd: SetLayout{By: "ann", Layout: LayoutMaxThird}, wantErr: ErrLayoutVideo},
		{name: "R21 unknown layout", from: mcu, cmd: SetLayout{By: "ann", Layout: "mosaic"}, wantErr: ErrBadRequest},
		{
			name: "R21 the default layout needs nothing", from: camOff, cmd: SetLayout{By: "zoe", Layout: LayoutEqual},
			check: func(t *testing.T, s State, fx []Effect) {
				has(t, fx, lg(RecLayout, "zoe", "controlling_agent", "layout", "equal"))
			},
		},
		{
			name: "R21 all video on: any layout", from: conference(pAnn, pZoe, pAmy), cmd: SetLayout{By: "amy", Layout: LayoutMaxThird},
			check: func(t *testing.T, s State, fx []Effect) {
				has(t, fx, lg(RecLayout, "amy", "conferenced_agent", "layout", "max_third"), Publish{})
			},
		},
	})
}

// R22: the big tile itself is the MCU's to draw (mcu/); what the call decides is that the share is
// part of the call's state for every viewer, so every viewer's MCU layout can give it the tile.
func TestR22ShareShownToEveryViewer(t *testing.T) { // R22
	s := conference(pAnn, pZoe, pAmy, pMax)
	s.Screen = "amy"
	s.Supervisors = []Watcher{monitoring(sue)}
	for _, v := range []PartyID{"ann", "zoe", "amy", "max", "sue"} {
		if got := View(s, v); got.Screen != "amy" || got.Media != ModeMCU {
			t.Errorf("%s sees screen %q on %s", v, got.Screen, got.Media)
		}
	}
}

// R23: a supervisor monitors silently or barges in; only agents and supervisors see one is there.
func TestR23Supervisors(t *testing.T) { // R23
	s := conference(pAnn, pZoe, pAmy, pPat)
	s.Supervisors = []Watcher{monitoring(sue), barging(sid)}
	s.Consult = &Consult{Target: toSales, By: "zoe"}
	sups := []SupervisorView{{ID: "sue", Name: "Sue"}, {ID: "sid", Name: "Sid", Barge: true}}
	for _, v := range []PartyID{"ann", "tel:+100"} {
		got := View(s, v)
		if got.Supervisors != nil || got.Consult != nil {
			t.Errorf("R23: %s sees supervisors %+v, consult %+v", v, got.Supervisors, got.Consult)
		}
		if len(got.Parties) != 4 {
			t.Errorf("%s sees parties %+v", v, got.Parties)
		}
	}
	for _, v := range []PartyID{"zoe", "amy", "sue", "sid"} {
		got := View(s, v)
		if !reflect.DeepEqual(got.Supervisors, sups) || got.Consult == nil {
			t.Errorf("R23: %s sees supervisors %+v, consult %+v", v, got.Supervisors, got.Consult)
		}
	}

	conf := conference(pAnn, pZoe, pAmy)
	runRules(t, []ruleCase{
		{
			name: "R23 silent monitoring", from: conf, cmd: Monitor{Supervisor: sue},
			check: func(t *testing.T, s State, fx []Effect) {
				if !reflect.DeepEqual(s.Supervisors, []Watcher{monitoring(sue)}) {
					t.Errorf("supervisors %+v", s.Supervisors)
				}
				has(t, fx, JoinRoom{Party: "sue"}, lg(RecSupervisor, "sue", "supervisor", "mode", "monitor"), Reroute{})
				rt := RoutingOf(s)
				if !reflect.DeepEqual(rt["sue"].From, []PartyID{"ann", "zoe", "amy"}) {
					t.Errorf("sue receives %+v", rt["sue"])
				}
				for _, p := range []PartyID{"ann", "zoe", "amy"} {
					if slices.Contains(rt[p].From, "sue") {
						t.Errorf("%s receives the silent supervisor", p)
					}
				}
				if View(s, "ann").Supervisors != nil || len(View(s, "zoe").Supervisors) != 1 {
					t.Error("who sees the supervisor")
				}
			},
		},
		{
			name: "R23 barge in after monitoring", from: withSupervisors(conf, monitoring(sue)), cmd: Monitor{Supervisor: sue, Barge: true},
			check: func(t *testing.T, s State, fx []Effect) {
				if !reflect.DeepEqual(s.Supervisors, []Watcher{barging(sue)}) {
					t.Errorf("supervisors %+v", s.Supervisors)
				}
				hasNo[JoinRoom](t, fx) // already in the room
				hasLog(t, fx, RecSupervisor, "sue", "mode", "barge")
				for _, p := range []PartyID{"ann", "zoe", "amy"} {
					if !slices.Contains(RoutingOf(s)[p].From, "sue") {
						t.Errorf("%s does not hear the barging supervisor", p)
					}
				}
			},
		},
		{
			name: "R23 stop monitoring", from: withSupervisors(conf, monitoring(sue)), cmd: StopMonitor{Supervisor: "sue"},
			check: func(t *testing.T, s State, fx []Effect) {
				if len(s.Supervisors) != 0 {
					t.Errorf("supervisors %+v", s.Supervisors)
				}
				has(t, fx, LeaveRoom{Party: "sue", Reason: ReasonHangup}, lg(RecSupervisor, "sue", "supervisor", "mode", "stopped"))
			},
		},
		{name: "R23 an agent monitors", from: conf, cmd: Monitor{Supervisor: UserRef{ID: "max", Role: Agent}}, wantErr: ErrForbidden},
		{name: "R23 a customer monitors", from: conf, cmd: Monitor{Supervisor: UserRef{ID: "bob", Role: Customer}}, wantErr: ErrForbidden},
		{name: "R23 monitoring a waiting call", from: stWaiting(), cmd: Monitor{Supervisor: sue}, wantErr: ErrInvalidState},
		{name: "R23 monitoring twice", from: withSupervisors(conf, monitoring(sue)), cmd: Monitor{Supervisor: sue}, wantErr: ErrInvalidState},
		{name: "R23 stop without monitoring", from: conf, cmd: StopMonitor{Supervisor: "sue"}, wantErr: ErrInvalidState},
	})
}

// R24: no new monitoring or barge-in on a call in wrap-up assist, though monitoring already going
// on continues; when the last agent leaves, monitoring stops, otherwise it continues.
func TestR24SupervisorsAndAgents(t *testing.T) { // R24
	watched := withSupervisors(assist(), monitoring(sue))
	runRules(t, []ruleCase{
		{name: "R24 new monitoring in wrap-up assist", from: assist(), cmd: Monitor{Supervisor: sue}, wantErr: ErrWrapupAssist},
		{name: "R24 new barge-in in wrap-up assist", from: assist(), cmd: Monitor{Supervisor: sue, Barge: true}, wantErr: ErrWrapupAssist},
		{name: "R24 a monitoring supervisor barges in during wrap-up assist", from: watched, cmd: Monitor{Supervisor: sue, Barge: true}, wantErr: ErrWrapupAssist},
		{
			name: "R24 monitoring continues into wrap-up assist", from: withSupervisors(conference(pAnn, pZoe, pAmy), monitoring(sue)),
			cmd: Leave{Party: "ann"},
			check: func(t *testing.T, s State, fx []Effect) {
				if !s.Assist || !reflect.DeepEqual(s.Supervisors, []Watcher{monitoring(sue)}) {
					t.Errorf("assist %v, supervisors %+v", s.Assist, s.Supervisors)
				}
				hasNo[LeaveRoom](t, fx[1:])
			},
		},
		{
			name: "R24 a monitoring supervisor may stop in wrap-up assist", from: watched, cmd: StopMonitor{Supervisor: "sue"},
			check: func(t *testing.T, s State, fx []Effect) {
				if len(s.Supervisors) != 0 {
					t.Errorf("supervisors %+v", s.Supervisors)
				}
			},
		},
		{
			name: "R24 the monitored agent leaves, another agent remains: monitoring continues",
			from: withSupervisors(conference(pAnn, pZoe, pAmy), monitoring(sue), barging(sid)), cmd: Leave{Party: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				if len(s.Supervisors) != 2 {
					t.Errorf("supervisors %+v", s.Supervisors)
				}
				hasNo[LeaveRoom](t, fx[1:]) // only zoe's own
			},
		},
		{
			name: "R24 the last agent leaves: monitoring stops",
			from: withSupervisors(conference(pAnn, pZoe, pPat), monitoring(sue), barging(sid)), cmd: Leave{Party: "zoe"},
			check: func(t *testing.T, s State, fx []Effect) {
				wantOn(t, s, PhaseConnected) // the customer and the participant go on (R13)
				if len(s.Supervisors) != 0 {
					t.Errorf("supervisors %+v", s.Supervisors)
				}
				has(t, fx, LeaveRoom{Party: "sue", Reason: ReasonHangup}, LeaveRoom{Party: "sid", Reason: ReasonHangup})
				hasLog(t, fx, RecSupervisor, "sue", "mode", "stopped")
				hasLog(t, fx, RecSupervisor, "sid", "mode", "stopped")
				if _, ok := RoutingOf(s)["sue"]; ok {
					t.Error("sue still routed")
				}
			},
		},
		{name: "R24 no agent left to monitor", from: connected(ModeMCU, pAnn, pPat), cmd: Monitor{Supervisor: sue}, wantErr: ErrInvalidState},
	})
}

// R26: recording on demand by the controlling agent only; tags while recording, by agents.
func TestR26RecordingAndTags(t *testing.T) { // R26
	conf := conference(pAnn, pZoe, pAmy)
	rec := conf
	rec.Recording = true
	runRules(t, []ruleCase{
		{
			name: "R26 the controlling agent starts recording", from: conf, cmd: SetRecording{By: "zoe", On: true},
			check: func(t *testing.T, s State, fx []Effect) {
				if !s.Recording {
					t.Error("not recording")
				}
				has(t, fx, lg(RecRecording, "zoe", "controlling_agent", "state", "started", "automatic", "false"), Publish{})
			},
		},
		{
			name: "R26 and stops it", from: rec, cmd: SetRecording{By: "zoe", On: false},
			check: func(t *testing.T, s State, fx []Effect) {
				if s.Recording {
					t.Error("still recording")
				}
				hasLog(t, fx, RecRecording, "zoe", "state", "stopped")
			},
		},
		{name: "R26 a conferenced agent records", from: conf, cmd: SetRecording{By: "amy", On: true}, wantErr: ErrForbidden},
		{name: "R26 the customer records", from: conf, cmd: SetRecording{By: "ann", On: true}, wantErr: ErrForbidden},
		{name: "R26 recording twice", from: rec, cmd: SetRecording{By: "zoe", On: true}, wantErr: ErrInvalidState},
		{name: "R26 a tag without recording", from: conf, cmd: AddTag{By: "zoe", Text: "refund"}, wantErr: ErrInvalidState},
		{name: "R26 the customer tags", from: rec, cmd: AddTag{By: "ann", Text: "refund"}, wantErr: ErrForbidden},
		{name: "R26 an empty tag", from: rec, cmd: AddTag{By: "zoe", Text: ""}, wantErr: ErrBadRequest},
		{name: "R26 a tag too long", from: rec, cmd: AddTag{By: "zoe", Text: strings.Repeat("x", 201)}, wantErr: ErrBadRequest},
		{
			name: "R26 a conferenced agent tags a recorded call", from: rec, cmd: AddTag{By: "amy", Text: "refund promised"},
			check: func(t *testing.T, s State, fx []Effect) {
				has(t, fx, lg(RecTag, "amy", "conferenced_agent", "text", "refund promised"))
			},
		},
	})
}

// R28: every refused command, of every kind, in every kind of call, gets a coded error with a
// message and changes nothing: not the state, not the world (no effects).
func TestR28RefusalsChangeNothing(t *testing.T) { // R28
	sharing := conference(pAnn, pZoe, pAmy)
	sharing.Screen = "amy"
	recording := connected(ModeSFU, pAnn, pZoe)
	recording.Recording = true
	transferred, _ := apply(t, connected(ModeMCU, pAnn, pZoe), BlindTransfer{By: "zoe", Target: toSales})
	states := map[string]State{
		"queued": stWaiting(), "ringing": stRinging(), "ended": stEnded(),
		"1:1 sfu": connected(ModeSFU, pAnn, pZoe), "1:1 auto": connected(ModeAuto, pAnn, noVideo(pZoe)),
		"held": connected(ModeMCU, held(pAnn), pZoe), "recording": recording,
		"consult ringing": consulting(ModeAuto, false, false), "consult answered": consulting(ModeMCU, false, true),
		"transfer answered": consulting(ModeSFU, true, true),
		"conference":        withSupervisors(conference(pAnn, pZoe, pAmy, pPat), monitoring(sue)),
		"sharing":           sharing, "assist": withSupervisors(assist(), barging(sid)), "transferred": transferred,
	}
	var cmds []Command
	for _, by := range []PartyID{"ann", "zoe", "amy", "tel:+100", "eve"} {
		cmds = append(cmds,
			Join{Party: Party{User: UserRef{ID: string(by), Role: Agent}, JoinedAt: t0}},
			Leave{Party: by}, End{By: by}, SetMedia{Party: by, Audio: true, Video: true},
			StartConsult{By: by, Target: toSales}, StartConsult{By: by, Target: toAmy, Transfer: true},
			StartConsult{By: by, Target: Target{Kind: "x"}},
			CancelConsult{By: by}, StartConference{By: by}, CompleteTransfer{By: by},
			BlindTransfer{By: by, Target: toSales}, Hold{By: by, Party: "ann"}, Hold{By: by, Party: "amy"},
			Resume{By: by, Party: "ann"}, ScreenShare{By: by, On: true}, ScreenShare{By: by, On: false},
			SetLayout{By: by, Layout: LayoutMaxThird}, SetLayout{By: by, Layout: "x"},
			SetRecording{By: by, On: true}, SetRecording{By: by, On: false},
			AddTag{By: by, Text: "t"}, AddTag{By: by, Text: ""},
		)
	}
	cmds = append(cmds, Join{Party: pPat}, Join{Party: custBob}, Join{Party: as(pMax, "")},
		Join{Party: Party{User: pMax.User}}, // no join time: refused after the rules looked at the consult
		SetPhase{Phase: PhaseRinging}, SetPhase{Phase: PhaseEnded}, ConsultFailed{Outcome: "declined"},
		Monitor{Supervisor: sue}, Monitor{Supervisor: sue, Barge: true}, Monitor{Supervisor: sid},
		Monitor{Supervisor: UserRef{ID: "zed", Role: Agent}}, StopMonitor{Supervisor: "sue"}, StopMonitor{Supervisor: "nobody"},
		bogus{})

	refusedKinds := map[string]int{}
	codes := map[string]bool{}
	for name, s := range states {
		for _, cmd := range cmds {
			before := deepCopy(s)
			got, fx, err := Next(s, cmd)
			if !reflect.DeepEqual(s, before) {
				t.Fatalf("%s: %T %+v modified its input", name, cmd, cmd)
			}
			if err == nil {
				continue
			}
			refusedKinds[typeName(cmd)]++
			codes[CodeOf(err)] = true
			if CodeOf(err) == "" || err.Error() == "" {
				t.Errorf("%s: %T %+v: error %q has no code", name, cmd, cmd, err)
			}
			if !reflect.DeepEqual(got, before) || len(fx) != 0 {
				t.Errorf("%s: refused %T %+v changed the call: %+v, effects %+v", name, cmd, cmd, got, fx)
			}
		}
	}
	// The sweep must have exercised refusals of every command and the codes of the rules.
	for _, cmd := range cmds {
		if refusedKinds[typeName(cmd)] == 0 {
			t.Errorf("no %s was ever refused: the sweep proves nothing for it", typeName(cmd))
		}
	}
	for _, c := range []string{"forbidden", "not_found", "invalid_state", "bad_request", "mode_forbids_multiparty",
		"wrapup_assist", "hold_in_conference", "screenshare_needs_all_video", "layout_needs_all_video"} {
		if !codes[c] {
			t.Errorf("no refusal with code %s", c)
		}
	}
}
