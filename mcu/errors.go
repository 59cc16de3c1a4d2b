package mcu

import "errors"

var (
	// ErrConfig reports a Config the MCU cannot run with.
	ErrConfig = errors.New("mcu: bad config")
	// ErrClosed reports a call on a closed room.
	ErrClosed = errors.New("mcu: room closed")
)
