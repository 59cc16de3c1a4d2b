package record

import (
	"log/slog"
	"time"
)

// Option configures a Writer or an Endpoint (which hands its options to the Writers it opens).
type Option func(*options)

type options struct {
	clock      func() time.Time
	log        *slog.Logger
	openWait   time.Duration
	onKeyframe func(track int)
}

func defaultOptions() options {
	return options{clock: time.Now, log: slog.Default(), openWait: defaultOpenWait}
}

// defaultOpenWait is how long a file waits for all its tracks before writing its header without
// the silent ones: long enough for a browser's second track (tens of ms after the first), short
// enough that little is held in memory.
const defaultOpenWait = time.Second

// WithClock sets the wall clock that anchors each track's RTP timestamps (default time.Now), so
// tests can place packets at exact instants.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.clock = now
		}
	}
}

// WithLogger sets the logger (default slog.Default()). Nothing is logged per packet.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithOpenWait sets how long, in media time after a file's first block, the header waits for
// tracks that have produced nothing yet (default 1 s); see Writer.
func WithOpenWait(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.openWait = d
		}
	}
}

// WithKeyframeRequest sets what a Writer calls when a video track needs a keyframe (at its start,
// after loss or a dropped frame), at most once a second per track, outside any lock. Without it a
// recording that lost a packet stays frozen until the sender's next keyframe, which browsers send
// only when asked. An Endpoint sets its own, towards the attached source.
func WithKeyframeRequest(f func(track int)) Option {
	return func(o *options) { o.onKeyframe = f }
}
