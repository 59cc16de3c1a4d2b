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

// Decoder is a VP8 decoder (libvpx, one thread). It is not safe for concurrent use: the MCU runs
// one per incoming track, on that track's goroutine.
type Decoder struct {
	c *C.vcc_dec
	// needKey is set at start and after corrupt data: decoding inter frames on a damaged reference
	// only smears the damage, so they are refused until a keyframe resets the references.
	needKey bool
}

// DecoderOption configures a Decoder; none exist yet, the parameter keeps the constructor convention.
type DecoderOption func(*Decoder)

// NewDecoder starts a libvpx VP8 decoder.
func NewDecoder(opts ...DecoderOption) (*Decoder, error) {
	var rc C.int
	c := C.vcc_dec_new(&rc)
	if c == nil {
		return nil, fmt.Errorf("%w: decoder init: %s", ErrCodec, C.GoString(C.vcc_err_string(rc)))
	}
	d := &Decoder{c: c, needKey: true}
	for _, o := range opts {
		o(d)
	}
	return d, nil
}

// IsKeyframe reports whether data starts a VP8 keyframe (frame tag bit 0 clear and the keyframe
// start code, RFC 6386 section 9.1).
func IsKeyframe(data []byte) bool {
	return len(data) >= 10 && data[0]&1 == 0 && data[3] == 0x9d && data[4] == 0x01 && data[5] == 0x2a
}

// Decode decodes one whole VP8 frame into the caller's frame, resizing it when the stream's
// resolution differs (a sender may switch resolution mid-call). ok is false when no picture came
// out. Corrupt data returns an error wrapping ErrCorrupt; the decoder stays usable and returns
// ErrNeedKeyframe for inter frames until the next keyframe, which recovers it.
func (d *Decoder) Decode(data []byte, into *frame.I420) (ok bool, err error) {
	if d.c == nil {
		return false, ErrClosed
	}
	if into == nil {
		return false, ErrNil
	}
	if len(data) == 0 {
		return false, fmt.Errorf("%w: empty frame", ErrCorrupt)
	}
	if d.needKey && !IsKeyframe(data) {
		return false, ErrNeedKeyframe
	}
	rc := C.vcc_dec_decode(d.c, (*C.uchar)(unsafe.Pointer(&data[0])), C.size_t(len(data)))
	if rc != C.VPX_CODEC_OK || d.c.corrupt != 0 {
		d.needKey = true
		if rc == C.VPX_CODEC_MEM_ERROR {
			return false, fmt.Errorf("%w: decode: %s", ErrCodec, C.GoString(C.vcc_err_string(rc)))
		}
		return false, fmt.Errorf("%w: %s", ErrCorrupt, C.GoString(C.vcc_err_string(rc)))
	}
	d.needKey = false
	w, h := d.c.w, d.c.h
	if w == 0 || h == 0 {
		return false, nil
	}
	if into.Width != int(w) || into.Height != int(h) || !into.Valid() {
		if err := into.Resize(int(w), int(h)); err != nil {
			return false, err
		}
	}
	C.vcc_dec_copy(d.c, (*C.uchar)(unsafe.Pointer(&into.Y[0])), (*C.uchar)(unsafe.Pointer(&into.U[0])),
		(*C.uchar)(unsafe.Pointer(&into.V[0])), C.int(into.StrideY), C.int(into.StrideU), C.int(into.StrideV))
	return true, nil
}

// Close frees the decoder. It is idempotent.
func (d *Decoder) Close() error {
	if d.c != nil {
		C.vcc_dec_free(d.c)
		d.c = nil
	}
	return nil
}
