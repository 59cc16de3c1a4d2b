package mcu

import "errors"

var (
	// ErrConfig reports a Config the MCU cannot run with.
	ErrConfig = errors.New("mcu: bad config")
	// ErrClosed reports a call on a closed room.
	ErrClosed = errors.New("mcu: room closed")
	// ErrNotAudio reports a PCM subscription to a video stream.
	ErrNotAudio = errors.New("mcu: only audio is available as PCM")
)
