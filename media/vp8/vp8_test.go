package vp8

import (
	"errors"
	"math/rand"
	"testing"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media/frame"
)

// pipe carries frames through encoder -> packetizer -> depacketizer -> decoder, as the MCU does.
type pipe struct {
	t    *testing.T
	pk   *Packetizer
	dp   *Depacketizer
	dec  *Decoder
	seq  uint16
	ts   uint32
	out  *frame.I420
	drop func(i int) bool // drop the i-th payload of the next frame
}

func newPipe(t *testing.T) *pipe {
	t.Helper()
	pk, err := NewPacketizer(0)
	if err != nil {
		t.Fatal(err)
	}
	dp, _ := NewDepacketizer()
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Close() })
	return &pipe{t: t, pk: pk, dp: dp, dec: dec, out: &frame.I420{}}
}

// send packetizes one compressed frame and returns the depacketizer's last result.
func (p *pipe) send(data []byte) Result {
	p.t.Helper()
	p.ts += 3000
	payloads := p.pk.Packetize(data)
	var res Result
	for i, pl := range payloads {
		p.seq++
		if len(pl)+rtpHeaderSize > MTU {
			p.t.Fatalf("packet of %d bytes exceeds MTU", len(pl)+rtpHeaderSize)
		}
		if p.drop != nil && p.drop(i) {
			continue
		}
		h := &rtp.Header{SequenceNumber: p.seq, Timestamp: p.ts, Marker: i == len(payloads)-1}
		r, err := p.dp.Push(h, pl)
		if err != nil {
			p.t.Fatal(err)
		}
		res = r
	}
	return res
}

func newEncoder(t testing.TB, w, h int) *Encoder {
	t.Helper()
	enc, err := NewEncoder(Config{Width: w, Height: h, FPS: 30, BitrateKbps: 800})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc
}

func solid(t testing.TB, w, h int, r, g, b uint8) *frame.I420 {
	t.Helper()
	f, err := frame.NewI420(w, h)
	if err != nil {
		t.Fatal(err)
	}
	f.Fill(r, g, b)
	return f
}

func checkColour(t *testing.T, f *frame.I420, r, g, b uint8) {
	t.Helper()
	for _, pt := range [][2]int{{0, 0}, {f.Width / 2, f.Height / 2}, {f.Width - 1, f.Height - 1}} {
		gr, gg, gb := f.At(pt[0], pt[1])
		if diff(gr, r) > 8 || diff(gg, g) > 8 || diff(gb, b) > 8 {
			t.Errorf("pixel %v = %d,%d,%d, want about %d,%d,%d", pt, gr, gg, gb, r, g, b)
		}
	}
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestRoundTripSolidColour(t *testing.T) {
	enc := newEncoder(t, 640, 480)
	p := newPipe(t)
	in := solid(t, 640, 480, 200, 40, 90)
	var buf []byte
	decoded := 0
	for i := 0; i < 30; i++ {
		data, key, err := enc.Encode(in, false, buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		buf = data
		if i == 0 && !key {
			t.Fatal("first frame is not a keyframe")
		}
		if i > 0 && key {
			t.Errorf("frame %d is an unrequested keyframe", i)
		}
		res := p.send(data)
		if res.Frame == nil || res.NeedKeyframe || res.Keyframe != key {
			t.Fatalf("frame %d: depacketizer result %+v", i, res)
		}
		ok, err := p.dec.Decode(res.Frame, p.out)
		if err != nil || !ok {
			t.Fatalf("frame %d: Decode = %v, %v", i, ok, err)
		}
		decoded++
	}
	if p.out.Width != 640 || p.out.Height != 480 {
		t.Fatalf("decoded size %dx%d", p.out.Width, p.out.Height)
	}
	checkColour(t, p.out, 200, 40, 90)
}

func TestForceKeyframe(t *testing.T) {
	enc := newEncoder(t, 640, 480)
	in := solid(t, 640, 480, 10, 200, 30)
	for i := 0; i < 10; i++ {
		force := i == 5
		data, key, err := enc.Encode(in, force, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := i == 0 || force; key != want || IsKeyframe(data) != want {
			t.Errorf("frame %d: keyframe %v (bitstream %v), want %v", i, key, IsKeyframe(data), want)
		}
	}
}

func TestEncodeWrongSize(t *testing.T) {
	enc := newEncoder(t, 640, 480)
	if _, _, err := enc.Encode(solid(t, 320, 240, 0, 0, 0), false, nil); !errors.Is(err, ErrFrameSize) {
		t.Errorf("Encode(320x240) on a 640x480 encoder = %v", err)
	}
	if _, _, err := enc.Encode(nil, false, nil); !errors.Is(err, ErrNil) {
		t.Errorf("Encode(nil) = %v", err)
	}
}

func TestResolutionChangeMidStream(t *testing.T) {
	p := newPipe(t)
	for _, step := range []struct {
		w, h    int
		r, g, b uint8
	}{{640, 480, 200, 40, 90}, {320, 240, 30, 60, 220}, {640, 480, 120, 120, 120}} {
		enc := newEncoder(t, step.w, step.h) // a sender switching resolution restarts with a keyframe
		in := solid(t, step.w, step.h, step.r, step.g, step.b)
		for i := 0; i < 5; i++ {
			data, _, err := enc.Encode(in, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			res := p.send(data)
			if ok, err := p.dec.Decode(res.Frame, p.out); !ok || err != nil {
				t.Fatalf("%dx%d frame %d: Decode = %v, %v", step.w, step.h, i, ok, err)
			}
		}
		if p.out.Width != step.w || p.out.Height != step.h {
			t.Fatalf("decoded %dx%d, want %dx%d", p.out.Width, p.out.Height, step.w, step.h)
		}
		checkColour(t, p.out, step.r, step.g, step.b)
	}
}

func TestCorruptDataThenKeyframe(t *testing.T) {
	enc := newEncoder(t, 640, 480)
	dec, _ := NewDecoder()
	defer dec.Close()
	out := &frame.I420{}
	in := solid(t, 640, 480, 200, 40, 90)
	for i := 0; i < 3; i++ {
		data, _, _ := enc.Encode(in, false, nil)
		if ok, err := dec.Decode(data, out); !ok || err != nil {
			t.Fatalf("Decode = %v, %v", ok, err)
		}
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		junk := make([]byte, 1+rng.Intn(3000))
		rng.Read(junk)
		if ok, err := dec.Decode(junk, out); ok || err == nil {
			t.Fatalf("junk %d decoded: %v, %v", i, ok, err)
		}
	}
	// A keyframe with its tail cut off is damaged data too.
	key, _, _ := enc.Encode(in, true, nil)
	if ok, err := dec.Decode(key[:len(key)/2], out); ok || err == nil {
		t.Errorf("truncated keyframe decoded: %v, %v", ok, err)
	}
	inter, _, _ := enc.Encode(in, false, nil)
	if _, err := dec.Decode(inter, out); !errors.Is(err, ErrNeedKeyframe) {
		t.Errorf("inter frame after corruption = %v, want ErrNeedKeyframe", err)
	}
	in.Fill(30, 60, 220)
	key, _, _ = enc.Encode(in, true, nil)
	if ok, err := dec.Decode(key, out); !ok || err != nil {
		t.Fatalf("keyframe after corruption: %v, %v", ok, err)
	}
	checkColour(t, out, 30, 60, 220)
	inter, _, _ = enc.Encode(in, false, nil)
	if ok, err := dec.Decode(inter, out); !ok || err != nil {
		t.Fatalf("inter frame after recovery: %v, %v", ok, err)
	}
}

func TestPacketLossNeedsKeyframe(t *testing.T) {
	enc := newEncoder(t, 640, 480)
	p := newPipe(t)
	rng := rand.New(rand.NewSource(2))
	in, _ := frame.NewI420(640, 480)
	noise := func() { // noise keeps frames large enough to span several packets
		rng.Read(in.Y)
		rng.Read(in.U)
		rng.Read(in.V)
	}
	noise()
	data, _, _ := enc.Encode(in, false, nil)
	if n := len(p.pk.Packetize(data)); n < 3 {
		t.Fatalf("keyframe spans %d packets; the test needs several", n)
	}
	p.pk, _ = NewPacketizer(0) // restart picture IDs; only the payload count was wanted
	if res := p.send(data); res.Frame == nil || !res.Keyframe {
		t.Fatalf("keyframe not delivered: %+v", res)
	}
	noise()
	data, _, _ = enc.Encode(in, false, nil)
	p.drop = func(i int) bool { return i == 1 }
	if res := p.send(data); res.Frame != nil || !res.NeedKeyframe || !p.dp.NeedKeyframe() {
		t.Fatalf("frame with a lost packet: %+v", res)
	}
	p.drop = nil
	noise()
	data, _, _ = enc.Encode(in, false, nil)
	if res := p.send(data); res.Frame != nil || !res.NeedKeyframe {
		t.Fatalf("inter frame after loss delivered: %+v", res)
	}
	noise()
	data, _, _ = enc.Encode(in, true, nil)
	res := p.send(data)
	if res.Frame == nil || !res.Keyframe || res.NeedKeyframe {
		t.Fatalf("keyframe after loss: %+v", res)
	}
	if ok, err := p.dec.Decode(res.Frame, p.out); !ok || err != nil {
		t.Fatalf("Decode keyframe after loss: %v, %v", ok, err)
	}
}

func TestDepacketizerDuplicatesAndJunk(t *testing.T) {
	dp, _ := NewDepacketizer()
	if _, err := dp.Push(&rtp.Header{SequenceNumber: 1, Marker: true}, nil); !errors.Is(err, ErrPayload) {
		t.Errorf("empty payload = %v", err)
	}
	// A lone duplicate must not count as loss.
	enc := newEncoder(t, 64, 48)
	data, _, _ := enc.Encode(solid(t, 64, 48, 1, 2, 3), false, nil)
	pk, _ := NewPacketizer(0)
	pl := pk.Packetize(data)[0]
	h := &rtp.Header{SequenceNumber: 2, Timestamp: 9, Marker: true}
	if res, _ := dp.Push(h, pl); res.Frame == nil {
		t.Fatal("keyframe not delivered")
	}
	if res, _ := dp.Push(h, pl); res.Frame != nil || res.NeedKeyframe {
		t.Errorf("duplicate: %+v", res)
	}
}

func TestSetBitrateAndClose(t *testing.T) {
	enc, err := NewEncoder(Config{Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	if c := enc.Config(); c.CPUUsed != -6 || c.FPS != 30 || c.BitrateKbps != 1500 {
		t.Errorf("defaults: %+v", c)
	}
	for _, kbps := range []int{1500, 600, 600, 2000} {
		if err := enc.SetBitrate(kbps); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.SetBitrate(0); !errors.Is(err, ErrConfig) {
		t.Errorf("SetBitrate(0) = %v", err)
	}
	enc.Close()
	enc.Close()
	if _, _, err := enc.Encode(solid(t, 320, 240, 0, 0, 0), false, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close = %v", err)
	}
	if _, err := NewEncoder(Config{Width: 0, Height: 240}); !errors.Is(err, ErrConfig) {
		t.Errorf("zero width = %v", err)
	}
	if _, err := NewEncoder(Config{Width: 320, Height: 240, CPUUsed: 99}); !errors.Is(err, ErrConfig) {
		t.Errorf("cpu_used 99 = %v", err)
	}
}

// A static threshold of 100 leaves a faint change on a cleanly coded picture uncoded (a grey level
// on one pixel in fifty: what a sender's requantisation leaves on a still background); the default
// codes it.
func TestStaticThresholdSkipsFaintChange(t *testing.T) {
	if _, err := NewEncoder(Config{Width: 320, Height: 240, StaticThreshold: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("static threshold -1 = %v", err)
	}
	size := func(thresh int) int {
		enc, err := NewEncoder(Config{Width: 320, Height: 240, BitrateKbps: 800, StaticThreshold: thresh})
		if err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		f := solid(t, 320, 240, 90, 120, 160)
		total := 0
		for i := range 16 {
			for j := range f.Y {
				if (j*31+i*17)%50 == 0 {
					f.Y[j] ^= 1
				}
			}
			out, _, err := enc.Encode(f, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i >= 8 { // once the rate control has refined the picture
				total += len(out)
			}
		}
		return total
	}
	coded, skipped := size(0), size(100)
	if skipped*2 > coded {
		t.Errorf("8 frames of faint flicker: %d bytes at threshold 100, %d at the default; want under half", skipped, coded)
	}
}

func FuzzDecode(f *testing.F) {
	enc := newEncoder(f, 64, 48)
	key, _, _ := enc.Encode(solid(f, 64, 48, 9, 9, 9), false, nil)
	f.Add(key)
	f.Add([]byte{0x9d, 0x01, 0x2a})
	dec, _ := NewDecoder()
	defer dec.Close()
	out := &frame.I420{}
	f.Fuzz(func(t *testing.T, data []byte) {
		ok, err := dec.Decode(data, out)
		if ok && (err != nil || !out.Valid()) {
			t.Fatalf("ok with %v, frame %dx%d", err, out.Width, out.Height)
		}
	})
}

// The active map is what lets the MCU skip the parts of its canvas that did not change: a
// macroblock marked inactive must keep its old picture even when the input changed under it, and
// a keyframe must still code everything (a new viewer starts from it).
func TestActiveMapCodesOnlyActiveMacroblocks(t *testing.T) {
	const w, h = 320, 240
	enc := newEncoder(t, w, h)
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	if err := enc.SetActiveMap(make([]byte, 3)); !errors.Is(err, ErrConfig) {
		t.Errorf("a map of the wrong size = %v", err)
	}
	out := &frame.I420{}
	code := func(f *frame.I420, key bool) {
		t.Helper()
		data, _, err := enc.Encode(f, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := dec.Decode(data, out); !ok || err != nil {
			t.Fatalf("decode: %v, %v", ok, err)
		}
	}
	red, blue := solid(t, w, h, 200, 30, 30), solid(t, w, h, 30, 30, 200)
	for range 10 {
		code(red, false)
	}
	cols, rows := enc.MacroblockGrid()
	if cols != 20 || rows != 15 {
		t.Fatalf("grid %dx%d, want 20x15", cols, rows)
	}
	left := make([]byte, cols*rows) // the left half active
	for i := range left {
		if i%cols < cols/2 {
			left[i] = 1
		}
	}
	if err := enc.SetActiveMap(left); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		code(blue, false)
	}
	at := func(x, y int, r, g, b uint8) {
		t.Helper()
		gr, gg, gb := out.At(x, y)
		if diff(gr, r) > 12 || diff(gg, g) > 12 || diff(gb, b) > 12 {
			t.Errorf("pixel (%d,%d) = %d,%d,%d, want about %d,%d,%d", x, y, gr, gg, gb, r, g, b)
		}
	}
	at(40, 120, 30, 30, 200)  // active: follows the input
	at(280, 120, 200, 30, 30) // inactive: keeps the old picture
	clear(left)               // nothing active, yet a keyframe codes it all
	if err := enc.SetActiveMap(left); err != nil {
		t.Fatal(err)
	}
	code(blue, true)
	at(280, 120, 30, 30, 200)
	code(red, false) // and after it, the all-inactive map holds the picture still
	at(40, 120, 30, 30, 200)
	if err := enc.SetActiveMap(nil); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		code(red, false)
	}
	at(40, 120, 200, 30, 30)
	at(280, 120, 200, 30, 30)
	enc.Close()
	if err := enc.SetActiveMap(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("SetActiveMap after Close = %v", err)
	}
}
