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

// roundTripDelayCheck says how far back, shifted by d samples, is from in (relative rms error of the
// first 50 ms after the filters' start): small only at the true delay, not at another period.
func roundTripDelayCheck(back []int16, d float64) float64 {
	start := int(math.Ceil(d))
	var e, p float64
	for i := start; i < start+400 && i < len(back); i++ {
		// in is a pure tone: interpolate it at i-d exactly.
		want := 10000 * math.Sin(2*math.Pi*1000*(float64(i)-d)/8000)
		e += (float64(back[i]) - want) * (float64(back[i]) - want)
		p += want * want
	}
	return math.Sqrt(e / p)
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
	// Whatever the filters' delay, the result must be the tone itself: fit a*sin + b*cos of 1 kHz
	// (least squares), and what is left is the filters' ripple, aliasing and rounding.
	var ss, cc, sc, ys, yc float64
	for i := 800; i < len(back); i++ {
		w := 2 * math.Pi * 1000 * float64(i) / 8000
		sn, cs, y := math.Sin(w), math.Cos(w), float64(back[i])
		ss, cc, sc, ys, yc = ss+sn*sn, cc+cs*cs, sc+sn*cs, ys+y*sn, yc+y*cs
	}
	det := ss*cc - sc*sc
	a, b := (ys*cc-yc*sc)/det, (yc*ss-ys*sc)/det
	var errPow, sigPow float64
	for i := 800; i < len(back); i++ {
		w := 2 * math.Pi * 1000 * float64(i) / 8000
		fit := a*math.Sin(w) + b*math.Cos(w)
		errPow += (float64(back[i]) - fit) * (float64(back[i]) - fit)
		sigPow += fit * fit
	}
	snr := db(sigPow / errPow)
	// The round trip's delay, from the fitted phase (the tone's period is 8 samples): under 5 ms.
	delay := math.Mod(-math.Atan2(b, a)/(2*math.Pi)*8+8, 8)
	for d := delay; d < 40; d += 8 {
		delay = d
		if rms := roundTripDelayCheck(back, d); rms < 0.1 {
			break
		}
	}
	t.Logf("round trip delay %.2f samples at 8 kHz (%.2f ms)", delay, delay/8)
	if delay > 40 {
		t.Errorf("round trip delay %.1f samples at 8 kHz, want under 5 ms", delay)
	}
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
	for _, f := range []float64{4400, 6000, 10000, 11800, 12000, 12300, 20000} { // 11.6-12.4 kHz fold onto 3.6-4.4 kHz at 16 kHz
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

// Upsampling a phone's 3 kHz tone must not add its images (5, 11, 13, 19 kHz at 48 kHz): a
// browser listening to the mix would hear them.
func TestResampleUpImages(t *testing.T) {
	up, _ := NewResampler(ResamplerConfig{From: 8000, To: 48000})
	hi := run(t, up, tone(8000, 3000, 8000, 10000), 160)[4800:]
	sig := goertzel(hi, 3000, 48000)
	for _, f := range []float64{5000, 11000, 13000, 19000, 21000} {
		if r := db(goertzel(hi, f, 48000) / sig); r > -65 {
			t.Errorf("image at %v Hz: %.1f dB below the tone, want 65 or more", f, -r)
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
