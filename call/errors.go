package call

import "errors"

// Coded is an error that carries its stable protocol code (R28).
type Coded struct {
	code string
	msg  string
}

func (e *Coded) Error() string { return "call: " + e.msg }

// Code is the protocol error code.
func (e *Coded) Code() string { return e.code }

// Is makes errors.Is match by code, so a wrapped refusal with a detailed message still matches
// its sentinel.
func (e *Coded) Is(target error) bool {
	t, ok := target.(*Coded)
	return ok && t.code == e.code
}

func coded(code, msg string) *Coded { return &Coded{code: code, msg: msg} }

// Refusals, each with its code from RULES.md (R28). Wrap them with %w to add detail.
var (
	ErrForbidden      = coded("forbidden", "role may not do this")
	ErrNotFound       = coded("not_found", "no such call, party, queue or offer")
	ErrInvalidState   = coded("invalid_state", "not possible in the current state")
	ErrClosed         = coded("unavailable", "center closed")
	ErrBadRequest     = coded("bad_request", "malformed request")
	ErrModeMultiparty = coded("mode_forbids_multiparty", "the video mode allows two parties only (R3)")
	ErrConferenceFull = coded("conference_full", "a call has at most 8 parties (R10)")
	ErrWrapupAssist   = coded("wrapup_assist", "the customer has left: nobody can be added, held or consulted (R14)")
	ErrHoldConference = coded("hold_in_conference", "hold is not possible during a conference (R16)")
	ErrScreenVideo    = coded("screenshare_needs_all_video", "screen sharing needs every party's video on (R19)")
	ErrLayoutVideo    = coded("layout_needs_all_video", "changing the layout needs every party's video on (R21)")
	ErrAgentBusy      = coded("agent_unavailable", "the agent is not available")
	ErrNoAgent        = coded("no_agent_available", "no agent with that skill is available")
	ErrNoGateway      = coded("gateway_unavailable", "external numbers need the SIP gateway, which is not configured")
	ErrWrapupReason   = coded("bad_wrapup_reason", "not a wrap-up reason of this queue (R27)")
)

// CodeOf returns the protocol code of err ("" when err carries none).
func CodeOf(err error) string {
	var c *Coded
	if errors.As(err, &c) {
		return c.code
	}
	return ""
}

// Reasons a call or a leg ends; they reach clients as strings.
var (
	ReasonHangup        = errors.New("hangup")
	ReasonShutdown      = errors.New("shutdown")
	ReasonMediaFailed   = errors.New("media_failed")
	ReasonDisconnected  = errors.New("disconnected")
	ReasonAbandoned     = errors.New("abandoned")      // the customer left before an agent answered
	ReasonEndedByAgent  = errors.New("ended_by_agent") // the controlling agent ended the call (R13)
	ReasonTransferred   = errors.New("transferred")    // the agent's leg after a transfer (R17, R18)
	ReasonExited        = errors.New("exited")         // an agent exited the conference (R12)
	ReasonConsultEnded  = errors.New("consult_cancelled")
	ReasonServerRestart = errors.New("server_restart") // found unfinished after a crash (R25)
	ReasonAllLeft       = errors.New("all_left")       // fewer than two parties, or no customer and no agent (R13)
)
