package vp8

import (
	"fmt"
	"math/rand"
	"syscall"
	"testing"
	"time"

	"github.com/contactcenter/vcc/media/frame"
)

// scene draws camera-like frames: a smooth gradient background, a textured block (a face, a
// document) that moves a little every frame, and light sensor noise. A still frame would cost
// almost nothing to encode, and pure noise far more than any real composite.
type scene struct {
	f     *frame.I420
	tex   []byte
	noise []byte
	rng   *rand.Rand
	n     int
}

func newScene(w, h int) *scene {
	f, _ := frame.NewI420(w, h)
	f.Fill(90, 120, 160)
	rng := rand.New(rand.NewSource(3))
	tex := make([]byte, (w/3)*(h/3))
	for i := range tex {
		tex[i] = byte(40 + (i%(w/3))/2 + rng.Intn(40))
	}
	noise := make([]byte, 1<<16)
	for i := range noise {
		noise[i] = byte(rng.Intn(5))
	}
	return &scene{f: f, tex: tex, noise: noise, rng: rng}
}

func (s *scene) next() *frame.I420 {
	s.n++
	f := s.f
	tw, th := f.Width/3, f.Height/3
	for y := 0; y < f.Height; y++ {
		row := f.Y[y*f.StrideY : y*f.StrideY+f.Width]
		nz := s.noise[(y*131+s.n*977)%(len(s.noise)-f.Width):]
		for x := range row {
			row[x] = byte(60+(x+y)/16) + nz[x]
		}
	}
	ox, oy := f.Width/3+(s.n*3)%(f.Width/4), f.Height/3+(s.n*2)%(f.Height/4)
	for y := 0; y < th; y++ {
		copy(f.Y[(oy+y)*f.StrideY+ox:], s.tex[y*tw:(y+1)*tw])
	}
	return f
}

func BenchmarkEncode720p(b *testing.B) {
	for _, c := range []struct {
		cpu    int
		active int // percent of the macroblock rows in the active map; 0: no map
	}{{-6, 0}, {-8, 0}, {-6, 50}} {
		name := fmt.Sprintf("cpu%d", c.cpu)
		if c.active > 0 {
			name += fmt.Sprintf("-active%d%%", c.active)
		}
		b.Run(name, func(b *testing.B) {
			enc, err := NewEncoder(Config{Width: 1280, Height: 720, FPS: 30, BitrateKbps: 1500, CPUUsed: c.cpu})
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			if c.active > 0 {
				cols, rows := enc.MacroblockGrid()
				m := make([]byte, cols*rows)
				for i := range m[:cols*(rows*c.active/100)] {
					m[i] = 1
				}
				if err := enc.SetActiveMap(m); err != nil {
					b.Fatal(err)
				}
			}
			src := newScene(1280, 720)
			frames := make([]*frame.I420, 30) // drawn up front: only the encode is timed
			for i := range frames {
				f := src.next()
				frames[i], _ = frame.NewI420(f.Width, f.Height)
				copy(frames[i].Y, f.Y)
				copy(frames[i].U, f.U)
				copy(frames[i].V, f.V)
			}
			buf := make([]byte, 0, 256<<10)
			var bytes int
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for i := 0; i < b.N; i++ {
				// Play the clip forwards then backwards so there is no jump back to frame 0.
				j := i % (2 * len(frames))
				if j >= len(frames) {
					j = 2*len(frames) - 1 - j
				}
				out, _, err := enc.Encode(frames[j], false, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(out)
			}
			report(b, start, cpu0)
			b.ReportMetric(float64(bytes)/float64(b.N), "B/frame")
		})
	}
}

func BenchmarkDecode640x480(b *testing.B) {
	enc, err := NewEncoder(Config{Width: 640, Height: 480, FPS: 30, BitrateKbps: 800, KeyframeInterval: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	src := newScene(640, 480)
	frames := make([][]byte, 60)
	for i := range frames {
		frames[i], _, _ = enc.Encode(src.next(), false, nil)
	}
	enc.Close()
	dec, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	out, _ := frame.NewI420(640, 480)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		// Loop the clip from its keyframe so every decode has valid references.
		if ok, err := dec.Decode(frames[i%len(frames)], out); !ok || err != nil {
			b.Fatalf("Decode = %v, %v", ok, err)
		}
	}
	report(b, start, cpu0)
}

// report adds wall-clock and process CPU milliseconds per frame. The CPU figure (getrusage, user +
// system) is the one to compare across runs on a shared machine: wall time there includes waiting
// for a core. The loops allocate nothing, so the CPU is the codec's.
func report(b *testing.B, start time.Time, cpu0 time.Duration) {
	n := float64(b.N)
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/n, "ms/frame")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/n, "cpu-ms/frame")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
