// Package media holds the RTP seams shared by every room and endpoint: sources that produce RTP,
// sinks that consume it, and the fan-out between them. It imports no package of this project.
package media

import "github.com/pion/rtp"

// Kind is the media type of a source.
type Kind uint8

const (
	Audio Kind = iota + 1
	Video
)

func (k Kind) String() string {
	switch k {
	case Audio:
		return "audio"
	case Video:
		return "video"
	}
	return "unknown"
}

// Codec describes the RTP payload a source produces, so a receiving transport can negotiate it.
type Codec struct {
	MimeType    string // e.g. "video/VP8", "audio/opus"
	ClockRate   uint32
	Channels    uint16
	SDPFmtpLine string
}

// Source is one media stream a party sends: a camera, a microphone, a screen share, a composite.
type Source interface {
	ID() string
	// Label says what the source carries ("camera", "microphone", "screen") so rooms can route
	// a screen share differently from a camera.
	Label() string
	Kind() Kind
	Codec() Codec
	AddSink(Sink) error
	RemoveSink(Sink)
	// RequestKeyframe asks the producer for a keyframe (a PLI towards the sender). Rate-limited by
	// the implementation; safe to call from any goroutine.
	RequestKeyframe()
}

// Sink receives RTP. WriteRTP must not retain h or payload after it returns and must not block:
// a slow receiver drops, it never stalls the source.
type Sink interface {
	WriteRTP(h *rtp.Header, payload []byte) error
}

// Feedback is implemented by sources that adapt what they send to their receivers (the MCU's
// composites, which encode for their viewers). A transport reports, per sink, what its receiver
// says: the loss in its RTCP receiver reports and its bandwidth estimate (REMB). Both calls are rare
// (about one per second per receiver) and must not block.
type Feedback interface {
	ReportLoss(s Sink, fractionLost uint8) // RTCP's 8-bit fraction: 256 = everything lost
	ReportEstimate(s Sink, bps uint64)
}

// PCMSource is implemented by audio sources that also have their audio as 48 kHz mono PCM in 20 ms
// frames of 960 samples (a phone leg, which decodes G.711 anyway). A mixer subscribes to the PCM and
// skips an Opus decode; a phone leg receiving a mix takes the PCM and skips an Opus encode and decode.
type PCMSource interface {
	AddPCMSink(PCMSink) error
	RemovePCMSink(PCMSink)
}

// PCMSink receives 20 ms of 48 kHz mono PCM. WritePCM must not retain pcm after it returns and must
// not block.
type PCMSink interface {
	WritePCM(pcm []int16)
}
