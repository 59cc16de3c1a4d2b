package gateway

import (
	"fmt"
	"slices"
	"time"

	"github.com/contactcenter/vcc/media/audio"
)

// The transcoding between a phone's G.711 at 8 kHz and the rooms' Opus at 48 kHz, one direction
// per type. Neither touches the network: a leg feeds them packets and sends what they return, so
// tests can run them on their own. Each belongs to one goroutine.

const (
	frame8  = 160 // samples in 20 ms at 8 kHz: one G.711 packet
	frame48 = 960 // samples in 20 ms at 48 kHz: one Opus packet
)

// g711 decodes and encodes one of the two laws.
type g711 struct {
	decode func(dst []int16, codes []byte) []int16
	encode func(dst []byte, pcm []int16) []byte
}

func lawOf(pt uint8) g711 {
	if pt == ptPCMA {
		return g711{audio.DecodeALaw, audio.EncodeALaw}
	}
	return g711{audio.DecodeULaw, audio.EncodeULaw}
}

// upBridge is the phone-to-room direction: G.711 packets go into a jitter buffer; every 20 ms Tick
// releases one frame (concealing a lost one), resamples it to 48 kHz and encodes it as Opus.
type upBridge struct {
	law   g711
	jb    *audio.JitterBuffer
	rs    *audio.Resampler
	enc   *audio.OpusEncoder
	pcm8  []int16 // the frame being played
	last  []int16 // the last good frame, repeated (fading) over a loss
	lost  int     // consecutive frames concealed
	fifo  []int16 // 48 kHz samples waiting for a whole 20 ms frame
	frame []int16 // the 20 ms at 48 kHz released by the last Frame
	opus  []byte
	heard bool // a frame has been played since the start (or since the buffer idled)
}

func newUpBridge(pt uint8) (*upBridge, error) {
	jb, err := audio.NewJitterBuffer(audio.JitterConfig{ClockRate: 8000, Target: 40 * time.Millisecond, Max: 200 * time.Millisecond, MaxPayload: 1500})
	if err != nil {
		return nil, err
	}
	rs, err := audio.NewResampler(audio.ResamplerConfig{From: 8000, To: audio.OpusSampleRate})
	if err != nil {
		return nil, err
	}
	enc, err := audio.NewOpusEncoder(audio.OpusConfig{BitrateKbps: 24})
	if err != nil {
		return nil, err
	}
	return &upBridge{
		law: lawOf(pt), jb: jb, rs: rs, enc: enc,
		pcm8: make([]int16, 0, 1500), last: make([]int16, 0, 1500),
		fifo: make([]int16, 0, 4*frame48), opus: make([]byte, 1500),
	}, nil
}

// Push buffers one G.711 packet. Late and duplicate packets are dropped (their errors are normal).
func (u *upBridge) Push(seq uint16, ts uint32, payload []byte) error {
	return u.jb.Push(seq, ts, payload)
}

// Reset starts a new stream (the phone's SSRC changed).
func (u *upBridge) Reset() { u.jb.Reset() }

// Skip releases one frame unplayed: nobody receives the phone's voice, but the buffer keeps
// its pace, ready for when someone does.
func (u *upBridge) Skip() { u.jb.Pop() }

// Restart forgets the audio before a pause in the encoding (between Skips and Ticks): the next
// frame is a fresh start, with no tail to conceal or resample.
func (u *upBridge) Restart() {
	u.heard, u.lost = false, 0
	u.last = u.last[:0]
	u.fifo = u.fifo[:0]
	u.rs.Reset()
}

// Tick plays one 20 ms frame and returns an Opus packet when one is complete, nil when there is
// nothing to send (the buffer is filling, or the phone is silent: on hold, or gone).
func (u *upBridge) Tick() ([]byte, error) {
	frame, err := u.Frame()
	if err != nil || frame == nil {
		return nil, err
	}
	pkt, err := u.enc.Encode(frame, u.opus)
	if err != nil {
		return nil, fmt.Errorf("gateway: opus encode: %w", err)
	}
	return pkt, nil
}

// Frame plays one 20 ms frame and returns it as 48 kHz PCM when one is complete (valid until the
// next call), nil when there is nothing to send. Tick encodes it; a PCM receiver (the MCU's mixer)
// takes it as it is.
func (u *upBridge) Frame() ([]int16, error) {
	payload, missing := u.jb.Pop()
	switch {
	case payload != nil:
		u.pcm8 = u.law.decode(u.pcm8[:0], payload)
		u.last = append(u.last[:0], u.pcm8...)
		u.lost = 0
		u.heard = true
	case missing && u.heard:
		// Conceal: repeat the last frame, halving it each time; silence after a few.
		u.lost++
		u.pcm8 = append(u.pcm8[:0], u.last...)
		if len(u.pcm8) == 0 {
			u.pcm8 = append(u.pcm8, make([]int16, frame8)...)
		}
		for i := range u.pcm8 {
			if u.lost > 4 {
				u.pcm8[i] = 0
			} else {
				u.pcm8[i] >>= u.lost
			}
		}
	default:
		if u.heard {
			// The buffer went idle: the next frame is a fresh start, with no tail to conceal.
			u.heard = false
			u.rs.Reset()
			u.fifo = u.fifo[:0]
		}
		return nil, nil
	}
	n := len(u.fifo)
	out := u.rs.OutLen(len(u.pcm8))
	u.fifo = slices.Grow(u.fifo, out)[:n+out]
	if _, err := u.rs.Process(u.fifo[n:n+out], u.pcm8); err != nil {
		u.fifo = u.fifo[:n]
		return nil, err
	}
	if len(u.fifo) < frame48 {
		return nil, nil
	}
	u.frame = append(u.frame[:0], u.fifo[:frame48]...)
	rest := copy(u.fifo, u.fifo[frame48:])
	u.fifo = u.fifo[:rest]
	return u.frame, nil
}

// downBridge is the room-to-phone direction: Opus packets are decoded to 48 kHz, resampled to
// 8 kHz and cut into 20 ms G.711 payloads. It runs once per arriving packet, so what it sends is
// paced by the source.
type downBridge struct {
	law    g711
	dec    *audio.OpusDecoder
	rs     *audio.Resampler
	pcm48  []int16
	fifo   []int16 // 8 kHz samples waiting for a whole G.711 frame
	pcm8   []int16
	out    []byte
	seq    uint16
	seeded bool
}

func newDownBridge(pt uint8) (*downBridge, error) {
	dec, err := audio.NewOpusDecoder()
	if err != nil {
		return nil, err
	}
	rs, err := audio.NewResampler(audio.ResamplerConfig{From: audio.OpusSampleRate, To: 8000})
	if err != nil {
		return nil, err
	}
	return &downBridge{law: lawOf(pt), dec: dec, rs: rs, pcm48: make([]int16, 5760),
		fifo: make([]int16, 0, 4*frame8), pcm8: make([]int16, 960), out: make([]byte, 0, 960)}, nil
}

// Restart forgets the previous stream: the next packet comes from another source.
func (d *downBridge) Restart() error {
	dec, err := audio.NewOpusDecoder()
	if err != nil {
		return err
	}
	d.dec, d.seeded, d.fifo = dec, false, d.fifo[:0]
	d.rs.Reset()
	return nil
}

// Push decodes one Opus packet (concealing up to three lost ones before it) and calls emit with
// each complete G.711 payload, valid only during the call.
func (d *downBridge) Push(seq uint16, payload []byte, emit func([]byte)) error {
	if d.seeded {
		gap := int(uint16(seq - d.seq))
		if gap == 0 || gap > 0x8000 {
			return nil // a duplicate or a late packet
		}
		for i := 1; i < gap && i <= 3; i++ {
			n, err := d.dec.DecodePLC(payload, d.pcm48[:frame48])
			if err == nil {
				d.feed(d.pcm48[:n], emit)
			}
		}
	}
	d.seq, d.seeded = seq, true
	n, err := d.dec.Decode(payload, d.pcm48)
	if err != nil {
		return err
	}
	d.feed(d.pcm48[:n], emit)
	return nil
}

func (d *downBridge) feed(pcm []int16, emit func([]byte)) {
	// Opus frames are multiples of 2.5 ms (120 samples), always a multiple of the ratio 6.
	pcm = pcm[:len(pcm)-len(pcm)%6]
	out, err := d.rs.Process(d.pcm8[:cap(d.pcm8)], pcm)
	if err != nil {
		return
	}
	d.fifo = append(d.fifo, out...)
	for len(d.fifo) >= frame8 {
		d.out = d.law.encode(d.out[:0], d.fifo[:frame8])
		emit(d.out)
		rest := copy(d.fifo, d.fifo[frame8:])
		d.fifo = d.fifo[:rest]
	}
}
