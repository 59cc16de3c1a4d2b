package compose

import (
	"image"
	"image/color"
	"image/draw"

	"github.com/contactcenter/vcc/media/frame"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// RenderPlate draws a name plate: name (or a phone number) in white on a slate background, centred,
// as a w x h I420 frame for Tile.Plate. It uses x/image and converts pixel by pixel in Go, far too slow
// for every frame, so the caller renders a plate once per party and tile size and keeps it while the
// party has no video. basicfont's 7x13 glyphs are magnified by a whole factor (nearest neighbour,
// crisp edges) to about a sixth of the plate height; names too wide are cut with "..".
// basicfont covers ASCII only; other characters show as its replacement box.
func RenderPlate(name string, w, h int) (*frame.I420, error) {
	if w < 2 || h < 2 || w%2 != 0 || h%2 != 0 {
		return nil, ErrPlateSize
	}
	f, err := frame.NewI420(w, h)
	if err != nil {
		return nil, ErrPlateSize
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{45, 52, 64, 255}), image.Point{}, draw.Src)

	face := basicfont.Face7x13
	const glyphW, glyphH = 7, 13
	margin := w / 10
	scale := max(1, h/6/glyphH)
	for scale > 1 && glyphW*scale > (w-2*margin)/4 { // keep room for at least four characters
		scale--
	}
	text := fitText(name, (w-2*margin)/(glyphW*scale))
	if text != "" {
		line := image.NewRGBA(image.Rect(0, 0, glyphW*len(text), glyphH))
		d := font.Drawer{Dst: line, Src: image.White, Face: face, Dot: fixed.P(0, face.Ascent)}
		d.DrawString(text)
		magnify(img, line, scale, (w-line.Bounds().Dx()*scale)/2, (h-glyphH*scale)/2)
	}
	rgbaToI420(f, img)
	return f, nil
}

// fitText shortens s to at most n characters, marking a cut with "..".
func fitText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 2 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-2]) + ".."
}

// magnify copies the opaque (text) pixels of src into dst, each as a scale x scale block at (x0, y0).
func magnify(dst, src *image.RGBA, scale, x0, y0 int) {
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := src.RGBAAt(x, y)
			if c.A == 0 {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					dst.SetRGBA(x0+x*scale+dx, y0+y*scale+dy, c)
				}
			}
		}
	}
}

// rgbaToI420 converts img (the frame's size, opaque) with the BT.601 coefficients frame.At inverts;
// chroma is the average of each 2x2 block's colour.
func rgbaToI420(f *frame.I420, img *image.RGBA) {
	for y := 0; y < f.Height; y++ {
		for x := 0; x < f.Width; x++ {
			c := img.RGBAAt(x, y)
			f.Y[y*f.StrideY+x], _, _ = frame.RGBToYUV(c.R, c.G, c.B)
		}
	}
	cw, ch := f.ChromaSize()
	for cy := 0; cy < ch; cy++ {
		for cx := 0; cx < cw; cx++ {
			var r, g, b int
			for _, p := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				c := img.RGBAAt(min(2*cx+p[0], f.Width-1), min(2*cy+p[1], f.Height-1))
				r, g, b = r+int(c.R), g+int(c.G), b+int(c.B)
			}
			_, u, v := frame.RGBToYUV(uint8(r/4), uint8(g/4), uint8(b/4))
			f.U[cy*f.StrideU+cx], f.V[cy*f.StrideV+cx] = u, v
		}
	}
}
