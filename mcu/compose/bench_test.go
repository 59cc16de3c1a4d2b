package compose

import "testing"

func benchCompose(b *testing.B, layout string) {
	c, err := New(Config{Width: 1280, Height: 720})
	if err != nil {
		b.Fatal(err)
	}
	dst := mustFrame(b, 1280, 720)
	tiles := solidTiles(b, layout, 3, 0, 1280, 720, [][2]int{{640, 480}})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Compose(dst, tiles); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/op")
}

// Three 640x480 cameras into a 1280x720 equal grid (2x2, one cell empty).
func BenchmarkComposeEqual3(b *testing.B) { benchCompose(b, LayoutEqual) }

// Three 640x480 cameras into 1280x720 with the first maximized (960x720 upscale + two 312x234).
func BenchmarkComposeMax3(b *testing.B) { benchCompose(b, LayoutMaxCustomer) }

func BenchmarkRenderPlate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderPlate("Customer +1 555 0100", 316, 236); err != nil {
			b.Fatal(err)
		}
	}
}
