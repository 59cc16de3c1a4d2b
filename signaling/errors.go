package signaling

import (
	"context"
	"errors"

	"github.com/contactcenter/vcc/call"
)

// Protocol error codes (docs/protocol.md). They are part of the wire contract: never rename one.
const (
	CodeUnauthorized       = "unauthorized"
	CodeBadRequest         = "bad_request"
	CodeTooLarge           = "too_large"
	CodeUnsupportedVersion = "unsupported_version"
	CodeUnknownType        = "unknown_type"
	CodeForbidden          = "forbidden"
	CodeNotFound           = "not_found"
	CodeInvalidState       = "invalid_state"
	CodeBadSDP             = "bad_sdp"
	CodeRateLimited        = "rate_limited"
	CodeInternal           = "internal"
)

var (
	errBadRequest   = errors.New("bad request")
	errInvalidState = errors.New("invalid state")
	errUnauthorized = errors.New("unauthorized")
)

// protoError is an error with the code the client is told.
type protoError struct {
	code string
	msg  string
}

func (e *protoError) Error() string { return e.code + ": " + e.msg }

func newError(code, msg string) *protoError { return &protoError{code: code, msg: msg} }

// toProto maps any error to a protocol error; the call package's sentinels keep their meaning.
func toProto(err error) *protoError {
	var pe *protoError
	switch {
	case errors.As(err, &pe):
		return pe
	case call.CodeOf(err) != "":
		return newError(call.CodeOf(err), err.Error())
	case errors.Is(err, call.ErrForbidden):
		return newError(CodeForbidden, err.Error())
	case errors.Is(err, call.ErrNotFound):
		return newError(CodeNotFound, err.Error())
	case errors.Is(err, call.ErrInvalidState), errors.Is(err, errInvalidState):
		return newError(CodeInvalidState, err.Error())
	case errors.Is(err, errBadSDP):
		return newError(CodeBadSDP, err.Error())
	case errors.Is(err, errBadRequest):
		return newError(CodeBadRequest, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return newError(CodeInternal, "the server did not answer in time")
	}
	return newError(CodeInternal, "internal error")
}
