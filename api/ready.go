package api

import (
	"encoding/binary"
	"math"
	"os"
	"unsafe"
)

// The pipes-and-readiness family: pipes and eventfd here, epoll, poll and
// select, inotify, timerfd and signalfd (with signal masks) in their own
// files. Most of these calls are Linux's own; an ABI without them answers
// ENOSYS, and so does one whose table lacks a struct they need.

var (
	sysPipe     = newCall("pipe")
	sysPipe2    = newCall("pipe2")
	sysEventfd  = newCall("eventfd")
	sysEventfd2 = newCall("eventfd2")
)

// readyState is this family's per-Kernel state, filled in at New. A size of
// 0 marks a struct the ABI lacks: the calls needing it answer ENOSYS.
type readyState struct {
	be       bool
	wordSize int // bytes in a C long: the unit of sigset_t and fd_set

	// Kernel's sigset_t (what rt_sigprocmask, signalfd, ppoll, epoll_pwait
	// take, with its size as an argument).
	sigsetSize int

	// struct epoll_event.
	epSize           int
	epEvents, epData fieldAt
	epPacked         bool // Linux x86's packed little-endian 12 bytes
	epCtlAdd         uintptr
	epCtlMod         uintptr
	epCtlDel         uintptr
	epCtlOK          bool
	epWait           call   // epoll_wait, or epoll_pwait where the ABI lacks it
	epWaitName       string // the name errors report

	// struct pollfd.
	pollSize                  int
	pfFd, pfEvents, pfRevents fieldAt

	// struct timespec and struct timeval (timeouts).
	tsSize        int
	tsSec, tsNsec fieldAt
	// struct __kernel_timespec, 64-bit seconds on every target: the
	// calls added after the time64 work (epoll_pwait2) take only this.
	ktsSize         int
	ktsSec, ktsNsec fieldAt
	tvSize          int
	tvSec, tvUsec   fieldAt

	// struct itimerspec.
	itsSize                        int
	itIntS, itIntN, itValS, itValN fieldAt

	// struct inotify_event.
	inoSize                           int
	inoWd, inoMask, inoCookie, inoLen fieldAt

	// struct signalfd_siginfo.
	ssiSize int
	ssi     ssiFields
}

// Upper bounds on the raw structs api keeps on the stack; an ABI whose
// struct is larger is treated as lacking it.
const (
	maxSigset   = 16 // Linux MIPS has 128 signals
	maxTimespec = 16
	maxIts      = 32
	maxSsi      = 128
)

func (s *readyState) init(k *Kernel) error {
	t := k.table
	s.be = t.BigEndian
	s.wordSize = t.PtrSize
	if s.wordSize == 0 {
		s.wordSize = 8
	}

	if l, err := k.layoutOf("kernel_sigset"); err == nil && l.size <= maxSigset {
		s.sigsetSize = l.size
	}

	// epoll_event: api decodes it in place in the caller's []EpollEvent,
	// which works for any layout no larger than EpollEvent itself.
	if l, err := k.layoutOf("epoll_event"); err == nil && l.size <= int(unsafe.Sizeof(EpollEvent{})) {
		ev, e1 := l.must("events")
		da, e2 := l.must("data")
		if e1 == nil && e2 == nil {
			s.epSize, s.epEvents, s.epData = l.size, ev, da
			s.epPacked = !s.be && l.size == 12 && ev.off == 0 && ev.size == 4 && da.off == 4 && da.size == 8
		}
	}
	add, ok1 := t.Const("EPOLL_CTL_ADD")
	mod, ok2 := t.Const("EPOLL_CTL_MOD")
	del, ok3 := t.Const("EPOLL_CTL_DEL")
	s.epCtlAdd, s.epCtlMod, s.epCtlDel, s.epCtlOK = uintptr(add), uintptr(mod), uintptr(del), ok1 && ok2 && ok3
	s.epWait, s.epWaitName = sysEpollWait, "epoll_wait"
	if !k.hasCall(sysEpollWait) {
		s.epWait, s.epWaitName = sysEpollPwait, "epoll_pwait"
	}

	if l, err := k.layoutOf("pollfd"); err == nil {
		fd, e1 := l.must("fd")
		ev, e2 := l.must("events")
		rev, e3 := l.must("revents")
		if e1 == nil && e2 == nil && e3 == nil {
			s.pollSize, s.pfFd, s.pfEvents, s.pfRevents = l.size, fd, ev, rev
		}
	}

	if l, err := k.layoutOf("timespec"); err == nil && l.size <= maxTimespec {
		sec, e1 := l.must("tv_sec")
		nsec, e2 := l.must("tv_nsec")
		if e1 == nil && e2 == nil {
			s.tsSize, s.tsSec, s.tsNsec = l.size, sec, nsec
		}
	}
	s.ktsSize, s.ktsSec, s.ktsNsec = s.tsSize, s.tsSec, s.tsNsec
	if l, err := k.layoutOf("kernel_timespec"); err == nil && l.size <= maxTimespec {
		sec, e1 := l.must("tv_sec")
		nsec, e2 := l.must("tv_nsec")
		if e1 == nil && e2 == nil {
			s.ktsSize, s.ktsSec, s.ktsNsec = l.size, sec, nsec
		}
	}
	if l, err := k.layoutOf("timeval"); err == nil && l.size <= maxTimespec {
		sec, e1 := l.must("tv_sec")
		usec, e2 := l.must("tv_usec")
		if e1 == nil && e2 == nil {
			s.tvSize, s.tvSec, s.tvUsec = l.size, sec, usec
		}
	}

	if l, err := k.layoutOf("itimerspec"); err == nil && l.size <= maxIts {
		var errs [4]error
		s.itIntS, errs[0] = l.must("it_interval.tv_sec")
		s.itIntN, errs[1] = l.must("it_interval.tv_nsec")
		s.itValS, errs[2] = l.must("it_value.tv_sec")
		s.itValN, errs[3] = l.must("it_value.tv_nsec")
		if errs == [4]error{} {
			s.itsSize = l.size
		}
	}

	if l, err := k.layoutOf("inotify_event"); err == nil {
		var errs [4]error
		s.inoWd, errs[0] = l.must("wd")
		s.inoMask, errs[1] = l.must("mask")
		s.inoCookie, errs[2] = l.must("cookie")
		s.inoLen, errs[3] = l.must("len")
		if errs == [4]error{} {
			s.inoSize = l.size
		}
	}

	if l, err := k.layoutOf("signalfd_siginfo"); err == nil && l.size <= maxSsi {
		if s.ssi.resolve(l) == nil {
			s.ssiSize = l.size
		}
	}
	return nil
}

// sysErr wraps an error that is not an Errno (a flag translation that
// failed) with the call's name.
func sysErr(call string, err error) error { return os.NewSyscallError(call, err) }

// Pipe2 creates a pipe: data written to w can be read from r. flags may
// hold O_CLOEXEC, O_NONBLOCK and O_DIRECT (packet mode); the kernel
// rejects others with EINVAL.
func (k *Kernel) Pipe2(flags OpenFlags) (r, w *Fd, err error) {
	fl, err := k.flagsToABI(openFlagsFamily, uint64(flags))
	if err != nil {
		return nil, nil, sysErr("pipe2", err)
	}
	var fds [2]int32 // the kernel writes int[2]
	_, e := k.syscall(sysPipe2, uintptr(unsafe.Pointer(&fds)), uintptr(fl), 0, 0, 0, 0)
	if e != 0 {
		return nil, nil, callErr("pipe2", e)
	}
	return k.newFd(uintptr(uint32(fds[0]))), k.newFd(uintptr(uint32(fds[1]))), nil
}

// Pipe creates a pipe with the legacy call, which takes no flags (so the
// descriptors are inheritable across exec; prefer Pipe2(O_CLOEXEC)). ABIs
// that never had it (Linux arm64, riscv64) answer ENOSYS.
func (k *Kernel) Pipe() (r, w *Fd, err error) {
	// Most ABIs write int[2]; a few (Linux MIPS, the BSDs' old pipe) return
	// the two numbers in registers and leave memory alone, which the -1
	// markers reveal.
	fds := [2]int32{-1, -1}
	r1, r2, e := k.syscall2(sysPipe, uintptr(unsafe.Pointer(&fds)), 0, 0, 0, 0, 0)
	if e != 0 {
		return nil, nil, callErr("pipe", e)
	}
	if fds[0] == -1 && fds[1] == -1 {
		fds[0], fds[1] = int32(r1), int32(r2)
	}
	return k.newFd(uintptr(uint32(fds[0]))), k.newFd(uintptr(uint32(fds[1]))), nil
}

// Eventfd creates an event counter starting at initval (eventfd2). Reading
// it (EventfdRead) returns the counter and resets it to 0, or, with
// EFD_SEMAPHORE, returns 1 and decrements it; a read of a zero counter
// blocks, or fails with EAGAIN under EFD_NONBLOCK. EventfdWrite adds to it.
func (k *Kernel) Eventfd(initval uint, flags EventfdFlags) (*Fd, error) {
	if uint64(initval) > math.MaxUint32 {
		return nil, badArg("eventfd2", "initial value does not fit 32 bits")
	}
	fl, err := k.flagsToABI(eventfdFlagsFamily, uint64(flags))
	if err != nil {
		return nil, sysErr("eventfd2", err)
	}
	r, err := k.intCall("eventfd2", sysEventfd2, uintptr(initval), uintptr(fl), 0)
	if err != nil {
		return nil, err
	}
	return k.newFd(r), nil
}

// EventfdLegacy creates an event counter with the legacy eventfd call, which
// takes no flags. ABIs without it answer ENOSYS; prefer Eventfd.
func (k *Kernel) EventfdLegacy(initval uint) (*Fd, error) {
	if uint64(initval) > math.MaxUint32 {
		return nil, badArg("eventfd", "initial value does not fit 32 bits")
	}
	r, err := k.intCall("eventfd", sysEventfd, uintptr(initval), 0, 0)
	if err != nil {
		return nil, err
	}
	return k.newFd(r), nil
}

// EventfdRead reads the 8-byte counter of an eventfd (or the expiration
// count of a timerfd): see Eventfd for what it returns.
func (f *Fd) EventfdRead() (uint64, error) {
	return f.readU64()
}

// EventfdWrite adds v to the counter of an eventfd. The counter saturates
// at 2^64-2: a write that would pass it blocks, or fails with EAGAIN under
// EFD_NONBLOCK; v = 2^64-1 is EINVAL.
func (f *Fd) EventfdWrite(v uint64) error {
	if f == nil {
		return callErr("write", EBADF)
	}
	var raw [8]byte
	if f.k.table.BigEndian {
		binary.BigEndian.PutUint64(raw[:], v)
	} else {
		binary.LittleEndian.PutUint64(raw[:], v)
	}
	r, err := f.fdBufCall("write", sysWrite, unsafe.Pointer(&raw), 8, 0)
	if err != nil {
		return err
	}
	if r != 8 {
		return callErr("write", EIO)
	}
	return nil
}

// readU64 reads one kernel-order uint64: the value an eventfd or a timerfd
// hands out.
func (f *Fd) readU64() (uint64, error) {
	var raw [8]byte
	r, err := f.fdBufCall("read", sysRead, unsafe.Pointer(&raw), 8, 0)
	if err != nil {
		return 0, err
	}
	if r != 8 {
		// Not an eventfd or timerfd: a pipe or file gave fewer bytes.
		return 0, callErr("read", EINVAL)
	}
	if f.k.table.BigEndian {
		return binary.BigEndian.Uint64(raw[:]), nil
	}
	return binary.LittleEndian.Uint64(raw[:]), nil
}

// clampMsec turns a Go int timeout in milliseconds into the C int the
// kernel takes: negative means forever, larger than the C int clamps.
func clampMsec(msec int) uintptr {
	if msec < 0 {
		return uintptr(^uint(0)) // -1, whatever the word size
	}
	if msec > math.MaxInt32 {
		msec = math.MaxInt32
	}
	return uintptr(msec)
}

// putTimespec writes ts into raw in the ABI's struct timespec.
func (s *readyState) putTimespec(raw []byte, ts Timespec) {
	s.tsSec.put(raw, s.be, uint64(ts.Sec))
	s.tsNsec.put(raw, s.be, uint64(ts.Nsec))
}

// kernelTimespecArg is timespecArg for struct __kernel_timespec.
func (s *readyState) kernelTimespecArg(raw *[maxTimespec]byte, timeout *Timespec) unsafe.Pointer {
	if timeout == nil {
		return nil
	}
	s.ktsSec.put(raw[:], s.be, uint64(timeout.Sec))
	s.ktsNsec.put(raw[:], s.be, uint64(timeout.Nsec))
	return unsafe.Pointer(raw)
}

// timespecArg writes timeout into raw, the caller's stack scratch, and
// returns the address to pass: nil for a nil timeout (wait forever).
func (s *readyState) timespecArg(raw *[maxTimespec]byte, timeout *Timespec) unsafe.Pointer {
	if timeout == nil {
		return nil
	}
	s.putTimespec(raw[:], *timeout)
	return unsafe.Pointer(raw)
}

// sigsetArg writes mask into raw, the caller's stack scratch, as the ABI's
// sigset_t and returns the address to pass: nil for a nil mask (the wait
// leaves the thread's mask alone).
func (k *Kernel) sigsetArg(raw *[maxSigset]byte, mask *SigSet) (unsafe.Pointer, Errno) {
	if mask == nil {
		return nil, 0
	}
	if e := k.putSigset(raw[:k.ready.sigsetSize], mask); e != 0 {
		return nil, e
	}
	return unsafe.Pointer(raw), 0
}
