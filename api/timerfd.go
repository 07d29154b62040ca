package api

import "unsafe"

// timerfd: timers that expire into a readable descriptor.

var (
	sysTimerfdCreate  = newCall("timerfd_create")
	sysTimerfdSettime = newCall("timerfd_settime")
	sysTimerfdGettime = newCall("timerfd_gettime")
)

// Timer settings are Itimerspec values (declared with the POSIX timers in
// timer.go): the first expiration (Value; zero disarms) and the period after
// it (Interval; zero for a one-shot). With TFD_TIMER_ABSTIME, Value is a
// time on the timer's clock instead of a delay.

// Timerfd is a timer whose expirations are read from a descriptor.
type Timerfd struct {
	fd *Fd
}

// TimerfdCreate creates a disarmed timer on clock (CLOCK_REALTIME,
// CLOCK_MONOTONIC, CLOCK_BOOTTIME and their _ALARM forms); flags may hold
// TFD_CLOEXEC and TFD_NONBLOCK.
func (k *Kernel) TimerfdCreate(clock ClockID, flags TimerfdFlags) (*Timerfd, error) {
	c, err := k.enumToABI(clockIDFamily, uint64(clock))
	if err != nil {
		return nil, sysErr("timerfd_create", err)
	}
	fl, err := k.flagsToABI(timerfdFlagsFamily, uint64(flags))
	if err != nil {
		return nil, sysErr("timerfd_create", err)
	}
	if k.ready.itsSize == 0 {
		return nil, callErr("timerfd_create", ENOSYS)
	}
	r, err := k.intCall("timerfd_create", sysTimerfdCreate, uintptr(c), uintptr(fl), 0)
	if err != nil {
		return nil, err
	}
	return &Timerfd{k.newFd(r)}, nil
}

func (t *Timerfd) file() *Fd {
	if t == nil {
		return nil
	}
	return t.fd
}

// Fd returns the timer's descriptor (readable once it expired: poll or
// epoll it).
func (t *Timerfd) Fd() *Fd { return t.file() }

// Close disarms and closes the timer.
func (t *Timerfd) Close() error { return t.file().Close() }

// Settime arms (or, with a zero v.Value, disarms) the timer and returns
// the setting it replaces, as Gettime would have shown it. flags may hold
// TFD_TIMER_ABSTIME and TFD_TIMER_CANCEL_ON_SET.
func (t *Timerfd) Settime(flags TimerfdFlags, v Itimerspec) (old Itimerspec, err error) {
	if !v.Value.valid() || !v.Interval.valid() || v.Value.Sec < 0 || v.Interval.Sec < 0 {
		return old, badArg("timerfd_settime", "time out of range")
	}
	f := t.file()
	if f == nil {
		return old, callErr("timerfd_settime", EBADF)
	}
	k := f.k
	fl, err := k.flagsToABI(timerfdFlagsFamily, uint64(flags))
	if err != nil {
		return old, sysErr("timerfd_settime", err)
	}
	s := &k.ready
	var raw, oraw [maxIts]byte
	s.itIntS.put(raw[:], s.be, uint64(v.Interval.Sec))
	s.itIntN.put(raw[:], s.be, uint64(v.Interval.Nsec))
	s.itValS.put(raw[:], s.be, uint64(v.Value.Sec))
	s.itValN.put(raw[:], s.be, uint64(v.Value.Nsec))
	n, e := f.acquire()
	if e != 0 {
		return old, callErr("timerfd_settime", e)
	}
	_, e = k.syscall(sysTimerfdSettime, n, uintptr(fl), uintptr(unsafe.Pointer(&raw)), uintptr(unsafe.Pointer(&oraw)), 0, 0)
	f.release()
	if e != 0 {
		return old, callErr("timerfd_settime", e)
	}
	return s.decodeIts(oraw[:]), nil
}

// Gettime returns the time left to the next expiration (Value, zero when
// disarmed) and the period.
func (t *Timerfd) Gettime() (Itimerspec, error) {
	f := t.file()
	var raw [maxIts]byte
	if _, err := f.fdBufCall("timerfd_gettime", sysTimerfdGettime, unsafe.Pointer(&raw), 0, 0); err != nil {
		return Itimerspec{}, err
	}
	return f.k.ready.decodeIts(raw[:]), nil
}

// Read returns how many times the timer expired since the last Read (or
// Settime), resetting the count. It blocks until the first expiration, or
// fails with EAGAIN under TFD_NONBLOCK; a CANCEL_ON_SET timer whose clock
// was set fails with ECANCELED.
func (t *Timerfd) Read() (uint64, error) {
	return t.file().readU64()
}

func (s *readyState) decodeIts(b []byte) Itimerspec {
	return Itimerspec{
		Interval: Timespec{Sec: s.itIntS.int(b, s.be), Nsec: s.itIntN.int(b, s.be)},
		Value:    Timespec{Sec: s.itValS.int(b, s.be), Nsec: s.itValN.int(b, s.be)},
	}
}
