package media

import "github.com/pion/rtp"

// Rewriter keeps one outgoing stream's sequence numbers and timestamps continuous when the input
// behind it changes (a new SSRC: the sender restarted, or the room switched the stream from a
// forwarded track to a composite). Receivers treat a jump as loss or a new stream; a continuous
// sequence avoids both. Not safe for concurrent use: one source feeds one outgoing stream.
type Rewriter struct {
	started bool
	inSSRC  uint32
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16
	lastTS  uint32
}

// tsGap is the timestamp step inserted at a switch; one 90 kHz video frame at 30 fps.
const tsGap = 3000

// Rewrite maps the input header's sequence number and timestamp to the output's.
func (r *Rewriter) Rewrite(h *rtp.Header) (seq uint16, ts uint32) {
	switch {
	case !r.started:
		r.started = true
		r.inSSRC = h.SSRC
	case h.SSRC != r.inSSRC:
		r.inSSRC = h.SSRC
		r.seqOff = r.lastSeq + 1 - h.SequenceNumber
		r.tsOff = r.lastTS + tsGap - h.Timestamp
	}
	seq = h.SequenceNumber + r.seqOff
	ts = h.Timestamp + r.tsOff
	// Only move forward: a reordered (older) packet must not pull the switch point back.
	if int16(seq-r.lastSeq) > 0 || r.lastSeq == 0 && r.lastTS == 0 {
		r.lastSeq = seq
		r.lastTS = ts
	}
	return seq, ts
}
