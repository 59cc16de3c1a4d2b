package e2e

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/client"
	"github.com/contactcenter/vcc/cmd/app"
	"github.com/contactcenter/vcc/media/audio"
	"github.com/contactcenter/vcc/media/frame"
	"github.com/contactcenter/vcc/media/vp8"
)

// A Go party sends real media, a solid colour (VP8) and a tone (Opus), so that what it receives can
// be checked whether the server forwards (SFU) or decodes, composes and mixes (MCU).

// tones are the parties' voices, far enough apart for a 20 ms Goertzel window (50 Hz bins) and
// away from the hold music's notes.
var tones = []float64{520, 780, 1180, 1560, 1940, 2300}

// colours are the parties' cameras, in the same order.
var colours = []rgb{{220, 30, 30}, {30, 200, 40}, {30, 40, 220}, {230, 220, 30}, {200, 40, 200}, {30, 200, 200}}

type rgb struct{ r, g, b uint8 }

func (c rgb) near(o rgb) bool {
	d := func(x, y uint8) bool { return math.Abs(float64(x)-float64(y)) < 45 }
	return d(c.r, o.r) && d(c.g, o.g) && d(c.b, o.b)
}

type party struct {
	c     *client.Client
	voice int // index into tones and colours

	heard [6]atomic.Int64 // audio packets in which each party's tone is present
	other atomic.Int64    // packets with sound but no party's tone: music on hold
	// Audio tracks that arrived and packets read from them, silent ones included: when nothing
	// was heard, whether anything came at all.
	audioTracks, audioPackets atomic.Int64
	// noPLI makes it a receiver that never asks for a keyframe (a recorder, some SIP video phones).
	noPLI atomic.Bool
	// onAudio, when set, sees each audio packet's payload (it must not keep it), before decoding.
	onAudio atomic.Pointer[func(payload []byte)]

	mu    sync.Mutex
	pic   *frame.I420 // latest picture of the last video track that produced one
	pics  int
	ssrc  uint32
	frame chan struct{}
}

// newParty connects query's user and starts sending its colour and tone.
func newParty(t *testing.T, ctx context.Context, srv *app.Server, query string, voice int) *party {
	p := &party{c: dial(t, ctx, srv, query), voice: voice, pic: &frame.I420{}, frame: make(chan struct{}, 1)}
	v, a := rtpTracks(t, query)
	p.c.AddTrack(v)
	p.c.AddTrack(a)
	p.c.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			p.readVideo(tr)
		} else {
			p.readAudio(tr)
		}
	})
	go sendMedia(t, ctx, colours[voice], tones[voice], v, a)
	return p
}

// heardFrom is the counter of packets in which q's voice reached p.
func (p *party) heardFrom(q *party) *atomic.Int64 { return &p.heard[q.voice] }

// hearing describes everything p has heard so far, for a failure message: packets per voice and of
// sound that is nobody's voice (music).
func (p *party) hearing() string {
	var b strings.Builder
	for i := range p.heard {
		fmt.Fprintf(&b, "voice %d: %d, ", i, p.heard[i].Load())
	}
	fmt.Fprintf(&b, "other sound: %d (audio tracks %d, packets %d)", p.other.Load(), p.audioTracks.Load(), p.audioPackets.Load())
	return b.String()
}

// waitHeard waits until listener has heard n more packets of speaker's voice; a failure says what
// the listener heard instead.
func waitHeard(t *testing.T, ctx context.Context, what string, listener, speaker *party, n int64) {
	t.Helper()
	waitCount(t, ctx, what, listener.heardFrom(speaker), n, func() string { return "heard so far: " + listener.hearing() })
}

// sendMedia sends 160x120 VP8 at 10 fps and, when voice is not nil, 20 ms Opus packets until ctx
// ends.
func sendMedia(t *testing.T, ctx context.Context, col rgb, hz float64, video, voice *webrtc.TrackLocalStaticRTP) {
	enc, err := vp8.NewEncoder(vp8.Config{Width: 160, Height: 120, FPS: 10, BitrateKbps: 100, KeyframeInterval: 10})
	if err != nil {
		t.Error(err)
		return
	}
	defer enc.Close()
	oenc, err := audio.NewOpusEncoder(audio.OpusConfig{})
	if err != nil {
		t.Error(err)
		return
	}
	pk, _ := vp8.NewPacketizer(1200)
	f, _ := frame.NewI420(160, 120)
	f.Fill(col.r, col.g, col.b)
	pcm := make([]int16, 960)
	var vbuf, abuf []byte
	vh, ah := rtp.Header{Version: 2}, rtp.Header{Version: 2}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, k := 0, 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for j := range pcm {
			pcm[j] = int16(6000 * math.Sin(2*math.Pi*hz*float64(k)/48000))
			k++
		}
		if voice == nil {
			// a video-only track (a screen share)
		} else if abuf, err = oenc.Encode(pcm, abuf[:0]); err == nil {
			ah.SequenceNumber++
			ah.Timestamp += 960
			_ = voice.WriteRTP(&rtp.Packet{Header: ah, Payload: abuf})
		}
		if i%5 != 0 {
			continue
		}
		// Every frame a keyframe: a receiver that joins or loses a packet recovers at once, and the
		// test needs no PLI round trip through a Go client.
		if vbuf, _, err = enc.Encode(f, true, vbuf[:0]); err != nil {
			continue
		}
		vh.Timestamp += 9000
		ps := pk.Packetize(vbuf)
		for j, pl := range ps {
			vh.SequenceNumber++
			vh.Marker = j == len(ps)-1
			_ = video.WriteRTP(&rtp.Packet{Header: vh, Payload: pl})
		}
	}
}

// readAudio decodes and classifies each packet by the tones present in it.
func (p *party) readAudio(tr *webrtc.TrackRemote) {
	dec, err := audio.NewOpusDecoder()
	if err != nil {
		return
	}
	pcm := make([]int16, 5760)
	p.audioTracks.Add(1)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		p.audioPackets.Add(1)
		if f := p.onAudio.Load(); f != nil {
			(*f)(pkt.Payload)
		}
		n, err := dec.Decode(pkt.Payload, pcm)
		if err != nil || n < 480 {
			continue
		}
		x := pcm[:n]
		found := false
		for i, hz := range tones {
			if goertzel(x, hz) > 2e5 {
				p.heard[i].Add(1)
				found = true
			}
		}
		if !found && rms(x) > 200 {
			p.other.Add(1)
		}
	}
}

// readVideo decodes the track and keeps its latest picture.
func (p *party) readVideo(tr *webrtc.TrackRemote) {
	dep, _ := vp8.NewDepacketizer()
	dec, err := vp8.NewDecoder()
	if err != nil {
		return
	}
	defer dec.Close()
	f := &frame.I420{}
	var asked time.Time
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		res, _ := dep.Push(&pkt.Header, pkt.Payload)
		// Like a browser, ask for a keyframe while there is none to start from (the stream's
		// first one may have gone out before this track was negotiated), at most twice a second.
		if res.NeedKeyframe && time.Since(asked) > 500*time.Millisecond && !p.noPLI.Load() {
			asked = time.Now()
			_ = p.c.PC().WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
		}
		if res.Frame == nil {
			continue
		}
		if ok, err := dec.Decode(res.Frame, f); err != nil || !ok {
			continue
		}
		p.mu.Lock()
		p.pic, f = f, p.pic
		p.pics++
		p.mu.Unlock()
		select {
		case p.frame <- struct{}{}:
		default:
		}
	}
}

// colourAt samples the latest picture at a point given as fractions of its width and height.
func (p *party) colourAt(fx, fy float64) (rgb, int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pics == 0 {
		return rgb{}, 0, 0
	}
	r, g, b := p.pic.At(int(fx*float64(p.pic.Width)), int(fy*float64(p.pic.Height)))
	return rgb{r, g, b}, p.pic.Width, p.pic.Height
}

// waitPicture waits until the latest picture has want at (fx, fy).
func (p *party) waitPicture(t *testing.T, ctx context.Context, what string, fx, fy float64, want rgb) {
	t.Helper()
	for {
		if got, _, _ := p.colourAt(fx, fy); got.near(want) {
			return
		}
		select {
		case <-ctx.Done():
			got, w, h := p.colourAt(fx, fy)
			t.Fatalf("%s: colour at (%.2f, %.2f) of %dx%d is %v, want %v", what, fx, fy, w, h, got, want)
		case <-p.frame:
		}
	}
}

func goertzel(x []int16, hz float64) float64 {
	c := 2 * math.Cos(2*math.Pi*hz/48000)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	n := float64(len(x))
	return (s1*s1 + s2*s2 - c*s1*s2) / (n * n)
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}
