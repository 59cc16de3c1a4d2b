package moh

import "errors"

var (
	// ErrInvalid is returned for input that is not a well-formed Ogg Opus stream; it wraps the
	// underlying cause.
	ErrInvalid = errors.New("moh: invalid Ogg Opus stream")
	// ErrUnsupported is returned for a valid Ogg Opus stream that RTP cannot carry as one Opus
	// stream: more than two channels (a multistream mapping family).
	ErrUnsupported = errors.New("moh: unsupported Ogg Opus stream")
	// ErrNoAudio is returned for a stream without audio packets (headers only, or all trimmed).
	ErrNoAudio = errors.New("moh: no audio packets")
	// ErrNil is returned when a required argument (sink, asset, reader) is nil.
	ErrNil = errors.New("moh: nil argument")
)
