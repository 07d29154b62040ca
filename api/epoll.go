package api

import (
	"encoding/binary"
	"iter"
	"unsafe"
)

// epoll: a readiness set kept in the kernel.

var (
	sysEpollCreate  = newCall("epoll_create")
	sysEpollCreate1 = newCall("epoll_create1")
	sysEpollCtl     = newCall("epoll_ctl")
	sysEpollWait    = newCall("epoll_wait")
	sysEpollPwait   = newCall("epoll_pwait")
	sysEpollPwait2  = newCall("epoll_pwait2")
)

// Epoll is an epoll instance: a set of descriptors with the events each is
// watched for, and a queue of those that became ready.
type Epoll struct {
	fd *Fd
}

// EpollEvent is one readiness report: the events that happened and the
// data given to Add or Mod for that descriptor.
type EpollEvent struct {
	Events EpollEvents
	Data   uint64
}

// EpollCreate1 creates an epoll instance; flags may hold EPOLL_CLOEXEC.
func (k *Kernel) EpollCreate1(flags EpollFlags) (*Epoll, error) {
	fl, err := k.flagsToABI(epollFlagsFamily, uint64(flags))
	if err != nil {
		return nil, sysErr("epoll_create1", err)
	}
	if k.ready.epSize == 0 {
		return nil, callErr("epoll_create1", ENOSYS)
	}
	r, err := k.intCall("epoll_create1", sysEpollCreate1, uintptr(fl), 0, 0)
	if err != nil {
		return nil, err
	}
	return &Epoll{k.newFd(r)}, nil
}

// EpollCreate creates an epoll instance with the legacy call; size must be
// positive and is otherwise ignored. ABIs without it answer ENOSYS; prefer
// EpollCreate1(EPOLL_CLOEXEC).
func (k *Kernel) EpollCreate(size int) (*Epoll, error) {
	if size <= 0 || size > 1<<30 {
		return nil, badArg("epoll_create", "size must be positive")
	}
	if k.ready.epSize == 0 {
		return nil, callErr("epoll_create", ENOSYS)
	}
	r, err := k.intCall("epoll_create", sysEpollCreate, uintptr(size), 0, 0)
	if err != nil {
		return nil, err
	}
	return &Epoll{k.newFd(r)}, nil
}

func (ep *Epoll) file() *Fd {
	if ep == nil {
		return nil
	}
	return ep.fd
}

// Fd returns the epoll descriptor itself (to nest it in another set, or
// poll it).
func (ep *Epoll) Fd() *Fd { return ep.file() }

// Close closes the instance; the descriptors it watched are not affected.
func (ep *Epoll) Close() error { return ep.file().Close() }

// Add starts watching fd for events; data comes back with every report for
// it. Adding a descriptor twice is EEXIST.
func (ep *Epoll) Add(fd *Fd, events EpollEvents, data uint64) error {
	return ep.ctl(0, fd, events, data)
}

// Mod changes the events and data of a watched descriptor (ENOENT if it is
// not watched).
func (ep *Epoll) Mod(fd *Fd, events EpollEvents, data uint64) error {
	return ep.ctl(1, fd, events, data)
}

// Del stops watching fd (ENOENT if it is not watched). Closing a descriptor
// removes it by itself once no duplicate of it is left open.
func (ep *Epoll) Del(fd *Fd) error {
	return ep.ctl(2, fd, 0, 0)
}

func (ep *Epoll) ctl(op int, fd *Fd, events EpollEvents, data uint64) error {
	f := ep.file()
	if f == nil {
		return callErr("epoll_ctl", EBADF)
	}
	k := f.k
	s := &k.ready
	if s.epSize == 0 || !s.epCtlOK {
		return callErr("epoll_ctl", ENOSYS)
	}
	if fd == nil || fd.k != k {
		return callErr("epoll_ctl", EBADF)
	}
	ev, err := k.flagsToABI(epollEventsFamily, uint64(events))
	if err != nil {
		return sysErr("epoll_ctl", err)
	}
	c := [3]uintptr{s.epCtlAdd, s.epCtlMod, s.epCtlDel}[op]
	var raw [16]byte // struct epoll_event; init checked that it fits
	s.epEvents.put(raw[:], s.be, ev)
	s.epData.put(raw[:], s.be, data)
	en, n, e := k.acquirePair(f, fd)
	if e != 0 {
		return callErr("epoll_ctl", e)
	}
	_, e = k.syscall(sysEpollCtl, en, c, n, uintptr(unsafe.Pointer(&raw)), 0, 0)
	fd.release()
	f.release()
	if e != 0 {
		return callErr("epoll_ctl", e)
	}
	return nil
}

// WaitInto waits up to msec milliseconds (negative: forever, 0: just look)
// for ready descriptors and stores their reports in evs, returning how
// many. It does not allocate: the kernel writes its raw events into evs's
// own memory and they are decoded in place.
//
// A signal handled by this thread during the wait ends it with EINTR
// (epoll_wait is never restarted, whatever SA_RESTART says; in Go that
// includes the runtime's own signals, such as SIGPROF while profiling).
// WaitInto returns EINTR as is: call again, or use Wait, which retries.
func (ep *Epoll) WaitInto(evs []EpollEvent, msec int) (int, error) {
	if len(evs) == 0 {
		return 0, badArg(ep.waitName(), "no room for events")
	}
	n, e := ep.waitInto(evs, msec)
	if e != 0 {
		return 0, callErr(ep.waitName(), e)
	}
	return n, nil
}

func (ep *Epoll) waitName() string {
	if f := ep.file(); f != nil {
		return f.k.ready.epWaitName
	}
	return "epoll_wait"
}

// maxEpollEvents bounds one wait (the kernel's own limit is INT_MAX / the
// event size).
const maxEpollEvents = 1 << 24

func (ep *Epoll) waitInto(evs []EpollEvent, msec int) (int, Errno) {
	f := ep.file()
	num, e := f.acquire()
	if e != 0 {
		return 0, e
	}
	k := f.k
	s := &k.ready
	if s.epSize == 0 {
		f.release()
		return 0, ENOSYS
	}
	max := min(len(evs), maxEpollEvents)
	tmo := clampMsec(msec)
	p := unsafe.Pointer(unsafe.SliceData(evs))
	var r uintptr
	if s.epWait == sysEpollWait {
		r, e = k.syscall(sysEpollWait, num, uintptr(p), uintptr(max), tmo, 0, 0)
	} else {
		r, e = k.syscall(sysEpollPwait, num, uintptr(p), uintptr(max), tmo, 0, uintptr(s.sigsetSize))
	}
	f.release()
	if e != 0 {
		return 0, e
	}
	s.decodeEpoll(k, evs, int(r))
	return int(r), 0
}

// decodeEpoll turns the first n raw epoll_events the kernel wrote at the
// start of evs's memory into EpollEvents, in place. The raw events are no
// larger than EpollEvent (init checked), so decoding from the last to the
// first never overwrites a raw event not yet read.
func (s *readyState) decodeEpoll(k *Kernel, evs []EpollEvent, n int) {
	if n <= 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(evs))), len(evs)*int(unsafe.Sizeof(EpollEvent{})))
	if s.epPacked {
		for i := n - 1; i >= 0; i-- {
			raw := b[i*12 : i*12+12]
			ev := binary.LittleEndian.Uint32(raw)
			data := binary.LittleEndian.Uint64(raw[4:])
			evs[i] = EpollEvent{Events: EpollEvents(ev), Data: data}
		}
	} else {
		size := s.epSize
		for i := n - 1; i >= 0; i-- {
			raw := b[i*size : i*size+size]
			ev := s.epEvents.uint(raw, s.be)
			data := s.epData.uint(raw, s.be)
			evs[i] = EpollEvent{Events: EpollEvents(ev), Data: data}
		}
	}
	if !k.bits[epollEventsFamily.id].identity {
		for i := range evs[:n] {
			evs[i].Events = EpollEvents(k.flagsFromABI(epollEventsFamily, uint64(evs[i].Events)))
		}
	}
}

// PwaitInto is WaitInto with the thread's signal mask replaced by mask for
// the duration of the wait (epoll_pwait); a nil mask leaves it alone. As
// with SigprocmaskThread, the mask concerns the calling OS thread only.
func (ep *Epoll) PwaitInto(evs []EpollEvent, msec int, mask *SigSet) (int, error) {
	return ep.pwait(sysEpollPwait, "epoll_pwait", evs, msec, nil, mask)
}

// Pwait2Into is PwaitInto with a timeout of nanosecond precision
// (epoll_pwait2, Linux 5.11); nil waits forever. Older kernels answer
// ENOSYS.
func (ep *Epoll) Pwait2Into(evs []EpollEvent, timeout *Timespec, mask *SigSet) (int, error) {
	return ep.pwait(sysEpollPwait2, "epoll_pwait2", evs, 0, timeout, mask)
}

func (ep *Epoll) pwait(c call, name string, evs []EpollEvent, msec int, timeout *Timespec, mask *SigSet) (int, error) {
	if len(evs) == 0 {
		return 0, badArg(name, "no room for events")
	}
	if timeout != nil && (!timeout.valid() || timeout.Sec < 0) {
		return 0, badArg(name, "timeout out of range")
	}
	f := ep.file()
	if f == nil {
		return 0, callErr(name, EBADF)
	}
	k := f.k
	s := &k.ready
	if s.epSize == 0 || s.sigsetSize == 0 || (c == sysEpollPwait2 && s.ktsSize == 0) {
		return 0, callErr(name, ENOSYS)
	}
	var ss [maxSigset]byte
	ssp, e := k.sigsetArg(&ss, mask)
	if e != 0 {
		return 0, callErr(name, e)
	}
	var ts [maxTimespec]byte
	tsp := s.kernelTimespecArg(&ts, timeout)
	num, e := f.acquire()
	if e != 0 {
		return 0, callErr(name, e)
	}
	max := min(len(evs), maxEpollEvents)
	p := unsafe.Pointer(unsafe.SliceData(evs))
	var r uintptr
	if c == sysEpollPwait2 {
		r, e = k.syscall(c, num, uintptr(p), uintptr(max), uintptr(tsp), uintptr(ssp), uintptr(s.sigsetSize))
	} else {
		r, e = k.syscall(c, num, uintptr(p), uintptr(max), clampMsec(msec), uintptr(ssp), uintptr(s.sigsetSize))
	}
	f.release()
	if e != 0 {
		return 0, callErr(name, e)
	}
	s.decodeEpoll(k, evs, int(r))
	return int(r), nil
}

// Wait waits like WaitInto, using buf for the reports, and yields each
// ready descriptor's report:
//
//	buf := make([]api.EpollEvent, 64)
//	for {
//		for ev, err := range ep.Wait(buf, -1) {
//			if err != nil { ... }
//			handle(ev.Data, ev.Events)
//		}
//	}
//
// One Wait is one wait: the loop ends after the reports of that wait (none
// on a timeout). A wait interrupted by a signal (EINTR) is retried with the
// full timeout again; any other error is yielded once, with a zero event,
// and ends the loop. Yielding does not allocate; buf is reused, so an event
// must be copied out (it is a value) before the next Wait.
func (ep *Epoll) Wait(buf []EpollEvent, msec int) iter.Seq2[EpollEvent, error] {
	return func(yield func(EpollEvent, error) bool) {
		if len(buf) == 0 {
			yield(EpollEvent{}, badArg(ep.waitName(), "no room for events"))
			return
		}
		n, e := ep.waitInto(buf, msec)
		for e == EINTR {
			n, e = ep.waitInto(buf, msec)
		}
		if e != 0 {
			yield(EpollEvent{}, callErr(ep.waitName(), e))
			return
		}
		for i := 0; i < n; i++ {
			if !yield(buf[i], nil) {
				return
			}
		}
	}
}
