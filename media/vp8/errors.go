package vp8

import "errors"

var (
	// ErrConfig is returned by NewEncoder for a configuration libvpx cannot run (size, rate, speed).
	ErrConfig = errors.New("vp8: invalid configuration")
	// ErrFrameSize is returned by Encode for a frame whose size differs from the configured one, or
	// whose planes are too small for its size; the caller scales before encoding.
	ErrFrameSize = errors.New("vp8: frame size mismatch")
	// ErrCodec wraps an error reported by libvpx.
	ErrCodec = errors.New("vp8: libvpx error")
	// ErrCorrupt is returned by Decode for data libvpx rejected or flagged as damaged. The decoder
	// stays usable; it skips inter frames until the next keyframe.
	ErrCorrupt = errors.New("vp8: corrupt frame")
	// ErrNeedKeyframe is returned by Decode for an inter frame while the decoder waits for a keyframe
	// (at start, or after corrupt data): the caller should ask the sender for one.
	ErrNeedKeyframe = errors.New("vp8: waiting for a keyframe")
	// ErrClosed is returned by an encoder or decoder used after Close.
	ErrClosed = errors.New("vp8: closed")
	// ErrNil is returned when a required frame argument is nil.
	ErrNil = errors.New("vp8: nil frame")
	// ErrPayload is returned by the depacketizer for an RTP payload that is not a VP8 payload.
	ErrPayload = errors.New("vp8: malformed RTP payload")
)
