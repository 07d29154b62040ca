package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

func init() {
	Register(
		Case{Family: "ready", Call: "epoll_create1", Run: testEpollCreate1},
		Case{Family: "ready", Call: "epoll_create", Run: testEpollCreate},
		Case{Family: "ready", Call: "epoll_ctl", Run: testEpollCtl},
		Case{Family: "ready", Call: "epoll_wait", Run: testEpollWait},
		Case{Family: "ready", Call: "epoll_pwait", Run: testEpollPwait},
		Case{Family: "ready", Call: "epoll_pwait2", Run: testEpollPwait2},
	)
}

func readyEpoll(t T, e *Env) *api.Epoll {
	t.Helper()
	ep, err := e.K.EpollCreate1(api.EPOLL_CLOEXEC)
	OK(t, err, "epoll_create1")
	t.Cleanup(func() { ep.Close() })
	return ep
}

func testEpollCreate1(t T, e *Env) {
	ep, err := e.K.EpollCreate1(api.EPOLL_CLOEXEC)
	OK(t, err, "epoll_create1(EPOLL_CLOEXEC)")
	True(t, ep.Fd() != nil && ep.Fd().Num() >= 0, "a descriptor")
	True(t, readyCloexec(t, e, ep.Fd()), "EPOLL_CLOEXEC set")
	OK(t, ep.Close(), "close")
	OK(t, ep.Close(), "second close is a no-op")
	Eq(t, ep.Fd().Num(), -1, "closed")
	_, err = readyRetry(func() (int, error) { return ep.WaitInto(make([]api.EpollEvent, 1), 0) })
	Want(t, err, api.EBADF, "wait on a closed epoll")

	ep2, err := e.K.EpollCreate1(0)
	OK(t, err, "epoll_create1(0)")
	defer ep2.Close()
	True(t, !readyCloexec(t, e, ep2.Fd()), "no EPOLL_CLOEXEC without asking")
	_, err = api.ParseEpollFlags("cloexec,nope")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "nope", "unknown flag word: %v", err)
	fl, err := api.ParseEpollFlags("cloexec")
	OK(t, err)
	Eq(t, fl, api.EPOLL_CLOEXEC)
	var nilEp *api.Epoll
	Want(t, nilEp.Add(ep2.Fd(), api.EPOLLIN, 0), api.EBADF, "Add on a nil Epoll")
}

func testEpollCreate(t T, e *Env) {
	ep, err := e.K.EpollCreate(8)
	OK(t, err, "epoll_create")
	defer ep.Close()
	True(t, !readyCloexec(t, e, ep.Fd()), "the legacy call sets no flags")
	r, w := readyPipe(t, e, api.O_CLOEXEC)
	OK(t, ep.Add(r, api.EPOLLIN, 1))
	w.Write([]byte("x"))
	evs := make([]api.EpollEvent, 4)
	n, err := readyRetry(func() (int, error) { return ep.WaitInto(evs, 1000) })
	OK(t, err, "wait")
	Eq(t, n, 1)
	Eq(t, evs[0].Data, uint64(1))
	_, err = e.K.EpollCreate(0)
	Want(t, err, api.EINVAL, "size 0")
	_, err = e.K.EpollCreate(-1)
	Want(t, err, api.EINVAL, "negative size")
}

func testEpollCtl(t T, e *Env) {
	k := e.K
	ep := readyEpoll(t, e)
	r, w := readyPipe(t, e, api.O_CLOEXEC|api.O_NONBLOCK)
	evs := make([]api.EpollEvent, 8)

	OK(t, ep.Add(r, api.EPOLLIN, 42), "add")
	Want(t, ep.Add(r, api.EPOLLIN, 43), api.EEXIST, "add twice")
	OK(t, ep.Add(w, api.EPOLLOUT, 7), "add write end")
	n, err := readyRetry(func() (int, error) { return ep.WaitInto(evs, 0) })
	OK(t, err)
	Eq(t, n, 1, "only the write end is ready")
	Eq(t, evs[0], api.EpollEvent{Events: api.EPOLLOUT, Data: 7})

	// Mod changes both the events and the data.
	OK(t, ep.Mod(w, api.EPOLLIN, 8), "mod")
	n, err = readyRetry(func() (int, error) { return ep.WaitInto(evs, 0) })
	OK(t, err)
	Eq(t, n, 0, "a write end is never readable")
	w.Write([]byte("x"))
	OK(t, ep.Mod(r, api.EPOLLIN|api.EPOLLRDHUP, 1<<60|5), "mod read end with a 64-bit datum")
	n, err = readyRetry(func() (int, error) { return ep.WaitInto(evs, 1000) })
	OK(t, err)
	Eq(t, n, 1)
	Eq(t, evs[0], api.EpollEvent{Events: api.EPOLLIN, Data: 1<<60 | 5}, "64-bit data round trip")

	// EPOLLONESHOT: one report, then silence until Mod re-arms it.
	OK(t, ep.Mod(r, api.EPOLLIN|api.EPOLLONESHOT, 9))
	n, _ = readyRetry(func() (int, error) { return ep.WaitInto(evs, 0) })
	Eq(t, n, 1, "one-shot fires once")
	n, _ = readyRetry(func() (int, error) { return ep.WaitInto(evs, 0) })
	Eq(t, n, 0, "one-shot disarmed")
	OK(t, ep.Mod(r, api.EPOLLIN, 9), "re-arm")
	n, _ = readyRetry(func() (int, error) { return ep.WaitInto(evs, 0) })
	Eq(t, n, 1, "re-armed")

	OK(t, ep.Del(r), "del")
	Want(t, ep.Del(r), api.ENOENT, "del twice")
	Want(t, ep.Mod(r, api.EPOLLIN, 0), api.ENOENT, "mod of an unwatched fd")
	n, _ = readyRetry(func() (int, error) { return ep.WaitInto(evs, 0) })
	Eq(t, n, 0, "deleted fd reports nothing")

	// Bad descriptors.
	p := CreateFile(t, e, "regular", []byte("x"))
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	Want(t, ep.Add(f, api.EPOLLIN, 0), api.EPERM, "regular files cannot be watched")
	Want(t, ep.Add(ep.Fd(), api.EPOLLIN, 0), api.EINVAL, "an epoll cannot watch itself")
	Want(t, ep.Add(nil, api.EPOLLIN, 0), api.EBADF, "nil Fd")
	OK(t, f.Close())
	Want(t, ep.Add(f, api.EPOLLIN, 0), api.EBADF, "closed Fd")
	_, err = api.ParseEpollEvents("in,out,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "bogus", "unknown event word: %v", err)
	evw, err := api.ParseEpollEvents("in,rdhup,et")
	OK(t, err)
	Eq(t, evw, api.EPOLLIN|api.EPOLLRDHUP|api.EPOLLET)
}

func testEpollWait(t T, e *Env) {
	ep := readyEpoll(t, e)
	evs := make([]api.EpollEvent, 8)
	n, err := readyRetry(func() (int, error) { return ep.WaitInto(evs, 0) })
	OK(t, err, "wait on an empty set")
	Eq(t, n, 0)

	// A timeout is honoured, and ends without events.
	start := time.Now()
	n, err = readyRetry(func() (int, error) { return ep.WaitInto(evs, 30) })
	OK(t, err)
	Eq(t, n, 0, "timed out")
	el := time.Since(start)
	True(t, el >= 20*time.Millisecond && el < time.Second, "waited about 30ms: %v", el)

	// Three pipes, two ready: the right data comes back.
	var rs, ws [3]*api.Fd
	for i := range rs {
		rs[i], ws[i] = readyPipe(t, e, api.O_CLOEXEC|api.O_NONBLOCK)
		OK(t, ep.Add(rs[i], api.EPOLLIN, uint64(100+i)))
	}
	ws[0].Write([]byte("a"))
	ws[2].Write([]byte("c"))
	n, err = readyRetry(func() (int, error) { return ep.WaitInto(evs, 1000) })
	OK(t, err)
	Eq(t, n, 2, "two ready")
	got := map[uint64]api.EpollEvents{}
	for _, ev := range evs[:n] {
		got[ev.Data] = ev.Events
	}
	Eq(t, got[100], api.EPOLLIN, "pipe 0")
	Eq(t, got[102], api.EPOLLIN, "pipe 2")

	// A buffer of one takes one event at a time.
	n, err = readyRetry(func() (int, error) { return ep.WaitInto(evs[:1], 0) })
	OK(t, err)
	Eq(t, n, 1, "one at a time")

	// The iterator yields the same, and can be left early.
	seen := 0
	for ev, err := range ep.Wait(evs, 1000) {
		OK(t, err, "iterator")
		True(t, ev.Data == 100 || ev.Data == 102, "datum %d", ev.Data)
		seen++
	}
	Eq(t, seen, 2, "iterator events")
	seen = 0
	for range ep.Wait(evs, 1000) {
		seen++
		break
	}
	Eq(t, seen, 1, "break after the first")
	for _, err := range ep.Wait(evs, 0) {
		OK(t, err)
	}
	for _, err := range ep.Wait(nil, 0) {
		Want(t, err, api.EINVAL, "iterator with no buffer")
	}

	// Hang-up: closing the write end reports EPOLLHUP.
	OK(t, ws[1].Close())
	n, _ = readyRetry(func() (int, error) { return ep.WaitInto(evs, 1000) })
	hup := false
	for _, ev := range evs[:n] {
		if ev.Data == 101 {
			hup = ev.Events&api.EPOLLHUP != 0
		}
	}
	True(t, hup, "EPOLLHUP on pipe 1")

	_, err = readyRetry(func() (int, error) { return ep.WaitInto(nil, 0) })
	Want(t, err, api.EINVAL, "no room for events")

	// Waiting does not allocate, ready events or not.
	empty := readyEpoll(t, e)
	if e.Target.Name == "native" {
		a := testing.AllocsPerRun(200, func() { empty.WaitInto(evs, 0) })
		Eq(t, a, 0.0, "allocations per empty wait")
		a = testing.AllocsPerRun(200, func() { ep.WaitInto(evs, 0) })
		Eq(t, a, 0.0, "allocations per wait with events")
		a = testing.AllocsPerRun(200, func() {
			for ev := range ep.Wait(evs, 0) {
				_ = ev
			}
		})
		True(t, a <= 1, "allocations per iterator wait with 3 events: %v", a)
	}
}

func testEpollPwait(t T, e *Env) {
	ep := readyEpoll(t, e)
	evs := make([]api.EpollEvent, 4)
	mask := api.SigSetOf(api.SIGUSR2)
	n, err := readyRetry(func() (int, error) { return ep.PwaitInto(evs, 0, &mask) })
	OK(t, err, "epoll_pwait with a mask")
	Eq(t, n, 0)
	start := time.Now()
	n, err = readyRetry(func() (int, error) { return ep.PwaitInto(evs, 20, nil) })
	OK(t, err, "epoll_pwait without a mask")
	Eq(t, n, 0)
	True(t, time.Since(start) >= 10*time.Millisecond, "waited")

	r, w := readyPipe(t, e, api.O_CLOEXEC)
	OK(t, ep.Add(r, api.EPOLLIN, 77))
	go func() {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("x"))
	}()
	n, err = readyRetry(func() (int, error) { return ep.PwaitInto(evs, 1000, &mask) })
	OK(t, err)
	Eq(t, n, 1, "woken by the write")
	Eq(t, evs[0], api.EpollEvent{Events: api.EPOLLIN, Data: 77})

	var rest [1]byte
	r.Read(rest[:])
	readyMaskInterrupts(t, e, "epoll_pwait", func(m *api.SigSet, msec int) error {
		_, err := ep.PwaitInto(evs, msec, m)
		return err
	})
	_, err = readyRetry(func() (int, error) { return ep.PwaitInto(nil, 0, nil) })
	Want(t, err, api.EINVAL, "no room for events")
	OK(t, ep.Close())
	_, err = readyRetry(func() (int, error) { return ep.PwaitInto(evs, 0, nil) })
	Want(t, err, api.EBADF, "closed epoll")
}

func testEpollPwait2(t T, e *Env) {
	ep := readyEpoll(t, e)
	evs := make([]api.EpollEvent, 4)
	start := time.Now()
	n, err := readyRetry(func() (int, error) { return ep.Pwait2Into(evs, &api.Timespec{Nsec: 20e6}, nil) })
	OK(t, err, "epoll_pwait2")
	Eq(t, n, 0, "timed out")
	el := time.Since(start)
	True(t, el >= 15*time.Millisecond && el < time.Second, "waited about 20ms: %v", el)
	n, err = readyRetry(func() (int, error) { return ep.Pwait2Into(evs, &api.Timespec{}, nil) })
	OK(t, err, "zero timeout")
	Eq(t, n, 0)

	r, w := readyPipe(t, e, api.O_CLOEXEC)
	OK(t, ep.Add(r, api.EPOLLIN, 5))
	w.Write([]byte("x"))
	mask := api.SigSetOf(api.SIGUSR1, api.SIGUSR2)
	n, err = readyRetry(func() (int, error) { return ep.Pwait2Into(evs, nil, &mask) }) // forever, but an event is ready
	OK(t, err, "no timeout, with a mask")
	Eq(t, n, 1)
	Eq(t, evs[0].Data, uint64(5))
	OK(t, ep.Del(r))
	readyMaskInterrupts(t, e, "epoll_pwait2", func(m *api.SigSet, msec int) error {
		ts := api.NsecToTimespec(int64(msec) * 1e6)
		_, err := ep.Pwait2Into(evs, &ts, m)
		return err
	})

	_, err = readyRetry(func() (int, error) { return ep.Pwait2Into(evs, &api.Timespec{Nsec: 1e9}, nil) })
	Want(t, err, api.EINVAL, "nanoseconds out of range")
	_, err = readyRetry(func() (int, error) { return ep.Pwait2Into(evs, &api.Timespec{Sec: -1}, nil) })
	Want(t, err, api.EINVAL, "negative timeout")
}
