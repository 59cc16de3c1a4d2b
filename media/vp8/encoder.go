package vp8

/*
#cgo pkg-config: vpx
#include "vpx.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/contactcenter/vcc/media/frame"
)

// Config configures an Encoder. Zero fields take the defaults noted.
type Config struct {
	Width, Height int
	// FPS is the nominal frame rate, the time base for rate control (default 30).
	FPS int
	// BitrateKbps is the CBR target (default 1500, the MCU's 720p budget).
	BitrateKbps int
	// CPUUsed is libvpx's speed/quality trade (-16..16, negative = realtime with that speed). Zero
	// means the default -6: 720p in about 4 ms on one core; 0 itself (slowest) is not selectable,
	// being far too slow for a realtime MCU.
	CPUUsed int
	// KeyframeInterval is the longest distance between automatic keyframes, in frames (default
	// 10 s worth). The MCU forces keyframes for new viewers and loss, so this is only a backstop.
	KeyframeInterval int
	// StaticThreshold is libvpx's encode breakout: a macroblock whose prediction error (sum of
	// squares over its 256 luma pixels) is below it is coded as unchanged. Default 1, nearly off,
	// which suits a camera. A picture made of decoded video (the MCU's composite) is better served
	// by 100, WebRTC's value for screen content: the senders' own requantisation noise is then
	// not coded a second time, which saves CPU and bits at an error of well under one grey level.
	StaticThreshold int
}

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.FPS == 0 {
		out.FPS = 30
	}
	if out.BitrateKbps == 0 {
		out.BitrateKbps = 1500
	}
	if out.CPUUsed == 0 {
		out.CPUUsed = -6
	}
	if out.StaticThreshold == 0 {
		out.StaticThreshold = 1
	}
	if out.KeyframeInterval == 0 {
		out.KeyframeInterval = 10 * out.FPS
	}
	switch {
	case out.Width <= 0 || out.Height <= 0 || out.Width > 16383 || out.Height > 16383:
		return out, fmt.Errorf("%w: size %dx%d", ErrConfig, out.Width, out.Height)
	case out.FPS < 0 || out.FPS > 240:
		return out, fmt.Errorf("%w: fps %d", ErrConfig, out.FPS)
	case out.BitrateKbps < 0:
		return out, fmt.Errorf("%w: bitrate %d kbps", ErrConfig, out.BitrateKbps)
	case out.CPUUsed < -16 || out.CPUUsed > 16:
		return out, fmt.Errorf("%w: cpu_used %d", ErrConfig, out.CPUUsed)
	case out.StaticThreshold < 0:
		return out, fmt.Errorf("%w: static threshold %d", ErrConfig, out.StaticThreshold)
	case out.KeyframeInterval < 0:
		return out, fmt.Errorf("%w: keyframe interval %d", ErrConfig, out.KeyframeInterval)
	}
	return out, nil
}

// Encoder is a realtime VP8 encoder (CBR, one thread, no lookahead, error resilient). It is not
// safe for concurrent use: the MCU drives each one from its room's clock goroutine.
type Encoder struct {
	c    *C.vcc_enc
	cfg  Config
	kbps int
}

// Option configures an Encoder; none exist yet, the parameter keeps the constructor convention.
type Option func(*Encoder)

// NewEncoder starts a libvpx VP8 encoder.
func NewEncoder(cfg Config, opts ...Option) (*Encoder, error) {
	full, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var rc C.int
	c := C.vcc_enc_new(C.int(full.Width), C.int(full.Height), C.int(full.FPS), C.int(full.BitrateKbps),
		C.int(full.CPUUsed), C.int(full.KeyframeInterval), C.int(full.StaticThreshold), &rc)
	if c == nil {
		return nil, fmt.Errorf("%w: %w: encoder init: %s", ErrConfig, ErrCodec, C.GoString(C.vcc_err_string(rc)))
	}
	e := &Encoder{c: c, cfg: full, kbps: full.BitrateKbps}
	for _, o := range opts {
		o(e)
	}
	return e, nil
}

// Config returns the configuration in effect, defaults filled in and the current bitrate.
func (e *Encoder) Config() Config {
	c := e.cfg
	c.BitrateKbps = e.kbps
	return c
}

// Encode compresses f and appends the compressed frame to dst, returning the extended slice and
// whether it is a keyframe. The result may be dst unchanged when libvpx produced no frame. f must
// have the configured size. Nothing is allocated per call beyond dst's growth.
func (e *Encoder) Encode(f *frame.I420, forceKeyframe bool, dst []byte) ([]byte, bool, error) {
	if e.c == nil {
		return dst, false, ErrClosed
	}
	if f == nil {
		return dst, false, ErrNil
	}
	if f.Width != e.cfg.Width || f.Height != e.cfg.Height || !f.Valid() {
		return dst, false, fmt.Errorf("%w: got %dx%d, encoder is %dx%d", ErrFrameSize, f.Width, f.Height, e.cfg.Width, e.cfg.Height)
	}
	force := C.int(0)
	if forceKeyframe {
		force = 1
	}
	rc := C.vcc_enc_encode(e.c, (*C.uchar)(unsafe.Pointer(&f.Y[0])), (*C.uchar)(unsafe.Pointer(&f.U[0])),
		(*C.uchar)(unsafe.Pointer(&f.V[0])), C.int(f.StrideY), C.int(f.StrideU), C.int(f.StrideV), force)
	if rc != C.VPX_CODEC_OK {
		return dst, false, fmt.Errorf("%w: encode: %s", ErrCodec, C.GoString(C.vcc_err_string(rc)))
	}
	key := false
	// With lag 0 there is one frame per encode; the loop only guards against libvpx splitting one.
	for C.vcc_enc_next(e.c) != 0 {
		dst = append(dst, unsafe.Slice((*byte)(unsafe.Pointer(e.c.out)), int(e.c.out_sz))...)
		key = key || e.c.out_key != 0
	}
	return dst, key, nil
}

// MacroblockGrid returns the encoder's picture size in 16x16 macroblocks: the shape of an active map.
func (e *Encoder) MacroblockGrid() (cols, rows int) {
	return (e.cfg.Width + 15) / 16, (e.cfg.Height + 15) / 16
}

// SetActiveMap tells libvpx which macroblocks of the following frames may differ from the last
// one: one byte per macroblock, row by row (MacroblockGrid), nonzero for active. An inactive
// macroblock is coded as unchanged without any search, which is where a composite whose tiles
// cover half the canvas spends half its encoding time. A nil map makes every macroblock active
// again. libvpx copies the map, so the caller may reuse it. Keyframes code the whole picture
// whatever the map says.
func (e *Encoder) SetActiveMap(m []byte) error {
	if e.c == nil {
		return ErrClosed
	}
	cols, rows := e.MacroblockGrid()
	var p *C.uchar
	if m != nil {
		if len(m) != cols*rows {
			return fmt.Errorf("%w: active map of %d macroblocks, the picture has %dx%d", ErrConfig, len(m), cols, rows)
		}
		p = (*C.uchar)(unsafe.Pointer(&m[0]))
	}
	if rc := C.vcc_enc_set_active(e.c, p, C.int(rows), C.int(cols)); rc != C.VPX_CODEC_OK {
		return fmt.Errorf("%w: active map: %s", ErrCodec, C.GoString(C.vcc_err_string(rc)))
	}
	return nil
}

// SetBitrate changes the CBR target. libvpx reconfigures only when the value changes: a
// reconfiguration costs far more than an encode (the cost that rules out mediadevices' encoder).
func (e *Encoder) SetBitrate(kbps int) error {
	if e.c == nil {
		return ErrClosed
	}
	if kbps <= 0 {
		return fmt.Errorf("%w: bitrate %d kbps", ErrConfig, kbps)
	}
	if kbps == e.kbps {
		return nil
	}
	if rc := C.vcc_enc_set_bitrate(e.c, C.int(kbps)); rc != C.VPX_CODEC_OK {
		return fmt.Errorf("%w: set bitrate: %s", ErrCodec, C.GoString(C.vcc_err_string(rc)))
	}
	e.kbps = kbps
	return nil
}

// Close frees the encoder. It is idempotent.
func (e *Encoder) Close() error {
	if e.c != nil {
		C.vcc_enc_free(e.c)
		e.c = nil
	}
	return nil
}
