package gateway

import (
	"math"
	"testing"

	"github.com/contactcenter/vcc/media/audio"
)

// power is the Goertzel power of hz in x (sampled at rate), normalised by the length.
func power(x []int16, hz float64, rate int) float64 {
	c := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	n := float64(len(x))
	return (s1*s1 + s2*s2 - c*s1*s2) / (n * n)
}

func tone(dst []int16, hz float64, rate int, start int) {
	for i := range dst {
		dst[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(start+i)/float64(rate)))
	}
}

// A tone the phone sends comes out of the leg's source as Opus with the same pitch, and a lost
// packet is concealed (the clock still produces a frame for it).
func TestUpBridgeTone(t *testing.T) {
	for _, law := range []uint8{ptPCMU, ptPCMA} {
		u, err := newUpBridge(law)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := audio.NewOpusDecoder()
		if err != nil {
			t.Fatal(err)
		}
		pcm8 := make([]int16, frame8)
		out48 := make([]int16, 5760)
		var heard, other, frames int
		for i := range 50 {
			tone(pcm8, 700, 8000, i*frame8)
			payload := lawOf(law).encode(nil, pcm8)
			if i != 20 { // one packet lost
				if err := u.Push(uint16(1000+i), uint32(i*frame8), payload); err != nil {
					t.Fatal(err)
				}
			}
			pkt, err := u.Tick()
			if err != nil {
				t.Fatal(err)
			}
			if pkt == nil {
				continue
			}
			frames++
			n, err := dec.Decode(pkt, out48)
			if err != nil || n != frame48 {
				t.Fatalf("opus frame of %d samples: %v", n, err)
			}
			if i < 10 {
				continue // the codec's start-up
			}
			if power(out48[:n], 700, 48000) > 1e6 {
				heard++
			}
			if power(out48[:n], 1500, 48000) > 1e5 {
				other++
			}
		}
		// The jitter buffer holds 40 ms before playing: two ticks produce nothing.
		t.Logf("up law %d: %d frames, tone in %d, other %d", law, frames, heard, other)
		if frames < 47 || heard < 35 || other > 0 {
			t.Errorf("law %d: %d frames, tone in %d, another pitch in %d", law, frames, heard, other)
		}
	}
}

// A phone sending 30 ms packets (sipp's shipped pcap does, whatever ptime we answer) or 10 ms ones
// is played at its own pace: every 20 ms tick gives a frame once the buffer is primed, nothing is
// concealed, and the samples come out in order (a ramp through the packets stays a ramp). While
// nobody listens (Skip) the buffer keeps the same pace: no packet arrives late.
func TestUpBridgeOtherPacketTimes(t *testing.T) {
	for _, ms := range []int{10, 30, 60} {
		u, err := newUpBridge(ptPCMU)
		if err != nil {
			t.Fatal(err)
		}
		per := 8 * ms // samples per packet
		law := lawOf(ptPCMU)
		var sent, seq int
		pcm := make([]int16, per)
		var out []int16
		for tick := range 300 { // 6 s, of which the first 3 s unheard
			// The phone's packets due by the end of this tick.
			for ; sent+per <= (tick+1)*frame8; sent += per {
				for i := range pcm {
					pcm[i] = int16((sent+i)%500*4 - 1000) // a ramp, small enough for G.711's fine steps
				}
				if err := u.Push(uint16(seq), uint32(sent), law.encode(nil, pcm)); err != nil {
					t.Fatalf("%d ms: packet %d: %v", ms, seq, err)
				}
				seq++
			}
			if tick < 150 {
				u.Skip()
				continue
			}
			if tick == 150 {
				u.Restart()
			}
			if f := u.Next(); f != nil {
				out = append(out, f...)
			}
		}
		if st := u.jb.Stats(); st.Lost != 0 || st.Late != 0 {
			t.Fatalf("%d ms packets: %+v, want nothing concealed or late", ms, st)
		}
		if len(out) < 140*frame8 {
			t.Fatalf("%d ms packets: %d samples out of 150 ticks", ms, len(out))
		}
		for i := 1; i < len(out); i++ {
			// G.711 rounds (steps up to 64 here), so compare the slope loosely: the next sample is
			// about 4 higher, or the ramp wraps (-2000). A packet skipped or repeated jumps by 320+.
			if d := int(out[i]) - int(out[i-1]); (d < -70 || d > 140) && (d > -1800 || d < -2200) {
				t.Fatalf("%d ms packets: sample %d jumps %d -> %d", ms, i, out[i-1], out[i])
			}
		}
	}
}

// The room's Opus, at whatever pace it arrives, reaches the phone as 20 ms G.711 frames of the same tone.
func TestDownBridgeTone(t *testing.T) {
	for _, law := range []uint8{ptPCMU, ptPCMA} {
		d, err := newDownBridge(law)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := audio.NewOpusEncoder(audio.OpusConfig{})
		if err != nil {
			t.Fatal(err)
		}
		pcm48 := make([]int16, frame48)
		var frames, heard, other int
		emit := func(g []byte) {
			if len(g) != frame8 {
				t.Fatalf("g.711 payload of %d bytes", len(g))
			}
			frames++
			x := lawOf(law).decode(nil, g)
			if frames < 10 {
				return
			}
			if power(x, 1180, 8000) > 1e6 {
				heard++
			}
			if power(x, 700, 8000) > 1e5 {
				other++
			}
		}
		for i := range 50 {
			tone(pcm48, 1180, 48000, i*frame48)
			pkt, err := enc.Encode(pcm48, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i == 25 {
				continue // lost: concealed when the next one arrives
			}
			if err := d.Push(uint16(i), pkt, emit); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("down law %d: %d frames, tone in %d, other %d", law, frames, heard, other)
		if frames != 50 || heard < 35 || other > 0 {
			t.Errorf("law %d: %d frames, tone in %d, another pitch in %d", law, frames, heard, other)
		}
		if err := d.Restart(); err != nil {
			t.Fatal(err)
		}
	}
}
