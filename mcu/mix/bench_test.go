package mix

import (
	"strconv"
	"testing"

	"github.com/contactcenter/vcc/media/audio"
)

// benchMix measures one 20 ms tick with n talking parties: n Writes (the copy a decoder's output
// costs) plus the mix-minus. ns/op is ns per tick; a tick's budget is 20,000,000 ns.
func benchMix(b *testing.B, n int) {
	m, err := NewMixer(Config{})
	if err != nil {
		b.Fatal(err)
	}
	var ins []*Input
	var frames [][]int16
	for i := range n {
		ins = append(ins, m.Add("p"+strconv.Itoa(i)))
		frames = append(frames, toneFrame(0, 200+100*float64(i), 4000))
	}
	out := func(string, []int16) {}
	b.ReportAllocs()
	for b.Loop() {
		for i, in := range ins {
			_ = in.Write(frames[i])
		}
		m.Mix(out)
	}
}

func BenchmarkMix3(b *testing.B) { benchMix(b, 3) }
func BenchmarkMix8(b *testing.B) { benchMix(b, 8) }

// BenchmarkRoomAudio3 is a whole 3-party room's audio tick as the MCU runs it: 3 Opus decodes,
// mix-minus, 3 Opus encodes at complexity 5 (32 kbps mono). Reports ms per tick and the share of one
// core that is (ms/20 ms).
func BenchmarkRoomAudio3(b *testing.B) {
	const n = 3
	m, err := NewMixer(Config{})
	if err != nil {
		b.Fatal(err)
	}
	type party struct {
		in   *Input
		dec  *audio.OpusDecoder
		enc  *audio.OpusEncoder
		pkts [][]byte // a second of this party's speech-band tone, pre-encoded, played in a loop
		pcm  []int16
		out  []byte
	}
	parties := make([]*party, n)
	byID := map[string]*party{}
	for i := range n {
		src, err := audio.NewOpusEncoder(audio.OpusConfig{})
		if err != nil {
			b.Fatal(err)
		}
		p := &party{pcm: make([]int16, 960), out: make([]byte, 1500)}
		for k := range 50 {
			pkt, err := src.Encode(toneFrame(k, 300+200*float64(i), 6000), nil)
			if err != nil {
				b.Fatal(err)
			}
			p.pkts = append(p.pkts, append([]byte(nil), pkt...))
		}
		if p.dec, err = audio.NewOpusDecoder(); err != nil {
			b.Fatal(err)
		}
		if p.enc, err = audio.NewOpusEncoder(audio.OpusConfig{Complexity: 5}); err != nil {
			b.Fatal(err)
		}
		id := "p" + strconv.Itoa(i)
		p.in = m.Add(id)
		parties[i], byID[id] = p, p
	}
	var encErr error
	out := func(id string, mixMinus []int16) {
		p := byID[id]
		if _, err := p.enc.Encode(mixMinus, p.out); err != nil {
			encErr = err
		}
	}
	tick := 0
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range parties {
			if _, err := p.dec.Decode(p.pkts[tick%len(p.pkts)], p.pcm); err != nil {
				b.Fatal(err)
			}
			_ = p.in.Write(p.pcm)
		}
		m.Mix(out)
		tick++
	}
	if encErr != nil {
		b.Fatal(encErr)
	}
	ms := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 1e6
	b.ReportMetric(ms, "ms/tick")
	b.ReportMetric(ms/20*100, "%core")
}
