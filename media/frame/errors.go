package frame

import "errors"

// ErrSize is returned for a frame size that is not positive or exceeds what VP8 can code.
var ErrSize = errors.New("frame: invalid size")
