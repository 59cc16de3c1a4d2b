package mcu

import (
	"math/rand"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/mcu/compose"
	"github.com/contactcenter/vcc/media/frame"
)

type nopSink struct{}

func (nopSink) WriteRTP(*rtp.Header, []byte) error { return nil }

// BenchmarkPictureFrame is one composite frame of a 3-party 720p picture: compose three 640x480
// camera tiles with libyuv and encode once with libvpx. At 30 fps, ns/op x 30 / 1e9 is the share
// of a core one picture in use costs. The cameras change everywhere every frame, as decoded video
// does (a bar sweeping over a flat picture, plus the requantisation noise of a decoded stream).
// "all" codes every macroblock, as before the active map: the difference is what the map saves.
func BenchmarkPictureFrame(b *testing.B) {
	const loop = 30
	var clips [3][loop]*frame.I420
	rng := rand.New(rand.NewSource(1))
	for i := range clips {
		for k := range clips[i] {
			f, _ := frame.NewI420(640, 480)
			f.Fill(uint8(60*i+40), 120, 200)
			for y := range 480 {
				row := f.Y[y*f.StrideY : y*f.StrideY+640]
				for x := range row {
					row[x] += uint8(rng.Intn(3))
				}
				for x := (k * 20) % 600; x < (k*20)%600+40; x++ {
					row[x] = 230
				}
			}
			clips[i][k] = f
		}
	}
	for _, layout := range []string{call.LayoutEqual, call.LayoutMaxCustomer} {
		for _, all := range []bool{false, true} {
			name := layout
			if all {
				name += "/all"
			}
			b.Run(name, func(b *testing.B) {
				r := &Room{cfg: Config{Width: 1280, Height: 720, FPS: 30, BitrateKbps: 1500}, plates: map[string]*frame.I420{}}
				cfg, _ := r.cfg.withDefaults()
				r.cfg = cfg
				var err error
				if r.comp, err = compose.New(compose.Config{Width: cfg.Width, Height: cfg.Height}); err != nil {
					b.Fatal(err)
				}
				pic := call.Picture{Layout: layout, Big: -1}
				if layout != call.LayoutEqual {
					pic.Big = 0
				}
				for _, id := range []call.PartyID{"a", "b", "c"} {
					pic.Tiles = append(pic.Tiles, call.Tile{Party: id, Name: string(id), Video: true})
				}
				c, err := newComposite("bench", pic, cfg, r.comp, r)
				if err != nil {
					b.Fatal(err)
				}
				defer c.close()
				c.codeAll = all
				if err := c.out.AddSink(nopSink{}); err != nil {
					b.Fatal(err)
				}
				for i := range c.srcs {
					c.srcs[i], c.plates[i] = &videoIn{front: clips[i][0]}, nil
				}
				start := time.Now()
				b.ReportAllocs()
				b.ResetTimer()
				for n := 0; n < b.N; n++ {
					for i, in := range c.srcs {
						in.front = clips[i][n%loop]
						in.seq.Add(1)
					}
					if err := c.frame(start.Add(time.Duration(n)*33*time.Millisecond), start, ""); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(c.activeMBs)/float64(b.N)/float64(len(c.active))*100, "%searched")
			})
		}
	}
}
