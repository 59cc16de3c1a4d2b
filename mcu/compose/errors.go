package compose

import "errors"

var (
	// ErrConfig is returned by New for a canvas size that is not positive, even and codable.
	ErrConfig = errors.New("compose: invalid config")
	// ErrFrame is returned by Compose for a destination that is not a valid frame of the canvas size.
	ErrFrame = errors.New("compose: invalid destination frame")
	// ErrPlateSize is returned by RenderPlate for a plate size that is not positive and even.
	ErrPlateSize = errors.New("compose: invalid plate size")
)
