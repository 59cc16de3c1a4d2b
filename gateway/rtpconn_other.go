//go:build unix && (!linux || 386)

package gateway

import (
	"net/netip"
	"syscall"
	"time"
)

func udpSocket(family int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

func recvFrom(fd int, buf []byte) (int, netip.AddrPort, error) {
	n, sa, err := syscall.Recvfrom(fd, buf, 0)
	if err == syscall.EAGAIN {
		return 0, netip.AddrPort{}, errAgain
	}
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	var from netip.AddrPort
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		from = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		from = netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return n, from, nil
}

// recvFromAt stamps the packet with the time it was read (no kernel timestamps here).
func recvFromAt(fd int, buf []byte) (int, netip.AddrPort, int64, error) {
	n, from, err := recvFrom(fd, buf)
	return n, from, time.Now().UnixNano(), err
}

func sendTo(fd int, b []byte, a *rtpAddr, v6 bool) error {
	sa := a.sa4
	if v6 {
		sa = a.sa6
	}
	if sa == nil {
		return errNoRoute
	}
	return syscall.Sendto(fd, b, 0, sa)
}

func (a *rtpAddr) initRaw() {}
