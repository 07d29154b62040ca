package knet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/netconv"
)

// Dialer connects through a Kernel's network stack, as net.Dialer does
// through the host's. Its DialContext is what http.Transport takes:
//
//	tr := &http.Transport{DialContext: (&knet.Dialer{Kernel: k}).DialContext}
type Dialer struct {
	// Kernel is the kernel whose stack makes the connection.
	Kernel *api.Kernel
	// Timeout bounds the connect, with the context's deadline; zero means
	// none.
	Timeout time.Duration
	// LocalAddr, if set, is bound before connecting (*net.TCPAddr,
	// *net.UDPAddr, *net.UnixAddr). A "unixgram" client needs one to
	// receive replies: as in package net, an unbound Unix datagram socket
	// is not given a name, and its peer sees no address to answer.
	LocalAddr net.Addr
}

// Dial connects to address in k's network stack ("tcp", "tcp4", "tcp6",
// "unix"; "udp", "udp4", "udp6", "unixgram" for a connected datagram
// socket), as net.Dial does in the host's. Hosts are IP addresses or
// "localhost"; an empty host is the local system (127.0.0.1, or ::1 for
// "tcp6" and "udp6"). On a datagram Conn each Read is one datagram and
// each Write sends one (see Conn).
func Dial(k *api.Kernel, network, address string) (*Conn, error) {
	return (&Dialer{Kernel: k}).dial(context.Background(), network, address)
}

// Dial connects to address.
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext connects to address; ctx ending aborts the connect (once
// connected, ctx no longer matters).
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.dial(ctx, network, address)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return c, nil
}

func (d *Dialer) dial(ctx context.Context, network, address string) (*Conn, error) {
	opErr := func(addr net.Addr, err error) error {
		return &net.OpError{Op: "dial", Net: network, Addr: addr, Err: err}
	}
	if d.Kernel == nil {
		return nil, opErr(nil, errors.New("knet: Dialer without a Kernel"))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, opErr(nil, err)
	}
	sa, fam, err := resolve(network, address, false)
	if err != nil {
		return nil, opErr(nil, err)
	}
	raddr := toNetAddr(sa, network)
	var dl deadline
	if d.Timeout > 0 {
		dl.t = time.Now().Add(d.Timeout)
	}
	if t, ok := ctx.Deadline(); ok && (dl.t.IsZero() || t.Before(dl.t)) {
		dl.t = t
	}
	typ := api.SOCK_STREAM
	if datagram(network) {
		typ = api.SOCK_DGRAM
	}
	fd, err := newSocket(d.Kernel, fam, typ)
	if err != nil {
		return nil, opErr(raddr, err)
	}
	h := newHostFd(fd)
	ok := false
	defer func() {
		if !ok {
			h.close()
			fd.Close()
		}
	}()
	if d.LocalAddr != nil {
		la, err := netconv.FromNetAddr(d.LocalAddr)
		if err != nil {
			return nil, opErr(raddr, err)
		}
		if err := fd.Bind(la); err != nil {
			return nil, opErr(raddr, err)
		}
	}
	err = fd.Connect(sa)
	if errors.Is(err, api.EINTR) {
		// The connect goes on in the kernel: wait for it as for
		// EINPROGRESS.
		err = api.EINPROGRESS
	}
	if errors.Is(err, api.EINPROGRESS) || errors.Is(err, api.EALREADY) {
		if h != nil {
			// The File's write deadline is the connect's; the
			// context ending moves it to the past.
			h.setDeadline(dl.t, false, true)
			var mu sync.Mutex
			connected := false
			stop := context.AfterFunc(ctx, func() {
				mu.Lock()
				if !connected {
					h.setDeadline(time.Unix(1, 0), false, true)
				}
				mu.Unlock()
			})
			defer func() {
				stop()
				mu.Lock()
				connected = true
				mu.Unlock()
				// The Conn starts without a deadline.
				h.setDeadline(time.Time{}, false, true)
			}()
		}
		for {
			if err := waitFor(h, nil, fd, api.POLLOUT, &dl, nil, ctx.Done()); err != nil {
				if err == errDone || ctx.Err() != nil {
					err = ctx.Err()
				}
				// As package net: the Timeout and the context's
				// deadline are one deadline, reported as an i/o
				// timeout that matches context.DeadlineExceeded.
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
					err = errTimeout{}
				}
				return nil, opErr(raddr, err)
			}
			pending, err := fd.SockError()
			if err != nil {
				return nil, opErr(raddr, err)
			}
			if pending != 0 {
				return nil, opErr(raddr, pending)
			}
			// Writable and no error: connected, unless the wake was
			// spurious (the peer's address is then not yet known).
			if _, err := fd.Getpeername(); err == nil {
				break
			} else if !errors.Is(err, api.ENOTCONN) {
				return nil, opErr(raddr, err)
			}
		}
	} else if err != nil {
		return nil, opErr(raddr, err)
	}
	ok = true
	return newConn(fd, network, datagram(network), raddr, h), nil
}

// errTimeout is a context deadline as package net reports it: an error
// that says Timeout.
type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }
func (errTimeout) Is(err error) bool {
	return err == context.DeadlineExceeded
}

// resolve parses address for network: numeric hosts and ports only, as
// no kernel api reaches does name lookups. An empty host is the wildcard
// address when listening (IPv4 unless the network ends in "6"), the
// loopback address otherwise.
func resolve(network, address string, listen bool) (api.Sockaddr, api.Family, error) {
	switch network {
	case "unix", "unixgram":
		if address == "" && !listen {
			return nil, 0, &net.AddrError{Err: "missing address", Addr: address}
		}
		sa, err := api.ParseSockaddr("unix:" + address)
		if err != nil {
			return nil, 0, err
		}
		return sa, api.AF_UNIX, nil
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return nil, 0, net.UnknownNetworkError(network)
	}
	only4 := strings.HasSuffix(network, "4")
	only6 := strings.HasSuffix(network, "6")
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, 0, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, 0, &net.AddrError{Err: "invalid port (numeric ports only)", Addr: address}
	}
	var a netip.Addr
	switch {
	case host == "" && listen:
		a = netip.IPv4Unspecified()
		if only6 {
			a = netip.IPv6Unspecified()
		}
	case host == "" || host == "localhost":
		a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		if only6 {
			a = netip.IPv6Loopback()
		}
	default:
		if a, err = netip.ParseAddr(host); err != nil {
			return nil, 0, &net.AddrError{Err: "not an IP address (names are not resolved)", Addr: host}
		}
		a = a.Unmap()
	}
	if (only4 && !a.Is4()) || (only6 && a.Is4()) {
		return nil, 0, &net.AddrError{Err: "no suitable address for " + network, Addr: host}
	}
	sa, err := api.SockaddrFromAddrPort(netip.AddrPortFrom(a, uint16(p)))
	if err != nil {
		return nil, 0, err
	}
	if a.Is4() {
		return sa, api.AF_INET, nil
	}
	return sa, api.AF_INET6, nil
}

// datagram reports whether network names a datagram socket.
func datagram(network string) bool {
	switch network {
	case "udp", "udp4", "udp6", "unixgram":
		return true
	}
	return false
}

// toNetAddr converts a kernel address; nil if it has no net.Addr form.
func toNetAddr(sa api.Sockaddr, network string) net.Addr {
	if sa == nil {
		return nil
	}
	a, err := netconv.ToNetAddr(sa, network)
	if err != nil {
		return nil
	}
	return a
}
