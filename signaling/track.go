package signaling

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/signaling/fastpath"
)

// inTrack is what a browser sends (a camera, a microphone, a screen), offered to rooms as a
// media.Source. One goroutine reads it and hands each packet to the current sinks.
type inTrack struct {
	id, label string
	party     string // whose track it is: a recorder files each party's tracks together
	kind      media.Kind
	codec     media.Codec
	remote    *webrtc.TrackRemote
	pc        *webrtc.PeerConnection
	fan       *media.Fanout
	lastPLI   atomic.Int64 // unix nanos of the last keyframe request sent
	// fanMu keeps the sinks fed by one goroutine at a time while the track moves to the fast path:
	// pion's reader may still hand over what it had buffered.
	fanMu sync.Mutex
}

// keyframeInterval caps PLIs towards one sender: several viewers asking at once cost one keyframe.
const keyframeInterval = 300 * time.Millisecond

func newInTrack(pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, label string, ctr *media.Counters) *inTrack {
	c := remote.Codec()
	kind := media.Audio
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		kind = media.Video
	}
	return &inTrack{
		id: remote.ID() + "/" + remote.StreamID(), label: label, kind: kind, remote: remote, pc: pc,
		codec: media.Codec{MimeType: c.MimeType, ClockRate: c.ClockRate, Channels: c.Channels, SDPFmtpLine: c.SDPFmtpLine},
		fan:   media.NewFanout(ctr),
	}
}

func (t *inTrack) ID() string                 { return t.id }
func (t *inTrack) Label() string              { return t.label }
func (t *inTrack) Party() string              { return t.party }
func (t *inTrack) Kind() media.Kind           { return t.kind }
func (t *inTrack) Codec() media.Codec         { return t.codec }
func (t *inTrack) AddSink(s media.Sink) error { t.fan.Add(s); return nil }
func (t *inTrack) RemoveSink(s media.Sink)    { t.fan.Remove(s) }

func (t *inTrack) RequestKeyframe() {
	if t.kind != media.Video {
		return
	}
	now := time.Now().UnixNano()
	last := t.lastPLI.Load()
	if now-last < int64(keyframeInterval) || !t.lastPLI.CompareAndSwap(last, now) {
		return
	}
	_ = t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
}

// run forwards until the track ends. The buffer and header are reused: nothing is allocated here
// per packet, and the sinks copy what they keep.
func (t *inTrack) run() {
	buf := make([]byte, 1500)
	var h rtp.Header
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			return
		}
		hn, err := h.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		end := n
		if h.Padding && end > hn {
			pad := int(buf[end-1])
			if pad > end-hn {
				continue
			}
			end -= pad
		}
		t.fanMu.Lock()
		t.fan.Write(&h, buf[hn:end])
		t.fanMu.Unlock()
	}
}

// writeFast takes the track's packets from the fast path (on the port's read goroutine).
func (t *inTrack) writeFast(h *rtp.Header, payload []byte) {
	t.fanMu.Lock()
	t.fan.Write(h, payload)
	t.fanMu.Unlock()
}

// outTrack is a stream the server sends to a browser: a webrtc.TrackLocal bound to one
// PeerConnection, and a media.Sink fed by exactly one source goroutine at a time.
type outTrack struct {
	id, streamID string
	kind         webrtc.RTPCodecType
	codec        webrtc.RTPCodecCapability
	src          atomic.Pointer[sourceRef] // what feeds it now; a slot is reused for another source
	bound        atomic.Pointer[binding]

	mu  sync.Mutex // held only across a write; uncontended in steady state (one source goroutine)
	rw  media.Rewriter
	hdr rtp.Header

	// What happened to the packets, logged when the peer closes: a stream that reached nobody
	// shows whether it was never fed, fed while unnegotiated, or sent.
	sent, unbound atomic.Uint64

	link *atomic.Pointer[fastpath.Session] // the receiver's fast-path session, when it has one
}

type sourceRef struct{ media.Source }

type binding struct {
	ssrc webrtc.SSRC
	pt   webrtc.PayloadType
	w    webrtc.TrackLocalWriter
}

func newOutTrack(src media.Source, streamID string) *outTrack {
	c := src.Codec()
	kind := webrtc.RTPCodecTypeAudio
	if src.Kind() == media.Video {
		kind = webrtc.RTPCodecTypeVideo
	}
	t := &outTrack{
		id: src.ID(), streamID: streamID, kind: kind,
		codec: webrtc.RTPCodecCapability{MimeType: c.MimeType, ClockRate: c.ClockRate, Channels: c.Channels, SDPFmtpLine: c.SDPFmtpLine},
	}
	t.src.Store(&sourceRef{src})
	return t
}

func (t *outTrack) ID() string                { return t.id }
func (t *outTrack) RID() string               { return "" }
func (t *outTrack) StreamID() string          { return t.streamID }
func (t *outTrack) Kind() webrtc.RTPCodecType { return t.kind }

func (t *outTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, t.codec.MimeType) {
			t.bound.Store(&binding{ssrc: ctx.SSRC(), pt: c.PayloadType, w: ctx.WriteStream()})
			// What the source sent before now was dropped (unbound), its last keyframe with it.
			t.requestKeyframe()
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

func (t *outTrack) Unbind(webrtc.TrackLocalContext) error {
	t.bound.Store(nil)
	return nil
}

func (t *outTrack) fastSession() *fastpath.Session {
	if t.link == nil {
		return nil
	}
	return t.link.Load()
}

// requestKeyframe asks the source for a keyframe when this is a bound video track: the receiver
// cannot start decoding without one, and not every receiver asks (browsers do; recorders, test
// clients and some SIP video phones do not, and would wait for the sender's periodic keyframe).
func (t *outTrack) requestKeyframe() {
	if t.kind != webrtc.RTPCodecTypeVideo || t.bound.Load() == nil {
		return
	}
	if ref := t.src.Load(); ref != nil {
		ref.RequestKeyframe()
	}
}

// WriteRTP rewrites the header for this receiver (its SSRC and payload type, a continuous sequence)
// and sends. The sender's header extensions are dropped: their ids belong to the sender's session.
// Until negotiation binds the track, packets are dropped (the receiver asks for a keyframe anyway).
func (t *outTrack) WriteRTP(h *rtp.Header, payload []byte) error {
	b := t.bound.Load()
	if b == nil {
		t.unbound.Add(1)
		return nil
	}
	t.sent.Add(1)
	t.mu.Lock()
	seq, ts := t.rw.Rewrite(h)
	t.hdr.Version = 2
	t.hdr.Padding = false
	t.hdr.PaddingSize = 0
	t.hdr.Marker = h.Marker
	t.hdr.PayloadType = uint8(b.pt)
	t.hdr.SequenceNumber = seq
	t.hdr.Timestamp = ts
	t.hdr.SSRC = uint32(b.ssrc)
	t.hdr.CSRC = t.hdr.CSRC[:0]
	t.hdr.Extension = false
	t.hdr.Extensions = t.hdr.Extensions[:0]
	var err error
	if s := t.fastSession(); s != nil {
		err = s.Send(&t.hdr, payload)
	} else {
		_, err = b.w.WriteRTP(&t.hdr, payload)
	}
	t.mu.Unlock()
	return err
}

// readRTCP drives the sender's interceptors (NACK responder, reports) and turns the receiver's
// keyframe requests into requests to the source.
func (t *outTrack) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		ref := t.src.Load()
		if ref == nil {
			continue
		}
		fb, _ := ref.Source.(media.Feedback)
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				ref.RequestKeyframe()
			case *rtcp.TransportLayerNack:
				// What went out on the fast path, pion's NACK responder never saw.
				if s := t.fastSession(); s != nil {
					s.Resend(p.MediaSSRC, p.Nacks)
				}
			case *rtcp.ReceiverReport:
				if fb != nil {
					t.reportLoss(fb, p.Reports)
				}
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				if fb != nil {
					fb.ReportEstimate(t, uint64(p.Bitrate))
				}
			}
		}
	}
}

// reportLoss passes on the report block about this track's stream, if the report has one.
func (t *outTrack) reportLoss(fb media.Feedback, blocks []rtcp.ReceptionReport) {
	b := t.bound.Load()
	if b == nil {
		return
	}
	for _, r := range blocks {
		if r.SSRC == uint32(b.ssrc) {
			fb.ReportLoss(t, r.FractionLost)
		}
	}
}
