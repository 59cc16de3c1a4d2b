package mcu

import (
	"sync"
	"sync/atomic"

	"github.com/contactcenter/vcc/media"
)

// output is a stream the MCU produces: one composite (shared by every viewer of one picture) or one
// party's mix-minus. Its sinks are the viewers' transports; the fan-out never blocks on them.
type output struct {
	id, label string
	kind      media.Kind
	codec     media.Codec
	fan       *media.Fanout
	sinks     atomic.Int32
	keyframe  atomic.Bool // a viewer asked for a keyframe (PLI/FIR) or just attached
	wake      func()      // tells the room a keyframe is wanted, when its clock may be stopped

	// Bitrate feedback (video): each viewer's estimate in kbps, and the lowest of them, which the
	// encoder follows. Zero until a viewer reports.
	maxKbps, minKbps float64
	mu               sync.Mutex
	rates            map[media.Sink]*viewerRate
	target           atomic.Int64

	// PCM receivers of a mix (phone legs): they get the mix-minus before encoding, so neither side
	// spends an Opus encode and decode on it. Copy-on-write, read by the audio clock.
	pcmSinks media.CowList[media.PCMSink]
}

// AddPCMSink implements media.PCMSource for a mix.
func (o *output) AddPCMSink(s media.PCMSink) error {
	if o.kind != media.Audio {
		return ErrNotAudio
	}
	o.pcmSinks.Add(s)
	return nil
}

// RemovePCMSink implements media.PCMSource.
func (o *output) RemovePCMSink(s media.PCMSink) { o.pcmSinks.Remove(s) }

// writePCM hands a frame to the PCM receivers; true if there were any.
func (o *output) writePCM(pcm []int16) bool {
	sinks := o.pcmSinks.Load()
	if len(sinks) == 0 {
		return false
	}
	for _, s := range sinks {
		s.WritePCM(pcm)
	}
	return true
}

type viewerRate struct{ loss, remb float64 }

func newOutput(id, label string, kind media.Kind, codec media.Codec, ctr *media.Counters) *output {
	return &output{id: id, label: label, kind: kind, codec: codec, fan: media.NewFanout(ctr)}
}

func (o *output) ID() string         { return o.id }
func (o *output) Label() string      { return o.label }
func (o *output) Kind() media.Kind   { return o.kind }
func (o *output) Codec() media.Codec { return o.codec }

// AddSink subscribes a viewer. A new video viewer cannot decode until the next keyframe, so one is
// requested at once rather than waiting for the viewer's own PLI.
func (o *output) AddSink(s media.Sink) error {
	o.fan.Add(s)
	o.sinks.Add(1)
	if o.kind == media.Video {
		o.keyframe.Store(true)
		o.poke()
	}
	return nil
}

func (o *output) poke() {
	if o.wake != nil {
		o.wake()
	}
}

func (o *output) RemoveSink(s media.Sink) {
	o.fan.Remove(s)
	o.sinks.Add(-1)
	o.mu.Lock()
	if _, ok := o.rates[s]; ok {
		delete(o.rates, s)
		o.retarget()
	}
	o.mu.Unlock()
}

// ReportLoss adapts the viewer's estimate to the loss its receiver reports: back off in proportion
// to heavy loss, probe upwards slowly while there is almost none (the loss-based half of GCC).
func (o *output) ReportLoss(s media.Sink, fractionLost uint8) {
	if o.kind != media.Video {
		return
	}
	loss := float64(fractionLost) / 256
	o.mu.Lock()
	r := o.rate(s)
	switch {
	case loss > 0.10:
		r.loss *= 1 - 0.5*loss
	case loss < 0.02:
		r.loss *= 1.08
	}
	r.loss = min(max(r.loss, o.minKbps), o.maxKbps)
	o.retarget()
	o.mu.Unlock()
}

// ReportEstimate takes the receiver's own bandwidth estimate (REMB) as a ceiling for its viewer.
func (o *output) ReportEstimate(s media.Sink, bps uint64) {
	if o.kind != media.Video {
		return
	}
	o.mu.Lock()
	o.rate(s).remb = min(max(float64(bps)/1000, o.minKbps), o.maxKbps)
	o.retarget()
	o.mu.Unlock()
}

func (o *output) rate(s media.Sink) *viewerRate {
	if o.rates == nil {
		o.rates = map[media.Sink]*viewerRate{}
	}
	r, ok := o.rates[s]
	if !ok {
		r = &viewerRate{loss: o.maxKbps, remb: o.maxKbps}
		o.rates[s] = r
	}
	return r
}

// retarget sets the encoder's target to the lowest viewer's estimate: one encoding serves every
// viewer of a picture, and a stream too fat for one of them would freeze it. The floor (minKbps)
// keeps one very poor link from degrading the picture for everyone else past legibility.
func (o *output) retarget() {
	lowest := o.maxKbps
	for _, r := range o.rates {
		lowest = min(lowest, r.loss, r.remb)
	}
	if len(o.rates) == 0 {
		lowest = 0
	}
	o.target.Store(int64(lowest))
}

// RequestKeyframe is rate-limited by the encoding loop, which reads the flag once per frame.
func (o *output) RequestKeyframe() {
	if o.kind == media.Video {
		o.keyframe.Store(true)
		o.poke()
	}
}

func (o *output) watched() bool { return o.sinks.Load() > 0 }

var (
	vp8Codec  = media.Codec{MimeType: "video/VP8", ClockRate: 90000}
	opusCodec = media.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
)
