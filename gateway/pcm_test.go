package gateway

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
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
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	phone := newSIPPeer(t, "alice")
	media8 := rtpSocket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := phone.invite(ctx, gw, "100", phoneSDP(media8.LocalAddr().(*net.UDPAddr).Port, "sendrecv")); err != nil {
		t.Fatal(err)
	}
	got := <-q.got
	leg := got.ep.(*Leg)

	// Up: the phone's 700 Hz tone reaches a PCM sink, and no Opus packet is made for it.
	src, ok := leg.Sources()[0].(media.PCMSource)
	if !ok {
		t.Fatal("the phone's source offers no PCM")
	}
	var up pcmCounter
	if err := src.AddPCMSink(&up); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		pcm8 := make([]int16, frame8)
		h := rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		gwRTP := net.UDPAddrFromAddrPort(leg.remoteOfLocal())
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			tone(pcm8, 700, 8000, i*frame8)
			h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*frame8)
			b, _ := (&rtp.Packet{Header: h, Payload: audio.EncodeULaw(nil, pcm8)}).Marshal()
			_, _ = media8.WriteToUDP(b, gwRTP)
		}
	}()
	defer func() { close(stop); <-sent }()
	eventually(t, "the phone's tone as PCM", func() bool { return up.tone.Load() >= 10 })

	// Down: a mix offered as PCM is heard by the phone as PCMU.
	mix := &pcmMix{opusSource: newOpusSource("mix", media.Audio)}
	if err := leg.Attach(mix); err != nil {
		t.Fatal(err)
	}
	if mix.fan.Len() != 0 {
		t.Fatal("the leg subscribed to the mix's Opus as well")
	}
	var heard atomic.Int64
	go readRTP(media8, func(h *rtp.Header, p []byte) {
		if h.PayloadType == 0 && power(audio.DecodeULaw(nil, p), 1180, 8000) > 1e6 {
			heard.Add(1)
		}
	})
	done := make(chan struct{})
	go func() {
		pcm := make([]int16, frame48)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-tk.C:
			}
			tone(pcm, 1180, 48000, i*frame48)
			mix.write(pcm)
		}
	}()
	defer close(done)
	eventually(t, "the PCM mix at the phone", func() bool { return heard.Load() >= 10 })
}
