// Package frame holds the raw video frame type shared by the codec wrappers and the MCU compositor,
// and a pool that recycles frames so that decoding and composing allocate nothing per frame.
package frame

import "fmt"

// I420 is a planar YUV 4:2:0 image (BT.601, limited range), the layout libvpx and libyuv use, so
// frames cross into C without conversion. Chroma planes are (Width+1)/2 x (Height+1)/2.
type I420 struct {
	Width, Height             int
	Y, U, V                   []byte
	StrideY, StrideU, StrideV int
}

// NewI420 allocates a frame of the given size with tight strides.
func NewI420(width, height int) (*I420, error) {
	f := &I420{}
	if err := f.Resize(width, height); err != nil {
		return nil, err
	}
	return f, nil
}

// Resize sets the frame's size with tight strides, reusing the planes' storage when it is large
// enough, so that a decoder following a sender's resolution changes reallocates only when the frame
// grows. Pixel contents are unspecified afterwards.
func (f *I420) Resize(width, height int) error {
	if width <= 0 || height <= 0 || width > maxDim || height > maxDim {
		return fmt.Errorf("%w: %dx%d", ErrSize, width, height)
	}
	cw, ch := (width+1)/2, (height+1)/2
	f.Width, f.Height = width, height
	f.StrideY, f.StrideU, f.StrideV = width, cw, cw
	f.Y = grow(f.Y, width*height)
	f.U = grow(f.U, cw*ch)
	f.V = grow(f.V, cw*ch)
	return nil
}

// maxDim bounds a frame side: VP8 cannot code more than 16383 pixels, and the bound keeps a corrupt
// size from asking for an absurd allocation.
const maxDim = 16383

func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n)
}

// ChromaSize returns the width and height of the U and V planes.
func (f *I420) ChromaSize() (int, int) { return (f.Width + 1) / 2, (f.Height + 1) / 2 }

// Valid reports whether the planes are large enough for the size and strides, the check a C
// function needs before it trusts them.
func (f *I420) Valid() bool {
	if f == nil || f.Width <= 0 || f.Height <= 0 {
		return false
	}
	cw, ch := f.ChromaSize()
	return f.StrideY >= f.Width && f.StrideU >= cw && f.StrideV >= cw &&
		len(f.Y) >= f.StrideY*(f.Height-1)+f.Width &&
		len(f.U) >= f.StrideU*(ch-1)+cw &&
		len(f.V) >= f.StrideV*(ch-1)+cw
}

// Fill paints the whole frame one colour, converted from RGB with BT.601 limited-range integer
// coefficients (the ones libyuv uses), so tests can compare against At.
func (f *I420) Fill(r, g, b uint8) {
	y, u, v := RGBToYUV(r, g, b)
	cw, ch := f.ChromaSize()
	fillPlane(f.Y, f.StrideY, f.Width, f.Height, y)
	fillPlane(f.U, f.StrideU, cw, ch, u)
	fillPlane(f.V, f.StrideV, cw, ch, v)
}

func fillPlane(p []byte, stride, w, h int, val byte) {
	for row := 0; row < h; row++ {
		line := p[row*stride : row*stride+w]
		for i := range line {
			line[i] = val
		}
	}
}

// At returns the RGB colour of pixel (x, y), converted back with BT.601 limited range.
func (f *I420) At(x, y int) (r, g, b uint8) {
	return YUVToRGB(f.Y[y*f.StrideY+x], f.U[(y/2)*f.StrideU+x/2], f.V[(y/2)*f.StrideV+x/2])
}

// RGBToYUV converts one colour with BT.601 limited-range integer coefficients.
func RGBToYUV(r, g, b uint8) (y, u, v uint8) {
	R, G, B := int(r), int(g), int(b)
	y = clamp(((66*R + 129*G + 25*B + 128) >> 8) + 16)
	u = clamp(((-38*R - 74*G + 112*B + 128) >> 8) + 128)
	v = clamp(((112*R - 94*G - 18*B + 128) >> 8) + 128)
	return y, u, v
}

// YUVToRGB is the inverse of RGBToYUV (up to rounding).
func YUVToRGB(y, u, v uint8) (r, g, b uint8) {
	c, d, e := int(y)-16, int(u)-128, int(v)-128
	r = clamp((298*c + 409*e + 128) >> 8)
	g = clamp((298*c - 100*d - 208*e + 128) >> 8)
	b = clamp((298*c + 516*d + 128) >> 8)
	return r, g, b
}

func clamp(x int) uint8 {
	if x < 0 {
		return 0
	}
	if x > 255 {
		return 255
	}
	return uint8(x)
}
