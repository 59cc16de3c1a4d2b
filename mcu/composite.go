package mcu

import (
	"fmt"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/mcu/compose"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/frame"
	"github.com/contactcenter/vcc/media/vp8"
)

// refineFrames is how long a macroblock stays active after it last changed: CBR rate control codes a
// new picture coarsely at first and sharpens it over the following frames, which an inactive
// macroblock would never get. Half a second at 30 fps.
const refineFrames = 15

// keyGap rate-limits keyframes forced by viewers: every PLI answered at once would let one lossy
// viewer turn the shared stream into keyframes only, degrading it for everyone.
const keyGap = 500 * time.Millisecond

// compositeStaticThreshold lets libvpx leave alone what the senders' decoders changed by less than a
// grey level: re-coding that noise costs a tenth of the room's CPU (docs/BENCHMARKS.md).
const compositeStaticThreshold = 100

// composite is one picture (a layout with its tiles) composed, encoded once and sent to every
// viewer who sees that picture. Owned by the room goroutine.
type composite struct {
	pic    call.Picture
	out    *output
	comp   *compose.Compositor
	enc    *vp8.Encoder
	pkt    *vp8.Packetizer
	canvas *frame.I420
	rects  []compose.Rect
	tiles  []compose.Tile
	srcs   []*videoIn // per tile: the input shown, nil for a plate
	plates []*frame.I420
	seen   []uint64 // per tile: the input's picture count when last composed
	dirty  bool     // the tiles changed since the last frame

	// What the canvas shows now, per tile, so that a frame redraws only the tiles that changed.
	drawn      []compose.Tile
	redraw     []bool // per tile: draw it again (its input has a new picture, or it changed)
	full       bool   // the canvas must be drawn whole (new, or the tiles were rebound)
	tilesDrawn uint64

	// The encoder's active map: the macroblocks that changed in the last refineFrames frames.
	// The rest of the canvas (background, letterbox bars, still tiles) is coded as unchanged
	// without a search, which saves a third of the encoding in a three-party picture.
	placed    []compose.Rect // per tile: where its picture was drawn
	active    []byte         // per macroblock, row by row: the map given to libvpx
	still     []uint8        // per macroblock: frames encoded since it last changed (saturating)
	mbCols    int
	activeMBs uint64 // macroblocks coded as active, summed over frames (Stats.ActiveMacroblocks)
	codeAll   bool   // every macroblock active: what the map saves is measured against it

	encoded []byte
	hdr     rtp.Header
	sentKey bool
	lastKey time.Time
	frames  uint64

	speaker  string // whose tile is framed as the active speaker
	kbps     int    // the encoder's target now
	lastRate time.Time
}

func newComposite(id string, pic call.Picture, cfg Config, comp *compose.Compositor, r *Room) (*composite, error) {
	enc, err := vp8.NewEncoder(vp8.Config{Width: cfg.Width, Height: cfg.Height, FPS: cfg.FPS, BitrateKbps: cfg.BitrateKbps, CPUUsed: cfg.CPUUsed,
		StaticThreshold: compositeStaticThreshold})
	if err != nil {
		return nil, err
	}
	pkt, err := vp8.NewPacketizer(1200)
	if err != nil {
		_ = enc.Close()
		return nil, err
	}
	canvas, err := frame.NewI420(cfg.Width, cfg.Height)
	if err != nil {
		_ = enc.Close()
		return nil, err
	}
	c := &composite{
		pic: pic, comp: comp, enc: enc, pkt: pkt, canvas: canvas,
		out:   newOutput(id, "composite", media.Video, vp8Codec, r.ctr),
		kbps:  cfg.BitrateKbps,
		hdr:   rtp.Header{Version: 2, PayloadType: 96, SSRC: r.ssrc()},
		rects: compose.Tiles(pic.Layout, len(pic.Tiles), pic.Big, cfg.Width, cfg.Height),
	}
	c.out.wake = r.wake
	c.out.maxKbps, c.out.minKbps = float64(cfg.BitrateKbps), min(200, float64(cfg.BitrateKbps))
	c.tiles = make([]compose.Tile, len(pic.Tiles))
	c.srcs = make([]*videoIn, len(pic.Tiles))
	c.plates = make([]*frame.I420, len(pic.Tiles))
	c.seen = make([]uint64, len(pic.Tiles))
	c.drawn = make([]compose.Tile, len(pic.Tiles))
	c.redraw = make([]bool, len(pic.Tiles))
	c.placed = make([]compose.Rect, len(pic.Tiles))
	cols, rows := enc.MacroblockGrid()
	c.mbCols, c.active, c.still = cols, make([]byte, cols*rows), make([]uint8, cols*rows)
	c.full = true
	return c, nil
}

// bind points each tile at what it shows now: the party's camera or screen decoder, or its plate
// when its video is off or it has none (a phone).
func (c *composite) bind(r *Room) {
	for i, t := range c.pic.Tiles {
		var in *videoIn
		if m := r.members[t.Party]; m != nil && (t.Video || t.Screen) {
			in = m.camera
			if t.Screen {
				in = m.screen
			}
		}
		if in != c.srcs[i] {
			c.srcs[i], c.seen[i], c.dirty, c.full = in, 0, true, true
		}
		if c.plates[i] == nil { // also shown before a camera's first picture
			c.plates[i] = r.plate(t.Name)
			c.dirty, c.full = true, true
		}
	}
}

// frame composes and sends one frame if anyone watches and something changed (or a keyframe is
// due): a still picture (plates only, or paused senders) costs nothing after its first frame.
func (c *composite) frame(now time.Time, start time.Time, speaker string) error {
	if !c.out.watched() {
		return nil
	}
	// The speaker border is for conferences: in a two-party picture it is obvious who talks.
	if len(c.pic.Tiles) < 3 {
		speaker = ""
	}
	changed := c.dirty || speaker != c.speaker
	c.speaker = speaker
	for i, in := range c.srcs {
		if in != nil {
			if n := in.seq.Load(); n != c.seen[i] {
				c.seen[i], changed, c.redraw[i] = n, true, true
			}
		}
	}
	key := c.out.keyframe.Load() && (!c.sentKey || now.Sub(c.lastKey) >= keyGap)
	if !changed && !key {
		return nil
	}
	if key {
		c.out.keyframe.Store(false)
	}
	c.followViewers(now)
	if err := c.compose(); err != nil {
		return err
	}
	if err := c.enc.SetActiveMap(c.active); err != nil {
		return err
	}
	var isKey bool
	var err error
	c.encoded, isKey, err = c.enc.Encode(c.canvas, key || !c.sentKey, c.encoded[:0])
	if err != nil {
		return err
	}
	c.dirty = false
	if len(c.encoded) == 0 {
		return nil
	}
	if isKey {
		// A keyframe codes everything at the keyframe's coarser quality: let it all be refined.
		c.sentKey, c.lastKey = true, now
		clear(c.still)
	}
	c.hdr.Timestamp = uint32(int64(now.Sub(start)) * 9 / 100000) // 90 kHz
	payloads := c.pkt.Packetize(c.encoded)
	for i, p := range payloads {
		c.hdr.SequenceNumber++
		c.hdr.Marker = i == len(payloads)-1
		c.out.fan.Write(&c.hdr, p)
	}
	c.frames++
	return nil
}

// followViewers moves the encoder's bitrate to its viewers' estimate: at most once a second, and only
// for a change of more than a tenth, since libvpx reconfiguring costs more than a frame.
func (c *composite) followViewers(now time.Time) {
	t := int(c.out.target.Load())
	if t == 0 || now.Sub(c.lastRate) < time.Second || (t*10 > c.kbps*9 && t*10 < c.kbps*11) {
		return
	}
	if err := c.enc.SetBitrate(t); err == nil {
		c.kbps, c.lastRate = t, now
	}
}

// compose draws the canvas, holding each shown input's lock only while its picture is scaled. Only
// the tiles whose picture, plate or speaker border changed are drawn again, unless the whole canvas
// must be.
func (c *composite) compose() error {
	for i := range c.tiles {
		t := c.pic.Tiles[i]
		c.tiles[i] = compose.Tile{Rect: c.rects[i], Plate: c.plates[i], Speaking: !t.Screen && string(t.Party) == c.speaker && c.speaker != ""}
		if in := c.srcs[i]; in != nil {
			in.mu.Lock()
			c.tiles[i].Src = in.picture()
		}
		// A new picture was flagged by frame(); a new plate, border or source is seen here.
		if c.full || c.tiles[i] != c.drawn[i] {
			c.redraw[i] = true
		}
		c.drawn[i] = c.tiles[i]
		// Read while the input's lock holds its picture still. A picture whose placement moved
		// (the source changed aspect) is drawn over a cleared tile, bars included.
		if p := compose.Placement(&c.tiles[i]); p != c.placed[i] {
			c.placed[i], c.redraw[i] = p, true
			c.touch(c.tiles[i].Rect)
		}
		if c.redraw[i] {
			c.tilesDrawn++
		}
	}
	var err error
	if c.full {
		err = c.comp.Compose(c.canvas, c.tiles)
	} else {
		err = c.comp.Redraw(c.canvas, c.tiles, c.redraw)
	}
	for _, in := range c.srcs {
		if in != nil {
			in.mu.Unlock()
		}
	}
	if err != nil {
		c.full = true
		return fmt.Errorf("compose: %w", err)
	}
	if c.full {
		clear(c.still)
	} else {
		for i, r := range c.redraw {
			if r {
				c.touch(c.placed[i])
			}
		}
	}
	c.full = false
	clear(c.redraw)
	for i, n := range c.still {
		c.active[i] = 0
		if n < refineFrames || c.codeAll {
			c.active[i] = 1
			c.activeMBs++
			c.still[i] = n + 1
		}
	}
	return nil
}

// touch marks the macroblocks under r as changed in this frame.
func (c *composite) touch(r compose.Rect) {
	if r.Empty() {
		return
	}
	x0, x1 := max(r.X/16, 0), min((r.X+r.W+15)/16, c.mbCols)
	rows := len(c.still) / c.mbCols
	for y := max(r.Y/16, 0); y < min((r.Y+r.H+15)/16, rows); y++ {
		clear(c.still[y*c.mbCols+x0 : y*c.mbCols+x1])
	}
}

func (c *composite) close() { _ = c.enc.Close() }
