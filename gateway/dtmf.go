package gateway

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
