package audio

import "math"

// goertzel returns the power of frequency f in x sampled at rate, normalised by len(x)^2 so the
// figure is comparable between windows of different length.
func goertzel(x []int16, f, rate float64) float64 {
	w := 2 * math.Pi * f / rate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return p / float64(len(x)*len(x))
}

func tone(n int, f, rate, amp float64) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/rate)))
	}
	return x
}

// zeroCrossFreq estimates a tone's frequency from its rising zero crossings, interpolated.
func zeroCrossFreq(x []int16, rate float64) float64 {
	var first, last float64
	n := 0
	for i := 1; i < len(x); i++ {
		if x[i-1] < 0 && x[i] >= 0 {
			t := float64(i-1) + float64(-x[i-1])/float64(int(x[i])-int(x[i-1]))
			if n == 0 {
				first = t
			}
			last = t
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) * rate / (last - first)
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func db(ratio float64) float64 { return 10 * math.Log10(ratio) }
