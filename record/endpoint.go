package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
)

// Mode is how an Endpoint groups what it records into files.
type Mode uint8

const (
	// Mixed records everything into <Dir>/<Name>.webm: the MCU's composite video and full mix.
	Mixed Mode = iota + 1
	// PerParty records each party's own VP8 and Opus, untranscoded, into <Dir>/<party>.webm: what
	// an SFU call has. A source names its party by a Party() string method, else by its ID.
	PerParty
)

// slots of an Endpoint's file: its track indexes.
const (
	videoSlot = 0
	audioSlot = 1
)

// Config configures NewEndpoint.
type Config struct {
	// ID is the endpoint's party ID in the room (default "recorder").
	ID call.PartyID
	// Dir holds the files; one directory per call keeps a call's recordings together. It is
	// created if missing.
	Dir  string
	Mode Mode
	// Name is the Mixed file's name without extension (default "mixed").
	Name string
	// Width and Height are the video size written if a file's first keyframe gives none
	// (default 640x480).
	Width, Height int
}

// Endpoint is a call.Endpoint that records what the room attaches to it, as a silent monitor
// receives: one VP8 video and one Opus audio track per file.
//
// Files: a source joins the first of its group's files (the group is the one Mixed recording, or
// its party in PerParty mode) whose track of its kind is free and still in the file; otherwise it
// starts the group's next file, <name>-2.webm, <name>-3.webm... That covers a screen share next
// to a camera, a source replaced after a Detach (it continues the same track), and a track that
// arrived after its file's header was written without it (a camera turned on minutes in). A file
// whose sources detach stays open until Close, so a party that comes back continues it.
// Sources whose codec WebM cannot hold (G.711 phone legs) are refused with ErrCodec.
type Endpoint struct {
	cfg    Config
	opts   []Option
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	closed   bool
	files    map[string][]*group // each group's files, oldest first
	all      []*group
	attached map[media.Source]slotRef
	onSrc    func()
}

type group struct {
	w *Writer
	// src is the source feeding each slot; atomic so that a Writer asking for a keyframe (from
	// a media goroutine) need not take the Endpoint's lock.
	src [2]atomic.Pointer[sourceRef]
}

type sourceRef struct{ media.Source }

type slotRef struct {
	g    *group
	slot int
}

var _ call.Endpoint = (*Endpoint)(nil)

// NewEndpoint returns a recorder; opts (clock, logger, open wait) apply to every file it writes.
func NewEndpoint(cfg Config, opts ...Option) (*Endpoint, error) {
	if cfg.ID == "" {
		cfg.ID = "recorder"
	}
	if cfg.Name == "" {
		cfg.Name = "mixed"
	}
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: no directory", ErrConfig)
	}
	if cfg.Mode != Mixed && cfg.Mode != PerParty {
		return nil, fmt.Errorf("%w: mode %d", ErrConfig, cfg.Mode)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	return &Endpoint{
		cfg: cfg, opts: opts, ctx: ctx, cancel: cancel,
		files: map[string][]*group{}, attached: map[media.Source]slotRef{},
	}, nil
}

func (e *Endpoint) ID() call.PartyID         { return e.cfg.ID }
func (e *Endpoint) Role() call.Role          { return call.Supervisor }
func (e *Endpoint) Caps() call.Caps          { return call.Caps{} }
func (e *Endpoint) Sources() []media.Source  { return nil }
func (e *Endpoint) Context() context.Context { return e.ctx }

// OnSourcesChanged stores f; a recorder sends nothing, so it is never called.
func (e *Endpoint) OnSourcesChanged(f func()) {
	e.mu.Lock()
	e.onSrc = f
	e.mu.Unlock()
}

// Attach records src: it subscribes the sink of src's track and, for video, asks for a keyframe
// so the file starts decodable. Attaching a source twice does nothing.
func (e *Endpoint) Attach(src media.Source) error {
	if src == nil {
		return fmt.Errorf("%w: nil source", ErrConfig)
	}
	slot, err := slotOf(src)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if _, ok := e.attached[src]; ok {
		return nil
	}
	key := e.groupOf(src)
	var g *group
	var sink media.Sink
	for _, c := range e.files[key] {
		if c.src[slot].Load() != nil {
			continue
		}
		if s, ok := c.w.claim(slot); ok {
			g, sink = c, s
			break
		}
	}
	if g == nil {
		if g, err = e.newGroup(key); err != nil {
			return err
		}
		sink, _ = g.w.claim(slot)
	}
	if err := src.AddSink(sink); err != nil {
		return fmt.Errorf("record: add sink: %w", err)
	}
	g.src[slot].Store(&sourceRef{src})
	e.attached[src] = slotRef{g: g, slot: slot}
	if slot == videoSlot {
		src.RequestKeyframe()
	}
	return nil
}

// Detach stops recording src; its track stays in the file for a source that replaces it.
func (e *Endpoint) Detach(src media.Source) {
	e.mu.Lock()
	ref, ok := e.attached[src]
	delete(e.attached, src)
	if ok {
		ref.g.src[ref.slot].Store(nil)
	}
	e.mu.Unlock()
	if ok {
		src.RemoveSink(ref.g.w.tracks[ref.slot])
	}
}

// Close stops recording, finalises every file and then ends the context with reason, so a
// watcher of Context finds the files complete. It returns the first file error.
func (e *Endpoint) Close(reason error) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	attached, groups := e.attached, e.all
	e.attached, e.files = nil, nil
	e.mu.Unlock()
	for src, ref := range attached {
		src.RemoveSink(ref.g.w.tracks[ref.slot])
	}
	var first error
	for _, g := range groups {
		if err := g.w.Close(); err != nil && first == nil {
			first = err
		}
	}
	if reason == nil {
		reason = ErrClosed
	}
	e.cancel(reason)
	return first
}

// Files returns the paths of the files written so far, in the order they were opened.
func (e *Endpoint) Files() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, len(e.all))
	for i, g := range e.all {
		out[i] = g.w.Path()
	}
	return out
}

// Stats returns each file's per-track counters (video, audio), by path.
func (e *Endpoint) Stats() map[string][]TrackStats {
	e.mu.Lock()
	groups := e.all
	e.mu.Unlock()
	out := make(map[string][]TrackStats, len(groups))
	for _, g := range groups {
		out[g.w.Path()] = g.w.Stats()
	}
	return out
}

func slotOf(src media.Source) (int, error) {
	mime := strings.ToLower(src.Codec().MimeType)
	switch {
	case src.Kind() == media.Video && mime == "video/vp8":
		return videoSlot, nil
	case src.Kind() == media.Audio && mime == "audio/opus":
		return audioSlot, nil
	}
	return 0, fmt.Errorf("%w: %s %s (source %s)", ErrCodec, src.Kind(), src.Codec().MimeType, src.ID())
}

// groupOf is the file group of src: one in Mixed mode, its party in PerParty mode.
func (e *Endpoint) groupOf(src media.Source) string {
	if e.cfg.Mode == Mixed {
		return e.cfg.Name
	}
	if p, ok := src.(interface{ Party() string }); ok && p.Party() != "" {
		return p.Party()
	}
	return src.ID()
}

// newGroup opens the next free file of group key. Called with e.mu held.
func (e *Endpoint) newGroup(key string) (*group, error) {
	g := &group{}
	tracks := []Track{
		{Kind: media.Video, Codec: media.Codec{MimeType: "video/VP8", ClockRate: 90000}, Width: e.cfg.Width, Height: e.cfg.Height, Name: key},
		{Kind: media.Audio, Codec: media.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}, Name: key},
	}
	opts := append(e.opts[:len(e.opts):len(e.opts)], WithKeyframeRequest(func(track int) {
		if s := g.src[track].Load(); s != nil {
			s.RequestKeyframe()
		}
	}))
	base := fileName(key)
	for n := 1; n <= 1000; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		w, err := NewWriter(filepath.Join(e.cfg.Dir, name+".webm"), tracks, opts...)
		if errors.Is(err, fs.ErrExist) {
			continue // an earlier file of this group, or of an earlier recorder in this directory
		}
		if err != nil {
			return nil, err
		}
		g.w = w
		e.files[key] = append(e.files[key], g)
		e.all = append(e.all, g)
		return g, nil
	}
	return nil, fmt.Errorf("%w: no free file name for %q in %s", ErrConfig, base, e.cfg.Dir)
}

// fileName makes a party ID (a user ID, chosen elsewhere) safe as a file name: no separators, no
// leading dot, nothing a shell or an archive tool would trip on.
func fileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok || i == 0 && c == '.' {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "party"
	}
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}
