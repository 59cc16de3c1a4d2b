package mcu

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/vcc/media"
)

// pcmSynth is a phone-like microphone: it has its audio as PCM (and no RTP at all, so a room that
// tried to decode Opus from it would hear nothing).
type pcmSynth struct {
	*synth
	mu    sync.Mutex
	sinks []media.PCMSink
}

func (s *pcmSynth) AddPCMSink(k media.PCMSink) error {
	s.mu.Lock()
	s.sinks = append(s.sinks, k)
	s.mu.Unlock()
	return nil
}

func (s *pcmSynth) RemovePCMSink(k media.PCMSink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.sinks {
		if x == k {
			s.sinks = append(s.sinks[:i:i], s.sinks[i+1:]...)
			return
		}
	}
}

func (s *pcmSynth) run(hz float64) {
	go func() {
		defer close(s.done)
		pcm := make([]int16, frameSamples)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for k := 0; ; {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			for i := range pcm {
				pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(k)/48000))
				k++
			}
			s.mu.Lock()
			for _, k := range s.sinks {
				k.WritePCM(pcm)
			}
			s.mu.Unlock()
		}
	}()
}

// pcmRecv keeps the last 400 ms of PCM a phone received.
type pcmRecv struct{ audioRecv }

func (p *pcmRecv) WritePCM(pcm []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pcm = append(p.pcm, pcm...)
	if over := len(p.pcm) - 48000*4/10; over > 0 {
		p.pcm = append(p.pcm[:0], p.pcm[over:]...)
	}
}

// phoneParty takes what it is sent as PCM when it can.
type phoneParty struct {
	*party
	heard *pcmRecv
}

func (p *phoneParty) Attach(src media.Source) error {
	if ps, ok := src.(media.PCMSource); ok && src.Kind() == media.Audio {
		return ps.AddPCMSink(p.heard)
	}
	return p.party.Attach(src)
}

func (p *phoneParty) Detach(src media.Source) {
	if ps, ok := src.(media.PCMSource); ok && src.Kind() == media.Audio {
		ps.RemovePCMSink(p.heard)
		return
	}
	p.party.Detach(src)
}

// A phone leg's voice is mixed from its PCM, and it is given its mix-minus as PCM: no Opus on
// either side for it, and the others hear it as usual.
func TestPhoneMixedAsPCM(t *testing.T) {
	r, err := New("c4", nil, WithConfig(Config{Width: testW, Height: testH, FPS: 15}))
	if err != nil {
		t.Fatal(err)
	}
	ann := newParty(t, "ann", red, 440)
	mic := &pcmSynth{synth: newSynth("tel-mic", "microphone", media.Audio)}
	mic.run(1300)
	base := newParty(t, "tel:+100", colour{}, 0)
	phone := &phoneParty{party: base, heard: &pcmRecv{}}
	phone.sources = []media.Source{mic}
	phone.caps.Video = false
	t.Cleanup(func() { r.Close(); mic.close() })
	if err := r.Join(ann); err != nil {
		t.Fatal(err)
	}
	if err := r.Join(phone); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ann hears the phone", 10*time.Second, func() bool { return ann.audio.power(1300) > 1e5 }, nil)
	eventually(t, "the phone hears ann as PCM", 10*time.Second, func() bool {
		return phone.heard.power(440) > 1e5 && phone.heard.power(1300) < phone.heard.power(440)/100
	}, nil)
	phone.audio.mu.Lock()
	defer phone.audio.mu.Unlock()
	if phone.audio.n != 0 {
		t.Errorf("the phone was also sent %d Opus packets", phone.audio.n)
	}
}
