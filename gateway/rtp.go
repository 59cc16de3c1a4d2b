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

// listen binds a UDP socket for one leg's RTP.
func (p *portRange) listen() (*rtpConn, error) {
	if p.max == 0 {
		c, err := listenRTP(p.ip, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoPorts, err)
		}
		return c, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.max-p.min)/2 + 1
	for range n {
		port := p.next
		p.next += 2
		if p.next > p.max {
			p.next = p.min
		}
		c, err := listenRTP(p.ip, port)
		if err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: %s ports %d-%d all in use", ErrNoPorts, p.ip, p.min, p.max)
}
