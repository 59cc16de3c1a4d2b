package call

import "errors"

// Sentinel errors. signaling maps them to protocol error codes.
var (
	ErrForbidden    = errors.New("call: role may not do this")
	ErrNotFound     = errors.New("call: no such call, queue or offer")
	ErrInvalidState = errors.New("call: not possible in the current state")
	ErrClosed       = errors.New("call: center closed")
)

// Reasons a call or a leg ends; they reach clients as strings.
var (
	ReasonHangup       = errors.New("hangup")
	ReasonShutdown     = errors.New("shutdown")
	ReasonMediaFailed  = errors.New("media_failed")
	ReasonDisconnected = errors.New("disconnected")
)
