package mix

import "errors"

var (
	// ErrConfig is returned by NewMixer for a configuration it cannot honour.
	ErrConfig = errors.New("mix: invalid config")
	// ErrFrameSize is returned by Input.Write for a frame that is not one tick of audio.
	ErrFrameSize = errors.New("mix: bad frame size")
	// ErrRemoved is returned by Input.Write once the input has been removed from its mixer.
	ErrRemoved = errors.New("mix: input removed")
)
