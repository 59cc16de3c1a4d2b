//go:build linux && (amd64 || arm64)

package fastpath

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchIO moves datagrams with recvmmsg and sendmmsg, called as raw system calls: a Go system
// call hands the goroutine's P back to the scheduler, and with one busy reader the runtime's
// monitor then wakes every 20 us to take it, a context switch each time, which on a virtual
// machine cost more than forwarding the packet. The socket is non-blocking, so a raw call never
// blocks; an empty or full socket parks the goroutine in the netpoller as usual. IPv4 only.
type batchIO struct {
	rc syscall.RawConn

	in      []mmsghdr
	inIov   []unix.Iovec
	inBufs  [][]byte
	inNames []unix.RawSockaddrInet4

	out      []mmsghdr
	outIov   []unix.Iovec
	outBufs  [][]byte
	outNames []unix.RawSockaddrInet4
}

type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

func newBatchIO(c *net.UDPConn) (*batchIO, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	b := &batchIO{rc: rc,
		in: make([]mmsghdr, batchSize), inIov: make([]unix.Iovec, batchSize), inBufs: make([][]byte, batchSize), inNames: make([]unix.RawSockaddrInet4, batchSize),
		out: make([]mmsghdr, batchSize), outIov: make([]unix.Iovec, batchSize), outBufs: make([][]byte, batchSize), outNames: make([]unix.RawSockaddrInet4, batchSize),
	}
	for i := range b.in {
		b.inBufs[i] = make([]byte, 1600)
		b.inIov[i].Base = &b.inBufs[i][0]
		b.inIov[i].SetLen(len(b.inBufs[i]))
		b.in[i].hdr.Iov = &b.inIov[i]
		b.in[i].hdr.Iovlen = 1
		b.in[i].hdr.Name = (*byte)(unsafe.Pointer(&b.inNames[i]))
		b.outBufs[i] = make([]byte, 1700)
		b.out[i].hdr.Iov = &b.outIov[i]
		b.out[i].hdr.Iovlen = 1
		b.out[i].hdr.Name = (*byte)(unsafe.Pointer(&b.outNames[i]))
		b.out[i].hdr.Namelen = unix.SizeofSockaddrInet4
	}
	return b, nil
}

// read waits for datagrams and returns how many it took (at most batchSize).
func (b *batchIO) read() (int, error) {
	for i := range b.in {
		b.in[i].hdr.Namelen = unix.SizeofSockaddrInet4
		b.in[i].hdr.Flags = 0
	}
	var n int
	var errno syscall.Errno
	err := b.rc.Read(func(fd uintptr) bool {
		r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.in[0])), uintptr(len(b.in)), 0, 0, 0)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false
		}
		n, errno = int(r), e
		return true
	})
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

// packet is datagram i of the last read and its sender.
func (b *batchIO) packet(i int) ([]byte, netip.AddrPort) {
	sa := &b.inNames[i]
	if sa.Family != unix.AF_INET {
		return nil, netip.AddrPort{}
	}
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	return b.inBufs[i][:b.in[i].n], netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port)
}

// slot returns the buffer for outgoing datagram i, to fill before write.
func (b *batchIO) slot(i int) []byte { return b.outBufs[i] }

// set addresses outgoing datagram i, of n bytes of its slot, to to.
func (b *batchIO) set(i, n int, to netip.AddrPort) bool {
	if !to.Addr().Is4() {
		return false
	}
	sa := &b.outNames[i]
	sa.Family = unix.AF_INET
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], to.Port())
	sa.Addr = to.Addr().As4()
	b.outIov[i].Base = &b.outBufs[i][0]
	b.outIov[i].SetLen(n)
	return true
}

// write sends outgoing datagrams [0, k) and returns how many the kernel took.
func (b *batchIO) write(k int) (int, error) {
	sent := 0
	var errno syscall.Errno
	err := b.rc.Write(func(fd uintptr) bool {
		for sent < k {
			r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.out[sent])), uintptr(k-sent), 0, 0, 0)
			if e == unix.EAGAIN {
				return false
			}
			if e == unix.EINTR {
				continue
			}
			if e != 0 {
				// The first datagram was refused (an unreachable address, say): drop it, go on.
				errno = e
				sent++
				continue
			}
			sent += int(r)
		}
		return true
	})
	if err != nil {
		return sent, err
	}
	if errno != 0 {
		return sent, errno
	}
	return sent, nil
}
