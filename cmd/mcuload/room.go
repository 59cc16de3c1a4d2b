package main

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices/pkg/driver"
	_ "github.com/pion/mediadevices/pkg/driver/videotest" // registers the synthetic camera
	"github.com/pion/mediadevices/pkg/prop"
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

// makeClips encodes one 2 s clip per party slot from pion/mediadevices' synthetic camera (its
// videotest driver: colour bars, a gradient and a noise block that changes every frame, so the MCU's
// decoder and encoder have real work), tinted per party so tiles differ, and a tone per party.
func makeClips(c config) ([]clip, error) {
	raw, err := testPattern(c.inW, c.inH, 60)
	if err != nil {
		return nil, err
	}
	if c.pattern == "bar" {
		// A flat picture with a bar sweeping across: the easy case, close to a still talking head.
		for n, f := range raw {
			f.Fill(90, 140, 190)
			bar := (n * c.inW / 60) &^ 1
			for y := range c.inH {
				row := f.Y[y*f.StrideY:]
				for x := bar; x < min(bar+c.inW/10, c.inW); x++ {
					row[x] = 235
				}
			}
		}
	}
	clips := make([]clip, c.parties)
	pk, err := vp8.NewPacketizer(1200)
	if err != nil {
		return nil, err
	}
	f, err := frame.NewI420(c.inW, c.inH)
	if err != nil {
		return nil, err
	}
	for i := range clips {
		enc, err := vp8.NewEncoder(vp8.Config{Width: c.inW, Height: c.inH, FPS: 30, BitrateKbps: 800})
		if err != nil {
			return nil, err
		}
		var buf []byte
		for n, src := range raw {
			copy(f.Y, src.Y)
			for j := range f.U {
				f.U[j] = src.U[j] + uint8(24*i)
				f.V[j] = src.V[j] - uint8(16*i)
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
				if i < c.talkers {
					pcm[j] = int16(5000 * math.Sin(2*math.Pi*float64(300+150*i)*float64(k)/48000))
				} else {
					pcm[j] = int16(k%7) - 3 // a quiet open microphone
				}
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

// testPattern reads n frames of mediadevices' VideoTest camera as I420 (it produces 4:2:2; every
// other chroma row is kept).
func testPattern(w, h, n int) ([]*frame.I420, error) {
	var cam driver.Driver
	for _, d := range driver.GetManager().Query(driver.FilterVideoRecorder()) {
		if d.Info().Label == "VideoTest" {
			cam = d
		}
	}
	if cam == nil {
		return nil, fmt.Errorf("mediadevices' VideoTest driver is not registered")
	}
	if err := cam.Open(); err != nil {
		return nil, err
	}
	defer cam.Close()
	r, err := cam.(driver.VideoRecorder).VideoRecord(prop.Media{Video: prop.Video{Width: w, Height: h, FrameRate: 60}})
	if err != nil {
		return nil, err
	}
	var out []*frame.I420
	for range n {
		img, release, err := r.Read()
		if err != nil {
			return nil, err
		}
		yc, ok := img.(*image.YCbCr)
		if !ok || yc.Rect.Dx() != w || yc.Rect.Dy() != h {
			release()
			return nil, fmt.Errorf("VideoTest gave %T %v", img, img.Bounds())
		}
		f, err := frame.NewI420(w, h)
		if err != nil {
			return nil, err
		}
		for y := range h {
			copy(f.Y[y*f.StrideY:y*f.StrideY+w], yc.Y[y*yc.YStride:])
		}
		cw, ch := f.ChromaSize()
		for y := range ch {
			src := yc.COffset(0, min(2*y, h-1))
			copy(f.U[y*f.StrideU:y*f.StrideU+cw], yc.Cb[src:])
			copy(f.V[y*f.StrideV:y*f.StrideV+cw], yc.Cr[src:])
		}
		release()
		out = append(out, f)
	}
	return out, nil
}

// replay is a media.Source sending a clip's packets in real time.
type replay struct {
	id, label string
	kind      media.Kind
	fan       *media.Fanout
	clip      *clip
	h         rtp.Header
	n         int
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
	m, err := mcu.New(id, log, mcu.WithConfig(mcu.Config{Width: c.width, Height: c.height, FPS: c.fps, CPUUsed: c.cpuUsed}))
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
			voice := &replay{id: string(ep.id) + "-mic", label: "microphone", kind: media.Audio, fan: media.NewFanout(nil), clip: &clips[i], h: rtp.Header{Version: 2, PayloadType: 111, SSRC: 1}}
			ep.sources = append(ep.sources, voice)
			if !c.audioOnly {
				cam := &replay{id: string(ep.id) + "-cam", label: "camera", kind: media.Video, fan: media.NewFanout(nil), clip: &clips[i], h: rtp.Header{Version: 2, PayloadType: 96, SSRC: 2}}
				ep.sources = append(ep.sources, cam)
			}
		}
		r.eps = append(r.eps, ep)
	}
	var sources []*replay
	for _, ep := range r.eps {
		for _, s := range ep.sources {
			sources = append(sources, s.(*replay))
		}
	}
	if c.baseline {
		// The senders alone, writing to a sink that counts: what the harness costs by itself.
		for _, s := range sources {
			_ = s.AddSink(r.eps[0])
		}
	} else {
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
	}
	wg.Add(1)
	go func() { defer wg.Done(); send(ctx, sources) }()
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

// send paces every source of a room from one goroutine (two clocks: 20 ms audio, 33 ms video), so
// that the harness adds as few wake-ups as possible to what is measured.
func send(ctx context.Context, sources []*replay) {
	audioT := time.NewTicker(20 * time.Millisecond)
	defer audioT.Stop()
	videoT := time.NewTicker(time.Second / 30)
	defer videoT.Stop()
	for {
		var kind media.Kind
		select {
		case <-ctx.Done():
			return
		case <-audioT.C:
			kind = media.Audio
		case <-videoT.C:
			kind = media.Video
		}
		for _, s := range sources {
			if s.kind == kind {
				s.next()
			}
		}
	}
}

// next sends the clip's next packet (audio) or frame (video), looping from the keyframe.
func (s *replay) next() {
	if s.kind == media.Audio {
		s.h.SequenceNumber++
		s.h.Timestamp += 960
		s.fan.Write(&s.h, s.clip.voice[s.n%len(s.clip.voice)])
		s.n++
		return
	}
	s.h.Timestamp += 3000
	f := s.clip.video[s.n%len(s.clip.video)]
	for j, p := range f {
		s.h.SequenceNumber++
		s.h.Marker = j == len(f)-1
		s.fan.Write(&s.h, p)
	}
	s.n++
}
