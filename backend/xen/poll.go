//go:build xen

package xen

import (
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// Pipes, eventfd, and waiting for readiness: poll, ppoll, select, pselect6
// and epoll.

func (k *kernel) pipe2(fds unsafe.Pointer, flags uintptr) (uintptr, Errno) {
	if flags&^(memfs.O_CLOEXEC|memfs.O_NONBLOCK|memfs.O_DIRECT|memfs.O_EXCL) != 0 {
		return 0, EINVAL
	}
	if fds == nil {
		return 0, EFAULT
	}
	r, w := newPipeEnds(int(flags) & memfs.O_NONBLOCK)
	cloexec := flags&memfs.O_CLOEXEC != 0
	k.mu.Lock()
	rfd, e := k.installLocked(&ofile{f: r}, cloexec, 0)
	if e != 0 {
		k.mu.Unlock()
		return 0, e
	}
	wfd, e := k.installLocked(&ofile{f: w}, cloexec, 0)
	if e != 0 {
		k.fds[rfd] = fdSlot{}
		k.mu.Unlock()
		return 0, e
	}
	k.mu.Unlock()
	out := (*[2]int32)(fds)
	out[0], out[1] = int32(rfd), int32(wfd)
	return 0, 0
}

const (
	efdSemaphore = 1
	efdCloexec   = memfs.O_CLOEXEC
	efdNonblock  = memfs.O_NONBLOCK
)

func (k *kernel) eventfd(initval, flags uintptr) (uintptr, Errno) {
	if flags&^(efdSemaphore|efdCloexec|efdNonblock) != 0 || initval > 0xffffffff {
		return 0, EINVAL
	}
	f := &eventFD{count: uint64(initval), sem: flags&efdSemaphore != 0, ino: anonIno.Add(1)}
	f.fl.Store(int64(memfs.O_RDWR | int(flags)&efdNonblock))
	return k.install(f, flags&efdCloexec != 0, 0)
}

// wait calls check until it reports something or fails, the deadline
// (monotonic nanoseconds; -1 forever, 0 just once) passes, or with a
// signal mask a pending signal it leaves unblocked interrupts it.
//
// check usually holds addresses into the caller's stack: it must stay a
// closure that does not escape (go build -gcflags=-m says "func literal
// does not escape"), so that the runtime adjusts them if the stack moves.
func (k *kernel) wait(deadline int64, mask *uint64, check func() (int, Errno)) (int, Errno) {
	var tid int32
	if mask != nil {
		tid = platformGettid()
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var ch <-chan struct{}
	for {
		if mask != nil && k.interrupted(tid, *mask) {
			return 0, EINTR
		}
		n, e := check()
		if e != 0 || n > 0 || deadline == 0 {
			return n, e
		}
		if ch == nil {
			ch = k.hub.watch() // and check once more before sleeping
			continue
		}
		var tc <-chan time.Time
		if deadline > 0 {
			left := deadline - clockNs(clockMonotonic)
			if left <= 0 {
				return 0, 0
			}
			if timer == nil {
				timer = time.NewTimer(time.Duration(left))
			} else {
				timer.Reset(time.Duration(left))
			}
			tc = timer.C
		}
		select {
		case <-ch:
		case <-tc:
		}
		ch = nil
	}
}

// deadlineMs turns a poll timeout in milliseconds into a deadline.
func deadlineMs(ms int64) int64 {
	switch {
	case ms < 0:
		return -1
	case ms == 0:
		return 0
	}
	return clockNs(clockMonotonic) + ms*1e6
}

// deadlineTs turns a timespec timeout (nil: forever) into a deadline.
func deadlineTs(p unsafe.Pointer) (int64, Errno) {
	if p == nil {
		return -1, 0
	}
	s, n := getTimespec(p)
	if !tsValid(s, n) {
		return 0, EINVAL
	}
	if s == 0 && n == 0 {
		return 0, 0
	}
	if s > 1<<33 {
		return -1, 0
	}
	return clockNs(clockMonotonic) + s*1e9 + n, 0
}

// sigmaskArg reads the optional mask of a wait.
func sigmaskArg(p unsafe.Pointer, size uintptr) (*uint64, Errno) {
	if p == nil {
		return nil, 0
	}
	m, e := readSigset(p, size)
	if e != 0 {
		return nil, e
	}
	m &^= unblockable
	return &m, 0
}

// pollOnce fills the revents of a pollfd array and counts the ready ones.
func (k *kernel) pollOnce(fds unsafe.Pointer, n int) int {
	ready := 0
	for i := 0; i < n; i++ {
		e := unsafe.Add(fds, i*pfdSize)
		fd := *(*int32)(unsafe.Add(e, pfdFd))
		events := uint32(*(*uint16)(unsafe.Add(e, pfdEvents)))
		var rev uint32
		if fd >= 0 {
			of, err := k.get(uintptr(fd))
			if err != 0 {
				rev = pollNval
			} else {
				rev = of.f.poll(k) & (events | pollErr | pollHup)
				k.put(of)
			}
		}
		*(*uint16)(unsafe.Add(e, pfdRevents)) = uint16(rev)
		if rev != 0 {
			ready++
		}
	}
	return ready
}

func (k *kernel) poll(fds unsafe.Pointer, n uintptr, deadline int64, mask *uint64) (uintptr, Errno) {
	if n > maxFds {
		return 0, EINVAL
	}
	if n > 0 && fds == nil {
		return 0, EFAULT
	}
	r, e := k.wait(deadline, mask, func() (int, Errno) { return k.pollOnce(fds, int(n)), 0 })
	return uintptr(r), e
}

func (k *kernel) ppoll(fds unsafe.Pointer, n uintptr, ts, sm unsafe.Pointer, size uintptr) (uintptr, Errno) {
	d, e := deadlineTs(ts)
	if e != 0 {
		return 0, e
	}
	m, e := sigmaskArg(sm, size)
	if e != 0 {
		return 0, e
	}
	return k.poll(fds, n, d, m)
}

// fdset is one of select's bitmaps.
type fdset []uint64

func fdsetAt(p unsafe.Pointer, nfds int) fdset {
	if p == nil {
		return nil
	}
	return unsafe.Slice((*uint64)(p), (nfds+63)/64)
}

func (s fdset) has(fd int) bool { return s != nil && s[fd/64]&(1<<(fd%64)) != 0 }

func (k *kernel) selectCall(nfds int64, rp, wp, xp unsafe.Pointer, deadline int64, mask *uint64) (uintptr, Errno) {
	if nfds < 0 {
		return 0, EINVAL
	}
	n := int(min(nfds, maxFds))
	r, w, x := fdsetAt(rp, n), fdsetAt(wp, n), fdsetAt(xp, n)
	in := [3]fdset{append(fdset(nil), r...), append(fdset(nil), w...), append(fdset(nil), x...)}
	// Descriptors that are not open fail the whole call.
	for fd := 0; fd < n; fd++ {
		if in[0].has(fd) || in[1].has(fd) || in[2].has(fd) {
			of, e := k.get(uintptr(fd))
			if e != 0 {
				return 0, EBADF
			}
			k.put(of)
		}
	}
	check := func() (int, Errno) {
		ready := 0
		var out [3]fdset
		for i := range out {
			if in[i] != nil {
				out[i] = make(fdset, len(in[i]))
			}
		}
		for fd := 0; fd < n; fd++ {
			if !in[0].has(fd) && !in[1].has(fd) && !in[2].has(fd) {
				continue
			}
			of, e := k.get(uintptr(fd))
			if e != 0 {
				return 0, EBADF
			}
			ev := of.f.poll(k)
			k.put(of)
			bit := uint64(1) << (fd % 64)
			if in[0].has(fd) && ev&(pollIn|pollHup|pollErr) != 0 {
				out[0][fd/64] |= bit
				ready++
			}
			if in[1].has(fd) && ev&(pollOut|pollErr) != 0 {
				out[1][fd/64] |= bit
				ready++
			}
			if in[2].has(fd) && ev&pollPri != 0 {
				out[2][fd/64] |= bit
				ready++
			}
		}
		if ready > 0 || deadline == 0 {
			copy(r, out[0])
			copy(w, out[1])
			copy(x, out[2])
		}
		return ready, 0
	}
	ready, e := k.wait(deadline, mask, check)
	if e == 0 && ready == 0 {
		clear(r)
		clear(w)
		clear(x)
	}
	return uintptr(ready), e
}

func (k *kernel) selectTv(nfds int64, rp, wp, xp, tv unsafe.Pointer) (uintptr, Errno) {
	d := int64(-1)
	if tv != nil {
		o := view(tv, "timeval")
		s, us := int64(o.get("tv_sec")), int64(o.get("tv_usec"))
		if s < 0 || us < 0 {
			return 0, EINVAL
		}
		switch {
		case s == 0 && us == 0:
			d = 0
		case s > 1<<33:
		default:
			d = clockNs(clockMonotonic) + s*1e9 + us*1e3
		}
	}
	r, e := k.selectCall(nfds, rp, wp, xp, d, nil)
	if tv != nil && d > 0 {
		left := max(0, d-clockNs(clockMonotonic))
		o := newOut(tv, "timeval")
		o.put("tv_sec", uint64(left/1e9))
		o.put("tv_usec", uint64(left%1e9/1000))
	}
	return r, e
}

func (k *kernel) pselect(nfds int64, rp, wp, xp, ts, sm unsafe.Pointer, size uintptr) (uintptr, Errno) {
	d, e := deadlineTs(ts)
	if e != 0 {
		return 0, e
	}
	m, e := sigmaskArg(sm, size)
	if e != 0 {
		return 0, e
	}
	return k.selectCall(nfds, rp, wp, xp, d, m)
}

// epoll.

const epollCloexec = memfs.O_CLOEXEC

func (k *kernel) epollCreate(flags uintptr) (uintptr, Errno) {
	if flags&^epollCloexec != 0 {
		return 0, EINVAL
	}
	ep := &epollFD{ino: anonIno.Add(1)}
	ep.fl.Store(memfs.O_RDWR)
	k.epolls.add(ep)
	return k.install(ep, flags&epollCloexec != 0, 0)
}

func (k *kernel) epollOf(fd uintptr) (*ofile, *epollFD, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return nil, nil, e
	}
	ep, ok := of.f.(*epollFD)
	if !ok {
		k.put(of)
		return nil, nil, EINVAL
	}
	return of, ep, 0
}

func (k *kernel) epollCtl(epfd, op, fd uintptr, ev unsafe.Pointer) (uintptr, Errno) {
	eof, ep, e := k.epollOf(epfd)
	if e != 0 {
		return 0, e
	}
	defer k.put(eof)
	tof, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(tof)
	if tof == eof {
		return 0, EINVAL
	}
	switch f := tof.f.(type) {
	case *fsFile:
		return 0, EPERM
	case *devFile:
		if f.dev != devConsole {
			return 0, EPERM
		}
	}
	var events uint32
	var data uint64
	if op != epollCtlDel {
		if ev == nil {
			return 0, EFAULT
		}
		o := view(ev, "epoll_event")
		events, data = uint32(o.get("events")), o.get("data")
	}
	if e := ep.ctl(k, int(op), int(fd), tof, events, data); e != 0 {
		return 0, e
	}
	k.hub.wake()
	return 0, 0
}

func (k *kernel) epollWait(epfd uintptr, evs unsafe.Pointer, max int64, deadline int64, mask *uint64) (uintptr, Errno) {
	if max <= 0 || max > 1<<31/12 {
		return 0, EINVAL
	}
	of, ep, e := k.epollOf(epfd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	if evs == nil {
		return 0, EFAULT
	}
	n, e := k.wait(deadline, mask, func() (int, Errno) { return ep.collect(k, evs, int(max)), 0 })
	return uintptr(n), e
}
