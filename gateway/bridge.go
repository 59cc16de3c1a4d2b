package gateway

import (
	"fmt"
	"time"

	"github.com/hraban/opus"

	"github.com/contactcenter/vcc/media/audio"
)

// The transcoding between a phone's G.711 at 8 kHz and the rooms' Opus, one direction per type.
// Opus is encoded from and decoded to 8 kHz directly (libopus takes and gives 8 kHz; the packets
// are ordinary Opus, 48 kHz on the wire): a phone has no more than 4 kHz of audio to give, and the
// resampling and the wideband encoding it would cost are saved. The MCU's mixer works on 48 kHz PCM,
// so that path alone resamples. Neither type touches the network: a leg feeds them packets and
// sends what they return, so tests can run them on their own. Each belongs to one goroutine.

const (
	frame8  = 160 // samples in 20 ms at 8 kHz: one G.711 packet
	frame48 = 960 // samples in 20 ms at 48 kHz: one Opus packet's RTP timestamp step

	// phoneOpusBitrate and phoneOpusComplexity set the encoder of a phone's voice: 24 kbit/s is
	// transparent for narrowband speech. Complexity 1 rather than 5: on sipp's speech sample the
	// decoded result is as far from the original at 1 as at 5 or 10 (log-spectral distance
	// 3.7-3.9 dB; the source is G.711 already), and a bridged leg costs 4.5 ms of CPU per second
	// instead of 7.5 (docs/BENCHMARKS-sip.md).
	phoneOpusBitrate    = 24000
	phoneOpusComplexity = 1
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

// upBridge is the phone-to-room direction: G.711 packets go into a jitter buffer; every 20 ms Next
// releases one 8 kHz frame (concealing a lost one), which Encode turns into Opus and Upsample into
// 48 kHz PCM for a mixer.
type upBridge struct {
	law   g711
	jb    *audio.JitterBuffer
	enc   *opus.Encoder
	rs    *audio.Resampler // 8 -> 48 kHz, for PCM sinks only
	pcm8  []int16          // the packet being played
	last  []int16          // the last good packet, repeated (fading) over a loss
	lost  int              // consecutive packets concealed
	fifo  []int16          // 8 kHz samples waiting for a whole 20 ms frame (packets of other lengths)
	frame []int16          // the frame Next released
	up    []int16          // the frame Upsample made
	opus  []byte
	heard bool // a frame has been played since the start (or since the buffer idled)
	// Skip's pace: samples released unplayed beyond whole frames, and the phone's packet length.
	owed, pktLen int
}

func newUpBridge(pt uint8) (*upBridge, error) {
	jb, err := audio.NewJitterBuffer(audio.JitterConfig{ClockRate: 8000, Target: 40 * time.Millisecond, Max: 200 * time.Millisecond, MaxPayload: 1500, Adapt: true})
	if err != nil {
		return nil, err
	}
	rs, err := audio.NewResampler(audio.ResamplerConfig{From: 8000, To: audio.OpusSampleRate})
	if err != nil {
		return nil, err
	}
	enc, err := newNarrowbandEncoder()
	if err != nil {
		return nil, err
	}
	return &upBridge{
		law: lawOf(pt), jb: jb, rs: rs, enc: enc,
		pcm8: make([]int16, 0, 1500), last: make([]int16, 0, 1500),
		fifo: make([]int16, 0, frame8+1500), pktLen: frame8, frame: make([]int16, frame8), up: make([]int16, frame48),
		opus: make([]byte, 1500),
	}, nil
}

// newNarrowbandEncoder is an Opus encoder of a phone's 8 kHz audio, taken at 8 kHz as it is.
func newNarrowbandEncoder() (*opus.Encoder, error) {
	enc, err := opus.NewEncoder(8000, 1, opus.AppVoIP)
	if err == nil {
		err = enc.SetBitrate(phoneOpusBitrate)
	}
	if err == nil {
		err = enc.SetComplexity(phoneOpusComplexity)
	}
	if err != nil {
		return nil, fmt.Errorf("gateway: opus encoder: %w", err)
	}
	return enc, nil
}

// Push buffers one G.711 packet. Late and duplicate packets are dropped (their errors are normal).
func (u *upBridge) Push(seq uint16, ts uint32, payload []byte) error {
	return u.jb.Push(seq, ts, payload)
}

// Reset starts a new stream (the phone's SSRC changed).
func (u *upBridge) Reset() { u.jb.Reset() }

// Skip releases one frame unplayed: nobody receives the phone's voice, but the buffer keeps
// its pace (20 ms of the phone's packets, whatever their length), ready for when someone does.
func (u *upBridge) Skip() {
	for u.owed < frame8 {
		payload, missing := u.jb.Pop()
		switch {
		case payload != nil:
			u.pktLen = len(payload) // G.711: a byte a sample
		case !missing:
			u.owed = 0
			return
		}
		u.owed += u.pktLen
	}
	u.owed -= frame8
}

// Restart forgets the audio before a pause in the encoding (between Skips and Nexts): the next
// frame is a fresh start, with no tail to conceal or resample.
func (u *upBridge) Restart() {
	u.heard, u.lost = false, 0
	u.last = u.last[:0]
	u.fifo = u.fifo[:0]
	u.owed = 0
	u.rs.Reset()
}

// Tick plays one 20 ms frame and returns it as an Opus packet, nil when there is nothing to send
// (the buffer is filling, or the phone is silent: on hold, or gone).
func (u *upBridge) Tick() ([]byte, error) {
	frame := u.Next()
	if frame == nil {
		return nil, nil
	}
	return u.Encode(frame)
}

// Frame plays one 20 ms frame and returns it as 48 kHz PCM (valid until the next call), nil when
// there is nothing to send.
func (u *upBridge) Frame() ([]int16, error) {
	frame := u.Next()
	if frame == nil {
		return nil, nil
	}
	return u.Upsample(frame)
}

// Next plays one 20 ms frame of the phone's 8 kHz audio (valid until the next call), nil when
// there is nothing to play. Packets are taken from the jitter buffer only as their samples are
// needed, so a phone sending 10, 30 or 60 ms packets (sipp's shipped pcap sends 30 ms, whatever
// our ptime says) is played at its own pace, cut into 20 ms frames, with nothing concealed.
func (u *upBridge) Next() []int16 {
	for len(u.fifo) < frame8 {
		if !u.pop() {
			return nil
		}
	}
	copy(u.frame, u.fifo)
	u.fifo = u.fifo[:copy(u.fifo, u.fifo[frame8:])]
	return u.frame
}

// pop moves the next packet's samples (or a concealment of the same length) into the fifo; false
// when the buffer has nothing to play.
func (u *upBridge) pop() bool {
	payload, missing := u.jb.Pop()
	switch {
	case payload != nil:
		u.pcm8 = u.law.decode(u.pcm8[:0], payload)
		u.last = append(u.last[:0], u.pcm8...)
		u.lost = 0
		u.heard = true
	case missing && u.heard:
		// Conceal: repeat the last packet, halving it each time; silence after a few.
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
		return false
	}
	u.fifo = append(u.fifo, u.pcm8...)
	return true
}

// Encode turns one 8 kHz frame into an Opus packet, valid until the next call.
func (u *upBridge) Encode(frame []int16) ([]byte, error) {
	n, err := u.enc.Encode(frame, u.opus)
	if err != nil {
		return nil, fmt.Errorf("gateway: opus encode: %w", err)
	}
	return u.opus[:n], nil
}

// Upsample turns one 8 kHz frame into 48 kHz PCM, valid until the next call.
func (u *upBridge) Upsample(frame []int16) ([]int16, error) {
	out, err := u.rs.Process(u.up, frame)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// downBridge is the room-to-phone direction: Opus packets are decoded to 8 kHz and cut into 20 ms
// G.711 payloads (48 kHz PCM from a mixer is resampled first). It runs once per arriving packet,
// so what it sends is paced by the source.
type downBridge struct {
	law    g711
	dec    *opus.Decoder
	rs     *audio.Resampler // 48 -> 8 kHz, for PCM sources only
	pcm8   []int16
	fifo   []int16 // 8 kHz samples waiting for a whole G.711 frame
	out    []byte
	seq    uint16
	seeded bool
}

func newDownBridge(pt uint8) (*downBridge, error) {
	dec, err := opus.NewDecoder(8000, 1)
	if err != nil {
		return nil, fmt.Errorf("gateway: opus decoder: %w", err)
	}
	rs, err := audio.NewResampler(audio.ResamplerConfig{From: audio.OpusSampleRate, To: 8000})
	if err != nil {
		return nil, err
	}
	// 120 ms, the longest Opus packet, at 8 kHz.
	return &downBridge{law: lawOf(pt), dec: dec, rs: rs, pcm8: make([]int16, 960),
		fifo: make([]int16, 0, 8*frame8), out: make([]byte, 0, frame8)}, nil
}

// Restart forgets the previous stream: the next packet comes from another source.
func (d *downBridge) Restart() error {
	dec, err := opus.NewDecoder(8000, 1)
	if err != nil {
		return fmt.Errorf("gateway: opus decoder: %w", err)
	}
	d.dec, d.seeded, d.fifo = dec, false, d.fifo[:0]
	d.rs.Reset()
	return nil
}

// Push decodes one Opus packet (concealing up to three lost ones before it, from the packet's
// in-band FEC when the sender put any there) and calls emit with each complete G.711 payload,
// valid only during the call.
func (d *downBridge) Push(seq uint16, payload []byte, emit func([]byte)) error {
	if len(payload) == 0 {
		return nil
	}
	if d.seeded {
		gap := int(uint16(seq - d.seq))
		if gap == 0 || gap > 0x8000 {
			return nil // a duplicate or a late packet
		}
		for i := 1; i < gap && i <= 3; i++ {
			plc := d.pcm8[:frame8:frame8] // libopus conceals as many samples as the capacity
			if d.dec.DecodeFEC(payload, plc) == nil {
				d.feed8(plc, emit)
			}
		}
	}
	d.seq, d.seeded = seq, true
	n, err := d.dec.Decode(payload, d.pcm8[:len(d.pcm8):len(d.pcm8)])
	if err != nil {
		return fmt.Errorf("gateway: opus decode: %w", err)
	}
	d.feed8(d.pcm8[:n], emit)
	return nil
}

// feed takes 48 kHz PCM (a mixer's) and calls emit with each complete G.711 payload.
func (d *downBridge) feed(pcm []int16, emit func([]byte)) {
	// Frames are multiples of 2.5 ms (120 samples), always a multiple of the ratio 6.
	pcm = pcm[:len(pcm)-len(pcm)%6]
	out, err := d.rs.Process(d.pcm8[:cap(d.pcm8)], pcm)
	if err != nil {
		return
	}
	d.feed8(out, emit)
}

func (d *downBridge) feed8(pcm []int16, emit func([]byte)) {
	d.fifo = append(d.fifo, pcm...)
	for len(d.fifo) >= frame8 {
		d.out = d.law.encode(d.out[:0], d.fifo[:frame8])
		emit(d.out)
		rest := copy(d.fifo, d.fifo[frame8:])
		d.fifo = d.fifo[:rest]
	}
}

// An Opus leg needs no transcoding to or from the rooms: its packets are passed through both ways
// (leg.go, source.go). Only the sinks and sources that work on PCM need the two types below: the
// MCU's mixer (48 kHz) and a phone in G.711 hearing an Opus phone (8 kHz) take the Opus phone's
// voice decoded (opusUp), and a mixer's PCM or a G.711 phone's 8 kHz frames are encoded once per
// source for every Opus leg hearing them (opusDown).

const (
	// maxOpusSamples is the longest Opus packet, 120 ms, at 48 kHz.
	maxOpusSamples = 5760
	// opusDownBitrate sets the encoder of what an Opus phone hears from PCM: 32 kbit/s is
	// transparent wideband speech.
	opusDownBitrate = 32
)

// opusUp is the phone-to-room direction of an Opus leg for PCM sinks: the phone's packets go into a
// jitter buffer; every 20 ms Next releases one 48 kHz frame, decoded by libopus, which conceals a
// lost packet (PLC) and fades to silence over a longer loss; Down8 makes it 8 kHz for another phone.
type opusUp struct {
	jb    *audio.JitterBuffer
	dec   *audio.OpusDecoder
	rs    *audio.Resampler // 48 -> 8 kHz, for phones hearing this one
	pcm   []int16          // the packet being played, 48 kHz
	fifo  []int16          // 48 kHz samples waiting for a whole 20 ms frame (packets of other lengths)
	frame []int16          // the frame Next released
	down  []int16          // the frame Down8 made
	heard bool             // a packet has been played since the start (or since the buffer idled)
}

func newOpusUp() (*opusUp, error) {
	jb, err := audio.NewJitterBuffer(audio.JitterConfig{ClockRate: audio.OpusSampleRate, Target: 40 * time.Millisecond, Max: 200 * time.Millisecond, MaxPayload: 1500, Adapt: true})
	if err != nil {
		return nil, err
	}
	dec, err := audio.NewOpusDecoder()
	if err != nil {
		return nil, fmt.Errorf("gateway: opus decoder: %w", err)
	}
	rs, err := audio.NewResampler(audio.ResamplerConfig{From: audio.OpusSampleRate, To: 8000})
	if err != nil {
		return nil, err
	}
	return &opusUp{jb: jb, dec: dec, rs: rs, pcm: make([]int16, maxOpusSamples),
		fifo: make([]int16, 0, maxOpusSamples+frame48), frame: make([]int16, frame48), down: make([]int16, frame8)}, nil
}

// Push buffers one Opus packet. Late and duplicate packets are dropped (their errors are normal).
func (u *opusUp) Push(seq uint16, ts uint32, payload []byte) error {
	return u.jb.Push(seq, ts, payload)
}

// Reset starts a new stream (the phone's SSRC changed).
func (u *opusUp) Reset() { u.jb.Reset() }

// Restart forgets the buffered audio before a pause in the decoding (nobody needed PCM for a while):
// the next packet pushed is a fresh start.
func (u *opusUp) Restart() {
	u.jb.Reset()
	u.heard = false
	u.fifo = u.fifo[:0]
	u.rs.Reset()
}

// Next plays one 20 ms frame of the phone's voice at 48 kHz (valid until the next call), nil when
// there is nothing to play.
func (u *opusUp) Next() []int16 {
	payload, missing := u.jb.Pop()
	var n int
	var err error
	switch {
	case payload != nil:
		if n, err = u.dec.Decode(payload, u.pcm); err != nil {
			n, err = u.dec.DecodePLC(nil, u.pcm[:frame48]) // a corrupt packet: concealed
		}
		u.heard = true
	case missing && u.heard:
		n, err = u.dec.DecodePLC(nil, u.pcm[:frame48])
	default:
		if u.heard {
			// The buffer went idle: the next frame is a fresh start, with no tail to resample.
			u.heard = false
			u.fifo = u.fifo[:0]
			u.rs.Reset()
		}
		return nil
	}
	if err != nil || n == 0 {
		return nil
	}
	u.fifo = append(u.fifo, u.pcm[:n]...)
	if len(u.fifo) < frame48 {
		return nil
	}
	copy(u.frame, u.fifo)
	rest := copy(u.fifo, u.fifo[frame48:])
	// Packets longer than 20 ms (we answer ptime 20) play one per 20 ms; what is left over is
	// bounded to a frame, so the delay does not grow.
	if rest > frame48 {
		rest = copy(u.fifo, u.fifo[rest-frame48:rest])
	}
	u.fifo = u.fifo[:rest]
	return u.frame
}

// Down8 turns one 48 kHz frame into 8 kHz, valid until the next call.
func (u *opusUp) Down8(frame []int16) ([]int16, error) {
	return u.rs.Process(u.down, frame)
}

// opusDown encodes what an Opus phone hears from a source that is not Opus on the wire: a mixer's
// 48 kHz PCM, or another phone's 8 kHz frames (encoded from 8 kHz directly, as upBridge does).
// One per source, shared by every Opus leg hearing it; it belongs to its downMux's mutex.
type opusDown struct {
	enc48 *audio.OpusEncoder // 48 kHz input; nil when the input is 8 kHz
	enc8  *opus.Encoder      // 8 kHz input; nil when the input is 48 kHz
	out   []byte
}

func newOpusDown(rate int) (*opusDown, error) {
	d := &opusDown{out: make([]byte, 1500)}
	var err error
	if rate == 8000 {
		if d.enc8, err = newNarrowbandEncoder(); err != nil {
			return nil, err
		}
		return d, nil
	}
	if d.enc48, err = audio.NewOpusEncoder(audio.OpusConfig{BitrateKbps: opusDownBitrate, Complexity: phoneOpusComplexity}); err != nil {
		return nil, fmt.Errorf("gateway: opus encoder: %w", err)
	}
	return d, nil
}

// encode turns one 20 ms frame (960 samples at 48 kHz, or 160 at 8 kHz) into an Opus packet, valid
// until the next call.
func (d *opusDown) encode(pcm []int16) ([]byte, error) {
	if d.enc8 != nil {
		if len(pcm) != frame8 {
			return nil, fmt.Errorf("gateway: opus encode: %d samples at 8 kHz", len(pcm))
		}
		n, err := d.enc8.Encode(pcm, d.out)
		if err != nil {
			return nil, fmt.Errorf("gateway: opus encode: %w", err)
		}
		return d.out[:n], nil
	}
	if len(pcm) != frame48 {
		return nil, fmt.Errorf("gateway: opus encode: %d samples at 48 kHz", len(pcm))
	}
	return d.enc48.Encode(pcm, d.out)
}
