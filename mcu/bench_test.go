package mcu

import (
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
// tiles with libyuv and encode once with libvpx. At 30 fps, ns/op x 30 / 1e9 is the share of a core
// one picture in use costs.
func BenchmarkPictureFrame(b *testing.B) {
	for _, layout := range []string{call.LayoutEqual, call.LayoutMaxCustomer} {
		b.Run(layout, func(b *testing.B) {
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
			if err := c.out.AddSink(nopSink{}); err != nil {
				b.Fatal(err)
			}
			for i := range c.srcs {
				in := &videoIn{front: &frame.I420{}}
				if err := in.front.Resize(640, 480); err != nil {
					b.Fatal(err)
				}
				in.front.Fill(uint8(80*i), 120, 200)
				in.seq.Store(1)
				c.srcs[i], c.plates[i] = in, nil
			}
			start := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				for i, in := range c.srcs {
					// Move a bar so the encoder has motion to code, as with real cameras.
					in.front.Y[(n*8+i*40)%(640*480)] ^= 0xff
					in.seq.Add(1)
				}
				if err := c.frame(start.Add(time.Duration(n)*33*time.Millisecond), start, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
