package gateway

import (
	"fmt"
	"strings"
	"time"
)

// dtmfDecoder turns RFC 4733 telephone-event packets into digits. An event is sent as several
// packets with the same RTP timestamp (its start); the last ones carry the end bit and are sent
// three times. A digit is reported once, at its first end packet; a later event whose end packets
// were all lost is reported when the next event starts.
type dtmfDecoder struct {
	started bool
	ts      uint32 // timestamp of the current event
	event   byte
	done    bool // the current event was reported
}

// digits maps event codes 0-15 to their keys (RFC 4733 §3.2).
const digits = "0123456789*#ABCD"

// push reads one telephone-event payload with its RTP timestamp and returns the digits it
// completes (at most two: a previous event that never ended, and this one).
func (d *dtmfDecoder) push(ts uint32, payload []byte) []rune {
	if len(payload) < 4 {
		return nil
	}
	ev, end := payload[0], payload[1]&0x80 != 0
	var out []rune
	if !d.started || ts != d.ts {
		if d.started && !d.done {
			out = appendDigit(out, d.event) // its end packets were lost
		}
		d.started, d.ts, d.event, d.done = true, ts, ev, false
	}
	if end && !d.done {
		d.done = true
		out = appendDigit(out, d.event)
	}
	return out
}

func appendDigit(out []rune, ev byte) []rune {
	if int(ev) < len(digits) {
		return append(out, rune(digits[ev]))
	}
	return out // 16 is flash; others are tones we do not report
}

// DTMF towards the phone (RFC 4733 §2.5). A digit is a tone of digitTicks 20 ms steps: a start
// packet with the marker bit, continuations with a growing duration, then the end packet (E bit)
// sent three times with the same timestamp. The phone's audio from us pauses while a digit plays
// and for the pause after it; digits and audio share the leg's SSRC and sequence numbers.
const (
	digitTicks    = 5   // 100 ms of tone
	digitEndTicks = 2   // the end packet's two retransmissions, one per tick
	pauseTicks    = 3   // 60 ms between digits, counting the retransmissions' ticks
	maxQueued     = 256 // digits queued per leg before SendDigits refuses more
	eventVolume   = 10  // -10 dBm0, as phones send
)

// dtmfSender is the digit a leg is playing. It belongs to the leg's txState (under its mu).
type dtmfSender struct {
	active bool // a digit or the pause after it: audio to the phone is held back
	code   byte
	ts     uint32 // the event's timestamp: where the tone starts
	tick   int    // steps played
}

// SendDigits plays DTMF digits (0-9, *, #, A-D; a-d are taken as A-D) to the phone as RFC 4733
// telephone-events with the payload type and clock rate the phone offered, one after another, about 100 ms of
// tone and 60 ms of pause each. It only queues them: the gateway clock plays them. It is safe
// from any goroutine. A phone that offered no telephone-event gets nothing and the error wraps
// ErrNoDTMF; a string with any other character is refused whole (ErrBadDigit). While the phone
// has us on hold the digits are played to nobody.
func (l *Leg) SendDigits(s string) error {
	if l.event.Load() < 0 {
		return fmt.Errorf("%w: the phone did not offer telephone-event", ErrNoDTMF)
	}
	codes := make([]byte, 0, len(s))
	for _, r := range s {
		if r >= 'a' && r <= 'd' {
			r -= 'a' - 'A'
		}
		i := strings.IndexRune(digits, r)
		if i < 0 {
			return fmt.Errorf("%w: %q", ErrBadDigit, r)
		}
		codes = append(codes, byte(i))
	}
	l.mu.Lock()
	ended := l.ended
	l.mu.Unlock()
	if ended {
		return fmt.Errorf("%w: leg %s", ErrClosed, l.id)
	}
	if len(codes) == 0 {
		return nil
	}
	tx := &l.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if len(tx.digits)+len(codes) > maxQueued {
		return fmt.Errorf("%w: %d digits already queued", ErrDTMFBusy, len(tx.digits))
	}
	tx.digits = append(tx.digits, codes...)
	tx.busy.Store(true)
	return nil
}

// playDigit plays one 20 ms step of the queued digits; the gateway clock calls it while tx.busy.
func (l *Leg) playDigit(now time.Time) {
	tx := &l.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	d := &tx.dtmf
	if !d.active {
		if len(tx.digits) == 0 {
			tx.digits = nil
			tx.busy.Store(false)
			return
		}
		tx.advance(now) // the tone starts where the audio would be now
		d.active, d.code, d.ts, d.tick = true, tx.digits[0], tx.h.Timestamp, 0
		tx.digits = tx.digits[1:]
		l.log.Debug("dtmf digit sent") // never the digit (PCI DSS)
	}
	k := d.tick
	d.tick++
	switch {
	case k < digitTicks+digitEndTicks:
		// The duration counts in the event's clock (8000 or 48000 Hz, as negotiated); the event's
		// timestamp is on the audio's timeline (one SSRC, one timeline), the same clock when the
		// phone offered telephone-event at its codec's rate.
		dur := min(k+1, digitTicks) * int(l.evRate.Load()) / 50
		end := k >= digitTicks-1
		if k == digitTicks-1 {
			// The tone has been played: the audio's timeline resumes after it.
			tx.h.Timestamp = d.ts + digitTicks*tx.frame
			tx.last = now
		}
		r := l.remote.Load()
		if l.sendOK.Load() && r.usable() {
			flags := byte(eventVolume)
			if end {
				flags |= 0x80
			}
			payload := [4]byte{d.code, flags, byte(dur >> 8), byte(dur)}
			ts, pt := tx.h.Timestamp, tx.h.PayloadType
			tx.h.Timestamp, tx.h.PayloadType = d.ts, uint8(l.event.Load())
			tx.marker = k == 0 // the event's first packet
			l.sendLocked(r, payload[:])
			tx.h.Timestamp, tx.h.PayloadType = ts, pt
		}
	case k >= digitTicks+pauseTicks-1:
		d.active = false
		tx.marker = true // the audio, or the next digit, starts afresh
	}
}
