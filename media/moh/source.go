// Package moh is the music-on-hold source: a media.Source that loops an Ogg Opus asset as RTP, paced
// in real time, to every party on hold. By default it plays a built-in, royalty-free loop.
//
// One Source can serve any number of sinks: each packet is produced once and handed to all of them.
// It costs nothing while nobody listens: the paced goroutine runs only while there is a sink.
package moh

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/contactcenter/vcc/media"
)

// defaultPayloadType is the dynamic payload type browsers commonly give Opus. Transports rewrite it
// to what they negotiated, so it only matters to a sink that does not.
const defaultPayloadType = 111

// Option configures a Source.
type Option func(*config) error

type config struct {
	id       string
	asset    *Asset
	counters *media.Counters
	pt       uint8
}

// WithID sets the source ID (default: "moh-" and a random suffix).
func WithID(id string) Option {
	return func(c *config) error { c.id = id; return nil }
}

// WithAsset plays a. Sharing one Asset between sources parses the file once per process.
func WithAsset(a *Asset) Option {
	return func(c *config) error {
		if a == nil {
			return fmt.Errorf("%w: asset", ErrNil)
		}
		c.asset = a
		return nil
	}
}

// WithOgg plays the Ogg Opus stream read from r instead of the built-in loop; New reads all of r.
func WithOgg(r io.Reader) Option {
	return func(c *config) error {
		a, err := ReadOgg(r)
		if err != nil {
			return err
		}
		c.asset = a
		return nil
	}
}

// WithCounters counts the packets delivered to sinks in the process-wide forwarding totals.
func WithCounters(ctr *media.Counters) Option {
	return func(c *config) error { c.counters = ctr; return nil }
}

// WithPayloadType sets the RTP payload type of the packets (default 111).
func WithPayloadType(pt uint8) Option {
	return func(c *config) error {
		if pt > 127 {
			return fmt.Errorf("moh: payload type %d out of range", pt)
		}
		c.pt = pt
		return nil
	}
}

// Source loops an Opus asset as RTP to its sinks. It implements media.Source.
type Source struct {
	id  string
	fan *media.Fanout

	mu     sync.Mutex
	closed bool
	stop   chan struct{} // closed to end the current run; nil while idle
	done   chan struct{} // closed when the latest run has exited
	wg     sync.WaitGroup

	maxLag time.Duration // the lag beyond which a run skips its backlog; set before the first run

	// st is the RTP stream. Only a run goroutine touches it, and runs take turns: each waits for
	// the previous one to exit, so a quick remove-and-add never has two goroutines sending.
	st stream
}

var _ media.Source = (*Source)(nil)

// New returns an idle Source; it starts sending when its first sink is added.
func New(opts ...Option) (*Source, error) {
	c := config{pt: defaultPayloadType}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.asset == nil {
		a, err := Embedded()
		if err != nil {
			return nil, fmt.Errorf("moh: built-in asset: %w", err)
		}
		c.asset = a
	}
	if c.id == "" {
		c.id = fmt.Sprintf("moh-%08x", rand.Uint32())
	}
	s := &Source{id: c.id, fan: media.NewFanout(c.counters), maxLag: defaultMaxLag}
	s.st = newStream(c.asset, s.fan, c.pt)
	return s, nil
}

func (s *Source) ID() string       { return s.id }
func (s *Source) Label() string    { return "music" }
func (s *Source) Kind() media.Kind { return media.Audio }

// Codec is how RTP signals Opus whatever the asset's channel count (RFC 7587 §7: always 48000/2).
func (s *Source) Codec() media.Codec {
	return media.Codec{MimeType: "audio/opus", ClockRate: sampleRate, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
}

// RequestKeyframe does nothing: audio has no keyframes.
func (s *Source) RequestKeyframe() {}

// AddSink subscribes k; the first sink starts playback from the beginning of the loop.
func (s *Source) AddSink(k media.Sink) error {
	if k == nil {
		return fmt.Errorf("%w: sink", ErrNil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return media.ErrClosed
	}
	s.fan.Add(k)
	if s.stop == nil {
		stop, done, prev := make(chan struct{}), make(chan struct{}), s.done
		s.stop, s.done = stop, done
		s.wg.Add(1)
		go s.run(prev, stop, done)
	}
	return nil
}

// RemoveSink unsubscribes k; removing a sink that was never added is harmless. Removing the last
// sink stops the goroutine. It does not wait for it, so a sink may call it from its WriteRTP; like
// any fan-out, a packet already being delivered may still reach k after RemoveSink returns.
func (s *Source) RemoveSink(k media.Sink) {
	if k == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fan.Remove(k)
	if s.fan.Len() == 0 && s.stop != nil {
		close(s.stop)
		s.stop = nil
	}
}

// Close stops playback and waits until the goroutine has exited; later AddSink calls fail with
// media.ErrClosed. Calling it again is harmless. It must not be called from a sink's WriteRTP
// (it would wait for itself).
func (s *Source) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.stop != nil {
			close(s.stop)
			s.stop = nil
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// defaultMaxLag is how late the goroutine may fall behind its schedule and still catch up by sending the
// backlog at once. Beyond it (a starved process, a suspended VM) a burst would only overflow the
// receivers' jitter buffers, so the backlog is skipped instead: the timestamps jump, which receivers
// treat like a pause in the sound.
const defaultMaxLag = 200 * time.Millisecond

// run sends the stream until stop is closed. Each packet is due at a fixed offset from the start of
// the run (the sum of the durations before it), not a fixed delay after the previous send, so timer
// latency and delivery time never accumulate into drift.
func (s *Source) run(prev <-chan struct{}, stop <-chan struct{}, done chan<- struct{}) {
	defer s.wg.Done()
	defer close(done)
	if prev != nil {
		<-prev // the previous run hands over the stream state by exiting
	}
	st := &s.st
	origin := time.Now()
	st.resume(origin)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var elapsed int64 // samples sent (or skipped) since origin
	for {
		due := origin.Add(samplesToDuration(elapsed))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-stop:
				st.pause(due)
				return
			case <-timer.C:
			}
		} else {
			select {
			case <-stop:
				st.pause(due)
				return
			default:
			}
			if -wait > s.maxLag {
				now := time.Now()
				for !origin.Add(samplesToDuration(elapsed + int64(st.nextDuration()))).After(now) {
					elapsed += int64(st.skip())
				}
			}
		}
		elapsed += int64(st.send())
	}
}
