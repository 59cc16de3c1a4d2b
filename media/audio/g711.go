package audio

import "math/bits"

// G.711 (ITU-T G.711, 1988) companding for phone legs: PCMU (mu-law, North America/Japan) and PCMA
// (A-law, elsewhere). One byte per sample at 8 kHz, so a 20 ms RTP packet is 160 bytes.
//
// Encoding is a lookup in a table indexed by the top 14 (mu-law) or 13 (A-law) bits of the sample,
// which is exactly the precision the standard quantises from; decoding is a 256-entry lookup. The
// tables are built once per process from the segment formulas below and never written again.

var (
	ulawEncTable = buildUlawEnc() // index: (uint16(s) >> 2), the 14-bit two's complement sample
	alawEncTable = buildAlawEnc() // index: (uint16(s) >> 3), the 13-bit two's complement sample
	ulawDecTable = buildUlawDec()
	alawDecTable = buildAlawDec()
)

// EncodeULaw companders pcm into dst (one byte per sample) and returns dst[:len(pcm)]; dst needs
// len(pcm) capacity (it is grown otherwise, which allocates).
func EncodeULaw(dst []byte, pcm []int16) []byte {
	dst = fit(dst, len(pcm))
	for i, s := range pcm {
		dst[i] = ulawEncTable[uint16(s)>>2]
	}
	return dst
}

// EncodeALaw is EncodeULaw for A-law.
func EncodeALaw(dst []byte, pcm []int16) []byte {
	dst = fit(dst, len(pcm))
	for i, s := range pcm {
		dst[i] = alawEncTable[uint16(s)>>3]
	}
	return dst
}

// DecodeULaw expands mu-law codes into dst and returns dst[:len(codes)]; every byte is a valid code.
func DecodeULaw(dst []int16, codes []byte) []int16 {
	dst = fit(dst, len(codes))
	for i, c := range codes {
		dst[i] = ulawDecTable[c]
	}
	return dst
}

// DecodeALaw is DecodeULaw for A-law.
func DecodeALaw(dst []int16, codes []byte) []int16 {
	dst = fit(dst, len(codes))
	for i, c := range codes {
		dst[i] = alawDecTable[c]
	}
	return dst
}

// ULawToLinear and friends convert one sample; the slice forms above are what the hot path uses.
func ULawToLinear(c byte) int16 { return ulawDecTable[c] }
func ALawToLinear(c byte) int16 { return alawDecTable[c] }
func LinearToULaw(s int16) byte { return ulawEncTable[uint16(s)>>2] }
func LinearToALaw(s int16) byte { return alawEncTable[uint16(s)>>3] }

func fit[T any](dst []T, n int) []T {
	if cap(dst) < n {
		return make([]T, n)
	}
	return dst[:n]
}

const (
	ulawBias = 0x84 >> 2 // 33: the mu-law bias at 14-bit precision
	ulawClip = 8159      // largest 14-bit magnitude before the bias (G.711 table 2)
)

// ulawEncode14 companders a 14-bit sample (-8192..8191). The segment is the position of the top set
// bit of the biased magnitude, found with bits.Len rather than a search so it reads as the standard's
// "number of leading zeros" description.
func ulawEncode14(v int) byte {
	mask := byte(0xFF)
	if v < 0 {
		v, mask = -v, 0x7F
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias // 33..8192
	seg := bits.Len(uint(v)) - 6
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return (byte(seg<<4) | byte(v>>(seg+1))&0x0F) ^ mask
}

// alawEncode13 companders a 13-bit sample (-4096..4095).
func alawEncode13(v int) byte {
	mask := byte(0xD5)
	if v < 0 {
		v, mask = -v-1, 0x55
	}
	seg := max(bits.Len(uint(v))-5, 0)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	shift := max(seg, 1)
	return (byte(seg<<4) | byte(v>>shift)&0x0F) ^ mask
}

func buildUlawEnc() *[1 << 14]byte {
	var t [1 << 14]byte
	for i := range t {
		t[i] = ulawEncode14(int(int16(uint16(i)<<2)) >> 2)
	}
	return &t
}

func buildAlawEnc() *[1 << 13]byte {
	var t [1 << 13]byte
	for i := range t {
		t[i] = alawEncode13(int(int16(uint16(i)<<3)) >> 3)
	}
	return &t
}

func buildUlawDec() *[256]int16 {
	var t [256]int16
	for i := range t {
		u := ^byte(i)
		m := (int(u&0x0F)<<3 + 0x84) << ((u >> 4) & 7)
		if u&0x80 != 0 {
			t[i] = int16(0x84 - m)
		} else {
			t[i] = int16(m - 0x84)
		}
	}
	return &t
}

func buildAlawDec() *[256]int16 {
	var t [256]int16
	for i := range t {
		a := byte(i) ^ 0x55
		m := int(a&0x0F)<<4 + 8
		if seg := (a >> 4) & 7; seg > 0 {
			m = (m + 0x100) << (seg - 1)
		}
		if a&0x80 != 0 {
			t[i] = int16(m)
		} else {
			t[i] = int16(-m)
		}
	}
	return &t
}
