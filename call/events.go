package call

import "time"

// Event is something a user's client is told. The concrete types below are the whole set.
type Event interface{ event() }

// AgentState is an agent's availability (R1).
type AgentState string

const (
	AgentOffline   AgentState = "offline"
	AgentAvailable AgentState = "available"
	AgentRinging   AgentState = "ringing"
	AgentBusy      AgentState = "busy"
)

// Phase is where a call is in its life.
type Phase string

const (
	PhaseQueued    Phase = "queued"
	PhaseRinging   Phase = "ringing"
	PhaseConnected Phase = "connected"
	PhaseEnded     Phase = "ended"
)

type (
	AgentStateChanged struct{ State AgentState }
	CallOffered       struct {
		CallID   CallID
		Kind     string // inbound, consult, direct, callback
		Queue    string
		Customer UserRef
		Callback string // the callback's id when Kind is callback
		Timeout  time.Duration
	}
	// WrapupStarted tells an agent they are in wrap-up after leaving a call (R2, R27).
	WrapupStarted struct {
		CallID  CallID
		Queue   string
		Reasons []string
		Timeout time.Duration
		Applies bool // this agent's reason is the call's (the controlling agent)
	}
	OfferWithdrawn struct {
		CallID CallID
		Reason string
	}
	QueuePosition struct {
		CallID   CallID
		Queue    string
		Position int
	}
	CallState struct {
		CallID      CallID
		Phase       Phase
		Queue       string
		Media       Mode
		Conference  bool
		Assist      bool
		Recording   bool
		Screen      PartyID
		Layout      string // the layout the receiving party sees in an MCU call (R21, R22)
		Parties     []PartyView
		Supervisors []SupervisorView  // only for agents and supervisors (R23)
		Consult     *Consult          // only for agents and supervisors
		Actions     []string          // what the receiving party may do now
		Blocked     map[string]string // action -> code of the rule that forbids it now (R28)
		Note        string            // why this state is news, when it is (R20)
	}
	CallEnded struct {
		CallID CallID
		Reason string
		By     PartyID
	}
)

// PartyView is a party as the others see it.
type PartyView struct {
	ID    PartyID
	Name  string
	Role  Role
	As    PartyRole
	Audio bool
	Video bool
	Held  bool
	Phone bool
	// RemoteHold: the party holds the call from its side (a phone on hold); it hears nothing.
	RemoteHold bool
}

// SupervisorView is a supervisor as agents see them.
type SupervisorView struct {
	ID    string
	Name  string
	Barge bool
}

func (AgentStateChanged) event() {}
func (CallOffered) event()       {}
func (OfferWithdrawn) event()    {}
func (QueuePosition) event()     {}
func (CallState) event()         {}
func (CallEnded) event()         {}
func (WrapupStarted) event()     {}
