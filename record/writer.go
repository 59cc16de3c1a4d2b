package record

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
)

const (
	// queueLen is how many blocks may wait for the file: about 6 s of a 30 fps + 50 pps party, so
	// a disk stall of that long costs nothing, and a longer one drops rather than stalling the room.
	queueLen = 512
	// reorderWindow is how long blocks are held to interleave the tracks in timecode order. The
	// tracks of a file arrive on different goroutines, each roughly in time; this absorbs the skew.
	reorderWindow = 200 // ms
	// maxPending bounds the blocks held for ordering or for the header, whatever the timestamps
	// claim (a sender whose timestamps stand still would otherwise be held forever).
	maxPending = 256
	// cuesReserve is the space kept after the header for the seek index, written at Close; the
	// library halves the index until it fits (about 3000 entries fit).
	cuesReserve = 64 << 10
	// Clusters start at a video keyframe at least clusterMin after the last one, or after
	// clusterMax regardless (the block timecode is 16-bit: under 32.767 s).
	clusterMin = 1000  // ms
	clusterMax = 10000 // ms
	// defaultWidth and defaultHeight describe a video track whose first keyframe gave no size.
	defaultWidth, defaultHeight = 640, 480
)

// Track describes one track of a file.
type Track struct {
	Kind media.Kind
	// Codec is the source's codec: "video/VP8" becomes V_VP8 and "audio/opus" A_OPUS. ClockRate
	// is the RTP clock (default 90000 for video, 48000 for audio); Channels is the Opus output
	// channel count (default 2, what RTP always signals).
	Codec media.Codec
	// Width and Height are the video size written when the first keyframe does not say (default
	// 640x480). The keyframe's own size wins.
	Width, Height int
	// Name is an optional track name shown by players (e.g. the party).
	Name string
}

// TrackStats counts one track's blocks.
type TrackStats struct {
	Frames  uint64 // blocks written: VP8 frames or Opus packets
	Bytes   uint64 // their payload bytes
	Dropped uint64 // packets or frames discarded (garbage, late, waiting for a keyframe, queue full, after Close)
}

// Writer records RTP tracks into one WebM file. Each track's sink may be written from its own
// goroutine; the sinks only assemble frames, stamp them and queue them, and one goroutine per
// file does the container work and the I/O, so a slow disk never stalls the room.
//
// The header is written once every track has produced a block, or once the first block is the
// open wait (default 1 s) old (or 256 blocks wait), or at Close. It then holds the size of each
// video track's first keyframe, and only the tracks whose sink was asked for (Sink) or that
// produced data by then: a party that never turns its camera on gets an audio-only file, not an
// empty video track. The sink of a track left out drops.
type Writer struct {
	path   string
	opts   options
	start  time.Time
	tracks []*trackSink
	queue  chan block
	done   chan struct{}
	out    *output

	// mu guards the claims and the decision to write the header: a track claimed by Sink before
	// the header is in the file; one claimed after it is not.
	mu      sync.Mutex
	claimed []bool
	opened  bool

	// Owned by the run goroutine.
	pending []block
	seen    []bool
	newest  int64
	lastMs  int64
	bw      []webm.BlockWriteCloser // by track index; nil for a track left out
	muxer   bool                    // the library's writers exist (and own the file)

	closeOnce sync.Once
	closeErr  error
}

// block is one frame or packet on its way to the file. data is the Writer's own copy.
type block struct {
	track int
	ms    int64
	key   bool
	data  []byte
}

// NewWriter creates the file at path (it must not exist: a recording is never overwritten) and
// returns a Writer for tracks.
func NewWriter(path string, tracks []Track, opts ...Option) (*Writer, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if len(tracks) == 0 || len(tracks) > 16 {
		return nil, fmt.Errorf("%w: %d tracks", ErrConfig, len(tracks))
	}
	w := &Writer{
		path:    path,
		opts:    o,
		start:   o.clock(),
		queue:   make(chan block, queueLen),
		done:    make(chan struct{}),
		claimed: make([]bool, len(tracks)),
		seen:    make([]bool, len(tracks)),
		bw:      make([]webm.BlockWriteCloser, len(tracks)),
	}
	for i, t := range tracks {
		t, err := normalise(t)
		if err != nil {
			return nil, fmt.Errorf("track %d: %w", i, err)
		}
		ts, err := newTrackSink(w, i, t)
		if err != nil {
			return nil, err
		}
		w.tracks = append(w.tracks, ts)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	w.out = newOutput(f)
	go w.run()
	return w, nil
}

func normalise(t Track) (Track, error) {
	mime := strings.ToLower(t.Codec.MimeType)
	switch {
	case t.Kind == media.Video && mime == "video/vp8":
		if t.Codec.ClockRate == 0 {
			t.Codec.ClockRate = 90000
		}
		if t.Width < 0 || t.Height < 0 || t.Width > 16383 || t.Height > 16383 {
			return t, fmt.Errorf("%w: size %dx%d", ErrConfig, t.Width, t.Height)
		}
		if t.Width == 0 || t.Height == 0 {
			t.Width, t.Height = defaultWidth, defaultHeight
		}
	case t.Kind == media.Audio && mime == "audio/opus":
		if t.Codec.ClockRate == 0 {
			t.Codec.ClockRate = 48000
		}
		if t.Codec.Channels == 0 {
			t.Codec.Channels = 2
		}
		if t.Codec.Channels > 2 {
			return t, fmt.Errorf("%w: %d opus channels", ErrConfig, t.Codec.Channels)
		}
	case t.Kind != media.Video && t.Kind != media.Audio:
		return t, fmt.Errorf("%w: kind %v", ErrConfig, t.Kind)
	default:
		return t, fmt.Errorf("%w: %s %s", ErrCodec, t.Kind, t.Codec.MimeType)
	}
	return t, nil
}

// Path is the file's path.
func (w *Writer) Path() string { return w.path }

// Sink returns track i's sink and claims the track for the file (see Writer). Its WriteRTP never
// blocks and never retains h or payload. An index out of range gives a sink that drops.
func (w *Writer) Sink(i int) media.Sink {
	if s, ok := w.claim(i); ok {
		return s
	}
	if i < 0 || i >= len(w.tracks) {
		return badSink{}
	}
	return w.tracks[i]
}

// claim reports whether track i will be in the file: false when the header is already written
// without it (the caller opens another file).
func (w *Writer) claim(i int) (media.Sink, bool) {
	if i < 0 || i >= len(w.tracks) {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.opened {
		return w.tracks[i], !w.tracks[i].omitted.Load()
	}
	w.claimed[i] = true
	return w.tracks[i], true
}

// Stats returns each track's counters, in track order.
func (w *Writer) Stats() []TrackStats {
	out := make([]TrackStats, len(w.tracks))
	for i, t := range w.tracks {
		out[i] = TrackStats{Frames: t.frames.Load(), Bytes: t.bytes.Load(), Dropped: t.dropped.Load()}
	}
	return out
}

// Close writes what is still queued, finalises the file (seek index, duration) and closes it.
// It returns the first write error, the same on every call; sinks drop from then on.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		for _, t := range w.tracks {
			t.close()
		}
		close(w.queue) // no sink sends any more: each checks closed under its lock
		<-w.done
		w.closeErr = w.out.Err()
		st := w.Stats()
		if w.closeErr != nil {
			w.opts.log.Warn("recording failed", "path", w.path, "err", w.closeErr, "stats", st)
		} else {
			w.opts.log.Info("recording closed", "path", w.path, "stats", st)
		}
	})
	return w.closeErr
}

// run is the file's goroutine: it orders blocks across tracks, writes the header when the tracks
// are known, and feeds the container library, which writes the file.
func (w *Writer) run() {
	defer close(w.done)
	for b := range w.queue {
		w.add(b)
	}
	if !w.opened {
		w.open()
	}
	w.flush(1<<63 - 1)
	w.finish()
}

func (w *Writer) add(b block) {
	// Each track is in order, so a block belongs near the end; search from there.
	i := len(w.pending)
	for i > 0 && w.pending[i-1].ms > b.ms {
		i--
	}
	w.pending = slices.Insert(w.pending, i, b)
	w.newest = max(w.newest, b.ms)
	if !w.opened {
		w.seen[b.track] = true
		if !allTrue(w.seen) && w.newest-w.pending[0].ms < w.opts.openWait.Milliseconds() && len(w.pending) < maxPending {
			return
		}
		w.open()
	}
	w.flush(w.newest - reorderWindow)
	if over := len(w.pending) - maxPending; over > 0 {
		w.flush(w.pending[over-1].ms)
	}
}

// flush writes the pending blocks up to timecode upTo.
func (w *Writer) flush(upTo int64) {
	n := 0
	for n < len(w.pending) && w.pending[n].ms <= upTo {
		w.emit(w.pending[n])
		n++
	}
	rest := copy(w.pending, w.pending[n:])
	clear(w.pending[rest:]) // release the written frames
	w.pending = w.pending[:rest]
}

func (w *Writer) emit(b block) {
	t := w.tracks[b.track]
	bw := w.bw[b.track]
	if bw == nil || w.out.Err() != nil {
		t.dropped.Add(1)
		return
	}
	// A block that missed the reorder window is moved up to the last one written: the file stays
	// in order, so no block has a timecode before its cluster, nor the file a negative one.
	ms := max(b.ms, w.lastMs)
	w.lastMs = ms
	if _, err := bw.Write(b.key, ms, b.data); err != nil {
		w.out.fail(err)
		t.dropped.Add(1)
		return
	}
	t.frames.Add(1)
	t.bytes.Add(uint64(len(b.data)))
}

// open writes the header with the tracks claimed or seen so far (all of them when none is).
func (w *Writer) open() {
	w.mu.Lock()
	w.opened = true
	include := make([]bool, len(w.tracks))
	some := false
	for i := range w.tracks {
		include[i] = w.claimed[i] || w.seen[i]
		some = some || include[i]
	}
	for i, t := range w.tracks {
		if some && !include[i] {
			t.omitted.Store(true)
		} else {
			include[i] = true
		}
	}
	w.mu.Unlock()

	var entries []webm.TrackEntry
	var idx []int
	var video uint64
	for i, t := range w.tracks {
		if !include[i] {
			continue
		}
		e := t.entry()
		if e.Video != nil {
			for _, b := range w.pending {
				if b.track == i {
					if width, height, ok := vp8Size(b.data); ok {
						e.Video.PixelWidth, e.Video.PixelHeight = uint64(width), uint64(height)
					}
					break
				}
			}
			if video == 0 {
				video = e.TrackNumber
			}
		}
		entries = append(entries, e)
		idx = append(idx, i)
	}
	opts := []mkvcore.BlockWriterOption{
		mkvcore.WithSegmentInfo(&webm.Info{
			TimecodeScale: 1000000, // ms
			MuxingApp:     "github.com/at-wat/ebml-go",
			WritingApp:    "github.com/contactcenter/vcc/record",
			DateUTC:       w.start.UTC(),
		}),
		// The run goroutine already orders the blocks; the library's sorter would drop late ones
		// silently and keep them after Write returns.
		mkvcore.WithBlockInterceptor(nil),
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(cuesReserve),
		// The default fatal handler panics; output.Write never fails, so only an encoding error
		// could get here.
		mkvcore.WithOnFatalHandler(w.out.fail),
		mkvcore.WithOnErrorHandler(func(error) {}),
	}
	if video != 0 {
		opts = append(opts, mkvcore.WithMinMaxClusterDuration(video, clusterMin, clusterMax))
	}
	ws, err := webm.NewSimpleBlockWriter(w.out, entries, opts...)
	if err != nil {
		w.out.fail(err)
		return
	}
	w.muxer = true
	for k, i := range idx {
		w.bw[i] = ws[k]
	}
	w.opts.log.Info("recording", "path", w.path, "tracks", describe(entries))
}

// finish closes the library's writers; closing the last one returns once the file is finalised
// and closed.
func (w *Writer) finish() {
	if !w.muxer {
		w.out.Close()
		return
	}
	for _, bw := range w.bw {
		if bw != nil {
			bw.Close()
		}
	}
}

func allTrue(b []bool) bool {
	for _, v := range b {
		if !v {
			return false
		}
	}
	return true
}

func describe(entries []webm.TrackEntry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		s := e.CodecID
		if e.Video != nil {
			s = fmt.Sprintf("%s %dx%d", s, e.Video.PixelWidth, e.Video.PixelHeight)
		}
		out = append(out, s)
	}
	return out
}

// badSink is the sink of a track that does not exist.
type badSink struct{}

func (badSink) WriteRTP(*rtp.Header, []byte) error { return ErrConfig }
