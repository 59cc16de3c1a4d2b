package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

// Leg is one phone in a call: a SIP dialog and its RTP, as a call.Endpoint. Its source is the
// phone's voice as Opus; it receives one attached Opus source at a time (the most recently
// attached), transcoded to the phone's G.711, or passed through to a phone that speaks Opus.
//
// A leg has no goroutine of its own. The gateway clock (clock.go) drains its RTP socket every
// 20 ms, plays one frame of the phone's voice out of the jitter buffer (encoded to Opus, or decoded
// from the phone's Opus, only while someone needs it), checks the RTP timeout and plays queued DTMF
// digits. An Opus phone's packets reach the source's RTP sinks as they arrive. The heard source's
// packets are transcoded (or passed through) once per source and codec by a downMux, on the
// source's own goroutine, and each leg hearing it stamps its RTP header and sends.
type Leg struct {
	g       *Gateway
	id      call.PartyID
	callID  string
	log     *slog.Logger
	ctx     context.Context
	stop    context.CancelCauseFunc
	conn    *rtpConn
	codec   uint8        // ptPCMU, ptPCMA or codecOpus; fixed for the leg's life
	pt      uint8        // the codec's payload type on the wire; fixed for the leg's life
	event   atomic.Int32 // telephone-event payload type, -1 for none
	evRate  atomic.Int32 // its clock rate
	src     *phoneSource
	remote  atomic.Pointer[rtpAddr] // where RTP goes
	sendOK  atomic.Bool             // our direction lets us send
	recvOn  atomic.Bool             // the phone's direction says it sends: the RTP timeout applies
	lastRx  atomic.Int64            // unix nanos of the last RTP packet, or of the last resume
	expires atomic.Int64            // unix nanos when the session expires unless refreshed (0: no timer)
	stats   legStats
	contact sip.ContactHeader
	born    time.Time

	// SRTP (srtp.go): the phone's key decrypts what it sends (swapped by a re-offer that rekeys:
	// the clock reads it), ours encrypts what we send (under tx.mu). Both nil for plain RTP.
	srtpIn  atomic.Pointer[srtp.Context]
	srtpOut *srtp.Context
	inKey   sdesKey // the phone's key in use

	rx rxState   // the gateway clock's alone
	tx txState   // our RTP towards the phone
	rc rtcpState // RTCP both ways (rtcp.go)

	srv *sipgo.DialogServerSession // an inbound leg's dialog
	cli *sipgo.DialogClientSession // an outbound leg's dialog
	dlg interface{ Bye(context.Context) error }

	mu       sync.Mutex
	local    localSDP
	attached []media.Source // in the order attached; the last is heard
	hearing  *downMux       // the mux of the source heard, nil when none
	onDigit  func(rune)
	onHold   func(bool) // told when the phone holds or resumes the call from its side
	held     bool       // the phone's last offer did not receive (a=sendonly or a=inactive)
	started  bool
	ended    bool
}

type legStats struct {
	rx, rxExpected, tx, txErr atomic.Uint64
	txOctets, rtcpOut         atomic.Uint64
	srtpFail                  atomic.Uint64 // SRTP packets that failed authentication
}

// rxState is the phone-to-room direction, touched only by the gateway clock.
type rxState struct {
	up       *upBridge // a G.711 phone's voice; nil for Opus
	op       *opusUp   // an Opus phone's voice decoded for PCM sinks; nil for G.711
	dtmf     dtmfDecoder
	hdr      rtp.Header // the packet being read
	ssrc     uint32
	seen     bool       // a packet of the codec has been seen (ssrc is set)
	latched  bool       // symmetric RTP: the remote is where the first packet came from
	encoding bool       // someone receives the phone's voice: frames are encoded (G.711), or decoded (Opus)
	h        rtp.Header // the source's packets: its SSRC, payload type 111, the last sequence number sent
	ts       uint32     // the last timestamp sent
	gap      bool
	seq      seqCount
	plain    [1500]byte // a decrypted SRTP packet

	// An Opus phone's packets are passed through, renumbered: the phone's sequence numbers and
	// timestamps plus these offsets, set when its stream starts (or restarts: a new SSRC).
	out             rtp.Header // the packet being forwarded
	seqOff          uint16
	tsOff           uint32
	inSeq           uint16    // the phone's highest sequence number
	lastOut         time.Time // when the last packet was forwarded
	anchored, fresh bool
}

// jitterStats are the counters of the leg's jitter buffer.
func (rx *rxState) jitterStats() audio.JitterStats {
	if rx.op != nil {
		return rx.op.jb.Stats()
	}
	return rx.up.jb.Stats()
}

// txState is our RTP towards the phone: one SSRC and sequence space for audio and DTMF. Senders
// (the downMux of the heard source, the clock for DTMF) hold mu.
type txState struct {
	mu     sync.Mutex
	h      rtp.Header // the next packet's SSRC, sequence number and timestamp
	frame  uint32     // timestamp units in 20 ms: frame8, or frame48 for Opus
	last   time.Time  // when the packet before h.Timestamp was sent
	marker bool       // the next packet starts a stream (a source attached, a hold, a digit ended)
	// A passed-through source's sequence numbers and timestamps plus these are ours; set at each
	// stream start (marker).
	seqOff uint16
	tsOff  uint32
	buf    [1500]byte
	enc    [1500 + 16]byte // buf encrypted (SRTP adds an authentication tag)
	digits []byte          // event codes queued by SendDigits
	dtmf   dtmfSender      // the digit being played
	busy   atomic.Bool     // digits are queued or playing: the clock plays them
}

// DigitReceiver is implemented by phone legs: f is called with each DTMF digit the phone sends
// (RFC 4733 telephone-event, or SIP INFO), on the gateway's clock or SIP goroutine; it must not
// block.
type DigitReceiver interface {
	OnDigit(f func(rune))
}

var _ call.Endpoint = (*Leg)(nil)
var _ DigitReceiver = (*Leg)(nil)

// newLegOn builds a leg on conn for the negotiated offer; local is this side's description.
func (g *Gateway) newLegOn(id call.PartyID, callID string, conn *rtpConn, o Offer, local localSDP, log *slog.Logger) (*Leg, error) {
	var up *upBridge
	var op *opusUp
	var err error
	if o.Law == codecOpus {
		op, err = newOpusUp()
	} else {
		up, err = newUpBridge(o.Law)
	}
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancelCause(context.Background())
	l := &Leg{
		g: g, id: id, callID: callID, log: log, ctx: ctx, stop: stop, conn: conn, codec: o.Law, pt: o.PT,
		src:   &phoneSource{id: "phone-" + callID + "/audio", party: string(id), fan: media.NewFanout(nil), opus: o.Law == codecOpus},
		local: local, contact: g.dialogUA("udp").ContactHDR, born: time.Now(),
	}
	l.rx.up, l.rx.op = up, op
	l.rx.h = rtp.Header{Version: 2, PayloadType: 111, SSRC: uint32(randUint64()), SequenceNumber: uint16(randUint64())}
	l.rx.ts = uint32(randUint64())
	l.rx.gap = true
	l.tx.h = rtp.Header{Version: 2, PayloadType: o.PT, SSRC: uint32(randUint64()), SequenceNumber: uint16(randUint64()), Timestamp: uint32(randUint64())}
	l.tx.frame = frame8
	if o.Law == codecOpus {
		l.tx.frame = frame48
	}
	l.tx.marker = true
	l.event.Store(int32(o.Event))
	l.evRate.Store(int32(o.EventRate))
	l.setRemote(o.Remote)
	l.sendOK.Store(local.dir.sends() && o.Dir.receives())
	l.recvOn.Store(o.Dir.sends())
	l.lastRx.Store(time.Now().UnixNano())
	if (o.SRTP == nil) != (local.crypto == nil) {
		return nil, fmt.Errorf("%w: one side of the call would encrypt and the other not", ErrNoCodec)
	}
	if o.SRTP != nil {
		in, err := o.SRTP.context()
		if err != nil {
			return nil, fmt.Errorf("gateway: srtp: %w", err)
		}
		if l.srtpOut, err = local.crypto.context(); err != nil {
			return nil, fmt.Errorf("gateway: srtp: %w", err)
		}
		l.srtpIn.Store(in)
		l.inKey = *o.SRTP
	}
	return l, nil
}

// newLeg builds an inbound leg answering offer, on a fresh RTP port.
func (g *Gateway) newLeg(id call.PartyID, callID string, o Offer, log *slog.Logger) (*Leg, error) {
	conn, err := g.ports.listen()
	if err != nil {
		return nil, err
	}
	local := localSDP{
		addr: g.rtpIP, port: conn.Port(), session: randUint64(), version: 1,
		codecs: []sdpCodec{{o.Law, o.PT}}, events: eventsOf(o), dir: o.Dir.Answer(),
	}
	if o.SRTP != nil {
		// Our key in the phone's chosen suite and tag (RFC 4568 7.1.2).
		k, err := newSDESKey(o.SRTP.tag, o.SRTP.suite)
		if err != nil {
			_ = conn.Close()
			return nil, err
		}
		local.crypto = &k
	}
	l, err := g.newLegOn(id, callID, conn, o, local, log)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return l, nil
}

func (l *Leg) setRemote(a netip.AddrPort) { l.remote.Store(newRTPAddr(a)) }

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
		o, err = sd.Negotiate(int(l.codec))
	}
	if err == nil && (o.Law != l.codec || o.PT != l.pt) {
		err = fmt.Errorf("%w: the call's codec %s/%d is no longer offered", ErrNoCodec, codecName(l.codec), l.pt)
	}
	if err == nil {
		err = l.rekey(o.SRTP)
	}
	if err != nil {
		l.log.Info("re-offer refused", "err", err)
		return nil, sip.StatusNotAcceptableHere
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	dir := o.Dir.Answer()
	old := l.remote.Load()
	changed := dir != l.local.dir || old == nil || old.ap != netip.AddrPortFrom(o.Remote.Addr().Unmap(), o.Remote.Port()) ||
		int(l.event.Load()) != o.Event || int(l.evRate.Load()) != o.EventRate
	if changed {
		l.local.version++
		l.log.Info("phone media changed", "phone", o.Dir.String(), "answer", dir.String(), "remote", o.Remote)
	}
	l.local.dir = dir
	l.local.events = eventsOf(o)
	l.event.Store(int32(o.Event))
	l.evRate.Store(int32(o.EventRate))
	l.setRemote(o.Remote)
	l.sendOK.Store(dir.sends())
	if o.Dir.sends() && !l.recvOn.Load() {
		l.lastRx.Store(time.Now().UnixNano()) // resumed: the timeout starts again
	}
	l.recvOn.Store(o.Dir.sends())
	if held := !o.Dir.receives(); held != l.held {
		l.held = held
		if l.onHold != nil {
			l.onHold(held) // the call's post: it never blocks nor calls back into the leg
		}
	}
	return l.local.marshal(sd), sip.StatusOK
}

// start runs the leg's media once the dialog is established: the gateway clock starts serving it.
func (l *Leg) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.ended {
		return
	}
	l.started = true
	l.lastRx.Store(time.Now().UnixNano())
	l.g.started.Add(1)
	l.g.clock.add(l)
}

// terminate ends the leg once: it stops hearing its source, leaves the clock, its socket closes,
// its context ends with reason and, when bye is set, a BYE is sent (on its own goroutine: the call
// loop that closes a leg never waits for the network).
func (l *Leg) terminate(reason error, bye bool) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended = true
	l.attached = nil
	l.g.leave(l, l.hearing)
	l.hearing = nil
	l.mu.Unlock()
	l.g.clock.remove(l)
	if reason == nil {
		reason = call.ReasonHangup
	}
	l.stop(reason)
	_ = l.conn.Close()
	st := l.rx.jitterStats()
	rx, exp := l.stats.rx.Load(), l.stats.rxExpected.Load()
	l.g.totals.add(l, st)
	peer := l.peerReport()
	l.log.Info("phone leg ended", "reason", reason, "secs", int(time.Since(l.born).Seconds()),
		"rtp_in", rx, "rtp_lost", exp-min(rx, exp), "jb_late", st.Late, "jb_overflow", st.Overflow, "jb_concealed", st.Lost,
		"rtp_out", l.stats.tx.Load(), "send_errors", l.stats.txErr.Load(),
		"rtcp_out", l.stats.rtcpOut.Load(), "rtcp_in", peer.Reports, "phone_lost", peer.TotalLost,
		"phone_jitter_ms", peer.Jitter.Milliseconds(), "rtt_ms", peer.RTT.Milliseconds())
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
	// Never the digit itself: callers key card numbers and PINs (PCI DSS).
	l.log.Debug("dtmf digit received")
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

// OnRemoteHold sets the function told when the phone puts the call on hold from its side (a
// re-INVITE that no longer receives) and when it resumes (call.HoldReporter).
func (l *Leg) OnRemoteHold(f func(held bool)) {
	l.mu.Lock()
	l.onHold = f
	l.mu.Unlock()
}

// Attach makes src what the phone hears, until it is detached or another source is attached.
// Video, and audio in any codec but Opus, is refused. Attaching a source already attached changes
// nothing.
func (l *Leg) Attach(src media.Source) error {
	if !attachable(src) {
		return fmt.Errorf("%w: %s %s", ErrUnsupportedSource, src.Kind(), src.Codec().MimeType)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return fmt.Errorf("%w: leg %s", ErrClosed, l.id)
	}
	if slices.Contains(l.attached, src) {
		return nil
	}
	if err := l.hearLocked(src); err != nil {
		return err
	}
	l.attached = append(l.attached, src)
	return nil
}

// Detach stops sending src; the source attached before it, if still attached, is heard again.
func (l *Leg) Detach(src media.Source) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.Index(l.attached, src)
	if i < 0 {
		return
	}
	l.attached = slices.Delete(l.attached, i, i+1)
	if i < len(l.attached) {
		return // it was not the one heard
	}
	var next media.Source
	if n := len(l.attached); n > 0 {
		next = l.attached[n-1]
	}
	if err := l.hearLocked(next); err != nil {
		l.log.Warn("the previous source cannot be heard again", "source", next.ID(), "err", err)
	}
}

// hearLocked makes src (nil: nothing) the source the phone hears. l.mu is held.
func (l *Leg) hearLocked(src media.Source) error {
	var m *downMux
	if src != nil {
		var err error
		if m, err = l.g.join(l, src); err != nil {
			return err
		}
	}
	l.g.leave(l, l.hearing)
	l.hearing = m
	l.tx.mu.Lock()
	l.tx.marker = true // a new stream starts
	l.tx.mu.Unlock()
	return nil
}

// Close ends the leg for the call (a hangup by the agent, the end of the call): the phone gets BYE.
func (l *Leg) Close(reason error) error {
	l.terminate(reason, true)
	return nil
}

// maxReadsPerTick bounds the packets one leg's tick reads: a flood cannot hold up the clock, and
// what is left waits in the socket (which drops beyond its buffer).
const maxReadsPerTick = 64

// tick is the leg's work for the gateway clock: read what the phone sent, check the RTP timeout,
// then for each 20 ms step due (one, unless the clock was held up) play one frame of the phone's
// voice and a step of DTMF. buf is the clock's read buffer.
func (l *Leg) tick(now time.Time, steps int, buf []byte) {
	for range maxReadsPerTick {
		n, from, at, err := l.conn.recvAt(buf)
		if err != nil {
			break // errAgain: drained; else closed, and the leg is ending
		}
		l.receive(buf[:n], from, now, at)
	}
	l.rtcpTick(now, buf)
	if l.recvOn.Load() && now.UnixNano()-l.lastRx.Load() > int64(l.g.cfg.RTPTimeout) {
		l.log.Info("no RTP from the phone", "timeout", l.g.cfg.RTPTimeout)
		l.terminate(ErrRTPTimeout, true)
		return
	}
	if exp := l.expires.Load(); exp != 0 && now.UnixNano() > exp {
		l.log.Info("session not refreshed in time (RFC 4028)")
		l.terminate(ErrSessionExpired, true)
		return
	}
	for range steps {
		l.play()
		if l.tx.busy.Load() {
			l.playDigit(now)
		}
	}
}

// receive takes one packet from the phone: G.711 into the jitter buffer, Opus to the source's RTP
// sinks (and into the jitter buffer while PCM sinks need it decoded), telephone-events into digits.
// at is when it arrived (unix nanos; 0 if unknown), for the jitter RTCP reports.
func (l *Leg) receive(pkt []byte, from netip.AddrPort, now time.Time, at int64) {
	rx := &l.rx
	if in := l.srtpIn.Load(); in != nil {
		plain, err := in.DecryptRTP(rx.plain[:0], pkt, nil)
		if err != nil || len(plain) > len(rx.plain) {
			l.stats.srtpFail.Add(1) // not authentic (or replayed): dropped before anything reads it
			return
		}
		pkt = plain
	}
	h := &rx.hdr
	hn, err := h.Unmarshal(pkt)
	if err != nil || h.Version != 2 {
		return
	}
	end := len(pkt)
	if h.Padding && end > hn {
		pad := int(pkt[end-1])
		if pad > end-hn {
			return
		}
		end -= pad
	}
	payload := pkt[hn:end]
	l.lastRx.Store(now.UnixNano())
	l.stats.rx.Add(1)
	if !rx.latched {
		// Symmetric RTP: answer where the phone's media really comes from (a NAT may have
		// changed it), not only where its SDP said.
		rx.latched = true
		if r := l.remote.Load(); r == nil || r.ap != from {
			l.setRemote(from)
		}
	}
	if rx.seq.add(h.SSRC, h.SequenceNumber) {
		l.stats.rxExpected.Store(rx.seq.expected())
	}
	switch {
	case h.PayloadType == l.pt && len(payload) > 0:
		l.rc.jitterSample(h.Timestamp, at, l.born.UnixNano(), l.clockRate())
		if rx.op != nil {
			l.receiveOpus(h, payload, now)
			break
		}
		if !rx.seen || h.SSRC != rx.ssrc {
			rx.seen, rx.ssrc = true, h.SSRC
			rx.up.Reset()
		}
		_ = rx.up.Push(h.SequenceNumber, h.Timestamp, payload) // late and duplicate packets are dropped
	case int32(h.PayloadType) == l.event.Load():
		for _, d := range rx.dtmf.push(h.Timestamp, payload) {
			l.digit(d)
		}
	}
}

// play releases one 20 ms frame from the jitter buffer. Only when someone receives the phone's
// voice is it decoded and encoded to Opus (or resampled to 48 kHz for a PCM sink, the MCU's
// mixer); otherwise it is dropped (a phone waiting in the queue costs no encoding).
func (l *Leg) play() {
	rx := &l.rx
	if rx.op != nil {
		l.playOpus()
		return
	}
	rx.ts += frame48
	pcmSinks, nbSinks := l.src.pcm.Load(), l.src.nb.Load()
	rtpSinks := l.src.fan.Len() > 0
	if listening := rtpSinks || len(pcmSinks) > 0 || len(nbSinks) > 0; listening != rx.encoding {
		rx.encoding = listening
		rx.up.Restart()
		rx.gap = true
	}
	if !rx.encoding {
		rx.up.Skip()
		return
	}
	frame := rx.up.Next()
	if frame == nil {
		rx.gap = true
		return
	}
	for _, m := range nbSinks {
		m.write8(frame)
	}
	if len(pcmSinks) > 0 {
		if pcm, err := rx.up.Upsample(frame); err == nil {
			for _, k := range pcmSinks {
				k.WritePCM(pcm)
			}
		}
	}
	if !rtpSinks {
		return
	}
	pkt, err := rx.up.Encode(frame)
	if err != nil || len(pkt) == 0 {
		rx.gap = true
		return
	}
	rx.h.SequenceNumber++
	rx.h.Timestamp = rx.ts
	rx.h.Marker, rx.gap = rx.gap, false
	l.src.fan.Write(&rx.h, pkt)
}

// sendAudio sends one frame (G.711, or Opus encoded for the leg) to the phone, step its length in
// timestamp units; the downMux of the heard source calls it, with the time the frame was made.
func (l *Leg) sendAudio(payload []byte, step uint32, now time.Time) {
	tx := &l.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	r := l.remote.Load()
	if tx.dtmf.active || !l.sendOK.Load() || !r.usable() {
		tx.marker = true // on hold, or a digit plays: the audio resumes with a marker
		return
	}
	tx.advance(now)
	tx.h.PayloadType = l.pt
	l.sendLocked(r, payload)
	tx.h.Timestamp += step
	tx.last = now
}

// passAudio sends one Opus packet of a passed-through source to the phone as it is: the source's
// sequence number and timestamp (seq, ts) plus the leg's offsets, set when a stream starts (the
// source attached or fresh, after a hold or a digit) so that the phone sees one continuous stream.
// dur is the packet's length at 48 kHz. The downMux calls it, in the source's order, with no late
// or duplicate packet.
func (l *Leg) passAudio(seq uint16, ts uint32, payload []byte, dur uint32, fresh bool, now time.Time) {
	tx := &l.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	r := l.remote.Load()
	if tx.dtmf.active || !l.sendOK.Load() || !r.usable() {
		tx.marker = true
		return
	}
	if tx.marker || fresh {
		tx.advance(now)
		tx.marker = true
		tx.seqOff = tx.h.SequenceNumber - seq
		tx.tsOff = tx.h.Timestamp - ts
	}
	tx.h.SequenceNumber = seq + tx.seqOff
	tx.h.Timestamp = ts + tx.tsOff
	tx.h.PayloadType = l.pt
	l.sendLocked(r, payload)
	tx.h.Timestamp += dur
	tx.last = now
}

// sendLocked stamps tx.h (taking its marker) on payload, sends it and steps the sequence number.
func (l *Leg) sendLocked(r *rtpAddr, payload []byte) {
	tx := &l.tx
	tx.h.Marker, tx.marker = tx.marker, false
	n, err := tx.h.MarshalTo(tx.buf[:])
	if err != nil {
		return
	}
	n += copy(tx.buf[n:], payload)
	out := tx.buf[:n]
	if l.srtpOut != nil {
		if out, err = l.srtpOut.EncryptRTP(tx.enc[:0], out, &tx.h); err != nil || len(out) > len(tx.enc) {
			l.stats.txErr.Add(1)
			tx.h.SequenceNumber++
			return
		}
	}
	if err := l.conn.send(out, r); err != nil {
		l.stats.txErr.Add(1)
	} else {
		l.stats.tx.Add(1)
		l.stats.txOctets.Add(uint64(len(payload)))
	}
	tx.h.SequenceNumber++
}

// advance moves the timestamp over a pause in what we send (the source paused, a hold, a digit),
// so the phone's playout sees the time that passed. tx.mu is held.
func (tx *txState) advance(now time.Time) {
	if tx.last.IsZero() {
		return
	}
	if gap := now.Sub(tx.last); gap > 60*time.Millisecond {
		tx.h.Timestamp += uint32((gap-20*time.Millisecond)/(20*time.Millisecond)) * tx.frame
		tx.last = now.Add(-20 * time.Millisecond)
		tx.marker = true
	}
}

// receiveOpus passes one Opus packet of the phone to the source's RTP sinks (the SFU, a recorder)
// as it is, renumbered into the source's stream: its SSRC, payload type 111, the phone's sequence
// numbers and timestamps plus offsets fixed when the phone's stream starts, so that a new SSRC
// (or a restart of the phone's numbering) goes on where the last packet left off. While PCM sinks
// need the phone's voice it also goes into the jitter buffer. The gateway clock calls it.
func (l *Leg) receiveOpus(h *rtp.Header, payload []byte, now time.Time) {
	rx := &l.rx
	d := int16(h.SequenceNumber - rx.inSeq)
	if !rx.seen || h.SSRC != rx.ssrc || d > maxSeqJump || d < -maxSeqJump {
		if rx.seen && h.SSRC != rx.ssrc {
			rx.op.Reset()
		}
		rx.seen, rx.ssrc = true, h.SSRC
		step := uint32(frame48)
		if rx.anchored {
			// Time passed since the last packet, so receivers' playout sees it.
			step = max(step, uint32(now.Sub(rx.lastOut)/(time.Second/48000)))
		}
		rx.seqOff = rx.h.SequenceNumber + 1 - h.SequenceNumber
		rx.tsOff = rx.ts + step - h.Timestamp
		rx.inSeq, rx.anchored, rx.fresh, d = h.SequenceNumber, true, true, 1
	}
	if d == 0 {
		return // a duplicate
	}
	if rx.encoding {
		_ = rx.op.Push(h.SequenceNumber, h.Timestamp, payload) // late and duplicate packets are dropped
	}
	out := &rx.out
	*out = rx.h
	out.SequenceNumber = h.SequenceNumber + rx.seqOff
	out.Timestamp = h.Timestamp + rx.tsOff
	out.Marker = h.Marker || rx.fresh
	if d > 0 {
		rx.inSeq = h.SequenceNumber
		rx.h.SequenceNumber, rx.ts, rx.lastOut = out.SequenceNumber, out.Timestamp, now
	}
	if l.src.fan.Len() > 0 {
		rx.fresh = false
		l.src.fan.Write(out, payload)
	}
}

// playOpus releases one 20 ms frame of an Opus phone's voice, decoded, to whoever needs PCM: the
// MCU's mixer at 48 kHz, other phones at 8 kHz. With none of them, nothing is buffered or decoded.
func (l *Leg) playOpus() {
	rx := &l.rx
	pcmSinks, nbSinks := l.src.pcm.Load(), l.src.nb.Load()
	if decoding := len(pcmSinks) > 0 || len(nbSinks) > 0; decoding != rx.encoding {
		rx.encoding = decoding
		rx.op.Restart()
	}
	if !rx.encoding {
		return
	}
	frame := rx.op.Next()
	if frame == nil {
		return
	}
	for _, k := range pcmSinks {
		k.WritePCM(frame)
	}
	if len(nbSinks) > 0 {
		if pcm8, err := rx.op.Down8(frame); err == nil {
			for _, m := range nbSinks {
				m.write8(pcm8)
			}
		}
	}
}
