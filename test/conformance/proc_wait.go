package conformance

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The processes family: signals to processes (kill, tgkill, tkill,
// pidfds) and waiting for children (wait4, waitid), resource usage.
// Children are /bin/sh started with os/exec and reaped with the kernel
// under test, never with cmd.Wait.

func init() {
	Register(
		Case{Family: "proc", Call: "kill", Run: testProcKill},
		Case{Family: "proc", Call: "tgkill", Run: testProcTgkill},
		Case{Family: "proc", Call: "tkill", Run: testProcTkill},
		Case{Family: "proc", Call: "pidfd_open", Run: testProcPidfdOpen},
		Case{Family: "proc", Call: "pidfd_send_signal", Run: testProcPidfdSendSignal},
		Case{Family: "proc", Call: "wait4", Run: testProcWait4},
		Case{Family: "proc", Call: "waitid", Run: testProcWaitid},
		Case{Family: "proc", Call: "getrusage", Run: testProcGetrusage},
	)
}

// procWantKilled reaps pid and checks that sig ended it.
func procWantKilled(t T, e *Env, pid int, sig api.Signal) {
	t.Helper()
	r := procWait4(t, e, pid, 0)
	OK(t, r.err, "wait4")
	Eq(t, r.pid, pid, "reaped pid")
	True(t, r.ws.Signaled(), "child ended by a signal: %v", r.ws)
	Eq(t, r.ws.Signal(), sig, "terminating signal")
	Eq(t, r.ws.ExitStatus(), -1, "no exit status")
}

func testProcKill(t T, e *Env) {
	k := e.K
	OK(t, k.Kill(k.Getpid(), 0), "signal 0 to ourselves")
	Want(t, k.Kill(k.Getpid(), -1), api.EINVAL, "negative signal")
	Want(t, k.Kill(k.Getpid(), api.Signal(1000)), api.EINVAL, "signal 1000")
	if big, ok := Wide(40); ok {
		Want(t, k.Kill(big, 0), api.EINVAL, "pid beyond pid_t")
	}
	child := procSleeper(t, e)
	OK(t, k.Kill(child, 0), "signal 0 to a child")
	OK(t, k.Kill(child, api.SIGTERM), "SIGTERM to a child")
	procWantKilled(t, e, child, api.SIGTERM)
	Want(t, k.Kill(child, 0), api.ESRCH, "signal 0 to a reaped child")
}

// procLockedTid returns a thread id of this process that stays alive until
// the case ends: a goroutine locked to its thread waits for cleanup.
func procLockedTid(t T, e *Env) int {
	t.Helper()
	tid := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with us
		tid <- e.K.Gettid()
		<-done
	}()
	t.Cleanup(func() { close(done) })
	select {
	case n := <-tid:
		return n
	case <-time.After(5 * time.Second):
		t.Fatalf("locked goroutine did not start")
		return 0
	}
}

func testProcTgkill(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	pid := k.Getpid()
	tid := procLockedTid(t, e)
	OK(t, k.Tgkill(pid, tid, 0), "signal 0 to one of our threads")
	Want(t, k.Tgkill(pid, tid, -3), api.EINVAL, "negative signal")
	Want(t, k.Tgkill(-1, tid, 0), api.EINVAL, "negative tgid")
	child := procSleeper(t, e)
	// A thread id paired with the wrong process is not found: this is
	// what protects tgkill from reused ids.
	Want(t, k.Tgkill(pid, child, 0), api.ESRCH, "child's tid in our process")
	Want(t, k.Tgkill(child, tid, 0), api.ESRCH, "our tid in the child")
	OK(t, k.Tgkill(child, child, api.SIGKILL), "SIGKILL to the child's main thread")
	procWantKilled(t, e, child, api.SIGKILL)
	Want(t, k.Tgkill(child, child, 0), api.ESRCH, "reaped child")
}

func testProcTkill(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	tid := procLockedTid(t, e)
	OK(t, k.Tkill(tid, 0), "signal 0 to one of our threads")
	Want(t, k.Tkill(-1, 0), api.EINVAL, "negative tid")
	child := procSleeper(t, e)
	OK(t, k.Tkill(child, api.SIGKILL), "SIGKILL to the child's thread")
	procWantKilled(t, e, child, api.SIGKILL)
	Want(t, k.Tkill(child, 0), api.ESRCH, "reaped child")
}

// procWaitPidfd calls WaitPidfd with a deadline, retrying EAGAIN (a
// PIDFD_NONBLOCK pidfd whose child has not changed state yet).
func procWaitPidfd(t T, e *Env, fd *api.Fd, opts api.WaitOptions) (api.WaitInfo, api.Rusage) {
	t.Helper()
	type res struct {
		info api.WaitInfo
		ru   api.Rusage
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		var r res
		deadline := time.Now().Add(5 * time.Second)
		for {
			r.err = e.K.WaitPidfd(fd, &r.info, opts, &r.ru)
			if !errors.Is(r.err, api.EAGAIN) || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		ch <- r
	}()
	select {
	case r := <-ch:
		OK(t, r.err, "waitid(P_PIDFD)")
		return r.info, r.ru
	case <-time.After(6 * time.Second):
		t.Fatalf("waitid(P_PIDFD) did not return within 6s")
		return api.WaitInfo{}, api.Rusage{}
	}
}

func testProcPidfdOpen(t T, e *Env) {
	k := e.K
	self, err := k.PidfdOpen(k.Getpid(), 0)
	OK(t, err, "pidfd_open of ourselves")
	defer self.Close()
	OK(t, k.PidfdSendSignal(self, 0), "signal 0 through our own pidfd")
	_, err = k.PidfdOpen(-1, 0)
	Want(t, err, api.EINVAL, "pidfd_open(-1)")
	_, err = k.PidfdOpen(k.Getpid(), api.PidfdFlags(0x4))
	Want(t, err, api.EINVAL, "unknown flag bits")
	if procIsHost(e) {
		fdinfo, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(self.Num()))
		OK(t, err)
		True(t, procHasLine(string(fdinfo), "Pid:\t"+strconv.Itoa(k.Getpid())), "fdinfo names our pid: %q", fdinfo)
	}
	_, err = k.PidfdOpen(procReaped(t, e), 0)
	Want(t, err, api.ESRCH, "pidfd_open of a reaped child")

	// A non-blocking pidfd: waitid says EAGAIN while the child runs.
	child := procSleeper(t, e)
	fd, err := k.PidfdOpen(child, api.PIDFD_NONBLOCK)
	OK(t, err, "pidfd_open(PIDFD_NONBLOCK)")
	defer fd.Close()
	var info api.WaitInfo
	Want(t, k.WaitPidfd(fd, &info, api.WEXITED, nil), api.EAGAIN, "waitid on a running child's non-blocking pidfd")
	OK(t, k.Kill(child, api.SIGKILL))
	info, _ = procWaitPidfd(t, e, fd, api.WEXITED)
	Eq(t, info.Pid, child, "reaped through the pidfd")
	Eq(t, info.Status.Signal(), api.SIGKILL, "killed")
}

func procHasLine(s, line string) bool {
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		if s[:i] == line {
			return true
		}
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return false
}

func testProcPidfdSendSignal(t T, e *Env) {
	k := e.K
	var nilFd *api.Fd
	Want(t, k.PidfdSendSignal(nilFd, 0), api.EBADF, "nil pidfd")
	child := procSleeper(t, e)
	fd, err := k.PidfdOpen(child, 0)
	OK(t, err, "pidfd_open")
	defer fd.Close()
	OK(t, k.PidfdSendSignal(fd, 0), "signal 0")
	Want(t, k.PidfdSendSignal(fd, -2), api.EINVAL, "negative signal")
	OK(t, k.PidfdSendSignal(fd, api.SIGKILL), "SIGKILL through the pidfd")
	info, ru := procWaitPidfd(t, e, fd, api.WEXITED)
	Eq(t, info.Pid, child, "pid")
	Eq(t, info.Uid, k.Getuid(), "uid")
	Eq(t, info.Status.Code(), api.CLD_KILLED, "code")
	Eq(t, info.Status.Signal(), api.SIGKILL, "signal")
	True(t, ru.Maxrss > 0, "the child's rusage: maxrss %d", ru.Maxrss)
	Want(t, k.PidfdSendSignal(fd, 0), api.ESRCH, "signal to a reaped process")
	OK(t, fd.Close())
	Want(t, k.PidfdSendSignal(fd, 0), api.EBADF, "closed pidfd")
	// A pidfd is not any descriptor.
	p := CreateFile(t, e, "notpidfd", nil)
	f, err := k.Open(p, api.O_RDONLY, 0)
	OK(t, err)
	defer f.Close()
	Want(t, k.PidfdSendSignal(f, 0), api.EBADF, "a regular file")
}

func testProcWait4(t T, e *Env) {
	k := e.K
	_, err := k.Wait4(-1, nil, api.WaitOptions(0x4000), nil)
	Want(t, err, api.EINVAL, "unknown option bits")
	procNeedHost(t, e)

	child := procSpawn(t, e, "exit 7", nil)
	r := procWait4(t, e, child, 0)
	OK(t, r.err, "wait4")
	Eq(t, r.pid, child, "pid")
	True(t, r.ws.Exited(), "exited: %v", r.ws)
	Eq(t, r.ws.ExitStatus(), 7, "exit status")
	Eq(t, r.ws.Code(), api.CLD_EXITED, "code")
	True(t, !r.ws.Signaled() && !r.ws.Stopped(), "only exited")
	True(t, r.ru.Maxrss > 0, "rusage maxrss %d", r.ru.Maxrss)
	Eq(t, r.ws.String(), "exit status 7", "String")
	_, err = k.Wait4(child, nil, 0, nil)
	Want(t, err, api.ECHILD, "wait4 of a reaped child")

	// A running child: WNOHANG returns 0; stop, continue, kill it.
	child = procSleeper(t, e)
	var ws api.WaitStatus
	pid, err := k.Wait4(child, &ws, api.WNOHANG, nil)
	OK(t, err, "WNOHANG")
	Eq(t, pid, 0, "WNOHANG on a running child")
	Eq(t, ws.Code(), api.ChildCode(0), "no status")
	OK(t, k.Kill(child, api.SIGSTOP))
	r = procWait4(t, e, child, api.WUNTRACED)
	OK(t, r.err, "wait4(WUNTRACED)")
	True(t, r.ws.Stopped(), "stopped: %v", r.ws)
	Eq(t, r.ws.StopSignal(), api.SIGSTOP, "stop signal")
	OK(t, k.Kill(child, api.SIGCONT))
	r = procWait4(t, e, child, api.WCONTINUED)
	OK(t, r.err, "wait4(WCONTINUED)")
	True(t, r.ws.Continued(), "continued: %v", r.ws)
	OK(t, k.Kill(child, api.SIGKILL))
	procWantKilled(t, e, child, api.SIGKILL)
}

// procWaitid calls Waitid with a deadline.
func procWaitid(t T, e *Env, idtype api.IDType, id int, opts api.WaitOptions) (api.WaitInfo, api.Rusage) {
	t.Helper()
	type res struct {
		info api.WaitInfo
		ru   api.Rusage
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		var r res
		r.err = e.K.Waitid(idtype, id, &r.info, opts, &r.ru)
		ch <- r
	}()
	select {
	case r := <-ch:
		OK(t, r.err, "waitid(%v, %d, %v)", idtype, id, opts)
		return r.info, r.ru
	case <-time.After(5 * time.Second):
		if idtype == api.P_PID {
			syscall.Kill(id, syscall.SIGKILL)
		}
		t.Fatalf("waitid(%v, %d, %v) did not return within 5s", idtype, id, opts)
		return api.WaitInfo{}, api.Rusage{}
	}
}

func testProcWaitid(t T, e *Env) {
	k := e.K
	var info api.WaitInfo
	// WNOWAIT: the probe reaps nothing another case waits for.
	NoSys(t, k.Waitid(api.P_ALL, 0, &info, api.WEXITED|api.WNOHANG|api.WNOWAIT, nil))
	Want(t, k.Waitid(api.P_PID, 1, &info, api.WaitOptions(0x4000)|api.WEXITED, nil), api.EINVAL, "unknown option bits")
	Want(t, k.Waitid(api.IDType(42), 0, &info, api.WEXITED, nil), api.EINVAL, "unknown id type")
	Want(t, k.Waitid(api.P_PID, 1, &info, 0, nil), api.EINVAL, "no event asked for")
	procNeedHost(t, e)
	Want(t, k.Waitid(api.P_PID, 1, &info, api.WEXITED|api.WNOHANG, nil), api.ECHILD, "init is not our child")

	child := procSpawn(t, e, "exit 7", nil)
	// WNOWAIT leaves the child to be waited for again.
	info, _ = procWaitid(t, e, api.P_PID, child, api.WEXITED|api.WNOWAIT)
	Eq(t, info.Pid, child, "pid")
	Eq(t, info.Uid, k.Getuid(), "uid")
	Eq(t, info.Status.Code(), api.CLD_EXITED, "code")
	Eq(t, info.Status.ExitStatus(), 7, "exit status")
	info, ru := procWaitid(t, e, api.P_PID, child, api.WEXITED)
	Eq(t, info.Pid, child, "pid after WNOWAIT")
	Eq(t, info.Status.ExitStatus(), 7, "exit status after WNOWAIT")
	True(t, ru.Maxrss > 0, "rusage maxrss %d", ru.Maxrss)
	Want(t, k.Waitid(api.P_PID, child, &info, api.WEXITED, nil), api.ECHILD, "waitid of a reaped child")

	// Running, stopped, continued, killed.
	child = procSleeper(t, e)
	OK(t, k.Waitid(api.P_PID, child, &info, api.WEXITED|api.WNOHANG, nil), "WNOHANG")
	Eq(t, info.Pid, 0, "WNOHANG on a running child")
	OK(t, k.Kill(child, api.SIGSTOP))
	info, _ = procWaitid(t, e, api.P_PID, child, api.WSTOPPED)
	Eq(t, info.Status.Code(), api.CLD_STOPPED, "stopped")
	Eq(t, info.Status.StopSignal(), api.SIGSTOP, "stop signal")
	OK(t, k.Kill(child, api.SIGCONT))
	info, _ = procWaitid(t, e, api.P_PID, child, api.WCONTINUED)
	Eq(t, info.Status.Code(), api.CLD_CONTINUED, "continued")
	OK(t, k.Kill(child, api.SIGKILL))
	info, _ = procWaitid(t, e, api.P_PID, child, api.WEXITED)
	Eq(t, info.Status.Code(), api.CLD_KILLED, "killed")
	Eq(t, info.Status.Signal(), api.SIGKILL, "SIGKILL")
	Eq(t, info.Status.String(), "signal SIGKILL", "String")

	// P_PGID: a child leading its own group.
	child = procSpawn(t, e, "exit 3", &syscall.SysProcAttr{Setpgid: true})
	info, _ = procWaitid(t, e, api.P_PGID, child, api.WEXITED)
	Eq(t, info.Pid, child, "reaped by group")
	Eq(t, info.Status.ExitStatus(), 3, "exit status")
}

// procBurn spends some CPU time in this thread.
func procBurn() uint64 {
	x := uint64(1)
	for start := time.Now(); time.Since(start) < 20*time.Millisecond; {
		for range 10000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

// procSink keeps procBurn's result alive so the compiler cannot drop the
// work.
var procSink atomic.Uint64

func testProcGetrusage(t T, e *Env) {
	k := e.K
	NoSys(t, k.Getrusage(api.RUSAGE_SELF, &api.Rusage{}))
	Want(t, k.Getrusage(api.RUSAGE_SELF, nil), api.EINVAL, "nil *Rusage")
	var ru api.Rusage
	Want(t, k.Getrusage(api.RusageWho(7), &ru), api.EINVAL, "unknown who")
	hwm := 0
	if procIsHost(e) {
		f, err := procStatus("/proc/self/status", "VmHWM")
		OK(t, err)
		True(t, len(f) == 2 && f[1] == "kB", "VmHWM %v", f)
		hwm, err = strconv.Atoi(f[0])
		OK(t, err)
	}
	var before api.Rusage
	OK(t, k.Getrusage(api.RUSAGE_SELF, &before), "RUSAGE_SELF")
	procSink.Add(procBurn())
	OK(t, k.Getrusage(api.RUSAGE_SELF, &ru), "RUSAGE_SELF")
	True(t, ru.Utime+ru.Stime > before.Utime+before.Stime, "CPU time grows while burning: %v then %v",
		before.Utime+before.Stime, ru.Utime+ru.Stime)
	// The peak only grows, but the kernel's RSS counters are per-CPU
	// approximations: allow 10%.
	True(t, ru.Maxrss > 0 && ru.Maxrss >= int64(hwm)*9/10, "maxrss %d kB, VmHWM was %d kB", ru.Maxrss, hwm)
	True(t, ru.Minflt > 0, "minor faults %d", ru.Minflt)
	if procIsHost(e) {
		var sr syscall.Rusage
		OK(t, syscall.Getrusage(syscall.RUSAGE_SELF, &sr))
		su := time.Duration(sr.Utime.Nano())
		True(t, ru.Utime <= su, "our utime %v, later syscall.Getrusage %v", ru.Utime, su)
	}
	var th api.Rusage
	procLocked(t, func() error {
		procSink.Add(procBurn())
		return k.Getrusage(api.RUSAGE_THREAD, &th)
	})
	True(t, th.Utime+th.Stime > 0, "a thread's CPU time after burning: %v", th.Utime+th.Stime)
	var ch api.Rusage
	if procIsHost(e) {
		procReaped(t, e) // at least one reaped child to account for
	}
	OK(t, k.Getrusage(api.RUSAGE_CHILDREN, &ch), "RUSAGE_CHILDREN")
	True(t, ch.Utime >= 0 && ch.Stime >= 0, "children's times")
	if procIsHost(e) {
		True(t, ch.Maxrss > 0, "reaped children's maxrss %d", ch.Maxrss)
	}
}
