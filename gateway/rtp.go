package gateway

import (
	"fmt"
	"net/netip"
	"sync"
)

// portRange hands out RTP ports: even ports in [min, max], round robin, or any free port when the
// range is 0-0.
type portRange struct {
	ip       netip.Addr
	min, max int
	mu       sync.Mutex
	next     int
}

func newPortRange(ip netip.Addr, min, max int) *portRange {
	if min%2 == 1 {
		min++
	}
	return &portRange{ip: ip, min: min, max: max, next: min}
}

// listen binds the UDP sockets for one leg: RTP on an even port and RTCP on the next one
// (RFC 3550 11: phones send RTCP to the RTP port + 1 unless told otherwise).
func (p *portRange) listen() (*rtpConn, error) {
	if p.max == 0 {
		var err error
		for range 64 {
			var c *rtpConn
			if c, err = listenRTP(p.ip, 0); err != nil {
				break
			}
			if c.Port()%2 == 0 && c.Port() < 65535 {
				if c.rtcp, err = listenRTP(p.ip, c.Port()+1); err == nil {
					return c, nil
				}
			}
			_ = c.Close()
		}
		return nil, fmt.Errorf("%w: no free even port with its odd neighbour: %v", ErrNoPorts, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.max - p.min + 1) / 2 // pairs: an even RTP port and its RTCP port, both in range
	for range n {
		port := p.next
		p.next += 2
		if p.next+1 > p.max {
			p.next = p.min
		}
		c, err := listenRTP(p.ip, port)
		if err != nil {
			continue
		}
		if c.rtcp, err = listenRTP(p.ip, port+1); err == nil {
			return c, nil
		}
		_ = c.Close()
	}
	return nil, fmt.Errorf("%w: %s ports %d-%d all in use", ErrNoPorts, p.ip, p.min, p.max)
}
