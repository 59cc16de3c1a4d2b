package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/mcu"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
	"github.com/contactcenter/vcc/media/frame"
	"github.com/contactcenter/vcc/media/vp8"
)

// clip is a pre-encoded loop: video frames as RTP payloads (the first a keyframe), one second of
// Opus packets.
type clip struct {
	video [][][]byte // frame -> packets
	voice [][]byte
}

// makeClips encodes one 2 s clip per party slot: a coloured picture with a moving bar, so the MCU's
// decoder and encoder see motion, and a tone.
func makeClips(c config) ([]clip, error) {
	clips := make([]clip, c.parties)
	pk, err := vp8.NewPacketizer(1200)
	if err != nil {
		return nil, err
	}
	for i := range clips {
		enc, err := vp8.NewEncoder(vp8.Config{Width: c.inW, Height: c.inH, FPS: 30, BitrateKbps: 800})
		if err != nil {
			return nil, err
		}
		f, err := frame.NewI420(c.inW, c.inH)
		if err != nil {
			return nil, err
		}
		var buf []byte
		for n := range 60 {
			f.Fill(uint8(60*i), uint8(200-20*i), uint8(40+25*i))
			bar := (n * c.inW / 60) &^ 1
			for y := range c.inH {
				row := f.Y[y*f.StrideY:]
				for x := bar; x < min(bar+c.inW/10, c.inW); x++ {
					row[x] = 235
				}
			}
			if buf, _, err = enc.Encode(f, n == 0, buf[:0]); err != nil {
				return nil, err
			}
			var pkts [][]byte
			for _, p := range pk.Packetize(buf) {
				pkts = append(pkts, append([]byte(nil), p...))
			}
			clips[i].video = append(clips[i].video, pkts)
		}
		_ = enc.Close()
		oenc, err := audio.NewOpusEncoder(audio.OpusConfig{})
		if err != nil {
			return nil, err
		}
		pcm := make([]int16, 960)
		k := 0
		for range 50 {
			for j := range pcm {
				pcm[j] = int16(5000 * math.Sin(2*math.Pi*float64(300+150*i)*float64(k)/48000))
				k++
			}
			p, err := oenc.Encode(pcm, nil)
			if err != nil {
				return nil, err
			}
			clips[i].voice = append(clips[i].voice, append([]byte(nil), p...))
		}
	}
	return clips, nil
}

// replay is a media.Source sending a clip's packets in real time.
type replay struct {
	id, label string
	kind      media.Kind
	fan       *media.Fanout
}

func (s *replay) ID() string       { return s.id }
func (s *replay) Label() string    { return s.label }
func (s *replay) Kind() media.Kind { return s.kind }
func (s *replay) Codec() media.Codec {
	if s.kind == media.Video {
		return media.Codec{MimeType: "video/VP8", ClockRate: 90000}
	}
	return media.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}
}
func (s *replay) AddSink(k media.Sink) error { s.fan.Add(k); return nil }
func (s *replay) RemoveSink(k media.Sink)    { s.fan.Remove(k) }

// RequestKeyframe is ignored: the clip restarts at its keyframe every two seconds.
func (s *replay) RequestKeyframe() {}

// endpoint is a party: it sends replays and counts what the room sends it.
type endpoint struct {
	id      call.PartyID
	sources []media.Source
	ctx     context.Context
	cancel  context.CancelFunc
	pkts    atomic.Uint64
	bytes   atomic.Uint64
}

func (e *endpoint) ID() call.PartyID            { return e.id }
func (e *endpoint) Role() call.Role             { return call.Agent }
func (e *endpoint) Caps() call.Caps             { return call.Caps{Audio: true, Video: true} }
func (e *endpoint) Sources() []media.Source     { return e.sources }
func (e *endpoint) OnSourcesChanged(func())     {}
func (e *endpoint) Attach(s media.Source) error { return s.AddSink(e) }
func (e *endpoint) Detach(s media.Source)       { s.RemoveSink(e) }
func (e *endpoint) Context() context.Context    { return e.ctx }
func (e *endpoint) Close(error) error           { e.cancel(); return nil }

// WriteRTP counts: a viewer's transport is not what this tool measures.
func (e *endpoint) WriteRTP(_ *rtp.Header, payload []byte) error {
	e.pkts.Add(1)
	e.bytes.Add(uint64(len(payload)))
	return nil
}

type room struct {
	mcu  *mcu.Room
	eps  []*endpoint
	stop func()
}

var layouts = []string{call.LayoutEqual, call.LayoutMaxCustomer, call.LayoutMaxAgent, call.LayoutMaxThird}

func startRoom(c config, n int, clips []clip, log *slog.Logger) (*room, error) {
	id := call.CallID(fmt.Sprintf("load-%d", n))
	m, err := mcu.New(id, log, mcu.WithConfig(mcu.Config{Width: c.width, Height: c.height, FPS: c.fps}))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &room{mcu: m}
	var wg sync.WaitGroup
	st := call.State{ID: id, Phase: call.PhaseConnected, Mode: call.ModeMCU, Media: call.ModeMCU, Conference: true}
	now := time.Now()
	for i := range c.parties {
		ectx, ecancel := context.WithCancel(ctx)
		ep := &endpoint{id: call.PartyID(fmt.Sprintf("p%d", i)), ctx: ectx, cancel: ecancel}
		as := call.AsConferenced
		switch i {
		case 0:
			as = call.AsCustomer
		case 1:
			as = call.AsControlling
		}
		st.Parties = append(st.Parties, call.Party{User: call.UserRef{ID: string(ep.id), Name: string(ep.id)}, As: as,
			Audio: true, Video: !c.audioOnly, JoinedAt: now.Add(time.Duration(i) * time.Second), Layout: layouts[i%c.layouts]})
		if !c.idle {
			voice := &replay{id: string(ep.id) + "-mic", label: "microphone", kind: media.Audio, fan: media.NewFanout(nil)}
			ep.sources = append(ep.sources, voice)
			wg.Add(1)
			go func() { defer wg.Done(); play(ctx, voice, clips[i].voice, 20*time.Millisecond, 960) }()
			if !c.audioOnly {
				cam := &replay{id: string(ep.id) + "-cam", label: "camera", kind: media.Video, fan: media.NewFanout(nil)}
				ep.sources = append(ep.sources, cam)
				wg.Add(1)
				go func() { defer wg.Done(); playVideo(ctx, cam, clips[i].video) }()
			}
		}
		r.eps = append(r.eps, ep)
	}
	for _, ep := range r.eps {
		if err := m.Join(ep); err != nil {
			cancel()
			return nil, err
		}
	}
	if err := m.Apply(call.RoutingOf(st)); err != nil {
		cancel()
		return nil, err
	}
	r.stop = func() { cancel(); wg.Wait(); _ = m.Close() }
	return r, nil
}

func (r *room) received() (pkts, bytes uint64) {
	for _, ep := range r.eps {
		pkts += ep.pkts.Load()
		bytes += ep.bytes.Load()
	}
	return pkts, bytes
}

// play sends one packet per period, looping.
func play(ctx context.Context, s *replay, pkts [][]byte, period time.Duration, tsStep uint32) {
	h := rtp.Header{Version: 2, PayloadType: 111, SSRC: 1}
	t := time.NewTicker(period)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.SequenceNumber++
		h.Timestamp += tsStep
		s.fan.Write(&h, pkts[i%len(pkts)])
	}
}

// playVideo sends one frame's packets every 33 ms, looping from the keyframe.
func playVideo(ctx context.Context, s *replay, frames [][][]byte) {
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 2}
	t := time.NewTicker(time.Second / 30)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.Timestamp += 3000
		f := frames[i%len(frames)]
		for j, p := range f {
			h.SequenceNumber++
			h.Marker = j == len(f)-1
			s.fan.Write(&h, p)
		}
	}
}
