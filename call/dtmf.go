package call

import (
	"fmt"
	"strings"
)

// DTMF: a phone party's keypad reaches the agents (a customer typing an account number), and an
// agent can key digits to a phone party (working an external IVR during a consult). Digits are
// deliberately not written to the call record: callers key card numbers and PINs (PCI DSS), so the
// record keeps only that digits were sent, never which.

// DigitReceiver is an endpoint whose party can key digits (a phone leg).
type DigitReceiver interface{ OnDigit(func(rune)) }

// DigitSender is an endpoint that can play digits to its party (a phone leg).
type DigitSender interface{ SendDigits(string) error }

type (
	// PhoneDigit is a digit keyed by a phone party (system command, from its endpoint).
	PhoneDigit struct {
		Party PartyID
		Digit rune
	}
	// SendDigits is an agent keying digits to a phone party of the call.
	SendDigits struct {
		By, To PartyID
		Digits string
	}
)

func (PhoneDigit) command() {}
func (SendDigits) command() {}

// DigitKeyed tells agents and supervisors of a call that a phone party keyed a digit.
type DigitKeyed struct {
	CallID CallID
	From   PartyID
	Digit  rune
}

func (DigitKeyed) event() {}

type (
	// TellStaff delivers an event to the call's agents and supervisors only (R23's audience).
	TellStaff struct{ Event Event }
	// PlayDigits has the party's endpoint play digits to it.
	PlayDigits struct {
		To     PartyID
		Digits string
	}
)

func (TellStaff) effect()  {}
func (PlayDigits) effect() {}

// MaxDigits bounds one SendDigits: enough for any IVR input, small enough to stay a keypad.
const MaxDigits = 32

func validDigits(s string) bool {
	if s == "" || len(s) > MaxDigits {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789*#ABCD", c) {
			return false
		}
	}
	return true
}

func (r *rules) phoneDigit(c PhoneDigit) error {
	p, err := r.actor(c.Party)
	if err != nil {
		return err
	}
	if !p.Phone || !validDigits(string(c.Digit)) {
		return fmt.Errorf("%w: not a phone digit", ErrBadRequest)
	}
	r.emit(TellStaff{Event: DigitKeyed{CallID: r.s.ID, From: p.ID(), Digit: c.Digit}})
	return nil
}

func (r *rules) sendDigits(c SendDigits) error {
	p, err := r.agentActor(c.By)
	if err != nil {
		return err
	}
	to, ok := r.s.party(c.To)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s is not a party of this call", ErrNotFound, c.To)
	case !to.Phone:
		return fmt.Errorf("%w: %s is not on a phone", ErrInvalidState, c.To)
	case !validDigits(c.Digits):
		return fmt.Errorf("%w: digits must be 1-%d of 0-9 * # A-D", ErrBadRequest, MaxDigits)
	}
	r.log(RecDigitsSent, string(p.ID()), string(p.As), "to", string(c.To), "count", fmt.Sprint(len(c.Digits)))
	r.emit(PlayDigits{To: c.To, Digits: c.Digits})
	return nil
}
