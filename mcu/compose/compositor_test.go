package compose

import (
	"errors"
	"testing"

	"github.com/contactcenter/vcc/media/frame"
)

var palette = [][3]uint8{{220, 40, 40}, {40, 200, 60}, {40, 60, 220}, {230, 210, 40}, {200, 60, 200}, {40, 200, 200}, {240, 240, 240}, {130, 90, 30}}

func mustFrame(t testing.TB, w, h int) *frame.I420 {
	t.Helper()
	f, err := frame.NewI420(w, h)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func near(t testing.TB, got, want [3]uint8, tol int) bool {
	t.Helper()
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d < -tol || d > tol {
			return false
		}
	}
	return true
}

func at(f *frame.I420, x, y int) [3]uint8 {
	r, g, b := f.At(x, y)
	return [3]uint8{r, g, b}
}

func centre(r Rect) (int, int) { return r.X + r.W/2, r.Y + r.H/2 }

// solidTiles builds n tiles with sources of the given sizes (cycled), each a palette colour.
func solidTiles(t testing.TB, layout string, n, big, cw, ch int, sizes [][2]int) []Tile {
	rects := Tiles(layout, n, big, cw, ch)
	tiles := make([]Tile, n)
	for i, r := range rects {
		s := sizes[i%len(sizes)]
		src := mustFrame(t, s[0], s[1])
		c := palette[i]
		src.Fill(c[0], c[1], c[2])
		tiles[i] = Tile{Rect: r, Src: src}
	}
	return tiles
}

func TestNewRejectsBadSize(t *testing.T) {
	for _, cfg := range []Config{{0, 720}, {1280, -2}, {1281, 720}, {1280, 721}, {20000, 720}} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}

func TestComposeColoursAtTileCentres(t *testing.T) {
	const cw, ch = 1280, 720
	c, err := New(Config{Width: cw, Height: ch})
	if err != nil {
		t.Fatal(err)
	}
	dst := mustFrame(t, cw, ch)
	sizes := [][2]int{{320, 240}, {640, 480}, {1280, 720}, {640, 360}, {176, 144}}
	for _, layout := range allLayouts {
		for n := 1; n <= 8; n++ {
			big := (n - 1) / 2
			tiles := solidTiles(t, layout, n, big, cw, ch, sizes)
			if err := c.Compose(dst, tiles); err != nil {
				t.Fatal(err)
			}
			for i, tl := range tiles {
				x, y := centre(tl.Rect)
				if got := at(dst, x, y); !near(t, got, palette[i], 4) {
					t.Errorf("%s n=%d: tile %d (src %dx%d, rect %+v) centre = %v, want %v",
						layout, n, i, tl.Src.Width, tl.Src.Height, tl.Rect, got, palette[i])
				}
			}
			// The gap between tiles stays background.
			if got := at(dst, 0, 0); !near(t, got, [3]uint8{16, 18, 22}, 4) {
				t.Errorf("%s n=%d: canvas corner = %v, want background", layout, n, got)
			}
		}
	}
}

func TestComposeLetterboxesWideSource(t *testing.T) {
	c, _ := New(Config{Width: 1280, Height: 720})
	dst := mustFrame(t, 1280, 720)
	r := Rect{X: 100, Y: 100, W: 640, H: 480} // 4:3 tile
	src := mustFrame(t, 1280, 720)            // 16:9 source: bars above and below
	src.Fill(40, 200, 60)
	if err := c.Compose(dst, []Tile{{Rect: r, Src: src}}); err != nil {
		t.Fatal(err)
	}
	if got := at(dst, 420, 340); !near(t, got, [3]uint8{40, 200, 60}, 4) {
		t.Errorf("centre = %v", got)
	}
	// 640x360 image centred in 480: 60-pixel bars.
	for _, y := range []int{104, 156, 526, 576} {
		if got := at(dst, 420, y); !near(t, got, [3]uint8{16, 18, 22}, 4) {
			t.Errorf("bar row %d = %v, want background", y, got)
		}
	}
	if got := at(dst, 420, 170); !near(t, got, [3]uint8{40, 200, 60}, 6) {
		t.Errorf("row 170 = %v, want source", got)
	}
}

func TestComposeNilSourceShowsPlate(t *testing.T) {
	c, _ := New(Config{Width: 1280, Height: 720})
	dst := mustFrame(t, 1280, 720)
	rects := Tiles(LayoutEqual, 3, 0, 1280, 720)
	plate, err := RenderPlate("+1 555 0100", rects[1].W, rects[1].H)
	if err != nil {
		t.Fatal(err)
	}
	src := mustFrame(t, 640, 480)
	src.Fill(220, 40, 40)
	tiles := []Tile{{Rect: rects[0], Src: src}, {Rect: rects[1], Plate: plate}, {Rect: rects[2]}}
	if err := c.Compose(dst, tiles); err != nil {
		t.Fatal(err)
	}
	bg := [3]uint8{16, 18, 22}
	// The plate's corner is its slate background, distinct from the canvas background.
	r := rects[1]
	if got := at(dst, r.X+4, r.Y+4); !near(t, got, [3]uint8{45, 52, 64}, 4) {
		t.Errorf("plate corner = %v, want plate background", got)
	}
	// The plate carries white text somewhere around its middle row.
	white := 0
	for x := r.X; x < r.X+r.W; x++ {
		for y := r.Y + r.H/2 - 20; y < r.Y+r.H/2+20; y++ {
			if p := at(dst, x, y); p[0] > 200 && p[1] > 200 && p[2] > 200 {
				white++
			}
		}
	}
	if white < 50 {
		t.Errorf("only %d white pixels in the plate's middle band: no text drawn", white)
	}
	// A tile with neither source nor plate is still visible, not background.
	x, y := centre(rects[2])
	if got := at(dst, x, y); near(t, got, bg, 10) {
		t.Errorf("empty tile centre = %v, indistinguishable from background", got)
	}
}

func TestComposeRejectsWrongDestination(t *testing.T) {
	c, _ := New(Config{Width: 1280, Height: 720})
	for _, dst := range []*frame.I420{nil, mustFrame(t, 640, 480), {Width: 1280, Height: 720}} {
		if err := c.Compose(dst, nil); !errors.Is(err, ErrFrame) {
			t.Errorf("Compose(%v) = %v, want ErrFrame", dst, err)
		}
	}
}

func TestComposeSkipsBadRects(t *testing.T) {
	c, _ := New(Config{Width: 640, Height: 480})
	dst := mustFrame(t, 640, 480)
	src := mustFrame(t, 320, 240)
	src.Fill(255, 0, 0)
	bad := []Tile{
		{Rect: Rect{X: 600, Y: 0, W: 100, H: 100}, Src: src}, // off the right edge
		{Rect: Rect{X: 1, Y: 0, W: 100, H: 100}, Src: src},   // odd
		{Rect: Rect{X: -2, Y: 0, W: 100, H: 100}, Src: src},
		{Rect: Rect{}, Src: src},
		{Rect: Rect{X: 0, Y: 0, W: 100, H: 100}, Src: &frame.I420{Width: 320, Height: 240}}, // invalid planes
	}
	if err := c.Compose(dst, bad); err != nil {
		t.Fatal(err)
	}
	if got := at(dst, 620, 50); !near(t, got, [3]uint8{16, 18, 22}, 4) {
		t.Errorf("out-of-canvas tile drawn: %v", got)
	}
}

func TestComposeAllocatesNothing(t *testing.T) {
	c, _ := New(Config{Width: 1280, Height: 720})
	dst := mustFrame(t, 1280, 720)
	tiles := solidTiles(t, LayoutMaxThird, 4, 2, 1280, 720, [][2]int{{640, 480}, {320, 240}, {1280, 720}})
	plate, _ := RenderPlate("Alice", tiles[3].Rect.W, tiles[3].Rect.H)
	tiles[3].Src, tiles[3].Plate = nil, plate
	if a := testing.AllocsPerRun(100, func() { _ = c.Compose(dst, tiles) }); a != 0 {
		t.Errorf("Compose allocates %v per frame", a)
	}
}

func TestRenderPlate(t *testing.T) {
	for _, bad := range [][2]int{{0, 10}, {10, 0}, {11, 10}, {10, 11}} {
		if _, err := RenderPlate("x", bad[0], bad[1]); !errors.Is(err, ErrPlateSize) {
			t.Errorf("RenderPlate %v = %v, want ErrPlateSize", bad, err)
		}
	}
	for _, name := range []string{"", "Al", "A very long customer name that cannot possibly fit", "Zoë Ünïcode"} {
		for _, sz := range [][2]int{{2, 2}, {100, 74}, {316, 236}, {956, 716}} {
			p, err := RenderPlate(name, sz[0], sz[1])
			if err != nil || !p.Valid() || p.Width != sz[0] || p.Height != sz[1] {
				t.Fatalf("RenderPlate(%q, %v) = %+v, %v", name, sz, p, err)
			}
		}
	}
	if got := fitText("abcdefgh", 5); got != "abc.." {
		t.Errorf("fitText = %q", got)
	}
}

// The active speaker's tile is framed in amber; the others are not, and the picture inside the
// frame is untouched.
func TestComposeSpeakerBorder(t *testing.T) {
	const cw, ch = 1280, 720
	c, err := New(Config{Width: cw, Height: ch})
	if err != nil {
		t.Fatal(err)
	}
	dst := mustFrame(t, cw, ch)
	tiles := solidTiles(t, LayoutEqual, 3, -1, cw, ch, [][2]int{{640, 480}})
	tiles[1].Speaking = true
	if err := c.Compose(dst, tiles); err != nil {
		t.Fatal(err)
	}
	amber := [3]uint8{250, 180, 0}
	for i, tl := range tiles {
		r := letterbox(tl.Rect, 640, 480)
		x, y := centre(r)
		edge := at(dst, r.X+1, y)
		if i == 1 && !near(t, edge, amber, 12) {
			t.Errorf("speaker's tile edge = %v, want amber", edge)
		}
		if i != 1 && !near(t, edge, palette[i], 12) {
			t.Errorf("tile %d edge = %v, want its own colour %v", i, edge, palette[i])
		}
		if got := at(dst, x, y); !near(t, got, palette[i], 4) {
			t.Errorf("tile %d centre = %v, want %v", i, got, palette[i])
		}
	}
}

// Redraw draws only the tiles asked for: a changed tile shows its new picture (a narrower one
// letterboxed on background, not on the old picture), the others keep what the canvas had, even
// though their sources changed meanwhile.
func TestRedrawOnlyChangedTiles(t *testing.T) {
	c, _ := New(Config{Width: 1280, Height: 720})
	dst := mustFrame(t, 1280, 720)
	tiles := solidTiles(t, LayoutEqual, 2, -1, 1280, 720, [][2]int{{640, 360}})
	if err := c.Compose(dst, tiles); err != nil {
		t.Fatal(err)
	}
	tiles[0].Src = mustFrame(t, 240, 320) // portrait: bars at the sides, where the old picture was
	tiles[0].Src.Fill(230, 210, 40)
	tiles[1].Src.Fill(240, 240, 240) // changed, but not redrawn
	if err := c.Redraw(dst, tiles, []bool{true, false}); err != nil {
		t.Fatal(err)
	}
	x0, y0 := centre(tiles[0].Rect)
	if got := at(dst, x0, y0); !near(t, got, [3]uint8{230, 210, 40}, 4) {
		t.Errorf("redrawn tile centre = %v, want its new colour", got)
	}
	if got := at(dst, tiles[0].Rect.X+2, y0); !near(t, got, [3]uint8{16, 18, 22}, 4) {
		t.Errorf("redrawn tile's side bar = %v, want background, not the old picture", got)
	}
	x1, y1 := centre(tiles[1].Rect)
	if got := at(dst, x1, y1); !near(t, got, palette[1], 4) {
		t.Errorf("tile not asked for = %v, want its old colour %v", got, palette[1])
	}
	if err := c.Redraw(dst, tiles, []bool{true}); !errors.Is(err, ErrFrame) {
		t.Errorf("Redraw with a short redraw list = %v, want ErrFrame", err)
	}
	if n := testing.AllocsPerRun(20, func() { _ = c.Redraw(dst, tiles, []bool{true, true}) }); n != 0 {
		t.Errorf("Redraw allocates %.0f times", n)
	}
}
