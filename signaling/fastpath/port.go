// Package fastpath forwards browser media below pion's track API. It wraps the single media
// port's UDP socket that pion's ICE UDP mux reads: ICE, DTLS and RTCP go to pion as before, while
// the SRTP packets of streams registered here are decrypted, handed to their receiver and, for
// streams sent back out, encrypted and written to the socket on the same goroutine, with no
// hand-off, interceptor or allocation per packet. The SRTP keys come from the DTLS handshake as
// RFC 5764 derives them: the master secret from pion/dtls's key log, the hello randoms and the
// chosen profile read from the handshake's clear-text records as they pass through the socket.
//
// pion keeps everything else: ICE, DTLS, the RTCP of every stream (PLI, NACK, reports), and the
// first packets of each stream, which make pion announce the track. What pion's interceptors did
// for a fast stream, the session does itself: it answers NACKs from the packets it sent and
// records TWCC arrivals for the feedback the caller sends.
package fastpath

import (
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Port is the single media port's socket, to be given to pion's ICE UDP mux (ice.UDPMuxParams
// UDPConn). It implements net.PacketConn and ice.AddrPortReaderWriter. pion's mux reads it from one
// goroutine: the fast streams' packets are forwarded on that goroutine.
type Port struct {
	conn *net.UDPConn
	bio  *batchIO
	log  keyLog
	hs   handshakes

	// Reading in batches (recvmmsg), only on the mux's goroutine: how many the last read took and
	// the next to look at.
	inN, inAt int
	outMu     sync.Mutex
	batching  bool // a read batch is being handled: sends wait for one sendmmsg at its end
	outN      int

	mu       sync.Mutex
	sessions atomic.Pointer[map[netip.AddrPort]*Session] // copy on write: read per packet
	bySSRC   atomic.Pointer[map[uint32]*Session]         // the fast streams' sessions, for latch

	ready func(netip.AddrPort) // a session's keys are known (tests)
	stats Stats
}

// Stats counts what the port did.
type Stats struct {
	Fast, Passed, DecryptFailed, Sent, SendErrors, Resent atomic.Uint64
}

// Listen opens the port on addr (e.g. 127.0.0.1:17000).
func Listen(addr string) (*Port, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp4", ua)
	if err != nil {
		return nil, err
	}
	p, err := New(c)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return p, nil
}

// New wraps an open IPv4 socket.
func New(c *net.UDPConn) (*Port, error) {
	bio, err := newBatchIO(c)
	if err != nil {
		return nil, err
	}
	p := &Port{conn: c, bio: bio}
	p.hs.byAddr = map[netip.AddrPort]*handshake{}
	p.hs.secret = map[[32]byte][]byte{}
	p.log.got = p.secret
	m := map[netip.AddrPort]*Session{}
	p.sessions.Store(&m)
	b := map[uint32]*Session{}
	p.bySSRC.Store(&b)
	return p, nil
}

// KeyLog is the writer to give pion (webrtc.SettingEngine.SetDTLSKeyLogWriter): the port learns
// each connection's master secret from it. It is kept in memory only.
func (p *Port) KeyLog() io.Writer { return &p.log }

// Stats returns the port's counters.
func (p *Port) Stats() *Stats { return &p.stats }

// Conn is the underlying socket (for buffer sizes).
func (p *Port) Conn() *net.UDPConn { return p.conn }

// Session returns the session with the remote address, nil while its keys are not known.
func (p *Port) Session(remote netip.AddrPort) *Session {
	return (*p.sessions.Load())[canonical(remote)]
}

// latch takes a fast stream's packet that came from an address its session does not know: the
// browser sends from another of its candidates than the one ICE selected (Chromium does, from an
// address on another interface). If the packet authenticates under the session that receives its
// SSRC, the address is the same peer's and is added to the session for receiving; the address it
// sends to stays the selected pair's.
func (p *Port) latch(pkt []byte, from netip.AddrPort) bool {
	s := (*p.bySSRC.Load())[binary.BigEndian.Uint32(pkt[8:12])]
	if s == nil || !s.receive(pkt) {
		return false
	}
	p.mu.Lock()
	edit(&p.sessions, func(m map[netip.AddrPort]*Session) { m[from] = s })
	p.mu.Unlock()
	return true
}

// Follow points addr at session s as well, and sends s's packets there from now on: ICE moved the
// connection to another candidate pair (the browser nominated a better one, or its address
// changed), and the keys of its handshake go with it.
func (p *Port) Follow(s *Session, addr netip.AddrPort) {
	addr = canonical(addr)
	p.mu.Lock()
	edit(&p.sessions, func(m map[netip.AddrPort]*Session) { m[addr] = s })
	p.mu.Unlock()
	s.txMu.Lock()
	s.remote = addr
	s.txMu.Unlock()
}

// Forget drops session s, under every address it had (its connection closed).
func (p *Port) Forget(s *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	edit(&p.sessions, func(m map[netip.AddrPort]*Session) {
		maps.DeleteFunc(m, func(_ netip.AddrPort, v *Session) bool { return v == s })
	})
	edit(&p.bySSRC, func(m map[uint32]*Session) { maps.DeleteFunc(m, func(_ uint32, v *Session) bool { return v == s }) })
	p.hs.mu.Lock()
	for a, h := range p.hs.byAddr {
		if h.client == s.client {
			delete(p.hs.byAddr, a)
		}
	}
	p.hs.mu.Unlock()
}

func canonical(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// batchSize is how many datagrams one recvmmsg or sendmmsg moves.
const batchSize = 64

// ReadFromAddrPort is what pion's mux calls: it returns the next datagram that is not a fast
// stream's packet, forwarding those on the way. Datagrams are read in batches; what the fast
// streams send while one is handled goes out in one sendmmsg at its end.
func (p *Port) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		for p.inAt < p.inN {
			pkt, from := p.bio.packet(p.inAt)
			p.inAt++
			if !from.IsValid() {
				continue
			}
			switch n := len(pkt); {
			case n >= 12 && pkt[0]&0xc0 == 0x80 && (pkt[1]&0x7f < 64 || pkt[1]&0x7f > 95): // RTP, not RTCP
				if s := (*p.sessions.Load())[from]; s != nil && s.receive(pkt) {
					p.stats.Fast.Add(1)
					continue
				} else if s == nil && p.latch(pkt, from) {
					p.stats.Fast.Add(1)
					continue
				}
			case n > 13 && pkt[0] == 22:
				p.sniff(from, pkt, false)
			}
			p.stats.Passed.Add(1)
			return copy(b, pkt), from, nil
		}
		p.endBatch()
		n, err := p.bio.read()
		if err != nil {
			p.inN, p.inAt = 0, 0
			return 0, netip.AddrPort{}, err
		}
		p.inN, p.inAt = n, 0
		p.outMu.Lock()
		p.batching = true
		p.outMu.Unlock()
	}
}

// endBatch sends what the batch queued and stops queueing.
func (p *Port) endBatch() {
	p.outMu.Lock()
	p.flush()
	p.batching = false
	p.outMu.Unlock()
}

// queue takes a copy of an encrypted packet for the batch's sendmmsg; false when no batch is
// being handled (the caller sends at once).
func (p *Port) queue(b []byte, to netip.AddrPort) bool {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	if !p.batching {
		return false
	}
	if p.outN == batchSize {
		p.flush()
	}
	slot := p.bio.slot(p.outN)
	if len(b) > len(slot) || !p.bio.set(p.outN, copy(slot, b), to) {
		return false
	}
	p.outN++
	return true
}

// flush sends the queued packets; p.outMu is held.
func (p *Port) flush() {
	if p.outN == 0 {
		return
	}
	n, err := p.bio.write(p.outN)
	p.stats.Sent.Add(uint64(n))
	if err != nil {
		p.stats.SendErrors.Add(1)
	}
	p.outN = 0
}

// WriteToAddrPort sends for pion, reading its handshake's hellos on the way.
func (p *Port) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if len(b) > 13 && b[0] == 22 {
		p.sniff(canonical(addr), b, true)
	}
	return p.conn.WriteToUDPAddrPort(b, addr)
}

// ReadFrom implements net.PacketConn.
func (p *Port) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := p.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteTo implements net.PacketConn.
func (p *Port) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("fastpath: not a UDP address")
	}
	return p.WriteToAddrPort(b, ua.AddrPort())
}

func (p *Port) Close() error                       { return p.conn.Close() }
func (p *Port) LocalAddr() net.Addr                { return p.conn.LocalAddr() }
func (p *Port) SetDeadline(t time.Time) error      { return p.conn.SetDeadline(t) }
func (p *Port) SetReadDeadline(t time.Time) error  { return p.conn.SetReadDeadline(t) }
func (p *Port) SetWriteDeadline(t time.Time) error { return p.conn.SetWriteDeadline(t) }

func (p *Port) sniff(addr netip.AddrPort, b []byte, out bool) {
	p.hs.mu.Lock()
	h := p.hs.byAddr[addr]
	if h == nil {
		h = &handshake{}
		p.hs.byAddr[addr] = h
	}
	h.sniff(b, out)
	var master []byte
	if h.haveClient && h.haveServer {
		master = p.hs.secret[h.client]
		delete(p.hs.secret, h.client)
	}
	hc := *h
	p.hs.mu.Unlock()
	if master != nil {
		p.start(addr, &hc, master)
	}
}

// secret takes a master secret from the key log: the session starts now if its hellos were seen,
// else when they are.
func (p *Port) secret(clientRandom [32]byte, master []byte) {
	p.hs.mu.Lock()
	var addr netip.AddrPort
	var hc handshake
	found := false
	for a, h := range p.hs.byAddr {
		if h.haveClient && h.haveServer && h.client == clientRandom {
			addr, hc, found = a, *h, true
			break
		}
	}
	if !found {
		p.hs.secret[clientRandom] = master
	}
	p.hs.mu.Unlock()
	if found {
		p.start(addr, &hc, master)
	}
}

func (p *Port) start(addr netip.AddrPort, h *handshake, master []byte) {
	lk, ls, rk, rs, err := h.keys(master)
	if err != nil {
		return // a profile we do not know: the connection stays on pion's path
	}
	s, err := newSession(p, addr, h.profile, lk, ls, rk, rs)
	if err != nil {
		return
	}
	s.client = h.client
	p.mu.Lock()
	if cur := (*p.sessions.Load())[addr]; cur != nil && cur.client == h.client {
		// The same handshake again: pion logs the secret each time a flight is handled, and a
		// retransmitted flight is handled again. The session in use keeps its streams.
		p.mu.Unlock()
		return
	}
	edit(&p.sessions, func(m map[netip.AddrPort]*Session) { m[addr] = s })
	p.mu.Unlock()
	if p.ready != nil {
		p.ready(addr)
	}
}

// edit changes a copy-on-write map: the packet path reads the stored map without a lock, so a
// change is made to a copy that then replaces it. Callers serialise edits with Port.mu.
func edit[K comparable, V any](ptr *atomic.Pointer[map[K]V], change func(map[K]V)) {
	m := maps.Clone(*ptr.Load())
	change(m)
	ptr.Store(&m)
}

var errTooLarge = errors.New("fastpath: packet larger than the MTU")
