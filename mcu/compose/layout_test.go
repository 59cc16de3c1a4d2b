package compose

import "testing"

var allLayouts = []string{LayoutEqual, LayoutMaxCustomer, LayoutMaxAgent, LayoutMaxThird, LayoutScreenShare}

func TestTilesGeometry(t *testing.T) {
	for _, canvas := range [][2]int{{1280, 720}, {640, 480}, {640, 360}, {1920, 1080}} {
		cw, ch := canvas[0], canvas[1]
		for _, layout := range allLayouts {
			for n := 1; n <= 8; n++ {
				for big := 0; big < n; big++ {
					rects := Tiles(layout, n, big, cw, ch)
					if len(rects) != n {
						t.Fatalf("%s n=%d: %d rects", layout, n, len(rects))
					}
					for i, r := range rects {
						if r.Empty() || r.X < 0 || r.Y < 0 || r.X+r.W > cw || r.Y+r.H > ch {
							t.Errorf("%dx%d %s n=%d big=%d: rect %d %+v not inside canvas", cw, ch, layout, n, big, i, r)
						}
						if (r.X|r.Y|r.W|r.H)&1 != 0 {
							t.Errorf("%dx%d %s n=%d big=%d: rect %d %+v not even-aligned", cw, ch, layout, n, big, i, r)
						}
						if !aspectOK(r) {
							t.Errorf("%dx%d %s n=%d big=%d: rect %d %+v neither 4:3 nor 16:9", cw, ch, layout, n, big, i, r)
						}
						for j := i + 1; j < n; j++ {
							if r.Overlaps(rects[j]) {
								t.Errorf("%dx%d %s n=%d big=%d: rects %d %+v and %d %+v overlap", cw, ch, layout, n, big, i, r, j, rects[j])
							}
						}
						if layout != LayoutEqual && i != big && r.W*r.H >= rects[big].W*rects[big].H {
							t.Errorf("%dx%d %s n=%d big=%d: rect %d %+v not smaller than big %+v", cw, ch, layout, n, big, i, r, rects[big])
						}
					}
					if layout == LayoutEqual {
						break // big does not matter
					}
				}
			}
		}
	}
}

// aspectOK allows the error that rounding sides down to even introduces.
func aspectOK(r Rect) bool {
	a := float64(r.W) / float64(r.H)
	near := func(want float64) bool { d := a/want - 1; return d > -0.03 && d < 0.03 }
	return near(4.0/3) || near(16.0/9)
}

func TestTilesEqualGrid(t *testing.T) {
	// Rows and columns used, read back from the distinct tile positions.
	want := map[int][2]int{1: {1, 1}, 2: {2, 1}, 3: {2, 2}, 4: {2, 2}, 5: {3, 2}, 6: {3, 2}, 7: {3, 3}, 8: {3, 3}}
	for n, cr := range want {
		rects := Tiles(LayoutEqual, n, 0, 1280, 720)
		rows := map[int]bool{}
		for _, r := range rects {
			rows[r.Y] = true
		}
		if len(rows) != cr[1] {
			t.Errorf("n=%d: %d rows, want %d", n, len(rows), cr[1])
		}
		firstRow := 0
		for _, r := range rects {
			if r.Y == rects[0].Y {
				firstRow++
			}
		}
		if firstRow != cr[0] {
			t.Errorf("n=%d: %d columns, want %d", n, firstRow, cr[0])
		}
	}
	if r := Tiles(LayoutEqual, 1, 0, 1280, 720)[0]; r.W < 1270 || r.H < 710 {
		t.Errorf("single tile %+v should fill a 16:9 canvas", r)
	}
}

func TestTilesFallbacks(t *testing.T) {
	eq := Tiles(LayoutEqual, 3, 0, 1280, 720)
	for _, got := range [][]Rect{Tiles("bogus", 3, 0, 1280, 720), Tiles(LayoutMaxAgent, 3, 7, 1280, 720), Tiles(LayoutMaxAgent, 3, -1, 1280, 720)} {
		for i := range eq {
			if got[i] != eq[i] {
				t.Errorf("fallback %v differs from equal %v", got, eq)
				break
			}
		}
	}
	if Tiles(LayoutEqual, 0, 0, 1280, 720) != nil || Tiles(LayoutEqual, 2, 0, 4, 4) != nil {
		t.Error("no participants or a tiny canvas should give no tiles")
	}
}
