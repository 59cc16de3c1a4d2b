//go:build !(linux && (amd64 || arm64))

package fastpath

import (
	"net"
	"net/netip"
)

// batchIO moves one datagram per system call where recvmmsg is not available.
type batchIO struct {
	c       *net.UDPConn
	in      []byte
	n       int
	from    netip.AddrPort
	out     [][]byte
	outN    []int
	outAddr []netip.AddrPort
}

func newBatchIO(c *net.UDPConn) (*batchIO, error) {
	b := &batchIO{c: c, in: make([]byte, 1600), out: make([][]byte, batchSize), outN: make([]int, batchSize), outAddr: make([]netip.AddrPort, batchSize)}
	for i := range b.out {
		b.out[i] = make([]byte, 1700)
	}
	return b, nil
}

func (b *batchIO) read() (int, error) {
	n, from, err := b.c.ReadFromUDPAddrPort(b.in)
	if err != nil {
		return 0, err
	}
	b.n, b.from = n, from
	return 1, nil
}

func (b *batchIO) packet(int) ([]byte, netip.AddrPort) { return b.in[:b.n], b.from }

func (b *batchIO) slot(i int) []byte { return b.out[i] }

func (b *batchIO) set(i, n int, to netip.AddrPort) bool {
	b.outN[i], b.outAddr[i] = n, to
	return true
}

func (b *batchIO) write(k int) (int, error) {
	var first error
	for i := range k {
		if _, err := b.c.WriteToUDPAddrPort(b.out[i][:b.outN[i]], b.outAddr[i]); err != nil && first == nil {
			first = err
		}
	}
	return k, first
}
