package call

import (
	"context"
	"time"
)

// Record is one entry of a call's append-only event log (R25). The call loop appends one for every
// change it applies, before it tells anyone: what a client saw acknowledged is already durable.
type Record struct {
	CallID CallID
	Seq    int // 1, 2, ... within the call, assigned by the call loop
	At     time.Time
	Type   string // see the Rec* constants
	Actor  string // user id, "" for the system
	Role   string // the actor's role in the call (customer, agent, controlling_agent, conferenced_agent, participant, supervisor, system)
	Data   map[string]string
}

// Record types. A store derives its summaries (CallSummary, tags, wrap-ups) from these.
const (
	RecCallStarted       = "call_started"       // Data: queue, customer, customer_name, mode, kind (inbound|direct|callback)
	RecOffered           = "offered"            // Actor: the agent offered
	RecPartyJoined       = "party_joined"       // Actor joins; Role its party role; Data: name, via (browser|phone)
	RecPartyLeft         = "party_left"         // Data: reason
	RecControlPassed     = "control_passed"     // Actor: the new controlling agent (R12)
	RecHold              = "hold"               // Data: party
	RecResume            = "resume"             // Data: party
	RecConsultStarted    = "consult_started"    // Data: target_kind (agent|queue|number), target, purpose (consult|transfer)
	RecConsultEnded      = "consult_ended"      // Data: outcome (conference|transferred|cancelled|declined|failed)
	RecConferenceStarted = "conference_started" //
	RecTransferred       = "transferred"        // Data: kind (blind|consultative), target_kind, target
	RecModeChanged       = "mode"               // Data: mode (sfu|mcu)
	RecWrapupAssist      = "wrapup_assist"      // the customer left, agents remain (R14)
	RecWrapup            = "wrapup"             // Actor: agent; Data: reason
	RecRecording         = "recording"          // Data: state (started|stopped), automatic (true|false)
	RecTransferFailed    = "transfer_failed"    // Data: outcome, requeued (R17 to a number nobody answered)
	RecRemoteHold        = "remote_hold"        // Data: held (a phone holds the call from its side)
	RecDigitsSent        = "dtmf_sent"          // Data: to, count (never the digits: PCI)
	RecRecordingFile     = "recording_file"     // Data: file (relative to the recordings directory), media, part
	RecTag               = "tag"                // Data: text
	RecSupervisor        = "supervisor"         // Actor: supervisor; Data: mode (monitor|barge|stopped)
	RecMedia             = "media"              // Data: audio, video (true|false)
	RecScreenShare       = "screenshare"        // Data: state (started|stopped), reason
	RecCallEnded         = "call_ended"         // Data: reason
	RecLayout            = "layout"             // Data: layout (one viewer's choice, R21)
)

// CallSummary is one row of the call list.
type CallSummary struct {
	ID        CallID
	Queue     string
	StartedAt time.Time
	EndedAt   time.Time // zero while the call goes on
	EndReason string
	Customer  string // user id or phone number
	Agents    []string
	Modes     []string // video modes the call used, in order
	Tags      int
}

// CallFilter selects calls; zero fields match everything.
type CallFilter struct {
	From, To  time.Time // calls started in [From, To)
	Agent     string
	Queue     string
	Customer  string
	EndReason string
	Limit     int // 0: a default page (100)
}

// Tag is a short text an agent attached to a recorded call at a point in time (R26).
type Tag struct {
	CallID CallID
	At     time.Time
	By     string
	Text   string
}

// CallbackState is where a callback is in its life (R30).
type CallbackState string

const (
	CallbackScheduled CallbackState = "scheduled"
	CallbackOffered   CallbackState = "offered"
	CallbackDone      CallbackState = "done"
	CallbackCancelled CallbackState = "cancelled"
)

// Callback is a scheduled call back to a customer (R30): personal (Agent set) or to a queue.
type Callback struct {
	ID        string
	CallID    CallID // the call it was scheduled from
	Customer  string // user id, or a phone number for a phone customer
	Name      string // customer display name
	Number    string // phone number to dial, if the customer was on a phone
	Agent     string // personal callback: offered to this agent only
	Queue     string // queue callback: offered to this queue's agents
	Due       time.Time
	Reason    string
	State     CallbackState
	CreatedBy string
	CreatedAt time.Time
}

// CallbackFilter selects callbacks; zero fields match everything.
type CallbackFilter struct {
	Agent string
	Queue string
	State CallbackState
	DueTo time.Time // due before
	Limit int
}

// Store persists call records, callbacks and settings. Implemented by store/ (SQLite); a PostgreSQL
// implementation can follow for several nodes. Every method is safe for concurrent use.
type Store interface {
	// Append writes a record durably before it returns.
	Append(ctx context.Context, r Record) error
	// EndUnfinished marks every call without a call_ended record as ended with reason at time at
	// (crash recovery at start-up) and returns the ids it ended.
	EndUnfinished(ctx context.Context, reason string, at time.Time) ([]CallID, error)
	Calls(ctx context.Context, f CallFilter) ([]CallSummary, error)
	// Timeline is every record of one call in order; ErrNotFound for an unknown call.
	Timeline(ctx context.Context, id CallID) ([]Record, error)
	// SearchTags finds tags whose text contains query (case-insensitive), newest first.
	SearchTags(ctx context.Context, query string, limit int) ([]Tag, error)

	SaveCallback(ctx context.Context, cb Callback) error // insert or update by ID
	Callback(ctx context.Context, id string) (Callback, error)
	Callbacks(ctx context.Context, f CallbackFilter) ([]Callback, error)

	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string) error
	Close() error
}
