package gateway

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// RTCP with the phone (RFC 3550 6): every few seconds a leg tells the phone what it received (a
// receiver report block: loss, highest sequence number, interarrival jitter, the delay since the
// phone's last sender report) and, while it sends, what it sent (a sender report); carriers' and
// SBCs' call-quality monitoring reads these. What the phone reports about our stream (loss, jitter,
// round-trip time) is kept for the leg's end-of-call log line. RTCP uses the port after the RTP
// port, both ways (the phone's RTP port + 1, or wherever its RTCP actually comes from).
//
// All of it runs on the gateway clock, like the rest of a leg's receiving: the RTCP socket is
// drained at most every rtcpPoll, and a report is due every Config.RTCPInterval (randomised
// between 0.5 and 1.5 times it, RFC 3550 6.3.1).

const rtcpPoll = 250 * time.Millisecond

// rtcpState is the leg's RTCP, touched by the gateway clock only (peer is also read by tests and
// the end-of-leg log, under its mutex).
type rtcpState struct {
	poll, report time.Time // when the socket is drained next, when the next report is due
	remote       *rtpAddr  // where our RTCP goes; nil: the RTP remote's port + 1
	latched      bool

	// About the phone's stream, for our report blocks.
	jitter      uint32 // RFC 3550 A.8's estimate, times 16, in RTP timestamp units
	lastTransit uint32
	haveTransit bool
	prevExp     uint64 // expected and received at the last report
	prevRcv     uint64
	lsr         uint32 // middle 32 bits of the NTP time of the phone's last sender report
	lsrAt       int64  // when it arrived (unix nanos)

	sentAt uint64 // packets we had sent at the last report

	mu   sync.Mutex
	peer PeerReport
}

// PeerReport is what the phone's RTCP says about the audio we send it.
type PeerReport struct {
	Reports      int           // RTCP packets received from the phone
	FractionLost float64       // in its last report, 0-1
	TotalLost    int32         // cumulative, as it counts
	Jitter       time.Duration // its interarrival jitter estimate
	RTT          time.Duration // from its report's LSR and DLSR; 0 when unknown
}

// peerReport is a copy of what the phone last reported.
func (l *Leg) peerReport() PeerReport {
	l.rc.mu.Lock()
	defer l.rc.mu.Unlock()
	return l.rc.peer
}

// jitterSample updates the interarrival jitter with one audio packet of RTP timestamp ts that
// arrived at (unix nanos), RFC 3550 6.4.1 and A.8.
func (r *rtcpState) jitterSample(ts uint32, at, born int64, rate int) {
	if at == 0 {
		return
	}
	arrival := uint32((at - born) / 1000 * int64(rate) / 1e6) // in timestamp units since the leg began
	transit := arrival - ts
	if r.haveTransit {
		d := int32(transit - r.lastTransit)
		if d < 0 {
			d = -d
		}
		r.jitter += uint32(d) - ((r.jitter + 8) >> 4)
	}
	r.lastTransit, r.haveTransit = transit, true
}

// rtcpTick drains the RTCP socket and sends a report when one is due. now is the clock's time.
func (l *Leg) rtcpTick(now time.Time, buf []byte) {
	r := &l.rc
	if l.conn.rtcp == nil || now.Before(r.poll) {
		return
	}
	r.poll = now.Add(rtcpPoll)
	for range maxReadsPerTick {
		n, from, at, err := l.conn.rtcp.recvAt(buf)
		if err != nil {
			break
		}
		l.readRTCP(buf[:n], from, at)
	}
	if r.report.IsZero() {
		r.report = now.Add(l.rtcpInterval() / 2) // the first report comes sooner (RFC 3550 6.2)
		return
	}
	if now.Before(r.report) {
		return
	}
	r.report = now.Add(l.rtcpInterval())
	l.sendRTCP(now)
}

// rtcpInterval is the configured interval, randomised (RFC 3550 6.3.1) so legs do not report in
// step.
func (l *Leg) rtcpInterval() time.Duration {
	d := l.g.cfg.RTCPInterval
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

// readRTCP takes one compound packet from the phone.
func (l *Leg) readRTCP(pkt []byte, from netip.AddrPort, at int64) {
	if in := l.srtpIn.Load(); in != nil {
		plain, err := in.DecryptRTCP(nil, pkt, nil) // a few packets a second: allocating is fine
		if err != nil {
			l.stats.srtpFail.Add(1)
			return
		}
		pkt = plain
	}
	pkts, err := rtcp.Unmarshal(pkt)
	if err != nil {
		return // garbage on the RTCP port changes nothing
	}
	r := &l.rc
	if !r.latched {
		// Symmetric RTCP: answer where the phone's reports come from (a NAT may have moved it).
		r.latched = true
		r.remote = newRTPAddr(from)
	}
	l.tx.mu.Lock()
	ours := l.tx.h.SSRC
	l.tx.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.peer.Reports++
	for _, p := range pkts {
		var blocks []rtcp.ReceptionReport
		switch p := p.(type) {
		case *rtcp.SenderReport:
			r.lsr, r.lsrAt = uint32(p.NTPTime>>16), at
			blocks = p.Reports
		case *rtcp.ReceiverReport:
			blocks = p.Reports
		}
		for _, b := range blocks {
			if b.SSRC != ours {
				continue
			}
			r.peer.FractionLost = float64(b.FractionLost) / 256
			r.peer.TotalLost = int32(b.TotalLost<<8) >> 8 // 24-bit signed
			r.peer.Jitter = time.Duration(b.Jitter) * time.Second / time.Duration(l.clockRate())
			if b.LastSenderReport != 0 && at != 0 {
				// RFC 3550 6.4.1: arrival - LSR - DLSR, in 1/65536 s.
				if rtt := int32(uint32(ntpTime(at)>>16) - b.LastSenderReport - b.Delay); rtt > 0 {
					r.peer.RTT = time.Duration(rtt) * time.Second / 65536
				}
			}
		}
	}
}

// sendRTCP sends the phone a compound report: a sender report if we sent audio since the last one
// (else a receiver report), with a block about the phone's stream once it has sent, and our CNAME.
func (l *Leg) sendRTCP(now time.Time) {
	r := &l.rc
	dst := r.remote
	if dst == nil {
		rtp := l.remote.Load()
		if !rtp.usable() {
			return // on hold with c=0.0.0.0, or nowhere to send yet
		}
		dst = newRTPAddr(netip.AddrPortFrom(rtp.ap.Addr(), rtp.ap.Port()+1))
		r.remote = dst
	}
	var blocks []rtcp.ReceptionReport
	if l.rx.seen {
		blocks = append(blocks, l.receptionReport(now))
	}
	tx := &l.tx
	tx.mu.Lock()
	ssrc, next, last, step := tx.h.SSRC, tx.h.Timestamp, tx.last, tx.frame
	tx.mu.Unlock()
	sent := l.stats.tx.Load()
	var report rtcp.Packet = &rtcp.ReceiverReport{SSRC: ssrc, Reports: blocks}
	if sent > r.sentAt && !last.IsZero() {
		// The RTP timestamp that corresponds to now: the last packet's, plus the time since.
		ts := next - step + uint32(now.Sub(last)*time.Duration(l.clockRate())/time.Second)
		report = &rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpTime(now.UnixNano()), RTPTime: ts,
			PacketCount: uint32(sent), OctetCount: uint32(l.stats.txOctets.Load()), Reports: blocks}
	}
	r.sentAt = sent
	b, err := rtcp.CompoundPacket{report, rtcp.NewCNAMESourceDescription(ssrc, "vcc@"+l.g.host)}.Marshal()
	if err != nil {
		return
	}
	if l.srtpOut != nil {
		tx.mu.Lock() // the context is shared with the RTP senders
		b, err = l.srtpOut.EncryptRTCP(nil, b, nil)
		tx.mu.Unlock()
		if err != nil {
			return
		}
	}
	if err := l.conn.rtcp.send(b, dst); err == nil {
		l.stats.rtcpOut.Add(1)
	}
}

// receptionReport is our report block about the phone's stream (RFC 3550 6.4.1).
func (l *Leg) receptionReport(now time.Time) rtcp.ReceptionReport {
	r, rx := &l.rc, &l.rx
	exp, rcv := rx.seq.expected(), l.stats.rx.Load()
	lost := max(min(int64(exp)-int64(rcv), 1<<23-1), -(1 << 23))
	expInt, rcvInt := exp-r.prevExp, rcv-r.prevRcv
	r.prevExp, r.prevRcv = exp, rcv
	var fraction uint8
	if lostInt := int64(expInt) - int64(rcvInt); expInt > 0 && lostInt > 0 {
		fraction = uint8(lostInt << 8 / int64(expInt))
	}
	b := rtcp.ReceptionReport{SSRC: rx.ssrc, FractionLost: fraction, TotalLost: uint32(lost) & 0xffffff,
		LastSequenceNumber: uint32(rx.seq.high), Jitter: r.jitter >> 4}
	if r.lsr != 0 {
		b.LastSenderReport = r.lsr
		b.Delay = uint32((now.UnixNano() - r.lsrAt) * 65536 / 1e9)
	}
	return b
}

// ntpTime is unix nanoseconds as a 64-bit NTP timestamp (RFC 3550 4).
func ntpTime(unixNanos int64) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	sec := uint64(unixNanos/1e9) + ntpEpochOffset
	frac := uint64(unixNanos%1e9) << 32 / 1e9
	return sec<<32 | frac
}

// clockRate is the RTP clock of the leg's audio.
func (l *Leg) clockRate() int {
	if l.codec == codecOpus {
		return 48000
	}
	return 8000
}
