package audio

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

const frameTS = 960 // 20 ms at 48 kHz

func newJB(t testing.TB) *JitterBuffer {
	t.Helper()
	j, err := NewJitterBuffer(JitterConfig{}) // 48 kHz, 20 ms, target 60 ms, max 200 ms
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func pl(seq uint16) []byte { return []byte{byte(seq >> 8), byte(seq), 0xAB} }

func push(t testing.TB, j *JitterBuffer, seq uint16, want error) {
	t.Helper()
	if err := j.Push(seq, 5000+uint32(seq)*frameTS, pl(seq)); !errors.Is(err, want) {
		t.Fatalf("push %d: %v, want %v", seq, err, want)
	}
}

// pops drains n frames and renders them: "s<seq>" for a frame, "L" for lost, "-" for nothing.
func pops(j *JitterBuffer, n int) []string {
	var out []string
	for range n {
		p, lost := j.Pop()
		switch {
		case lost:
			out = append(out, "L")
		case p == nil:
			out = append(out, "-")
		default:
			out = append(out, "s"+itoa(int(binary.BigEndian.Uint16(p))))
		}
	}
	return out
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	s := ""
	for ; v > 0; v /= 10 {
		s = string(rune('0'+v%10)) + s
	}
	return s
}

func eq(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestJitterBuffersToTarget(t *testing.T) {
	j := newJB(t)
	eq(t, pops(j, 1), "-") // nothing yet
	push(t, j, 10, nil)
	push(t, j, 11, nil)
	eq(t, pops(j, 1), "-") // 40 ms < 60 ms target
	push(t, j, 12, nil)
	eq(t, pops(j, 3), "s10", "s11", "s12")
}

func TestJitterReorder(t *testing.T) {
	j := newJB(t)
	for _, s := range []uint16{101, 100, 103, 102, 105, 104} {
		push(t, j, s, nil)
	}
	eq(t, pops(j, 6), "s100", "s101", "s102", "s103", "s104", "s105")
}

func TestJitterDuplicate(t *testing.T) {
	j := newJB(t)
	push(t, j, 1, nil)
	push(t, j, 2, nil)
	push(t, j, 2, ErrDuplicate)
	push(t, j, 3, nil)
	eq(t, pops(j, 3), "s1", "s2", "s3")
	if s := j.Stats(); s.Duplicate != 1 || s.Played != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestJitterLossExactlyMissingFrame(t *testing.T) {
	j := newJB(t)
	for s := uint16(0); s < 10; s++ {
		if s != 5 {
			push(t, j, s, nil)
		}
	}
	eq(t, pops(j, 10), "s0", "s1", "s2", "s3", "s4", "L", "s6", "s7", "s8", "s9")
	if s := j.Stats(); s.Lost != 1 {
		t.Errorf("lost %d", s.Lost)
	}
}

func TestJitterWrap(t *testing.T) {
	j := newJB(t)
	var want []string
	for i := range 12 {
		s := uint16(65530 + i) // 65530..65535, 0..5; the timestamp runs on without wrapping
		if err := j.Push(s, 0xFFFF0000+uint32(i)*frameTS, pl(s)); err != nil {
			t.Fatal(err)
		}
		want = append(want, "s"+itoa(int(s)))
		if i >= 2 {
			eq(t, pops(j, 1), want[i-2])
		}
	}
	eq(t, pops(j, 2), want[10:]...)
	if s := j.Stats(); s.Lost != 0 || s.Resets != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestJitterLateDropped(t *testing.T) {
	j := newJB(t)
	for _, s := range []uint16{0, 1, 2, 4, 5} {
		push(t, j, s, nil)
	}
	eq(t, pops(j, 4), "s0", "s1", "s2", "L")
	push(t, j, 3, ErrLate) // its slot was concealed already
	push(t, j, 1, ErrLate)
	eq(t, pops(j, 2), "s4", "s5")
	if s := j.Stats(); s.Late != 2 {
		t.Errorf("late %d", s.Late)
	}
}

func TestJitterOverflowBoundsDelay(t *testing.T) {
	j := newJB(t)
	for s := uint16(0); s < 15; s++ { // a 300 ms burst into a 200 ms buffer
		push(t, j, s, nil)
	}
	if n := j.Len(); n != 10 {
		t.Errorf("holding %d frames, want 10", n)
	}
	eq(t, pops(j, 2), "s5", "s6")
}

func TestJitterResetOnJump(t *testing.T) {
	j := newJB(t)
	for s := uint16(0); s < 4; s++ {
		push(t, j, s, nil)
	}
	eq(t, pops(j, 1), "s0")
	// A new SSRC: unrelated sequence and timestamp. Old frames go, the new stream buffers afresh.
	for s := uint16(40000); s < 40003; s++ {
		if err := j.Push(s, 99_000_000+uint32(s)*frameTS, pl(s)); err != nil {
			t.Fatal(err)
		}
	}
	eq(t, pops(j, 3), "s40000", "s40001", "s40002")
	// A timestamp jump alone (sequence continuous): a DTX pause of 2 s.
	for s := uint16(40003); s < 40006; s++ {
		if err := j.Push(s, 99_000_000+uint32(s)*frameTS+96000, pl(s)); err != nil {
			t.Fatal(err)
		}
	}
	eq(t, pops(j, 3), "s40003", "s40004", "s40005")
	if s := j.Stats(); s.Resets != 2 {
		t.Errorf("resets %d, want 2", s.Resets)
	}
}

func TestJitterGoesIdleAfterMax(t *testing.T) {
	j := newJB(t)
	for s := uint16(0); s < 3; s++ {
		push(t, j, s, nil)
	}
	got := pops(j, 3+10+2)
	eq(t, got[:3], "s0", "s1", "s2")
	for _, g := range got[3:13] {
		if g != "L" {
			t.Fatalf("underrun: %v", got)
		}
	}
	eq(t, got[13:], "-", "-") // gone quiet: no more PLC
	if s := j.Stats(); s.Idle != 1 || s.Lost != 10 {
		t.Errorf("stats %+v", s)
	}
	// It resumes (sequence continuous, as after mute) and buffers afresh.
	for s := uint16(3); s < 6; s++ {
		push(t, j, s, nil)
	}
	eq(t, pops(j, 3), "s3", "s4", "s5")
}

func TestJitterEarlyOutOfOrderStart(t *testing.T) {
	j := newJB(t)
	push(t, j, 7, nil)
	push(t, j, 6, nil) // arrived second but plays first: nothing has been played yet
	push(t, j, 8, nil)
	eq(t, pops(j, 3), "s6", "s7", "s8")
}

func TestJitterConfigAndPayload(t *testing.T) {
	for _, c := range []JitterConfig{{Max: 10 * time.Millisecond}, {Target: 300 * time.Millisecond}, {ClockRate: -1}} {
		if _, err := NewJitterBuffer(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	j := newJB(t)
	if err := j.Push(1, 1, nil); !errors.Is(err, ErrEmptyPayload) {
		t.Error(err)
	}
	if err := j.Push(1, 1, make([]byte, 1501)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Error(err)
	}
	g, err := NewJitterBuffer(JitterConfig{ClockRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	for s := uint16(0); s < 3; s++ {
		if err := g.Push(s, uint32(s)*160, make([]byte, 160)); err != nil {
			t.Fatal(err)
		}
	}
	if p, lost := g.Pop(); len(p) != 160 || lost {
		t.Errorf("G.711 frame: %d bytes lost=%v", len(p), lost)
	}
}

func TestJitterAllocs(t *testing.T) {
	j := newJB(t)
	p := make([]byte, 120)
	seq := uint16(0)
	n := testing.AllocsPerRun(200, func() {
		_ = j.Push(seq, uint32(seq)*frameTS, p)
		seq++
		j.Pop()
	})
	if n != 0 {
		t.Errorf("%v allocs per push+pop", n)
	}
}

// FuzzJitterBuffer drives Push/Pop from arbitrary bytes: each 3-byte op is a pop (first byte odd)
// or a push of a sequence and timestamp offset near the stream. Invariants: no panic; never more than
// Max/Frame frames held; a popped payload is one that was pushed; within one stream (no reset) frames
// come out in strictly increasing sequence order.
func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0, 0, 2, 1, 0, 0, 1, 0, 0})
	f.Add([]byte{0, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0x80, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		// An odd-length input adapts its delay (with a short window so shrinking happens too).
		j, err := NewJitterBuffer(JitterConfig{Adapt: len(ops)%2 == 1, AdaptWindow: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		var base uint16
		lastSeq, lastResets, havePlayed := 0, uint64(0), false
		for i := 0; i+3 <= len(ops); i += 3 {
			op := ops[i]
			if op&1 == 1 {
				p, lost := j.Pop()
				if lost && p != nil {
					t.Fatal("lost frame with payload")
				}
				st := j.Stats()
				if st.Resets+st.Idle != lastResets {
					havePlayed, lastResets = false, st.Resets+st.Idle
				}
				if p == nil {
					continue
				}
				if len(p) != 4 || p[2] != 0xAB || p[3] != p[0]^p[1] {
					t.Fatalf("payload %x was never pushed", p)
				}
				s := int(binary.BigEndian.Uint16(p))
				if havePlayed && uint16(s-lastSeq) > 0x8000 {
					t.Fatalf("seq %d after %d", s, lastSeq)
				}
				lastSeq, havePlayed = s, true
				continue
			}
			// Mostly small steps around a moving base, sometimes big jumps, so all paths get exercised.
			step := uint16(int8(ops[i+1]))
			if op&2 != 0 {
				step = uint16(ops[i+1])<<8 | uint16(ops[i+2])
			}
			seq := base + step
			ts := uint32(seq)*frameTS + uint32(ops[i+2]&0x0f)*100
			if op&4 != 0 {
				base = seq
			}
			_ = j.Push(seq, ts, []byte{byte(seq >> 8), byte(seq), 0xAB, byte(seq>>8) ^ byte(seq)})
			if n := j.Len(); n > 10 {
				t.Fatalf("holding %d frames", n)
			}
		}
	})
}

func BenchmarkJitterPushPop(b *testing.B) {
	j := newJB(b)
	p := make([]byte, 120)
	seq := uint16(0)
	b.ReportAllocs()
	for b.Loop() {
		_ = j.Push(seq, uint32(seq)*frameTS, p)
		seq++
		j.Pop()
	}
}

// jitterPath plays n packets over a simulated path: packet i is sent at 20i ms and arrives
// delay(i) ms later; the playout clock pops every 20 ms from 5 ms on. It returns the buffer's
// stats after the first half and at the end.
func jitterPath(t *testing.T, cfg JitterConfig, n int, delay func(i int) int) (JitterStats, JitterStats) {
	t.Helper()
	j, err := NewJitterBuffer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	arrive := make([][]int, 20*n+400) // ms -> packets arriving then
	for i := range n {
		at := 20*i + delay(i)
		arrive[at] = append(arrive[at], i)
	}
	var half JitterStats
	for ms := range arrive {
		for _, i := range arrive[ms] {
			_ = j.Push(uint16(i), uint32(i*frameTS), pl(uint16(i)))
		}
		if ms%20 == 5 {
			j.Pop()
		}
		if ms == 10*n {
			half = j.Stats()
		}
	}
	return half, j.Stats()
}

// A path that delays three packets in a row by 70 ms every 4 s (a Wi-Fi scan, a VM's stolen
// time). With a fixed 40 ms buffer every burst loses frames; with Adapt the first burst grows the
// delay and the later ones lose nothing. After the bursts stop, the delay is taken back down.
func TestJitterAdaptsToBursts(t *testing.T) {
	bursty := func(i int) int {
		if i < 1000 && i%200 >= 100 && i%200 < 103 {
			return 70
		}
		return 2
	}
	base := JitterConfig{Target: 40 * time.Millisecond, Max: 200 * time.Millisecond}
	_, fixed := jitterPath(t, base, 2000, bursty)
	if fixed.Late < 10 || fixed.Grown != 0 {
		t.Fatalf("fixed buffer: %+v, want late packets in every burst", fixed)
	}
	adaptive := base
	adaptive.Adapt, adaptive.AdaptWindow = true, 5*time.Second
	half, end := jitterPath(t, adaptive, 2000, bursty)
	if half.Late == 0 || half.Late > 3 || half.Grown == 0 {
		t.Fatalf("adaptive, first 20 s: %+v: the first burst alone should be late", half)
	}
	if end.Late != half.Late {
		t.Fatalf("adaptive: %d late after the first burst (%+v)", end.Late-half.Late, end)
	}
	if end.Shrunk != end.Grown {
		t.Fatalf("adaptive: grown %d frames, shrunk %d once the path was quiet; want all back", end.Grown, end.Shrunk)
	}
	if end.Played+end.Late+end.Shrunk != end.Pushed {
		t.Fatalf("adaptive: %+v: every packet but the late ones and the skipped should play", end)
	}
}
