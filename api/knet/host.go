package knet

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/abi"
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

// rawSys is what a Conn needs to make its reads and writes with the
// backend's raw call (Backend.Syscall) instead of api's methods: api wraps
// every error, EAGAIN included, in an allocated *os.SyscallError, and a
// socket that waits meets EAGAIN on every wait. It holds the ABI's numbers
// of the four calls and its errno conversion; one per ABI table.
type rawSys struct {
	read, write      uintptr
	recvfrom, sendto uintptr
	eagain, eintr    uintptr
	errnos           []api.Errno // by the ABI's number
}

var rawSyss struct {
	sync.Mutex
	m map[*abi.Table]*rawSys
}

// noHostPath turns the fast path off for sockets made from now on, so
// that tests can run knet's own poller on the host kernel.
var noHostPath atomic.Bool

// rawSysOf returns the rawSys of k's ABI, or nil when the ABI lacks one
// of the calls (the Conn then uses api's methods).
func rawSysOf(k *api.Kernel) *rawSys {
	t := k.Backend().ABI()
	rawSyss.Lock()
	defer rawSyss.Unlock()
	if s, ok := rawSyss.m[t]; ok {
		return s
	}
	s := newRawSys(k, t)
	if rawSyss.m == nil {
		rawSyss.m = map[*abi.Table]*rawSys{}
	}
	rawSyss.m[t] = s
	return s
}

func newRawSys(k *api.Kernel, t *abi.Table) *rawSys {
	s := &rawSys{}
	var ok [4]bool
	s.read, ok[0] = t.Syscall("read")
	s.write, ok[1] = t.Syscall("write")
	s.recvfrom, ok[2] = t.Syscall("recvfrom")
	s.sendto, ok[3] = t.Syscall("sendto")
	var ok1, ok2 bool
	s.eagain, ok1 = k.ErrnoToABI(api.EAGAIN)
	s.eintr, ok2 = k.ErrnoToABI(api.EINTR)
	if ok != [4]bool{true, true, true, true} || !ok1 || !ok2 {
		return nil
	}
	// The ABI's numbers of every errno api knows (4095 is Linux's bound).
	for e := api.Errno(1); e < 4096; e++ {
		raw, ok := k.ErrnoToABI(e)
		if !ok || raw >= 4096 {
			continue
		}
		if int(raw) >= len(s.errnos) {
			s.errnos = append(s.errnos, make([]api.Errno, int(raw)+1-len(s.errnos))...)
		}
		if s.errnos[raw] == 0 {
			s.errnos[raw] = e
		}
	}
	return s
}

// errno converts the ABI's raw errno, as api does.
func (s *rawSys) errno(raw uintptr) api.Errno {
	if raw < uintptr(len(s.errnos)) && s.errnos[raw] != 0 {
		return s.errnos[raw]
	}
	return api.Errno(raw)
}

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
// Conn instead make their call inside the callback (rawOp).
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

// rawOp is one direction's call on a Conn: read, write, recvfrom or
// sendto, made with the backend's raw call (see rawSys). On the host fast
// path it runs as the RawConn callback on the duplicate (run, made once
// per Conn), with its arguments and results here, under the Conn's rmu or
// wmu; elsewhere the Conn calls call directly.
type rawOp struct {
	b    api.Backend
	sys  *rawSys
	nr   uintptr
	name string // the call's name, for errors
	buf  []byte
	n, e uintptr
	fn   func(uintptr) bool
}

func (o *rawOp) init(b api.Backend, sys *rawSys, read, dgram bool) {
	o.b, o.sys = b, sys
	switch {
	case read && dgram:
		// Not read and write on a datagram socket: a zero-length
		// read takes no datagram, and a datagram Read must.
		o.nr, o.name = sys.recvfrom, "recvfrom"
	case dgram:
		o.nr, o.name = sys.sendto, "sendto"
	case read:
		o.nr, o.name = sys.read, "read"
	default:
		o.nr, o.name = sys.write, "write"
	}
	o.fn = o.run
}

// call makes the call on descriptor number num, again after EINTR, and
// returns the count or the ABI's errno. The backend's entry keeps an
// address argument valid even into the caller's stack (api.Backend).
func (o *rawOp) call(num uintptr, buf []byte) (uintptr, uintptr) {
	for {
		// recvfrom and sendto with flags 0 and no address take the
		// same first three arguments as read and write.
		r, _, e := o.b.Syscall(o.nr, num, uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)), 0, 0, 0)
		if e != o.sys.eintr {
			return r, e
		}
	}
}

// err wraps the ABI's errno e as api would.
func (o *rawOp) err(e uintptr) error {
	return os.NewSyscallError(o.name, o.sys.errno(e))
}

// run is the RawConn callback: false (park) on EAGAIN.
func (o *rawOp) run(fd uintptr) bool {
	o.n, o.e = o.call(fd, o.buf)
	return o.e != o.sys.eagain
}

// do makes the call on b through h's RawConn, waiting as long as it says
// EAGAIN; it returns the count, or the error (knet's for a deadline or a
// Close, the call's wrapped errno otherwise).
func (o *rawOp) do(h *hostFd, write bool, b []byte, closing <-chan struct{}) (int, error) {
	o.buf, o.n, o.e = b, 0, 0
	var err error
	if write {
		err = h.rc.Write(o.fn)
	} else {
		err = h.rc.Read(o.fn)
	}
	o.buf = nil
	if err != nil {
		return 0, h.waitErr(err, closing)
	}
	if o.e != 0 {
		return 0, o.err(o.e)
	}
	return int(o.n), nil
}
