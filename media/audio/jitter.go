package audio

import (
	"fmt"
	"sync"
	"time"
)

// JitterConfig configures NewJitterBuffer. Zero fields take the defaults noted.
type JitterConfig struct {
	ClockRate int           // RTP clock rate: 48000 (default, Opus) or 8000 (G.711)
	Frame     time.Duration // audio per packet, 20 ms (default); one packet is one frame
	// Target is the depth built up before playout starts (default 60 ms): enough to absorb the
	// jitter of a decent network path without the delay being noticeable in conversation.
	Target time.Duration
	// Max bounds the audio held (default 200 ms); a burst beyond it drops the oldest frames, so the
	// delay a party hears never grows past it.
	Max        time.Duration
	MaxPayload int // largest payload accepted, default 1500 bytes (a whole MTU)
	// Adapt lets the playout delay follow the path's jitter: each packet that arrives too late to
	// play adds one frame of delay (one concealed frame is played to make room), up to Max less a
	// frame; after AdaptWindow (default 10 s) with no late packet, one frame is dropped to take a
	// frame of delay back, down to Target. A path that jitters once in a while costs a little
	// delay for a while, instead of a lost frame every time it does.
	Adapt       bool
	AdaptWindow time.Duration
}

// JitterStats counts what a JitterBuffer did, for metrics.
type JitterStats struct {
	Pushed, Played, Lost, Late, Duplicate uint64
	Overflow                              uint64 // frames dropped unplayed to keep the delay under Max
	Grown, Shrunk                         uint64 // frames of delay added after late packets, and taken back (Adapt)
	Resets                                uint64 // discontinuities (sequence or timestamp jumps) that restarted the stream
	Idle                                  uint64 // times the source fell silent for longer than Max and stopped being concealed
}

// JitterBuffer reorders one RTP audio source's packets and releases one frame per Pop, telling the
// caller which frames are missing so it can conceal them (Opus PLC/FEC, or silence for G.711).
//
// Packets are keyed by sequence number, extended past the 16-bit wrap; the timestamp only checks the
// stream is continuous: a packet whose sequence or timestamp jumps by more than Max from where the
// stream was (a new SSRC, a sender restart, a long DTX pause) resets the buffer and starts afresh from
// it. Call Reset when the SSRC changes. Push and Pop may run on different goroutines (network reader
// and room clock); a mutex guards the state and is held only for a copy.
type JitterBuffer struct {
	mu         sync.Mutex
	frameTS    int64 // timestamp units per frame
	maxTS      int64 // timestamp distance that counts as a discontinuity
	target     int64 // frames to hold before playout starts
	maxPayload int

	// Adapt: delay is the depth playout aims at (target..len(slots)-1), stall the frames of delay
	// still to add, quiet the Pops since the last late packet.
	adapt  bool
	window int64
	delay  int64
	stall  int64
	quiet  int64
	slots  []jbSlot // ring of Max/Frame frames, indexed by extended sequence
	out    []byte   // what Pop returns, so a concurrent Push never overwrites it

	started  bool   // a packet has been seen since the last reset
	playing  bool   // target depth was reached; Pop releases frames
	next     int64  // extended sequence Pop releases next
	high     int64  // highest extended sequence received
	highTS   uint32 // its timestamp
	underrun int64  // consecutive Pops that found nothing buffered at all
	stats    JitterStats
}

type jbSlot struct {
	ext  int64
	full bool
	n    int
	buf  []byte // fixed window into one backing array: the buffer's pooled storage
}

// seqBase offsets extended sequence numbers so they stay positive however far back a packet reaches.
const seqBase = 1 << 32

// NewJitterBuffer returns an empty buffer for cfg.
func NewJitterBuffer(cfg JitterConfig) (*JitterBuffer, error) {
	if cfg.ClockRate == 0 {
		cfg.ClockRate = OpusSampleRate
	}
	if cfg.Frame == 0 {
		cfg.Frame = 20 * time.Millisecond
	}
	if cfg.Target == 0 {
		cfg.Target = 60 * time.Millisecond
	}
	if cfg.Max == 0 {
		cfg.Max = 200 * time.Millisecond
	}
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = 1500
	}
	if cfg.AdaptWindow == 0 {
		cfg.AdaptWindow = 10 * time.Second
	}
	frameTS := int64(cfg.ClockRate) * int64(cfg.Frame) / int64(time.Second)
	if cfg.ClockRate < 0 || cfg.Frame < 0 || frameTS <= 0 || cfg.Target < 0 || cfg.Max < cfg.Frame ||
		cfg.Target > cfg.Max || cfg.MaxPayload < 0 || cfg.AdaptWindow < cfg.Frame {
		return nil, fmt.Errorf("%w: jitter buffer %+v", ErrConfig, cfg)
	}
	n := int(cfg.Max / cfg.Frame)
	target := max(int64(cfg.Target/cfg.Frame), 1)
	j := &JitterBuffer{
		frameTS:    frameTS,
		maxTS:      frameTS * int64(n),
		target:     target,
		maxPayload: cfg.MaxPayload,
		adapt:      cfg.Adapt,
		window:     int64(cfg.AdaptWindow / cfg.Frame),
		delay:      target,
		slots:      make([]jbSlot, n),
		out:        make([]byte, 0, cfg.MaxPayload),
	}
	store := make([]byte, n*cfg.MaxPayload)
	for i := range j.slots {
		j.slots[i].buf = store[i*cfg.MaxPayload : (i+1)*cfg.MaxPayload : (i+1)*cfg.MaxPayload]
	}
	return j, nil
}

func (j *JitterBuffer) slot(ext int64) *jbSlot { return &j.slots[ext%int64(len(j.slots))] }

// Push stores a copy of payload for the packet (seq, ts). A late packet (its frame already played or
// concealed) or a duplicate is dropped with ErrLate or ErrDuplicate; those are normal on a real
// network, so callers count rather than log them.
func (j *JitterBuffer) Push(seq uint16, ts uint32, payload []byte) error {
	if len(payload) == 0 {
		return ErrEmptyPayload
	}
	if len(payload) > j.maxPayload {
		return fmt.Errorf("%w: %d bytes", ErrPayloadTooLarge, len(payload))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stats.Pushed++
	if !j.started {
		j.start(seq, ts)
	}
	ext := j.high + int64(int16(seq-uint16(j.high)))
	d := ext - j.high
	if tsOff := int64(int32(ts - j.highTS - uint32(d*j.frameTS))); tsOff > j.maxTS || tsOff < -j.maxTS ||
		d > int64(len(j.slots))*4 || d < -int64(len(j.slots))*4 {
		// A discontinuity, not jitter: whatever is buffered belongs to the old stream.
		j.stats.Resets++
		j.reset()
		j.start(seq, ts)
		ext = j.high
	}
	if ext < j.next {
		if j.playing || j.high-ext >= int64(len(j.slots)) {
			j.stats.Late++
			if j.adapt && j.playing {
				// Enough concealed frames to have played it in time: as many frames of delay as
				// it missed its turn by.
				j.stall = max(j.stall, min(j.next-ext, int64(len(j.slots))-1-j.delay))
				j.quiet = 0
			}
			return ErrLate
		}
		// Nothing has played yet: an early packet arrived out of order, so start from it instead.
		j.next = ext
	}
	if limit := j.next + int64(len(j.slots)); ext >= limit {
		// More than Max ahead of playout: drop the oldest frames so the delay stays bounded.
		newNext := ext - int64(len(j.slots)) + 1
		for e := j.next; e < newNext; e++ {
			if s := j.slot(e); s.full && s.ext == e {
				s.full = false
				j.stats.Overflow++
			}
		}
		j.next = newNext
	}
	if j.adapt && j.playing && ext <= j.next {
		// A close call: with a frame less of delay it would have been late. Not yet time to shrink.
		j.quiet = 0
	}
	s := j.slot(ext)
	if s.full && s.ext == ext {
		j.stats.Duplicate++
		return ErrDuplicate
	}
	s.ext, s.full, s.n = ext, true, copy(s.buf, payload)
	if ext > j.high {
		j.high, j.highTS = ext, ts
	}
	return nil
}

// Pop releases the next 20 ms frame, called once per frame by the room clock. It returns:
//   - (payload, false): the frame's payload, valid until the next Pop;
//   - (nil, true): the frame is missing; conceal it (Opus DecodePLC, G.711 silence or repeat);
//   - (nil, false): nothing to play: the buffer is still filling to its target depth, or the source
//     has been silent longer than Max and is treated as gone; contribute silence, no PLC.
func (j *JitterBuffer) Pop() ([]byte, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.started {
		return nil, false
	}
	if !j.playing {
		if j.high-j.next+1 < j.delay { // the learned delay (Target unless Adapt grew it)
			return nil, false
		}
		j.playing = true
	}
	if j.adapt {
		if j.stall > 0 {
			j.stall--
			j.delay++
			j.stats.Grown++
			return nil, true
		}
		if j.quiet++; j.quiet >= j.window && j.delay > j.target && j.high-j.next+1 > j.delay-1 {
			// A quiet path: take a frame of delay back by skipping the oldest buffered frame.
			j.quiet = 0
			j.delay--
			j.stats.Shrunk++
			if s := j.slot(j.next); s.full && s.ext == j.next {
				s.full = false
			}
			j.next++
		}
	}
	e := j.next
	j.next++
	if s := j.slot(e); s.full && s.ext == e {
		s.full = false
		j.underrun = 0
		j.stats.Played++
		j.out = append(j.out[:0], s.buf[:s.n]...)
		return j.out, false
	}
	if e > j.high {
		// Nothing at all is buffered. Conceal for up to Max, then stop: the sender has paused (DTX,
		// hold, mute) or left, and a fresh start on its next packet beats concealing forever.
		j.underrun++
		if j.underrun > int64(len(j.slots)) {
			j.stats.Idle++
			j.reset()
			return nil, false
		}
	}
	j.stats.Lost++
	return nil, true
}

// Len is the number of frames buffered and not yet released.
func (j *JitterBuffer) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for i := range j.slots {
		if j.slots[i].full {
			n++
		}
	}
	return n
}

// Stats returns the counters since construction.
func (j *JitterBuffer) Stats() JitterStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stats
}

// Reset drops everything buffered; the next Push starts a new stream. Call it on an SSRC change.
func (j *JitterBuffer) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reset()
}

func (j *JitterBuffer) reset() {
	for i := range j.slots {
		j.slots[i].full = false
	}
	j.started, j.playing, j.underrun = false, false, 0
	j.stall, j.quiet = 0, 0 // the learned delay stays: the path has not changed
}

func (j *JitterBuffer) start(seq uint16, ts uint32) {
	j.started, j.playing, j.underrun = true, false, 0
	j.high, j.highTS = seqBase+int64(seq), ts
	j.next = j.high
}
