package conformance

import (
	"errors"
	"runtime"

	"github.com/anykernel/anykernel/api"
)

// Signal masks, pending signals and signalfd. Each case locks its goroutine
// to its OS thread, blocks its signals there, sends them to that thread
// only (tgkill), and drains and restores everything before unlocking.

func init() {
	Register(
		Case{Family: "ready", Call: "rt_sigprocmask", Run: testRtSigprocmask},
		Case{Family: "ready", Call: "rt_sigpending", Run: testRtSigpending},
		Case{Family: "ready", Call: "signalfd4", Run: testSignalfd4},
		Case{Family: "ready", Call: "signalfd", Run: testSignalfd},
	)
}

// readyBlock locks the goroutine to its thread and blocks set there. The
// function it returns (defer it) consumes any of set still pending, restores
// the mask and unlocks the thread.
func readyBlock(t T, e *Env, set api.SigSet) func() {
	t.Helper()
	runtime.LockOSThread()
	old, err := e.K.SigprocmaskThread(api.SIG_BLOCK, set)
	if err != nil {
		runtime.UnlockOSThread()
		OK(t, err, "rt_sigprocmask(SIG_BLOCK)")
	}
	return func() {
		if sf, err := e.K.Signalfd(set, api.SFD_NONBLOCK|api.SFD_CLOEXEC); err == nil {
			var infos [8]api.SignalfdSiginfo
			for {
				if n, err := sf.Read(infos[:]); err != nil || n == 0 {
					break
				}
			}
			sf.Close()
		}
		e.K.SigprocmaskThread(api.SIG_SETMASK, old)
		runtime.UnlockOSThread()
	}
}

// readyIDs returns the process and current thread ids, by raw calls.
func readyIDs(t T, e *Env) (pid, tid uintptr) {
	t.Helper()
	pid, err := e.K.Syscall("getpid")
	OK(t, err, "getpid")
	tid, err = e.K.Syscall("gettid")
	OK(t, err, "gettid")
	return pid, tid
}

// readyTgkill sends sig to the calling thread (which must be locked).
func readyTgkill(t T, e *Env, sig api.Signal) {
	t.Helper()
	pid, tid := readyIDs(t, e)
	n, ok := e.K.Const(sig.String())
	True(t, ok, "%v in the ABI table", sig)
	_, err := e.K.Syscall("tgkill", pid, tid, uintptr(n))
	OK(t, err, "tgkill %v", sig)
}

// readyMask reads the thread's mask without changing it.
func readyMask(t T, e *Env) api.SigSet {
	t.Helper()
	m, err := e.K.SigprocmaskThread(api.SIG_BLOCK, api.SigSet{})
	OK(t, err, "read the mask")
	return m
}

func testRtSigprocmask(t T, e *Env) {
	k := e.K
	// SigSet itself.
	s := api.SigSetOf(api.SIGUSR2, api.SIGUSR1, api.Signal(0), api.Signal(200))
	Eq(t, s.String(), "{SIGUSR1,SIGUSR2}", "out-of-range numbers are left out")
	True(t, s.Has(api.SIGUSR1) && !s.Has(api.SIGINT) && !s.Has(0), "Has")
	s.Del(api.SIGUSR1)
	Eq(t, s, api.SigSetOf(api.SIGUSR2), "Del")
	var members []api.Signal
	for sig := range api.SigSetOf(api.SIGHUP, api.Signal(40), api.SIGTERM).Signals() {
		members = append(members, sig)
	}
	Eq(t, len(members), 3)
	True(t, members[0] == api.SIGHUP && members[1] == api.SIGTERM && members[2] == 40, "members in order: %v", members)
	True(t, api.SigSet{}.IsEmpty() && !s.IsEmpty(), "IsEmpty")
	Eq(t, s.Union(api.SigSetOf(api.SIGINT)).Minus(s), api.SigSetOf(api.SIGINT), "Union, Minus")
	how, err := api.ParseSigmaskHow("setmask")
	OK(t, err)
	Eq(t, how, api.SIG_SETMASK)
	_, err = api.ParseSigmaskHow("block,unblock")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "not one word: %v", err)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig := readyMask(t, e)
	defer k.SigprocmaskThread(api.SIG_SETMASK, orig)

	usr := api.SigSetOf(api.SIGUSR1, api.SIGUSR2)
	prev, err := k.SigprocmaskThread(api.SIG_BLOCK, usr)
	OK(t, err, "rt_sigprocmask(SIG_BLOCK)")
	Eq(t, prev, orig, "returns the old mask")
	Eq(t, readyMask(t, e), orig.Union(usr), "both blocked")
	_, err = k.SigprocmaskThread(api.SIG_UNBLOCK, api.SigSetOf(api.SIGUSR1))
	OK(t, err, "SIG_UNBLOCK")
	Eq(t, readyMask(t, e), orig.Union(api.SigSetOf(api.SIGUSR2)).Minus(api.SigSetOf(api.SIGUSR1)), "SIGUSR1 unblocked")

	// SIG_SETMASK replaces; SIGKILL and SIGSTOP cannot be blocked; a
	// real-time signal round-trips.
	rtSig := api.Signal(40)
	_, err = k.SigprocmaskThread(api.SIG_SETMASK, api.SigSetOf(api.SIGKILL, api.SIGSTOP, api.SIGUSR1, rtSig))
	OK(t, err, "SIG_SETMASK")
	Eq(t, readyMask(t, e), api.SigSetOf(api.SIGUSR1, rtSig), "set mask, without SIGKILL and SIGSTOP")

	_, err = k.SigprocmaskThread(api.SigmaskHow(99), usr)
	Want(t, err, api.EINVAL, "unknown how")
	_, err = k.SigprocmaskThread(api.SIG_SETMASK, orig)
	OK(t, err, "restore")
	Eq(t, readyMask(t, e), orig, "restored")
}

// readyMaskInterrupts checks the signal-mask argument of a wait: with a
// SIGUSR1 pending (blocked, sent to this thread), a wait whose mask keeps
// it blocked times out, one whose mask unblocks it is interrupted (EINTR) as
// the handler runs, and the thread's own mask is the same afterwards.
func readyMaskInterrupts(t T, e *Env, what string, wait func(mask *api.SigSet, msec int) error) {
	t.Helper()
	if _, err := e.K.SigprocmaskThread(api.SIG_BLOCK, api.SigSet{}); !Has(err) {
		// A kernel without signal masks or signals to send (a rump
		// kernel) has nothing for the mask to change.
		t.Logf("%s: the kernel has no signal masks (%v): the mask argument is not checked", what, err)
		return
	}
	defer readyBlock(t, e, api.SigSetOf(api.SIGUSR1))()
	before := readyMask(t, e)
	readyTgkill(t, e, api.SIGUSR1)
	keep := before
	_, err := readyRetry(func() (int, error) { return 0, wait(&keep, 10) })
	OK(t, err, "%s with SIGUSR1 still blocked", what)
	p, err := e.K.SigpendingThread()
	OK(t, err)
	True(t, p.Has(api.SIGUSR1), "%s: SIGUSR1 still pending", what)
	Want(t, wait(&api.SigSet{}, 1000), api.EINTR, "%s with a mask unblocking the pending signal", what)
	Eq(t, readyMask(t, e), before, "%s: thread mask unchanged", what)
	p, err = e.K.SigpendingThread()
	OK(t, err)
	True(t, !p.Has(api.SIGUSR1), "%s: SIGUSR1 delivered", what)
}

func testRtSigpending(t T, e *Env) {
	k := e.K
	set := api.SigSetOf(api.SIGUSR2)
	defer readyBlock(t, e, set)()
	p, err := k.SigpendingThread()
	OK(t, err, "rt_sigpending")
	True(t, !p.Has(api.SIGUSR2), "nothing pending yet: %v", p)
	readyTgkill(t, e, api.SIGUSR2)
	p, err = k.SigpendingThread()
	OK(t, err)
	True(t, p.Has(api.SIGUSR2), "SIGUSR2 pending: %v", p)

	sf, err := k.Signalfd(set, api.SFD_NONBLOCK|api.SFD_CLOEXEC)
	OK(t, err, "signalfd4")
	defer sf.Close()
	infos := make([]api.SignalfdSiginfo, 2)
	n, err := sf.Read(infos)
	OK(t, err, "take it")
	Eq(t, n, 1)
	p, err = k.SigpendingThread()
	OK(t, err)
	True(t, !p.Has(api.SIGUSR2), "no longer pending: %v", p)
}

func testSignalfd4(t T, e *Env) {
	k := e.K
	set := api.SigSetOf(api.SIGUSR1, api.SIGUSR2)
	defer readyBlock(t, e, set)()
	sf, err := k.Signalfd(api.SigSetOf(api.SIGUSR1), api.SFD_NONBLOCK|api.SFD_CLOEXEC)
	OK(t, err, "signalfd4")
	defer sf.Close()
	True(t, readyCloexec(t, e, sf.Fd()), "SFD_CLOEXEC set")
	infos := make([]api.SignalfdSiginfo, 4)
	_, err = sf.Read(infos)
	Want(t, err, api.EAGAIN, "nothing pending")

	pid, _ := readyIDs(t, e)
	uid, err := k.Syscall("getuid")
	OK(t, err, "getuid")
	readyTgkill(t, e, api.SIGUSR1)
	readyWaitReadable(t, e, sf.Fd(), "signalfd")
	n, err := sf.Read(infos)
	OK(t, err, "read")
	Eq(t, n, 1, "one signal")
	Eq(t, infos[0].Signo, api.SIGUSR1, "signal")
	Eq(t, infos[0].Pid, uint32(pid), "sender pid")
	Eq(t, infos[0].Uid, uint32(uid), "sender uid")
	if k.ABI().OS == "linux" {
		Eq(t, infos[0].Code, int32(-6), "si_code SI_TKILL")
	}
	_, err = sf.Read(infos)
	Want(t, err, api.EAGAIN, "taken")

	// A signal outside the mask is not reported until SetMask adds it.
	readyTgkill(t, e, api.SIGUSR2)
	_, err = sf.Read(infos)
	Want(t, err, api.EAGAIN, "SIGUSR2 not in the mask")
	OK(t, sf.SetMask(api.SigSetOf(api.SIGUSR2)), "signalfd4 on the descriptor")
	n, err = sf.Read(infos)
	OK(t, err, "read after SetMask")
	Eq(t, n, 1)
	Eq(t, infos[0].Signo, api.SIGUSR2)

	_, err = sf.Read(nil)
	Want(t, err, api.EINVAL, "no room")
	_, err = api.ParseSignalfdFlags("cloexec,semaphore")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "semaphore", "unknown flag word: %v", err)
	OK(t, sf.Close())
	_, err = sf.Read(infos)
	Want(t, err, api.EBADF, "read after close")
	Want(t, sf.SetMask(set), api.EBADF, "SetMask after close")
}

func testSignalfd(t T, e *Env) {
	set := api.SigSetOf(api.SIGUSR1)
	defer readyBlock(t, e, set)()
	sf, err := e.K.SignalfdLegacy(set)
	OK(t, err, "signalfd")
	defer sf.Close()
	True(t, !readyCloexec(t, e, sf.Fd()), "the legacy call sets no flags")
	readyTgkill(t, e, api.SIGUSR1)
	readyWaitReadable(t, e, sf.Fd(), "signalfd")
	infos := make([]api.SignalfdSiginfo, 1)
	n, err := sf.Read(infos)
	OK(t, err, "read")
	Eq(t, n, 1)
	Eq(t, infos[0].Signo, api.SIGUSR1)
	pid, _ := readyIDs(t, e)
	Eq(t, infos[0].Pid, uint32(pid), "sender pid")
}
