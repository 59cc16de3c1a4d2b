package audio

import (
	"errors"
	"testing"
)

func TestOpusToneKeepsFrequency(t *testing.T) {
	enc, err := NewOpusEncoder(OpusConfig{BitrateKbps: 32})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	x := tone(48000, 440, 48000, 12000)
	var y []int16
	pcm := make([]int16, 960)
	pkt := make([]byte, 1500)
	for i := 0; i+960 <= len(x); i += 960 {
		p, err := enc.Encode(x[i:i+960], pkt)
		if err != nil {
			t.Fatal(err)
		}
		n, err := dec.Decode(p, pcm)
		if err != nil || n != 960 {
			t.Fatalf("decode: n=%d err=%v", n, err)
		}
		y = append(y, pcm[:n]...)
	}
	steady := y[9600:] // past the codec's start-up
	p440 := goertzel(steady, 440, 48000)
	for _, f := range []float64{220, 330, 550, 880, 1000, 2000} {
		if p := goertzel(steady, f, 48000); db(p440/p) < 30 {
			t.Errorf("440 Hz only %.1f dB above %v Hz", db(p440/p), f)
		}
	}
	if f := zeroCrossFreq(steady, 48000); f < 439 || f > 441 {
		t.Errorf("decoded tone at %.2f Hz", f)
	}
	if g := rms(steady) / rms(x); g < 0.8 || g > 1.25 {
		t.Errorf("level ratio %.2f", g)
	}

	// A lost packet: PLC continues the tone rather than dropping to silence.
	n, err := dec.DecodePLC(nil, pcm)
	if err != nil || n != 960 {
		t.Fatalf("plc: n=%d err=%v", n, err)
	}
	if rms(pcm) < 0.3*rms(x) {
		t.Errorf("PLC frame rms %.0f, want a continuation of the tone (%.0f)", rms(pcm), rms(x))
	}
}

func TestOpusFEC(t *testing.T) {
	enc, err := NewOpusEncoder(OpusConfig{FEC: true, PacketLossPerc: 20})
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := NewOpusDecoder()
	x := tone(960*20, 440, 48000, 12000)
	pcm := make([]int16, 960)
	var pkts [][]byte
	for i := 0; i+960 <= len(x); i += 960 {
		p, err := enc.Encode(x[i:i+960], nil)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), p...))
	}
	for i, p := range pkts {
		if i == 15 {
			continue // lost: recovered from packet 16 below
		}
		if i == 16 {
			if _, err := dec.DecodePLC(p, pcm); err != nil {
				t.Fatal(err)
			}
			if rms(pcm) < 0.3*rms(x) {
				t.Errorf("FEC frame rms %.0f", rms(pcm))
			}
		}
		if _, err := dec.Decode(p, pcm); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpusStereoAndErrors(t *testing.T) {
	enc, err := NewOpusEncoder(OpusConfig{Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewOpusDecoder(WithDecoderChannels(2))
	if err != nil {
		t.Fatal(err)
	}
	p, err := enc.Encode(make([]int16, 1920), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := dec.Decode(p, make([]int16, 1920)); err != nil || n != 960 {
		t.Fatalf("stereo decode n=%d err=%v", n, err)
	}
	if _, err := enc.Encode(make([]int16, 1000), nil); !errors.Is(err, ErrFrameSize) {
		t.Errorf("odd frame: %v", err)
	}
	if _, err := dec.Decode([]byte{0xff, 0xff, 0xff}, make([]int16, 1920)); !errors.Is(err, ErrOpus) {
		t.Errorf("garbage packet: %v", err)
	}
	if _, err := dec.DecodePLC(nil, make([]int16, 100)); !errors.Is(err, ErrFrameSize) {
		t.Errorf("plc of 50 samples: %v", err)
	}
	for _, c := range []OpusConfig{{Channels: 3}, {Complexity: 11}, {BitrateKbps: 1}} {
		if _, err := NewOpusEncoder(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := NewOpusDecoder(WithDecoderChannels(6)); !errors.Is(err, ErrConfig) {
		t.Errorf("6-channel decoder: %v", err)
	}
}

func TestOpusAllocs(t *testing.T) {
	enc, _ := NewOpusEncoder(OpusConfig{})
	dec, _ := NewOpusDecoder()
	x, pcm, pkt := tone(960, 440, 48000, 8000), make([]int16, 960), make([]byte, 1500)
	n := testing.AllocsPerRun(50, func() {
		p, _ := enc.Encode(x, pkt)
		_, _ = dec.Decode(p, pcm)
		_, _ = dec.DecodePLC(nil, pcm)
	})
	if n != 0 {
		t.Errorf("%v allocs per encode+decode+plc", n)
	}
}

func BenchmarkOpusEncode(b *testing.B) {
	enc, _ := NewOpusEncoder(OpusConfig{})
	x, pkt := tone(960, 440, 48000, 8000), make([]byte, 1500)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = enc.Encode(x, pkt)
	}
}

func BenchmarkOpusDecode(b *testing.B) {
	enc, _ := NewOpusEncoder(OpusConfig{})
	dec, _ := NewOpusDecoder()
	x, pcm := tone(960, 440, 48000, 8000), make([]int16, 960)
	p, _ := enc.Encode(x, nil)
	p = append([]byte(nil), p...)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = dec.Decode(p, pcm)
	}
}
