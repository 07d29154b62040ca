package knet

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Listener is a listening stream socket of a Kernel as a net.Listener:
// what net/http's Server.Serve takes.
type Listener struct {
	fd      *api.Fd
	network string
	addr    net.Addr
	unlink  string // a Unix socket's path, removed by Close
	dl      deadline
	once    sync.Once
	closing chan struct{}
	plain   atomic.Bool // the kernel lacks accept4: accept, then fcntl
	h       *hostFd     // the host fast path; nil elsewhere
	w       waiter      // Accept's in knet's poller
}

var _ net.Listener = (*Listener)(nil)

// Listen announces on address in k's network stack, as net.Listen does
// in the host's: network "tcp", "tcp4", "tcp6" or "unix" (datagram
// networks are ListenPacket's). An empty host
// listens on every address (IPv4 for "tcp" and "tcp4", IPv6 for "tcp6");
// port 0 picks a free port (see Addr). Hosts are IP addresses or
// "localhost": names are not resolved.
func Listen(k *api.Kernel, network, address string) (*Listener, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Err: err}
	}
	if k == nil {
		return nil, opErr(api.EINVAL)
	}
	if datagram(network) {
		// As net.Listen: datagram sockets do not listen (ListenPacket).
		return nil, opErr(net.UnknownNetworkError(network))
	}
	sa, fam, err := resolve(network, address, true)
	if err != nil {
		return nil, opErr(err)
	}
	fd, err := newSocket(k, fam, api.SOCK_STREAM)
	if err != nil {
		return nil, opErr(err)
	}
	if fam != api.AF_UNIX {
		// As package net does: a restarted server can bind its port
		// while old connections linger in TIME_WAIT.
		if err := fd.SetReuseAddr(true); err != nil {
			fd.Close()
			return nil, opErr(err)
		}
	}
	if err := fd.Bind(sa); err != nil {
		fd.Close()
		return nil, &net.OpError{Op: "listen", Net: network, Addr: toNetAddr(sa, network), Err: err}
	}
	if err := fd.Listen(listenBacklog); err != nil {
		fd.Close()
		return nil, opErr(err)
	}
	l := &Listener{fd: fd, network: network, closing: make(chan struct{}), h: newHostFd(fd)}
	if got, err := fd.Getsockname(); err == nil {
		l.addr = toNetAddr(got, network)
	} else {
		l.addr = toNetAddr(sa, network)
	}
	if u, ok := sa.(api.SockaddrUnix); ok && u.Name != "" && u.Name[0] != '@' {
		l.unlink = u.Name
	}
	return l, nil
}

// listenBacklog is the queue of pending connections Listen asks for; the
// kernel bounds it by its own maximum (somaxconn).
const listenBacklog = 128

// newSocket makes a nonblocking, close-on-exec socket of type typ.
func newSocket(k *api.Kernel, fam api.Family, typ api.SockType) (*api.Fd, error) {
	fd, err := k.Socket(fam, typ, api.SOCK_NONBLOCK|api.SOCK_CLOEXEC, 0)
	if err == nil {
		return fd, nil
	}
	// A kernel without the type flags (older ABIs): set them after.
	fd, err2 := k.Socket(fam, typ, 0, 0)
	if err2 != nil {
		return nil, err
	}
	if err := fd.SetNonblock(true); err != nil {
		fd.Close()
		return nil, err
	}
	if err := fd.SetFdFlags(api.FD_CLOEXEC); err != nil {
		fd.Close()
		return nil, err
	}
	return fd, nil
}

func (l *Listener) closed() bool {
	select {
	case <-l.closing:
		return true
	default:
		return false
	}
}

func (l *Listener) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: l.network, Source: nil, Addr: l.addr, Err: err}
}

// Accept waits for the next connection and returns it as a *Conn.
func (l *Listener) Accept() (net.Conn, error) {
	return l.AcceptConn()
}

// AcceptConn is Accept returning the concrete type.
func (l *Listener) AcceptConn() (*Conn, error) {
	for {
		if l.closed() {
			return nil, l.opErr("accept", net.ErrClosed)
		}
		if l.dl.expired() {
			return nil, l.opErr("accept", os.ErrDeadlineExceeded)
		}
		fd, sa, err := l.accept()
		switch {
		case err == nil:
			return newConn(fd, l.network, false, toNetAddr(sa, l.network), newHostFd(fd)), nil
		case errors.Is(err, api.EAGAIN):
			if err := waitFor(l.h, &l.w, l.fd, api.POLLIN, &l.dl, l.closing, nil); err != nil {
				return nil, l.opErr("accept", err)
			}
		case errors.Is(err, api.EINTR), errors.Is(err, api.ECONNABORTED):
			// The peer gave up before we took it: take the next.
		case errors.Is(err, api.EBADF) && l.closed():
			return nil, l.opErr("accept", net.ErrClosed)
		default:
			return nil, l.opErr("accept", err)
		}
	}
}

// accept takes one pending connection, nonblocking and close-on-exec:
// accept4 where the kernel has it, else accept and fcntl.
func (l *Listener) accept() (*api.Fd, api.Sockaddr, error) {
	if !l.plain.Load() {
		fd, sa, err := l.fd.Accept4(api.SOCK_NONBLOCK | api.SOCK_CLOEXEC)
		if !errors.Is(err, api.ENOSYS) {
			return fd, sa, err
		}
		l.plain.Store(true)
	}
	fd, sa, err := l.fd.Accept()
	if err != nil {
		return nil, nil, err
	}
	if err := fd.SetNonblock(true); err != nil {
		fd.Close()
		return nil, nil, err
	}
	if err := fd.SetFdFlags(api.FD_CLOEXEC); err != nil {
		fd.Close()
		return nil, nil, err
	}
	return fd, sa, nil
}

// Close stops listening; a pending Accept returns an error matching
// net.ErrClosed. A Unix socket's file is removed.
func (l *Listener) Close() error {
	first := false
	l.once.Do(func() {
		first = true
		close(l.closing)
	})
	if !first {
		return l.opErr("close", net.ErrClosed)
	}
	l.h.close()
	err := closeFd(l.fd)
	if l.unlink != "" {
		l.fd.Kernel().Unlink(l.unlink)
	}
	if err != nil {
		return l.opErr("close", err)
	}
	return nil
}

// Addr returns the address the listener is bound to, with the port the
// kernel chose for port 0.
func (l *Listener) Addr() net.Addr { return l.addr }

// SetDeadline sets the deadline of Accept; a zero t means none.
func (l *Listener) SetDeadline(t time.Time) error {
	if l.closed() {
		return l.opErr("set", net.ErrClosed)
	}
	l.dl.set(t)
	l.h.setDeadline(t, true, false)
	return nil
}

// Fd returns the listening socket, for options; it stays owned by l.
func (l *Listener) Fd() *api.Fd { return l.fd }
