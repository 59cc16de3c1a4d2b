package main

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Payload layout, written by the sender and checked by the receiver. Byte 0 is a VP8 payload
// descriptor (start of partition) so the video looks like VP8 to anything that peeks; the server
// forwards payloads untouched, so the same layout serves audio.
const (
	magic      = 0x56434C54 // "VCLT"
	offMagic   = 1
	offPhase   = 5
	offStream  = 6
	offCounter = 10
	offSent    = 14
	payloadHdr = 22
)

// Phases stamped into every packet. Counting by the stamped phase (not by arrival time) makes the
// window exact: a packet is "expected" iff its sender stamped it phaseMeasure, whenever it arrives.
const (
	phaseWarmup uint8 = iota
	phaseMeasure
	phaseTail
)

var phase atomic.Uint32

// stream is one sent track (a party's video or audio) and what its receiver saw of it.
type stream struct {
	id    uint32
	video bool
	sent  atomic.Uint64 // packets written with phaseMeasure
	fails atomic.Uint64 // writes that returned an error

	mu      sync.Mutex // taken by the receiving goroutine only; uncontended
	seen    []uint64   // bitmap of measured-phase counters received, for loss and duplicates
	unique  uint64
	dups    uint64
	latency histogram
}

// record counts one measured-phase packet.
func (s *stream) record(ctr uint32, latNs int64) {
	s.mu.Lock()
	w, bit := int(ctr/64), uint64(1)<<(ctr%64)
	for w >= len(s.seen) { // grows only while the window lasts: bounded by pps x duration / 8 bytes
		s.seen = append(s.seen, 0)
	}
	if s.seen[w]&bit != 0 {
		s.dups++
	} else {
		s.seen[w] |= bit
		s.unique++
		s.latency.add(latNs)
	}
	s.mu.Unlock()
}

// synthTrack is a webrtc.TrackLocal written straight to its bound stream with a reused header and
// buffer: unlike TrackLocalStaticRTP it copies nothing per packet.
type synthTrack struct {
	id, streamID, mime string
	kind               webrtc.RTPCodecType
	bound              atomic.Pointer[binding]
}

type binding struct {
	ssrc webrtc.SSRC
	pt   webrtc.PayloadType
	w    webrtc.TrackLocalWriter
}

func (t *synthTrack) ID() string                { return t.id }
func (t *synthTrack) RID() string               { return "" }
func (t *synthTrack) StreamID() string          { return t.streamID }
func (t *synthTrack) Kind() webrtc.RTPCodecType { return t.kind }

func (t *synthTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, t.mime) {
			t.bound.Store(&binding{ssrc: ctx.SSRC(), pt: c.PayloadType, w: ctx.WriteStream()})
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

func (t *synthTrack) Unbind(webrtc.TrackLocalContext) error {
	t.bound.Store(nil)
	return nil
}

// send paces one track with its own ticker until ctx ends. The payload counter restarts at each
// phase change so the receiver can index its bitmap by it. Nothing is allocated per packet here.
func (t *synthTrack) send(ctx context.Context, s *stream, pps, size int, clock uint32) {
	interval := time.Second / time.Duration(pps)
	// A random phase offset keeps hundreds of tickers from firing in lockstep bursts.
	select {
	case <-time.After(rand.N(interval)):
	case <-ctx.Done():
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	buf := make([]byte, size)
	buf[0] = 0x10
	binary.BigEndian.PutUint32(buf[offMagic:], magic)
	binary.BigEndian.PutUint32(buf[offStream:], s.id)
	h := rtp.Header{Version: 2, Marker: true, SequenceNumber: uint16(rand.Uint32())}
	step := clock / uint32(pps)
	var ctr uint32
	cur := uint8(255)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b := t.bound.Load()
		if b == nil {
			continue // not negotiated yet
		}
		ph := uint8(phase.Load())
		if ph != cur {
			cur, ctr = ph, 0
		}
		buf[offPhase] = ph
		binary.BigEndian.PutUint32(buf[offCounter:], ctr)
		binary.BigEndian.PutUint64(buf[offSent:], uint64(time.Now().UnixNano()))
		h.SequenceNumber++
		h.Timestamp += step
		h.SSRC, h.PayloadType = uint32(b.ssrc), uint8(b.pt)
		if _, err := b.w.WriteRTP(&h, buf); err != nil {
			s.fails.Add(1)
			continue // the counter is not consumed: expected counts only packets that left
		}
		ctr++
		if ph == phaseMeasure {
			s.sent.Add(1)
		}
	}
}

// receive reads one forwarded track with a reused buffer (TrackRemote.ReadRTP allocates per
// packet) and accounts each packet to the stream whose id it carries.
func (p *party) receive(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	go drainRTCP(r.Read)
	buf := make([]byte, 1500)
	var h rtp.Header
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		hn, err := h.Unmarshal(buf[:n])
		if err != nil {
			p.foreign.Add(1)
			continue
		}
		pl := buf[hn:n]
		if len(pl) < payloadHdr || binary.BigEndian.Uint32(pl[offMagic:]) != magic {
			p.foreign.Add(1)
			continue
		}
		id := binary.BigEndian.Uint32(pl[offStream:])
		if int(id) >= len(p.lt.streams) || int(id/2) == p.idx {
			p.foreign.Add(1) // unknown, or our own stream echoed back: a routing bug
			continue
		}
		s := p.lt.streams[id]
		p.gotMedia(s.video)
		if pl[offPhase] == phaseMeasure {
			s.record(binary.BigEndian.Uint32(pl[offCounter:]), now-int64(binary.BigEndian.Uint64(pl[offSent:])))
		}
	}
}

// drainRTCP keeps reading RTCP so pion's interceptors (NACK responder, reports) run and its
// buffers never fill.
func drainRTCP(read func([]byte) (int, interceptor.Attributes, error)) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := read(buf); err != nil {
			return
		}
	}
}
