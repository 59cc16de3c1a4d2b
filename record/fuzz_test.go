package record

import (
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzSink feeds arbitrary RTP packets (headers, timestamps, payloads: untrusted bytes off the
// wire) to a file's video and audio sinks. Nothing may panic, Close must succeed, and the file must
// read back with timecodes that never go backwards.
//
// Input: records of [flags, ms to advance the clock, seq delta (2), ts delta (4), payload length]
// and the payload. flags bit 0: marker; bit 1: audio sink; bit 2: second SSRC.
func FuzzSink(f *testing.F) {
	// A VP8 keyframe in one packet: descriptor (S=1), frame tag, start code, 320x240.
	key := []byte{0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 1, 2, 3}
	f.Add(record(1, 0, 1, 0, key))
	f.Add(append(record(1, 0, 1, 0, key), record(3, 20, 1, 960, []byte{0xfc, 1})...))
	f.Add(append(record(1, 0, 1, 0, key), record(1, 40, 1, 1<<31, key)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		clk := newClock()
		path := filepath.Join(t.TempDir(), "f.webm")
		w, err := NewWriter(path, []Track{vp8Track, opusTrack}, clk.option(), quiet())
		if err != nil {
			t.Fatal(err)
		}
		sinks := [2]interface {
			WriteRTP(*rtp.Header, []byte) error
		}{w.Sink(0), w.Sink(1)}
		var seq uint16
		var ts uint32
		for len(data) >= 9 {
			flags := data[0]
			clk.set(clk.elapsed() + time.Duration(data[1])*time.Millisecond)
			seq += binary.BigEndian.Uint16(data[2:4])
			ts += binary.BigEndian.Uint32(data[4:8])
			n := min(int(data[8]), len(data)-9)
			h := rtp.Header{SequenceNumber: seq, Timestamp: ts, SSRC: uint32(flags>>2) & 1, Marker: flags&1 != 0}
			sinks[flags>>1&1].WriteRTP(&h, data[9:9+n])
			data = data[9+n:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		checkMonotonic(t, readBack(t, path).blocks())
	})
}

// record encodes one FuzzSink input record.
func record(flags, ms byte, dseq uint16, dts uint32, payload []byte) []byte {
	b := []byte{flags, ms, 0, 0, 0, 0, 0, 0, byte(len(payload))}
	binary.BigEndian.PutUint16(b[2:], dseq)
	binary.BigEndian.PutUint32(b[4:], dts)
	return append(b, payload...)
}

// TestFFprobe checks a recording with FFmpeg's reader, when the machine has it.
func TestFFprobe(t *testing.T) {
	probe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed")
	}
	clk := newClock()
	w, path := newTestWriter(t, clk, []Track{vp8Track, opusTrack})
	cam, mic := newVP8Stream(t, 320, 240, 1), newOpusStream(t, 2)
	for k := range 25 {
		clk.setMs(40 * k)
		cam.send(w.Sink(0), uint32(k*3600), false)
		for i := range 2 {
			mic.send(w.Sink(1), uint32((2*k+i)*960))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(probe, "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if len(got) != 2 || got[0] != "vp8,320,240,25" || got[1] != "opus,50" {
		t.Fatalf("ffprobe says %q", got)
	}
}
