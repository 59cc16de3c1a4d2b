package audio

import "errors"

var (
	// ErrConfig is returned by a constructor given a configuration it cannot honour.
	ErrConfig = errors.New("audio: invalid config")
	// ErrFrameSize is returned when a PCM or payload buffer has a length the call cannot use.
	ErrFrameSize = errors.New("audio: bad frame size")
	// ErrOpus wraps an error reported by libopus.
	ErrOpus = errors.New("audio: opus")
	// ErrEmptyPayload is returned by JitterBuffer.Push for a packet without payload.
	ErrEmptyPayload = errors.New("audio: empty payload")
	// ErrPayloadTooLarge is returned by JitterBuffer.Push for a payload above its MaxPayload.
	ErrPayloadTooLarge = errors.New("audio: payload too large")
	// ErrLate is returned by JitterBuffer.Push for a packet whose playout time has passed; it is dropped.
	ErrLate = errors.New("audio: late packet")
	// ErrDuplicate is returned by JitterBuffer.Push for a packet already buffered; it is dropped.
	ErrDuplicate = errors.New("audio: duplicate packet")
)
