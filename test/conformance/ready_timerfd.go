package conformance

import (
	"errors"
	"time"

	"github.com/anykernel/anykernel/api"
)

func init() {
	Register(
		Case{Family: "ready", Call: "timerfd_create", Run: testTimerfdCreate},
		Case{Family: "ready", Call: "timerfd_settime", Run: testTimerfdSettime},
		Case{Family: "ready", Call: "timerfd_gettime", Run: testTimerfdGettime},
	)
}

func readyTimerfd(t T, e *Env, clock api.ClockID) *api.Timerfd {
	t.Helper()
	tf, err := e.K.TimerfdCreate(clock, api.TFD_CLOEXEC|api.TFD_NONBLOCK)
	OK(t, err, "timerfd_create")
	t.Cleanup(func() { tf.Close() })
	return tf
}

func testTimerfdCreate(t T, e *Env) {
	k := e.K
	tf, err := k.TimerfdCreate(api.CLOCK_MONOTONIC, api.TFD_CLOEXEC|api.TFD_NONBLOCK)
	OK(t, err, "timerfd_create(CLOCK_MONOTONIC)")
	defer tf.Close()
	True(t, readyCloexec(t, e, tf.Fd()), "TFD_CLOEXEC set")
	_, err = tf.Read()
	Want(t, err, api.EAGAIN, "a disarmed timer has nothing to read")
	its, err := tf.Gettime()
	OK(t, err)
	Eq(t, its, api.Itimerspec{}, "created disarmed")

	rt, err := k.TimerfdCreate(api.CLOCK_REALTIME, 0)
	OK(t, err, "timerfd_create(CLOCK_REALTIME)")
	True(t, !readyCloexec(t, e, rt.Fd()), "no TFD_CLOEXEC without asking")
	OK(t, rt.Close())
	_, err = rt.Gettime()
	Want(t, err, api.EBADF, "gettime after close")

	_, err = k.TimerfdCreate(api.CLOCK_PROCESS_CPUTIME_ID, 0)
	Want(t, err, api.EINVAL, "a CPU-time clock")
	_, err = k.TimerfdCreate(api.ClockID(1234), 0)
	Want(t, err, api.EINVAL, "an unknown clock")
	_, err = k.TimerfdCreate(api.CLOCK_MONOTONIC, api.TFD_TIMER_ABSTIME)
	Want(t, err, api.EINVAL, "a settime flag at create")
	_, err = api.ParseTimerfdFlags("nonblock,abstime")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "abstime", "unknown flag word: %v", err)
}

func testTimerfdSettime(t T, e *Env) {
	tf := readyTimerfd(t, e, api.CLOCK_MONOTONIC)

	// A 10ms one-shot fires once.
	start := time.Now()
	old, err := tf.Settime(0, api.Itimerspec{Value: api.Timespec{Nsec: 10e6}})
	OK(t, err, "timerfd_settime")
	Eq(t, old, api.Itimerspec{}, "was disarmed")
	readyWaitReadable(t, e, tf.Fd(), "timerfd")
	True(t, time.Since(start) >= 8*time.Millisecond, "fired after about 10ms: %v", time.Since(start))
	n, err := tf.Read()
	OK(t, err, "read expirations")
	Eq(t, n, uint64(1), "one expiration")
	_, err = tf.Read()
	Want(t, err, api.EAGAIN, "count reset by the read")

	// A periodic timer counts every period.
	_, err = tf.Settime(0, api.Itimerspec{Value: api.Timespec{Nsec: 2e6}, Interval: api.Timespec{Nsec: 2e6}})
	OK(t, err, "periodic")
	time.Sleep(30 * time.Millisecond)
	n, err = tf.Read()
	OK(t, err)
	True(t, n >= 3, "several expirations in 30ms at 2ms: %d", n)

	// Settime returns the setting it replaces.
	_, err = tf.Settime(0, api.Itimerspec{Value: api.Timespec{Sec: 10}})
	OK(t, err)
	old, err = tf.Settime(0, api.Itimerspec{Value: api.Timespec{Sec: 20}, Interval: api.Timespec{Sec: 1}})
	OK(t, err)
	True(t, old.Value.Sec == 9 || (old.Value.Sec == 10 && old.Value.Nsec == 0), "old setting about 10s left: %v", old.Value)
	Eq(t, old.Interval, api.Timespec{}, "old interval")
	old, err = tf.Settime(0, api.Itimerspec{}) // disarm
	OK(t, err, "disarm")
	Eq(t, old.Interval, api.Timespec{Sec: 1}, "interval reported")
	its, err := tf.Gettime()
	OK(t, err)
	Eq(t, its.Value, api.Timespec{}, "disarmed")

	// TFD_TIMER_ABSTIME: a time already past fires at once. 1ns after
	// boot is past on any kernel (a unikernel's CLOCK_MONOTONIC may not
	// have reached 1s yet).
	_, err = tf.Settime(api.TFD_TIMER_ABSTIME, api.Itimerspec{Value: api.Timespec{Nsec: 1}})
	OK(t, err, "absolute time in the past")
	n, err = tf.Read()
	OK(t, err, "expired at once")
	Eq(t, n, uint64(1))
	// An absolute time far away does not fire, and Gettime shows it as a
	// remaining delay.
	_, err = tf.Settime(api.TFD_TIMER_ABSTIME, api.Itimerspec{Value: api.Timespec{Sec: 1 << 30}})
	OK(t, err, "absolute time in the future")
	_, err = tf.Read()
	Want(t, err, api.EAGAIN, "not yet")
	its, err = tf.Gettime()
	OK(t, err)
	True(t, its.Value.Sec > 1<<29 && its.Value.Sec < 1<<30, "remaining time shown relative: %v", its.Value)

	_, err = tf.Settime(0, api.Itimerspec{Value: api.Timespec{Nsec: 1e9}})
	Want(t, err, api.EINVAL, "nanoseconds out of range")
	_, err = tf.Settime(0, api.Itimerspec{Value: api.Timespec{Sec: -1}})
	Want(t, err, api.EINVAL, "negative time")
	rt := readyTimerfd(t, e, api.CLOCK_REALTIME)
	_, err = rt.Settime(api.TFD_TIMER_ABSTIME|api.TFD_TIMER_CANCEL_ON_SET, api.Itimerspec{Value: api.TimeToTimespec(time.Now().Add(time.Hour))})
	OK(t, err, "CANCEL_ON_SET on a realtime absolute timer")
	_, err = rt.Read()
	Want(t, err, api.EAGAIN, "no expiration, no clock change")
	OK(t, tf.Close())
	_, err = tf.Settime(0, api.Itimerspec{Value: api.Timespec{Sec: 1}})
	Want(t, err, api.EBADF, "closed timer")
}

func testTimerfdGettime(t T, e *Env) {
	tf := readyTimerfd(t, e, api.CLOCK_MONOTONIC)
	_, err := tf.Settime(0, api.Itimerspec{Value: api.Timespec{Sec: 10}, Interval: api.Timespec{Sec: 2, Nsec: 500}})
	OK(t, err)
	its, err := tf.Gettime()
	OK(t, err, "timerfd_gettime")
	Eq(t, its.Interval, api.Timespec{Sec: 2, Nsec: 500}, "interval")
	left := its.Value.Duration()
	True(t, left > 9*time.Second && left <= 10*time.Second, "about 10s left: %v", left)
	time.Sleep(20 * time.Millisecond)
	its2, err := tf.Gettime()
	OK(t, err)
	True(t, its2.Value.Duration() < left, "time passes: %v then %v", left, its2.Value)

	// After a one-shot fired, nothing is left.
	_, err = tf.Settime(0, api.Itimerspec{Value: api.Timespec{Nsec: 1e6}})
	OK(t, err)
	readyWaitReadable(t, e, tf.Fd(), "timerfd")
	its, err = tf.Gettime()
	OK(t, err)
	Eq(t, its, api.Itimerspec{}, "fired one-shot")
	OK(t, tf.Close())
	_, err = tf.Gettime()
	Want(t, err, api.EBADF, "closed timer")
	var nilT *api.Timerfd
	_, err = nilT.Gettime()
	Want(t, err, api.EBADF, "nil timer")
}
