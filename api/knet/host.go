package knet

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

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

// hostSys is what the fast path needs of one host Kernel: the backend, the
// ABI's numbers of the four calls it makes itself, and errno conversion.
type hostSys struct {
	b                api.Backend
	read, write      uintptr
	recvfrom, sendto uintptr
	eagain, eintr    uintptr
	errnos           []api.Errno // by the ABI's number
}

var hostSyss struct {
	sync.Mutex
	m map[*api.Kernel]*hostSys
}

// noHostPath turns the fast path off, so that tests can run knet's own
// poller on the host kernel.
var noHostPath bool

// hostSysOf returns k's hostSys, or nil when k's descriptors are not the
// host's (or its ABI lacks what the fast path needs).
func hostSysOf(k *api.Kernel) *hostSys {
	if noHostPath {
		return nil
	}
	if _, ok := k.Backend().(api.HostBackend); !ok {
		return nil
	}
	hostSyss.Lock()
	defer hostSyss.Unlock()
	if s, ok := hostSyss.m[k]; ok {
		return s
	}
	s := newHostSys(k)
	if hostSyss.m == nil {
		hostSyss.m = map[*api.Kernel]*hostSys{}
	}
	hostSyss.m[k] = s
	return s
}

func newHostSys(k *api.Kernel) *hostSys {
	t := k.Backend().ABI()
	s := &hostSys{b: k.Backend()}
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
func (s *hostSys) errno(raw uintptr) api.Errno {
	if raw < uintptr(len(s.errnos)) && s.errnos[raw] != 0 {
		return s.errnos[raw]
	}
	return api.Errno(raw)
}

// hostFd is a socket's duplicate in Go's netpoller.
type hostFd struct {
	f   *os.File
	rc  syscall.RawConn
	sys *hostSys
	fd  *api.Fd // the socket itself, for the readiness callbacks
	// The callbacks of wait, made once; their poll entries, one per
	// direction (the File runs one read and one write callback at a time).
	readable, writable func(uintptr) bool
	rpoll, wpoll       [1]api.PollFd
}

// newHostFd returns fd's fast path, or nil where there is none (not the
// host, or the duplicate could not join the netpoller): the caller then
// uses knet's poller.
func newHostFd(fd *api.Fd) *hostFd {
	sys := hostSysOf(fd.Kernel())
	if sys == nil {
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
	h := &hostFd{f: f, rc: rc, sys: sys, fd: fd}
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

// hostOp is one direction's call on a Conn's fast path: read, write,
// recvfrom or sendto on the duplicate, made inside the RawConn callback
// with the backend's raw call, which costs no allocation when it says
// EAGAIN (api's wrapped errors do). The callback is made once per Conn;
// its arguments and results live here, under the Conn's rmu or wmu.
type hostOp struct {
	sys  *hostSys
	nr   uintptr
	name string // the call's name, for errors
	b    []byte
	n    uintptr
	e    uintptr
	fn   func(uintptr) bool
}

func (o *hostOp) init(sys *hostSys, nr uintptr, name string) {
	o.sys, o.nr, o.name = sys, nr, name
	o.fn = o.run
}

// run is the RawConn callback: false (park) on EAGAIN. b is heap memory
// (the Conn holds it), and the backend's entry is nosplit (api.Backend),
// so the address passed as uintptr stays valid.
func (o *hostOp) run(fd uintptr) bool {
	for {
		// recvfrom and sendto with flags 0 and no address take the
		// same first three arguments as read and write.
		r, _, e := o.sys.b.Syscall(o.nr, fd, uintptr(unsafe.Pointer(unsafe.SliceData(o.b))), uintptr(len(o.b)), 0, 0, 0)
		if e == o.sys.eintr {
			continue
		}
		o.n, o.e = r, e
		return e != o.sys.eagain
	}
}

// do makes the call on b, waiting as long as it says EAGAIN; it returns
// the count, or the error (knet's for a deadline or a Close, the call's
// wrapped errno otherwise).
func (o *hostOp) do(h *hostFd, write bool, b []byte, closing <-chan struct{}) (int, error) {
	o.b, o.n, o.e = b, 0, 0
	var err error
	if write {
		err = h.rc.Write(o.fn)
	} else {
		err = h.rc.Read(o.fn)
	}
	o.b = nil
	if err != nil {
		return 0, h.waitErr(err, closing)
	}
	if o.e != 0 {
		return 0, os.NewSyscallError(o.name, o.sys.errno(o.e))
	}
	return int(o.n), nil
}
