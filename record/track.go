package record

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/vp8"
)

const (
	// maxSkew is how far a packet's RTP time may disagree with the wall clock since the previous
	// packet. Senders keep their RTP clock running through a mute or a pause, so a long silence
	// agrees with the wall clock; a timestamp off by more than this is garbage or a restart.
	maxSkew = 5 * time.Second
	// keyframeEvery is the longest a video track waits before asking again for a keyframe.
	keyframeEvery = time.Second
	// seekPreRoll is how much audio a player decodes before a seek target (the Opus-in-WebM
	// recommendation: 80 ms, in ns).
	seekPreRoll = 80_000_000
)

// trackSink is one track's media.Sink: it turns RTP into stamped blocks for the Writer's queue.
//
// Timecodes: the first packet of a stream is placed at its wall-clock arrival relative to the
// file's start; later packets at that place plus their RTP time since, so jitter does not move
// them and tracks that start at different times keep their offset. A packet whose SSRC changed or
// whose timestamp disagrees with the wall clock by more than maxSkew is dropped, unless the packet
// after it agrees with it: then the sender really restarted, and the stream is anchored afresh.
type trackSink struct {
	w       *Writer
	idx     int
	cfg     Track
	clock   int64 // RTP ticks per second
	omitted atomic.Bool

	mu       sync.Mutex
	closed   bool
	started  bool
	ssrc     uint32
	lastTs   uint32    // newest accepted RTP timestamp
	lastWall time.Time // when lastTs arrived
	ext      int64     // lastTs unwrapped, in ticks since the anchor
	anchorMs int64     // the anchor's timecode
	lastMs   int64     // timecode of the last block queued; timecodes never go below it
	// The previous rejected packet, a candidate anchor should the stream really have restarted.
	cand     bool
	candSSRC uint32
	candTs   uint32
	candWall time.Time
	// Video only.
	depack     *vp8.Depacketizer
	waitKey    bool // a frame was dropped after the depacketizer: wait for a keyframe
	lastKeyReq time.Time

	frames, bytes, dropped atomic.Uint64
}

var _ media.Sink = (*trackSink)(nil)

func newTrackSink(w *Writer, i int, t Track) (*trackSink, error) {
	s := &trackSink{w: w, idx: i, cfg: t, clock: int64(t.Codec.ClockRate)}
	if t.Kind == media.Video {
		d, err := vp8.NewDepacketizer()
		if err != nil {
			return nil, err
		}
		s.depack = d
	}
	return s, nil
}

func (s *trackSink) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// WriteRTP implements media.Sink. It copies what it keeps.
func (s *trackSink) WriteRTP(h *rtp.Header, payload []byte) error {
	if h == nil || s.omitted.Load() {
		s.dropped.Add(1)
		return ErrDropped
	}
	now := s.w.opts.clock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.dropped.Add(1)
		return ErrClosed
	}
	var err error
	var wantKey bool
	if s.depack != nil {
		wantKey, err = s.video(h, payload, now)
	} else {
		err = s.audio(h, payload, now)
	}
	s.mu.Unlock()
	if wantKey && s.w.opts.onKeyframe != nil {
		s.w.opts.onKeyframe(s.idx) // outside the lock: it reaches into the source
	}
	return err
}

func (s *trackSink) audio(h *rtp.Header, payload []byte, now time.Time) error {
	if len(payload) == 0 {
		s.dropped.Add(1)
		return ErrDropped
	}
	d, ok, fresh := s.timing(h, now)
	if !ok || !fresh && d <= 0 {
		// Rejected, or not newer than the last packet: a duplicate, or a late packet that written
		// out of order would be heard as a glitch.
		s.dropped.Add(1)
		return ErrDropped
	}
	return s.enqueue(s.ms(h.Timestamp), true, payload)
}

// video returns whether to ask for a keyframe, and the packet's error.
func (s *trackSink) video(h *rtp.Header, payload []byte, now time.Time) (bool, error) {
	if _, ok, _ := s.timing(h, now); !ok {
		s.dropped.Add(1)
		return false, ErrDropped // the depacketizer will see the gap and wait for a keyframe
	}
	res, err := s.depack.Push(h, payload)
	if err != nil {
		s.dropped.Add(1)
		return s.keyDue(now), err
	}
	if res.Frame == nil {
		if res.NeedKeyframe && h.Marker {
			s.dropped.Add(1) // a whole frame withheld until the next keyframe
		}
		return res.NeedKeyframe && s.keyDue(now), nil
	}
	if s.waitKey && !res.Keyframe {
		s.dropped.Add(1)
		return s.keyDue(now), ErrDropped
	}
	s.waitKey = false
	// A frame whose timestamp went backwards (garbage that the sequence numbers let through) is
	// clamped to the last block by ms.
	if err := s.enqueue(s.ms(res.Timestamp), res.Keyframe, res.Frame); err != nil {
		s.waitKey = true // the next frames reference the lost one
		return s.keyDue(now), err
	}
	return false, nil
}

// timing checks the packet's SSRC and timestamp against the stream. d is the packet's RTP time
// after the newest accepted packet (before this one); ok is false for a packet to drop; fresh is
// true when the packet (re)started the stream.
func (s *trackSink) timing(h *rtp.Header, now time.Time) (d int32, ok, fresh bool) {
	if !s.started {
		s.anchor(h, now)
		return 0, true, true
	}
	d = int32(h.Timestamp - s.lastTs)
	if h.SSRC == s.ssrc && s.agrees(d, now.Sub(s.lastWall)) {
		s.cand = false
		if d > 0 {
			s.ext += int64(d)
			s.lastTs, s.lastWall = h.Timestamp, now
		}
		return d, true, false
	}
	if s.cand && h.SSRC == s.candSSRC && s.agrees(int32(h.Timestamp-s.candTs), now.Sub(s.candWall)) {
		s.anchor(h, now)
		return 0, true, true
	}
	s.cand, s.candSSRC, s.candTs, s.candWall = true, h.SSRC, h.Timestamp, now
	return d, false, false
}

// agrees reports whether d RTP ticks fit elapsed wall time.
func (s *trackSink) agrees(d int32, elapsed time.Duration) bool {
	rtpMs := int64(d) * 1000 / s.clock
	diff := rtpMs - elapsed.Milliseconds()
	return diff <= maxSkew.Milliseconds() && diff >= -maxSkew.Milliseconds()
}

// anchor places the packet at its arrival time (never before the last block) and makes it the
// reference for the packets after it.
func (s *trackSink) anchor(h *rtp.Header, now time.Time) {
	if s.started && h.SSRC != s.ssrc && s.depack != nil {
		// A new stream on this track: its sequence numbers would read as late to the old state.
		s.depack, _ = vp8.NewDepacketizer()
	}
	s.started, s.cand = true, false
	s.ssrc, s.lastTs, s.lastWall = h.SSRC, h.Timestamp, now
	s.ext = 0
	s.anchorMs = max(now.Sub(s.w.start).Milliseconds(), s.lastMs, 0)
}

// ms is the timecode of RTP timestamp ts (near the newest accepted one); never below the last.
func (s *trackSink) ms(ts uint32) int64 {
	ms := s.anchorMs + (s.ext+int64(int32(ts-s.lastTs)))*1000/s.clock
	return max(ms, s.lastMs)
}

// enqueue copies data into a block for the file; it drops rather than wait for a full queue.
func (s *trackSink) enqueue(ms int64, key bool, data []byte) error {
	// One allocation per block: the container library holds the data after Write returns (in
	// its muxer goroutine) and allocates per block itself, so pooling here would buy little. A
	// full queue is seen before copying, so a backlog costs no garbage.
	if len(s.w.queue) < cap(s.w.queue) {
		select {
		case s.w.queue <- block{track: s.idx, ms: ms, key: key, data: append([]byte(nil), data...)}:
			s.lastMs = ms
			return nil
		default:
		}
	}
	s.dropped.Add(1)
	return ErrDropped
}

func (s *trackSink) keyDue(now time.Time) bool {
	if now.Sub(s.lastKeyReq) < keyframeEvery && !s.lastKeyReq.IsZero() {
		return false
	}
	s.lastKeyReq = now
	return true
}

// entry is the track's header entry; the Writer fills in the video size it reads.
func (s *trackSink) entry() webm.TrackEntry {
	n := uint64(s.idx + 1)
	e := webm.TrackEntry{Name: s.cfg.Name, TrackNumber: n, TrackUID: n}
	if s.cfg.Kind == media.Video {
		e.CodecID, e.TrackType = "V_VP8", 1
		e.Video = &webm.Video{PixelWidth: uint64(s.cfg.Width), PixelHeight: uint64(s.cfg.Height)}
		return e
	}
	ch := int(s.cfg.Codec.Channels)
	e.CodecID, e.TrackType = "A_OPUS", 2
	e.CodecPrivate = opusHead(ch)
	e.SeekPreRoll = seekPreRoll
	e.Audio = &webm.Audio{SamplingFrequency: 48000, Channels: uint64(ch)}
	return e
}
