package signaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/signaling/fastpath"
)

// peer is a browser party in one call: its PeerConnection and the tracks on it. It is the
// call.Endpoint signaling hands to the call; the room attaches sources to it and reads its sources.
// The peer outlives a room switch (SFU to MCU): only what is attached changes.
type peer struct {
	id    call.PartyID
	role  call.Role
	pc    *webrtc.PeerConnection
	send  func(typ string, data any) // to the party's WebSocket, never blocks
	log   *slog.Logger
	ctr   *media.Counters
	ctx   context.Context
	stop  context.CancelCauseFunc
	onSrc func()

	mu      sync.Mutex // sources, outs, idle, caps
	sources []media.Source
	outs    map[media.Source]*attached
	idle    []*attached // negotiated tracks with no source now, reused before adding new ones
	caps    call.Caps

	neg negotiator

	// The fast path (signaling/fastpath), when the server runs one: the session with this party's
	// address once its connection is up. Its streams are then received and sent below pion.
	fast *fastpath.Port
	link atomic.Pointer[fastpath.Session]
}

type attached struct {
	track  *outTrack
	sender *webrtc.RTPSender
}

func newPeer(api *webrtc.API, fast *fastpath.Port, id call.PartyID, role call.Role, send func(string, any), ctr *media.Counters, log *slog.Logger) (*peer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("signaling: new peer connection: %w", err)
	}
	ctx, stop := context.WithCancelCause(context.Background())
	p := &peer{
		id: id, role: role, pc: pc, send: send, log: log, ctr: ctr, ctx: ctx, stop: stop, fast: fast,
		outs: map[media.Source]*attached{},
		caps: call.Caps{Audio: true, Video: true, Screen: true},
	}
	p.neg = negotiator{pc: pc, send: send, log: log}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			send("candidate", candidateMsg{})
			return
		}
		ci := c.ToJSON()
		send("candidate", candidateMsg{Candidate: ci.Candidate, SDPMid: ci.SDPMid, SDPMLineIndex: ci.SDPMLineIndex})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		log.Debug("peer connection state", "state", s.String())
		switch s {
		case webrtc.PeerConnectionStateConnected:
			p.startFast()
			// Keyframes asked for when the tracks were bound may have gone out before DTLS was up.
			p.mu.Lock()
			tracks := make([]*outTrack, 0, len(p.outs))
			for _, a := range p.outs {
				tracks = append(tracks, a.track)
			}
			p.mu.Unlock()
			for _, t := range tracks {
				t.requestKeyframe()
			}
		case webrtc.PeerConnectionStateFailed:
			p.stop(call.ReasonMediaFailed)
		case webrtc.PeerConnectionStateClosed:
			p.stop(call.ReasonHangup)
		}
	})
	pc.OnTrack(p.onTrack)
	return p, nil
}

func (p *peer) onTrack(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	p.mu.Lock()
	label := "microphone"
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		label = "camera"
		for _, s := range p.sources {
			if s.Kind() == media.Video {
				label = "screen" // a second video track is a screen share
			}
		}
	}
	t := newInTrack(p.pc, remote, label, p.ctr)
	t.party = string(p.id)
	p.sources = append(p.sources, t)
	notify := p.onSrc
	p.mu.Unlock()
	if s := p.link.Load(); s != nil {
		s.Receive(uint32(remote.SSRC()), t.writeFast, t.kind == media.Video)
	}
	p.log.Info("receiving track", "kind", t.kind.String(), "label", label, "codec", t.codec.MimeType)
	if notify != nil {
		notify()
	}
	t.run()
	p.mu.Lock()
	for i, s := range p.sources {
		if s == t {
			p.sources = append(p.sources[:i:i], p.sources[i+1:]...)
			break
		}
	}
	notify = p.onSrc
	p.mu.Unlock()
	if notify != nil && p.ctx.Err() == nil {
		notify()
	}
}

// call.Endpoint

func (p *peer) ID() call.PartyID { return p.id }
func (p *peer) Role() call.Role  { return p.role }

func (p *peer) Caps() call.Caps {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.caps
}

func (p *peer) Sources() []media.Source {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]media.Source(nil), p.sources...)
}

func (p *peer) OnSourcesChanged(f func()) {
	p.mu.Lock()
	p.onSrc = f
	p.mu.Unlock()
}

func (p *peer) Context() context.Context { return p.ctx }

// Attach sends src to the browser: on an idle track of the same codec if there is one (no
// renegotiation: hold music replacing a voice, a composite replacing a camera), else on a new
// track, which renegotiates.
func (p *peer) Attach(src media.Source) error {
	if p.ctx.Err() != nil {
		return context.Cause(p.ctx)
	}
	p.mu.Lock()
	if _, ok := p.outs[src]; ok {
		p.mu.Unlock()
		return nil
	}
	for i, a := range p.idle {
		if strings.EqualFold(a.track.codec.MimeType, src.Codec().MimeType) {
			p.idle = append(p.idle[:i:i], p.idle[i+1:]...)
			p.outs[src] = a
			a.track.src.Store(&sourceRef{src})
			p.mu.Unlock()
			return src.AddSink(a.track)
		}
	}
	t := newOutTrack(src, "vcc-"+src.Label())
	t.link = &p.link
	sender, err := p.pc.AddTrack(t)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("signaling: add track: %w", err)
	}
	p.outs[src] = &attached{track: t, sender: sender}
	p.mu.Unlock()
	go t.readRTCP(sender)
	if err := src.AddSink(t); err != nil {
		return err
	}
	p.neg.negotiate()
	return nil
}

// logSent records, once per peer, what each stream sent to the party carried: the first thing to
// look at when a party saw or heard nothing.
func (p *peer) logSent(outs map[media.Source]*attached, idle []*attached) {
	if len(outs)+len(idle) == 0 {
		return
	}
	var b strings.Builder
	note := func(a *attached, state string) {
		fmt.Fprintf(&b, "%s %s %s: sent %d, unnegotiated %d; ", a.track.kind, a.track.id, state, a.track.sent.Load(), a.track.unbound.Load())
	}
	for _, a := range outs {
		note(a, "attached")
	}
	for _, a := range idle {
		note(a, "idle")
	}
	p.log.Info("peer closed", "streams", b.String())
}

// Detach stops sending src. Its track stays negotiated and idle, ready for the next source.
func (p *peer) Detach(src media.Source) {
	p.mu.Lock()
	a, ok := p.outs[src]
	delete(p.outs, src)
	if ok {
		p.idle = append(p.idle, a)
	}
	p.mu.Unlock()
	if ok {
		src.RemoveSink(a.track)
	}
}

// Close ends the leg: every sink is unsubscribed first so no source writes into a closed transport.
func (p *peer) Close(reason error) error {
	p.mu.Lock()
	outs := p.outs
	p.outs = map[media.Source]*attached{}
	p.onSrc = nil
	idle := p.idle
	p.mu.Unlock()
	for src, a := range outs {
		src.RemoveSink(a.track)
	}
	p.logSent(outs, idle)
	if reason == nil {
		reason = call.ReasonHangup
	}
	p.stop(reason)
	if s := p.link.Swap(nil); s != nil {
		p.fast.Forget(s)
	}
	err := p.pc.Close()
	if errors.Is(err, webrtc.ErrConnectionClosed) {
		return nil
	}
	return err
}

// twccURI is the transport-wide congestion control header extension.
const twccURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// startFast moves this party's streams to the fast path once its connection is up: the streams it
// already sends, those it will send (onTrack), and everything sent to it (outTrack.WriteRTP). The
// transport-cc feedback and NACKs pion's interceptors gave for them the session now builds.
func (p *peer) startFast() {
	if p.fast == nil || p.link.Load() != nil {
		return
	}
	remote, ice, ok := p.remoteAddr()
	if !ok {
		return
	}
	s := p.fast.Session(remote)
	if s == nil {
		p.log.Warn("fast path: no SRTP session for the connection; it stays on pion's path", "remote", remote)
		return
	}
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Receiver() == nil {
			continue
		}
		for _, e := range tr.Receiver().GetParameters().HeaderExtensions {
			if e.URI == twccURI {
				s.SetTWCC(uint8(e.ID))
			}
		}
	}
	if !p.link.CompareAndSwap(nil, s) {
		return
	}
	p.log.Info("fast path on", "remote", remote)
	// The browser may nominate another candidate pair later (Chromium often moves to another of
	// its addresses): the session follows, or its packets would come in where it has no keys.
	ice.OnSelectedCandidatePairChange(func(cp *webrtc.ICECandidatePair) {
		if a, err := netip.ParseAddr(cp.Remote.Address); err == nil && p.link.Load() == s {
			to := netip.AddrPortFrom(a, cp.Remote.Port)
			p.fast.Follow(s, to)
			p.log.Info("fast path follows the connection", "remote", to)
		}
	})
	p.mu.Lock()
	for _, src := range p.sources {
		if t, ok := src.(*inTrack); ok {
			s.Receive(uint32(t.remote.SSRC()), t.writeFast, t.kind == media.Video)
		}
	}
	p.mu.Unlock()
	go p.sendFeedback(s)
}

// sendFeedback sends the fast streams' RTCP (transport-cc feedback, NACKs) every 100 ms, as pion's
// interceptors did for them.
func (p *peer) sendFeedback(s *fastpath.Session) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-tick.C:
			if fb := s.Feedback(); len(fb) > 0 {
				_ = p.pc.WriteRTCP(fb)
			}
		}
	}
}

// remoteAddr is the party's address on the selected ICE candidate pair, and that ICE transport.
func (p *peer) remoteAddr() (netip.AddrPort, *webrtc.ICETransport, bool) {
	for _, tr := range p.pc.GetTransceivers() {
		var ts []*webrtc.DTLSTransport
		if s := tr.Sender(); s != nil {
			ts = append(ts, s.Transport())
		}
		if r := tr.Receiver(); r != nil {
			ts = append(ts, r.Transport())
		}
		for _, t := range ts {
			if t == nil {
				continue
			}
			ice := t.ICETransport()
			cp, err := ice.GetSelectedCandidatePair()
			if err != nil || cp == nil {
				continue
			}
			a, err := netip.ParseAddr(cp.Remote.Address)
			if err != nil {
				return netip.AddrPort{}, nil, false
			}
			return netip.AddrPortFrom(a, cp.Remote.Port), ice, true
		}
	}
	return netip.AddrPort{}, nil, false
}
