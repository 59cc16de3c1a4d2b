package gateway

import (
	"errors"
	"fmt"

	"github.com/contactcenter/vcc/call"
)

var (
	// ErrNoSDP: an INVITE (or its answer) without a session description (SIP 488).
	ErrNoSDP = errors.New("gateway: no session description")
	// ErrBadSDP: a session description that does not parse (SIP 488).
	ErrBadSDP = errors.New("gateway: malformed session description")
	// ErrNoCodec: no audio stream in a codec a phone leg speaks (PCMU, PCMA) (SIP 488).
	ErrNoCodec = errors.New("gateway: no common codec")
	// ErrConfig: a configuration New cannot honour.
	ErrConfig = errors.New("gateway: invalid config")
	// ErrNoTrunk: Dial without a configured trunk.
	ErrNoTrunk = errors.New("gateway: no trunk configured")
	// ErrClosed: the gateway or the leg is closed.
	ErrClosed = errors.New("gateway: closed")
	// ErrUnsupportedSource: Attach of a source a phone cannot receive (video, or audio not Opus).
	ErrUnsupportedSource = fmt.Errorf("gateway: a phone receives Opus audio only (%w)", call.ErrMediaUnsupported)
	// ErrNoPorts: no free RTP port in the configured range.
	ErrNoPorts = errors.New("gateway: no free RTP port")

	// ErrNoDTMF: SendDigits to a phone that did not offer telephone-event (RFC 4733).
	ErrNoDTMF = errors.New("gateway: the phone takes no DTMF")
	// ErrBadDigit: SendDigits with a character that is not a DTMF key (0-9, *, #, A-D).
	ErrBadDigit = errors.New("gateway: not a DTMF digit")
	// ErrDTMFBusy: SendDigits while too many digits wait to be played.
	ErrDTMFBusy = errors.New("gateway: too many DTMF digits queued")

	// ErrRTPTimeout ends a leg whose phone sent no RTP for the configured timeout.
	ErrRTPTimeout = errors.New("rtp_timeout")
	// ErrDialFailed is matched by every DialError.
	ErrDialFailed = errors.New("gateway: dial failed")
)

// DialError is why an outbound call did not connect: the SIP final response's status (0 when none
// came: a timeout, a transport error, a cancel) and a short outcome the call shows the agent
// ("busy", "no_answer", "rejected", "cancelled", "failed").
type DialError struct {
	Outcome string
	Status  int
	Err     error // the underlying cause, if any
}

func (e *DialError) Error() string {
	if e.Status > 0 {
		return fmt.Sprintf("%s (%d)", e.Outcome, e.Status)
	}
	return e.Outcome
}

func (e *DialError) Unwrap() []error { return []error{ErrDialFailed, e.Err} }

// outcome names a final failure status the way the call shows it.
func outcome(status int) string {
	switch status {
	case 486, 600:
		return "busy"
	case 408, 480:
		return "no_answer"
	case 487:
		return "cancelled"
	case 403, 603:
		return "rejected"
	case 404, 484, 604:
		return "not_found"
	}
	return "failed"
}
