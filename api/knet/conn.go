package knet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Conn is a connected socket of a Kernel as a net.Conn. Reads and writes
// that would block wait in Go's netpoller or knet's (see package doc), so
// deadlines and Close interrupt them; Read, Write and Close may be called
// from several goroutines at once.
//
// A Conn of a datagram network ("udp", "unixgram", ...) keeps datagram
// boundaries, as net.UDPConn does: each Write sends b as one datagram, and
// each Read receives one, truncated to len(b) without an error when it is
// longer (the rest is lost); an empty datagram reads as 0, nil, never
// io.EOF. It has no half-close: CloseRead and CloseWrite fail.
type Conn struct {
	fd      *api.Fd
	network string
	dgram   bool // a datagram socket: Read and Write are whole datagrams
	laddr   net.Addr
	raddr   net.Addr
	rd, wd  deadline
	rmu     sync.Mutex // one Read at a time, as net's conns do
	wmu     sync.Mutex // one Write at a time: writes do not interleave
	once    sync.Once
	closing chan struct{}
	// The host fast path (nil elsewhere) and its calls (rop under rmu,
	// wop under wmu); knet's poller's waiters.
	h        *hostFd
	rop, wop hostOp
	rw, ww   waiter
}

var _ net.Conn = (*Conn)(nil)

// NewConn wraps a connected socket fd (its Kernel's: any backend) as a
// net.Conn. It makes fd nonblocking; the Conn owns fd from now on.
// network names the address family for LocalAddr and RemoteAddr ("tcp",
// "tcp4", "tcp6", "unix", "udp", "udp4", "udp6", "unixgram"). A datagram
// socket (by network, or by its SO_TYPE) gets datagram semantics.
func NewConn(fd *api.Fd, network string) (*Conn, error) {
	if fd == nil || fd.Num() < 0 {
		return nil, &net.OpError{Op: "newconn", Net: network, Err: api.EBADF}
	}
	if err := fd.SetNonblock(true); err != nil {
		return nil, &net.OpError{Op: "newconn", Net: network, Err: err}
	}
	dgram := datagram(network)
	if ty, err := fd.SocketType(); err == nil && ty == api.SOCK_DGRAM {
		dgram = true
	}
	return newConn(fd, network, dgram, nil, newHostFd(fd)), nil
}

// newConn wraps a nonblocking socket; raddr is the peer when known, h
// its host fast path (nil: none).
func newConn(fd *api.Fd, network string, dgram bool, raddr net.Addr, h *hostFd) *Conn {
	c := &Conn{fd: fd, network: network, dgram: dgram, closing: make(chan struct{}), h: h}
	if h != nil {
		c.rop.init(c, false)
		c.wop.init(c, true)
	}
	if sa, err := fd.Getsockname(); err == nil {
		c.laddr = toNetAddr(sa, network)
	}
	if raddr == nil {
		if sa, err := fd.Getpeername(); err == nil {
			raddr = toNetAddr(sa, network)
		}
	}
	c.raddr = raddr
	return c
}

// Fd returns the socket, for options this type does not wrap
// (SetTCPNoDelay, SetKeepAlive, ...). It stays owned by c, which closes
// it on Close.
func (c *Conn) Fd() *api.Fd { return c.fd }

func (c *Conn) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: c.network, Source: c.laddr, Addr: c.raddr, Err: err}
}

func (c *Conn) closed() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// Read reads from the connection; it returns io.EOF once the peer has
// closed its side, and an error that is a timeout (os.ErrDeadlineExceeded)
// once the read deadline has passed. On a datagram Conn it reads one
// datagram (see Conn).
func (c *Conn) Read(b []byte) (int, error) {
	if c.h != nil {
		return c.hostRead(b)
	}
	if c.dgram {
		return c.readDatagram(b)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.closed() {
			return 0, c.opErr("read", net.ErrClosed)
		}
		if c.rd.expired() {
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		}
		if len(b) == 0 {
			return 0, nil
		}
		n, err := c.read1(b)
		switch {
		case err == nil, err == io.EOF:
			return n, err
		case errors.Is(err, api.EAGAIN):
			if err := wait(&c.rw, c.fd, api.POLLIN, &c.rd, c.closing, nil); err != nil {
				return 0, c.opErr("read", err)
			}
		case errors.Is(err, api.EINTR):
		case errors.Is(err, api.EBADF) && c.closed():
			return 0, c.opErr("read", net.ErrClosed)
		default:
			return 0, c.opErr("read", err)
		}
	}
}

// Write writes all of b unless an error (a closed peer, the deadline, a
// Close) stops it; it returns how much was written. On a datagram Conn it
// sends b as one datagram: all of it or nothing (EMSGSIZE when too long).
func (c *Conn) Write(b []byte) (int, error) {
	if c.h != nil {
		return c.hostWrite(b)
	}
	if c.dgram {
		return c.writeDatagram(b)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	for {
		if c.closed() {
			return done, c.opErr("write", net.ErrClosed)
		}
		if c.wd.expired() {
			return done, c.opErr("write", os.ErrDeadlineExceeded)
		}
		if done == len(b) {
			return done, nil
		}
		n, err := c.write1(b[done:])
		done += n
		switch {
		case err == nil, err == io.ErrShortWrite:
		case errors.Is(err, api.EAGAIN):
			if err := wait(&c.ww, c.fd, api.POLLOUT, &c.wd, c.closing, nil); err != nil {
				return done, c.opErr("write", err)
			}
		case errors.Is(err, api.EINTR):
		case errors.Is(err, api.EBADF) && c.closed():
			return done, c.opErr("write", net.ErrClosed)
		default:
			return done, c.opErr("write", err)
		}
	}
}

// Close closes the connection; pending Reads and Writes return an error
// matching net.ErrClosed. Closing again is an error, as in package net.
func (c *Conn) Close() error {
	first := false
	c.once.Do(func() {
		first = true
		close(c.closing)
	})
	if !first {
		return c.opErr("close", net.ErrClosed)
	}
	c.h.close()
	return c.opErr("close", closeFd(c.fd))
}

// CloseRead shuts down the reading side (shutdown(SHUT_RD)). A datagram
// Conn has no half-close: it fails with an error matching EOPNOTSUPP.
func (c *Conn) CloseRead() error {
	if c.closed() {
		return c.opErr("close", net.ErrClosed)
	}
	if c.dgram {
		return c.opErr("close", errNoHalfClose)
	}
	return c.opErr("close", c.fd.Shutdown(api.SHUT_RD))
}

// CloseWrite shuts down the writing side (shutdown(SHUT_WR)): the peer
// reads io.EOF. A datagram Conn has no half-close, as for CloseRead: a
// datagram peer could not see the end anyway.
func (c *Conn) CloseWrite() error {
	if c.closed() {
		return c.opErr("close", net.ErrClosed)
	}
	if c.dgram {
		return c.opErr("close", errNoHalfClose)
	}
	return c.opErr("close", c.fd.Shutdown(api.SHUT_WR))
}

// errNoHalfClose is CloseRead and CloseWrite on a datagram Conn.
var errNoHalfClose = fmt.Errorf("knet: a datagram socket has no half-close: %w", api.EOPNOTSUPP)

// readDatagram receives one datagram: no io.EOF (empty datagrams exist),
// and an empty b still takes a datagram off the queue.
func (c *Conn) readDatagram(b []byte) (int, error) {
	for {
		if err := c.ready(&c.rd); err != nil {
			return 0, c.opErr("read", err)
		}
		n, err := c.read1(b)
		if err == nil {
			return n, nil
		}
		if err := retry(nil, &c.rw, c.fd, err, api.POLLIN, &c.rd, c.closing, nil); err != nil {
			return 0, c.opErr("read", err)
		}
	}
}

// writeDatagram sends b as one datagram.
func (c *Conn) writeDatagram(b []byte) (int, error) {
	spin := 0
	for {
		if err := c.ready(&c.wd); err != nil {
			return 0, c.opErr("write", err)
		}
		n, err := c.write1(b)
		if err == nil {
			return n, nil
		}
		if err := retry(nil, &c.ww, c.fd, err, api.POLLOUT, &c.wd, c.closing, &spin); err != nil {
			return 0, c.opErr("write", err)
		}
	}
}

// ready is the check before each attempt: closed, or past the deadline.
func (c *Conn) ready(d *deadline) error {
	if c.closed() {
		return net.ErrClosed
	}
	if d.expired() {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// LocalAddr returns the local address (nil if the kernel did not say).
func (c *Conn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if c.closed() {
		return c.opErr("set", net.ErrClosed)
	}
	c.rd.set(t)
	c.wd.set(t)
	c.h.setDeadline(t, true, true)
	return nil
}

// SetReadDeadline sets the read deadline; a zero t means none. Reads
// waiting already see the new deadline at once.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.closed() {
		return c.opErr("set", net.ErrClosed)
	}
	c.rd.set(t)
	c.h.setDeadline(t, true, false)
	return nil
}

// SetWriteDeadline sets the write deadline; a zero t means none.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.closed() {
		return c.opErr("set", net.ErrClosed)
	}
	c.wd.set(t)
	c.h.setDeadline(t, false, true)
	return nil
}

// hostRead is Read on the host fast path: the call is made in Go's
// netpoller's callback, and the File's deadline and Close end the wait.
func (c *Conn) hostRead(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.closed() {
		return 0, c.opErr("read", net.ErrClosed)
	}
	if len(b) == 0 && !c.dgram {
		if c.rd.expired() {
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		}
		return 0, nil
	}
	n, err := c.rop.do(c.h, b, c.closing)
	if err != nil && errors.Is(err, api.EBADF) && c.closed() {
		err = net.ErrClosed
	}
	return n, c.opErr("read", err)
}

// hostWrite is Write on the host fast path: all of b on a stream, one
// datagram otherwise.
func (c *Conn) hostWrite(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	for {
		if c.closed() {
			return done, c.opErr("write", net.ErrClosed)
		}
		if len(b) == 0 && !c.dgram {
			if c.wd.expired() {
				return 0, c.opErr("write", os.ErrDeadlineExceeded)
			}
			return 0, nil
		}
		n, err := c.wop.do(c.h, b[done:], c.closing)
		done += n
		switch {
		case err == nil, err == io.ErrShortWrite && !c.dgram:
		case errors.Is(err, api.EBADF) && c.closed():
			return done, c.opErr("write", net.ErrClosed)
		default:
			return done, c.opErr("write", err)
		}
		if c.dgram || done == len(b) {
			return done, nil
		}
	}
}

// read1 makes one nonblocking read (one datagram on a datagram Conn):
// io.EOF at the end of a stream, but a datagram may be empty.
func (c *Conn) read1(b []byte) (int, error) {
	if c.dgram {
		return c.fd.Recv(b, 0)
	}
	return c.fd.Read(b)
}

// write1 makes one nonblocking write (one datagram on a datagram Conn);
// a short write on a stream is io.ErrShortWrite, as api's Write says.
func (c *Conn) write1(b []byte) (int, error) {
	if c.dgram {
		return c.fd.Send(b, 0)
	}
	return c.fd.Write(b)
}
