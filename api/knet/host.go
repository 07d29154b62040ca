package knet

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The host fast path: on a Kernel whose descriptors are the process's own
// (api.HostBackend), Go's runtime netpoller can wait for them, and knet's
// own poller (poll.go) is not used. Each socket gets a duplicate, wrapped
// in an *os.File: os.NewFile registers a nonblocking descriptor with the
// netpoller, and the registration follows the open file description the
// duplicate shares with the api.Fd, which keeps owning (and closing) its
// own number. Waiting is the File's syscall.RawConn: its callback runs
// after the netpoller's readiness flag is reset, so the callback tries the
// operation itself (returning false on EAGAIN parks until the next edge);
// a try made before the reset could lose the wake-up. Deadlines are the
// File's, and closing the File wakes every parked callback at once.

// noHostPath turns the fast path off for sockets made from now on, so
// that tests can run knet's own poller on the host kernel.
var noHostPath atomic.Bool

// hostFd is a socket's duplicate in Go's netpoller.
type hostFd struct {
	f  *os.File
	rc syscall.RawConn
	fd *api.Fd // the socket itself, for the readiness callbacks
	// The callbacks of wait, made once; their poll entries, one per
	// direction (the File runs one read and one write callback at a time).
	readable, writable func(uintptr) bool
	rpoll, wpoll       [1]api.PollFd
}

// newHostFd returns fd's fast path, or nil where there is none (not the
// host, or the duplicate could not join the netpoller): the caller then
// uses knet's poller.
func newHostFd(fd *api.Fd) *hostFd {
	if _, ok := fd.Kernel().Backend().(api.HostBackend); !ok || noHostPath.Load() {
		return nil
	}
	f, err := fd.File()
	if err != nil {
		return nil
	}
	// A File outside the netpoller has no deadlines.
	if err := f.SetDeadline(time.Time{}); err != nil {
		f.Close()
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil
	}
	h := &hostFd{f: f, rc: rc, fd: fd}
	h.rpoll[0] = api.PollFd{Fd: fd, Events: api.POLLIN}
	h.wpoll[0] = api.PollFd{Fd: fd, Events: api.POLLOUT}
	h.readable = h.isReadable
	h.writable = h.isWritable
	return h
}

// close closes the duplicate; parked callbacks return at once. It returns
// when the number is closed (the File waits for callbacks in flight).
func (h *hostFd) close() {
	if h != nil {
		h.f.Close()
	}
}

func (h *hostFd) isReadable(uintptr) bool { return h.ready(h.rpoll[:]) }
func (h *hostFd) isWritable(uintptr) bool { return h.ready(h.wpoll[:]) }

// ready looks (poll, level-triggered, without waiting) whether the socket
// is ready; an error (a closed Fd) counts as ready: the caller's next try
// meets it.
func (h *hostFd) ready(fds []api.PollFd) bool {
	n, err := h.fd.Kernel().Poll(fds, 0)
	return n > 0 || (err != nil && !errors.Is(err, api.EINTR))
}

// wait parks until the socket may be ready for events, the File's
// deadline passes (os.ErrDeadlineExceeded) or closing is closed
// (net.ErrClosed). As knet's poller's wait, a nil return means "try
// again". It costs a poll(2) on each side of the park; the hot paths of
// Conn instead make their call inside the callback (hostOp).
func (h *hostFd) wait(events api.PollEvents, closing <-chan struct{}) error {
	var err error
	if events&api.POLLOUT != 0 {
		err = h.rc.Write(h.writable)
	} else {
		err = h.rc.Read(h.readable)
	}
	return h.waitErr(err, closing)
}

// waitErr maps the RawConn's errors: its deadline, or the File closed by
// a Close.
func (h *hostFd) waitErr(err error, closing <-chan struct{}) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return os.ErrDeadlineExceeded
	case isClosed(closing):
		return net.ErrClosed
	}
	return err
}

// setDeadline sets the File's deadline for the reads (r) and writes (w).
// A Close racing with it makes it fail, which is of no concern.
func (h *hostFd) setDeadline(t time.Time, r, w bool) {
	if h == nil {
		return
	}
	switch {
	case r && w:
		h.f.SetDeadline(t)
	case r:
		h.f.SetReadDeadline(t)
	case w:
		h.f.SetWriteDeadline(t)
	}
}

// hostOp is one direction's call on a Conn on the host fast path, made
// by the RawConn's callback (fn, made once per Conn: a closure per call
// would allocate) under the Conn's rmu or wmu, with its argument and
// results here. The callback makes api's call (Conn.read1 or write1) on
// the Conn's own Fd, not on the duplicate's number it is handed: both
// share one open file description, so readiness is the same, and the
// Fd's own guard covers the call against a concurrent Close.
type hostOp struct {
	c     *Conn
	write bool
	buf   []byte
	n     int
	err   error
	fn    func(uintptr) bool
}

func (o *hostOp) init(c *Conn, write bool) {
	o.c, o.write = c, write
	o.fn = o.run
}

// run is the RawConn callback: false (park until the next edge) on
// EAGAIN, the call again at once after EINTR.
func (o *hostOp) run(uintptr) bool {
	for {
		if o.write {
			o.n, o.err = o.c.write1(o.buf)
		} else {
			o.n, o.err = o.c.read1(o.buf)
		}
		if o.err == nil || !errors.Is(o.err, api.EINTR) {
			break
		}
	}
	return o.err == nil || !errors.Is(o.err, api.EAGAIN)
}

// do makes the call on b through h's RawConn, waiting as long as it says
// EAGAIN; it returns the count and the call's error (io.EOF and
// io.ErrShortWrite as api's Read and Write return them), or knet's error
// for a deadline or a Close.
func (o *hostOp) do(h *hostFd, b []byte, closing <-chan struct{}) (int, error) {
	o.buf, o.n, o.err = b, 0, nil
	var err error
	if o.write {
		err = h.rc.Write(o.fn)
	} else {
		err = h.rc.Read(o.fn)
	}
	n, cerr := o.n, o.err
	o.buf, o.err = nil, nil
	if err != nil {
		return 0, h.waitErr(err, closing)
	}
	return n, cerr
}
