package gateway

import (
	"strings"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
)

// opusCodec is what a phone leg's source sends: the rooms and browsers take it like any party's
// microphone.
var opusCodec = media.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}

// phoneSource is the phone's voice as Opus RTP: a media.Source fed by the leg's playout goroutine.
type phoneSource struct {
	id    string
	party string
	fan   *media.Fanout
}

func (s *phoneSource) ID() string                 { return s.id }
func (s *phoneSource) Label() string              { return "microphone" }
func (s *phoneSource) Kind() media.Kind           { return media.Audio }
func (s *phoneSource) Codec() media.Codec         { return opusCodec }
func (s *phoneSource) AddSink(k media.Sink) error { s.fan.Add(k); return nil }
func (s *phoneSource) RemoveSink(k media.Sink)    { s.fan.Remove(k) }
func (s *phoneSource) RequestKeyframe()           {}

// Party names the party the source belongs to (a recorder files each party's tracks together).
func (s *phoneSource) Party() string { return s.party }

// downPacket is an Opus packet on its way from a source's goroutine to the leg's sender.
type downPacket struct {
	from *sourceSink
	seq  uint16
	n    int
	buf  [1500]byte
}

// sourceSink is the leg's sink on one attached source. Only the most recently attached source is
// heard; the others' packets are dropped here, so a source that stays attached underneath (music
// while a voice is attached on top of it) costs nothing.
type sourceSink struct {
	leg *Leg
	src media.Source
}

// WriteRTP never blocks: the packet is copied into a pooled buffer and queued for the leg's sender
// goroutine; when the queue is full (the sender is behind) the packet is dropped.
func (s *sourceSink) WriteRTP(h *rtp.Header, payload []byte) error {
	l := s.leg
	if l.active.Load() != s || len(payload) == 0 || len(payload) > 1500 {
		return nil
	}
	p := l.pool.Get().(*downPacket)
	p.from, p.seq, p.n = s, h.SequenceNumber, copy(p.buf[:], payload)
	select {
	case l.down <- p:
	default:
		l.pool.Put(p)
		l.stats.downDropped.Add(1)
	}
	return nil
}

// attachable says whether a phone can receive src.
func attachable(src media.Source) bool {
	return src.Kind() == media.Audio && strings.EqualFold(src.Codec().MimeType, "audio/opus")
}
