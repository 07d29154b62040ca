package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

func init() {
	Register(
		Case{Family: "ready", Call: "poll", Run: testPoll},
		Case{Family: "ready", Call: "ppoll", Run: testPpoll},
		Case{Family: "ready", Call: "select", Run: testSelect},
		Case{Family: "ready", Call: "pselect6", Run: testPselect6},
	)
}

func testPoll(t T, e *Env) {
	k := e.K
	r, w := readyPipe(t, e, api.O_CLOEXEC|api.O_NONBLOCK)
	fds := []api.PollFd{
		{Fd: r, Events: api.POLLIN},
		{Fd: w, Events: api.POLLOUT},
		{Fd: nil, Events: api.POLLIN}, // skipped
	}
	n, err := readyRetry(func() (int, error) { return k.Poll(fds, 0) })
	OK(t, err, "poll")
	Eq(t, n, 1, "only the write end is ready")
	Eq(t, fds[0].Revents, api.PollEvents(0), "empty pipe")
	Eq(t, fds[1].Revents, api.POLLOUT, "writable")
	Eq(t, fds[2].Revents, api.PollEvents(0), "nil entry")

	w.Write([]byte("x"))
	n, err = readyRetry(func() (int, error) { return k.Poll(fds, 1000) })
	OK(t, err)
	Eq(t, n, 2)
	Eq(t, fds[0].Revents, api.POLLIN, "readable after a write")

	// A timeout with nothing ready.
	quiet := []api.PollFd{{Fd: w, Events: api.POLLIN}}
	start := time.Now()
	n, err = readyRetry(func() (int, error) { return k.Poll(quiet, 30) })
	OK(t, err)
	Eq(t, n, 0, "timed out")
	el := time.Since(start)
	True(t, el >= 20*time.Millisecond && el < time.Second, "waited about 30ms: %v", el)

	// More entries than Poll keeps on its stack.
	many := make([]api.PollFd, 40)
	for i := range many {
		many[i] = api.PollFd{Fd: r, Events: api.POLLIN}
	}
	n, err = readyRetry(func() (int, error) { return k.Poll(many, 0) })
	OK(t, err, "poll of 40 entries")
	Eq(t, n, 40)
	Eq(t, many[39].Revents, api.POLLIN)

	// Hang-up once the write end is gone.
	OK(t, w.Close())
	hup := []api.PollFd{{Fd: r, Events: api.POLLIN}}
	n, err = readyRetry(func() (int, error) { return k.Poll(hup, 1000) })
	OK(t, err)
	Eq(t, n, 1)
	True(t, hup[0].Revents&api.POLLHUP != 0, "POLLHUP: %v", hup[0].Revents)

	// A closed Fd fails the call (and leaves nothing acquired: r still
	// closes fine).
	_, err = readyRetry(func() (int, error) {
		return k.Poll([]api.PollFd{{Fd: r, Events: api.POLLIN}, {Fd: w, Events: api.POLLOUT}}, 0)
	})
	Want(t, err, api.EBADF, "closed Fd in the list")
	n, err = readyRetry(func() (int, error) { return k.Poll(nil, 0) })
	OK(t, err, "poll of nothing")
	Eq(t, n, 0)
	_, err = api.ParsePollEvents("in,wut")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown event word: %v", err)

	if e.Target.Name == "native" {
		small := []api.PollFd{{Fd: r, Events: api.POLLIN}}
		a := testing.AllocsPerRun(100, func() { k.Poll(small, 0) })
		Eq(t, a, 0.0, "allocations per poll of one entry")
	}
	OK(t, r.Close())
}

func testPpoll(t T, e *Env) {
	k := e.K
	r, w := readyPipe(t, e, api.O_CLOEXEC)
	fds := []api.PollFd{{Fd: r, Events: api.POLLIN}}
	start := time.Now()
	n, err := readyRetry(func() (int, error) { return k.Ppoll(fds, &api.Timespec{Nsec: 20e6}, nil) })
	OK(t, err, "ppoll")
	Eq(t, n, 0, "timed out")
	el := time.Since(start)
	True(t, el >= 15*time.Millisecond && el < time.Second, "waited about 20ms: %v", el)

	go func() {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("x"))
	}()
	mask := api.SigSetOf(api.SIGUSR1)
	n, err = readyRetry(func() (int, error) { return k.Ppoll(fds, &api.Timespec{Sec: 1}, &mask) })
	OK(t, err, "ppoll with a mask")
	Eq(t, n, 1, "woken by the write")
	Eq(t, fds[0].Revents, api.POLLIN)
	n, err = readyRetry(func() (int, error) { return k.Ppoll(fds, nil, nil) }) // forever, but the pipe is readable
	OK(t, err, "ppoll without a timeout")
	Eq(t, n, 1)

	var rest [1]byte
	r.Read(rest[:])
	readyMaskInterrupts(t, e, "ppoll", func(m *api.SigSet, msec int) error {
		ts := api.NsecToTimespec(int64(msec) * 1e6)
		_, err := k.Ppoll(fds, &ts, m)
		return err
	})
	_, err = readyRetry(func() (int, error) { return k.Ppoll(fds, &api.Timespec{Nsec: -1}, nil) })
	Want(t, err, api.EINVAL, "negative nanoseconds")
	OK(t, r.Close())
	_, err = readyRetry(func() (int, error) { return k.Ppoll(fds, &api.Timespec{}, nil) })
	Want(t, err, api.EBADF, "closed Fd")
}

func testSelect(t T, e *Env) {
	k := e.K
	r, w := readyPipe(t, e, api.O_CLOEXEC)
	rn, wn := r.Num(), w.Num()
	if rn >= 1024 || wn >= 1024 {
		t.Skipf("descriptor numbers above FD_SETSIZE")
	}
	nfds := max(rn, wn) + 1
	var rs, ws api.FdSet
	rs.Set(rn)
	ws.Set(wn)
	n, err := readyRetry(func() (int, error) { return k.Select(nfds, &rs, &ws, nil, &api.Timespec{}) })
	OK(t, err, "select")
	Eq(t, n, 1, "only the write end is ready")
	True(t, !rs.IsSet(rn), "read end not ready")
	True(t, ws.IsSet(wn), "write end ready")

	w.Write([]byte("x"))
	rs.Zero()
	rs.Set(rn)
	n, err = readyRetry(func() (int, error) { return k.Select(nfds, &rs, nil, nil, &api.Timespec{Sec: 1}) })
	OK(t, err)
	Eq(t, n, 1)
	True(t, rs.IsSet(rn), "read end ready after a write")

	// A timeout with nothing ready.
	var quiet api.FdSet
	quiet.Set(wn)
	start := time.Now()
	n, err = readyRetry(func() (int, error) { return k.Select(nfds, &quiet, nil, nil, &api.Timespec{Nsec: 20e6}) })
	OK(t, err)
	Eq(t, n, 0, "timed out")
	True(t, !quiet.IsSet(wn), "set cleared on timeout")
	el := time.Since(start)
	True(t, el >= 15*time.Millisecond && el < time.Second, "waited about 20ms: %v", el)

	_, err = readyRetry(func() (int, error) { return k.Select(2000, &rs, nil, nil, &api.Timespec{}) })
	Want(t, err, api.EINVAL, "nfds above FD_SETSIZE")
	var bad api.FdSet
	bad.Set(wn)
	OK(t, w.Close())
	_, err = readyRetry(func() (int, error) { return k.Select(nfds, &bad, nil, nil, &api.Timespec{}) })
	Want(t, err, api.EBADF, "closed descriptor in the set")
	var s api.FdSet
	s.Set(5)
	s.Set(1023)
	s.Set(1024) // ignored
	True(t, s.IsSet(5) && s.IsSet(1023) && !s.IsSet(1024) && !s.IsSet(-1), "FdSet bits")
	s.Clear(5)
	True(t, !s.IsSet(5), "Clear")
}

func testPselect6(t T, e *Env) {
	k := e.K
	r, w := readyPipe(t, e, api.O_CLOEXEC)
	rn := r.Num()
	if rn >= 1024 || w.Num() >= 1024 {
		t.Skipf("descriptor numbers above FD_SETSIZE")
	}
	var rs api.FdSet
	rs.Set(rn)
	start := time.Now()
	n, err := readyRetry(func() (int, error) { return k.Pselect(rn+1, &rs, nil, nil, &api.Timespec{Nsec: 20e6}, nil) })
	OK(t, err, "pselect6")
	Eq(t, n, 0, "timed out")
	el := time.Since(start)
	True(t, el >= 15*time.Millisecond && el < time.Second, "waited about 20ms: %v", el)

	go func() {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("x"))
	}()
	rs.Set(rn)
	mask := api.SigSetOf(api.SIGUSR2)
	n, err = readyRetry(func() (int, error) { return k.Pselect(rn+1, &rs, nil, nil, &api.Timespec{Sec: 1}, &mask) })
	OK(t, err, "pselect6 with a mask")
	Eq(t, n, 1, "woken by the write")
	True(t, rs.IsSet(rn), "read end ready")
	n, err = readyRetry(func() (int, error) { return k.Pselect(rn+1, &rs, nil, nil, nil, nil) }) // forever, but readable
	OK(t, err, "pselect6 without a timeout")
	Eq(t, n, 1)
	var rest [1]byte
	r.Read(rest[:])
	readyMaskInterrupts(t, e, "pselect6", func(m *api.SigSet, msec int) error {
		ts := api.NsecToTimespec(int64(msec) * 1e6)
		var set api.FdSet
		set.Set(rn)
		_, err := k.Pselect(rn+1, &set, nil, nil, &ts, m)
		return err
	})
	_, err = readyRetry(func() (int, error) { return k.Pselect(rn+1, &rs, nil, nil, &api.Timespec{Nsec: 1e9}, nil) })
	Want(t, err, api.EINVAL, "nanoseconds out of range")
	_, err = readyRetry(func() (int, error) { return k.Pselect(-1, nil, nil, nil, &api.Timespec{}, nil) })
	Want(t, err, api.EINVAL, "negative nfds")
}
