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
		Queue    string
		Customer UserRef
		Timeout  time.Duration
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
		CallID  CallID
		Phase   Phase
		Queue   string
		Parties []PartyView
		Actions []string // what the receiving party may do now
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
	Audio bool
	Video bool
}

func (AgentStateChanged) event() {}
func (CallOffered) event()       {}
func (OfferWithdrawn) event()    {}
func (QueuePosition) event()     {}
func (CallState) event()         {}
func (CallEnded) event()         {}
