package call

import (
	"fmt"
	"strconv"
	"time"
)

// Command is a request to change a call. The concrete types in commands.go are the whole set.
type Command interface{ command() }

// Effect is what applying a command requires of the world outside the rules.
type Effect interface{ effect() }

type (
	// JoinRoom attaches the party's (or supervisor's) endpoint to the call's media room.
	JoinRoom struct{ Party PartyID }
	// LeaveRoom detaches the party and closes its endpoint.
	LeaveRoom struct {
		Party  PartyID
		Reason error
	}
	// Publish sends the new call state to everyone on the call; Note says why when it is news
	// (a screen share stopped by R20).
	Publish struct{ Note string }
	// Finish ends the call: every remaining leg is closed and told the reason.
	Finish struct {
		Ended  CallEnded
		Reason error
	}
	// Reroute applies RoutingOf(the new state) to the media room.
	Reroute struct{}
	// Ring asks routing to reach a consult or transfer target (R8): pick an agent of a queue, offer
	// a named agent, or dial a number.
	Ring struct {
		Target   Target
		Transfer bool
	}
	// CancelRing withdraws a ringing consult (R9, R18: cancel while ringing).
	CancelRing struct{ Target Target }
	// Requeue hands a blind-transferred customer to its target (R17).
	Requeue struct{ Target Target }
	// Released frees an agent who left the call: into wrap-up (R2); Applies says the agent's wrap-up
	// reason is the call's (the controlling agent's, R27).
	Released struct {
		Agent   UserRef
		Applies bool
	}
	// SwitchMedia moves the call to another media room while it goes on (R5).
	SwitchMedia struct{ To Mode }
	// Log appends a record to the call's durable event log (R25).
	Log struct {
		Type  string
		Actor string
		Role  string
		Data  map[string]string
	}
)

func (JoinRoom) effect()    {}
func (LeaveRoom) effect()   {}
func (Publish) effect()     {}
func (Finish) effect()      {}
func (Reroute) effect()     {}
func (Ring) effect()        {}
func (CancelRing) effect()  {}
func (Requeue) effect()     {}
func (Released) effect()    {}
func (SwitchMedia) effect() {}
func (Log) effect()         {}

// Next is the call's rule book: the state after cmd and what must happen outside, or why cmd is
// refused, in which case the state is unchanged (R28).
func Next(s State, cmd Command) (State, []Effect, error) {
	return decide(s, cmd, false)
}

// allowed reports whether Next would accept cmd, without building its effects (for Actions,
// which asks about every control for every viewer on every change).
func allowed(s State, cmd Command) error {
	_, _, err := decide(s, cmd, true)
	return err
}

func decide(s State, cmd Command, dry bool) (State, []Effect, error) {
	if s.Phase == PhaseEnded {
		return s, nil, fmt.Errorf("%w: call %s has ended", ErrInvalidState, s.ID)
	}
	r := &rules{s: cloneState(s), dry: dry}
	var err error
	switch c := cmd.(type) {
	case Join:
		err = r.join(c)
	case Leave:
		err = r.leave(c)
	case End:
		err = r.end(c)
	case SetMedia:
		err = r.setMedia(c)
	case SetPhase:
		err = r.setPhase(c)
	case StartConsult:
		err = r.consult(c)
	case ConsultFailed:
		err = r.consultFailed(c)
	case ConsultRinging:
		err = r.consultRinging(c)
	case TransferFailed:
		err = r.transferFailed(c)
	case CancelConsult:
		err = r.cancelConsult(c)
	case StartConference:
		err = r.conference(c)
	case CompleteTransfer:
		err = r.completeTransfer(c)
	case BlindTransfer:
		err = r.blindTransfer(c)
	case Hold:
		err = r.hold(c)
	case Resume:
		err = r.resume(c)
	case ScreenShare:
		err = r.screenShare(c)
	case SetLayout:
		err = r.layout(c)
	case Monitor:
		err = r.monitor(c)
	case StopMonitor:
		err = r.stopMonitor(c)
	case SetRecording:
		err = r.recording(c)
	case AddTag:
		err = r.tag(c)
	case PhoneDigit:
		err = r.phoneDigit(c)
	case SendDigits:
		err = r.sendDigits(c)
	case RemoteHold:
		err = r.remoteHold(c)
	default:
		err = fmt.Errorf("%w: unknown command %T", ErrInvalidState, cmd)
	}
	if err != nil {
		return s, nil, err
	}
	return r.s, r.fx, nil
}

// rules is one application of a command: a private copy of the state and the effects so far.
type rules struct {
	s   State
	fx  []Effect
	dry bool // only the verdict is wanted
}

func (r *rules) emit(e ...Effect) {
	if !r.dry {
		r.fx = append(r.fx, e...)
	}
}

func (r *rules) log(typ string, actor string, role string, kv ...string) {
	if r.dry {
		return
	}
	var data map[string]string
	if len(kv) > 0 {
		data = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			data[kv[i]] = kv[i+1]
		}
	}
	r.emit(Log{Type: typ, Actor: actor, Role: role, Data: data})
}

// actor finds the party behind a command and checks it may act at all.
func (r *rules) actor(id PartyID) (Party, error) {
	p, ok := r.s.party(id)
	if !ok {
		return p, fmt.Errorf("%w: %s is not a party of call %s", ErrNotFound, id, r.s.ID)
	}
	return p, nil
}

// agentActor requires an agent (R7: only agents add participants or use call controls).
func (r *rules) agentActor(id PartyID) (Party, error) {
	p, err := r.actor(id)
	if err != nil {
		return p, err
	}
	if !p.IsAgent() {
		return p, fmt.Errorf("%w: a %s has no call controls", ErrForbidden, p.As)
	}
	return p, nil
}

// controller requires the controlling agent (R8, R13, R17, R18, R26).
func (r *rules) controller(id PartyID) (Party, error) {
	p, err := r.agentActor(id)
	if err != nil {
		return p, err
	}
	if p.As != AsControlling {
		return p, fmt.Errorf("%w: only the controlling agent may do this", ErrForbidden)
	}
	return p, nil
}

func (r *rules) set(p Party) {
	if i := r.s.index(p.ID()); i >= 0 {
		r.s.Parties[i] = p
	}
}

// resumeAll takes every held party off hold.
func (r *rules) resumeAll() {
	for i := range r.s.Parties {
		if r.s.Parties[i].Held {
			r.s.Parties[i].Held = false
			r.log(RecResume, "", "system", "party", string(r.s.Parties[i].ID()))
		}
	}
}

// stopScreenIfNeeded applies R20: a share stops when a party has no video.
func (r *rules) stopScreenIfNeeded() string {
	if r.s.Screen == "" || r.s.allVideo() {
		return ""
	}
	r.log(RecScreenShare, string(r.s.Screen), "", "state", "stopped", "reason", "a party has video off (R20)")
	r.s.Screen = ""
	return "screenshare_stopped: a party turned video off (R20)"
}

func stamp(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
