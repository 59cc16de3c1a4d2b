package frame

import (
	"errors"
	"testing"
)

func TestFillAt(t *testing.T) {
	f, err := NewI420(33, 17) // odd sizes exercise the rounded-up chroma planes
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][3]uint8{{0, 0, 0}, {255, 255, 255}, {200, 30, 90}, {10, 220, 40}, {0, 0, 255}} {
		f.Fill(c[0], c[1], c[2])
		r, g, b := f.At(32, 16)
		if absDiff(r, c[0]) > 3 || absDiff(g, c[1]) > 3 || absDiff(b, c[2]) > 3 {
			t.Errorf("Fill(%v) then At = %d,%d,%d", c, r, g, b)
		}
	}
	if !f.Valid() {
		t.Error("fresh frame not valid")
	}
}

func TestResizeReuses(t *testing.T) {
	f, _ := NewI420(640, 480)
	y := &f.Y[0]
	if err := f.Resize(320, 240); err != nil {
		t.Fatal(err)
	}
	if &f.Y[0] != y || f.StrideY != 320 || len(f.U) != 160*120 {
		t.Error("shrinking should reuse storage with tight strides")
	}
	if err := f.Resize(0, 10); !errors.Is(err, ErrSize) {
		t.Errorf("Resize(0,10) = %v", err)
	}
}

func TestPool(t *testing.T) {
	var p Pool
	f, err := p.Get(64, 48)
	if err != nil || f.Width != 64 || f.Height != 48 || !f.Valid() {
		t.Fatalf("Get = %+v, %v", f, err)
	}
	p.Put(f)
	g, _ := p.Get(32, 24)
	if g.Width != 32 || g.Height != 24 {
		t.Fatalf("wrong size from pool: %dx%d", g.Width, g.Height)
	}
	if _, err := p.Get(-1, 5); !errors.Is(err, ErrSize) {
		t.Errorf("Get(-1,5) = %v", err)
	}
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}
