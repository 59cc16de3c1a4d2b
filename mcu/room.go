// Package mcu is the media room that composites: it decodes every party's video, composes one
// picture per layout in use (R21, R22), encodes each picture once for all its viewers, and mixes
// audio so that each party hears everyone but themselves.
//
// One goroutine owns a room's state and runs the video clock; a second runs the 20 ms audio clock
// over a snapshot the first publishes; each incoming video track has a decoder goroutine. Nothing
// on the network side ever waits for them: a full decoder queue drops (and asks for a keyframe),
// fan-outs to viewers never block.
package mcu

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/mcu/compose"
	"github.com/contactcenter/vcc/mcu/mix"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
	"github.com/contactcenter/vcc/media/frame"
)

// Config sizes a room's output. Zero fields take the defaults noted.
type Config struct {
	Width, Height int // 1280x720 (default)
	FPS           int // 30 (default)
	BitrateKbps   int // 1500 (default): per composite
	CPUUsed       int // libvpx speed; 0 takes media/vp8's realtime default
}

func (c Config) withDefaults() (Config, error) {
	if c.Width == 0 && c.Height == 0 {
		c.Width, c.Height = 1280, 720
	}
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.BitrateKbps == 0 {
		c.BitrateKbps = 1500
	}
	if c.Width <= 0 || c.Height <= 0 || c.Width%2 != 0 || c.Height%2 != 0 || c.FPS < 1 || c.FPS > 60 || c.BitrateKbps < 0 {
		return c, fmt.Errorf("%w: %+v", ErrConfig, c)
	}
	return c, nil
}

// Option configures a Room.
type Option func(*Room)

// WithMusic sets what held and waiting parties hear (R15).
func WithMusic(src media.Source) Option { return func(r *Room) { r.music = src } }

// WithCounters counts the packets the room sends in the process-wide totals.
func WithCounters(c *media.Counters) Option { return func(r *Room) { r.ctr = c } }

// WithConfig sets the output size, rate and bitrate.
func WithConfig(c Config) Option { return func(r *Room) { r.cfg = c } }

// Room is one call's MCU. It implements call.MediaRoom.
type Room struct {
	id    call.CallID
	log   *slog.Logger
	cfg   Config
	music media.Source
	ctr   *media.Counters
	comp  *compose.Compositor
	mixer *mix.Mixer
	start time.Time

	ops       chan func()
	poke      chan struct{}
	kick      chan struct{}
	audioWake chan struct{}
	quit      chan struct{}
	done      chan struct{}
	audioDone chan struct{}
	closeOnce sync.Once

	voices  atomic.Pointer[voices] // read by the audio clock
	speaker atomic.Pointer[string] // the active speaker, set by the audio clock
	audio   audioStats

	// Owned by the room goroutine.
	members map[call.PartyID]*member
	order   []call.PartyID
	routing call.Routing
	comps   map[string]*composite
	plates  map[string]*frame.I420
	nextOut int
	stats   Stats
}

type member struct {
	ep       call.Endpoint
	camera   *videoIn
	screen   *videoIn
	voice    *audioIn
	mix      *mixOut
	view     *composite
	attached map[media.Source]bool
}

type voices struct {
	list []*voice
	byID map[string]*voice
}

// Stats is what a room did, for tests, benchmarks and metrics.
type Stats struct {
	Composites    int        // pictures being composed now (one per layout in use)
	Frames        uint64     // composite frames encoded
	Latency       [64]uint64 // frames by ms from the newest tile picture to the packets sent (last: >= 63)
	EncodeErrors  uint64
	DroppedInputs uint64 // packets dropped by decoders that fell behind
	TilesDrawn    uint64 // tiles scaled into composites (a still tile is drawn once, not every frame)
	// ActiveMacroblocks counts the 16x16 blocks the encoders were told may have changed, summed
	// over frames; the others (background, bars, still tiles) were coded as unchanged unsearched.
	ActiveMacroblocks uint64

	AudioTicks   uint64 // 20 ms ticks
	AudioMixes   uint64 // ticks in which someone spoke
	AudioEncodes uint64 // Opus encodes (one per speaking listener, one shared by the others)
	AudioShared  uint64 // mix packets sent from the shared encoding
}

// New returns a room for call id and starts its clocks.
func New(id call.CallID, log *slog.Logger, opts ...Option) (*Room, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Room{
		id: id, log: log.With("call", id, "room", "mcu"), start: time.Now(),
		ops: make(chan func()), poke: make(chan struct{}, 1), kick: make(chan struct{}, 1), audioWake: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}), audioDone: make(chan struct{}),
		members: map[call.PartyID]*member{}, comps: map[string]*composite{}, plates: map[string]*frame.I420{},
	}
	for _, o := range opts {
		o(r)
	}
	cfg, err := r.cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r.cfg = cfg
	if r.comp, err = compose.New(compose.Config{Width: cfg.Width, Height: cfg.Height}); err != nil {
		return nil, err
	}
	if r.mixer, err = mix.NewMixer(mix.Config{}); err != nil {
		return nil, err
	}
	r.voices.Store(&voices{})
	go r.run()
	go r.audioClock()
	return r, nil
}

// do runs f on the room goroutine and waits for it.
func (r *Room) do(f func() error) error {
	errc := make(chan error, 1)
	select {
	case r.ops <- func() { errc <- f() }:
		return <-errc
	case <-r.done:
		return fmt.Errorf("%w: %w", call.ErrInvalidState, ErrClosed)
	}
}

// Join adds ep: it is seen and heard as its routing says, and receives its picture and mix.
func (r *Room) Join(ep call.Endpoint) error {
	return r.do(func() error {
		if _, ok := r.members[ep.ID()]; ok {
			return fmt.Errorf("%w: %s already in the room", call.ErrInvalidState, ep.ID())
		}
		enc, err := audio.NewOpusEncoder(audio.OpusConfig{FEC: true})
		if err != nil {
			return err
		}
		m := &member{ep: ep, attached: map[media.Source]bool{}}
		m.mix = &mixOut{
			input: r.mixer.Add(string(ep.ID())), enc: enc,
			out: newOutput(fmt.Sprintf("mcu-mix-%s", ep.ID()), "mix", media.Audio, opusCodec, r.ctr),
		}
		m.mix.hdr = mixHeader(r.ssrc())
		r.members[ep.ID()] = m
		r.order = append(r.order, ep.ID())
		ep.OnSourcesChanged(r.touch)
		r.reconcile()
		return nil
	})
}

// Leave removes a party: it is no longer seen or heard and receives nothing from the room.
func (r *Room) Leave(id call.PartyID) {
	_ = r.do(func() error {
		m, ok := r.members[id]
		if !ok {
			return nil
		}
		r.drop(m)
		delete(r.members, id)
		for i, p := range r.order {
			if p == id {
				r.order = append(r.order[:i:i], r.order[i+1:]...)
				break
			}
		}
		r.reconcile()
		return nil
	})
}

// Apply sets who hears and sees whom, and each viewer's picture.
func (r *Room) Apply(rt call.Routing) error {
	return r.do(func() error {
		r.routing = rt
		r.reconcile()
		return nil
	})
}

// Close detaches every endpoint and stops the clocks; the endpoints themselves belong to the call.
func (r *Room) Close() error {
	r.closeOnce.Do(func() {
		close(r.quit)
		<-r.done
		<-r.audioDone
	})
	return nil
}

// Stats returns the room's counters.
func (r *Room) Stats() Stats {
	var s Stats
	_ = r.do(func() error {
		s = r.stats
		s.Composites = len(r.comps)
		s.AudioTicks, s.AudioMixes = r.audio.ticks.Load(), r.audio.mixes.Load()
		s.AudioEncodes, s.AudioShared = r.audio.encodes.Load(), r.audio.shared.Load()
		for _, m := range r.members {
			for _, in := range []*videoIn{m.camera, m.screen} {
				if in != nil {
					s.DroppedInputs += in.dropped.Load()
				}
			}
		}
		return nil
	})
	return s
}

// touch asks the room goroutine to look at the members' sources again; called by endpoints from
// their own goroutines, it never blocks.
func (r *Room) touch() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// run owns the room. The video clock runs only while some watched picture has a camera or a screen
// to show: a room of plates or of parties on hold wakes for nothing (a timer wake-up is far from
// free on a virtual machine), and draws a still picture once, when it changes or a viewer asks.
func (r *Room) run() {
	defer close(r.done)
	var ticker *time.Ticker
	var tick <-chan time.Time
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for {
		select {
		case f := <-r.ops:
			f()
		case <-r.poke:
			r.reconcile()
		case <-r.kick:
		case now := <-tick:
			r.videoFrame(now)
			continue
		case <-r.quit:
			for _, m := range r.members {
				r.drop(m)
			}
			for k, c := range r.comps {
				c.close()
				delete(r.comps, k)
			}
			r.members = map[call.PartyID]*member{}
			r.voices.Store(&voices{})
			return
		}
		moving := r.moving()
		switch {
		case moving && ticker == nil:
			ticker = time.NewTicker(time.Second / time.Duration(r.cfg.FPS))
			tick = ticker.C
		case !moving && ticker != nil:
			ticker.Stop()
			ticker, tick = nil, nil
		}
		if !moving {
			r.videoFrame(time.Now()) // a still picture: drawn now if it changed or was asked for
			r.retryKeyframes()
		}
	}
}

// moving reports whether a watched picture shows a camera or a screen.
func (r *Room) moving() bool {
	for _, c := range r.comps {
		if !c.out.watched() {
			continue
		}
		for _, in := range c.srcs {
			if in != nil {
				return true
			}
		}
	}
	return false
}

// retryKeyframes comes back for a keyframe request that the rate limit held back while no clock
// runs to see it later.
func (r *Room) retryKeyframes() {
	for _, c := range r.comps {
		if c.out.keyframe.Load() {
			time.AfterFunc(keyGap, r.wake)
			return
		}
	}
}

// wake asks the room goroutine to look at its pictures again; never blocks.
func (r *Room) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Room) videoFrame(now time.Time) {
	for _, c := range r.comps {
		before, drawn, active := c.frames, c.tilesDrawn, c.activeMBs
		err := c.frame(now, r.start, r.activeSpeaker())
		r.stats.TilesDrawn += c.tilesDrawn - drawn
		r.stats.ActiveMacroblocks += c.activeMBs - active
		if err != nil {
			r.stats.EncodeErrors++
			if r.stats.EncodeErrors == 1 || r.stats.EncodeErrors%1000 == 0 {
				r.log.Warn("composite frame failed", "layout", c.pic.Layout, "err", err, "count", r.stats.EncodeErrors)
			}
			continue
		}
		if c.frames != before {
			r.noteLatency(c)
		}
	}
	r.stats.Frames = 0
	for _, c := range r.comps {
		r.stats.Frames += c.frames
	}
}

// noteLatency records how old the newest tile picture was when its composite went out.
func (r *Room) noteLatency(c *composite) {
	var newest int64
	for _, in := range c.srcs {
		if in != nil {
			newest = max(newest, in.at.Load())
		}
	}
	if newest == 0 {
		return
	}
	ms := int(time.Since(time.Unix(0, newest)) / time.Millisecond)
	r.stats.Latency[min(max(ms, 0), len(r.stats.Latency)-1)]++
}

// drop detaches everything m receives and stops decoding what it sends.
func (r *Room) drop(m *member) {
	// What the member's voice and mix did, for when someone was not heard.
	r.log.Info("mcu member left", "party", m.ep.ID(), "voice", m.voice.summary(), "mix sent", m.mix.sent.Load(),
		"attached", len(m.attached))
	m.ep.OnSourcesChanged(nil)
	for src := range m.attached {
		m.ep.Detach(src)
	}
	m.attached = map[media.Source]bool{}
	for _, in := range []*videoIn{m.camera, m.screen} {
		if in != nil {
			in.close()
		}
	}
	if m.voice != nil {
		m.voice.close()
	}
	m.camera, m.screen, m.voice = nil, nil, nil
	r.mixer.Remove(string(m.ep.ID()))
}

func (r *Room) ssrc() uint32 { return rand.Uint32() | 1 }

func (r *Room) plate(name string) *frame.I420 {
	if p, ok := r.plates[name]; ok {
		return p
	}
	p, err := compose.RenderPlate(name, 320, 180)
	if err != nil {
		r.log.Warn("name plate", "err", err)
		p = nil
	}
	r.plates[name] = p
	return p
}
