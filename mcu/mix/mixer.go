// Package mix is the MCU's audio mixer: one Mixer per room, producing a mix-minus for each party.
//
// Mix-minus: each person hears everyone but themselves. Hearing your own voice come back ~100 ms
// late (network + jitter buffer + codec) is the echo that makes people stop talking, so every party
// gets the room's sum minus its own contribution. The sum is computed once per tick and each party's
// own frame subtracted from it, so an N-party room costs N+N passes over a frame rather than N*N.
package mix

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Config configures NewMixer. Zero fields take the defaults noted.
type Config struct {
	SampleRate int           // 48000 (default): Opus's rate; phone legs are resampled to it
	Channels   int           // 1 (default): speech rooms are mono
	Tick       time.Duration // 20 ms (default): the room clock's period and the Opus frame length
}

// Mixer mixes one room's audio. Add, Remove and Input.Write may be called from any goroutine; Mix is
// called by the room clock alone, once per tick.
type Mixer struct {
	frame int // samples per tick, all channels

	mu     sync.Mutex
	inputs []*Input // in join order, so outputs are produced in a stable order

	// Owned by the Mix goroutine; reused every tick so a tick allocates nothing.
	snap []*Input
	acc  []int32 // the sum of every fresh frame; int32 holds 65536 full-scale int16s
	out  []int16
}

// Input is one party's contribution. Write the party's decoded frame each tick; a tick without a
// Write counts as silence, so a party whose packets stop simply drops out of the mix.
type Input struct {
	id string
	n  int // frame length; fixed, so Write checks it without the lock

	mu      sync.Mutex
	pending []int16 // the last frame written since the previous tick
	fresh   bool    // pending holds a frame for the coming tick
	removed bool

	cur    []int16 // the frame being mixed this tick; swapped with pending, never copied
	active bool    // cur holds audio this tick (else the party contributes silence)
}

// NewMixer returns an empty mixer for cfg.
func NewMixer(cfg Config) (*Mixer, error) {
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 48000
	}
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	if cfg.Tick == 0 {
		cfg.Tick = 20 * time.Millisecond
	}
	frame := int(int64(cfg.SampleRate)*int64(cfg.Tick)/int64(time.Second)) * cfg.Channels
	if cfg.SampleRate < 0 || cfg.Channels < 1 || cfg.Channels > 2 || cfg.Tick < 0 || frame <= 0 {
		return nil, fmt.Errorf("%w: %+v", ErrConfig, cfg)
	}
	return &Mixer{frame: frame, acc: make([]int32, frame), out: make([]int16, frame)}, nil
}

// FrameLen is the number of int16 samples (all channels, interleaved) in one tick's frame.
func (m *Mixer) FrameLen() int { return m.frame }

// Add joins a party and returns its input. Adding an id already present returns the existing input,
// so a re-join after renegotiation does not duplicate the party in everyone's mix.
func (m *Mixer) Add(id string) *Input {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range m.inputs {
		if in.id == id {
			return in
		}
	}
	in := &Input{id: id, n: m.frame, pending: make([]int16, m.frame), cur: make([]int16, m.frame)}
	m.inputs = append(m.inputs, in)
	return in
}

// Remove takes a party out of the room: from the next tick it is neither heard nor given a mix.
// Removing an unknown id does nothing.
func (m *Mixer) Remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, in := range m.inputs {
		if in.id == id {
			in.mu.Lock()
			in.removed = true
			in.mu.Unlock()
			m.inputs = slices.Delete(m.inputs, i, i+1) // clears the vacated slot, so it can be collected
			return
		}
	}
}

// Len is the number of parties in the room.
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.inputs)
}

// ID is the party the input belongs to.
func (in *Input) ID() string { return in.id }

// Write copies one tick of the party's audio (decoded, or its PLC frame for a lost packet) for the
// next Mix. len(pcm) must be the mixer's FrameLen. Writing twice before a tick keeps the later frame:
// the mixer plays the freshest audio rather than falling behind.
func (in *Input) Write(pcm []int16) error {
	if len(pcm) != in.n {
		return fmt.Errorf("%w: %d samples, want %d", ErrFrameSize, len(pcm), in.n)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.removed {
		return ErrRemoved
	}
	copy(in.pending, pcm)
	in.fresh = true
	return nil
}

// Mix runs one tick: it takes each party's fresh frame (silence for a party that wrote none), sums
// them once, then calls out for each party, in join order, with the sum minus that party's own frame,
// saturated to int16. mixMinus is the mixer's buffer, valid only during the call: encode or copy it
// there. out may call Add, Remove and Write (they take effect next tick) but not Mix. A room with no
// parties does nothing. Returns how many parties contributed audio this tick.
func (m *Mixer) Mix(out func(id string, mixMinus []int16)) int {
	m.mu.Lock()
	if len(m.inputs) == 0 {
		m.mu.Unlock()
		return 0
	}
	m.snap = append(m.snap[:0], m.inputs...)
	m.mu.Unlock()

	acc := m.acc
	clear(acc)
	active := 0
	for _, in := range m.snap {
		in.mu.Lock()
		in.active = in.fresh
		if in.fresh {
			in.pending, in.cur = in.cur, in.pending // swap: Write fills the other buffer next tick
			in.fresh = false
		}
		in.mu.Unlock()
		if !in.active {
			continue
		}
		active++
		cur := in.cur[:len(acc)]
		for i, v := range cur {
			acc[i] += int32(v)
		}
	}

	o := m.out[:len(acc)]
	for _, in := range m.snap {
		if in.active {
			cur := in.cur[:len(acc)]
			for i, a := range acc {
				o[i] = sat(a - int32(cur[i]))
			}
		} else {
			for i, a := range acc {
				o[i] = sat(a)
			}
		}
		out(in.id, o)
	}
	clear(m.snap) // drop references so removed inputs are not kept alive by the snapshot
	return active
}

func sat(v int32) int16 {
	return int16(min(max(v, math.MinInt16), math.MaxInt16))
}
