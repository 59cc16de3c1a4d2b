//go:build linux && !386

package gateway

import (
	"net/netip"
	"syscall"
	"unsafe"
)

func udpSocket(family int) (int, error) {
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	// The kernel stamps each packet's arrival: the clock drains sockets every 20 ms, so the time
	// of reading says nothing about network jitter (RTCP reports it, RFC 3550 6.4.1).
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// The socket calls below never block (the sockets are non-blocking), so they are raw system calls:
// the goroutine keeps its P, and the runtime's monitor has no syscall to retake it from and hand
// to another thread, which on a VM costs more than the call itself.

// recvFromAt is recvmsg(2) without the allocations syscall.Recvmsg makes, returning the sender
// and the packet's arrival time (unix nanoseconds, from the kernel's SO_TIMESTAMPNS; 0 if it gave
// none).
func recvFromAt(fd int, buf []byte) (int, netip.AddrPort, int64, error) {
	if len(buf) == 0 {
		return 0, netip.AddrPort{}, 0, nil
	}
	var rsa syscall.RawSockaddrAny
	var ctl [64]byte // one cmsghdr (16 bytes) and a timespec (16): room to spare
	iov := syscall.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	msg := syscall.Msghdr{Name: (*byte)(unsafe.Pointer(&rsa)), Namelen: syscall.SizeofSockaddrAny, Iov: &iov, Iovlen: 1,
		Control: &ctl[0]}
	msg.SetControllen(len(ctl))
	n, _, errno := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), 0)
	switch {
	case errno == syscall.EAGAIN:
		return 0, netip.AddrPort{}, 0, errAgain
	case errno != 0:
		return 0, netip.AddrPort{}, 0, errno
	}
	var at int64
	if msg.Controllen >= syscall.SizeofCmsghdr+16 {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&ctl[0]))
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS {
			ts := (*syscall.Timespec)(unsafe.Pointer(&ctl[syscall.SizeofCmsghdr]))
			at = ts.Nano()
		}
	}
	return int(n), addrPortOf(&rsa), at, nil
}

func addrPortOf(rsa *syscall.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// sendTo is sendto(2) to a's address for the socket's family, without allocation.
func sendTo(fd int, b []byte, a *rtpAddr, v6 bool) error {
	if len(b) == 0 {
		return nil
	}
	var sa unsafe.Pointer
	var n uintptr
	switch {
	case v6 && a.sa6 != nil:
		sa, n = unsafe.Pointer(&a.raw6), syscall.SizeofSockaddrInet6
	case !v6 && a.sa4 != nil:
		sa, n = unsafe.Pointer(&a.raw4), syscall.SizeofSockaddrInet4
	default:
		return errNoRoute
	}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, uintptr(sa), n)
	if errno != 0 {
		return errno
	}
	return nil
}

// initRaw fills the raw socket addresses sendTo hands the kernel.
func (a *rtpAddr) initRaw() {
	port := (*[2]byte)(unsafe.Pointer(&a.raw4.Port))
	port[0], port[1] = byte(a.ap.Port()>>8), byte(a.ap.Port())
	port = (*[2]byte)(unsafe.Pointer(&a.raw6.Port))
	port[0], port[1] = byte(a.ap.Port()>>8), byte(a.ap.Port())
	a.raw4.Family = syscall.AF_INET
	a.raw6.Family = syscall.AF_INET6
	if a.ap.Addr().Is4() {
		a.raw4.Addr = a.ap.Addr().As4()
	}
	if a.ap.Addr().IsValid() {
		a.raw6.Addr = a.ap.Addr().As16()
	}
}
