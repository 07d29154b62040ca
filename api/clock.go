package api

import (
	"strconv"
	"time"
	"unsafe"
)

// Clocks and sleeps: clock_gettime (through the backend's fast clock when it
// has one), clock_getres, clock_settime, clock_nanosleep, nanosleep,
// gettimeofday, time and times.

var (
	sysClockGettime   = newCall("clock_gettime", "__clock_gettime50")
	sysClockGetres    = newCall("clock_getres", "__clock_getres50")
	sysClockSettime   = newCall("clock_settime", "__clock_settime50")
	sysClockNanosleep = newCall("clock_nanosleep")
	sysNanosleep      = newCall("nanosleep", "__nanosleep50")
	sysGettimeofday   = newCall("gettimeofday", "__gettimeofday50")
	sysTime           = newCall("time")
	sysTimes          = newCall("times")
)

// wrapTimeErr wraps an error from translating a clock or flag word.
func wrapTimeErr(call string, err error) error { return wrapCallErr(call, err) }

// ClockGettime reads clock into ts. Clocks the backend can read without
// entering the kernel (CLOCK_REALTIME and CLOCK_MONOTONIC through the Linux
// vDSO on the native backend) are read that way; the others cost a syscall.
// It does not allocate.
func (k *Kernel) ClockGettime(clock ClockID, ts *Timespec) error {
	if ts == nil {
		return badArg("clock_gettime", "nil Timespec")
	}
	if k.clock != nil {
		if s, n, ok := k.clock.ClockNow(clock); ok {
			ts.Sec, ts.Nsec = s, n
			return nil
		}
	}
	return k.clockGettime(clock, ts)
}

// ClockGettimeSyscall is ClockGettime that always makes the syscall, for
// comparing the fast path with the kernel's answer, or for a clock the fast
// path would serve from a different source.
func (k *Kernel) ClockGettimeSyscall(clock ClockID, ts *Timespec) error {
	if ts == nil {
		return badArg("clock_gettime", "nil Timespec")
	}
	return k.clockGettime(clock, ts)
}

func (k *Kernel) clockGettime(clock ClockID, ts *Timespec) error {
	c, err := k.enumToABI(clockIDFamily, uint64(clock))
	if err != nil {
		return wrapTimeErr("clock_gettime", err)
	}
	var raw [timespecBufSize]byte
	// Not raw: reading a dynamic clock (a PTP device's) may sleep in its
	// driver.
	_, e := k.syscall(sysClockGettime, uintptr(c), uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0)
	if e != 0 {
		return callErr("clock_gettime", e)
	}
	*ts = k.timers.timespec(raw[:])
	return nil
}

// Now returns the kernel's wall-clock time (CLOCK_REALTIME). A rump or
// unikernel kernel keeps its own clock, which need not be the host's.
func (k *Kernel) Now() (time.Time, error) {
	var ts Timespec
	if err := k.ClockGettime(CLOCK_REALTIME, &ts); err != nil {
		return time.Time{}, err
	}
	return ts.Time(), nil
}

// ClockGetres returns the resolution of clock.
func (k *Kernel) ClockGetres(clock ClockID) (Timespec, error) {
	c, err := k.enumToABI(clockIDFamily, uint64(clock))
	if err != nil {
		return Timespec{}, wrapTimeErr("clock_getres", err)
	}
	var raw [timespecBufSize]byte
	_, e := k.syscall(sysClockGetres, uintptr(c), uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0)
	if e != 0 {
		return Timespec{}, callErr("clock_getres", e)
	}
	return k.timers.timespec(raw[:]), nil
}

// ClockSettime sets clock to ts. Of the standard clocks only CLOCK_REALTIME
// can be set, and only with CAP_SYS_TIME: others fail with EINVAL,
// unprivileged callers with EPERM. Setting the host's clock affects every
// process on the machine.
func (k *Kernel) ClockSettime(clock ClockID, ts Timespec) error {
	if !ts.valid() {
		return badArg("clock_settime", "nanoseconds "+strconv.FormatInt(ts.Nsec, 10)+" out of range")
	}
	c, err := k.enumToABI(clockIDFamily, uint64(clock))
	if err != nil {
		return wrapTimeErr("clock_settime", err)
	}
	var raw [timespecBufSize]byte
	k.timers.putTimespec(raw[:], ts)
	_, e := k.syscall(sysClockSettime, uintptr(c), uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0)
	if e != 0 {
		return callErr("clock_settime", e)
	}
	return nil
}

// ClockNanosleep sleeps on clock: for the duration req, or with
// TIMER_ABSTIME until clock reads req. When a signal handler interrupts a
// relative sleep it returns the time that was left and an error matching
// EINTR, so the caller can sleep again for the rest (the Go runtime's own
// signals can cause that at any time). An absolute sleep returns a zero
// remainder: sleeping again for the same req is the retry.
func (k *Kernel) ClockNanosleep(clock ClockID, flags TimerFlags, req Timespec) (Timespec, error) {
	if !req.valid() {
		return Timespec{}, badArg("clock_nanosleep", "nanoseconds "+strconv.FormatInt(req.Nsec, 10)+" out of range")
	}
	if clock == CLOCK_THREAD_CPUTIME_ID {
		// Linux refuses it; NetBSD would sleep until the sleeping
		// thread's CPU time passes the request, which is never.
		return Timespec{}, callErr("clock_nanosleep", EINVAL)
	}
	c, err := k.enumToABI(clockIDFamily, uint64(clock))
	if err != nil {
		return Timespec{}, wrapTimeErr("clock_nanosleep", err)
	}
	fl, err := k.flagsToABI(timerFlagsFamily, uint64(flags))
	if err != nil {
		return Timespec{}, wrapTimeErr("clock_nanosleep", err)
	}
	var rq, rm [timespecBufSize]byte
	k.timers.putTimespec(rq[:], req)
	_, e := k.syscall(sysClockNanosleep, uintptr(c), uintptr(fl), uintptr(unsafe.Pointer(&rq)), uintptr(unsafe.Pointer(&rm)), 0, 0)
	if e != 0 {
		var rem Timespec
		if e == EINTR && flags&TIMER_ABSTIME == 0 {
			rem = k.timers.timespec(rm[:])
		}
		return rem, callErr("clock_nanosleep", e)
	}
	return Timespec{}, nil
}

// Nanosleep sleeps for req on CLOCK_MONOTONIC. Like ClockNanosleep, it
// returns the time left and an EINTR error when a signal interrupts it.
func (k *Kernel) Nanosleep(req Timespec) (Timespec, error) {
	if !req.valid() {
		return Timespec{}, badArg("nanosleep", "nanoseconds "+strconv.FormatInt(req.Nsec, 10)+" out of range")
	}
	if req.Sec < 0 {
		// Linux's answer; NetBSD returns at once.
		return Timespec{}, callErr("nanosleep", EINVAL)
	}
	s := &k.timers
	if s.nsSec.size == 4 && int64(int32(req.Sec)) != req.Sec {
		return Timespec{}, badArg("nanosleep", "seconds "+strconv.FormatInt(req.Sec, 10)+" beyond this ABI's 32-bit time_t (use ClockNanosleep)")
	}
	var rq, rm [timespecBufSize]byte
	s.nsSec.put(rq[:], s.nsTs.be, uint64(req.Sec))
	s.nsNsec.put(rq[:], s.nsTs.be, uint64(req.Nsec))
	_, e := k.syscall(sysNanosleep, uintptr(unsafe.Pointer(&rq)), uintptr(unsafe.Pointer(&rm)), 0, 0, 0, 0)
	if e != 0 {
		var rem Timespec
		if e == EINTR {
			rem = Timespec{s.nsSec.int(rm[:], s.nsTs.be), s.nsNsec.int(rm[:], s.nsTs.be)}
		}
		return rem, callErr("nanosleep", e)
	}
	return Timespec{}, nil
}

// Timeval is a time in seconds and microseconds (struct timeval).
type Timeval struct {
	Sec  int64
	Usec int64
}

// Time returns tv as a wall-clock time.
func (tv Timeval) Time() time.Time { return time.Unix(tv.Sec, tv.Usec*1000) }

// Duration returns tv as a duration.
func (tv Timeval) Duration() time.Duration {
	return time.Duration(tv.Sec)*time.Second + time.Duration(tv.Usec)*time.Microsecond
}

// Gettimeofday returns the wall-clock time in microseconds. The time zone
// argument of the C call is obsolete; api passes none.
func (k *Kernel) Gettimeofday() (Timeval, error) {
	s := &k.timers
	if s.tv.size == 0 {
		return Timeval{}, callErr("gettimeofday", ENOSYS)
	}
	var raw [timespecBufSize]byte
	// Raw: gettimeofday only reads the clock and never blocks.
	_, e := k.rawSyscall(sysGettimeofday, uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0, 0)
	if e != 0 {
		return Timeval{}, callErr("gettimeofday", e)
	}
	b := raw[:]
	return Timeval{s.tvSec.int(b, s.tv.be), s.tvUsec.int(b, s.tv.be)}, nil
}

// Time returns the wall-clock time in seconds since the epoch (time(2)).
// ABIs without the call (most but x86) answer ENOSYS; Now works everywhere.
func (k *Kernel) Time() (int64, error) {
	// Raw: time only reads the clock and never blocks.
	r, e := k.rawSyscall(sysTime, 0, 0, 0, 0, 0, 0)
	if e != 0 {
		return 0, callErr("time", e)
	}
	return int64(r), nil
}

// Tms is the CPU time a process and its waited-for children used, in clock
// ticks (struct tms).
type Tms struct {
	Utime  int64 // user time of the process
	Stime  int64 // system time of the process
	Cutime int64 // user time of waited-for children
	Cstime int64 // system time of waited-for children
}

// Times fills tms with the CPU times of the process and returns the clock
// ticks elapsed since an arbitrary point in the past (boot, on Linux).
// Ticks are 1/100 s on Linux (USER_HZ).
func (k *Kernel) Times(tms *Tms) (int64, error) {
	if tms == nil {
		return 0, badArg("times", "nil Tms")
	}
	s := &k.timers
	if s.tms.size == 0 {
		return 0, callErr("times", ENOSYS)
	}
	var raw [tmsBufSize]byte
	// Raw: times only reads counters and never blocks.
	r, e := k.rawSyscall(sysTimes, uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0, 0)
	if e != 0 {
		return 0, callErr("times", e)
	}
	b, be := raw[:], s.tms.be
	*tms = Tms{s.tmsU.int(b, be), s.tmsS.int(b, be), s.tmsCU.int(b, be), s.tmsCS.int(b, be)}
	return int64(r), nil
}
