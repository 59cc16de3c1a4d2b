package gateway

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
)

// opusCodec is what a phone leg's source sends: the rooms and browsers take it like any party's
// microphone.
var opusCodec = media.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}

// phoneSource is the phone's voice as Opus RTP: a media.Source fed by the leg's playout goroutine.
// It is also a media.PCMSource: the MCU's mixer takes the phone's 48 kHz PCM as it is, and no Opus
// is encoded for it.
type phoneSource struct {
	id    string
	party string
	fan   *media.Fanout

	pcm media.CowList[media.PCMSink] // read by the gateway clock
	nb  media.CowList[*downMux]      // other phones hearing this one: they take its 8 kHz as it is
}

// AddPCMSink implements media.PCMSource.
func (s *phoneSource) AddPCMSink(k media.PCMSink) error { s.pcm.Add(k); return nil }

// RemovePCMSink implements media.PCMSource.
func (s *phoneSource) RemovePCMSink(k media.PCMSink) { s.pcm.Remove(k) }

func (s *phoneSource) ID() string                 { return s.id }
func (s *phoneSource) Label() string              { return "microphone" }
func (s *phoneSource) Kind() media.Kind           { return media.Audio }
func (s *phoneSource) Codec() media.Codec         { return opusCodec }
func (s *phoneSource) AddSink(k media.Sink) error { s.fan.Add(k); return nil }
func (s *phoneSource) RemoveSink(k media.Sink)    { s.fan.Remove(k) }
func (s *phoneSource) RequestKeyframe()           {}

// Party names the party the source belongs to (a recorder files each party's tracks together).
func (s *phoneSource) Party() string { return s.party }

// downMux is the room-to-phone direction of one Opus source for every leg hearing it in one law:
// each packet is decoded, resampled and encoded to G.711 once, on the source's goroutine, and
// every leg stamps its own RTP header on the payload and sends it. All phones waiting in a queue
// hear the one music source, so they share one transcoding.
type downMux struct {
	key  muxKey
	legs atomic.Pointer[[]*Leg] // copy-on-write, changed under Gateway.muxMu

	mu   sync.Mutex // one packet at a time through the bridge
	dn   *downBridge
	now  time.Time
	emit func([]byte)
}

type muxKey struct {
	src media.Source
	law uint8
}

// write8 takes another phone's 8 kHz frame: only the G.711 encoding is left to do.
func (m *downMux) write8(frame []int16) {
	if len(*m.legs.Load()) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = time.Now()
	m.dn.feed8(frame, m.emit)
}

// WritePCM takes a source's audio as 48 kHz PCM (the MCU's mix-minus for this phone): only the
// 48 -> 8 kHz resampling and the G.711 encoding are left to do.
func (m *downMux) WritePCM(pcm []int16) {
	if len(*m.legs.Load()) == 0 || len(pcm) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = time.Now()
	m.dn.feed(pcm, m.emit)
}

// WriteRTP transcodes the packet and sends it to every leg. It never blocks: sends are
// non-blocking, and a leg whose socket is full loses the packet.
func (m *downMux) WriteRTP(h *rtp.Header, payload []byte) error {
	if len(*m.legs.Load()) == 0 || len(payload) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = time.Now()
	_ = m.dn.Push(h.SequenceNumber, payload, m.emit)
	return nil
}

func (m *downMux) send(g711 []byte) {
	for _, l := range *m.legs.Load() {
		l.sendAudio(g711, m.now)
	}
}

// join adds l to the legs hearing src in l's law, subscribing a new downMux to src if it is the
// first.
func (g *Gateway) join(l *Leg, src media.Source) (*downMux, error) {
	key := muxKey{src, l.law}
	g.muxMu.Lock()
	defer g.muxMu.Unlock()
	m := g.muxes[key]
	if m == nil {
		dn, err := newDownBridge(l.law)
		if err != nil {
			return nil, err
		}
		m = &downMux{key: key, dn: dn}
		m.emit = m.send
		empty := []*Leg{}
		m.legs.Store(&empty)
		if err := subscribe(src, m); err != nil {
			return nil, err
		}
		g.muxes[key] = m
	}
	legs := *m.legs.Load()
	if !slices.Contains(legs, l) {
		next := append(slices.Clip(legs), l)
		m.legs.Store(&next)
	}
	return m, nil
}

// leave removes l from m (nil: nothing); the last leg to leave unsubscribes m from its source.
func (g *Gateway) leave(l *Leg, m *downMux) {
	if m == nil {
		return
	}
	g.muxMu.Lock()
	defer g.muxMu.Unlock()
	legs := *m.legs.Load()
	i := slices.Index(legs, l)
	if i < 0 {
		return
	}
	next := slices.Delete(slices.Clone(legs), i, i+1)
	m.legs.Store(&next)
	if len(next) == 0 && g.muxes[m.key] == m {
		delete(g.muxes, m.key)
		unsubscribe(m.key.src, m)
	}
}

// attachable says whether a phone can receive src.
func attachable(src media.Source) bool {
	return src.Kind() == media.Audio && strings.EqualFold(src.Codec().MimeType, "audio/opus")
}

// subscribe takes another phone's audio at 8 kHz, src's audio as PCM when it offers it (the
// MCU's mix: no Opus encode there, no decode here), else as Opus RTP.
func subscribe(src media.Source, m *downMux) error {
	if ps, ok := src.(*phoneSource); ok {
		ps.nb.Add(m)
		return nil
	}
	if ps, ok := src.(media.PCMSource); ok {
		return ps.AddPCMSink(m)
	}
	return src.AddSink(m)
}

func unsubscribe(src media.Source, m *downMux) {
	if ps, ok := src.(*phoneSource); ok {
		ps.nb.Remove(m)
		return
	}
	if ps, ok := src.(media.PCMSource); ok {
		ps.RemovePCMSink(m)
		return
	}
	src.RemoveSink(m)
}
