package call

import (
	"fmt"
	"time"
)

// State is everything the rules need to know about one call. It is a value: Next returns a new one.
type State struct {
	ID      CallID
	Queue   string
	Phase   Phase
	Parties []Party
	Ended   *CallEnded
}

// Party is a person present in a call.
type Party struct {
	User     UserRef
	Audio    bool
	Video    bool
	JoinedAt time.Time
}

// ID is the party's id.
func (p Party) ID() PartyID { return PartyID(p.User.ID) }

// Command is a request to change a call. The concrete types below are the whole set.
type Command interface{ command() }

type (
	// Join adds a party (the customer on arrival, the agent on accept).
	Join struct{ Party Party }
	// Leave removes a party: it hung up, or its connection ended.
	Leave struct {
		Party  PartyID
		Reason error
	}
	// SetMedia records what a party sends.
	SetMedia struct {
		Party        PartyID
		Audio, Video bool
	}
	// SetPhase moves a waiting call between queued and ringing (decided by routing).
	SetPhase struct{ Phase Phase }
	// End ends the call for everyone (server shutdown, or a rule).
	End struct{ Reason error }
)

func (Join) command()     {}
func (Leave) command()    {}
func (SetMedia) command() {}
func (SetPhase) command() {}
func (End) command()      {}

// Effect is what applying a command requires of the world outside the rules.
type Effect interface{ effect() }

type (
	// JoinRoom attaches the party's endpoint to the call's media room.
	JoinRoom struct{ Party PartyID }
	// LeaveRoom detaches the party and closes its endpoint.
	LeaveRoom struct {
		Party  PartyID
		Reason error
	}
	// Publish sends the new call state to every party.
	Publish struct{}
	// Finish ends the call: every remaining leg is closed and told the reason.
	Finish struct {
		Ended  CallEnded
		Reason error
	}
)

func (JoinRoom) effect()  {}
func (LeaveRoom) effect() {}
func (Publish) effect()   {}
func (Finish) effect()    {}

// Next is the call's rule book: the state after cmd, what must happen outside, or why cmd is refused
// (in which case the state is unchanged).
func Next(s State, cmd Command) (State, []Effect, error) {
	if s.Phase == PhaseEnded {
		return s, nil, fmt.Errorf("%w: call %s has ended", ErrInvalidState, s.ID)
	}
	switch c := cmd.(type) {
	case Join:
		return join(s, c)
	case Leave:
		return leave(s, c)
	case SetMedia:
		i := s.index(c.Party)
		if i < 0 {
			return s, nil, fmt.Errorf("%w: %s is not in call %s", ErrNotFound, c.Party, s.ID)
		}
		s.Parties = cloneParties(s.Parties)
		s.Parties[i].Audio, s.Parties[i].Video = c.Audio, c.Video
		return s, []Effect{Publish{}}, nil
	case SetPhase:
		if s.Phase == PhaseConnected || (c.Phase != PhaseQueued && c.Phase != PhaseRinging) {
			return s, nil, fmt.Errorf("%w: cannot move a %s call to %s", ErrInvalidState, s.Phase, c.Phase)
		}
		s.Phase = c.Phase
		return s, []Effect{Publish{}}, nil
	case End:
		return finish(s, c.Reason, "")
	}
	return s, nil, fmt.Errorf("%w: unknown command %T", ErrInvalidState, cmd)
}

func join(s State, c Join) (State, []Effect, error) {
	if s.index(c.Party.ID()) >= 0 {
		return s, nil, fmt.Errorf("%w: %s is already in call %s", ErrInvalidState, c.Party.ID(), s.ID)
	}
	switch c.Party.User.Role {
	case Customer:
		if s.hasRole(Customer) {
			return s, nil, fmt.Errorf("%w: call %s already has a customer", ErrInvalidState, s.ID)
		}
	case Agent:
		if !s.hasRole(Customer) {
			return s, nil, fmt.Errorf("%w: call %s has no customer", ErrInvalidState, s.ID)
		}
		// The minimal model serves one-to-one calls; help-seeking and conferences (R7-R10) come
		// with the full call model.
		if s.hasRole(Agent) {
			return s, nil, fmt.Errorf("%w: call %s already has an agent", ErrInvalidState, s.ID)
		}
	default:
		return s, nil, fmt.Errorf("%w: a %s cannot be a party", ErrForbidden, c.Party.User.Role)
	}
	s.Parties = append(cloneParties(s.Parties), c.Party)
	if s.hasRole(Customer) && s.hasRole(Agent) {
		s.Phase = PhaseConnected
	}
	return s, []Effect{JoinRoom{Party: c.Party.ID()}, Publish{}}, nil
}

func leave(s State, c Leave) (State, []Effect, error) {
	i := s.index(c.Party)
	if i < 0 {
		return s, nil, fmt.Errorf("%w: %s is not in call %s", ErrNotFound, c.Party, s.ID)
	}
	s.Parties = append(cloneParties(s.Parties[:i]), s.Parties[i+1:]...)
	effects := []Effect{LeaveRoom{Party: c.Party, Reason: c.Reason}}
	// R13: the call ends when fewer than two parties remain, or when neither the customer nor any
	// agent remains. A waiting customer who leaves abandons the call.
	if len(s.Parties) < 2 || (!s.hasRole(Customer) && !s.hasRole(Agent)) {
		s, fin, err := finish(s, c.Reason, c.Party)
		return s, append(effects, fin...), err
	}
	return s, append(effects, Publish{}), nil
}

func finish(s State, reason error, by PartyID) (State, []Effect, error) {
	if reason == nil {
		reason = ReasonHangup
	}
	s.Phase = PhaseEnded
	ended := CallEnded{CallID: s.ID, Reason: reason.Error(), By: by}
	s.Ended = &ended
	return s, []Effect{Finish{Ended: ended, Reason: reason}}, nil
}

// Actions is what party p may do now; clients use it to enable buttons, the server re-checks.
func Actions(s State, p PartyID) []string {
	if s.Phase == PhaseEnded || s.index(p) < 0 {
		return nil
	}
	return []string{"hangup", "media_state"}
}

// View is the call state as party p sees it.
func View(s State, p PartyID) CallState {
	parties := make([]PartyView, len(s.Parties))
	for i, q := range s.Parties {
		parties[i] = PartyView{ID: q.ID(), Name: q.User.Name, Role: q.User.Role, Audio: q.Audio, Video: q.Video}
	}
	return CallState{CallID: s.ID, Phase: s.Phase, Queue: s.Queue, Parties: parties, Actions: Actions(s, p)}
}

func (s State) index(p PartyID) int {
	for i, q := range s.Parties {
		if q.ID() == p {
			return i
		}
	}
	return -1
}

func (s State) hasRole(r Role) bool {
	for _, q := range s.Parties {
		if q.User.Role == r {
			return true
		}
	}
	return false
}

func cloneParties(p []Party) []Party { return append([]Party(nil), p...) }
