package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
)

// rtpConn is one leg's RTP socket. It is a plain non-blocking UDP socket that Go's network poller
// never sees: nobody waits on it. The gateway clock drains it every 20 ms (recv returns errAgain
// when it is empty) and senders write to it directly, so a phone's packets wake no goroutine and
// no thread. With a socket in the poller, each arriving packet would wake a thread to find that
// no goroutine is waiting: on a VM that costs about as much as the packet's whole handling.
type rtpConn struct {
	mu    sync.RWMutex // Close takes it exclusively, so no read or send ever uses a reused fd
	fd    int          // -1 once closed
	local netip.AddrPort
	v6    bool
	rtcp  *rtpConn // the RTCP socket on the next port (RFC 3550 11), closed with this one
}

var (
	errAgain      = errors.New("gateway: no packet waiting")
	errConnClosed = errors.New("gateway: rtp socket closed")
)

// listenRTP binds a UDP socket on ip:port (port 0: any free port).
func listenRTP(ip netip.Addr, port int) (*rtpConn, error) {
	ip = ip.Unmap()
	family := syscall.AF_INET
	var sa syscall.Sockaddr = &syscall.SockaddrInet4{Port: port, Addr: ip.As4()}
	if ip.Is6() {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: port, Addr: ip.As16()}
	}
	fd, err := udpSocket(family)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", netip.AddrPortFrom(ip, uint16(port)), err)
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	c := &rtpConn{fd: fd, v6: ip.Is6()}
	switch a := got.(type) {
	case *syscall.SockaddrInet4:
		c.local = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		c.local = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return c, nil
}

// LocalAddr is the address the socket is bound to.
func (c *rtpConn) LocalAddr() netip.AddrPort { return c.local }

// Port is the local port.
func (c *rtpConn) Port() int { return int(c.local.Port()) }

// recvAt reads one waiting packet into buf without blocking (errAgain when none is waiting), with
// its sender and its arrival time in unix nanoseconds.
func (c *rtpConn) recvAt(buf []byte) (int, netip.AddrPort, int64, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.fd < 0 {
		return 0, netip.AddrPort{}, 0, errConnClosed
	}
	return recvFromAt(c.fd, buf)
}

// send writes one packet to a without blocking (a full socket buffer drops it with an error).
func (c *rtpConn) send(b []byte, a *rtpAddr) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.fd < 0 {
		return errConnClosed
	}
	return sendTo(c.fd, b, a, c.v6)
}

// Close closes the socket (and its RTCP socket) once; reads and sends fail afterwards.
func (c *rtpConn) Close() error {
	if c.rtcp != nil {
		_ = c.rtcp.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return nil
	}
	err := syscall.Close(c.fd)
	c.fd = -1
	return err
}

// rtpAddr is where a leg's RTP goes, with the socket addresses built once (sending is then
// allocation-free).
type rtpAddr struct {
	ap   netip.AddrPort
	sa4  syscall.Sockaddr // nil when ap is not IPv4
	sa6  syscall.Sockaddr // for an IPv6 socket (IPv4 as mapped)
	raw4 syscall.RawSockaddrInet4
	raw6 syscall.RawSockaddrInet6
}

func newRTPAddr(ap netip.AddrPort) *rtpAddr {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	a := &rtpAddr{ap: ap}
	if ap.Addr().Is4() {
		a.sa4 = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	if ap.Addr().IsValid() {
		a.sa6 = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	a.initRaw()
	return a
}

var errNoRoute = errors.New("gateway: no address of the socket's family")

// usable says whether packets can be sent there.
func (a *rtpAddr) usable() bool {
	return a != nil && a.ap.Addr().IsValid() && !a.ap.Addr().IsUnspecified() && a.ap.Port() != 0
}
