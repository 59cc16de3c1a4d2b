package mcu

import (
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
}

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
	}
	return nil
}

func (o *output) RemoveSink(s media.Sink) {
	o.fan.Remove(s)
	o.sinks.Add(-1)
}

// RequestKeyframe is rate-limited by the encoding loop, which reads the flag once per frame.
func (o *output) RequestKeyframe() {
	if o.kind == media.Video {
		o.keyframe.Store(true)
	}
}

func (o *output) watched() bool { return o.sinks.Load() > 0 }

var (
	vp8Codec  = media.Codec{MimeType: "video/VP8", ClockRate: 90000}
	opusCodec = media.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
)
