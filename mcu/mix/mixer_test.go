package mix

import (
	"errors"
	"math"
	"runtime"
	"sync"
	"testing"
)

func goertzel(x []int16, f float64) float64 {
	w := 2 * math.Pi * f / 48000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - c*s1*s2) / float64(len(x)*len(x))
}

// toneFrame is tick k of a continuous tone, so consecutive frames join without a click.
func toneFrame(k int, f, amp float64) []int16 {
	x := make([]int16, 960)
	for i := range x {
		x[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(k*960+i)/48000)))
	}
	return x
}

func newMixer(t testing.TB) *Mixer {
	t.Helper()
	m, err := NewMixer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// collect runs one tick and copies each party's mix-minus.
func collect(m *Mixer) map[string][]int16 {
	got := map[string][]int16{}
	m.Mix(func(id string, pcm []int16) { got[id] = append([]int16(nil), pcm...) })
	return got
}

func TestMixMinusEachHearsOthersNotSelf(t *testing.T) {
	m := newMixer(t)
	freq := map[string]float64{"a": 300, "b": 500, "c": 700}
	ins := map[string]*Input{}
	for _, id := range []string{"a", "b", "c"} {
		ins[id] = m.Add(id)
	}
	var heard map[string][]int16
	for k := range 5 { // several ticks: the buffers swap each tick
		for id, in := range ins {
			if err := in.Write(toneFrame(k, freq[id], 8000)); err != nil {
				t.Fatal(err)
			}
		}
		heard = collect(m)
	}
	if len(heard) != 3 {
		t.Fatalf("%d outputs", len(heard))
	}
	for id, pcm := range heard {
		own := goertzel(pcm, freq[id])
		for other, f := range freq {
			if other == id {
				continue
			}
			p := goertzel(pcm, f)
			if ratio := 10 * math.Log10(p/(own+1e-12)); ratio < 60 {
				t.Errorf("%s hears %s only %.1f dB above its own voice", id, other, ratio)
			}
			if p < 0.2*8000*8000/4 { // a full-amplitude tone has power amp^2/4 by this measure
				t.Errorf("%s hears %s at power %.0f", id, other, p)
			}
		}
	}
}

func TestMixSaturates(t *testing.T) {
	m := newMixer(t)
	loud := make([]int16, 960)
	quiet := make([]int16, 960)
	for i := range loud {
		loud[i] = 30000
		quiet[i] = -30000
	}
	a, b, c := m.Add("a"), m.Add("b"), m.Add("c")
	_ = a.Write(loud)
	_ = b.Write(loud)
	got := collect(m)
	if got["c"][0] != math.MaxInt16 || got["c"][959] != math.MaxInt16 {
		t.Errorf("c hears %d, want saturation at %d", got["c"][0], math.MaxInt16)
	}
	if got["a"][0] != 30000 {
		t.Errorf("a hears %d, want b's 30000 (the sum minus its own, no double clipping)", got["a"][0])
	}
	_ = a.Write(quiet)
	_ = b.Write(quiet)
	_ = c.Write(quiet)
	got = collect(m)
	if got["c"][0] != math.MinInt16 {
		t.Errorf("c hears %d, want %d", got["c"][0], math.MinInt16)
	}
}

func TestMixSilenceWithoutFreshFrame(t *testing.T) {
	m := newMixer(t)
	a, _ := m.Add("a"), m.Add("b")
	_ = a.Write(toneFrame(0, 300, 8000))
	if n := m.Mix(func(string, []int16) {}); n != 1 {
		t.Errorf("active %d, want 1", n)
	}
	// Next tick: a wrote nothing, so b hears silence rather than a's old frame repeated.
	got := collect(m)
	for _, v := range got["b"] {
		if v != 0 {
			t.Fatalf("b hears %d from a stale frame", v)
		}
	}
}

func TestMixRemove(t *testing.T) {
	m := newMixer(t)
	a, b, c := m.Add("a"), m.Add("b"), m.Add("c")
	if m.Add("b") != b {
		t.Error("re-adding b made a second input")
	}
	m.Remove("b")
	m.Remove("nobody")
	if err := b.Write(toneFrame(0, 500, 8000)); !errors.Is(err, ErrRemoved) {
		t.Errorf("write after remove: %v", err)
	}
	_ = a.Write(toneFrame(0, 300, 8000))
	_ = c.Write(toneFrame(0, 700, 8000))
	got := collect(m)
	if _, ok := got["b"]; ok || len(got) != 2 {
		t.Fatalf("outputs %v after removing b", len(got))
	}
	if p := goertzel(got["a"], 500); p > 1e-6*goertzel(got["a"], 700) {
		t.Errorf("a still hears b: %.3g", p)
	}
	m.Remove("a")
	m.Remove("c")
	calls := 0
	if n := m.Mix(func(string, []int16) { calls++ }); n != 0 || calls != 0 {
		t.Errorf("idle mixer: active %d, %d calls", n, calls)
	}
}

func TestMixErrors(t *testing.T) {
	m := newMixer(t)
	if err := m.Add("a").Write(make([]int16, 480)); !errors.Is(err, ErrFrameSize) {
		t.Errorf("short frame: %v", err)
	}
	if _, err := NewMixer(Config{Channels: 3}); !errors.Is(err, ErrConfig) {
		t.Errorf("3 channels: %v", err)
	}
	s, err := NewMixer(Config{Channels: 2})
	if err != nil || s.FrameLen() != 1920 {
		t.Errorf("stereo: %v %d", err, s.FrameLen())
	}
}

// TestMixConcurrentWrites lets -race check Write against Mix and Remove from other goroutines.
func TestMixConcurrentWrites(t *testing.T) {
	m := newMixer(t)
	ins := []*Input{m.Add("a"), m.Add("b"), m.Add("c")}
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Go(func() {
			f := toneFrame(0, 400, 1000)
			for range 300 {
				_ = in.Write(f)
				runtime.Gosched()
			}
		})
	}
	for k := range 300 {
		if k == 100 {
			m.Remove("b")
		}
		m.Mix(func(string, []int16) {})
		runtime.Gosched()
	}
	wg.Wait()
}

func TestMixAllocs(t *testing.T) {
	m := newMixer(t)
	f := toneFrame(0, 300, 8000)
	var ins []*Input
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		ins = append(ins, m.Add(id))
	}
	out := func(string, []int16) {}
	n := testing.AllocsPerRun(100, func() {
		for _, in := range ins {
			_ = in.Write(f)
		}
		m.Mix(out)
	})
	if n != 0 {
		t.Errorf("%v allocs per tick", n)
	}
}
