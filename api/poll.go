package api

import (
	"encoding/binary"
	"unsafe"
)

// poll, ppoll, select and pselect6: readiness of a list of descriptors,
// asked for once.

var (
	sysPoll     = newCall("poll")
	sysPpoll    = newCall("ppoll", "__pollts50") // NetBSD ignores the sigset size
	sysSelect   = newCall("select", "__select50")
	sysPselect6 = newCall("pselect6")
	// NetBSD's pselect takes the signal set's address itself where
	// Linux's pselect6 takes { sigset address, size }.
	sysPselect50 = newCall("__pselect50")
)

// PollFd is one entry of a Poll: the descriptor, the events asked for, and
// the events that happened, filled in by Poll. A nil Fd is skipped (its
// Revents stays 0), as a negative number is in C; a closed one makes the
// whole call fail with EBADF.
type PollFd struct {
	Fd      *Fd
	Events  PollEvents
	Revents PollEvents
}

// pollStack is how many entries Poll handles without allocating.
const pollStack = 16

// maxPollFds bounds one Poll (the kernel's own bound is RLIMIT_NOFILE).
const maxPollFds = 1 << 20

// Poll waits up to msec milliseconds (negative: forever, 0: just look) for
// one of fds to become ready, fills in their Revents and returns how many
// entries have non-zero Revents (0 on a timeout). Up to 16 entries cost no
// allocation.
//
// A signal handled by this thread during the wait ends it with EINTR:
// poll is never restarted, and in Go that includes the runtime's own
// signals (a preemption request can reach a thread already in the kernel).
// Poll returns EINTR as is; call again with the time that is left.
//
// ABIs without poll (Linux arm64, riscv64) are served by ppoll.
func (k *Kernel) Poll(fds []PollFd, msec int) (int, error) {
	if !k.hasCall(sysPoll) && k.hasCall(sysPpoll) {
		if msec < 0 {
			return k.ppoll("poll", fds, nil, nil)
		}
		ts := NsecToTimespec(int64(msec) * 1e6)
		return k.ppoll("poll", fds, &ts, nil)
	}
	return k.poll(fds, msec)
}

// Ppoll is Poll with a timeout of nanosecond precision (nil: forever) and
// the thread's signal mask replaced by mask for the duration of the wait
// (nil: left alone; the mask concerns the calling OS thread only, see
// SigprocmaskThread).
func (k *Kernel) Ppoll(fds []PollFd, timeout *Timespec, mask *SigSet) (int, error) {
	return k.ppoll("ppoll", fds, timeout, mask)
}

// pollPrep acquires the descriptors of fds and writes the raw pollfd array
// into b. On failure nothing stays acquired.
func (k *Kernel) pollPrep(name string, fds []PollFd, b []byte) error {
	s := &k.ready
	for i := range fds {
		raw := b[i*s.pollSize : (i+1)*s.pollSize]
		clear(raw)
		num := ^uintptr(0) // -1: skipped
		if f := fds[i].Fd; f != nil {
			var e Errno
			if f.k != k {
				e = EBADF
			} else {
				num, e = f.acquire()
			}
			if e != 0 {
				k.pollRelease(fds[:i])
				return callErr(name, e)
			}
		}
		ev, err := k.flagsToABI(pollEventsFamily, uint64(fds[i].Events))
		if err != nil {
			if fds[i].Fd != nil {
				fds[i].Fd.release()
			}
			k.pollRelease(fds[:i])
			return sysErr(name, err)
		}
		s.pfFd.put(raw, s.be, uint64(num))
		s.pfEvents.put(raw, s.be, ev)
	}
	return nil
}

// pollBuf returns the raw pollfd array for fds, prepared by pollPrep: stk,
// the caller's stack scratch, when it is large enough.
func (k *Kernel) pollBuf(name string, fds []PollFd, stk *[pollStack * 8]byte) ([]byte, error) {
	b := stk[:]
	if size := len(fds) * k.ready.pollSize; size > len(stk) {
		b = make([]byte, size)
	}
	return b, k.pollPrep(name, fds, b)
}

func (k *Kernel) pollRelease(fds []PollFd) {
	for i := range fds {
		if f := fds[i].Fd; f != nil {
			f.release()
		}
	}
}

// pollDone releases the descriptors and decodes the revents.
func (k *Kernel) pollDone(fds []PollFd, b []byte) {
	k.pollRelease(fds)
	s := &k.ready
	for i := range fds {
		raw := b[i*s.pollSize : (i+1)*s.pollSize]
		rev := PollEvents(k.flagsFromABI(pollEventsFamily, s.pfRevents.uint(raw, s.be)))
		if !k.bits[pollEventsFamily.id].identity {
			// Where members share bits (NetBSD's POLLWRNORM is POLLOUT),
			// report only what was asked, and the conditions always
			// reported, as Linux does.
			rev &= fds[i].Events | POLLERR | POLLHUP | POLLNVAL
		}
		fds[i].Revents = rev
	}
}

// pollCheck checks what the kernel and the arguments allow before any
// descriptor is acquired.
func (k *Kernel) pollCheck(name string, fds []PollFd) error {
	if k.ready.pollSize == 0 {
		return callErr(name, ENOSYS)
	}
	if len(fds) > maxPollFds {
		return badArg(name, "too many descriptors")
	}
	return nil
}

func (k *Kernel) poll(fds []PollFd, msec int) (int, error) {
	if err := k.pollCheck("poll", fds); err != nil {
		return 0, err
	}
	var stk [pollStack * 8]byte
	b, err := k.pollBuf("poll", fds, &stk)
	if err != nil {
		return 0, err
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	tmo := clampMsec(msec)
	r, e := k.syscall(sysPoll, uintptr(p), uintptr(len(fds)), tmo, 0, 0, 0)
	k.pollDone(fds, b)
	if e != 0 {
		return 0, callErr("poll", e)
	}
	return int(r), nil
}

func (k *Kernel) ppoll(name string, fds []PollFd, timeout *Timespec, mask *SigSet) (int, error) {
	if err := k.pollCheck(name, fds); err != nil {
		return 0, err
	}
	s := &k.ready
	if s.sigsetSize == 0 || s.tsSize == 0 {
		return 0, callErr(name, ENOSYS)
	}
	if timeout != nil && (!timeout.valid() || timeout.Sec < 0) {
		return 0, badArg(name, "timeout out of range")
	}
	var ss [maxSigset]byte
	ssp, e := k.sigsetArg(&ss, mask)
	if e != 0 {
		return 0, callErr(name, e)
	}
	var ts [maxTimespec]byte
	tsp := s.timespecArg(&ts, timeout)
	var stk [pollStack * 8]byte
	b, err := k.pollBuf(name, fds, &stk)
	if err != nil {
		return 0, err
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	r, e := k.syscall(sysPpoll, uintptr(p), uintptr(len(fds)), uintptr(tsp), uintptr(ssp), uintptr(s.sigsetSize), 0)
	k.pollDone(fds, b)
	if e != 0 {
		return 0, callErr(name, e)
	}
	return int(r), nil
}

// FdSet is a set of descriptor numbers for Select, as C's fd_set: numbers
// 0 to 1023. The zero value is empty.
type FdSet struct {
	w [fdSetSize / 64]uint64
}

// fdSetSize is FD_SETSIZE: the numbers an FdSet holds.
const fdSetSize = 1024

// Set adds descriptor number n (f.Num()); numbers outside 0..1023 are
// ignored.
func (s *FdSet) Set(n int) {
	if n >= 0 && n < fdSetSize {
		s.w[n/64] |= 1 << (n % 64)
	}
}

// Clear removes n.
func (s *FdSet) Clear(n int) {
	if n >= 0 && n < fdSetSize {
		s.w[n/64] &^= 1 << (n % 64)
	}
}

// IsSet reports whether n is in the set.
func (s *FdSet) IsSet(n int) bool {
	return n >= 0 && n < fdSetSize && s.w[n/64]&(1<<(n%64)) != 0
}

// Zero empties the set.
func (s *FdSet) Zero() { s.w = [fdSetSize / 64]uint64{} }

// putFdSet writes the first nfds bits of set into b as an array of C
// longs.
func (k *Kernel) putFdSet(b []byte, set *FdSet, nfds int) {
	s := &k.ready
	clear(b)
	if !s.be {
		for i := 0; i*8 < len(b); i++ {
			var tmp [8]byte
			binary.LittleEndian.PutUint64(tmp[:], set.w[i])
			copy(b[i*8:], tmp[:])
		}
		return
	}
	for n := 0; n < nfds; n++ {
		if set.IsSet(n) {
			setBitLong(b, n, s.wordSize, s.be)
		}
	}
}

func (k *Kernel) getFdSet(b []byte, set *FdSet, nfds int) {
	s := &k.ready
	set.Zero()
	for n := 0; n < nfds; n++ {
		if bitLong(b, n, s.wordSize, s.be) {
			set.Set(n)
		}
	}
}

// Select waits for the descriptors numbered below nfds in r to become
// readable, in w writable, in x to have an exceptional condition (out-of-band
// data), and leaves in each set only those that are ready; nil sets are
// empty. It returns how many bits remain set in all three. timeout nil waits
// forever, a zero one just looks; its precision is a microsecond.
//
// Select works on descriptor numbers: the caller keeps the *Fds open (see
// runtime.KeepAlive) until it returns. It is limited to numbers below 1024,
// like C's; prefer Poll or an Epoll. ABIs without select are served by
// pselect6. As with Poll, a signal ends the wait with EINTR.
func (k *Kernel) Select(nfds int, r, w, x *FdSet, timeout *Timespec) (int, error) {
	if !k.hasCall(sysSelect) && (k.hasCall(sysPselect6) || k.hasCall(sysPselect50)) {
		return k.pselect("select", nfds, r, w, x, timeout, nil)
	}
	if err := k.selectCheck("select", nfds, timeout); err != nil {
		return 0, err
	}
	s := &k.ready
	if s.tvSize == 0 {
		return 0, callErr("select", ENOSYS)
	}
	var tv [maxTimespec]byte
	var tvp unsafe.Pointer
	if timeout != nil {
		usec := (timeout.Nsec + 999) / 1000 // round up, as the kernel would
		s.tvSec.put(tv[:], s.be, uint64(timeout.Sec))
		s.tvUsec.put(tv[:], s.be, uint64(usec))
		if usec == 1e6 {
			s.tvSec.put(tv[:], s.be, uint64(timeout.Sec+1))
			s.tvUsec.put(tv[:], s.be, 0)
		}
		tvp = unsafe.Pointer(&tv)
	}
	var rb, wb, xb [fdSetSize / 8]byte
	n := k.fdSetBytes(nfds)
	rp, wp, xp := k.fdSetArgs(rb[:n], wb[:n], xb[:n], r, w, x, nfds)
	ret, e := k.syscall(sysSelect, uintptr(nfds), uintptr(rp), uintptr(wp), uintptr(xp), uintptr(tvp), 0)
	if e != 0 {
		return 0, callErr("select", e)
	}
	k.fdSetResults(rb[:n], wb[:n], xb[:n], r, w, x, nfds)
	return int(ret), nil
}

// Pselect is Select with a timeout of nanosecond precision and the thread's
// signal mask replaced by mask for the wait (nil: left alone; see
// SigprocmaskThread) — pselect6.
func (k *Kernel) Pselect(nfds int, r, w, x *FdSet, timeout *Timespec, mask *SigSet) (int, error) {
	return k.pselect("pselect6", nfds, r, w, x, timeout, mask)
}

func (k *Kernel) selectCheck(name string, nfds int, timeout *Timespec) error {
	if nfds < 0 || nfds > fdSetSize {
		return badArg(name, "nfds outside 0..1024")
	}
	if timeout != nil && (!timeout.valid() || timeout.Sec < 0) {
		return badArg(name, "timeout out of range")
	}
	return nil
}

// fdSetBytes is how many bytes of fd_set the kernel reads for nfds: whole
// longs.
func (k *Kernel) fdSetBytes(nfds int) int {
	ws := k.ready.wordSize
	return (nfds + ws*8 - 1) / (ws * 8) * ws
}

func (k *Kernel) fdSetArgs(rb, wb, xb []byte, r, w, x *FdSet, nfds int) (rp, wp, xp unsafe.Pointer) {
	if r != nil && len(rb) > 0 {
		k.putFdSet(rb, r, nfds)
		rp = unsafe.Pointer(unsafe.SliceData(rb))
	}
	if w != nil && len(wb) > 0 {
		k.putFdSet(wb, w, nfds)
		wp = unsafe.Pointer(unsafe.SliceData(wb))
	}
	if x != nil && len(xb) > 0 {
		k.putFdSet(xb, x, nfds)
		xp = unsafe.Pointer(unsafe.SliceData(xb))
	}
	return
}

func (k *Kernel) fdSetResults(rb, wb, xb []byte, r, w, x *FdSet, nfds int) {
	if r != nil {
		k.getFdSet(rb, r, nfds)
	}
	if w != nil {
		k.getFdSet(wb, w, nfds)
	}
	if x != nil {
		k.getFdSet(xb, x, nfds)
	}
}

func (k *Kernel) pselect(name string, nfds int, r, w, x *FdSet, timeout *Timespec, mask *SigSet) (int, error) {
	if err := k.selectCheck(name, nfds, timeout); err != nil {
		return 0, err
	}
	s := &k.ready
	if s.tsSize == 0 || s.sigsetSize == 0 {
		return 0, callErr(name, ENOSYS)
	}
	var ts [maxTimespec]byte
	tsp := s.timespecArg(&ts, timeout)
	var ss [maxSigset]byte
	ssp, e := k.sigsetArg(&ss, mask)
	if e != 0 {
		return 0, callErr(name, e)
	}
	var rb, wb, xb [fdSetSize / 8]byte
	n := k.fdSetBytes(nfds)
	rp, wp, xp := k.fdSetArgs(rb[:n], wb[:n], xb[:n], r, w, x, nfds)
	if !k.hasCall(sysPselect6) && k.hasCall(sysPselect50) {
		ret, e := k.syscall(sysPselect50, uintptr(nfds), uintptr(rp), uintptr(wp), uintptr(xp), uintptr(tsp), uintptr(ssp))
		if e != 0 {
			return 0, callErr(name, e)
		}
		k.fdSetResults(rb[:n], wb[:n], xb[:n], r, w, x, nfds)
		return int(ret), nil
	}
	// The sixth argument points to { const sigset_t *ss; size_t ss_len; }.
	// It holds an address into this stack as an integer, so it is filled
	// last, with no call (no possible stack move) before the syscall.
	var sigArg [2]uintptr
	sigArg[0] = uintptr(ssp)
	sigArg[1] = uintptr(s.sigsetSize)
	ret, e := k.syscall(sysPselect6, uintptr(nfds), uintptr(rp), uintptr(wp), uintptr(xp), uintptr(tsp), uintptr(unsafe.Pointer(&sigArg)))
	if e != 0 {
		return 0, callErr(name, e)
	}
	k.fdSetResults(rb[:n], wb[:n], xb[:n], r, w, x, nfds)
	return int(ret), nil
}
