package call

import "time"

// PartyRole is what a party is in one call (RULES.md "Words").
type PartyRole string

const (
	AsCustomer    PartyRole = "customer"
	AsControlling PartyRole = "controlling_agent"
	AsConferenced PartyRole = "conferenced_agent"
	AsParticipant PartyRole = "participant" // external number or expert without an agent account
)

// Mode is a video mode (R3-R6). A call's Mode is fixed at its start (R6); Media is what carries it
// now: an auto call starts on the SFU and moves to the MCU when a third party is added (R5).
type Mode string

const (
	ModeSFU  Mode = "sfu"
	ModeMCU  Mode = "mcu"
	ModeAuto Mode = "auto"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeSFU || m == ModeMCU || m == ModeAuto }

// TargetKind is what a consult, transfer or direct call is aimed at (R8, R17, R29).
type TargetKind string

const (
	TargetAgent  TargetKind = "agent"
	TargetQueue  TargetKind = "queue"
	TargetNumber TargetKind = "number"
)

// MaxParties is R10's limit, the customer and the controlling agent included.
const MaxParties = 8

// State is everything the rules need to know about one call. It is a value: Next returns a new one.
type State struct {
	ID    CallID
	Queue string
	Phase Phase
	Mode  Mode // the service mode when the call started (R6)
	Media Mode // sfu or mcu: the room carrying the call now

	Parties     []Party
	Supervisors []Watcher
	Consult     *Consult
	Conference  bool    // three or more parties talking together since a conference started
	Assist      bool    // wrap-up assist: the customer left and agents remain (R14)
	Recording   bool    // R26
	Screen      PartyID // who shares a screen ("" nobody)
	Transfer    *Target // a blind transfer in progress: the customer waits for this target (R17)
	Ended       *CallEnded
}

// Party is a person present in a call.
type Party struct {
	User     UserRef
	As       PartyRole
	Phone    bool // on a phone (audio only); otherwise a browser
	Audio    bool
	Video    bool
	Held     bool
	JoinedAt time.Time
	Layout   string // the layout this party chose to view in an MCU call (R21); "" is equal
	// RemoteHold: the party holds the call from its side (a phone's hold re-INVITE).
	RemoteHold bool
}

// ID is the party's id.
func (p Party) ID() PartyID { return PartyID(p.User.ID) }

// IsAgent reports whether p has call controls (controlling or conferenced agent).
func (p Party) IsAgent() bool { return p.As == AsControlling || p.As == AsConferenced }

// Watcher is a supervisor on a call (R23). Supervisors are not parties.
type Watcher struct {
	User  UserRef
	Barge bool // heard and seen; otherwise silent monitoring
	Since time.Time
}

// Target is who a consult, transfer or direct call is aimed at.
type Target struct {
	Kind TargetKind
	ID   string // agent id, queue name or phone number
}

// Consult is a help-seeking leg in progress (R9): the customer is on hold while the controlling
// agent talks to the helper.
type Consult struct {
	Target   Target
	Transfer bool    // a consultative transfer (R18) rather than help-seeking
	Helper   PartyID // "" while the target is ringing
	By       PartyID // the agent who started it
	// Ringing: the target is alerted. An agent's offer rings at once; a number rings when the
	// network says so (SIP 180/183), and until then it is being dialled.
	Ringing bool
}

func (s State) index(p PartyID) int {
	for i, q := range s.Parties {
		if q.ID() == p {
			return i
		}
	}
	return -1
}

func (s State) party(p PartyID) (Party, bool) {
	if i := s.index(p); i >= 0 {
		return s.Parties[i], true
	}
	return Party{}, false
}

func (s State) count(r PartyRole) int {
	n := 0
	for _, q := range s.Parties {
		if q.As == r {
			n++
		}
	}
	return n
}

func (s State) hasAgent() bool { return s.count(AsControlling)+s.count(AsConferenced) > 0 }

func (s State) controlling() (Party, bool) {
	for _, q := range s.Parties {
		if q.As == AsControlling {
			return q, true
		}
	}
	return Party{}, false
}

func (s State) watcher(id string) int {
	for i, w := range s.Supervisors {
		if w.User.ID == id {
			return i
		}
	}
	return -1
}

// allVideo reports whether every party has video on (R19, R21).
func (s State) allVideo() bool {
	for _, q := range s.Parties {
		if !q.Video {
			return false
		}
	}
	return true
}

// talking counts the parties not on hold.
func (s State) talking() int {
	n := 0
	for _, q := range s.Parties {
		if !q.Held {
			n++
		}
	}
	return n
}

func cloneState(s State) State {
	s.Parties = append([]Party(nil), s.Parties...)
	s.Supervisors = append([]Watcher(nil), s.Supervisors...)
	if s.Consult != nil {
		c := *s.Consult
		s.Consult = &c
	}
	if s.Transfer != nil {
		t := *s.Transfer
		s.Transfer = &t
	}
	return s
}
