package record

import (
	"bytes"
	"errors"
	"math/rand"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/vp8"
)

var (
	vp8Track  = Track{Kind: media.Video, Codec: media.Codec{MimeType: "video/VP8"}}
	opusTrack = Track{Kind: media.Audio, Codec: media.Codec{MimeType: "audio/opus"}}
)

func newTestWriter(t *testing.T, clk *fakeClock, tracks []Track, opts ...Option) (*Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.webm")
	w, err := NewWriter(path, tracks, append([]Option{clk.option(), quiet()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, path
}

// TestWriterAudioVideo records 3 s of a camera that starts 500 ms after its microphone, both RTP
// clocks wrapping past 2^32 midway, and reads the file back.
func TestWriterAudioVideo(t *testing.T) {
	clk := newClock()
	mono := opusTrack
	mono.Codec.Channels = 1
	w, path := newTestWriter(t, clk, []Track{vp8Track, mono})
	vs, as := w.Sink(0), w.Sink(1)
	cam, mic := newVP8Stream(t, 320, 240, 0x1111), newOpusStream(t, 0x2222)
	const vts0, ats0 = uint32(0xffff0000), uint32(0xfffe0000) // both wrap within the test
	var keys []bool
	audioAt := map[int]int{} // wall ms -> audio packet index
	for ms := 0; ms <= 3000; ms += 20 {
		clk.setMs(ms)
		if ms >= 500 && (ms-500)%40 == 0 {
			k := (ms - 500) / 40
			keys = append(keys, cam.send(vs, vts0+uint32(k*3600), k == 30))
		}
		audioAt[ms] = ms / 20
		if err := mic.send(as, ats0+uint32(ms/20*960)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st[0].Frames != uint64(len(keys)) || st[1].Frames != 151 || st[0].Dropped != 0 || st[1].Dropped != 0 {
		t.Fatalf("stats %+v, want %d video and 151 audio, none dropped", st, len(keys))
	}

	f := readBack(t, path)
	v, a := f.track(1), f.track(2)
	if v == nil || a == nil || len(f.Segment.Tracks.TrackEntry) != 2 {
		t.Fatalf("tracks %+v", f.Segment.Tracks.TrackEntry)
	}
	if v.CodecID != "V_VP8" || v.TrackType != 1 || v.Video == nil || v.Video.PixelWidth != 320 || v.Video.PixelHeight != 240 {
		t.Errorf("video track %+v (size %+v), want V_VP8 320x240 from the keyframe", v, v.Video)
	}
	if a.CodecID != "A_OPUS" || a.TrackType != 2 || a.Audio == nil || a.Audio.SamplingFrequency != 48000 || a.Audio.Channels != 1 ||
		!bytes.Equal(a.CodecPrivate, opusHead(1)) || !bytes.HasPrefix(a.CodecPrivate, []byte("OpusHead\x01\x01")) {
		t.Errorf("audio track %+v", a)
	}
	if got := f.Segment.Info.DateUTC; !got.Equal(clk.base) {
		t.Errorf("DateUTC %v, want %v", got, clk.base)
	}
	bs := f.blocks()
	checkMonotonic(t, bs)
	vb, ab := byTrack(bs, 1), byTrack(bs, 2)
	if len(vb) != len(keys) || len(ab) != 151 {
		t.Fatalf("%d video and %d audio blocks, want %d and 151", len(vb), len(ab), len(keys))
	}
	for k, b := range vb {
		if b.key != keys[k] {
			t.Errorf("video block %d keyframe %v, want %v", k, b.key, keys[k])
		}
	}
	if !vb[0].key || !vb[30].key {
		t.Error("the first frame and the forced one should be keyframes")
	}
	for _, b := range ab {
		if !b.key {
			t.Fatal("an audio block is not flagged keyframe")
		}
	}
	// Sync: a frame and an audio packet sent at the same wall time, their RTP clocks running
	// true, land within 1 ms of each other; the camera's late start is kept.
	if ab[0].ms != 0 {
		t.Errorf("first block at %d ms, want 0", ab[0].ms)
	}
	for k, b := range vb {
		wall := 500 + 40*k
		if d := b.ms - ab[audioAt[wall]].ms; d < -1 || d > 1 {
			t.Fatalf("frame %d at %d ms, audio sent with it at %d ms", k, b.ms, ab[audioAt[wall]].ms)
		}
	}
	if d := f.Segment.Info.Duration; d < 2900 || d > 3100 {
		t.Errorf("duration %v ms, want about 3000", d)
	}
	if f.Segment.Cues == nil || len(f.Segment.Cues.CuePoint) == 0 {
		t.Error("no cues: the file is not seekable")
	}
}

// TestWriterGarbage feeds both sinks malformed packets between good ones: the bad ones are
// dropped and counted, the file stays well-formed, and video resumes at the next keyframe.
func TestWriterGarbage(t *testing.T) {
	clk := newClock()
	var keyReqs atomic.Int32
	w, path := newTestWriter(t, clk, []Track{vp8Track, opusTrack}, WithKeyframeRequest(func(i int) {
		if i != 0 {
			t.Errorf("keyframe requested for track %d", i)
		}
		keyReqs.Add(1)
	}))
	vs, as := w.Sink(0), w.Sink(1)
	cam, mic := newVP8Stream(t, 160, 120, 7), newOpusStream(t, 8)
	ms, frame, pkt := 0, 0, 0
	step := func(forceKey bool) {
		clk.setMs(ms)
		cam.send(vs, uint32(frame*3600), forceKey)
		frame++
		for i := 0; i < 2; i++ {
			clk.setMs(ms + 20*i)
			if err := mic.send(as, uint32(pkt*960)); err != nil {
				t.Fatal(err)
			}
			pkt++
		}
		ms += 40
	}
	const good = 30 // past the first second, so a keyframe request is not rate-limited away
	for range good {
		step(false)
	}
	before := keyReqs.Load()

	// Video garbage, each with its own sequence number as if it came off the wire.
	garbage := [][]byte{{}, {0xff}, {0x80}, bytes.Repeat([]byte{0xa5}, 50)}
	for _, p := range garbage {
		cam.seq++
		h := rtp.Header{SequenceNumber: cam.seq, Timestamp: uint32(frame * 3600), SSRC: cam.ssrc, Marker: true}
		vs.WriteRTP(&h, p) // the error is the depacketizer's or nil; the counts are checked below
	}
	if err := vs.WriteRTP(nil, []byte{1}); !errors.Is(err, media.ErrDropped) {
		t.Errorf("nil header: %v", err)
	}
	cam.seq++
	absurd := rtp.Header{SequenceNumber: cam.seq, Timestamp: uint32(frame*3600) + 1<<31, SSRC: cam.ssrc, Marker: true}
	if err := vs.WriteRTP(&absurd, []byte{0x10, 0, 0, 0}); !errors.Is(err, ErrDropped) {
		t.Errorf("absurd video timestamp: %v", err)
	}
	// Audio garbage: empty, a 2^30-tick jump, a duplicate, a late packet.
	for _, h := range []rtp.Header{
		{SequenceNumber: mic.seq + 1, Timestamp: uint32(pkt * 960), SSRC: mic.ssrc},
		{SequenceNumber: mic.seq + 1, Timestamp: uint32(pkt*960) + 1<<30, SSRC: mic.ssrc},
		{SequenceNumber: mic.seq, Timestamp: uint32((pkt - 1) * 960), SSRC: mic.ssrc},
		{SequenceNumber: mic.seq - 1, Timestamp: uint32((pkt - 2) * 960), SSRC: mic.ssrc},
	} {
		p := []byte{0xfc, 1, 2}
		if h.Timestamp == uint32(pkt*960) {
			p = nil
		}
		if err := as.WriteRTP(&h, p); !errors.Is(err, ErrDropped) {
			t.Errorf("audio garbage %+v: %v", h, err)
		}
	}

	// The depacketizer saw loss: the next two frames are dropped, then a keyframe recovers.
	step(false)
	step(false)
	if keyReqs.Load() == before {
		t.Error("no keyframe requested after loss")
	}
	for i := range 8 {
		step(i == 0)
	}
	// A frame stamped 80 ms in the past (its sequence number in order): clamped, not backwards.
	clk.setMs(ms)
	data, _ := cam.encode(false)
	hs, ps := cam.packets(data, uint32((frame-2)*3600))
	for i := range hs {
		vs.WriteRTP(&hs[i], ps[i])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	st := w.Stats()
	if st[0].Frames != good+8+1 || st[1].Frames != uint64(pkt) {
		t.Errorf("wrote %d frames and %d packets, want %d and %d", st[0].Frames, st[1].Frames, good+8+1, pkt)
	}
	if st[0].Dropped < 4 || st[1].Dropped != 4 {
		t.Errorf("dropped %d video, %d audio", st[0].Dropped, st[1].Dropped)
	}
	f := readBack(t, path)
	bs := f.blocks()
	checkMonotonic(t, bs)
	vb := byTrack(bs, 1)
	if len(vb) != good+8+1 || !vb[good].key {
		t.Fatalf("%d video blocks (want %d), block %d keyframe %v", len(vb), good+9, good, len(vb) > good && vb[good].key)
	}
	if last := len(vb) - 1; vb[last].ms != vb[last-1].ms {
		t.Errorf("backwards frame at %d ms, want clamped to %d", vb[last].ms, vb[last-1].ms)
	}
	if len(byTrack(bs, 2)) != pkt {
		t.Errorf("%d audio blocks, want %d", len(byTrack(bs, 2)), pkt)
	}
}

// TestWriterRandomPackets throws random headers and payloads at both sinks.
func TestWriterRandomPackets(t *testing.T) {
	clk := newClock()
	w, path := newTestWriter(t, clk, []Track{vp8Track, opusTrack})
	rng := rand.New(rand.NewSource(1))
	for i := range 2000 {
		clk.set(time.Duration(i) * 5 * time.Millisecond)
		h := rtp.Header{SequenceNumber: uint16(rng.Intn(8)) + uint16(i), Timestamp: rng.Uint32() >> uint(rng.Intn(32)), SSRC: uint32(rng.Intn(2)), Marker: rng.Intn(2) == 0}
		p := make([]byte, rng.Intn(40))
		rng.Read(p)
		if rng.Intn(3) == 0 && len(p) > 12 {
			p[0] = 0x10 // a VP8 start of partition 0, followed by a keyframe tag
			copy(p[1:], []byte{0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, byte(rng.Intn(256)), 0x01, 0xf0, 0x00})
		}
		w.Sink(i%2).WriteRTP(&h, p)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkMonotonic(t, readBack(t, path).blocks())
}

func TestWriterCloseIdempotentAndSinksDropAfter(t *testing.T) {
	clk := newClock()
	w, path := newTestWriter(t, clk, []Track{opusTrack})
	mic := newOpusStream(t, 1)
	as := w.Sink(0)
	for i := range 5 {
		clk.setMs(20 * i)
		if err := mic.send(as, uint32(960*i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	clk.setMs(100)
	if err := mic.send(as, 960*5); !errors.Is(err, media.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if st := w.Stats()[0]; st.Frames != 5 || st.Dropped != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n := len(readBack(t, path).blocks()); n != 5 {
		t.Fatalf("%d blocks, want 5", n)
	}
}

// TestWriterEmpty closes a Writer that got nothing: still a valid file, declaring its tracks.
func TestWriterEmpty(t *testing.T) {
	clk := newClock()
	w, path := newTestWriter(t, clk, []Track{vp8Track, opusTrack})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := readBack(t, path)
	if len(f.Segment.Tracks.TrackEntry) != 2 || len(f.blocks()) != 0 {
		t.Fatalf("tracks %+v blocks %d", f.Segment.Tracks.TrackEntry, len(f.blocks()))
	}
	if v := f.track(1); v.Video.PixelWidth != defaultWidth || v.Video.PixelHeight != defaultHeight {
		t.Errorf("default size %+v", v.Video)
	}
}

// TestWriterLeavesOutUnclaimedTrack: a video track nobody asked for is not in the file once the
// audio has waited the open wait; asking for it afterwards gives a sink that drops.
func TestWriterLeavesOutUnclaimedTrack(t *testing.T) {
	clk := newClock()
	w, path := newTestWriter(t, clk, []Track{vp8Track, opusTrack})
	mic := newOpusStream(t, 1)
	as := w.Sink(1)
	for i := range 75 { // 1.5 s
		clk.setMs(20 * i)
		if err := mic.send(as, uint32(960*i)); err != nil {
			t.Fatal(err)
		}
	}
	// The header is written by the file's goroutine; wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for !w.tracks[0].omitted.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, ok := w.claim(0); ok {
		t.Fatal("video track still claimable after the header")
	}
	cam := newVP8Stream(t, 160, 120, 2)
	data, _ := cam.encode(true)
	hs, ps := cam.packets(data, 0)
	if err := w.Sink(0).WriteRTP(&hs[0], ps[0]); !errors.Is(err, ErrDropped) {
		t.Fatalf("left-out track's sink: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := readBack(t, path)
	if len(f.Segment.Tracks.TrackEntry) != 1 || f.track(2) == nil || len(f.blocks()) != 75 {
		t.Fatalf("tracks %+v, %d blocks", f.Segment.Tracks.TrackEntry, len(f.blocks()))
	}
}

// TestWriterWriteError: a failed write is reported by Close, every time.
func TestWriterWriteError(t *testing.T) {
	clk := newClock()
	w, _ := newTestWriter(t, clk, []Track{opusTrack})
	w.out.mu.Lock()
	w.out.f.Close() // the disk goes away under the recording
	w.out.mu.Unlock()
	mic := newOpusStream(t, 1)
	for i := range 3 {
		clk.setMs(20 * i)
		mic.send(w.Sink(0), uint32(960*i))
	}
	err := w.Close()
	if err == nil {
		t.Fatal("Close reported no error")
	}
	if err2 := w.Close(); err2 != err {
		t.Fatalf("second Close: %v, first %v", err2, err)
	}
}

func TestNewWriterConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		tracks []Track
		want   error
	}{
		{"none", nil, ErrConfig},
		{"pcmu", []Track{{Kind: media.Audio, Codec: media.Codec{MimeType: "audio/PCMU"}}}, ErrCodec},
		{"vp8 as audio", []Track{{Kind: media.Audio, Codec: media.Codec{MimeType: "video/VP8"}}}, ErrCodec},
		{"no kind", []Track{{Codec: media.Codec{MimeType: "video/VP8"}}}, ErrConfig},
		{"huge", []Track{{Kind: media.Video, Codec: media.Codec{MimeType: "video/VP8"}, Width: 20000, Height: 10}}, ErrConfig},
		{"surround", []Track{{Kind: media.Audio, Codec: media.Codec{MimeType: "audio/opus", Channels: 6}}}, ErrConfig},
	} {
		if _, err := NewWriter(filepath.Join(dir, tc.name+".webm"), tc.tracks); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	w, err := NewWriter(filepath.Join(dir, "x.webm"), []Track{opusTrack})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := NewWriter(filepath.Join(dir, "x.webm"), []Track{opusTrack}); err == nil {
		t.Fatal("an existing recording was overwritten")
	}
	if err := w.Sink(5).WriteRTP(&rtp.Header{}, []byte{1}); !errors.Is(err, ErrConfig) {
		t.Fatalf("sink of a missing track: %v", err)
	}
}

func TestVP8Size(t *testing.T) {
	cam := newVP8Stream(t, 352, 288, 1)
	data, key := cam.encode(true)
	data = bytes.Clone(data) // the stream reuses its buffer
	if w, h, ok := vp8Size(data); !key || !ok || w != 352 || h != 288 {
		t.Fatalf("size %dx%d ok %v (key %v)", w, h, ok, key)
	}
	inter, _ := cam.encode(false)
	if _, _, ok := vp8Size(inter); ok {
		t.Fatal("size read from an inter frame")
	}
	if !vp8.IsKeyframe(data) {
		t.Fatal("not a keyframe")
	}
}

// BenchmarkSinkAudio is the per-packet cost of a sink: stamping and queueing one Opus packet (one
// copy), or dropping it without allocating when the file's goroutine is behind, as it is here.
func BenchmarkSinkAudio(b *testing.B) {
	clk := newClock()
	w, err := NewWriter(filepath.Join(b.TempDir(), "b.webm"), []Track{opusTrack}, clk.option(), quiet())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	s := w.Sink(0)
	p := bytes.Repeat([]byte{0x55}, 80)
	h := rtp.Header{SSRC: 1}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		clk.set(time.Duration(i) * 20 * time.Millisecond)
		h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*960)
		if err := s.WriteRTP(&h, p); err != nil && !errors.Is(err, ErrDropped) {
			b.Fatal(err)
		}
	}
}

// TestWriterConcurrentTracks writes a camera and a microphone from their own goroutines on the
// real clock, as a room does; run with -race.
func TestWriterConcurrentTracks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.webm")
	w, err := NewWriter(path, []Track{vp8Track, opusTrack}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	cam, mic := newVP8Stream(t, 160, 120, 1), newOpusStream(t, 2)
	vs, as := w.Sink(0), w.Sink(1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := range 50 { // 2 s of RTP time, sent as fast as it goes: well within the skew
			cam.send(vs, uint32(k*3600), false)
		}
	}()
	for i := range 100 {
		if err := mic.send(as, uint32(i*960)); err != nil {
			t.Error(err)
		}
	}
	<-done
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	bs := readBack(t, path).blocks()
	checkMonotonic(t, bs)
	if nv, na := len(byTrack(bs, 1)), len(byTrack(bs, 2)); nv != 50 || na != 100 {
		t.Fatalf("%d video and %d audio blocks, want 50 and 100", nv, na)
	}
}
