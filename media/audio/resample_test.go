package audio

import (
	"math"
	"testing"
)

// run feeds x through r in 20 ms frames, as the gateway does.
func run(t testing.TB, r *Resampler, x []int16, frame int) []int16 {
	var y []int16
	out := make([]int16, r.OutLen(frame))
	for i := 0; i+frame <= len(x); i += frame {
		o, err := r.Process(out, x[i:i+frame])
		if err != nil {
			t.Fatal(err)
		}
		y = append(y, o...)
	}
	return y
}

func TestResampleRoundTrip1kHz(t *testing.T) {
	up, err := NewResampler(ResamplerConfig{From: 8000, To: 48000})
	if err != nil {
		t.Fatal(err)
	}
	down, err := NewResampler(ResamplerConfig{From: 48000, To: 8000})
	if err != nil {
		t.Fatal(err)
	}
	in := tone(8000, 1000, 8000, 10000) // 1 s
	hi := run(t, up, in, 160)
	if len(hi) != 6*len(in) {
		t.Fatalf("up: %d samples, want %d", len(hi), 6*len(in))
	}
	steadyHi := hi[4800:] // skip the filter's warm-up
	if f := zeroCrossFreq(steadyHi, 48000); math.Abs(f-1000) > 1 {
		t.Errorf("48 kHz tone at %.2f Hz, want 1000", f)
	}
	if g := rms(steadyHi) / rms(in[800:]); math.Abs(20*math.Log10(g)) > 0.2 {
		t.Errorf("up gain %.2f dB", 20*math.Log10(g))
	}
	back := run(t, down, hi, 960)
	if len(back) != len(in) {
		t.Fatalf("down: %d samples, want %d", len(back), len(in))
	}
	if f := zeroCrossFreq(back[800:], 8000); math.Abs(f-1000) > 1 {
		t.Errorf("8 kHz tone at %.2f Hz, want 1000", f)
	}
	if g := rms(back[800:]) / rms(in[800:]); math.Abs(20*math.Log10(g)) > 0.2 {
		t.Errorf("round-trip gain %.2f dB", 20*math.Log10(g))
	}
	// Up and down each delay by (taps-1)/2 = 95.5 samples at 48 kHz; the decimator keeps the last of
	// each 6 inputs, so the round trip delays by exactly 23 samples at 8 kHz.
	// Compare against the input shifted by that delay: the residue is filter ripple and rounding.
	const delay = tapsPerPhase - 1 // (2*95.5 - 5) / 6: the decimator keeps input 6m+5 of each group
	var errPow, sigPow float64
	for i := 800; i < len(back); i++ {
		want := 10000 * math.Sin(2*math.Pi*1000*(float64(i)-delay)/8000)
		errPow += (float64(back[i]) - want) * (float64(back[i]) - want)
		sigPow += want * want
	}
	snr := db(sigPow / errPow)
	t.Logf("8k -> 48k -> 8k 1 kHz tone: SNR %.1f dB", snr)
	if snr < 40 {
		t.Errorf("round-trip SNR %.1f dB, want >= 40", snr)
	}
}

// TestResampleResponse pins the filter's documented quality: telephone band flat, aliases rejected.
func TestResampleResponse(t *testing.T) {
	gainDown := func(f float64) float64 {
		down, _ := NewResampler(ResamplerConfig{From: 48000, To: 8000})
		x := tone(48000, f, 48000, 10000)
		y := run(t, down, x, 960)[1000:]
		return 20 * math.Log10(rms(y)/rms(x)+1e-9)
	}
	for _, f := range []float64{300, 1000, 2000, 3000} {
		if g := gainDown(f); math.Abs(g) > 0.1 {
			t.Errorf("%v Hz passband gain %.2f dB", f, g)
		}
	}
	if g := gainDown(3400); g < -0.5 {
		t.Errorf("3400 Hz gain %.2f dB, want >= -0.5", g)
	}
	for _, f := range []float64{4400, 6000, 10000, 20000} {
		if g := gainDown(f); g > -70 {
			t.Errorf("%v Hz alias at %.1f dB, want <= -70", f, g)
		}
	}
	if testing.Verbose() {
		for _, f := range []float64{3200, 3400, 3600, 3800, 4000, 4200, 4400} {
			t.Logf("down %v Hz: %.1f dB", f, gainDown(f))
		}
	}
}

func TestResamplerConfig(t *testing.T) {
	for _, c := range []ResamplerConfig{{}, {From: 8000, To: 44100}, {From: -8000, To: 48000}} {
		if _, err := NewResampler(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	down, _ := NewResampler(ResamplerConfig{From: 48000, To: 8000})
	if _, err := down.Process(nil, make([]int16, 7)); err == nil {
		t.Error("downsampling 7 samples by 6: no error")
	}
}

func TestResampleAllocs(t *testing.T) {
	up, _ := NewResampler(ResamplerConfig{From: 8000, To: 48000})
	in, out := make([]int16, 160), make([]int16, 960)
	if n := testing.AllocsPerRun(100, func() { _, _ = up.Process(out, in) }); n != 0 {
		t.Errorf("Process allocates %v per frame", n)
	}
}

func BenchmarkResample8to48(b *testing.B) {
	up, _ := NewResampler(ResamplerConfig{From: 8000, To: 48000})
	in, out := tone(160, 1000, 8000, 10000), make([]int16, 960)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = up.Process(out, in)
	}
}

func BenchmarkResample48to8(b *testing.B) {
	down, _ := NewResampler(ResamplerConfig{From: 48000, To: 8000})
	in, out := tone(960, 1000, 48000, 10000), make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = down.Process(out, in)
	}
}
