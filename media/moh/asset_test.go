package moh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

// oggPage is one page for buildOgg: its packets, granule position and flags. A packet may be split
// across pages by giving its head (a multiple of 255 bytes) as the last packet of a page with open
// set, and its tail as the first packet of the next page with the continued flag.
type oggPage struct {
	packets [][]byte
	granule int64
	flags   byte
	open    bool // the last packet continues on the next page
}

// buildOgg writes an Ogg stream (RFC 3533) with valid CRCs.
func buildOgg(serial uint32, pages []oggPage) []byte {
	var out bytes.Buffer
	for i, p := range pages {
		var lacing, body []byte
		for j, pkt := range p.packets {
			n := len(pkt)
			for ; n >= 255; n -= 255 {
				lacing = append(lacing, 255)
			}
			if !(p.open && j == len(p.packets)-1) {
				lacing = append(lacing, byte(n))
			}
			body = append(body, pkt...)
		}
		hdr := make([]byte, 27)
		copy(hdr, "OggS")
		hdr[5] = p.flags
		binary.LittleEndian.PutUint64(hdr[6:], uint64(p.granule))
		binary.LittleEndian.PutUint32(hdr[14:], serial)
		binary.LittleEndian.PutUint32(hdr[18:], uint32(i))
		hdr[26] = byte(len(lacing))
		page := append(append(hdr, lacing...), body...)
		binary.LittleEndian.PutUint32(page[22:], oggCRC(page))
		out.Write(page)
	}
	return out.Bytes()
}

func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, v := range b {
		crc ^= uint32(v) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func opusHead(channels byte, preSkip uint16, family byte) []byte {
	h := []byte("OpusHead")
	h = append(h, 1, channels)
	h = binary.LittleEndian.AppendUint16(h, preSkip)
	h = binary.LittleEndian.AppendUint32(h, 48000)
	h = append(h, 0, 0, family)
	if family != 0 {
		h = append(h, 1, 0) // stream count, coupled count
		for i := range channels {
			h = append(h, i)
		}
	}
	return h
}

var opusTags = []byte("OpusTags\x04\x00\x00\x00test\x00\x00\x00\x00")

// celt20 is a fake 20 ms CELT packet (TOC config 31, one frame) of n bytes marked with id.
func celt20(id byte, n int) []byte {
	p := bytes.Repeat([]byte{id}, n)
	p[0] = 31<<3 | 0
	return p
}

// testOgg is a small valid stream of n 20 ms packets, several per page.
func testOgg(n int) []byte {
	pages := []oggPage{{packets: [][]byte{opusHead(1, 0, 0)}, flags: pageBOS}, {packets: [][]byte{opusTags}}}
	var g int64
	for i := 0; i < n; i += 3 {
		var pkts [][]byte
		for j := i; j < min(i+3, n); j++ {
			pkts = append(pkts, celt20(byte(j), 20+j))
			g += 960
		}
		pages = append(pages, oggPage{packets: pkts, granule: g})
	}
	pages[len(pages)-1].flags |= 0x04
	return buildOgg(7, pages)
}

func TestEmbeddedAssetParses(t *testing.T) {
	a, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() <= 100 {
		t.Fatalf("only %d packets", a.Len())
	}
	if a.Channels() != 1 || a.Duration() != 16*time.Second {
		t.Fatalf("channels %d duration %v", a.Channels(), a.Duration())
	}
	for i, p := range a.Packets() {
		n, err := packetSamples(p)
		if err != nil || n != 960 {
			t.Fatalf("packet %d: %d samples, %v", i, n, err)
		}
		// opusenc --music at 32 kbit/s mono: CELT (configs 16-31) 20 ms frames (config%4 == 3),
		// the mono bit clear, one frame per packet (code 0). libopus 1.3 picks super-wideband.
		if toc := p[0]; toc>>3 < 16 || toc>>3&3 != 3 || toc&0x04 != 0 || toc&3 != 0 {
			t.Fatalf("packet %d: implausible TOC %#02x", i, toc)
		}
		if len(p) < 20 || len(p) > 200 {
			t.Fatalf("packet %d: %d bytes at 32 kbit/s", i, len(p))
		}
	}
}

func TestPacketsReturnsCopies(t *testing.T) {
	a, err := ReadOgg(bytes.NewReader(testOgg(4)))
	if err != nil {
		t.Fatal(err)
	}
	a.Packets()[1][1] = 0xee
	if got := a.Packets()[1]; got[1] != 1 || len(got) != 21 {
		t.Fatalf("asset changed through Packets: %v", got)
	}
}

func TestReadOggLacingAndContinuation(t *testing.T) {
	big := celt20(9, 600) // three segments: 255, 255, 90
	span := celt20(8, 300)
	head, tail := span[:255], span[255:] // a packet can only break across pages after a 255 segment
	data := buildOgg(1, []oggPage{
		{packets: [][]byte{opusHead(2, 0, 0)}, flags: pageBOS},
		{packets: [][]byte{opusTags}},
		{packets: [][]byte{celt20(1, 10), big, head}, granule: 1920, open: true},
		{packets: [][]byte{tail, celt20(2, 255)}, granule: 3840, flags: pageContinued | 0x04},
	})
	a, err := ReadOgg(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{celt20(1, 10), big, span, celt20(2, 255)}
	got := a.Packets()
	if len(got) != len(want) || a.Channels() != 2 {
		t.Fatalf("%d packets, %d channels", len(got), a.Channels())
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("packet %d: %d bytes, want %d", i, len(got[i]), len(want[i]))
		}
	}
}

func TestReadOggGranulePositions(t *testing.T) {
	pkts := func(ids ...byte) [][]byte {
		var out [][]byte
		for _, id := range ids {
			out = append(out, celt20(id, 30))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		preSkip uint16
		pages   []oggPage
		want    []byte // ids of the packets kept
	}{
		{"plain", 312, []oggPage{{packets: pkts(1, 2, 3), granule: 2880}}, []byte{1, 2, 3}},
		// 2000 samples of pre-skip cover the first two packets entirely, the third in part
		{"pre-skip", 2000, []oggPage{{packets: pkts(1, 2, 3, 4), granule: 3840}}, []byte{3, 4}},
		// the last page ends 1.5 packets early: the whole packet goes, the half stays
		{"end trim", 0, []oggPage{{packets: pkts(1, 2), granule: 1920}, {packets: pkts(3, 4, 5), granule: 3840 - 480}}, []byte{1, 2, 3, 4}},
		// a stream starting at a later position (cut from a live stream) is not trimmed by that
		{"start offset", 0, []oggPage{{packets: pkts(1, 2), granule: 48000 + 1920}, {packets: pkts(3), granule: 48000 + 2880}}, []byte{1, 2, 3}},
		// a page on which no packet ends carries granule -1
		{"no packet ends", 0, []oggPage{{packets: pkts(1), granule: 960}, {packets: [][]byte{celt20(2, 300)[:255]}, granule: -1, open: true}, {packets: [][]byte{celt20(2, 300)[255:]}, granule: 1920, flags: pageContinued}}, []byte{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages := append([]oggPage{{packets: [][]byte{opusHead(1, tc.preSkip, 0)}, flags: pageBOS}, {packets: [][]byte{opusTags}}}, tc.pages...)
			a, err := ReadOgg(bytes.NewReader(buildOgg(3, pages)))
			if err != nil {
				t.Fatal(err)
			}
			var ids []byte
			for _, p := range a.Packets() {
				ids = append(ids, p[1])
			}
			if !bytes.Equal(ids, tc.want) {
				t.Fatalf("kept %v, want %v", ids, tc.want)
			}
		})
	}
}

func TestReadOggIgnoresOtherStreams(t *testing.T) {
	ours := []oggPage{{packets: [][]byte{opusHead(1, 0, 0)}, flags: pageBOS}, {packets: [][]byte{opusTags}}, {packets: [][]byte{celt20(1, 10)}, granule: 960}}
	data := buildOgg(1, ours)
	data = append(data, buildOgg(2, []oggPage{{packets: [][]byte{[]byte("other")}, granule: 5}})...)
	a, err := ReadOgg(bytes.NewReader(data))
	if err != nil || a.Len() != 1 {
		t.Fatalf("len %v err %v", a, err)
	}
}

func TestReadOggRejects(t *testing.T) {
	good := testOgg(6)
	head := func(h []byte) []byte {
		return buildOgg(1, []oggPage{{packets: [][]byte{h}, flags: pageBOS}, {packets: [][]byte{opusTags}}, {packets: [][]byte{celt20(1, 9)}, granule: 960}})
	}
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)-1] ^= 0xff
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrInvalid},
		{"garbage", []byte(strings.Repeat("not an ogg file ", 10)), ErrInvalid},
		{"truncated", good[:len(good)-5], ErrInvalid},
		{"checksum", corrupt, ErrInvalid},
		{"not opus", head([]byte("OpusHeaX\x01\x01\x00\x00\x80\xbb\x00\x00\x00\x00\x00")), ErrInvalid},
		{"surround", head(opusHead(6, 0, 1)), ErrUnsupported},
		{"headers only", buildOgg(1, []oggPage{{packets: [][]byte{opusHead(1, 0, 0)}, flags: pageBOS}, {packets: [][]byte{opusTags}}}), ErrNoAudio},
		{"no tags", buildOgg(1, []oggPage{{packets: [][]byte{opusHead(1, 0, 0)}, flags: pageBOS}, {packets: [][]byte{celt20(1, 9)}, granule: 960}}), ErrInvalid},
		{"empty packet", buildOgg(1, []oggPage{{packets: [][]byte{opusHead(1, 0, 0)}, flags: pageBOS}, {packets: [][]byte{opusTags}}, {packets: [][]byte{{}}, granule: 0}}), ErrInvalid},
		{"granule backwards", buildOgg(1, []oggPage{{packets: [][]byte{opusHead(1, 0, 0)}, flags: pageBOS}, {packets: [][]byte{opusTags}}, {packets: [][]byte{celt20(1, 9)}, granule: 1920}, {packets: [][]byte{celt20(2, 9)}, granule: 960}}), ErrInvalid},
		{"negative start", buildOgg(1, []oggPage{{packets: [][]byte{opusHead(1, 0, 0)}, flags: pageBOS}, {packets: [][]byte{opusTags}}, {packets: [][]byte{celt20(1, 9), celt20(2, 9)}, granule: 960}}), ErrInvalid},
		{"ends inside packet", buildOgg(1, []oggPage{{packets: [][]byte{opusHead(1, 0, 0)}, flags: pageBOS}, {packets: [][]byte{opusTags}}, {packets: [][]byte{celt20(1, 300)[:255]}, granule: -1, open: true}}), ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadOgg(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ReadOgg(nil); !errors.Is(err, ErrNil) {
		t.Fatalf("nil reader: %v", err)
	}
}

func TestPacketSamples(t *testing.T) {
	for _, tc := range []struct {
		pkt  []byte
		want int // 0: rejected
	}{
		{[]byte{0 << 3}, 480},        // SILK NB 10 ms
		{[]byte{3 << 3}, 2880},       // SILK NB 60 ms
		{[]byte{13 << 3}, 960},       // hybrid 20 ms
		{[]byte{16 << 3}, 120},       // CELT 2.5 ms
		{[]byte{31<<3 | 1, 0}, 1920}, // two frames
		{[]byte{31<<3 | 3, 6}, 5760}, // six 20 ms frames: 120 ms
		{[]byte{31<<3 | 3, 7}, 0},    // 140 ms
		{[]byte{31<<3 | 3, 0}, 0},    // zero frames
		{[]byte{31<<3 | 3}, 0},       // missing frame count
		{[]byte{3<<3 | 3, 0x43}, 0},  // 3 x 60 ms
		{[]byte{}, 0},
	} {
		got, err := packetSamples(tc.pkt)
		if got != tc.want || (err != nil) != (tc.want == 0) {
			t.Errorf("%x: %d, %v; want %d", tc.pkt, got, err, tc.want)
		}
	}
}

// FuzzReadOgg checks that no input makes the parser panic or return an asset that playback could
// index out of range.
func FuzzReadOgg(f *testing.F) {
	f.Add(testOgg(5))
	f.Add([]byte(holdOpus)[:4096])
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ReadOgg(bytes.NewReader(data))
		if err != nil {
			return
		}
		if a.Len() == 0 || len(a.durs) != a.Len() || a.samples <= 0 {
			t.Fatalf("asset with %d packets, %d samples", a.Len(), a.samples)
		}
		for i := range a.Len() {
			if len(a.packet(i)) > a.maxLen {
				t.Fatalf("packet %d longer than maxLen", i)
			}
		}
	})
}
