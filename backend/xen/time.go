//go:build xen

package xen

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// Clocks, sleeps and timers. Clocks are read from the platform (the shim's
// pvclock or TSC, or the host); sleeps and timers run on Go timers.

// Resolutions clock_getres reports: the platform's clocks count
// nanoseconds, the coarse ones a 4ms tick (Linux with HZ=250).
const (
	resFine   = 1
	resCoarse = 4_000_000
)

func (k *kernel) clockGettime(c int64, ts unsafe.Pointer) (uintptr, Errno) {
	if !validClock(c) {
		return 0, EINVAL
	}
	if ts == nil {
		return 0, EFAULT
	}
	s, n := platformClock(c)
	putTimespec(ts, s, n)
	return 0, 0
}

func (k *kernel) clockGetres(c int64, ts unsafe.Pointer) (uintptr, Errno) {
	if !validClock(c) {
		return 0, EINVAL
	}
	if ts != nil {
		r := int64(resFine)
		if c == clockRealtimeCoarse || c == clockMonotonicCoarse {
			r = resCoarse
		}
		putTimespec(ts, 0, r)
	}
	return 0, 0
}

func (k *kernel) clockSettime(c int64, ts unsafe.Pointer) (uintptr, Errno) {
	if !validClock(c) {
		return 0, EINVAL
	}
	if ts == nil {
		return 0, EFAULT
	}
	s, n := getTimespec(ts)
	if s < 0 || n < 0 || n >= 1e9 {
		return 0, EINVAL
	}
	if c != clockRealtime {
		return 0, EINVAL
	}
	// The wall clock is the platform's (Xen's shared_info or the RTC):
	// a guest does not set it.
	return 0, EPERM
}

func tsValid(s, n int64) bool { return s >= 0 && n >= 0 && n < 1e9 }

func (k *kernel) clockNanosleep(c int64, flags uintptr, req, rem unsafe.Pointer) (uintptr, Errno) {
	switch {
	case !validClock(c):
		return 0, EINVAL
	case c == clockThreadCputime:
		return 0, EINVAL
	case c == clockProcessCputime:
		return 0, EOPNOTSUPP
	}
	if req == nil {
		return 0, EFAULT
	}
	s, n := getTimespec(req)
	if !tsValid(s, n) {
		return 0, EINVAL
	}
	d := s*1e9 + n
	if flags&1 == 0 { // not TIMER_ABSTIME
		d += clockNs(c)
	}
	sleepUntil(c, d)
	return 0, 0
}

func (k *kernel) nanosleep(req, rem unsafe.Pointer) (uintptr, Errno) {
	if req == nil {
		return 0, EFAULT
	}
	s, n := getTimespec(req)
	if !tsValid(s, n) {
		return 0, EINVAL
	}
	sleepUntil(clockMonotonic, clockNs(clockMonotonic)+s*1e9+n)
	return 0, 0
}

func (k *kernel) gettimeofday(tv, tz unsafe.Pointer) (uintptr, Errno) {
	s, n := platformClock(clockRealtime)
	if tv != nil {
		o := newOut(tv, "timeval")
		o.put("tv_sec", uint64(s))
		o.put("tv_usec", uint64(n/1000))
	}
	if tz != nil {
		clear(unsafe.Slice((*byte)(tz), 8))
	}
	return 0, 0
}

func (k *kernel) time(t unsafe.Pointer) (uintptr, Errno) {
	s, _ := platformClock(clockRealtime)
	if t != nil {
		*(*int64)(t) = s
	}
	return uintptr(s), 0
}

// ticks are clock_t units: 1/100 s.
const tickNs = 10_000_000

func (k *kernel) times(buf unsafe.Pointer) (uintptr, Errno) {
	if buf != nil {
		cpu := clockNs(clockProcessCputime)
		o := newOut(buf, "tms")
		o.put("tms_utime", uint64(cpu/tickNs))
	}
	return uintptr(clockNs(clockBoottime) / tickNs), 0
}

// ktimer is a timer on a clock: the deadline of its next expiry (0:
// disarmed), its period, and the expirations not yet taken.
type ktimer struct {
	clock    int64
	deadline int64
	interval int64
	count    uint64
	wake     *time.Timer
	fire     func() // called at each expiry (signals); nil for none
}

// expire counts the expirations up to now.
func (t *ktimer) expire(now int64) uint64 {
	if t.deadline == 0 || now < t.deadline {
		return 0
	}
	var n uint64 = 1
	if t.interval > 0 {
		n += uint64((now - t.deadline) / t.interval)
		t.deadline += int64(n) * t.interval
	} else {
		t.deadline = 0
	}
	t.count += n
	return n
}

// get returns the time to the next expiry and the period.
func (t *ktimer) get(now int64) (int64, int64) {
	t.expire(now)
	if t.deadline == 0 {
		return 0, t.interval
	}
	return t.deadline - now, t.interval
}

// set arms (value > 0) or disarms the timer and returns the old setting;
// mu guards t and is held by the caller.
func (t *ktimer) set(k *kernel, mu *sync.Mutex, abs bool, value, interval int64) (int64, int64) {
	now := clockNs(t.clock)
	ov, oi := t.get(now)
	t.interval = interval
	t.count = 0
	if t.wake != nil {
		t.wake.Stop()
		t.wake = nil
	}
	switch {
	case value == 0:
		t.deadline = 0
		t.interval = 0
		return ov, oi
	case abs:
		t.deadline = value
	default:
		t.deadline = now + value
	}
	if t.deadline <= 0 {
		t.deadline = 1
	}
	t.arm(k, mu, now)
	return ov, oi
}

// arm schedules a wake-up for the next expiry: waiters re-check, and a
// timer that signals sends its signal.
func (t *ktimer) arm(k *kernel, mu *sync.Mutex, now int64) {
	if t.deadline == 0 {
		return
	}
	t.wake = time.AfterFunc(time.Duration(t.deadline-now), func() {
		mu.Lock()
		now := clockNs(t.clock)
		n := t.expire(now)
		if t.fire != nil {
			t.count = 0 // a signal carries the expiry; nothing to read
		}
		if t.deadline != 0 {
			t.arm(k, mu, now)
		}
		fire := t.fire
		mu.Unlock()
		if n > 0 && fire != nil {
			fire()
		}
		k.hub.wake()
	})
}

// timerfdFD is a timerfd.
type timerfdFD struct {
	mu  sync.Mutex
	t   ktimer
	fl  atomic.Int64
	ino uint64
}

func (f *timerfdFD) flags() int { return int(f.fl.Load()) }
func (f *timerfdFD) setFlags(fl int) {
	f.fl.Store(int64(memfs.O_RDWR | fl&memfs.StatusFlags))
}
func (f *timerfdFD) stat() memfs.Stat {
	return memfs.Stat{Dev: 0xe, Ino: f.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}
}
func (f *timerfdFD) write(*kernel, []byte, bool) (int, Errno) { return 0, EINVAL }
func (f *timerfdFD) release(*kernel) {
	f.mu.Lock()
	if f.t.wake != nil {
		f.t.wake.Stop()
	}
	f.t.deadline = 0
	f.mu.Unlock()
}

func (f *timerfdFD) poll(*kernel) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t.expire(clockNs(f.t.clock))
	if f.t.count > 0 {
		return pollIn | pollRdnorm
	}
	return 0
}

func (f *timerfdFD) read(k *kernel, b []byte, nonblock bool) (int, Errno) {
	if len(b) < 8 {
		return 0, EINVAL
	}
	nonblock = nonblock || f.flags()&memfs.O_NONBLOCK != 0
	var hw hubWait
	for {
		f.mu.Lock()
		f.t.expire(clockNs(f.t.clock))
		if n := f.t.count; n > 0 {
			f.t.count = 0
			f.mu.Unlock()
			putU64(b, n)
			return 8, 0
		}
		f.mu.Unlock()
		if nonblock {
			return 0, EAGAIN
		}
		hw.wait(k)
	}
}

const (
	tfdTimerAbstime     = 1
	tfdTimerCancelOnSet = 2
	tfdCloexec          = memfs.O_CLOEXEC
	tfdNonblock         = memfs.O_NONBLOCK
)

func (k *kernel) timerfdCreate(c int64, flags uintptr) (uintptr, Errno) {
	switch c {
	case clockRealtime, clockMonotonic, clockBoottime, clockRealtimeAlarm, clockBoottimeAlarm:
	default:
		return 0, EINVAL
	}
	if flags&^(tfdCloexec|tfdNonblock) != 0 {
		return 0, EINVAL
	}
	f := &timerfdFD{t: ktimer{clock: c}, ino: anonIno.Add(1)}
	f.fl.Store(int64(memfs.O_RDWR | int(flags)&tfdNonblock))
	return k.install(f, flags&tfdCloexec != 0, 0)
}

// readIts reads a struct itimerspec: interval and value in nanoseconds.
func readIts(p unsafe.Pointer) (value, interval int64, e Errno) {
	o := view(p, "itimerspec")
	is, in := int64(o.get("it_interval.tv_sec")), int64(o.get("it_interval.tv_nsec"))
	vs, vn := int64(o.get("it_value.tv_sec")), int64(o.get("it_value.tv_nsec"))
	if !tsValid(is, in) || !tsValid(vs, vn) {
		return 0, 0, EINVAL
	}
	return vs*1e9 + vn, is*1e9 + in, 0
}

func writeIts(p unsafe.Pointer, value, interval int64) {
	if p == nil {
		return
	}
	o := newOut(p, "itimerspec")
	o.put("it_interval.tv_sec", uint64(interval/1e9))
	o.put("it_interval.tv_nsec", uint64(interval%1e9))
	o.put("it_value.tv_sec", uint64(value/1e9))
	o.put("it_value.tv_nsec", uint64(value%1e9))
}

func (k *kernel) timerfdSettime(fd uintptr, flags uintptr, nv, ov unsafe.Pointer) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	f, ok := of.f.(*timerfdFD)
	if !ok {
		return 0, EINVAL
	}
	if flags&^(tfdTimerAbstime|tfdTimerCancelOnSet) != 0 {
		return 0, EINVAL
	}
	if nv == nil {
		return 0, EFAULT
	}
	v, i, e := readIts(nv)
	if e != 0 {
		return 0, e
	}
	if flags&tfdTimerCancelOnSet != 0 && (flags&tfdTimerAbstime == 0 || f.t.clock != clockRealtime && f.t.clock != clockRealtimeAlarm) {
		return 0, EINVAL
	}
	f.mu.Lock()
	oldV, oldI := f.t.set(k, &f.mu, flags&tfdTimerAbstime != 0, v, i)
	f.mu.Unlock()
	writeIts(ov, oldV, oldI)
	k.hub.wake()
	return 0, 0
}

func (k *kernel) timerfdGettime(fd uintptr, cur unsafe.Pointer) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	f, ok := of.f.(*timerfdFD)
	if !ok {
		return 0, EINVAL
	}
	if cur == nil {
		return 0, EFAULT
	}
	f.mu.Lock()
	v, i := f.t.get(clockNs(f.t.clock))
	f.mu.Unlock()
	writeIts(cur, v, i)
	return 0, 0
}

// POSIX timers and interval timers.

const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThread   = 2
	sigevThreadID = 4
)

type posixTimer struct {
	t ktimer
}

type timerState struct {
	mu     sync.Mutex
	timers map[int32]*posixTimer
	next   int32
	it     [3]ktimer // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF
}

func (k *kernel) timerCreate(c int64, sev, id unsafe.Pointer) (uintptr, Errno) {
	if !validClock(c) {
		return 0, EINVAL
	}
	if id == nil {
		return 0, EFAULT
	}
	notify, signo, tid, val := int64(sigevSignal), int64(sigAlrm), int32(0), uint64(0)
	if sev != nil {
		o := view(sev, "sigevent")
		notify = int64(int32(o.get("sigev_notify")))
		signo = int64(int32(o.get("sigev_signo")))
		tid = int32(o.get("sigev_notify_thread_id"))
		val = o.get("sigev_value")
	}
	switch notify {
	case sigevNone:
	case sigevSignal, sigevThreadID:
		if signo <= 0 || signo > nsig {
			return 0, EINVAL
		}
		if notify == sigevThreadID && tid <= 0 {
			return 0, EINVAL
		}
	default:
		return 0, EINVAL
	}
	s := &k.timers
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timers == nil {
		s.timers = map[int32]*posixTimer{}
	}
	for s.timers[s.next] != nil {
		s.next++
	}
	n := s.next
	s.next++
	pt := &posixTimer{t: ktimer{clock: c}}
	if notify != sigevNone {
		sig := int(signo)
		pt.t.fire = func() { k.send(tid, sig, siTimer, val) }
	}
	s.timers[n] = pt
	*(*int32)(id) = n
	return 0, 0
}

func (k *kernel) timerSettime(id int32, flags uintptr, nv, ov unsafe.Pointer) (uintptr, Errno) {
	if nv == nil {
		return 0, EFAULT
	}
	v, i, e := readIts(nv)
	if e != 0 {
		return 0, e
	}
	s := &k.timers
	s.mu.Lock()
	pt := s.timers[id]
	if pt == nil {
		s.mu.Unlock()
		return 0, EINVAL
	}
	oldV, oldI := pt.t.set(k, &s.mu, flags&1 != 0, v, i)
	s.mu.Unlock()
	writeIts(ov, oldV, oldI)
	return 0, 0
}

func (k *kernel) timerGettime(id int32, cur unsafe.Pointer) (uintptr, Errno) {
	s := &k.timers
	s.mu.Lock()
	pt := s.timers[id]
	if pt == nil {
		s.mu.Unlock()
		return 0, EINVAL
	}
	v, i := pt.t.get(clockNs(pt.t.clock))
	pt.t.count = 0
	s.mu.Unlock()
	if cur == nil {
		return 0, EFAULT
	}
	writeIts(cur, v, i)
	return 0, 0
}

func (k *kernel) timerGetoverrun(id int32) (uintptr, Errno) {
	s := &k.timers
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timers[id] == nil {
		return 0, EINVAL
	}
	return 0, 0
}

func (k *kernel) timerDelete(id int32) (uintptr, Errno) {
	s := &k.timers
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.timers[id]
	if pt == nil {
		return 0, EINVAL
	}
	if pt.t.wake != nil {
		pt.t.wake.Stop()
	}
	pt.t.deadline = 0
	delete(s.timers, id)
	return 0, 0
}

var itimerSignals = [3]int{sigAlrm, 26 /* SIGVTALRM */, 27 /* SIGPROF */}

// readItv reads a struct itimerval in nanoseconds.
func readItv(p unsafe.Pointer) (value, interval int64, e Errno) {
	o := view(p, "itimerval")
	is, iu := int64(o.get("it_interval.tv_sec")), int64(o.get("it_interval.tv_usec"))
	vs, vu := int64(o.get("it_value.tv_sec")), int64(o.get("it_value.tv_usec"))
	if is < 0 || vs < 0 || iu < 0 || iu >= 1e6 || vu < 0 || vu >= 1e6 {
		return 0, 0, EINVAL
	}
	return vs*1e9 + vu*1e3, is*1e9 + iu*1e3, 0
}

func writeItv(p unsafe.Pointer, value, interval int64) {
	if p == nil {
		return
	}
	// Round up to a microsecond, as Linux does, so an armed timer never
	// reads as disarmed.
	value = (value + 999) / 1000 * 1000
	o := newOut(p, "itimerval")
	o.put("it_interval.tv_sec", uint64(interval/1e9))
	o.put("it_interval.tv_usec", uint64(interval%1e9/1000))
	o.put("it_value.tv_sec", uint64(value/1e9))
	o.put("it_value.tv_usec", uint64(value%1e9/1000))
}

// itimerClock is the clock an interval timer counts: ITIMER_REAL counts
// real time, the other two the process's CPU time.
func itimerClock(which uintptr) int64 {
	if which == 0 {
		return clockMonotonic
	}
	return clockProcessCputime
}

func (k *kernel) getitimer(which uintptr, cur unsafe.Pointer) (uintptr, Errno) {
	if which > 2 {
		return 0, EINVAL
	}
	if cur == nil {
		return 0, EFAULT
	}
	s := &k.timers
	s.mu.Lock()
	t := &s.it[which]
	t.clock = itimerClock(which)
	v, i := t.get(clockNs(t.clock))
	s.mu.Unlock()
	writeItv(cur, v, i)
	return 0, 0
}

func (k *kernel) setitimer(which uintptr, nv, ov unsafe.Pointer) (uintptr, Errno) {
	if which > 2 {
		return 0, EINVAL
	}
	var v, i int64
	if nv != nil {
		var e Errno
		if v, i, e = readItv(nv); e != 0 {
			return 0, e
		}
	}
	s := &k.timers
	s.mu.Lock()
	t := &s.it[which]
	t.clock = itimerClock(which)
	sig := itimerSignals[which]
	t.fire = func() { k.send(0, sig, siUser, 0) }
	oldV, oldI := t.set(k, &s.mu, false, v, i)
	s.mu.Unlock()
	writeItv(ov, oldV, oldI)
	return 0, 0
}
