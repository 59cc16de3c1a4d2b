package media

import "errors"

var (
	// ErrClosed is returned by a sink or source that has ended.
	ErrClosed = errors.New("media: closed")
	// ErrDropped is returned by a sink that dropped a packet instead of blocking.
	ErrDropped = errors.New("media: dropped")
)
