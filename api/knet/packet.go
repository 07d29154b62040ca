package knet

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/netconv"
)

// PacketConn is an unconnected datagram socket of a Kernel (UDP or Unix
// datagram) as a net.PacketConn: what DNS servers, DHCP and NTP clients
// and the like take. It keeps datagram boundaries: each WriteTo sends one
// datagram, each ReadFrom receives one. As with net.UDPConn, a datagram
// longer than the buffer is truncated to it without an error (the rest is
// lost), and an empty datagram reads as 0 bytes with its sender.
//
// Operations that would block wait (see package doc), so deadlines
// and Close interrupt them; every method may be called from several
// goroutines at once (concurrent ReadFroms each get whole datagrams).
type PacketConn struct {
	fd      *api.Fd
	network string
	family  api.Family // AF_INET, AF_INET6 or AF_UNIX
	laddr   net.Addr
	rd, wd  deadline
	once    sync.Once
	closing chan struct{}
	h       *hostFd // the host fast path; nil elsewhere
	rw, ww  waiter  // in knet's poller
}

var _ net.PacketConn = (*PacketConn)(nil)

// ListenPacket makes a datagram socket bound to address in k's network
// stack, as net.ListenPacket does in the host's: network "udp", "udp4",
// "udp6" or "unixgram". For UDP an empty host is every address (IPv4 for
// "udp" and "udp4", IPv6 only for "udp6"; "[::]" with "udp" serves IPv4
// too where the kernel allows it), port 0 picks a free port (see
// LocalAddr), and hosts are IP addresses or "localhost": names are not
// resolved. As in package net, a UDP socket may send broadcasts, and the
// file of a "unixgram" socket bound to a path stays after Close.
//
// A datagram is bounded by the kernel's socket buffers as well as by the
// protocol (65507 bytes of UDP over IPv4): NetBSD's defaults are small
// (9216 bytes to send a UDP datagram); raise them through Fd
// (SetSndBuf, SetRcvBuf) for larger ones.
func ListenPacket(k *api.Kernel, network, address string) (*PacketConn, error) {
	opErr := func(addr net.Addr, err error) error {
		return &net.OpError{Op: "listen", Net: network, Addr: addr, Err: err}
	}
	if k == nil {
		return nil, opErr(nil, api.EINVAL)
	}
	if !datagram(network) {
		return nil, opErr(nil, net.UnknownNetworkError(network))
	}
	sa, fam, err := resolve(network, address, true)
	if err != nil {
		return nil, opErr(nil, err)
	}
	fd, err := newSocket(k, fam, api.SOCK_DGRAM)
	if err != nil {
		return nil, opErr(nil, err)
	}
	if err := setDatagramOptions(fd, network, fam, sa); err != nil {
		fd.Close()
		return nil, opErr(nil, err)
	}
	if err := fd.Bind(sa); err != nil {
		fd.Close()
		return nil, opErr(toNetAddr(sa, network), err)
	}
	return newPacketConn(fd, network, fam), nil
}

// setDatagramOptions sets what package net sets on a new datagram socket:
// SO_BROADCAST for UDP, and IPV6_V6ONLY as the network asks ("udp6" only
// IPv6; "udp" on an IPv6 wildcard both, where the kernel lets it: NetBSD
// defaults to IPv6 only, Linux to both).
func setDatagramOptions(fd *api.Fd, network string, fam api.Family, sa api.Sockaddr) error {
	if fam == api.AF_UNIX {
		return nil
	}
	if err := fd.SetsockoptInt(api.SO_BROADCAST, 1); err != nil {
		return err
	}
	if fam == api.AF_INET6 {
		if network == "udp6" {
			return fd.SetIPv6Only(true)
		}
		if s, ok := sa.(api.SockaddrInet6); ok && s.Addr == ([16]byte{}) {
			// Best effort: a kernel that refuses stays IPv6 only.
			fd.SetIPv6Only(false)
		}
	}
	return nil
}

// NewPacketConn wraps a datagram socket fd (its Kernel's: any backend),
// usually bound already, as a net.PacketConn. It makes fd nonblocking;
// the PacketConn owns fd from now on. network is "udp", "udp4", "udp6"
// or "unixgram"; the socket's own family decides which addresses it
// takes.
func NewPacketConn(fd *api.Fd, network string) (*PacketConn, error) {
	opErr := func(err error) error { return &net.OpError{Op: "newpacketconn", Net: network, Err: err} }
	if !datagram(network) {
		return nil, opErr(net.UnknownNetworkError(network))
	}
	if fd == nil || fd.Num() < 0 {
		return nil, opErr(api.EBADF)
	}
	fam, err := fd.SocketFamily()
	if err != nil {
		return nil, opErr(err)
	}
	if fam != api.AF_INET && fam != api.AF_INET6 && fam != api.AF_UNIX {
		return nil, opErr(&api.SockaddrError{Input: fam.String(), Reason: "not an IP or Unix socket"})
	}
	if err := fd.SetNonblock(true); err != nil {
		return nil, opErr(err)
	}
	return newPacketConn(fd, network, fam), nil
}

func newPacketConn(fd *api.Fd, network string, fam api.Family) *PacketConn {
	c := &PacketConn{fd: fd, network: network, family: fam, closing: make(chan struct{}), h: newHostFd(fd)}
	if sa, err := fd.Getsockname(); err == nil {
		c.laddr = toNetAddr(sa, network)
	}
	return c
}

// Fd returns the socket, for options this type does not wrap (SetRcvBuf,
// SetIPTTL, ...). It stays owned by c.
func (c *PacketConn) Fd() *api.Fd { return c.fd }

func (c *PacketConn) opErr(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: c.network, Source: c.laddr, Addr: addr, Err: err}
}

// ready is the check before each attempt: closed, or past the deadline.
func (c *PacketConn) ready(d *deadline) error {
	if isClosed(c.closing) {
		return net.ErrClosed
	}
	if d.expired() {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// ReadFrom receives one datagram into b and returns its length and
// sender: a *net.UDPAddr, or a *net.UnixAddr (nil when the sender is an
// unnamed Unix socket, which cannot be answered). A longer datagram is
// truncated to len(b) without an error; an empty b still takes one
// datagram off the queue. Past the read deadline the error matches
// os.ErrDeadlineExceeded; after Close, net.ErrClosed.
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.family != api.AF_UNIX {
		n, ap, err := c.ReadFromUDPAddrPort(b)
		if err != nil {
			return n, nil, err
		}
		return n, net.UDPAddrFromAddrPort(ap), nil
	}
	var one [1]byte
	for {
		if err := c.ready(&c.rd); err != nil {
			return 0, nil, c.opErr("read", nil, err)
		}
		n, sa, err := c.fd.Recvfrom(readBuf(b, &one), 0)
		n = min(n, len(b))
		if err == nil {
			if u, ok := sa.(api.SockaddrUnix); ok && u.Name != "" {
				return n, &net.UnixAddr{Name: u.Name, Net: c.network}, nil
			}
			return n, nil, nil
		}
		if err := retry(c.h, &c.rw, c.fd, err, api.POLLIN, &c.rd, c.closing, nil); err != nil {
			return 0, nil, c.opErr("read", nil, err)
		}
	}
}

// ReadFromUDPAddrPort is ReadFrom for UDP returning the sender as a
// netip.AddrPort, without allocating (as net.UDPConn's). On an IPv6
// socket that also serves IPv4, IPv4 senders come IPv4-mapped.
func (c *PacketConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	if c.family == api.AF_UNIX {
		return 0, netip.AddrPort{}, c.opErr("read", nil, errNotUDP)
	}
	var one [1]byte
	buf := readBuf(b, &one)
	for {
		if err := c.ready(&c.rd); err != nil {
			return 0, netip.AddrPort{}, c.opErr("read", nil, err)
		}
		var n int
		var err error
		var ap netip.AddrPort
		if c.family == api.AF_INET {
			var sa api.SockaddrInet4
			n, err = c.fd.RecvfromInet4(buf, 0, &sa)
			ap = sa.AddrPort()
		} else {
			var sa api.SockaddrInet6
			n, err = c.fd.RecvfromInet6(buf, 0, &sa)
			ap = sa.AddrPort()
		}
		if err == nil {
			return min(n, len(b)), ap, nil
		}
		if err := retry(c.h, &c.rw, c.fd, err, api.POLLIN, &c.rd, c.closing, nil); err != nil {
			return 0, netip.AddrPort{}, c.opErr("read", nil, err)
		}
	}
}

// readBuf is the buffer a read of b passes to the kernel: b, or one
// scratch byte when b is empty. NetBSD answers a zero-length recvfrom at
// once, queued datagram or not, with no sender and without taking one;
// asking for a byte (then dropped) makes every kernel take exactly one
// datagram, as Linux does for an empty buffer.
func readBuf(b []byte, one *[1]byte) []byte {
	if len(b) == 0 {
		return one[:]
	}
	return b
}

// ReadFromUDP is ReadFrom for UDP returning a *net.UDPAddr, as
// net.UDPConn's.
func (c *PacketConn) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) {
	n, ap, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(ap), nil
}

// errNotUDP is a UDP-only method on a Unix datagram socket.
var errNotUDP = &api.SockaddrError{Input: "unixgram", Reason: "a UDP address on a Unix datagram socket"}

// WriteTo sends b as one datagram to addr: a *net.UDPAddr for UDP (an
// IPv4 one is IPv4-mapped on an IPv6 socket), a *net.UnixAddr for
// "unixgram". Another type, a nil address or one of the wrong IP family
// is an error that matches api.EINVAL and names the problem. A datagram
// is sent whole or not at all (EMSGSIZE when too long).
func (c *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.family != api.AF_UNIX {
		a, ok := addr.(*net.UDPAddr)
		if !ok || a == nil {
			return 0, c.opErr("write", addr, badAddr(addr, "*net.UDPAddr"))
		}
		return c.writeToAddrPort(b, a.AddrPort(), addr)
	}
	a, ok := addr.(*net.UnixAddr)
	if !ok || a == nil {
		return 0, c.opErr("write", addr, badAddr(addr, "*net.UnixAddr"))
	}
	sa, err := netconv.FromNetAddr(a)
	if err != nil {
		return 0, c.opErr("write", addr, err)
	}
	n, err := c.send(b, sa)
	if err != nil {
		return 0, c.opErr("write", addr, err)
	}
	return n, nil
}

// badAddr describes an address WriteTo cannot take.
func badAddr(addr net.Addr, want string) error {
	got := "nil"
	if addr != nil {
		got = typeName(addr)
	}
	return &api.SockaddrError{Input: got, Reason: "WriteTo needs a non-nil " + want}
}

// typeName names addr's type and value without fmt: "*net.UnixAddr /x".
func typeName(addr net.Addr) string {
	switch a := addr.(type) {
	case *net.UDPAddr:
		if a == nil {
			return "(*net.UDPAddr)(nil)"
		}
		return "*net.UDPAddr " + a.String()
	case *net.UnixAddr:
		if a == nil {
			return "(*net.UnixAddr)(nil)"
		}
		return "*net.UnixAddr " + a.String()
	case *net.TCPAddr:
		return "*net.TCPAddr " + a.String()
	case *net.IPAddr:
		return "*net.IPAddr " + a.String()
	}
	return "a net.Addr of network " + strconv.Quote(addr.Network())
}

// WriteToUDP is WriteTo for UDP taking a *net.UDPAddr, as net.UDPConn's.
func (c *PacketConn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	if addr == nil {
		return 0, c.opErr("write", nil, badAddr(nil, "*net.UDPAddr"))
	}
	return c.WriteTo(b, addr)
}

// WriteToUDPAddrPort is WriteTo for UDP taking a netip.AddrPort, without
// allocating (as net.UDPConn's). A zone must be a numeric interface
// index: names belong to the kernel, which need not be the host.
func (c *PacketConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.writeToAddrPort(b, addr, nil)
}

// writeToAddrPort sends to ap; orig is the address as the caller gave it,
// for errors (nil: made from ap, only then, so that the good path does
// not allocate).
func (c *PacketConn) writeToAddrPort(b []byte, ap netip.AddrPort, orig net.Addr) (int, error) {
	var n int
	var err error
	a := ap.Addr()
	switch {
	case c.family == api.AF_UNIX:
		err = errNotUDP
	case !a.IsValid():
		err = &api.SockaddrError{Input: ap.String(), Reason: "no IP address"}
	case c.family == api.AF_INET:
		if a.Zone() == "" {
			a = a.Unmap()
		}
		if !a.Is4() {
			err = &api.SockaddrError{Input: ap.String(), Reason: "an IPv6 address on an IPv4 socket"}
			break
		}
		n, err = c.send(b, api.SockaddrInet4{Addr: a.As4(), Port: ap.Port()})
	default:
		sa := api.SockaddrInet6{Addr: a.As16(), Port: ap.Port()}
		if z := a.Zone(); z != "" {
			id, perr := strconv.ParseUint(z, 10, 32)
			if perr != nil {
				err = &api.SockaddrError{Input: ap.String(), Reason: "zone " + strconv.Quote(z) + " is not a numeric interface index"}
				break
			}
			sa.ZoneID = uint32(id)
		}
		n, err = c.send(b, sa)
	}
	if err != nil {
		if orig == nil {
			orig = net.UDPAddrFromAddrPort(ap)
		}
		return 0, c.opErr("write", orig, err)
	}
	return n, nil
}

// send sends one datagram to sa, waiting while the socket's buffer is
// full. Its errors are bare: the callers wrap them with the address as
// they know it (sa must not escape: the good path allocates nothing).
func (c *PacketConn) send(b []byte, sa api.Sockaddr) (int, error) {
	spin := 0
	for {
		if err := c.ready(&c.wd); err != nil {
			return 0, err
		}
		n, err := c.fd.Sendto(b, 0, sa)
		if err == nil {
			return n, nil
		}
		if err := retry(c.h, &c.ww, c.fd, err, api.POLLOUT, &c.wd, c.closing, &spin); err != nil {
			return 0, err
		}
	}
}

// Close closes the socket; pending ReadFroms and WriteTos return at once
// with an error matching net.ErrClosed. Closing again is an error, as in
// package net.
func (c *PacketConn) Close() error {
	first := false
	c.once.Do(func() {
		first = true
		close(c.closing)
	})
	if !first {
		return c.opErr("close", nil, net.ErrClosed)
	}
	c.h.close()
	if err := closeFd(c.fd); err != nil {
		return c.opErr("close", nil, err)
	}
	return nil
}

// LocalAddr returns the address the socket is bound to, with the port the
// kernel chose for port 0 (nil if the kernel did not say).
func (c *PacketConn) LocalAddr() net.Addr { return c.laddr }

// SetDeadline sets the read and write deadlines.
func (c *PacketConn) SetDeadline(t time.Time) error {
	if isClosed(c.closing) {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.rd.set(t)
	c.wd.set(t)
	c.h.setDeadline(t, true, true)
	return nil
}

// SetReadDeadline sets the read deadline; a zero t means none. ReadFroms
// waiting already see the new deadline at once.
func (c *PacketConn) SetReadDeadline(t time.Time) error {
	if isClosed(c.closing) {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.rd.set(t)
	c.h.setDeadline(t, true, false)
	return nil
}

// SetWriteDeadline sets the write deadline; a zero t means none.
func (c *PacketConn) SetWriteDeadline(t time.Time) error {
	if isClosed(c.closing) {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.wd.set(t)
	c.h.setDeadline(t, false, true)
	return nil
}
