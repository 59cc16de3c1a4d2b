package signaling

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/media"
)

// fakeSource is a media.Source fed by the test.
type fakeSource struct {
	fan *media.Fanout
	kf  int
}

func (f *fakeSource) ID() string       { return "src" }
func (f *fakeSource) Label() string    { return "camera" }
func (f *fakeSource) Kind() media.Kind { return media.Video }
func (f *fakeSource) Codec() media.Codec {
	return media.Codec{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
}
func (f *fakeSource) AddSink(s media.Sink) error { f.fan.Add(s); return nil }
func (f *fakeSource) RemoveSink(s media.Sink)    { f.fan.Remove(s) }
func (f *fakeSource) RequestKeyframe()           { f.kf++ }

// captureWriter stands in for pion's SRTP write stream: it serialises the header as the real one
// does, into a reused buffer, and remembers the last header.
type captureWriter struct {
	buf  []byte
	last rtp.Header
	n    int
}

func (w *captureWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	n, err := h.MarshalTo(w.buf)
	if err != nil {
		return 0, err
	}
	n += copy(w.buf[n:], payload)
	w.last = *h
	w.n++
	return n, nil
}
func (w *captureWriter) Write(b []byte) (int, error) { return len(b), nil }

func boundOutTrack(src media.Source, w webrtc.TrackLocalWriter) *outTrack {
	t := newOutTrack(src, "s")
	t.bound.Store(&binding{ssrc: 4242, pt: 100, w: w})
	return t
}

func TestOutTrackRewritesHeaderForReceiver(t *testing.T) {
	src := &fakeSource{fan: media.NewFanout(nil)}
	w := &captureWriter{buf: make([]byte, 1500)}
	out := boundOutTrack(src, w)
	_ = src.AddSink(out)
	in := &rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 900, SSRC: 1, Marker: true, Extension: true,
		Extensions: []rtp.Extension{}}
	_ = in.SetExtension(3, []byte{1, 2})
	src.fan.Write(in, []byte{0x10, 1, 2, 3})
	got := w.last
	if got.SSRC != 4242 || got.PayloadType != 100 || !got.Marker || got.Extension || len(got.Extensions) != 0 {
		t.Fatalf("forwarded header %+v: want receiver's SSRC/PT, marker kept, sender extensions dropped", got)
	}
	// Before negotiation binds the track, packets are dropped without error.
	out.bound.Store(nil)
	if err := out.WriteRTP(in, []byte{1}); err != nil || w.n != 1 {
		t.Fatalf("unbound write: err=%v writes=%d", err, w.n)
	}
}

// BenchmarkForwardPath is the SFU's per-packet work between a browser's decrypted packet and the
// receiver's SRTP writer: fan-out, header rewrite, serialisation. It must not allocate.
func BenchmarkForwardPath(b *testing.B) {
	var ctr media.Counters
	src := &fakeSource{fan: media.NewFanout(&ctr)}
	w := &captureWriter{buf: make([]byte, 1500)}
	_ = src.AddSink(boundOutTrack(src, w))
	raw := make([]byte, 1200)
	in := rtp.Header{Version: 2, PayloadType: 96, SSRC: 99, Extension: true}
	_ = in.SetExtension(1, []byte{0, 1})
	n, _ := in.MarshalTo(raw)
	var h rtp.Header
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		raw[2], raw[3] = byte(i>>8), byte(i) // new sequence number, as a real stream
		hn, err := h.Unmarshal(raw)
		if err != nil {
			b.Fatal(err)
		}
		src.fan.Write(&h, raw[hn:])
	}
	_ = n
}
