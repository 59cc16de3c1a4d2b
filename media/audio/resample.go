package audio

import (
	"fmt"
	"math"
)

// Resampler converts mono PCM between two rates whose ratio is an integer (8 kHz <-> 48 kHz for a
// phone leg, 16 kHz <-> 48 kHz for wideband), so a G.711 leg plugs into the 48 kHz mixer.
//
// Quality: a polyphase FIR, 32 taps per phase (192 taps for 8 <-> 48 kHz), windowed sinc with a Kaiser
// window (beta 7), cutoff at 0.47 of the lower rate (3.76 kHz for 8 kHz). Measured 48 -> 8 kHz
// (TestResampleResponse): flat to 3.2 kHz, -0.3 dB at 3.4 kHz (the telephone band is 300-3400 Hz),
// -7 dB at 3.8 kHz, and tones at 4.4 kHz and above, which would alias, down by 70 dB or more; the
// 8 -> 48 kHz images are rejected by the same filter. A 1 kHz tone survives 8 -> 48 -> 8 kHz with an
// SNR above 40 dB. Delay is 95.5 samples at 48 kHz (2 ms) each way; the round trip delays by exactly
// tapsPerPhase-1 = 31 samples at 8 kHz (3.9 ms). Cost: about 30k multiply-adds per 20 ms frame each way.
// Coefficients are Q15 fixed point with 64-bit accumulators; output is rounded and saturated.
//
// A Resampler keeps the tail of the previous frame, so feed it one stream's consecutive frames from
// one goroutine; Reset it when the stream restarts.
type Resampler struct {
	from, to int
	ratio    int  // to/from when up, from/to when down
	up       bool // interpolating (to > from)
	taps     int  // taps per phase (up) or in all (down)
	// coef holds each phase's taps oldest-input first (up: phase p at coef[p*taps:]), so the inner
	// loop walks input and coefficients forward together and the compiler drops its bounds checks.
	coef []int32
	hist []int16 // the last taps-1 input samples followed by the current frame
	keep int     // how many history samples carry over between frames
}

// ResamplerConfig configures NewResampler.
type ResamplerConfig struct {
	From, To int // input and output rates in Hz; one must divide the other
}

const tapsPerPhase = 32

// NewResampler returns a mono resampler from cfg.From to cfg.To.
func NewResampler(cfg ResamplerConfig) (*Resampler, error) {
	if cfg.From <= 0 || cfg.To <= 0 {
		return nil, fmt.Errorf("%w: resample %d -> %d Hz", ErrConfig, cfg.From, cfg.To)
	}
	r := &Resampler{from: cfg.From, to: cfg.To}
	low, high := cfg.From, cfg.To
	r.up = cfg.To > cfg.From
	if !r.up {
		low, high = cfg.To, cfg.From
	}
	if high%low != 0 {
		return nil, fmt.Errorf("%w: resample %d -> %d Hz is not an integer ratio", ErrConfig, cfg.From, cfg.To)
	}
	r.ratio = high / low
	n := tapsPerPhase * r.ratio
	h := lowpass(n, 0.47*float64(low)/float64(high), 7)
	gain := 1.0
	if r.up {
		gain = float64(r.ratio) // zero-stuffing divides the level by the ratio; the filter restores it
	}
	r.coef = make([]int32, n)
	if r.up {
		// Phase p, tap k is h[k*ratio+p]: output sample m*ratio+p is sum_k h[k*ratio+p]*x[m-k].
		r.taps = tapsPerPhase
		for p := 0; p < r.ratio; p++ {
			for k := 0; k < r.taps; k++ {
				r.coef[p*r.taps+r.taps-1-k] = int32(math.Round(h[k*r.ratio+p] * gain * (1 << 15)))
			}
		}
	} else {
		r.taps = n
		for k := range n {
			r.coef[n-1-k] = int32(math.Round(h[k] * gain * (1 << 15)))
		}
	}
	r.keep = r.taps - 1
	r.hist = make([]int16, r.keep, r.keep+960*r.ratio)
	return r, nil
}

// lowpass designs an n-tap Kaiser-windowed sinc with cutoff fc (fraction of the sample rate),
// normalised to unit DC gain.
func lowpass(n int, fc, beta float64) []float64 {
	h := make([]float64, n)
	mid := float64(n-1) / 2
	sum := 0.0
	for i := range h {
		x := float64(i) - mid
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := bessel0(beta*math.Sqrt(1-(2*x/float64(n-1))*(2*x/float64(n-1)))) / bessel0(beta)
		h[i] = s * w
		sum += h[i]
	}
	for i := range h {
		h[i] /= sum
	}
	return h
}

// bessel0 is the zeroth-order modified Bessel function of the first kind, by its power series.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < 1e-12*sum {
			break
		}
	}
	return sum
}

// OutLen is the number of output samples Process writes for n input samples.
func (r *Resampler) OutLen(n int) int {
	if r.up {
		return n * r.ratio
	}
	return n / r.ratio
}

// Process resamples in into out and returns out[:OutLen(len(in))]. When downsampling, len(in) must
// be a multiple of the ratio (a 20 ms frame always is). out is grown if too small, which allocates;
// pass one of OutLen(len(in)) to keep the call allocation-free.
func (r *Resampler) Process(out, in []int16) ([]int16, error) {
	if !r.up && len(in)%r.ratio != 0 {
		return nil, fmt.Errorf("%w: %d samples to downsample by %d", ErrFrameSize, len(in), r.ratio)
	}
	out = fit(out, r.OutLen(len(in)))
	r.hist = append(r.hist[:r.keep], in...)
	x := r.hist
	if r.up {
		for m := range in {
			win := x[m : m+r.taps] // win[taps-1] is in[m], win[0] the oldest
			for p := 0; p < r.ratio; p++ {
				out[m*r.ratio+p] = sat16(dot(r.coef[p*r.taps:p*r.taps+r.taps], win))
			}
		}
	} else {
		c := r.coef
		for m := range out {
			end := m*r.ratio + r.ratio - 1 + r.keep // index in x of the newest input for output m
			out[m] = sat16(dot(c, x[end+1-r.taps:end+1]))
		}
	}
	copy(r.hist, r.hist[len(r.hist)-r.keep:])
	r.hist = r.hist[:r.keep]
	return out, nil
}

// dot is the filter's inner loop: a Q15 dot product, rounded. Four accumulators break the add
// dependency chain; int64 because a full-scale input against 192 taps can pass 2^31.
func dot(c []int32, x []int16) int64 {
	x = x[:len(c)]
	var a0, a1, a2, a3 int64
	i := 0
	for ; i+4 <= len(c); i += 4 {
		a0 += int64(c[i]) * int64(x[i])
		a1 += int64(c[i+1]) * int64(x[i+1])
		a2 += int64(c[i+2]) * int64(x[i+2])
		a3 += int64(c[i+3]) * int64(x[i+3])
	}
	for ; i < len(c); i++ {
		a0 += int64(c[i]) * int64(x[i])
	}
	return (a0 + a1 + a2 + a3 + 1<<14) >> 15
}

// Reset forgets the previous frames, as at the start of a new stream.
func (r *Resampler) Reset() { clear(r.hist[:r.keep]) }

func sat16(v int64) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
