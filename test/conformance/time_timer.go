package conformance

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
)

// POSIX timers and interval timers. Every timer here notifies with
// SIGEV_NONE and is read with timer_gettime, so no signal ever reaches the
// Go runtime; the interval timer is armed for an hour of CPU time, which a
// case never uses, and disarmed at once.

func init() {
	Register(
		Case{Family: "time", Call: "timer_create", Run: testTimerCreate},
		Case{Family: "time", Call: "timer_settime", Run: testTimerSettime},
		Case{Family: "time", Call: "timer_gettime", Run: testTimerGettime},
		Case{Family: "time", Call: "timer_getoverrun", Run: testTimerGetoverrun},
		Case{Family: "time", Call: "timer_delete", Run: testTimerDelete},
		Case{Family: "time", Call: "getitimer", Run: testGetitimer},
		Case{Family: "time", Call: "setitimer", Run: testSetitimer},
	)
}

// newTimer creates a SIGEV_NONE timer on CLOCK_MONOTONIC, deleted at the
// end of the case.
func newTimer(t T, e *Env) *api.Timer {
	t.Helper()
	tm, err := e.K.TimerCreate(api.CLOCK_MONOTONIC, nil)
	OK(t, err, "timer_create")
	t.Cleanup(func() { tm.Delete() })
	return tm
}

// procTimers returns the ids /proc/self/timers lists, or nil when the
// kernel does not show them.
func procTimers() map[int]string {
	data, err := os.ReadFile("/proc/self/timers")
	if err != nil {
		return nil
	}
	out := map[int]string{}
	id := -1
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "ID:":
			id, _ = strconv.Atoi(f[1])
			out[id] = ""
		case "notify:":
			if id >= 0 {
				out[id] = f[1]
			}
		}
	}
	return out
}

func testTimerCreate(t T, e *Env) {
	k := e.K
	tm, err := k.TimerCreate(api.CLOCK_MONOTONIC, nil)
	OK(t, err, "timer_create with SIGEV_NONE")
	defer tm.Delete()
	True(t, tm.ID() >= 0, "timer id %d", tm.ID())
	tm2, err := k.TimerCreate(api.CLOCK_REALTIME, &api.Sigevent{Notify: api.SIGEV_NONE, Value: 7})
	OK(t, err, "timer_create on CLOCK_REALTIME")
	defer tm2.Delete()
	True(t, tm2.ID() != tm.ID(), "distinct ids %d, %d", tm.ID(), tm2.ID())
	tm3, err := k.TimerCreate(api.CLOCK_PROCESS_CPUTIME_ID, nil)
	OK(t, err, "timer_create on CLOCK_PROCESS_CPUTIME_ID")
	OK(t, tm3.Delete())

	// The kernel sees them, with the notification asked for.
	if hostProc(e) {
		if pt := procTimers(); pt != nil {
			n, ok := pt[tm.ID()]
			True(t, ok, "timer %d in /proc/self/timers %v", tm.ID(), pt)
			True(t, strings.HasPrefix(n, "none"), "notify %q is none", n)
		}
	}

	// A timer nobody references is deleted by the garbage collector.
	if hostProc(e) && procTimers() != nil {
		lost, err := k.TimerCreate(api.CLOCK_MONOTONIC, nil)
		OK(t, err)
		id := lost.ID()
		lost = nil
		gone := false
		for i := 0; i < 100 && !gone; i++ {
			runtime.GC()
			time.Sleep(5 * time.Millisecond)
			_, present := procTimers()[id]
			gone = !present
		}
		True(t, gone, "unreachable timer %d deleted", id)
	}

	// The kernel refuses bad requests; none of them creates a timer or
	// could send a signal.
	_, err = k.TimerCreate(api.ClockID(99), nil)
	Want(t, err, api.EINVAL, "unknown clock")
	_, err = k.TimerCreate(api.CLOCK_MONOTONIC, &api.Sigevent{Notify: api.SigevNotify(2)})
	Want(t, err, api.EINVAL, "SIGEV_THREAD is not the kernel's")
	_, err = k.TimerCreate(api.CLOCK_MONOTONIC, &api.Sigevent{Notify: api.SigevNotify(99)})
	Want(t, err, api.EINVAL, "unknown notification")
	_, err = k.TimerCreate(api.CLOCK_MONOTONIC, &api.Sigevent{Notify: api.SIGEV_SIGNAL, Signo: 0})
	Want(t, err, api.EINVAL, "signal 0")
	n, err := api.ParseSigevNotify("none")
	OK(t, err)
	Eq(t, n, api.SIGEV_NONE)
	_, err = api.ParseSigevNotify("bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown word: %v", err)
}

func testTimerSettime(t T, e *Env) {
	k := e.K
	tm := newTimer(t, e)
	v := api.Itimerspec{Value: api.DurationToTimespec(500 * time.Millisecond), Interval: api.DurationToTimespec(250 * time.Millisecond)}
	old, err := tm.Settime(0, v)
	OK(t, err, "arm")
	Eq(t, old, api.Itimerspec{}, "a new timer was disarmed")
	old, err = tm.Settime(0, api.Itimerspec{Value: api.DurationToTimespec(time.Second)})
	OK(t, err, "re-arm")
	Eq(t, old.Interval, v.Interval, "previous interval")
	True(t, old.Value.Nano() > 0 && old.Value.Nano() <= v.Value.Nano(), "previous time left %v", old.Value)
	cur, err := tm.Gettime()
	OK(t, err)
	Eq(t, cur.Interval, api.Timespec{}, "one-shot now")
	True(t, cur.Value.Nano() > int64(500*time.Millisecond), "about a second left: %v", cur.Value)

	// An absolute expiry on the timer's clock.
	var now api.Timespec
	OK(t, k.ClockGettime(api.CLOCK_MONOTONIC, &now))
	at := api.NsecToTimespec(now.Nano() + int64(300*time.Millisecond))
	_, err = tm.Settime(api.TIMER_ABSTIME, api.Itimerspec{Value: at})
	OK(t, err, "arm TIMER_ABSTIME")
	cur, err = tm.Gettime()
	OK(t, err)
	True(t, cur.Value.Nano() > int64(200*time.Millisecond) && cur.Value.Nano() <= int64(300*time.Millisecond),
		"absolute expiry 300ms ahead reads as %v left", cur.Value)

	// A zero value disarms. Linux reports the time left of a disarmed
	// SIGEV_NONE timer from its last expiry date, even a stale one, so the
	// check arms a fast periodic timer whose last expiry is past at once.
	ms := api.DurationToTimespec(time.Millisecond)
	_, err = tm.Settime(0, api.Itimerspec{Value: ms, Interval: ms})
	OK(t, err, "arm periodic")
	_, err = tm.Settime(0, api.Itimerspec{})
	OK(t, err, "disarm")
	time.Sleep(3 * time.Millisecond)
	cur, err = tm.Gettime()
	OK(t, err)
	Eq(t, cur, api.Itimerspec{}, "disarmed: no interval, no expiry")

	_, err = tm.Settime(0, api.Itimerspec{Value: api.Timespec{Nsec: 1e9}})
	Want(t, err, api.EINVAL, "nanoseconds out of range")
	_, err = tm.Settime(0, api.Itimerspec{Value: api.Timespec{Sec: -1}})
	Want(t, err, api.EINVAL, "negative seconds")
	_, err = tm.Settime(api.TimerFlags(0x100), api.Itimerspec{})
	OK(t, err, "unknown flag bits are ignored by Linux")
}

func testTimerGettime(t T, e *Env) {
	tm := newTimer(t, e)
	cur, err := tm.Gettime()
	OK(t, err, "gettime of a disarmed timer")
	Eq(t, cur, api.Itimerspec{})
	iv := api.DurationToTimespec(time.Hour)
	_, err = tm.Settime(0, api.Itimerspec{Value: api.DurationToTimespec(500 * time.Millisecond), Interval: iv})
	OK(t, err)
	a, err := tm.Gettime()
	OK(t, err)
	time.Sleep(20 * time.Millisecond)
	b, err := tm.Gettime()
	OK(t, err)
	Eq(t, a.Interval, iv, "interval")
	True(t, a.Value.Nano() <= int64(500*time.Millisecond) && a.Value.Nano() > int64(400*time.Millisecond), "first reading %v", a.Value)
	True(t, b.Value.Nano() < a.Value.Nano()-int64(15*time.Millisecond), "counts down: %v then %v", a.Value, b.Value)
	True(t, b.Value.Nano() > 0, "not expired yet: %v", b.Value)

	// A one-shot timer that expired reads as disarmed.
	_, err = tm.Settime(0, api.Itimerspec{Value: api.Timespec{Nsec: 1000}})
	OK(t, err)
	time.Sleep(2 * time.Millisecond)
	c, err := tm.Gettime()
	OK(t, err)
	Eq(t, c, api.Itimerspec{}, "expired one-shot timer")
}

func testTimerGetoverrun(t T, e *Env) {
	tm := newTimer(t, e)
	n, err := tm.Getoverrun()
	OK(t, err, "getoverrun")
	Eq(t, n, 0, "overrun of a fresh timer")
	// A fast periodic timer expires many times, but without a signal
	// nothing was ever lost: the overrun count stays 0.
	ms := api.DurationToTimespec(time.Millisecond)
	_, err = tm.Settime(0, api.Itimerspec{Value: ms, Interval: ms})
	OK(t, err)
	time.Sleep(20 * time.Millisecond)
	cur, err := tm.Gettime()
	OK(t, err)
	True(t, cur.Value.Nano() > 0 && cur.Value.Nano() <= ms.Nano(), "periodic timer keeps running: %v", cur.Value)
	n, err = tm.Getoverrun()
	OK(t, err)
	Eq(t, n, 0, "overrun of a SIGEV_NONE timer")
	OK(t, tm.Delete())
	_, err = tm.Getoverrun()
	Want(t, err, api.EINVAL, "getoverrun after delete")
}

func testTimerDelete(t T, e *Env) {
	k := e.K
	tm, err := k.TimerCreate(api.CLOCK_MONOTONIC, nil)
	OK(t, err)
	id := tm.ID()
	_, err = tm.Settime(0, api.Itimerspec{Value: api.DurationToTimespec(time.Second)})
	OK(t, err)
	OK(t, tm.Delete(), "delete an armed timer")
	Eq(t, tm.ID(), -1, "ID after delete")
	OK(t, tm.Delete(), "second delete is a no-op")
	_, err = tm.Gettime()
	Want(t, err, api.EINVAL, "gettime after delete")
	_, err = tm.Settime(0, api.Itimerspec{})
	Want(t, err, api.EINVAL, "settime after delete")
	if hostProc(e) {
		if pt := procTimers(); pt != nil {
			_, present := pt[id]
			True(t, !present, "timer %d gone from /proc/self/timers", id)
		}
	}
	var nilTimer *api.Timer
	_, err = nilTimer.Gettime()
	Want(t, err, api.EINVAL, "nil Timer")
	Want(t, nilTimer.Delete(), api.EINVAL, "delete of a nil Timer")
}

func testGetitimer(t T, e *Env) {
	k := e.K
	// Nothing in a test process arms ITIMER_VIRTUAL.
	v, err := k.Getitimer(api.ITIMER_VIRTUAL)
	OK(t, err, "getitimer ITIMER_VIRTUAL")
	Eq(t, v, api.Itimerval{}, "ITIMER_VIRTUAL is disarmed")
	_, err = k.Getitimer(api.ITIMER_REAL)
	OK(t, err, "getitimer ITIMER_REAL")
	_, err = k.Getitimer(api.ITIMER_PROF)
	OK(t, err, "getitimer ITIMER_PROF")

	// Armed for an hour of user CPU time, it reads back.
	hour := api.Itimerval{Value: api.Timeval{Sec: 3600}, Interval: api.Timeval{Sec: 1800}}
	_, err = k.Setitimer(api.ITIMER_VIRTUAL, hour)
	OK(t, err, "setitimer")
	got, err := k.Getitimer(api.ITIMER_VIRTUAL)
	_, derr := k.Setitimer(api.ITIMER_VIRTUAL, api.Itimerval{})
	OK(t, err, "getitimer of the armed timer")
	OK(t, derr, "disarm")
	Eq(t, got.Interval, hour.Interval, "interval")
	// CPU-time timers round to the kernel's tick, up as well as down.
	True(t, got.Value.Duration() > 3590*time.Second && got.Value.Duration() <= time.Hour+time.Second, "time left %v", got.Value)

	_, err = k.Getitimer(api.ItimerWhich(99))
	Want(t, err, api.EINVAL, "unknown timer")
	Eq(t, api.ITIMER_PROF.String(), "ITIMER_PROF")
}

func testSetitimer(t T, e *Env) {
	k := e.K
	hour := api.Itimerval{Value: api.Timeval{Sec: 3600, Usec: 500}}
	old, err := k.Setitimer(api.ITIMER_VIRTUAL, hour)
	OK(t, err, "setitimer ITIMER_VIRTUAL")
	defer k.Setitimer(api.ITIMER_VIRTUAL, api.Itimerval{})
	Eq(t, old, api.Itimerval{}, "previously disarmed")
	old, err = k.Setitimer(api.ITIMER_VIRTUAL, api.Itimerval{})
	OK(t, err, "disarm")
	True(t, old.Value.Duration() > 3590*time.Second, "previous setting returned: %v", old.Value)
	Eq(t, old.Interval, api.Timeval{}, "one-shot")
	got, err := k.Getitimer(api.ITIMER_VIRTUAL)
	OK(t, err)
	Eq(t, got, api.Itimerval{}, "disarmed")

	_, err = k.Setitimer(api.ITIMER_VIRTUAL, api.Itimerval{Value: api.Timeval{Usec: 1e6}})
	Want(t, err, api.EINVAL, "microseconds out of range")
	_, err = k.Setitimer(api.ItimerWhich(99), api.Itimerval{})
	Want(t, err, api.EINVAL, "unknown timer")
}
