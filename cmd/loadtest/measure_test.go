package main

import (
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/contactcenter/vcc/cmd/app"
)

// The histogram's percentiles must stay within its stated precision of the exact ones.
func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	var vals []int64
	for range 100000 {
		v := int64(rand.ExpFloat64() * 300e3) // ~300 us mean, ns
		vals = append(vals, v)
		h.add(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.95, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)-1))]
		got := h.quantile(q)
		if got < exact || float64(got) > float64(exact)*1.032+1 {
			t.Errorf("q%.3f = %d; exact %d", q, got, exact)
		}
	}
	if h.quantile(1) != vals[len(vals)-1] || h.max != vals[len(vals)-1] {
		t.Errorf("max %d / q1 %d; want %d", h.max, h.quantile(1), vals[len(vals)-1])
	}
	for i := range hBuckets - 1 {
		if hIndex(hUpper(i)) != i || hIndex(hUpper(i)+1) != i+1 {
			t.Fatalf("bucket %d: upper %d maps to %d", i, hUpper(i), hIndex(hUpper(i)))
		}
	}
}

func TestProcCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	for x := 0; x < 1<<27; x++ { // burn some CPU so the tick counters move
		_ = x * x
	}
	if s, err := procCPU(os.Getpid()); err != nil || s <= 0 {
		t.Fatalf("procCPU = %v, %v", s, err)
	}
}

func TestDemoSecretMatchesServer(t *testing.T) {
	if demoSecret != app.DemoSecret {
		t.Fatal("demoSecret differs from app.DemoSecret: update it")
	}
}
