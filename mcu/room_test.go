package mcu

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/mcu/compose"
	"github.com/contactcenter/vcc/media"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testW, testH = 640, 360

// three is a running 3-party MCU room with the call's real routing: ann the customer (red, 440 Hz),
// zoe the controlling agent (green, 700 Hz), amy the helper (blue, 1100 Hz).
type three struct {
	room          *Room
	ann, zoe, amy *party
	state         call.State
}

func newThree(t *testing.T) *three {
	t.Helper()
	r, err := New("c1", nil, WithConfig(Config{Width: testW, Height: testH, FPS: 15, BitrateKbps: 800}))
	if err != nil {
		t.Fatal(err)
	}
	x := &three{room: r, ann: newParty(t, "ann", red, 440), zoe: newParty(t, "zoe", green, 700), amy: newParty(t, "amy", blue, 1100)}
	t.Cleanup(func() { r.Close() }) // first, before the parties' receivers are freed
	now := time.Now()
	x.state = call.State{ID: "c1", Phase: call.PhaseConnected, Mode: call.ModeMCU, Media: call.ModeMCU, Conference: true,
		Parties: []call.Party{
			{User: call.UserRef{ID: "ann", Name: "Ann", Role: call.Customer}, As: call.AsCustomer, Audio: true, Video: true, JoinedAt: now},
			{User: call.UserRef{ID: "zoe", Name: "Zoe", Role: call.Agent}, As: call.AsControlling, Audio: true, Video: true, JoinedAt: now.Add(time.Second)},
			{User: call.UserRef{ID: "amy", Name: "Amy", Role: call.Agent}, As: call.AsConferenced, Audio: true, Video: true, JoinedAt: now.Add(2 * time.Second)},
		}}
	for _, p := range []*party{x.ann, x.zoe, x.amy} {
		if err := r.Join(p); err != nil {
			t.Fatal(err)
		}
	}
	x.apply(t)
	return x
}

func (x *three) apply(t *testing.T) {
	t.Helper()
	if err := x.room.Apply(call.RoutingOf(x.state)); err != nil {
		t.Fatal(err)
	}
}

// sees waits until viewer's composite shows want at the centre of tile i of layout.
func sees(t *testing.T, viewer *party, layout string, big, i int, want colour) {
	t.Helper()
	rect := compose.Tiles(layout, 3, big, testW, testH)[i]
	x, y := rect.X+rect.W/2, rect.Y+rect.H/2
	eventually(t, string(viewer.id)+" sees the colour in tile", 10*time.Second, func() bool {
		c, ok := viewer.video.at(x, y)
		return ok && near(c, want)
	}, viewer.video.changed)
}

// hears waits until the party's mix has the tones of the others and not its own (mix-minus).
func hears(t *testing.T, p *party, own float64, others ...float64) {
	t.Helper()
	eventually(t, string(p.id)+" hears the others and not itself", 10*time.Second, func() bool {
		for _, hz := range others {
			if p.audio.power(hz) < 1e5 {
				return false
			}
		}
		return p.audio.power(own) < p.audio.power(others[0])/100
	}, nil)
}

// R21 equal layout: every viewer gets the same composite, tiles in join order; each hears the
// other two and not itself.
func TestEqualPictureAndMixMinus(t *testing.T) { // R21
	x := newThree(t)
	for _, v := range []*party{x.ann, x.zoe, x.amy} {
		sees(t, v, compose.LayoutEqual, -1, 0, red)
		sees(t, v, compose.LayoutEqual, -1, 1, green)
		sees(t, v, compose.LayoutEqual, -1, 2, blue)
	}
	hears(t, x.ann, 440, 700, 1100)
	hears(t, x.zoe, 700, 440, 1100)
	hears(t, x.amy, 1100, 440, 700)
	if s := x.room.Stats(); s.Composites != 1 {
		t.Errorf("one picture in use, %d composites", s.Composites)
	}
}

// R21: a viewer's layout is its own; one encoder per picture in use.
func TestPerViewerLayout(t *testing.T) { // R21
	x := newThree(t)
	x.state.Parties[2].Layout = call.LayoutMaxCustomer
	x.apply(t)
	sees(t, x.amy, compose.LayoutMaxCustomer, 0, 0, red)
	sees(t, x.amy, compose.LayoutMaxCustomer, 0, 1, green)
	sees(t, x.ann, compose.LayoutEqual, -1, 1, green)
	sees(t, x.zoe, compose.LayoutEqual, -1, 2, blue)
	if s := x.room.Stats(); s.Composites != 2 {
		t.Errorf("two pictures in use, %d composites", s.Composites)
	}
	x.state.Parties[2].Layout = call.LayoutEqual
	x.apply(t)
	if s := x.room.Stats(); s.Composites != 1 {
		t.Errorf("back to one picture, %d composites", s.Composites)
	}
}

// R21: a party with video off is a name plate, not its last camera picture.
func TestVideoOffShowsPlate(t *testing.T) { // R21
	x := newThree(t)
	sees(t, x.zoe, compose.LayoutEqual, -1, 0, red)
	annVideoOff(t, x)
}

// annVideoOff turns ann's camera off and waits until zoe sees a plate in its place.
func annVideoOff(t *testing.T, x *three) {
	t.Helper()
	x.state.Parties[0].Video = false
	x.apply(t)
	rect := compose.Tiles(compose.LayoutEqual, 3, -1, testW, testH)[0]
	eventually(t, "ann's tile becomes a plate", 5*time.Second, func() bool {
		c, ok := x.zoe.video.at(rect.X+rect.W/2, rect.Y+rect.H/2)
		return ok && !near(c, red)
	}, x.zoe.video.changed)
}

// A still tile (here a name plate) is drawn once, not on every frame: with one of three cameras off
// a frame redraws two tiles.
func TestStillTileNotRedrawn(t *testing.T) {
	x := newThree(t)
	annVideoOff(t, x)
	before := x.room.Stats()
	eventually(t, "20 more frames", 10*time.Second, func() bool { return x.room.Stats().Frames >= before.Frames+20 }, nil)
	after := x.room.Stats()
	if per := float64(after.TilesDrawn-before.TilesDrawn) / float64(after.Frames-before.Frames); per > 2.2 {
		t.Errorf("%.2f tiles drawn per frame with two cameras and a plate, want 2", per)
	}
}

// Held parties hear nothing of the mix and are heard by nobody (R15).
func TestHeldPartyLeavesTheMix(t *testing.T) { // R15
	x := newThree(t)
	hears(t, x.zoe, 700, 440, 1100)
	x.state.Parties[0].Held = true
	x.apply(t)
	eventually(t, "zoe stops hearing ann", 5*time.Second, func() bool {
		return x.zoe.audio.power(440) < x.zoe.audio.power(1100)/100
	}, nil)
	for _, s := range x.ann.receiving() {
		if s.Label() == "mix" || s.Label() == "composite" {
			t.Errorf("held ann still receives %s", s.Label())
		}
	}
}

// Bad input: corrupt frames freeze the tile on its last good picture; the room asks for a keyframe
// and the tile recovers; a resolution switch and 5% packet loss do not stop the room.
func TestBadVideoInput(t *testing.T) {
	x := newThree(t)
	sees(t, x.ann, compose.LayoutEqual, -1, 1, green)

	x.zoe.cam().set(func(s *synth) { s.corrupt = true; s.col = colour{230, 220, 30} })
	// Other tiles keep moving while zoe's is broken.
	x.amy.cam().set(func(s *synth) { s.col = colour{200, 40, 200} })
	sees(t, x.ann, compose.LayoutEqual, -1, 2, colour{200, 40, 200})
	sees(t, x.ann, compose.LayoutEqual, -1, 1, green) // frozen on the last good picture

	x.zoe.cam().set(func(s *synth) { s.corrupt = false })
	sees(t, x.ann, compose.LayoutEqual, -1, 1, colour{230, 220, 30}) // recovered at a keyframe

	x.zoe.cam().set(func(s *synth) { s.w, s.h, s.col = 640, 480, green })
	sees(t, x.ann, compose.LayoutEqual, -1, 1, green)

	x.zoe.cam().set(func(s *synth) { s.drop, s.col = 0.05, blue })
	sees(t, x.ann, compose.LayoutEqual, -1, 1, blue)
	hears(t, x.ann, 440, 700, 1100)
}

// Leaving and closing stop every goroutine (TestMain checks for leaks) and detach everything.
func TestLeaveAndClose(t *testing.T) {
	x := newThree(t)
	sees(t, x.ann, compose.LayoutEqual, -1, 2, blue)
	x.room.Leave("amy")
	if got := x.amy.receiving(); len(got) != 0 {
		t.Errorf("amy still receives %d streams after leaving", len(got))
	}
	x.room.Close()
	x.room.Close()
	for _, p := range []*party{x.ann, x.zoe} {
		if got := p.receiving(); len(got) != 0 {
			t.Errorf("%s still receives %d streams after close", p.id, len(got))
		}
	}
	if err := x.room.Join(newParty(t, "max", red, 300)); err == nil {
		t.Error("join on a closed room succeeded")
	}
}

// The shared encoder follows its viewers: a viewer reporting heavy loss (RTCP) or a low REMB pulls
// the picture's bitrate down, a clean link lets it climb back, and a viewer leaving takes its
// estimate with it.
func TestBitrateFollowsViewers(t *testing.T) {
	o := newOutput("x", "composite", media.Video, vp8Codec, nil)
	o.maxKbps, o.minKbps = 1500, 200
	good, bad := &videoRecv{}, &videoRecv{}
	_ = o.AddSink(good)
	_ = o.AddSink(bad)
	o.ReportLoss(good, 0)
	if got := o.target.Load(); got != 1500 {
		t.Fatalf("clean link: target %d, want the maximum 1500", got)
	}
	for range 5 {
		o.ReportLoss(bad, 77) // 30% lost
	}
	low := o.target.Load()
	if low >= 1000 || low < 200 {
		t.Fatalf("after heavy loss: target %d kbps, want well below 1500 and at least the 200 floor", low)
	}
	o.ReportEstimate(good, 400_000)
	if got := o.target.Load(); got > 400 {
		t.Errorf("REMB of 400 kbps: target %d", got)
	}
	for range 40 {
		o.ReportLoss(bad, 0)
	}
	o.ReportEstimate(good, 5_000_000)
	if got := o.target.Load(); got != 1500 {
		t.Errorf("after recovery: target %d, want 1500", got)
	}
	for range 5 {
		o.ReportLoss(bad, 128)
	}
	o.RemoveSink(bad)
	if got := o.target.Load(); got != 1500 {
		t.Errorf("the lossy viewer left: target %d, want 1500", got)
	}
}

// The room's encoder follows the target its viewers' reports set.
func TestCompositeFollowsTarget(t *testing.T) {
	x := newThree(t)
	sees(t, x.ann, compose.LayoutEqual, -1, 0, red)
	kbps := func() (k int) {
		_ = x.room.do(func() error {
			for _, c := range x.room.comps {
				k = c.kbps
			}
			return nil
		})
		return k
	}
	if got := kbps(); got != 800 {
		t.Fatalf("encoder at %d kbps before any report, want the configured 800", got)
	}
	var out *output
	_ = x.room.do(func() error {
		for _, c := range x.room.comps {
			out = c.out
		}
		return nil
	})
	for range 6 {
		out.ReportLoss(x.ann.video, 100) // 39% lost at ann's end
	}
	eventually(t, "the encoder slows down", 5*time.Second, func() bool { return kbps() < 400 }, x.ann.video.changed)
	sees(t, x.zoe, compose.LayoutEqual, -1, 1, green) // still a picture for everyone
}

// With one person talking, the listeners who are silent share one encoding of the whole mix and the
// talker, who would hear only silence, is sent nothing after a first silent frame (as Opus DTX
// does): a room encodes once per tick however many listen, and everyone still hears the talker.
func TestSilentListenersShareOneEncoding(t *testing.T) {
	r, err := New("c2", nil, WithConfig(Config{Width: testW, Height: testH, FPS: 15}))
	if err != nil {
		t.Fatal(err)
	}
	talker, quiet1, quiet2 := newParty(t, "ann", red, 440), newParty(t, "zoe", green, 0), newParty(t, "amy", blue, 0)
	t.Cleanup(func() { r.Close() })
	for _, p := range []*party{talker, quiet1, quiet2} {
		if err := r.Join(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*party{quiet1, quiet2} {
		eventually(t, string(p.id)+" hears the talker", 10*time.Second, func() bool { return p.audio.power(440) > 1e5 }, nil)
	}
	before, talkerPkts, heardPkts := r.Stats(), talker.audio.packets(), quiet1.audio.packets()
	eventually(t, "a second of mixing", 10*time.Second, func() bool { return r.Stats().AudioMixes >= before.AudioMixes+50 }, nil)
	after := r.Stats()
	ticks := float64(after.AudioMixes - before.AudioMixes)
	if per := float64(after.AudioEncodes-before.AudioEncodes) / ticks; per > 1.1 {
		t.Errorf("%.2f encodes per tick with one talker and two silent listeners, want 1", per)
	}
	if shared := float64(after.AudioShared-before.AudioShared) / ticks; shared < 1.9 {
		t.Errorf("%.2f shared packets per tick: the two silent listeners did not share", shared)
	}
	if n := talker.audio.packets() - talkerPkts; n > 1 {
		t.Errorf("the lone talker was sent %d packets of silence over %.0f ticks, want none", n, ticks)
	}
	if n := quiet1.audio.packets() - heardPkts; n < 40 {
		t.Errorf("a listener got %d packets over %.0f ticks", n, ticks)
	}
}

// With five people talking at once the mix holds the three loudest: a listener hears those and not
// the two quieter ones, even though the quiet ones joined first and were in the mix before the
// loud ones spoke; each tick encodes the three mix-minus streams and one shared mix, not six.
func TestMixHoldsTheThreeLoudest(t *testing.T) {
	r, err := New("c4", nil, WithConfig(Config{Width: testW, Height: testH, FPS: 15}))
	if err != nil {
		t.Fatal(err)
	}
	listener := newParty(t, "lis", red, 0)
	quiet := []*party{newPartyAt(t, "q1", green, 1100, 2500), newPartyAt(t, "q2", blue, 1300, 3000)}
	loud := map[float64]float64{500: 8000, 700: 7000, 900: 6000}
	var louder []*party
	for hz, amp := range loud {
		louder = append(louder, newPartyAt(t, fmt.Sprintf("l%.0f", hz), green, hz, amp))
	}
	t.Cleanup(func() { r.Close() }) // after the parties, so that it runs before their receivers are freed
	for _, p := range append([]*party{listener}, quiet...) {
		if err := r.Join(p); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the listener hears the first quiet talker", 10*time.Second, func() bool { return listener.audio.power(1100) > 1e5 }, nil)
	for _, p := range louder {
		if err := r.Join(p); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the listener hears the three loud talkers", 10*time.Second, func() bool {
		for hz := range loud {
			if listener.audio.power(hz) < 1e6 {
				return false
			}
		}
		return true
	}, nil)
	mixes := r.Stats().AudioMixes
	eventually(t, "500 ms more of mixing", 10*time.Second, func() bool { return r.Stats().AudioMixes >= mixes+25 }, nil)
	for _, hz := range []float64{1100, 1300} {
		if pw := listener.audio.power(hz); pw > 1e5 {
			t.Errorf("the listener still hears the quiet %.0f Hz talker (power %.3g) over three louder ones", hz, pw)
		}
	}
	before := r.Stats()
	eventually(t, "a second of mixing", 10*time.Second, func() bool { return r.Stats().AudioMixes >= before.AudioMixes+50 }, nil)
	after := r.Stats()
	if per := float64(after.AudioEncodes-before.AudioEncodes) / float64(after.AudioMixes-before.AudioMixes); per > 4.2 {
		t.Errorf("%.2f encodes per tick with five talkers and one listener, want 4 (three in the mix, one shared)", per)
	}
}

// The active speaker's tile is framed: the talker's, not the silent parties'.
func TestActiveSpeakerBorder(t *testing.T) {
	r, err := New("c3", nil, WithConfig(Config{Width: testW, Height: testH, FPS: 15}))
	if err != nil {
		t.Fatal(err)
	}
	quiet1, talker, quiet2 := newParty(t, "ann", red, 0), newParty(t, "zoe", green, 700), newParty(t, "amy", blue, 0)
	t.Cleanup(func() { r.Close() })
	for _, p := range []*party{quiet1, talker, quiet2} {
		if err := r.Join(p); err != nil {
			t.Fatal(err)
		}
	}
	rects := compose.Tiles(compose.LayoutEqual, 3, -1, testW, testH)
	edge := func(i int) (int, int) {
		// The 320x240 (4:3) camera letterboxed in its tile: its left edge, half way down.
		rc := rects[i]
		w := rc.H * 4 / 3 &^ 1
		if w > rc.W {
			w = rc.W
		}
		return rc.X + (rc.W-w)/2 + 1, rc.Y + rc.H/2
	}
	amber := colour{250, 180, 0}
	eventually(t, "zoe's tile framed as the speaker", 10*time.Second, func() bool {
		x, y := edge(1)
		c, ok := quiet1.video.at(x, y)
		return ok && near(c, amber)
	}, quiet1.video.changed)
	for _, i := range []int{0, 2} {
		x, y := edge(i)
		if c, _ := quiet1.video.at(x, y); near(c, amber) {
			t.Errorf("silent party %d's tile is framed too", i)
		}
	}
}

// Packets out of order (as a NACK retransmission or a reordering path delivers them) are put back
// in order: the picture keeps coming and the sender is not asked for keyframes over it.
func TestReorderedPacketsAreNotLoss(t *testing.T) {
	x := newThree(t)
	sees(t, x.ann, compose.LayoutEqual, -1, 1, green)
	cam := x.zoe.cam()
	cam.set(func(s *synth) { s.swap = true; s.w, s.h = 640, 480 }) // several packets per frame
	sees(t, x.ann, compose.LayoutEqual, -1, 1, green)
	before := cam.keyframes.Load()
	for _, c := range []colour{blue, red, green, blue, red, green, blue} {
		cam.set(func(s *synth) { s.col = c })
		sees(t, x.ann, compose.LayoutEqual, -1, 1, c)
	}
	if n := cam.keyframes.Load() - before; n > 0 {
		t.Errorf("reordering cost %d keyframe requests", n)
	}
}

// The encoder searches only what changed: the cameras' placements, not the background, the
// letterbox bars or a still name plate; and a tile that changes is coded at once.
func TestEncoderSearchesOnlyChangedTiles(t *testing.T) {
	x := newThree(t)
	sees(t, x.zoe, compose.LayoutEqual, -1, 0, red)
	grid := float64(((testW + 15) / 16) * ((testH + 15) / 16))
	// activeShare waits for settle frames (the canvas' first draw and its refinement to pass),
	// then returns the share of macroblocks active per frame over the next 20.
	activeShare := func(settle uint64) float64 {
		t.Helper()
		s0 := x.room.Stats()
		eventually(t, "frames", 20*time.Second, func() bool { return x.room.Stats().Frames >= s0.Frames+settle }, nil)
		s1 := x.room.Stats()
		eventually(t, "20 more frames", 10*time.Second, func() bool { return x.room.Stats().Frames >= s1.Frames+20 }, nil)
		s2 := x.room.Stats()
		return float64(s2.ActiveMacroblocks-s1.ActiveMacroblocks) / float64(s2.Frames-s1.Frames) / grid
	}
	three := activeShare(refineFrames + 2)
	// Three 4:3 cameras letterboxed in 16:9 tiles cover about half the canvas.
	if three > 0.7 || three < 0.3 {
		t.Errorf("three cameras: %.2f of the canvas searched per frame, want about half", three)
	}
	x.ann.cam().set(func(s *synth) { s.col = colour{230, 220, 40} })
	sees(t, x.zoe, compose.LayoutEqual, -1, 0, colour{230, 220, 40})
	annVideoOff(t, x)
	two := activeShare(refineFrames + 2)
	if two > three*0.8 {
		t.Errorf("two cameras and a plate: %.2f of the canvas searched per frame, three cameras %.2f; the still plate should not be", two, three)
	}
	t.Logf("searched per frame: %.2f with three cameras, %.2f with two and a plate", three, two)
}
