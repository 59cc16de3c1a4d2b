package compose

import "math"

// Layout names, as a viewer chooses them (R21). A screen share (R22) is laid out like a maximized
// layout whose big participant is the share; LayoutScreenShare names that for callers that prefer it.
const (
	LayoutEqual       = "equal"
	LayoutMaxCustomer = "max_customer"
	LayoutMaxAgent    = "max_agent"
	LayoutMaxThird    = "max_third"
	LayoutScreenShare = "screen_share"
)

// Rect is a tile's place on the canvas in pixels. Tiles always returns even X, Y, W and H, so a tile
// starts and ends on a chroma sample of the I420 canvas and never bleeds half a chroma pixel.
type Rect struct{ X, Y, W, H int }

// Empty reports whether the rect has no area.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// Overlaps reports whether two rects share any pixel.
func (r Rect) Overlaps(o Rect) bool {
	return r.X < o.X+o.W && o.X < r.X+r.W && r.Y < o.Y+o.H && o.Y < r.Y+r.H
}

// gap is the space kept between neighbouring tiles: without it two dark-edged videos merge visually,
// and it makes the tiles disjoint by construction even after rounding to even coordinates.
const gap = 4

// bigShare is the fraction (numerator over 4) of the canvas width the maximized tile's cell takes.
const bigShare = 3

// Tiles lays out n participants on a canvasW x canvasH canvas and returns one rect per participant,
// in participant order. For LayoutEqual (and any unknown name, so that a stale or mistyped choice still
// shows everyone) the participants share a grid: 1 full, 2 side by side, 3-4 as 2x2, 5-6 as 3x2, 7-9
// as 3x3, with an incomplete last row centred. For a maximized layout (max_customer, max_agent,
// max_third, screen_share) participant big gets the left three quarters and the others a column on
// the right; a big outside 0..n-1 falls back to the equal grid rather than hiding anyone.
// Each tile has a 4:3 or 16:9 aspect, whichever fills its cell more, letterboxed (centred) in the cell.
func Tiles(layout string, n, big, canvasW, canvasH int) []Rect {
	if n <= 0 || canvasW < 2*gap+2 || canvasH < 2*gap+2 {
		return nil
	}
	rects := make([]Rect, n)
	if isMaximized(layout) && big >= 0 && big < n {
		maxTiles(rects, big, canvasW, canvasH)
	} else {
		gridTiles(rects, canvasW, canvasH)
	}
	return rects
}

func isMaximized(layout string) bool {
	switch layout {
	case LayoutMaxCustomer, LayoutMaxAgent, LayoutMaxThird, LayoutScreenShare:
		return true
	}
	return false
}

func gridTiles(rects []Rect, cw, ch int) {
	n := len(rects)
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	cellW, cellH := cw/cols, ch/rows
	for i := range rects {
		row, col := i/cols, i%cols
		inRow := cols
		if row == rows-1 {
			inRow = n - row*cols
		}
		// Centre an incomplete last row so that, e.g., the third of three is not stuck in a corner.
		x0 := (cw - inRow*cellW) / 2
		rects[i] = fitTile(Rect{X: x0 + col*cellW, Y: row * cellH, W: cellW, H: cellH})
	}
}

func maxTiles(rects []Rect, big, cw, ch int) {
	n := len(rects)
	if n == 1 {
		rects[0] = fitTile(Rect{W: cw, H: ch})
		return
	}
	bigW := cw * bigShare / 4
	rects[big] = fitTile(Rect{W: bigW, H: ch})
	colW := cw - bigW
	// Small cells are at most 4:3 tall so that two or three small tiles do not stretch into tall
	// strips; the column is centred vertically.
	cellH := ch / (n - 1)
	if m := colW * 3 / 4; cellH > m {
		cellH = m
	}
	y0 := (ch - cellH*(n-1)) / 2
	k := 0
	for i := range rects {
		if i == big {
			continue
		}
		rects[i] = fitTile(Rect{X: bigW, Y: y0 + k*cellH, W: colW, H: cellH})
		k++
	}
}

// fitTile places the largest 4:3 or 16:9 tile that fits in the cell less the gap, centred, on even
// coordinates. Cameras send 4:3 or 16:9, so a tile of one of these aspects is filled by most sources
// without further letterboxing.
func fitTile(cell Rect) Rect {
	in := Rect{X: cell.X + gap/2, Y: cell.Y + gap/2, W: cell.W - gap, H: cell.H - gap}
	best := Rect{}
	for _, a := range [][2]int{{4, 3}, {16, 9}} {
		r := fitAspect(in, a[0], a[1])
		if r.W*r.H > best.W*best.H {
			best = r
		}
	}
	return best
}

// fitAspect returns the largest rect of aspect aw:ah centred in r, with even coordinates and sides,
// and never outside r.
func fitAspect(r Rect, aw, ah int) Rect {
	w, h := r.W, r.H
	if w*ah > h*aw { // r is wider than the aspect: full height
		w = h * aw / ah
	} else {
		h = w * ah / aw
	}
	w, h = w&^1, h&^1
	x := r.X + (r.W-w)/2
	y := r.Y + (r.H-h)/2
	// Rounding x up to even keeps the left edge inside r; shrink by 2 if that pushed the right edge out.
	x, y = (x+1)&^1, (y+1)&^1
	if x+w > r.X+r.W {
		w -= 2
	}
	if y+h > r.Y+r.H {
		h -= 2
	}
	if w <= 0 || h <= 0 {
		return Rect{}
	}
	return Rect{X: x, Y: y, W: w, H: h}
}
