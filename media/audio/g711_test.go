package audio

import (
	"math"
	"testing"
)

// The reference below is the widely used Sun Microsystems g711.c (public domain), transcribed
// literally (segment search over end-point tables) so it shares no code with the package's own
// bits.Len-based derivation of the tables.

var (
	refSegAEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
	refSegUEnd = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
)

func refSearch(v int, table [8]int) int {
	for i, e := range table {
		if v <= e {
			return i
		}
	}
	return 8
}

func refLinear2Alaw(pcm int) byte {
	pcm >>= 3
	var mask byte
	if pcm >= 0 {
		mask = 0xD5
	} else {
		mask = 0x55
		pcm = -pcm - 1
	}
	seg := refSearch(pcm, refSegAEnd)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte(pcm>>1) & 0x0F
	} else {
		a |= byte(pcm>>seg) & 0x0F
	}
	return a ^ mask
}

func refAlaw2Linear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func refLinear2Ulaw(pcm int) byte {
	pcm >>= 2
	var mask byte
	if pcm < 0 {
		pcm = -pcm
		mask = 0x7F
	} else {
		mask = 0xFF
	}
	if pcm > 8159 {
		pcm = 8159
	}
	pcm += 0x84 >> 2
	seg := refSearch(pcm, refSegUEnd)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return (byte(seg<<4) | byte(pcm>>(seg+1))&0x0F) ^ mask
}

func refUlaw2Linear(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + 0x84
	t <<= (int(u) & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func TestG711TablesMatchReference(t *testing.T) {
	for s := math.MinInt16; s <= math.MaxInt16; s++ {
		if got, want := LinearToULaw(int16(s)), refLinear2Ulaw(s); got != want {
			t.Fatalf("ulaw(%d) = %#x, reference %#x", s, got, want)
		}
		if got, want := LinearToALaw(int16(s)), refLinear2Alaw(s); got != want {
			t.Fatalf("alaw(%d) = %#x, reference %#x", s, got, want)
		}
	}
	for c := range 256 {
		if got, want := ULawToLinear(byte(c)), refUlaw2Linear(byte(c)); got != want {
			t.Fatalf("ulaw decode %#x = %d, reference %d", c, got, want)
		}
		if got, want := ALawToLinear(byte(c)), refAlaw2Linear(byte(c)); got != want {
			t.Fatalf("alaw decode %#x = %d, reference %d", c, got, want)
		}
	}
	// Anchors from G.711 itself: mu-law 0xFF is +0, 0x00 the negative peak; A-law 0xD5/0x55 are +-8.
	for _, c := range []struct {
		got, want int16
	}{{ULawToLinear(0xFF), 0}, {ULawToLinear(0x00), -32124}, {ULawToLinear(0x80), 32124},
		{ALawToLinear(0xD5), 8}, {ALawToLinear(0x55), -8}, {ALawToLinear(0xAA), 32256}} {
		if c.got != c.want {
			t.Errorf("anchor: got %d want %d", c.got, c.want)
		}
	}
}

func TestG711SineRoundTrip(t *testing.T) {
	x := tone(8000, 1000, 8000, 16000)
	codes := make([]byte, len(x))
	y := make([]int16, len(x))
	for _, law := range []struct {
		name string
		enc  func([]byte, []int16) []byte
		dec  func([]int16, []byte) []int16
	}{{"PCMU", EncodeULaw, DecodeULaw}, {"PCMA", EncodeALaw, DecodeALaw}} {
		law.dec(y, law.enc(codes, x))
		var sig, noise float64
		for i := range x {
			d := float64(y[i]) - float64(x[i])
			// The quantiser step around 16000 is 512 for both laws; the error stays within one step.
			if math.Abs(d) > 512 {
				t.Fatalf("%s: sample %d: %d -> %d", law.name, i, x[i], y[i])
			}
			sig += float64(x[i]) * float64(x[i])
			noise += d * d
		}
		// G.711 keeps roughly 37-47 dB SNR for a loud tone (a 4-bit mantissa in each of 8 segments).
		if snr := db(sig / noise); snr < 35 {
			t.Errorf("%s SNR %.1f dB, want >= 35", law.name, snr)
		} else {
			t.Logf("%s 1 kHz sine at -6 dBFS: SNR %.1f dB", law.name, snr)
		}
	}
}

func TestG711Allocs(t *testing.T) {
	pcm, codes := make([]int16, 160), make([]byte, 160)
	n := testing.AllocsPerRun(100, func() {
		EncodeULaw(codes, pcm)
		DecodeULaw(pcm, codes)
		EncodeALaw(codes, pcm)
		DecodeALaw(pcm, codes)
	})
	if n != 0 {
		t.Errorf("%v allocs per frame", n)
	}
}

// FuzzG711Decode: any bytes decode, and decoding is a fixed point of encode (decode(encode(decode(c)))
// == decode(c)), which is what lets a gateway re-encode a phone leg without drift.
func FuzzG711Decode(f *testing.F) {
	f.Add([]byte{0x00, 0x7F, 0x80, 0xFF, 0xD5, 0x55})
	f.Fuzz(func(t *testing.T, codes []byte) {
		pcm := DecodeULaw(nil, codes)
		again := DecodeULaw(nil, EncodeULaw(nil, pcm))
		for i := range pcm {
			if pcm[i] != again[i] {
				t.Fatalf("ulaw %#x: %d then %d", codes[i], pcm[i], again[i])
			}
		}
		pcm = DecodeALaw(nil, codes)
		if got := EncodeALaw(nil, pcm); string(got) != string(codes) {
			t.Fatalf("alaw does not round-trip: %x -> %x", codes, got)
		}
	})
}

func BenchmarkG711EncodeDecode(b *testing.B) {
	pcm, codes := tone(160, 1000, 8000, 10000), make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		EncodeULaw(codes, pcm)
		DecodeULaw(pcm, codes)
	}
}
