package moh

import (
	"math/rand/v2"
	"time"

	"github.com/contactcenter/vcc/media"
	"github.com/pion/rtp"
)

// stream is the RTP state of one source: where it is in the loop and the next header fields. It
// lives across pauses so that a sink removed and added again (hold, resume, hold) sees one stream
// from one SSRC with continuous sequence numbers, not a new one it might mistake for a rewind.
type stream struct {
	asset   *Asset
	fan     *media.Fanout
	pt      uint8
	ssrc    uint32
	seq     uint16
	ts      uint32    // timestamp of the next packet
	pos     int       // index of the next packet in the asset
	marker  bool      // the next packet starts a talkspurt (RFC 3551 §4.1)
	nextDue time.Time // when the next packet would have been sent, set when a run pauses
	paused  bool

	// Scratch space, rebuilt for every packet: a sink that modifies the header or the payload it
	// was handed (it must not, but one bug would do) can then spoil one packet, never the stream
	// state or the asset that every source shares.
	hdr rtp.Header
	buf []byte
}

func newStream(a *Asset, fan *media.Fanout, pt uint8) stream {
	// Random initial values (RFC 3550 §5.1) make packets of an earlier stream, and known-plaintext
	// attacks on SRTP, less useful.
	return stream{
		asset: a, fan: fan, pt: pt,
		ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
		buf: make([]byte, a.maxLen),
	}
}

// resume starts a run at now: from the top of the loop, marked as a new talkspurt, with the
// timestamp advanced by the wall-clock time since the last run paused, as for any paused sender.
func (s *stream) resume(now time.Time) {
	if s.paused {
		if gap := now.Sub(s.nextDue); gap > 0 {
			s.ts += uint32(int64(gap/time.Millisecond) * (sampleRate / 1000))
		}
		s.paused = false
	}
	s.pos = 0
	s.marker = true
}

// pause records when the unsent next packet was due.
func (s *stream) pause(due time.Time) {
	s.nextDue = due
	s.paused = true
}

// nextDuration is the duration of the next packet in samples.
func (s *stream) nextDuration() int { return int(s.asset.durs[s.pos]) }

// send delivers the next packet to every sink and returns its duration in samples. It allocates
// nothing: the header and payload are written into the stream's scratch space.
func (s *stream) send() int {
	if s.fan.Len() == 0 {
		// The last sink went between the run's check for stop and now: nobody would get this
		// packet, so it must not use up a sequence number that the next listener would take
		// for a loss.
		return s.advance()
	}
	n := copy(s.buf, s.asset.packet(s.pos))
	s.hdr = rtp.Header{
		Version:        2,
		Marker:         s.marker,
		PayloadType:    s.pt,
		SequenceNumber: s.seq,
		Timestamp:      s.ts,
		SSRC:           s.ssrc,
	}
	s.fan.Write(&s.hdr, s.buf[:n])
	s.marker = false
	s.seq++
	return s.advance()
}

// skip passes over the next packet without sending it: the timestamp moves on but the sequence
// number does not, which is how a sender signals a pause rather than loss, and the packet after
// the gap starts a new talkspurt.
func (s *stream) skip() int {
	s.marker = true
	return s.advance()
}

func (s *stream) advance() int {
	d := int(s.asset.durs[s.pos])
	s.ts += uint32(d)
	if s.pos++; s.pos == len(s.asset.durs) {
		s.pos = 0
	}
	return d
}
