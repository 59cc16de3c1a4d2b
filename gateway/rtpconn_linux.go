package gateway

import (
	"net/netip"
	"syscall"
	"unsafe"
)

func udpSocket(family int) (int, error) {
	return syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
}

// recvFrom is recvfrom(2) without the allocation syscall.Recvfrom makes for the source address.
func recvFrom(fd int, buf []byte) (int, netip.AddrPort, error) {
	if len(buf) == 0 {
		return 0, netip.AddrPort{}, nil
	}
	var rsa syscall.RawSockaddrAny
	salen := uint32(syscall.SizeofSockaddrAny)
	n, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		0, uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&salen)))
	switch {
	case errno == syscall.EAGAIN:
		return 0, netip.AddrPort{}, errAgain
	case errno != 0:
		return 0, netip.AddrPort{}, errno
	}
	var from netip.AddrPort
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		from = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		from = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return int(n), from, nil
}
