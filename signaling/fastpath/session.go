package fastpath

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Receiver takes one decrypted packet of a fast stream. It runs on the port's read goroutine, so
// it must not block, and must not keep h or payload after returning.
type Receiver func(h *rtp.Header, payload []byte)

// Session is the SRTP state shared with one remote address (one browser's PeerConnection): the
// streams it sends that are taken off pion's path, and a sender for the streams sent to it.
type Session struct {
	port   *Port
	remote netip.AddrPort // where Send sends; under txMu (Port.Follow moves it)
	client [32]byte       // the handshake's client random: which handshake this session keys

	// Receiving: only the port's read goroutine touches rx and its buffers.
	rx     *srtp.Context
	recv   atomic.Pointer[map[uint32]Receiver]
	rxBuf  []byte
	rxHdr  rtp.Header
	twccID atomic.Uint32 // the transport-cc header extension id the remote stamps, 0: none
	twccMu sync.Mutex
	twcc   *twcc.Recorder
	losses map[uint32]*lossLog // streams whose losses are NACKed; under twccMu
	rtcpID uint32              // the SSRC our feedback is sent as

	// Sending: any goroutine, one at a time.
	txMu  sync.Mutex
	tx    *srtp.Context
	plain []byte
	enc   []byte
	txHdr rtp.Header
	sent  map[uint32]*history
}

// historySize is how many sent packets of a stream are kept for NACKs: 2.5 s of 720p video, as
// the pion responder it replaces was configured.
const historySize = 256

type history [historySize]struct {
	seq uint16
	ok  bool
	b   []byte
}

func newSession(p *Port, remote netip.AddrPort, profile srtp.ProtectionProfile, lk, ls, rk, rs []byte) (*Session, error) {
	rx, err := srtp.CreateContext(rk, rs, profile, srtp.SRTPReplayProtection(64))
	if err != nil {
		return nil, err
	}
	tx, err := srtp.CreateContext(lk, ls, profile)
	if err != nil {
		return nil, err
	}
	s := &Session{
		port: p, remote: remote, rx: rx, tx: tx,
		rxBuf: make([]byte, 0, 1600), plain: make([]byte, 1600), enc: make([]byte, 0, 1700),
		sent:   map[uint32]*history{},
		losses: map[uint32]*lossLog{},
		rtcpID: rand.Uint32(),
	}
	s.twcc = twcc.NewRecorder(s.rtcpID)
	m := map[uint32]Receiver{}
	s.recv.Store(&m)
	return s, nil
}

// Remote is the address the session sends to now.
func (s *Session) Remote() netip.AddrPort {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	return s.remote
}

// Receive takes the stream ssrc off pion's path: its packets from now on go to f. A packet that
// does not decrypt (the stream had wrapped its sequence before this was called, say) still goes to
// pion. With nack, the packets that do not arrive are asked for again (Feedback).
func (s *Session) Receive(ssrc uint32, f Receiver, nack bool) {
	s.twccMu.Lock()
	if nack && f != nil {
		s.losses[ssrc] = &lossLog{}
	} else {
		delete(s.losses, ssrc)
	}
	s.twccMu.Unlock()
	s.port.mu.Lock()
	defer s.port.mu.Unlock()
	edit(&s.recv, func(m map[uint32]Receiver) {
		if f == nil {
			delete(m, ssrc)
		} else {
			m[ssrc] = f
		}
	})
	edit(&s.port.bySSRC, func(m map[uint32]*Session) {
		if f == nil {
			delete(m, ssrc)
		} else {
			m[ssrc] = s
		}
	})
}

// SetTWCC gives the transport-cc header extension id the remote stamps on its packets, so that
// their arrivals are recorded for TWCCFeedback; 0 stops recording.
func (s *Session) SetTWCC(id uint8) { s.twccID.Store(uint32(id)) }

// Feedback returns the RTCP the fast streams' sender should get now, for the caller to send
// every 100 ms or so (pion's interceptors never see these packets): transport-cc feedback for what
// arrived since the last call, and NACKs for what did not.
func (s *Session) Feedback() []rtcp.Packet {
	s.twccMu.Lock()
	defer s.twccMu.Unlock()
	var out []rtcp.Packet
	if s.twcc.PacketsHeld() > 0 {
		out = s.twcc.BuildFeedbackPacket()
	}
	var seqs []uint16
	for ssrc, l := range s.losses {
		if seqs = l.take(seqs[:0]); len(seqs) > 0 {
			out = append(out, nackPacket(s.rtcpID, ssrc, seqs))
		}
	}
	return out
}

func (s *Session) receive(pkt []byte) bool {
	f := (*s.recv.Load())[binary.BigEndian.Uint32(pkt[8:12])]
	if f == nil {
		return false
	}
	dec, err := s.rx.DecryptRTP(s.rxBuf[:0], pkt, &s.rxHdr)
	if err != nil {
		s.port.stats.DecryptFailed.Add(1)
		return false
	}
	h := &s.rxHdr
	start, end := h.MarshalSize(), len(dec)
	if h.Padding && end > start {
		if pad := int(dec[end-1]); pad <= end-start {
			end -= pad
		}
	}
	if start > end {
		return true // malformed: dropped, as pion would
	}
	id := s.twccID.Load()
	var ext []byte
	if id != 0 {
		ext = h.GetExtension(uint8(id))
	}
	s.twccMu.Lock()
	if len(ext) >= 2 {
		s.twcc.Record(h.SSRC, binary.BigEndian.Uint16(ext), time.Now().UnixMicro())
	}
	if l := s.losses[h.SSRC]; l != nil {
		l.seen(h.SequenceNumber)
	}
	s.twccMu.Unlock()
	f(h, dec[start:end])
	return true
}

// Send encrypts and sends one packet to the remote, keeping it for NACKs. It never blocks on
// anything but the socket's send, which for UDP does not wait for the receiver.
func (s *Session) Send(h *rtp.Header, payload []byte) error {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	n := h.MarshalSize()
	if n+len(payload) > len(s.plain) {
		return errTooLarge
	}
	if _, err := h.MarshalTo(s.plain); err != nil {
		return err
	}
	copy(s.plain[n:], payload)
	enc, err := s.tx.EncryptRTP(s.enc[:0], s.plain[:n+len(payload)], &s.txHdr)
	if err != nil {
		return err
	}
	hist := s.sent[h.SSRC]
	if hist == nil {
		hist = &history{}
		s.sent[h.SSRC] = hist
	}
	slot := &hist[h.SequenceNumber%historySize]
	slot.seq, slot.ok, slot.b = h.SequenceNumber, true, append(slot.b[:0], enc...)
	if s.port.queue(enc, s.remote) {
		return nil
	}
	if _, err := s.port.conn.WriteToUDPAddrPort(enc, s.remote); err != nil {
		s.port.stats.SendErrors.Add(1)
		return err
	}
	s.port.stats.Sent.Add(1)
	return nil
}

// Resend answers a NACK for stream ssrc from the packets kept, returning how many were sent again.
func (s *Session) Resend(ssrc uint32, nacks []rtcp.NackPair) int {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	hist := s.sent[ssrc]
	if hist == nil {
		return 0
	}
	n := 0
	for _, p := range nacks {
		p.Range(func(seq uint16) bool {
			if slot := &hist[seq%historySize]; slot.ok && slot.seq == seq {
				if _, err := s.port.conn.WriteToUDPAddrPort(slot.b, s.remote); err == nil {
					n++
				}
			}
			return true
		})
	}
	s.port.stats.Resent.Add(uint64(n))
	return n
}
