package record

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
)

// party is one party's camera and microphone, as sources driven by the test.
type party struct {
	cam, mic *fakeSource
	vs       *vp8Stream
	as       *opusStream
}

func newParty(t *testing.T, name string, ssrc uint32) *party {
	return &party{
		cam: newFakeSource(name+"-cam", name, media.Video),
		mic: newFakeSource(name+"-mic", name, media.Audio),
		vs:  newVP8Stream(t, 160, 120, ssrc),
		as:  newOpusStream(t, ssrc+1),
	}
}

// run sends frames [from, to) of 40 ms, each with two 20 ms audio packets, through the sources.
func (p *party) run(t *testing.T, clk *fakeClock, from, to int) {
	t.Helper()
	for k := from; k < to; k++ {
		clk.setMs(40 * k)
		p.vs.send(p.cam, uint32(k*3600), false)
		for i := 0; i < 2; i++ {
			clk.setMs(40*k + 20*i)
			if err := p.as.send(p.mic, uint32((2*k+i)*960)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func newTestEndpoint(t *testing.T, clk *fakeClock, cfg Config) *Endpoint {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "call-1")
	}
	e, err := NewEndpoint(cfg, clk.option(), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(nil) })
	return e
}

func TestEndpointPerParty(t *testing.T) {
	clk := newClock()
	e := newTestEndpoint(t, clk, Config{Mode: PerParty})
	if e.ID() != "recorder" || e.Role() != call.Supervisor || e.Caps() != (call.Caps{}) || e.Sources() != nil {
		t.Fatalf("identity %s %s %+v %v", e.ID(), e.Role(), e.Caps(), e.Sources())
	}
	e.OnSourcesChanged(func() { t.Error("a recorder's sources never change") })
	alice, bob := newParty(t, "alice", 100), newParty(t, "bob", 200)
	// As the SFU attaches them: one member at a time, in any order.
	for _, src := range []media.Source{alice.mic, alice.cam, bob.cam, bob.mic} {
		if err := e.Attach(src); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Attach(alice.cam); err != nil {
		t.Fatalf("attach twice: %v", err)
	}
	if alice.cam.keyframes.Load() == 0 || bob.cam.keyframes.Load() == 0 || alice.mic.keyframes.Load() != 0 {
		t.Error("attaching a camera should ask it for a keyframe, and only a camera")
	}
	var wg sync.WaitGroup // each party's media from its own goroutine, as in a room
	for _, p := range []*party{alice, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(t, clk, 0, 50) // the shared clock only moves a few ms back and forth
		}()
	}
	wg.Wait()
	reason := errors.New("call ended")
	if err := e.Close(reason); err != nil {
		t.Fatal(err)
	}
	if e.Context().Err() == nil || context.Cause(e.Context()) != reason {
		t.Fatalf("context after Close: %v", context.Cause(e.Context()))
	}
	if err := e.Close(nil); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := e.Attach(newFakeSource("late", "carol", media.Audio)); !errors.Is(err, ErrClosed) {
		t.Fatalf("attach after Close: %v", err)
	}
	files := e.Files()
	want := []string{filepath.Join(e.cfg.Dir, "alice.webm"), filepath.Join(e.cfg.Dir, "bob.webm")}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	for _, path := range files {
		f := readBack(t, path)
		v, a := f.track(1), f.track(2)
		if v == nil || a == nil || v.CodecID != "V_VP8" || a.CodecID != "A_OPUS" || v.Video.PixelWidth != 160 {
			t.Fatalf("%s: tracks %+v", path, f.Segment.Tracks.TrackEntry)
		}
		bs := f.blocks()
		checkMonotonic(t, bs)
		if nv, na := len(byTrack(bs, 1)), len(byTrack(bs, 2)); nv != 50 || na != 100 {
			t.Errorf("%s: %d video and %d audio blocks, want 50 and 100", path, nv, na)
		}
	}
	// After Close the sources no longer feed the recorder.
	if alice.cam.fan.Len() != 0 || bob.mic.fan.Len() != 0 {
		t.Error("sinks still subscribed after Close")
	}
}

// TestEndpointFiles covers the naming rules: a second camera of a party starts the party's next
// file, a replaced source continues its track, a source without Party() is grouped by its ID,
// party names cannot escape the directory, and codecs WebM cannot hold are refused.
func TestEndpointFiles(t *testing.T) {
	clk := newClock()
	e := newTestEndpoint(t, clk, Config{Mode: PerParty})
	alice := newParty(t, "alice", 100)
	for _, src := range []media.Source{alice.cam, alice.mic} {
		if err := e.Attach(src); err != nil {
			t.Fatal(err)
		}
	}
	alice.run(t, clk, 0, 10)
	screen := newFakeSource("alice-screen", "alice", media.Video)
	if err := e.Attach(screen); err != nil {
		t.Fatal(err)
	}
	// The microphone is replaced (a renegotiation): the new one continues the same file.
	e.Detach(alice.mic)
	if alice.mic.fan.Len() != 0 {
		t.Fatal("Detach left the sink subscribed")
	}
	mic2 := newFakeSource("alice-mic2", "alice", media.Audio)
	if err := e.Attach(mic2); err != nil {
		t.Fatal(err)
	}
	alice.mic, alice.as = mic2, newOpusStream(t, 999)
	alice.run(t, clk, 10, 20)

	anon := struct{ media.Source }{newFakeSource("../../etc/passwd", "", media.Audio)}
	if err := e.Attach(anon); err != nil {
		t.Fatal(err)
	}
	pcmu := newFakeSource("phone", "bob", media.Audio)
	pcmu.codec = media.Codec{MimeType: "audio/PCMU", ClockRate: 8000}
	if err := e.Attach(pcmu); !errors.Is(err, ErrCodec) {
		t.Fatalf("PCMU: %v", err)
	}
	if err := e.Close(nil); err != nil {
		t.Fatal(err)
	}
	dir := e.cfg.Dir
	want := []string{filepath.Join(dir, "alice.webm"), filepath.Join(dir, "alice-2.webm"), filepath.Join(dir, "_._.._etc_passwd.webm")}
	if got := e.Files(); !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	bs := readBack(t, want[0]).blocks()
	checkMonotonic(t, bs)
	// 20 frames; 40 audio packets less the new microphone's first (it confirms the new stream).
	if nv, na := len(byTrack(bs, 1)), len(byTrack(bs, 2)); nv != 20 || na != 39 {
		t.Errorf("alice.webm: %d video and %d audio blocks, want 20 and 39", nv, na)
	}
	if st := e.Stats()[want[0]]; st[0].Frames != 20 || st[1].Frames != 39 {
		t.Errorf("stats %+v", st)
	}
}

func TestEndpointMixed(t *testing.T) {
	clk := newClock()
	e := newTestEndpoint(t, clk, Config{Mode: Mixed, Name: "call-42", ID: "rec"})
	mcu := newParty(t, "mcu", 1)
	for _, src := range []media.Source{mcu.cam, mcu.mic} {
		if err := e.Attach(src); err != nil {
			t.Fatal(err)
		}
	}
	mcu.run(t, clk, 0, 25)
	if err := e.Close(nil); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(context.Cause(e.Context()), ErrClosed) {
		t.Errorf("cause %v", context.Cause(e.Context()))
	}
	files := e.Files()
	if len(files) != 1 || filepath.Base(files[0]) != "call-42.webm" {
		t.Fatalf("files %v", files)
	}
	f := readBack(t, files[0])
	bs := f.blocks()
	checkMonotonic(t, bs)
	if len(f.Segment.Tracks.TrackEntry) != 2 || len(byTrack(bs, 1)) != 25 || len(byTrack(bs, 2)) != 50 {
		t.Fatalf("tracks %d, blocks %d/%d", len(f.Segment.Tracks.TrackEntry), len(byTrack(bs, 1)), len(byTrack(bs, 2)))
	}
}

func TestNewEndpointConfig(t *testing.T) {
	if _, err := NewEndpoint(Config{Mode: Mixed}); !errors.Is(err, ErrConfig) {
		t.Errorf("no dir: %v", err)
	}
	if _, err := NewEndpoint(Config{Dir: t.TempDir()}); !errors.Is(err, ErrConfig) {
		t.Errorf("no mode: %v", err)
	}
}
