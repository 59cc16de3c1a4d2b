package audio

import (
	"fmt"

	"github.com/hraban/opus"
)

// OpusSampleRate is the rate the MCU mixes at; WebRTC Opus is always 48 kHz on the wire.
const OpusSampleRate = 48000

// maxOpusPacket is the largest Opus packet (RFC 6716 §3.2.1: 1275 bytes per frame, up to 3 frames
// of 20 ms per 60 ms); sizing the encoder's own buffer to it means Encode never truncates.
const maxOpusPacket = 4000

// OpusDecoder decodes one party's Opus stream to 48 kHz interleaved PCM. It keeps the decoder state
// that PLC and FEC rely on, so use one per source, from one goroutine at a time.
type OpusDecoder struct {
	dec      *opus.Decoder
	channels int
}

// OpusDecoderOption configures NewOpusDecoder.
type OpusDecoderOption func(*OpusDecoder)

// WithDecoderChannels selects mono (1, the default: the mixer is mono) or stereo (2) output.
func WithDecoderChannels(n int) OpusDecoderOption { return func(d *OpusDecoder) { d.channels = n } }

// NewOpusDecoder returns a decoder producing 48 kHz PCM, mono unless WithDecoderChannels(2).
// Opus decodes any coded channel count to the requested one, so a stereo sender needs no special case.
func NewOpusDecoder(opts ...OpusDecoderOption) (*OpusDecoder, error) {
	d := &OpusDecoder{channels: 1}
	for _, o := range opts {
		o(d)
	}
	if d.channels != 1 && d.channels != 2 {
		return nil, fmt.Errorf("%w: opus decoder channels %d", ErrConfig, d.channels)
	}
	dec, err := opus.NewDecoder(OpusSampleRate, d.channels)
	if err != nil {
		return nil, fmt.Errorf("%w: new decoder: %v", ErrOpus, err)
	}
	d.dec = dec
	return d, nil
}

// Channels is the number of interleaved channels Decode writes.
func (d *OpusDecoder) Channels() int { return d.channels }

// Decode decodes one packet into pcm and returns the samples per channel written (960 for 20 ms).
// pcm must hold the whole packet: 960*channels for 20 ms packets, 5760*channels for any packet.
func (d *OpusDecoder) Decode(payload []byte, pcm []int16) (int, error) {
	if len(payload) == 0 {
		return 0, fmt.Errorf("%w: empty payload", ErrFrameSize)
	}
	if len(pcm) < 120*d.channels {
		return 0, fmt.Errorf("%w: pcm buffer of %d", ErrFrameSize, len(pcm))
	}
	// hraban/opus sizes the output by cap(pcm); clamp it to len so we never write past what the
	// caller handed us (it may be a window into a larger buffer).
	n, err := d.dec.Decode(payload, pcm[:len(pcm)-len(pcm)%d.channels:len(pcm)-len(pcm)%d.channels])
	if err != nil {
		return 0, fmt.Errorf("%w: decode: %v", ErrOpus, err)
	}
	return n, nil
}

// DecodePLC fills pcm with audio for one lost packet and returns the samples per channel written
// (len(pcm)/channels). When next, the packet after the lost one, is at hand, its in-band FEC (if the
// sender enabled it) recovers the lost audio; otherwise libopus conceals it from the previous packets
// (PLC), which fades to silence over a few frames. len(pcm)/channels must be a multiple of 2.5 ms (120).
func (d *OpusDecoder) DecodePLC(next []byte, pcm []int16) (int, error) {
	n := len(pcm) / d.channels
	if n == 0 || n%120 != 0 || len(pcm)%d.channels != 0 {
		return 0, fmt.Errorf("%w: plc buffer of %d", ErrFrameSize, len(pcm))
	}
	// libopus conceals exactly as many samples as the buffer's capacity; the full slice expression
	// stops it running into whatever lies past len(pcm).
	pcm = pcm[:len(pcm):len(pcm)]
	var err error
	if len(next) > 0 {
		err = d.dec.DecodeFEC(next, pcm)
	} else {
		err = d.dec.DecodePLC(pcm)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: plc: %v", ErrOpus, err)
	}
	return n, nil
}

// OpusConfig configures NewOpusEncoder. Zero fields take the defaults noted.
type OpusConfig struct {
	Channels    int // 1 (default) or 2
	BitrateKbps int // default 32 (mono) / 64 (stereo): transparent speech, cheap on the wire
	// Complexity 1..10; 0 selects 5. Complexity 5 measured 0.68 ms for a whole 3-party room tick
	// against 1.12 ms at 10 (shared/PERFORMANCE.md) with no audible difference for speech.
	Complexity int
	// FEC embeds a low-bitrate copy of each frame in the next one, so a receiver's DecodePLC(next)
	// recovers single losses; PacketLossPerc (default 10 when FEC) tunes how much bitrate it gets.
	FEC            bool
	PacketLossPerc int
	// DTX lets the encoder send nearly nothing during silence; off by default because the mixer's
	// outputs are rarely silent and some SIP/WebRTC peers mishandle the gaps.
	DTX bool
}

// OpusEncoder encodes 48 kHz interleaved PCM to Opus (VoIP application: speech-tuned, lowest delay
// the codec offers with good quality). One per output stream, one goroutine at a time.
type OpusEncoder struct {
	enc      *opus.Encoder
	channels int
	buf      []byte // used when the caller passes no dst, so Encode never allocates
}

// NewOpusEncoder returns an encoder for cfg.
func NewOpusEncoder(cfg OpusConfig) (*OpusEncoder, error) {
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	if cfg.Channels != 1 && cfg.Channels != 2 {
		return nil, fmt.Errorf("%w: opus encoder channels %d", ErrConfig, cfg.Channels)
	}
	if cfg.BitrateKbps == 0 {
		cfg.BitrateKbps = 32 * cfg.Channels
	}
	if cfg.BitrateKbps < 6 || cfg.BitrateKbps > 510 {
		return nil, fmt.Errorf("%w: opus bitrate %d kbps", ErrConfig, cfg.BitrateKbps)
	}
	if cfg.Complexity == 0 {
		cfg.Complexity = 5
	}
	if cfg.Complexity < 1 || cfg.Complexity > 10 {
		return nil, fmt.Errorf("%w: opus complexity %d", ErrConfig, cfg.Complexity)
	}
	if cfg.FEC && cfg.PacketLossPerc == 0 {
		cfg.PacketLossPerc = 10
	}
	if cfg.PacketLossPerc < 0 || cfg.PacketLossPerc > 100 {
		return nil, fmt.Errorf("%w: opus packet loss %d%%", ErrConfig, cfg.PacketLossPerc)
	}
	enc, err := opus.NewEncoder(OpusSampleRate, cfg.Channels, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("%w: new encoder: %v", ErrOpus, err)
	}
	for _, set := range []func() error{
		func() error { return enc.SetBitrate(cfg.BitrateKbps * 1000) },
		func() error { return enc.SetComplexity(cfg.Complexity) },
		func() error { return enc.SetInBandFEC(cfg.FEC) },
		func() error { return enc.SetPacketLossPerc(cfg.PacketLossPerc) },
		func() error { return enc.SetDTX(cfg.DTX) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("%w: configure encoder: %v", ErrOpus, err)
		}
	}
	return &OpusEncoder{enc: enc, channels: cfg.Channels, buf: make([]byte, maxOpusPacket)}, nil
}

// Encode encodes one frame of pcm (2.5, 5, 10, 20, 40 or 60 ms; 960*channels samples for the mixer's
// 20 ms) into dst's capacity and returns the packet, a prefix of dst. With a nil or too small dst
// (under 1275 bytes of capacity) it uses the encoder's own buffer, valid until the next Encode.
func (e *OpusEncoder) Encode(pcm []int16, dst []byte) ([]byte, error) {
	switch len(pcm) / e.channels {
	case 120, 240, 480, 960, 1920, 2880:
	default:
		return nil, fmt.Errorf("%w: %d samples", ErrFrameSize, len(pcm))
	}
	if len(pcm)%e.channels != 0 {
		return nil, fmt.Errorf("%w: %d samples for %d channels", ErrFrameSize, len(pcm), e.channels)
	}
	if cap(dst) < 1275 {
		dst = e.buf
	}
	dst = dst[:cap(dst)]
	n, err := e.enc.Encode(pcm, dst)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %v", ErrOpus, err)
	}
	return dst[:n], nil
}

// OpusPacketSamples is the audio an Opus packet holds, in samples at 48 kHz, read from its TOC byte
// (RFC 6716 §3.1). A packet no decoder would accept (empty, a frame count of 0, over 120 ms) is an
// ErrFrameSize.
func OpusPacketSamples(pkt []byte) (int, error) {
	if len(pkt) == 0 {
		return 0, fmt.Errorf("%w: empty Opus packet", ErrFrameSize)
	}
	toc := pkt[0]
	config := toc >> 3
	var frame int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[config&3]
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]int{480, 960}[config&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[config&3]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(pkt) < 2 || pkt[1]&0x3f == 0 {
			return 0, fmt.Errorf("%w: bad Opus frame count", ErrFrameSize)
		}
		frames = int(pkt[1] & 0x3f)
	}
	if n := frames * frame; n <= 5760 { // 120 ms at most
		return n, nil
	}
	return 0, fmt.Errorf("%w: Opus packet longer than 120 ms", ErrFrameSize)
}
