package record

import (
	"log/slog"
	"math"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"go.uber.org/goleak"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
	"github.com/contactcenter/vcc/media/frame"
	"github.com/contactcenter/vcc/media/vp8"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quiet() Option { return WithLogger(slog.New(slog.DiscardHandler)) }

// fakeClock is the injected wall clock: tests place every packet at an exact instant.
type fakeClock struct {
	base time.Time
	ns   atomic.Int64
}

func newClock() *fakeClock {
	return &fakeClock{base: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time         { return c.base.Add(time.Duration(c.ns.Load())) }
func (c *fakeClock) set(d time.Duration)    { c.ns.Store(int64(d)) }
func (c *fakeClock) setMs(ms int)           { c.set(time.Duration(ms) * time.Millisecond) }
func (c *fakeClock) option() Option         { return WithClock(c.now) }
func (c *fakeClock) elapsed() time.Duration { return time.Duration(c.ns.Load()) }

// vp8Stream is a camera: libvpx frames, packetized as a browser would send them.
type vp8Stream struct {
	t    testing.TB
	enc  *vp8.Encoder
	pk   *vp8.Packetizer
	f    *frame.I420
	buf  []byte
	seq  uint16
	ssrc uint32
	n    int
}

func newVP8Stream(t testing.TB, w, h int, ssrc uint32) *vp8Stream {
	t.Helper()
	enc, err := vp8.NewEncoder(vp8.Config{Width: w, Height: h, FPS: 25, BitrateKbps: 300})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	pk, err := vp8.NewPacketizer(0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := frame.NewI420(w, h)
	if err != nil {
		t.Fatal(err)
	}
	return &vp8Stream{t: t, enc: enc, pk: pk, f: f, seq: uint16(ssrc), ssrc: ssrc}
}

// encode returns the next compressed frame.
func (s *vp8Stream) encode(forceKey bool) ([]byte, bool) {
	s.t.Helper()
	s.n++
	s.f.Fill(uint8(s.n*9), uint8(255-s.n*5), 90) // moving colour: every frame carries data
	data, key, err := s.enc.Encode(s.f, forceKey, s.buf[:0])
	if err != nil {
		s.t.Fatal(err)
	}
	s.buf = data
	return data, key
}

// packets returns the RTP packets of one frame (headers and payloads), consuming sequence numbers.
func (s *vp8Stream) packets(data []byte, ts uint32) ([]rtp.Header, [][]byte) {
	payloads := s.pk.Packetize(data)
	hs := make([]rtp.Header, len(payloads))
	for i := range payloads {
		s.seq++
		hs[i] = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc, Marker: i == len(payloads)-1}
	}
	return hs, payloads
}

// send encodes one frame and writes it to sink; it returns whether the frame is a keyframe.
func (s *vp8Stream) send(sink media.Sink, ts uint32, forceKey bool) bool {
	s.t.Helper()
	data, key := s.encode(forceKey)
	hs, payloads := s.packets(data, ts)
	for i := range hs {
		if err := sink.WriteRTP(&hs[i], payloads[i]); err != nil {
			s.t.Fatalf("frame %d packet %d: %v", s.n, i, err)
		}
	}
	return key
}

// opusStream is a microphone: real Opus packets of a 440 Hz tone, 20 ms each.
type opusStream struct {
	t    testing.TB
	enc  *audio.OpusEncoder
	pcm  []int16
	seq  uint16
	ssrc uint32
	n    int
}

func newOpusStream(t testing.TB, ssrc uint32) *opusStream {
	t.Helper()
	enc, err := audio.NewOpusEncoder(audio.OpusConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return &opusStream{t: t, enc: enc, pcm: make([]int16, 960), seq: uint16(ssrc >> 3), ssrc: ssrc}
}

func (s *opusStream) payload() []byte {
	s.t.Helper()
	for i := range s.pcm {
		s.pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(s.n*960+i)/48000))
	}
	s.n++
	p, err := s.enc.Encode(s.pcm, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *opusStream) send(sink media.Sink, ts uint32) error {
	s.seq++
	h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc, Marker: s.n == 0}
	return sink.WriteRTP(&h, s.payload())
}

// file is a WebM file as ebml-go's reader sees it.
type file struct {
	Header  webm.EBMLHeader `ebml:"EBML"`
	Segment webm.Segment    `ebml:"Segment"`
}

// readBack parses path, failing the test if it is not a well-formed WebM file.
func readBack(t testing.TB, path string) *file {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out file
	if err := ebml.Unmarshal(f, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if out.Header.DocType != "webm" {
		t.Fatalf("%s: doctype %q", path, out.Header.DocType)
	}
	return &out
}

// sblock is a SimpleBlock with its absolute timecode.
type sblock struct {
	track uint64
	ms    int64
	key   bool
	size  int
}

// blocks returns the file's blocks in file order.
func (f *file) blocks() []sblock {
	var out []sblock
	for _, c := range f.Segment.Cluster {
		for _, b := range c.SimpleBlock {
			n := 0
			for _, d := range b.Data {
				n += len(d)
			}
			out = append(out, sblock{track: b.TrackNumber, ms: int64(c.Timecode) + int64(b.Timecode), key: b.Keyframe, size: n})
		}
	}
	return out
}

func (f *file) track(n uint64) *webm.TrackEntry {
	for i := range f.Segment.Tracks.TrackEntry {
		if e := &f.Segment.Tracks.TrackEntry[i]; e.TrackNumber == n {
			return e
		}
	}
	return nil
}

func byTrack(bs []sblock, n uint64) []sblock {
	var out []sblock
	for _, b := range bs {
		if b.track == n {
			out = append(out, b)
		}
	}
	return out
}

// checkMonotonic fails the test if timecodes go backwards within the file (and so within each
// track) or below zero.
func checkMonotonic(t testing.TB, bs []sblock) {
	t.Helper()
	last := int64(0)
	for i, b := range bs {
		if b.ms < last {
			t.Fatalf("block %d (track %d) at %d ms after one at %d ms", i, b.track, b.ms, last)
		}
		last = b.ms
	}
}

// fakeSource is a media.Source the test drives by hand.
type fakeSource struct {
	id, party, label string
	kind             media.Kind
	codec            media.Codec
	fan              *media.Fanout
	keyframes        atomic.Int32
}

func newFakeSource(id, party string, kind media.Kind) *fakeSource {
	s := &fakeSource{id: id, party: party, kind: kind, fan: media.NewFanout(nil)}
	if kind == media.Video {
		s.label, s.codec = "camera", media.Codec{MimeType: "video/VP8", ClockRate: 90000}
	} else {
		s.label, s.codec = "microphone", media.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}
	}
	return s
}

func (s *fakeSource) ID() string                 { return s.id }
func (s *fakeSource) Party() string              { return s.party }
func (s *fakeSource) Label() string              { return s.label }
func (s *fakeSource) Kind() media.Kind           { return s.kind }
func (s *fakeSource) Codec() media.Codec         { return s.codec }
func (s *fakeSource) AddSink(k media.Sink) error { s.fan.Add(k); return nil }
func (s *fakeSource) RemoveSink(k media.Sink)    { s.fan.Remove(k) }
func (s *fakeSource) RequestKeyframe()           { s.keyframes.Add(1) }

// WriteRTP makes the source a sink too, so a stream helper can drive its fan-out.
func (s *fakeSource) WriteRTP(h *rtp.Header, p []byte) error { s.fan.Write(h, p); return nil }
