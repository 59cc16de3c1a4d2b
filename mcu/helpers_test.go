package mcu

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
	"github.com/contactcenter/vcc/media/frame"
	"github.com/contactcenter/vcc/media/vp8"
)

// Test parties: each sends a solid colour and a tone, like the Chromium test's canvas and oscillator.
type colour struct{ r, g, b uint8 }

var (
	red   = colour{220, 30, 30}
	green = colour{30, 200, 40}
	blue  = colour{30, 40, 220}
)

// synth is a media.Source that produces RTP: VP8 of a solid colour, or Opus of a sine tone, paced
// in real time by its own goroutine until stopped.
type synth struct {
	id, label string
	kind      media.Kind
	fan       *media.Fanout
	keyframe  chan struct{}
	stop      chan struct{}
	done      chan struct{}

	mu      sync.Mutex
	col     colour
	w, h    int
	corrupt bool    // send garbage frames instead of VP8
	drop    float64 // fraction of packets dropped (every 1/drop-th)
	swap    bool    // send every 5th packet after the one that follows it, across frames too

	keyframes atomic.Int64 // keyframe requests received
}

func newSynth(id, label string, kind media.Kind) *synth {
	return &synth{id: id, label: label, kind: kind, fan: media.NewFanout(nil), keyframe: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}), w: 320, h: 240}
}

func (s *synth) ID() string    { return s.id }
func (s *synth) Label() string { return s.label }
func (s *synth) Kind() media.Kind {
	return s.kind
}
func (s *synth) Codec() media.Codec {
	if s.kind == media.Video {
		return vp8Codec
	}
	return opusCodec
}
func (s *synth) AddSink(k media.Sink) error { s.fan.Add(k); return nil }
func (s *synth) RemoveSink(k media.Sink)    { s.fan.Remove(k) }
func (s *synth) RequestKeyframe() {
	s.keyframes.Add(1)
	select {
	case s.keyframe <- struct{}{}:
	default:
	}
}

func (s *synth) set(f func(*synth)) { s.mu.Lock(); f(s); s.mu.Unlock() }

func (s *synth) close() { close(s.stop); <-s.done }

// video sends 15 frames a second of the current colour and size.
func (s *synth) video(t testing.TB) {
	pk, err := vp8.NewPacketizer(1200)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		var enc *vp8.Encoder
		defer func() {
			if enc != nil {
				enc.Close()
			}
		}()
		f := &frame.I420{}
		h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1234}
		tick := time.NewTicker(time.Second / 15)
		defer tick.Stop()
		var buf []byte
		n := 0
		var held *rtp.Header // a packet sent after its successor (swap)
		var heldPayload []byte
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			s.mu.Lock()
			col, w, ht, corrupt, drop, swap := s.col, s.w, s.h, s.corrupt, s.drop, s.swap
			s.mu.Unlock()
			if enc == nil || enc.Config().Width != w || enc.Config().Height != ht {
				if enc != nil {
					enc.Close()
				}
				if enc, err = vp8.NewEncoder(vp8.Config{Width: w, Height: ht, FPS: 15, BitrateKbps: 300}); err != nil {
					t.Error(err)
					return
				}
			}
			if err := f.Resize(w, ht); err != nil {
				t.Error(err)
				return
			}
			f.Fill(col.r, col.g, col.b)
			force := false
			select {
			case <-s.keyframe:
				force = true
			default:
			}
			if buf, _, err = enc.Encode(f, force, buf[:0]); err != nil {
				t.Error(err)
				return
			}
			if corrupt {
				for i := range buf {
					buf[i] ^= byte(i * 7)
				}
			}
			h.Timestamp += 90000 / 15
			ps := pk.Packetize(buf)
			for i, p := range ps {
				h.SequenceNumber++
				h.Marker = i == len(ps)-1
				n++
				if drop > 0 && n%int(1/drop) == 0 {
					continue
				}
				if swap && n%5 == 0 && held == nil {
					hh := h
					held, heldPayload = &hh, append([]byte(nil), p...)
					continue
				}
				s.fan.Write(&h, p)
				if held != nil {
					s.fan.Write(held, heldPayload)
					held = nil
				}
			}
		}
	}()
}

// tone sends 20 ms Opus packets of a sine at hz with peak amplitude amp.
func (s *synth) tone(t testing.TB, hz, amp float64) {
	enc, err := audio.NewOpusEncoder(audio.OpusConfig{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		pcm := make([]int16, frameSamples)
		h := rtp.Header{Version: 2, PayloadType: 111, SSRC: 5678}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var buf []byte
		k := 0
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			for i := range pcm {
				pcm[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(k)/48000))
				k++
			}
			if buf, err = enc.Encode(pcm, buf[:0]); err != nil {
				t.Error(err)
				return
			}
			h.SequenceNumber++
			h.Timestamp += frameSamples
			s.fan.Write(&h, buf)
		}
	}()
}

// party is a fake call.Endpoint: it sends its synths and decodes whatever the room attaches to it.
type party struct {
	id      call.PartyID
	caps    call.Caps
	ctx     context.Context
	cancel  context.CancelFunc
	sources []media.Source

	mu       sync.Mutex
	onSrc    func()
	attached map[media.Source]media.Sink
	video    *videoRecv
	audio    *audioRecv
}

func newParty(t *testing.T, id string, col colour, hz float64) *party {
	return newPartyAt(t, id, col, hz, 8000)
}

// newPartyAt is newParty with a voice of peak amplitude amp.
func newPartyAt(t *testing.T, id string, col colour, hz, amp float64) *party {
	cam := newSynth(id+"-cam", "camera", media.Video)
	cam.col = col
	cam.video(t)
	mic := newSynth(id+"-mic", "microphone", media.Audio)
	mic.tone(t, hz, amp)
	ctx, cancel := context.WithCancel(context.Background())
	p := &party{id: call.PartyID(id), caps: call.Caps{Audio: true, Video: true}, ctx: ctx, cancel: cancel,
		sources: []media.Source{cam, mic}, attached: map[media.Source]media.Sink{},
		video: newVideoRecv(t), audio: &audioRecv{}}
	t.Cleanup(func() { cam.close(); mic.close(); cancel() })
	return p
}

func (p *party) cam() *synth { return p.sources[0].(*synth) }

func (p *party) ID() call.PartyID         { return p.id }
func (p *party) Role() call.Role          { return call.Agent }
func (p *party) Caps() call.Caps          { return p.caps }
func (p *party) Context() context.Context { return p.ctx }
func (p *party) Close(error) error        { p.cancel(); return nil }
func (p *party) Sources() []media.Source {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]media.Source(nil), p.sources...)
}
func (p *party) OnSourcesChanged(f func()) { p.mu.Lock(); p.onSrc = f; p.mu.Unlock() }

func (p *party) Attach(src media.Source) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var k media.Sink = p.audio
	if src.Kind() == media.Video {
		k = p.video
	}
	p.attached[src] = k
	return src.AddSink(k)
}

func (p *party) Detach(src media.Source) {
	p.mu.Lock()
	k := p.attached[src]
	delete(p.attached, src)
	p.mu.Unlock()
	if k != nil {
		src.RemoveSink(k)
	}
}

// receiving returns the sources attached now.
func (p *party) receiving() []media.Source {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []media.Source
	for s := range p.attached {
		out = append(out, s)
	}
	return out
}

// videoRecv decodes the composite a party receives and keeps the latest picture.
type videoRecv struct {
	mu      sync.Mutex
	dep     *vp8.Depacketizer
	dec     *vp8.Decoder
	f       *frame.I420
	frames  int
	ssrc    uint32
	changed chan struct{}
}

func newVideoRecv(t *testing.T) *videoRecv {
	dep, err := vp8.NewDepacketizer()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := vp8.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Close() })
	return &videoRecv{dep: dep, dec: dec, f: &frame.I420{}, changed: make(chan struct{}, 1)}
}

func (v *videoRecv) WriteRTP(h *rtp.Header, payload []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if h.SSRC != v.ssrc { // another composite (a new layout): a new stream, as a real transport's rewriter makes it
		v.ssrc = h.SSRC
		v.dep, _ = vp8.NewDepacketizer()
	}
	res, _ := v.dep.Push(h, payload)
	if res.Frame == nil {
		return nil
	}
	if ok, err := v.dec.Decode(res.Frame, v.f); err == nil && ok {
		v.frames++
		select {
		case v.changed <- struct{}{}:
		default:
		}
	}
	return nil
}

// at returns the colour at (x, y) of the latest picture, false before the first.
func (v *videoRecv) at(x, y int) (colour, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.frames == 0 || x >= v.f.Width || y >= v.f.Height {
		return colour{}, false
	}
	r, g, b := v.f.At(x, y)
	return colour{r, g, b}, true
}

// audioRecv decodes the mix a party receives and keeps the last 400 ms.
type audioRecv struct {
	mu  sync.Mutex
	dec *audio.OpusDecoder
	pcm []int16
	buf []int16
	n   int
}

func (a *audioRecv) WriteRTP(h *rtp.Header, payload []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dec == nil {
		var err error
		if a.dec, err = audio.NewOpusDecoder(); err != nil {
			return err
		}
		a.buf = make([]int16, 5760)
	}
	n, err := a.dec.Decode(payload, a.buf)
	if err != nil {
		return nil
	}
	a.pcm = append(a.pcm, a.buf[:n]...)
	if over := len(a.pcm) - 48000*4/10; over > 0 {
		a.pcm = append(a.pcm[:0], a.pcm[over:]...)
	}
	a.n++
	return nil
}

// packets is how many packets have arrived.
func (a *audioRecv) packets() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// power is the Goertzel power of hz in the last 400 ms heard, normalised to the window length.
func (a *audioRecv) power(hz float64) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.pcm) < 48000*4/10 {
		return 0
	}
	w := 2 * math.Pi * hz / 48000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range a.pcm {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	n := float64(len(a.pcm))
	return (s1*s1 + s2*s2 - c*s1*s2) / (n * n)
}

func near(a, b colour) bool {
	d := func(x, y uint8) int { return int(math.Abs(float64(int(x) - int(y)))) }
	return d(a.r, b.r) < 40 && d(a.g, b.g) < 40 && d(a.b, b.b) < 40
}

// eventually waits until cond holds, re-checking whenever the party decodes a picture and at least
// every 50 ms (audio has no event of its own here).
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool, wake <-chan struct{}) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-wake:
		case <-tick.C:
		}
	}
}
