package api

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// POSIX per-process timers (timer_create and friends) and the older
// interval timers (getitimer, setitimer).

var (
	sysTimerCreate     = newCall("timer_create")
	sysTimerSettime    = newCall("timer_settime", "__timer_settime50")
	sysTimerGettime    = newCall("timer_gettime", "__timer_gettime50")
	sysTimerGetoverrun = newCall("timer_getoverrun")
	sysTimerDelete     = newCall("timer_delete")
	sysGetitimer       = newCall("getitimer", "__getitimer50")
	sysSetitimer       = newCall("setitimer", "__setitimer50")
)

// Itimerspec is a timer's setting (struct itimerspec): Value is the time to
// the next expiry (zero: disarmed), Interval the period after it (zero:
// one-shot).
type Itimerspec struct {
	Interval Timespec
	Value    Timespec
}

// Sigevent says how a timer notifies its expiry (struct sigevent).
//
// A Go program rarely wants a signal: the runtime uses signals itself, and
// an unexpected one interrupts system calls. SIGEV_NONE timers are read
// with Gettime instead.
type Sigevent struct {
	Notify   SigevNotify
	Signo    Signal // for SIGEV_SIGNAL and SIGEV_THREAD_ID
	Value    uint64 // sigev_value, delivered in the signal's si_value
	ThreadID int    // the thread for SIGEV_THREAD_ID (Linux only)
}

// Timer is a POSIX per-process timer. It is deleted when it becomes
// unreachable; Delete is idempotent and safe against concurrent use, like
// Fd.Close.
type Timer struct {
	k  *Kernel
	id int32
	// state holds timerDeleted and the count of operations in flight.
	state   atomic.Uint64
	cleanup runtime.Cleanup
}

const timerDeleted = 1 << 63

// timerDeleter is what a cleanup needs; it must not reference the Timer.
type timerDeleter struct {
	k  *Kernel
	id int32
}

func deleteLostTimer(d timerDeleter) {
	d.k.syscall(sysTimerDelete, uintptr(d.id), 0, 0, 0, 0, 0)
}

// TimerCreate creates a timer on clock, disarmed. ev says how it notifies
// expiries; nil means SIGEV_NONE (C's default for a null sigevent is
// SIGALRM to the process, which a Go program does not want).
func (k *Kernel) TimerCreate(clock ClockID, ev *Sigevent) (*Timer, error) {
	s := &k.timers
	if s.sev.size == 0 {
		return nil, callErr("timer_create", ENOSYS)
	}
	c, err := k.enumToABI(clockIDFamily, uint64(clock))
	if err != nil {
		return nil, wrapTimeErr("timer_create", err)
	}
	e0 := Sigevent{Notify: SIGEV_NONE}
	if ev != nil {
		e0 = *ev
	}
	note, err := k.enumToABI(sigevNotifyFamily, uint64(e0.Notify))
	if err != nil {
		return nil, wrapTimeErr("timer_create", err)
	}
	var signo uint64
	if e0.Notify != SIGEV_NONE {
		if signo, err = k.enumToABI(signalFamily, uint64(e0.Signo)); err != nil {
			return nil, wrapTimeErr("timer_create", err)
		}
	}
	var raw [sigeventBufSize]byte
	b, be := raw[:], s.sev.be
	s.sevValue.put(b, be, e0.Value)
	s.sevSigno.put(b, be, signo)
	s.sevNote.put(b, be, note)
	if e0.ThreadID != 0 {
		if !s.sevTid.ok() {
			return nil, callErr("timer_create", ENOTSUP)
		}
		s.sevTid.put(b, be, uint64(e0.ThreadID))
	}
	var id int32
	_, e := k.syscall(sysTimerCreate, uintptr(c), uintptr(unsafe.Pointer(&raw)), uintptr(unsafe.Pointer(&id)), 0, 0, 0)
	if e != 0 {
		return nil, callErr("timer_create", e)
	}
	t := &Timer{k: k, id: id}
	t.cleanup = runtime.AddCleanup(t, deleteLostTimer, timerDeleter{k, id})
	return t, nil
}

// acquire marks an operation in flight; it fails with EINVAL (the kernel's
// answer for a timer that does not exist) on a nil or deleted Timer.
func (t *Timer) acquire() (uintptr, Errno) {
	if t == nil {
		return 0, EINVAL
	}
	for {
		s := t.state.Load()
		if s&timerDeleted != 0 {
			return 0, EINVAL
		}
		if t.state.CompareAndSwap(s, s+1) {
			return uintptr(t.id), 0
		}
	}
}

// release ends an operation; the last one out after Delete deletes.
func (t *Timer) release() {
	if t.state.Add(^uint64(0)) == timerDeleted {
		t.k.syscall(sysTimerDelete, uintptr(t.id), 0, 0, 0, 0, 0)
	}
}

// ID returns the kernel's timer id, or -1 once the timer is deleted.
func (t *Timer) ID() int {
	if t == nil || t.state.Load()&timerDeleted != 0 {
		return -1
	}
	return int(t.id)
}

// Settime arms the timer (a zero v.Value disarms it) and returns the
// setting it replaces. With TIMER_ABSTIME v.Value is a time on the timer's
// clock rather than a duration.
func (t *Timer) Settime(flags TimerFlags, v Itimerspec) (Itimerspec, error) {
	if !v.Value.valid() || !v.Interval.valid() {
		return Itimerspec{}, badArg("timer_settime", "nanoseconds out of range")
	}
	k := t.kernel()
	if k == nil {
		return Itimerspec{}, callErr("timer_settime", EINVAL)
	}
	s := &k.timers
	if s.its.size == 0 {
		return Itimerspec{}, callErr("timer_settime", ENOSYS)
	}
	fl, err := k.flagsToABI(timerFlagsFamily, uint64(flags))
	if err != nil {
		return Itimerspec{}, wrapTimeErr("timer_settime", err)
	}
	var nw, old [itimerspecBufSize]byte
	s.putItimerspec(nw[:], v)
	id, e := t.acquire()
	if e != 0 {
		return Itimerspec{}, callErr("timer_settime", e)
	}
	_, e = k.syscall(sysTimerSettime, id, uintptr(fl), uintptr(unsafe.Pointer(&nw)), uintptr(unsafe.Pointer(&old)), 0, 0)
	t.release()
	if e != 0 {
		return Itimerspec{}, callErr("timer_settime", e)
	}
	return s.itimerspec(old[:]), nil
}

// Gettime returns the time to the timer's next expiry and its interval.
// Linux computes a SIGEV_NONE timer's time left from its last expiry date
// even once it is disarmed: a timer disarmed before it expired keeps
// reporting the time left to that date until it passes.
func (t *Timer) Gettime() (Itimerspec, error) {
	k := t.kernel()
	if k == nil {
		return Itimerspec{}, callErr("timer_gettime", EINVAL)
	}
	s := &k.timers
	if s.its.size == 0 {
		return Itimerspec{}, callErr("timer_gettime", ENOSYS)
	}
	id, e := t.acquire()
	if e != 0 {
		return Itimerspec{}, callErr("timer_gettime", e)
	}
	var raw [itimerspecBufSize]byte
	_, e = k.syscall(sysTimerGettime, id, uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0)
	t.release()
	if e != 0 {
		return Itimerspec{}, callErr("timer_gettime", e)
	}
	return s.itimerspec(raw[:]), nil
}

// Getoverrun returns how many expiries were lost because the previous
// expiry's signal was still pending. It is 0 for SIGEV_NONE timers.
func (t *Timer) Getoverrun() (int, error) {
	k := t.kernel()
	if k == nil {
		return 0, callErr("timer_getoverrun", EINVAL)
	}
	id, e := t.acquire()
	if e != 0 {
		return 0, callErr("timer_getoverrun", e)
	}
	r, e := k.syscall(sysTimerGetoverrun, id, 0, 0, 0, 0, 0)
	t.release()
	if e != 0 {
		return 0, callErr("timer_getoverrun", e)
	}
	return int(r), nil
}

// Delete deletes the timer. Deleting twice, or concurrently, is not an
// error: only the first call deletes, once calls in flight have returned.
func (t *Timer) Delete() error {
	if t == nil {
		return callErr("timer_delete", EINVAL)
	}
	for {
		s := t.state.Load()
		if s&timerDeleted != 0 {
			return nil
		}
		if t.state.CompareAndSwap(s, s|timerDeleted) {
			t.cleanup.Stop()
			if s != 0 {
				return nil
			}
			if _, e := t.k.syscall(sysTimerDelete, uintptr(t.id), 0, 0, 0, 0, 0); e != 0 {
				return callErr("timer_delete", e)
			}
			return nil
		}
	}
}

func (t *Timer) kernel() *Kernel {
	if t == nil {
		return nil
	}
	return t.k
}

func (s *timeState) putItimerspec(b []byte, v Itimerspec) {
	be := s.its.be
	s.itsIntS.put(b, be, uint64(v.Interval.Sec))
	s.itsIntN.put(b, be, uint64(v.Interval.Nsec))
	s.itsValS.put(b, be, uint64(v.Value.Sec))
	s.itsValN.put(b, be, uint64(v.Value.Nsec))
}

func (s *timeState) itimerspec(b []byte) Itimerspec {
	be := s.its.be
	return Itimerspec{
		Interval: Timespec{s.itsIntS.int(b, be), s.itsIntN.int(b, be)},
		Value:    Timespec{s.itsValS.int(b, be), s.itsValN.int(b, be)},
	}
}

// ItimerWhich names one of a process's three interval timers. (The ABI
// tables do not carry ITIMER_* yet, so this family is written by hand; the
// values are Linux's, translated by name like the generated families.)
type ItimerWhich int

// The interval timers: ITIMER_REAL counts wall-clock time and sends
// SIGALRM, ITIMER_VIRTUAL the process's user CPU time (SIGVTALRM),
// ITIMER_PROF its user and system CPU time (SIGPROF, which the Go runtime's
// CPU profiler uses).
const (
	ITIMER_REAL    ItimerWhich = 0
	ITIMER_VIRTUAL ItimerWhich = 1
	ITIMER_PROF    ItimerWhich = 2
)

// String returns the C name.
func (w ItimerWhich) String() string {
	switch w {
	case ITIMER_REAL:
		return "ITIMER_REAL"
	case ITIMER_VIRTUAL:
		return "ITIMER_VIRTUAL"
	case ITIMER_PROF:
		return "ITIMER_PROF"
	}
	return "ItimerWhich(" + strconv.Itoa(int(w)) + ")"
}

// Itimerval is an interval timer's setting (struct itimerval), in
// microseconds.
type Itimerval struct {
	Interval Timeval
	Value    Timeval
}

// itimerWhich translates which to the ABI; an unknown timer is passed on
// unchanged so that the kernel gives its own answer (EINVAL).
func (k *Kernel) itimerWhich(call string, which ItimerWhich) (uintptr, error) {
	s := &k.timers
	if !s.itimerOK || s.itv.size == 0 {
		return 0, callErr(call, ENOSYS)
	}
	if which >= 0 && int(which) < len(s.itimer) {
		return uintptr(s.itimer[which]), nil
	}
	return uintptr(which), nil
}

// Getitimer returns the setting of interval timer which.
func (k *Kernel) Getitimer(which ItimerWhich) (Itimerval, error) {
	w, err := k.itimerWhich("getitimer", which)
	if err != nil {
		return Itimerval{}, err
	}
	var raw [itimerspecBufSize]byte
	// Raw: getitimer only reads the timer and never blocks.
	_, e := k.rawSyscall(sysGetitimer, w, uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0)
	if e != 0 {
		return Itimerval{}, callErr("getitimer", e)
	}
	return k.timers.itimerval(raw[:]), nil
}

// Setitimer sets interval timer which and returns its previous setting. An
// armed timer sends its signal to the process on expiry: the Go runtime
// ignores SIGALRM and SIGVTALRM unless os/signal asks for them, but each
// one interrupts a blocking call with EINTR, and ITIMER_PROF belongs to
// runtime/pprof.
func (k *Kernel) Setitimer(which ItimerWhich, v Itimerval) (Itimerval, error) {
	if v.Value.Usec < 0 || v.Value.Usec >= 1e6 || v.Interval.Usec < 0 || v.Interval.Usec >= 1e6 {
		return Itimerval{}, badArg("setitimer", "microseconds out of range")
	}
	w, err := k.itimerWhich("setitimer", which)
	if err != nil {
		return Itimerval{}, err
	}
	s := &k.timers
	var nw, old [itimerspecBufSize]byte
	be := s.itv.be
	s.itvIntS.put(nw[:], be, uint64(v.Interval.Sec))
	s.itvIntU.put(nw[:], be, uint64(v.Interval.Usec))
	s.itvValS.put(nw[:], be, uint64(v.Value.Sec))
	s.itvValU.put(nw[:], be, uint64(v.Value.Usec))
	_, e := k.syscall(sysSetitimer, w, uintptr(unsafe.Pointer(&nw)), uintptr(unsafe.Pointer(&old)), 0, 0, 0)
	if e != 0 {
		return Itimerval{}, callErr("setitimer", e)
	}
	return s.itimerval(old[:]), nil
}

func (s *timeState) itimerval(b []byte) Itimerval {
	be := s.itv.be
	return Itimerval{
		Interval: Timeval{s.itvIntS.int(b, be), s.itvIntU.int(b, be)},
		Value:    Timeval{s.itvValS.int(b, be), s.itvValU.int(b, be)},
	}
}
