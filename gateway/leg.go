package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
)

// Leg is one phone in a call: a SIP dialog and its RTP, as a call.Endpoint. Its source is the
// phone's voice as Opus; it receives one attached Opus source at a time (the most recently
// attached), transcoded to the phone's G.711. Three goroutines run it: the RTP reader, the 20 ms
// playout clock (phone to room) and the sender (room to phone).
type Leg struct {
	g       *Gateway
	id      call.PartyID
	callID  string
	log     *slog.Logger
	ctx     context.Context
	stop    context.CancelCauseFunc
	conn    *net.UDPConn
	law, pt uint8 // the G.711 law and its payload type on the wire; fixed for the leg's life
	event   atomic.Int32
	src     *phoneSource
	up      *upBridge
	dn      *downBridge
	down    chan *downPacket
	pool    sync.Pool
	active  atomic.Pointer[sourceSink]
	remote  atomic.Pointer[netip.AddrPort] // where RTP goes
	sendOK  atomic.Bool                    // our direction lets us send
	recvOn  atomic.Bool                    // the phone's direction says it sends: the RTP timeout applies
	lastRx  atomic.Int64                   // unix nanos of the last RTP packet, or of the last resume
	stats   legStats
	contact sip.ContactHeader

	srv *sipgo.DialogServerSession // an inbound leg's dialog
	cli *sipgo.DialogClientSession // an outbound leg's dialog
	dlg interface{ Bye(context.Context) error }

	mu       sync.Mutex
	local    localSDP
	attached []*sourceSink
	onDigit  func(rune)
	started  bool
	ended    bool
}

type legStats struct {
	rx, tx, downDropped atomic.Uint64
}

// DigitReceiver is implemented by phone legs: f is called with each DTMF digit the phone sends
// (RFC 4733 telephone-event, or SIP INFO), on the leg's own goroutine; it must not block.
type DigitReceiver interface {
	OnDigit(f func(rune))
}

var _ call.Endpoint = (*Leg)(nil)
var _ DigitReceiver = (*Leg)(nil)

// newLeg builds a leg on conn for the negotiated offer; local is this side's description.
func (g *Gateway) newLegOn(id call.PartyID, callID string, conn *net.UDPConn, o Offer, local localSDP, log *slog.Logger) (*Leg, error) {
	up, err := newUpBridge(o.Law)
	if err != nil {
		return nil, err
	}
	dn, err := newDownBridge(o.Law)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancelCause(context.Background())
	l := &Leg{
		g: g, id: id, callID: callID, log: log, ctx: ctx, stop: stop, conn: conn, law: o.Law, pt: o.PT,
		src: &phoneSource{id: "phone-" + callID + "/audio", party: string(id), fan: media.NewFanout(nil)},
		up:  up, dn: dn, down: make(chan *downPacket, 16), local: local, contact: g.dialogUA("udp").ContactHDR,
	}
	l.pool.New = func() any { return new(downPacket) }
	l.event.Store(int32(o.Event))
	l.setRemote(o.Remote)
	l.sendOK.Store(local.dir.sends() && o.Dir.receives())
	l.recvOn.Store(o.Dir.sends())
	l.lastRx.Store(time.Now().UnixNano())
	return l, nil
}

// newLeg builds an inbound leg answering offer, on a fresh RTP port.
func (g *Gateway) newLeg(id call.PartyID, callID string, o Offer, log *slog.Logger) (*Leg, error) {
	conn, err := g.ports.listen()
	if err != nil {
		return nil, err
	}
	local := localSDP{
		addr: g.rtpIP, port: conn.LocalAddr().(*net.UDPAddr).Port, session: randUint64(), version: 1,
		codecs: []sdpCodec{{o.Law, o.PT}}, event: o.Event, dir: o.Dir.Answer(),
	}
	l, err := g.newLegOn(id, callID, conn, o, local, log)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return l, nil
}

func (l *Leg) setRemote(a netip.AddrPort) {
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	l.remote.Store(&a)
}

// setID renames the party before the leg is handed to a call (nothing reads it concurrently yet).
func (l *Leg) setID(id call.PartyID) {
	l.id = id
	l.src.party = string(id)
}

// answer is our SDP answering the phone's description sd.
func (l *Leg) answer(sd *SessionDesc) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.local.marshal(sd)
}

// reoffer answers a new offer within the dialog (re-INVITE or UPDATE): hold and resume change the
// direction; an offer that changes nothing refreshes the session. The codec stays the same.
func (l *Leg) reoffer(body []byte) ([]byte, int) {
	sd, err := ParseSDP(body)
	if errors.Is(err, ErrNoSDP) {
		// An offerless re-INVITE: we offer what we have (the ACK's answer is not read).
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.local.marshal(nil), sip.StatusOK
	}
	var o Offer
	if err == nil {
		o, err = sd.Negotiate(int(l.law))
	}
	if err == nil && (o.Law != l.law || o.PT != l.pt) {
		err = fmt.Errorf("%w: the call's codec %s/%d is no longer offered", ErrNoCodec, codecName(l.law), l.pt)
	}
	if err != nil {
		l.log.Info("re-offer refused", "err", err)
		return nil, sip.StatusNotAcceptableHere
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	dir := o.Dir.Answer()
	old := l.remote.Load()
	changed := dir != l.local.dir || old == nil || *old != o.Remote || int(l.event.Load()) != o.Event
	if changed {
		l.local.version++
		l.log.Info("phone media changed", "phone", o.Dir.String(), "answer", dir.String(), "remote", o.Remote)
	}
	l.local.dir = dir
	l.local.event = o.Event
	l.event.Store(int32(o.Event))
	l.setRemote(o.Remote)
	l.sendOK.Store(dir.sends())
	if o.Dir.sends() && !l.recvOn.Load() {
		l.lastRx.Store(time.Now().UnixNano()) // resumed: the timeout starts again
	}
	l.recvOn.Store(o.Dir.sends())
	return l.local.marshal(sd), sip.StatusOK
}

// start runs the leg's media once the dialog is established.
func (l *Leg) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.ended {
		return
	}
	l.started = true
	l.lastRx.Store(time.Now().UnixNano())
	l.g.wg.Add(3)
	go func() { defer l.g.wg.Done(); l.readLoop() }()
	go func() { defer l.g.wg.Done(); l.playLoop() }()
	go func() { defer l.g.wg.Done(); l.sendLoop() }()
}

// terminate ends the leg once: its sinks are unsubscribed, its media stop, its context ends with
// reason and, when bye is set, a BYE is sent (on its own goroutine: the call loop that closes a
// leg never waits for the network).
func (l *Leg) terminate(reason error, bye bool) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended = true
	attached := l.attached
	l.attached = nil
	l.mu.Unlock()
	l.active.Store(nil)
	for _, s := range attached {
		s.src.RemoveSink(s)
	}
	if reason == nil {
		reason = call.ReasonHangup
	}
	l.stop(reason)
	_ = l.conn.Close()
	l.log.Info("phone leg ended", "reason", reason, "rtp_in", l.stats.rx.Load(), "rtp_out", l.stats.tx.Load(), "dropped", l.stats.downDropped.Load())
	if !bye || l.dlg == nil {
		l.g.unregister(l.callID, l)
		return
	}
	l.g.wg.Add(1)
	go func() {
		defer l.g.wg.Done()
		defer l.g.unregister(l.callID, l)
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		if err := l.dlg.Bye(ctx); err != nil {
			l.log.Info("BYE not confirmed", "err", err)
		}
	}()
}

// digit reports one DTMF digit.
func (l *Leg) digit(d rune) {
	l.log.Info("dtmf", "digit", string(d))
	l.mu.Lock()
	f := l.onDigit
	l.mu.Unlock()
	if f != nil {
		f(d)
	}
}

// call.Endpoint

func (l *Leg) ID() call.PartyID          { return l.id }
func (l *Leg) Role() call.Role           { return call.Customer }
func (l *Leg) Caps() call.Caps           { return call.Caps{Audio: true} }
func (l *Leg) Sources() []media.Source   { return []media.Source{l.src} }
func (l *Leg) OnSourcesChanged(f func()) {} // a phone's one source never changes
func (l *Leg) Context() context.Context  { return l.ctx }

// OnDigit sets the function told each DTMF digit the phone sends.
func (l *Leg) OnDigit(f func(rune)) {
	l.mu.Lock()
	l.onDigit = f
	l.mu.Unlock()
}

// Attach makes src what the phone hears, until it is detached or another source is attached.
// Video, and audio in any codec but Opus, is refused.
func (l *Leg) Attach(src media.Source) error {
	if !attachable(src) {
		return fmt.Errorf("%w: %s %s", ErrUnsupportedSource, src.Kind(), src.Codec().MimeType)
	}
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return fmt.Errorf("%w: leg %s", ErrClosed, l.id)
	}
	for _, s := range l.attached {
		if s.src == src {
			l.mu.Unlock()
			return nil
		}
	}
	s := &sourceSink{leg: l, src: src}
	l.attached = append(l.attached, s)
	l.active.Store(s)
	l.mu.Unlock()
	return src.AddSink(s)
}

// Detach stops sending src; the source attached before it, if still attached, is heard again.
func (l *Leg) Detach(src media.Source) {
	l.mu.Lock()
	i := slices.IndexFunc(l.attached, func(s *sourceSink) bool { return s.src == src })
	if i < 0 {
		l.mu.Unlock()
		return
	}
	s := l.attached[i]
	l.attached = slices.Delete(l.attached, i, i+1)
	if l.active.Load() == s {
		var next *sourceSink
		if n := len(l.attached); n > 0 {
			next = l.attached[n-1]
		}
		l.active.Store(next)
	}
	l.mu.Unlock()
	src.RemoveSink(s)
}

// Close ends the leg for the call (a hangup by the agent, the end of the call): the phone gets BYE.
func (l *Leg) Close(reason error) error {
	l.terminate(reason, true)
	return nil
}

// readLoop reads the phone's RTP: G.711 into the jitter buffer, telephone-events into digits.
func (l *Leg) readLoop() {
	buf := make([]byte, 1500)
	var (
		h       rtp.Header
		dtmf    dtmfDecoder
		ssrc    uint32
		seen    bool
		latched bool
	)
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if l.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		hn, err := h.Unmarshal(buf[:n])
		if err != nil || h.Version != 2 {
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
		payload := buf[hn:end]
		l.lastRx.Store(time.Now().UnixNano())
		l.stats.rx.Add(1)
		if !latched {
			// Symmetric RTP: answer where the phone's media really comes from (a NAT may have
			// changed it), not only where its SDP said.
			latched = true
			if r := l.remote.Load(); r == nil || *r != from {
				l.setRemote(from)
			}
		}
		switch {
		case h.PayloadType == l.pt && len(payload) > 0:
			if !seen || h.SSRC != ssrc {
				seen, ssrc = true, h.SSRC
				l.up.Reset()
			}
			_ = l.up.Push(h.SequenceNumber, h.Timestamp, payload) // late and duplicate packets are dropped
		case int32(h.PayloadType) == l.event.Load():
			for _, d := range dtmf.push(h.Timestamp, payload) {
				l.digit(d)
			}
		}
	}
}

// playLoop is the phone-to-room clock: every 20 ms one frame leaves the jitter buffer as Opus.
// It also ends the leg when the phone has sent nothing for the RTP timeout.
func (l *Leg) playLoop() {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	h := rtp.Header{Version: 2, PayloadType: 111, SSRC: uint32(randUint64()), SequenceNumber: uint16(randUint64())}
	ts := uint32(randUint64())
	gap := true
	timeout := int64(l.g.cfg.RTPTimeout)
	for {
		select {
		case <-l.ctx.Done():
			return
		case now := <-t.C:
			if l.recvOn.Load() && now.UnixNano()-l.lastRx.Load() > timeout {
				l.log.Info("no RTP from the phone", "timeout", l.g.cfg.RTPTimeout)
				l.terminate(ErrRTPTimeout, true)
				return
			}
			pkt, err := l.up.Tick()
			ts += frame48
			if err != nil || pkt == nil {
				gap = true
				continue
			}
			h.SequenceNumber++
			h.Timestamp = ts
			h.Marker, gap = gap, false
			l.src.fan.Write(&h, pkt)
		}
	}
}

// sendLoop is the room-to-phone direction: the attached source's Opus packets, queued by its
// sink, are transcoded and sent as they come (the source paces them).
func (l *Leg) sendLoop() {
	h := rtp.Header{Version: 2, SSRC: uint32(randUint64()), SequenceNumber: uint16(randUint64()), Timestamp: uint32(randUint64())}
	buf := make([]byte, 1500)
	var (
		cur    *sourceSink
		last   time.Time
		marker = true
	)
	emit := func(g []byte) {
		r := l.remote.Load()
		if !l.sendOK.Load() || r == nil || !r.Addr().IsValid() || r.Addr().IsUnspecified() || r.Port() == 0 {
			marker = true
			return
		}
		now := time.Now()
		if gap := now.Sub(last); !last.IsZero() && gap > 60*time.Millisecond {
			// The source paused: let the timestamps show the time that passed.
			h.Timestamp += uint32((gap-20*time.Millisecond)/(20*time.Millisecond)) * frame8
			marker = true
		}
		h.PayloadType = l.pt
		h.Marker, marker = marker, false
		n, err := h.MarshalTo(buf)
		if err != nil {
			return
		}
		n += copy(buf[n:], g)
		if _, err := l.conn.WriteToUDPAddrPort(buf[:n], *r); err == nil {
			l.stats.tx.Add(1)
		}
		h.SequenceNumber++
		h.Timestamp += frame8
		last = now
	}
	for {
		select {
		case <-l.ctx.Done():
			return
		case p := <-l.down:
			if p.from != cur {
				if cur != nil {
					_ = l.dn.Restart()
				}
				cur = p.from
			}
			_ = l.dn.Push(p.seq, p.buf[:p.n], emit)
			l.pool.Put(p)
		}
	}
}
