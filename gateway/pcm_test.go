package gateway

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/vcc/media"
)

// pcmMix is a source that offers its audio as PCM, as the MCU's mix-minus does; it is never sent
// RTP, so a leg that subscribed to its RTP would hear nothing.
type pcmMix struct {
	*opusSource
	mu    sync.Mutex
	sinks []media.PCMSink
}

func (s *pcmMix) AddPCMSink(k media.PCMSink) error {
	s.mu.Lock()
	s.sinks = append(s.sinks, k)
	s.mu.Unlock()
	return nil
}

func (s *pcmMix) RemovePCMSink(k media.PCMSink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.sinks {
		if x == k {
			s.sinks = append(s.sinks[:i:i], s.sinks[i+1:]...)
		}
	}
}

func (s *pcmMix) write(pcm []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.sinks {
		k.WritePCM(pcm)
	}
}

type pcmCounter struct {
	frames, tone atomic.Int64
}

func (c *pcmCounter) WritePCM(pcm []int16) {
	c.frames.Add(1)
	if len(pcm) == frame48 && power(pcm, 700, 48000) > 1e6 {
		c.tone.Add(1)
	}
}

// In the MCU a phone needs no Opus: its voice is taken as 48 kHz PCM from the leg's source, and a
// mix offered as PCM is subscribed as PCM and reaches the phone as G.711.
func TestPhoneLegSpeaksAndHearsPCM(t *testing.T) {
	leg, media8 := phoneCall(t, pcmuSDP)

	// Up: the phone's 700 Hz tone reaches a PCM sink, and no Opus packet is made for it.
	src, ok := leg.Sources()[0].(media.PCMSource)
	if !ok {
		t.Fatal("the phone's source offers no PCM")
	}
	var up pcmCounter
	if err := src.AddPCMSink(&up); err != nil {
		t.Fatal(err)
	}
	stop := phoneTone(media8, net.UDPAddrFromAddrPort(leg.remoteOfLocal()), 700, ptPCMU, nil)
	defer stop()
	eventually(t, "the phone's tone as PCM", func() bool { return up.tone.Load() >= 10 })

	// Down: a mix offered as PCM is heard by the phone as PCMU.
	mix := &pcmMix{opusSource: newOpusSource("mix", media.Audio)}
	if err := leg.Attach(mix); err != nil {
		t.Fatal(err)
	}
	if mix.fan.Len() != 0 {
		t.Fatal("the leg subscribed to the mix's Opus as well")
	}
	heard := hearsPCMU(media8, 1180)
	stopMix := mixTone(mix.write, 1180)
	defer stopMix()
	eventually(t, "the PCM mix at the phone", func() bool { return heard.Load() >= 10 })
}
