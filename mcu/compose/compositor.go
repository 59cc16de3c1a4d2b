// Package compose draws an MCU viewer's picture: it lays out the parties' tiles (R21, R22), scales
// each decoded camera or screen frame into its tile with libyuv, and shows a name plate for a party
// without video. Composing allocates nothing per frame: the caller owns every frame.
package compose

import (
	"fmt"

	"github.com/contactcenter/vcc/media/frame"
)

// Config sizes the canvas a Compositor draws.
type Config struct {
	// Width and Height of the composite; both even so that every tile edge falls on a chroma sample.
	Width, Height int
}

// Tile is one party's place in a composite.
type Tile struct {
	Rect Rect
	// Src is the party's latest decoded frame; nil when the party has no video (camera off, audio-only
	// or a phone leg).
	Src *frame.I420
	// Plate is shown when Src is nil: the party's name or number, rendered once by RenderPlate. When
	// nil too the tile is a plain grey block, so that the party still has a visible place.
	Plate *frame.I420
	// Speaking draws a border around the tile's picture: the active speaker, so that viewers of a
	// conference see at a glance who talks.
	Speaking bool
}

// Compositor composes frames of one canvas size. It holds no per-frame state, so one Compositor may
// serve several goroutines composing into different destinations.
type Compositor struct {
	width, height int
	bg, empty     [3]uint8 // Y, U, V
	speaker       [3]uint8
}

// New returns a Compositor for a Width x Height canvas.
func New(cfg Config) (*Compositor, error) {
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width%2 != 0 || cfg.Height%2 != 0 || cfg.Width > 16383 || cfg.Height > 16383 {
		return nil, fmt.Errorf("%w: canvas %dx%d must be positive, even and at most 16383", ErrConfig, cfg.Width, cfg.Height)
	}
	c := &Compositor{width: cfg.Width, height: cfg.Height}
	// The background is near-black so that letterbox bars and gaps recede; the empty-tile grey is
	// light enough to tell a party without video or plate from no party.
	c.bg[0], c.bg[1], c.bg[2] = frame.RGBToYUV(16, 18, 22)
	c.empty[0], c.empty[1], c.empty[2] = frame.RGBToYUV(60, 66, 78)
	c.speaker[0], c.speaker[1], c.speaker[2] = frame.RGBToYUV(250, 180, 0) // amber: no camera's usual colour
	return c, nil
}

// Width returns the canvas width.
func (c *Compositor) Width() int { return c.width }

// Height returns the canvas height.
func (c *Compositor) Height() int { return c.height }

// Compose draws tiles onto dst, which must be a valid frame of the canvas size. It clears dst to the
// background, then scales each tile's source (or plate) into its rect keeping the source's aspect,
// centred with background bars. Tiles whose rect is empty, odd-aligned or outside the canvas are
// skipped rather than failing the whole picture, as are invalid source frames (shown as plate).
// Compose allocates nothing; the error is a sentinel for the same reason.
func (c *Compositor) Compose(dst *frame.I420, tiles []Tile) error {
	if !dst.Valid() || dst.Width != c.width || dst.Height != c.height {
		return ErrFrame
	}
	fillRect(dst, Rect{W: c.width, H: c.height}, c.bg[0], c.bg[1], c.bg[2])
	for i := range tiles {
		c.draw(dst, &tiles[i], false)
	}
	return nil
}

// Redraw draws only tiles[i] where redraw[i] is true, over dst as a previous Compose or Redraw with
// the same rects left it: each such tile's rect is cleared and drawn again, the rest of the canvas
// is kept. A still tile (a name plate, a paused camera, a static screen) then costs nothing per
// frame. The caller decides what changed; a changed set of rects needs Compose.
func (c *Compositor) Redraw(dst *frame.I420, tiles []Tile, redraw []bool) error {
	if !dst.Valid() || dst.Width != c.width || dst.Height != c.height || len(redraw) != len(tiles) {
		return ErrFrame
	}
	for i := range tiles {
		if redraw[i] {
			c.draw(dst, &tiles[i], true)
		}
	}
	return nil
}

// draw scales t's source or plate into its rect (clearing the rect first when clear is set, as its
// letterbox bars may hold an older picture) and frames it when t is speaking.
func (c *Compositor) draw(dst *frame.I420, t *Tile, clear bool) {
	if !c.usable(t.Rect) {
		return
	}
	drawn := Placement(t)
	if !t.Src.Valid() && !t.Plate.Valid() {
		fillRect(dst, t.Rect, c.empty[0], c.empty[1], c.empty[2])
	}
	if clear && drawn != t.Rect {
		fillRect(dst, t.Rect, c.bg[0], c.bg[1], c.bg[2])
	}
	switch {
	case t.Src.Valid():
		scaleInto(dst, drawn, t.Src)
	case t.Plate.Valid():
		scaleInto(dst, drawn, t.Plate)
	}
	if t.Speaking {
		c.border(dst, drawn)
	}
}

// Placement returns where t's picture goes inside its rect: the source's (else the plate's)
// aspect, letterboxed and centred; the whole rect when it has neither. The speaker border is
// drawn inside it too, so a redrawn tile whose placement did not move changed nowhere else.
func Placement(t *Tile) Rect {
	switch {
	case t.Src.Valid():
		return letterbox(t.Rect, t.Src.Width, t.Src.Height)
	case t.Plate.Valid():
		return letterbox(t.Rect, t.Plate.Width, t.Plate.Height)
	}
	return t.Rect
}

// borderWidth is the speaker border's thickness in pixels (even, so it stays on chroma samples).
const borderWidth = 4

// border frames r inside its edges.
func (c *Compositor) border(dst *frame.I420, r Rect) {
	if r.W < 4*borderWidth || r.H < 4*borderWidth {
		return
	}
	b := borderWidth
	for _, e := range []Rect{{r.X, r.Y, r.W, b}, {r.X, r.Y + r.H - b, r.W, b}, {r.X, r.Y, b, r.H}, {r.X + r.W - b, r.Y, b, r.H}} {
		fillRect(dst, e, c.speaker[0], c.speaker[1], c.speaker[2])
	}
}

// usable reports whether r is a non-empty, even-aligned rect inside the canvas: the bounds libyuv
// relies on and cannot check.
func (c *Compositor) usable(r Rect) bool {
	return r.W >= 2 && r.H >= 2 && r.X >= 0 && r.Y >= 0 && r.X+r.W <= c.width && r.Y+r.H <= c.height &&
		(r.X|r.Y|r.W|r.H)&1 == 0
}

// letterbox returns the largest rect with the aspect of a sw x sh source centred in r, on even
// coordinates, so that a 16:9 screen share in a 4:3 tile is not stretched.
func letterbox(r Rect, sw, sh int) Rect {
	w, h := r.W, r.H
	if sw*r.H > sh*r.W {
		h = r.W * sh / sw
	} else {
		w = r.H * sw / sh
	}
	w, h = w&^1, h&^1
	if w < 2 {
		w = 2
	}
	if h < 2 {
		h = 2
	}
	// r is even-aligned and w, h even, so halving the even difference and clearing bit 0 stays inside.
	return Rect{X: r.X + ((r.W-w)/2)&^1, Y: r.Y + ((r.H-h)/2)&^1, W: w, H: h}
}
