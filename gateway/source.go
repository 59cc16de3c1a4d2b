package gateway

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

// opusCodec is what a phone leg's source sends: the rooms and browsers take it like any party's
// microphone.
var opusCodec = media.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}

// phoneSource is the phone's voice as Opus RTP: a media.Source fed by the gateway clock, encoded
// from the phone's G.711, or the phone's own Opus packets passed through. It is also a
// media.PCMSource: the MCU's mixer takes the phone's 48 kHz PCM as it is, and no Opus is encoded
// (or decoded twice) for it.
type phoneSource struct {
	id    string
	party string
	fan   *media.Fanout

	pcm  media.CowList[media.PCMSink] // read by the gateway clock
	nb   media.CowList[*downMux]      // other phones hearing this one: they take its 8 kHz as it is
	opus bool                         // the phone speaks Opus: its packets are passed through
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

// downMux is the room-to-phone direction of one Opus source for every leg hearing it in one codec.
// For G.711 legs each packet is decoded, resampled and encoded once, on the source's goroutine, and
// every leg stamps its own RTP header on the payload and sends it. For Opus legs an Opus source's
// packets are passed through untouched (each leg restamps them), and only a source heard as PCM (a
// mixer's 48 kHz, another G.711 phone's 8 kHz) is encoded, once. All phones waiting in a queue hear
// the one music source, so they share one transcoding, or none.
type downMux struct {
	key  muxKey
	via  subscription
	legs atomic.Pointer[[]*Leg] // copy-on-write, changed under Gateway.muxMu

	mu   sync.Mutex // one packet at a time through the bridge
	dn   *downBridge
	op   *opusDown // Opus legs, from PCM or 8 kHz; nil when passed through or G.711
	now  time.Time
	emit func([]byte)

	// The source's last packet passed through (Opus legs hearing Opus RTP).
	seq    uint16
	ssrc   uint32
	seeded bool
}

type muxKey struct {
	src   media.Source
	codec uint8 // the legs' codec: ptPCMU, ptPCMA or codecOpus
}

// subscription is how a downMux takes its source.
type subscription uint8

const (
	viaRTP   subscription = iota // Opus RTP (AddSink)
	viaPCM                       // 48 kHz PCM (media.PCMSource: the MCU's mix)
	viaPhone                     // another phone's 8 kHz frames (phoneSource.nb)
)

// write8 takes another phone's 8 kHz frame: only the G.711 (or Opus) encoding is left to do.
func (m *downMux) write8(frame []int16) {
	if len(*m.legs.Load()) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = time.Now()
	if m.op != nil {
		m.encode(frame)
		return
	}
	m.dn.feed8(frame, m.emit)
}

// WritePCM takes a source's audio as 48 kHz PCM (the MCU's mix-minus for this phone): only the
// 48 -> 8 kHz resampling and the G.711 encoding, or the Opus encoding, are left to do.
func (m *downMux) WritePCM(pcm []int16) {
	if len(*m.legs.Load()) == 0 || len(pcm) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = time.Now()
	if m.op != nil {
		m.encode(pcm)
		return
	}
	m.dn.feed(pcm, m.emit)
}

// encode makes one Opus packet of a 20 ms frame and sends it to every leg. m.mu is held.
func (m *downMux) encode(pcm []int16) {
	pkt, err := m.op.encode(pcm)
	if err != nil || len(pkt) == 0 {
		return
	}
	for _, l := range *m.legs.Load() {
		l.sendAudio(pkt, frame48, m.now)
	}
}

// WriteRTP transcodes the packet and sends it to every leg, or passes it through to Opus legs. It
// never blocks: sends are non-blocking, and a leg whose socket is full loses the packet.
func (m *downMux) WriteRTP(h *rtp.Header, payload []byte) error {
	if len(*m.legs.Load()) == 0 || len(payload) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = time.Now()
	if m.key.codec == codecOpus {
		m.pass(h, payload)
		return nil
	}
	_ = m.dn.Push(h.SequenceNumber, payload, m.emit)
	return nil
}

// pass hands an Opus packet as it is to every leg, which restamps it. A late or duplicate packet is
// dropped; a new stream (another SSRC, a jump in the numbering) makes each leg start afresh, its
// timestamps and sequence numbers going on from where they were. m.mu is held.
func (m *downMux) pass(h *rtp.Header, payload []byte) {
	d := int16(h.SequenceNumber - m.seq)
	fresh := !m.seeded || h.SSRC != m.ssrc || d > maxSeqJump || d < -maxSeqJump
	if !fresh && d <= 0 {
		return
	}
	m.seq, m.ssrc, m.seeded = h.SequenceNumber, h.SSRC, true
	dur, err := audio.OpusPacketSamples(payload)
	if err != nil {
		return // not Opus: nothing a phone could decode
	}
	for _, l := range *m.legs.Load() {
		l.passAudio(h.SequenceNumber, h.Timestamp, payload, uint32(dur), fresh, m.now)
	}
}

// maxSeqJump is the sequence number step past which a stream counts as restarted (2 s of 20 ms
// packets), not as having lost packets.
const maxSeqJump = 100

func (m *downMux) send(g711 []byte) {
	for _, l := range *m.legs.Load() {
		l.sendAudio(g711, frame8, m.now)
	}
}

// join adds l to the legs hearing src in l's codec, subscribing a new downMux to src if it is the
// first.
func (g *Gateway) join(l *Leg, src media.Source) (*downMux, error) {
	key := muxKey{src, l.codec}
	g.muxMu.Lock()
	defer g.muxMu.Unlock()
	m := g.muxes[key]
	if m == nil {
		m = &downMux{key: key, via: subscriptionOf(src, l.codec)}
		var err error
		switch {
		case l.codec != codecOpus:
			m.dn, err = newDownBridge(l.codec)
		case m.via == viaPCM:
			m.op, err = newOpusDown(audio.OpusSampleRate)
		case m.via == viaPhone:
			m.op, err = newOpusDown(8000)
		}
		if err != nil {
			return nil, err
		}
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

// subscriptionOf is how legs in codec take src: another phone at 8 kHz, unless both are Opus (its
// packets are then passed through); a source offering PCM (the MCU's mix: no Opus encode there, no
// decode here) as PCM; anything else as Opus RTP.
func subscriptionOf(src media.Source, codec uint8) subscription {
	if ps, ok := src.(*phoneSource); ok {
		if codec == codecOpus && ps.opus {
			return viaRTP
		}
		return viaPhone
	}
	if _, ok := src.(media.PCMSource); ok {
		return viaPCM
	}
	return viaRTP
}

func subscribe(src media.Source, m *downMux) error {
	switch m.via {
	case viaPhone:
		src.(*phoneSource).nb.Add(m)
		return nil
	case viaPCM:
		return src.(media.PCMSource).AddPCMSink(m)
	}
	return src.AddSink(m)
}

func unsubscribe(src media.Source, m *downMux) {
	switch m.via {
	case viaPhone:
		src.(*phoneSource).nb.Remove(m)
	case viaPCM:
		src.(media.PCMSource).RemovePCMSink(m)
	default:
		src.RemoveSink(m)
	}
}
