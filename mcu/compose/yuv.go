package compose

// #cgo LDFLAGS: -lyuv
// #include <libyuv/planar_functions.h>
// #include <libyuv/scale.h>
import "C"

import (
	"unsafe"

	"github.com/contactcenter/vcc/media/frame"
)

// The cgo calls below pass pointers into Go byte slices only for the duration of the call; libyuv
// keeps none of them. The caller checks every rect against the frames' sizes first, since C does not.

// scaleInto scales all of src into rect r of dst with bilinear filtering: libyuv's SIMD bilinear is
// 30x faster than x/image/draw and, for the 2x-or-less factors of a composite, looks like box.
func scaleInto(dst *frame.I420, r Rect, src *frame.I420) {
	C.I420Scale(
		ptr(src.Y, 0), C.int(src.StrideY), ptr(src.U, 0), C.int(src.StrideU), ptr(src.V, 0), C.int(src.StrideV),
		C.int(src.Width), C.int(src.Height),
		ptr(dst.Y, r.Y*dst.StrideY+r.X), C.int(dst.StrideY),
		ptr(dst.U, r.Y/2*dst.StrideU+r.X/2), C.int(dst.StrideU),
		ptr(dst.V, r.Y/2*dst.StrideV+r.X/2), C.int(dst.StrideV),
		C.int(r.W), C.int(r.H), C.kFilterBilinear)
}

// fillRect paints rect r of dst one colour (I420Rect is a SIMD memset per row).
func fillRect(dst *frame.I420, r Rect, y, u, v uint8) {
	C.I420Rect(ptr(dst.Y, 0), C.int(dst.StrideY), ptr(dst.U, 0), C.int(dst.StrideU), ptr(dst.V, 0), C.int(dst.StrideV),
		C.int(r.X), C.int(r.Y), C.int(r.W), C.int(r.H), C.int(y), C.int(u), C.int(v))
}

func ptr(b []byte, off int) *C.uint8_t { return (*C.uint8_t)(unsafe.Pointer(&b[off])) }
