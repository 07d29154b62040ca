package conformance

import (
	"errors"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/anykernel/anykernel/api"
)

// The time family's clocks and sleeps.

func init() {
	Register(
		Case{Family: "time", Call: "clock_gettime", Run: testClockGettime},
		Case{Family: "time", Call: "clock_getres", Run: testClockGetres},
		Case{Family: "time", Call: "clock_settime", Run: testClockSettime},
		Case{Family: "time", Call: "clock_nanosleep", Run: testClockNanosleep},
		Case{Family: "time", Call: "nanosleep", Run: testNanosleep},
		Case{Family: "time", Call: "gettimeofday", Run: testGettimeofday},
		Case{Family: "time", Call: "time", Run: testTime},
		Case{Family: "time", Call: "times", Run: testTimes},
	)
}

// near fails unless got is within tol of want.
func near(t T, got, want, tol time.Duration, what string) {
	t.Helper()
	d := got - want
	if d < 0 {
		d = -d
	}
	if d > tol {
		t.Fatalf("%s: %v is %v from %v (tolerance %v)", what, got, d, want, tol)
	}
}

func testClockGettime(t T, e *Env) {
	k := e.K
	var ts api.Timespec

	// CLOCK_REALTIME agrees with Go's clock (the host's, for a native
	// kernel; a rump kernel starts its clock from the host's too).
	OK(t, k.ClockGettime(api.CLOCK_REALTIME, &ts), "CLOCK_REALTIME")
	True(t, ts.Nsec >= 0 && ts.Nsec < 1e9, "nanoseconds in range: %v", ts)
	near(t, time.Duration(ts.Nano()), time.Duration(time.Now().UnixNano()), time.Second, "CLOCK_REALTIME vs time.Now")
	now, err := k.Now()
	OK(t, err, "Now")
	near(t, time.Duration(now.UnixNano()), time.Duration(time.Now().UnixNano()), time.Second, "Now vs time.Now")

	// The fast path and the syscall agree: the syscall's reading lies
	// between two fast readings (with a little slack for clock_gettime's
	// own rounding).
	for _, c := range []api.ClockID{api.CLOCK_REALTIME, api.CLOCK_MONOTONIC} {
		var a, s, b api.Timespec
		OK(t, k.ClockGettime(c, &a))
		OK(t, k.ClockGettimeSyscall(c, &s), "%v through the syscall", c)
		OK(t, k.ClockGettime(c, &b))
		slack := int64(2 * time.Millisecond)
		True(t, s.Nano() >= a.Nano()-slack && s.Nano() <= b.Nano()+slack,
			"%v: syscall %v not between fast readings %v and %v", c, s, a, b)
	}

	// CLOCK_MONOTONIC never goes backwards, whichever path reads it.
	var prev api.Timespec
	for i := 0; i < 2000; i++ {
		var cur api.Timespec
		if i%10 == 0 {
			OK(t, k.ClockGettimeSyscall(api.CLOCK_MONOTONIC, &cur))
		} else {
			OK(t, k.ClockGettime(api.CLOCK_MONOTONIC, &cur))
		}
		if cur.Nano() < prev.Nano() {
			t.Fatalf("CLOCK_MONOTONIC went back from %v to %v at read %d", prev, cur, i)
		}
		prev = cur
	}

	// Clocks only the syscall serves.
	var boot, mono, cpu api.Timespec
	OK(t, k.ClockGettime(api.CLOCK_MONOTONIC, &mono))
	OK(t, k.ClockGettime(api.CLOCK_BOOTTIME, &boot), "CLOCK_BOOTTIME")
	True(t, boot.Nano() >= mono.Nano()-int64(time.Millisecond), "CLOCK_BOOTTIME %v >= CLOCK_MONOTONIC %v", boot, mono)
	OK(t, k.ClockGettime(api.CLOCK_PROCESS_CPUTIME_ID, &cpu), "CLOCK_PROCESS_CPUTIME_ID")
	True(t, cpu.Nano() > 0, "the process used CPU time: %v", cpu)

	// The fast path does not allocate.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.Mallocs
	for i := 0; i < 1000; i++ {
		k.ClockGettime(api.CLOCK_MONOTONIC, &ts)
		k.ClockGettime(api.CLOCK_REALTIME, &ts)
	}
	runtime.ReadMemStats(&ms)
	True(t, ms.Mallocs-before < 50, "2000 clock reads allocated %d times", ms.Mallocs-before)

	// Bad input.
	Want(t, k.ClockGettime(api.ClockID(99), &ts), api.EINVAL, "unknown clock")
	Want(t, k.ClockGettime(api.CLOCK_MONOTONIC, nil), api.EINVAL, "nil Timespec")
	c, err := api.ParseClockID("monotonic")
	OK(t, err)
	Eq(t, c, api.CLOCK_MONOTONIC)
	Eq(t, c.String(), "CLOCK_MONOTONIC")
	_, err = api.ParseClockID("bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown word: %v", err)
}

func testClockGetres(t T, e *Env) {
	k := e.K
	mono, err := k.ClockGetres(api.CLOCK_MONOTONIC)
	OK(t, err, "CLOCK_MONOTONIC")
	if k.ABI().OS == "linux" {
		True(t, mono.Nano() > 0 && mono.Nano() <= int64(time.Millisecond), "high-resolution clock: %v", mono)
	} else {
		// NetBSD reports its clock tick, 1/HZ with HZ >= 100 (a rump
		// kernel's HZ is 100).
		True(t, mono.Nano() > 0 && mono.Nano() <= int64(10*time.Millisecond), "clock resolution of at most a tick: %v", mono)
	}
	rt, err := k.ClockGetres(api.CLOCK_REALTIME)
	OK(t, err, "CLOCK_REALTIME")
	Eq(t, rt, mono, "REALTIME and MONOTONIC share their resolution")
	// The coarse clocks are Linux's.
	if coarse, err := k.ClockGetres(api.CLOCK_MONOTONIC_COARSE); !errors.Is(err, api.ENOSYS) {
		OK(t, err, "CLOCK_MONOTONIC_COARSE")
		True(t, coarse.Nano() > mono.Nano() && coarse.Nano() <= int64(100*time.Millisecond),
			"coarse resolution %v is a tick, coarser than %v", coarse, mono)
	}
	_, err = k.ClockGetres(api.ClockID(99))
	Want(t, err, api.EINVAL, "unknown clock")
}

func testClockSettime(t T, e *Env) {
	k := e.K
	var now api.Timespec
	OK(t, k.ClockGettime(api.CLOCK_MONOTONIC, &now))
	// Never changes a clock: every call here must fail.
	Want(t, k.ClockSettime(api.CLOCK_MONOTONIC, now), api.EINVAL, "CLOCK_MONOTONIC cannot be set")
	Want(t, k.ClockSettime(api.CLOCK_REALTIME, api.Timespec{Sec: 1, Nsec: 1e9}), api.EINVAL, "nanoseconds out of range")
	Want(t, k.ClockSettime(api.ClockID(99), now), api.EINVAL, "unknown clock")
	if !IsRoot() {
		OK(t, k.ClockGettime(api.CLOCK_REALTIME, &now))
		Want(t, k.ClockSettime(api.CLOCK_REALTIME, now), api.EPERM, "CLOCK_REALTIME without privilege")
		return
	}
	if hostProc(e) {
		withoutSysTime(t, func() {
			OK(t, k.ClockGettime(api.CLOCK_REALTIME, &now))
			Want(t, k.ClockSettime(api.CLOCK_REALTIME, now), api.EPERM, "CLOCK_REALTIME without CAP_SYS_TIME")
		})
	}
}

// withoutSysTime runs f on a thread whose effective capabilities lack
// CAP_SYS_TIME, so that root can see the unprivileged answer of the clock
// calls without any risk of setting the clock. Capabilities are per thread
// in Linux: the goroutine stays on its thread, and if restoring fails it
// exits still locked, which ends the thread.
func withoutSysTime(t T, f func()) {
	t.Helper()
	runtime.LockOSThread()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var saved [2]unix.CapUserData
	OK(t, unix.Capget(&hdr, &saved[0]), "capget")
	const bit = 1 << unix.CAP_SYS_TIME
	if saved[0].Effective&bit == 0 {
		runtime.UnlockOSThread()
		f()
		return
	}
	dropped := saved
	dropped[0].Effective &^= bit
	OK(t, unix.Capset(&hdr, &dropped[0]), "capset without CAP_SYS_TIME")
	var check [2]unix.CapUserData
	OK(t, unix.Capget(&hdr, &check[0]), "capget")
	restored := false
	defer func() {
		if restored {
			runtime.UnlockOSThread()
		}
	}()
	if check[0].Effective&bit != 0 {
		t.Fatalf("CAP_SYS_TIME still effective after capset")
	}
	func() {
		defer func() {
			restored = unix.Capset(&hdr, &saved[0]) == nil
		}()
		f()
	}()
	True(t, restored, "capabilities restored")
}

// sleepInterrupted checks that sleep, run on its own thread, returns EINTR
// and the time left when a signal handler interrupts it. The signal is
// SIGURG, which the Go runtime receives all the time for preemption and
// ignores when it did not ask for it.
func sleepInterrupted(t T, e *Env, sleep func(req api.Timespec) (api.Timespec, error)) {
	t.Helper()
	if !hostProc(e) {
		return
	}
	type result struct {
		rem api.Timespec
		err error
	}
	tid := make(chan int, 1)
	done := make(chan result, 1)
	req := api.DurationToTimespec(800 * time.Millisecond)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		rem, err := sleep(req)
		done <- result{rem, err}
	}()
	id := <-tid
	pid := unix.Getpid()
	var r result
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case r = <-done:
			break wait
		case <-tick.C:
			unix.Tgkill(pid, id, unix.SIGURG)
		}
	}
	Want(t, r.err, api.EINTR, "sleep interrupted by a signal")
	// The kernel counts the time left to the sleep's latest wake-up, which
	// includes the thread's timer slack (50µs by default): a sleep
	// interrupted at once may report a little more than it was asked.
	True(t, r.rem.Nano() > 0 && r.rem.Nano() < req.Nano()+int64(time.Millisecond), "time left %v within (0, %v]", r.rem, req)
}

func testClockNanosleep(t T, e *Env) {
	k := e.K
	// Relative: at least the time asked for passes.
	start := time.Now()
	req := api.DurationToTimespec(20 * time.Millisecond)
	for {
		rem, err := k.ClockNanosleep(api.CLOCK_MONOTONIC, 0, req)
		if errors.Is(err, api.EINTR) {
			req = rem
			continue
		}
		OK(t, err, "relative sleep")
		Eq(t, rem, api.Timespec{}, "no time left")
		break
	}
	True(t, time.Since(start) >= 20*time.Millisecond, "slept %v, want >= 20ms", time.Since(start))

	// Absolute: sleeps until the clock reads the deadline.
	var now api.Timespec
	OK(t, k.ClockGettime(api.CLOCK_MONOTONIC, &now))
	deadline := api.NsecToTimespec(now.Nano() + int64(20*time.Millisecond))
	for {
		_, err := k.ClockNanosleep(api.CLOCK_MONOTONIC, api.TIMER_ABSTIME, deadline)
		if errors.Is(err, api.EINTR) {
			continue
		}
		OK(t, err, "absolute sleep")
		break
	}
	OK(t, k.ClockGettime(api.CLOCK_MONOTONIC, &now))
	True(t, now.Nano() >= deadline.Nano(), "woke at %v, before the deadline %v", now, deadline)
	// A deadline in the past returns at once (1ns after boot: a
	// unikernel's CLOCK_MONOTONIC may not have reached 1s yet).
	start = time.Now()
	_, err := k.ClockNanosleep(api.CLOCK_MONOTONIC, api.TIMER_ABSTIME, api.Timespec{Nsec: 1})
	OK(t, err, "deadline in the past")
	True(t, time.Since(start) < 100*time.Millisecond, "returned at once")
	// CLOCK_REALTIME works too.
	_, err = k.ClockNanosleep(api.CLOCK_REALTIME, 0, api.Timespec{Nsec: 1000})
	if !errors.Is(err, api.EINTR) {
		OK(t, err, "CLOCK_REALTIME")
	}

	sleepInterrupted(t, e, func(req api.Timespec) (api.Timespec, error) {
		return k.ClockNanosleep(api.CLOCK_MONOTONIC, 0, req)
	})

	_, err = k.ClockNanosleep(api.CLOCK_MONOTONIC, 0, api.Timespec{Nsec: 1e9})
	Want(t, err, api.EINVAL, "nanoseconds out of range")
	_, err = k.ClockNanosleep(api.CLOCK_MONOTONIC, 0, api.Timespec{Nsec: -1})
	Want(t, err, api.EINVAL, "negative nanoseconds")
	// Kernels differ here: EINVAL or EOPNOTSUPP.
	_, err = k.ClockNanosleep(api.CLOCK_THREAD_CPUTIME_ID, 0, api.Timespec{Nsec: 1000})
	True(t, errors.Is(err, api.EINVAL) || errors.Is(err, api.ENOTSUP), "sleeping on the thread's CPU clock: %v", err)
	_, err = k.ClockNanosleep(api.ClockID(99), 0, api.Timespec{Nsec: 1000})
	Want(t, err, api.EINVAL, "unknown clock")
	fl, err := api.ParseTimerFlags("abstime")
	OK(t, err)
	Eq(t, fl, api.TIMER_ABSTIME)
}

func testNanosleep(t T, e *Env) {
	k := e.K
	start := time.Now()
	req := api.DurationToTimespec(10 * time.Millisecond)
	for {
		rem, err := k.Nanosleep(req)
		if errors.Is(err, api.EINTR) {
			req = rem
			continue
		}
		OK(t, err, "nanosleep")
		break
	}
	True(t, time.Since(start) >= 10*time.Millisecond, "slept %v, want >= 10ms", time.Since(start))
	sleepInterrupted(t, e, k.Nanosleep)
	_, err := k.Nanosleep(api.Timespec{Nsec: 1e9})
	Want(t, err, api.EINVAL, "nanoseconds out of range")
	_, err = k.Nanosleep(api.Timespec{Sec: -1})
	Want(t, err, api.EINVAL, "negative seconds")
}

func testGettimeofday(t T, e *Env) {
	k := e.K
	before := time.Now().Truncate(time.Microsecond)
	tv, err := k.Gettimeofday()
	OK(t, err, "gettimeofday")
	after := time.Now()
	True(t, tv.Usec >= 0 && tv.Usec < 1e6, "microseconds in range: %v", tv)
	got := tv.Time()
	// A clock that advances by ticks (NetBSD's; a rump kernel's ticks 100
	// times a second, counting its first tick at boot and late when its
	// clock thread is) is within two ticks of the host's: the slack grows
	// by twice the kernel's resolution, a nanosecond on Linux.
	slack := time.Millisecond
	if res, err := k.ClockGetres(api.CLOCK_REALTIME); err == nil && res.Nano() > 0 {
		slack += 2 * time.Duration(res.Nano())
	}
	True(t, !got.Before(before.Add(-slack)) && !got.After(after.Add(slack)),
		"gettimeofday %v not between %v and %v (resolution %v)", got, before, after, slack)
}

func testTime(t T, e *Env) {
	k := e.K
	before := time.Now().Unix()
	s, err := k.Time()
	OK(t, err, "time")
	after := time.Now().Unix()
	True(t, s >= before-1 && s <= after+1, "time %d not between %d and %d", s, before, after)
}

func testTimes(t T, e *Env) {
	k := e.K
	var a, b api.Tms
	t0, err := k.Times(&a)
	OK(t, err, "times")
	True(t, a.Utime >= 0 && a.Stime >= 0 && a.Cutime >= 0 && a.Cstime >= 0, "non-negative: %+v", a)
	// Burn 50ms of CPU (or give up after 800ms of a busy machine): the
	// process's CPU time must grow by some ticks (1/100 s).
	start := time.Now()
	var c0, c api.Timespec
	OK(t, k.ClockGettime(api.CLOCK_PROCESS_CPUTIME_ID, &c0))
	x := 0
	for c.Nano()-c0.Nano() < int64(50*time.Millisecond) && time.Since(start) < 800*time.Millisecond {
		for i := 0; i < 10000; i++ {
			x += i * x
		}
		OK(t, k.ClockGettime(api.CLOCK_PROCESS_CPUTIME_ID, &c))
	}
	runtime.KeepAlive(x)
	t1, err := k.Times(&b)
	elapsed := time.Since(start)
	OK(t, err)
	True(t, b.Utime+b.Stime > a.Utime+a.Stime, "CPU time grew: %+v then %+v", a, b)
	True(t, b.Utime >= a.Utime && b.Stime >= a.Stime, "CPU time never shrinks: %+v then %+v", a, b)
	ticks := int64(elapsed / (10 * time.Millisecond))
	True(t, t1-t0 >= ticks-2 && t1-t0 <= ticks+2, "%d ticks elapsed over %v", t1-t0, elapsed)
	_, err = k.Times(nil)
	Want(t, err, api.EINVAL, "nil Tms")
}
