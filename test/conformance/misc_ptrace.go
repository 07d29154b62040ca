package conformance

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The ptrace family: attach to a child, stop it, read and write its memory
// and registers, resume and detach. The tracee is /bin/sleep, a child of
// this process, so Yama's ptrace_scope 1 allows it; 2 needs root, 3 forbids
// all.

func init() {
	Register(
		Case{Family: "ptrace", Call: "ptrace_SEIZE", Run: testPtraceSeize},
		Case{Family: "ptrace", Call: "ptrace_INTERRUPT", Run: testPtraceSeize},
		Case{Family: "ptrace", Call: "ptrace_CONT", Run: testPtraceSeize},
		Case{Family: "ptrace", Call: "ptrace_DETACH", Run: testPtraceSeize},
		Case{Family: "ptrace", Call: "ptrace_ATTACH", Run: testPtraceAttach},
		Case{Family: "ptrace", Call: "ptrace_PEEKDATA", Run: testPtracePeekPoke},
		Case{Family: "ptrace", Call: "ptrace_POKEDATA", Run: testPtracePeekPoke},
		Case{Family: "ptrace", Call: "ptrace_GETREGS", Run: testPtraceRegs},
		Case{Family: "ptrace", Call: "ptrace_SETREGS", Run: testPtraceRegs},
		Case{Family: "ptrace", Call: "ptrace_SETOPTIONS", Run: testPtraceEventMsg},
		Case{Family: "ptrace", Call: "ptrace_GETEVENTMSG", Run: testPtraceEventMsg},
		Case{Family: "ptrace", Call: "ptrace_SYSCALL", Run: testPtraceSyscall},
	)
}

// ptraceAllowed skips the case when Yama forbids this process to trace its
// child.
func ptraceAllowed(t T, e *Env) {
	t.Helper()
	procNeedHost(t, e)
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if err != nil {
		return // no Yama: classic rules, a same-uid child is fine
	}
	switch strings.TrimSpace(string(b)) {
	case "2":
		if !IsRoot() {
			t.Skipf("kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may attach")
		}
	case "3":
		t.Skipf("kernel.yama.ptrace_scope is 3: ptrace attach is disabled")
	}
}

// ptraceChild starts /bin/sleep as a child and a tracer; cleanup kills the
// child and closes the tracer.
func ptraceChild(t T, e *Env) (*api.Tracer, int) {
	t.Helper()
	ptraceAllowed(t, e)
	tr, err := e.K.NewTracer()
	NoSys(t, err)
	OK(t, err, "NewTracer")
	cmd := exec.Command("/bin/sleep", "10")
	OK(t, cmd.Start(), "start /bin/sleep")
	p := cmd.Process
	t.Cleanup(func() {
		tr.Close()
		p.Kill()
		p.Wait()
	})
	// Let it finish execve and go to sleep: a PTRACE_ATTACH that lands in
	// the end of execve gets the legacy exec SIGTRAP first.
	stat := "/proc/" + strconv.Itoa(p.Pid) + "/stat"
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if f, err := procStatFields(stat); err == nil && f[2] == "sleep" && f[3] == "S" {
			break
		}
	}
	return tr, p.Pid
}

// ptraceWait waits for pid to change state within 5 s; on a timeout the
// child is killed and the case fails.
func ptraceWait(t T, tr *api.Tracer, pid int) api.PtraceStop {
	t.Helper()
	type res struct {
		st  api.PtraceStop
		err error
	}
	ch := make(chan res, 1)
	go func() {
		st, err := tr.Wait(pid, 0)
		ch <- res{st, err}
	}()
	select {
	case r := <-ch:
		OK(t, r.err, "wait for %d", pid)
		Eq(t, r.st.Pid, pid, "the tracee changed state")
		return r.st
	case <-time.After(5 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("tracee %d did not change state within 5s", pid)
		return api.PtraceStop{}
	}
}

// ptraceStop interrupts a seized tracee and waits for the stop.
func ptraceStop(t T, tr *api.Tracer, pid int) {
	t.Helper()
	OK(t, tr.Interrupt(pid), "PTRACE_INTERRUPT")
	st := ptraceWait(t, tr, pid)
	True(t, st.Status.Stopped(), "stopped: %v", st.Status)
	Eq(t, st.Event, api.PTRACE_EVENT_STOP, "an interrupt stop")
}

// ptraceTracer returns the TracerPid line of pid's status.
func ptraceTracer(t T, pid int) int {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	OK(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "TracerPid:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			OK(t, err)
			return n
		}
	}
	t.Fatalf("no TracerPid in /proc/%d/status", pid)
	return 0
}

// ptraceKill kills and reaps the tracee.
func ptraceKill(t T, e *Env, tr *api.Tracer, pid int) {
	t.Helper()
	OK(t, e.K.Kill(pid, api.SIGKILL), "kill the tracee")
	st := ptraceWait(t, tr, pid)
	True(t, st.Status.Signaled() && st.Status.Signal() == api.SIGKILL, "killed: %v", st.Status)
}

// testPtraceSeize seizes, interrupts, continues and detaches.
func testPtraceSeize(t T, e *Env) {
	k := e.K
	tr, pid := ptraceChild(t, e)
	OK(t, tr.Seize(pid, 0), "PTRACE_SEIZE")
	Eq(t, ptraceTracer(t, pid), tr.Tid(), "TracerPid is the tracer thread")
	True(t, tr.Tid() != 0, "the tracer thread has an id")
	Want(t, tr.Seize(pid, 0), api.EPERM, "seize twice")
	// Requests on a running tracee fail.
	_, err := tr.PeekData(pid, 0)
	Want(t, err, api.ESRCH, "PEEKDATA on a running tracee")
	ptraceStop(t, tr, pid)
	// Another thread cannot make the requests: a second tracer's thread
	// is not the tracer.
	tr2, err := k.NewTracer()
	OK(t, err)
	defer tr2.Close()
	Want(t, tr2.Cont(pid, 0), api.ESRCH, "CONT from another thread")
	OK(t, tr.Cont(pid, 0), "PTRACE_CONT")
	ptraceStop(t, tr, pid)
	OK(t, tr.Detach(pid, 0), "PTRACE_DETACH")
	Eq(t, ptraceTracer(t, pid), 0, "no tracer after detach")
	Want(t, tr.Cont(pid, 0), api.ESRCH, "CONT after detach")
	// The child runs on untraced: it is still alive.
	OK(t, k.Kill(pid, 0), "the child lives")
	ptraceKill(t, e, tr, pid)
	Want(t, tr.Seize(-5, 0), api.EINVAL, "bad pid")
	Want(t, tr.Seize(pid, api.PtraceOptions(1<<40)), api.EINVAL, "unknown options")
	OK(t, tr.Close())
	OK(t, tr.Close(), "close twice")
	Want(t, tr.Interrupt(pid), api.ESRCH, "request after close")
}

// testPtraceAttach attaches the classic way: the tracee stops with SIGSTOP.
func testPtraceAttach(t T, e *Env) {
	k := e.K
	tr, pid := ptraceChild(t, e)
	OK(t, tr.Attach(pid), "PTRACE_ATTACH")
	st := ptraceWait(t, tr, pid)
	if st.Status.StopSignal() == api.SIGTRAP {
		// Attached at the end of execve: the exec's SIGTRAP comes first.
		OK(t, tr.Cont(pid, 0))
		st = ptraceWait(t, tr, pid)
	}
	True(t, st.Status.Stopped() && st.Status.StopSignal() == api.SIGSTOP, "SIGSTOP stop: %v", st.Status)
	Eq(t, ptraceTracer(t, pid), tr.Tid(), "TracerPid is the tracer thread")
	// Closing the tracer ends its thread, which detaches the tracee.
	OK(t, tr.Close())
	deadline := time.Now().Add(2 * time.Second)
	for ptraceTracer(t, pid) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	Eq(t, ptraceTracer(t, pid), 0, "detached when the tracer thread ended")
	tr2, err := k.NewTracer()
	OK(t, err)
	defer tr2.Close()
	OK(t, tr2.Attach(pid), "attach again from a new tracer")
	ptraceWait(t, tr2, pid)
	OK(t, tr2.Detach(pid, 0))
	ptraceKill(t, e, tr2, pid)
}

// ptraceMaps returns the start of the first mapping of path in pid's
// address space, and of its stack.
func ptraceMaps(t T, pid int, path string) (start uintptr) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	OK(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[5] == path && f[2] == "00000000" {
			lo, _, _ := strings.Cut(f[0], "-")
			v, err := strconv.ParseUint(lo, 16, 64)
			OK(t, err)
			if uint64(uintptr(v)) != v {
				t.Skipf("%s is mapped at %#x in %d, beyond this 32-bit tracer's words: run the test as a 64-bit program", path, v, pid)
			}
			return uintptr(v)
		}
	}
	t.Fatalf("no mapping of %s in /proc/%d/maps", path, pid)
	return 0
}

func testPtracePeekPoke(t T, e *Env) {
	tr, pid := ptraceChild(t, e)
	OK(t, tr.Seize(pid, 0))
	ptraceStop(t, tr, pid)
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	OK(t, err)
	base := ptraceMaps(t, pid, exe)
	w, err := tr.PeekData(pid, base)
	OK(t, err, "PTRACE_PEEKDATA")
	Eq(t, uint32(w), uint32(0x464c457f), "the tracee's ELF header (\\x7fELF)")
	// Write a word on the tracee's stack and read it back.
	var regs api.Regs
	if err := tr.GetRegs(pid, &regs); err != nil {
		NoSys(t, err)
		OK(t, err)
	}
	sp := uintptr(regs.Rsp)
	old, err := tr.PeekData(pid, sp-64)
	OK(t, err)
	OK(t, tr.PokeData(pid, sp-64, old^0x5a5a5a5a), "PTRACE_POKEDATA")
	got, err := tr.PeekData(pid, sp-64)
	OK(t, err)
	Eq(t, got, old^0x5a5a5a5a, "the word written")
	OK(t, tr.PokeData(pid, sp-64, old))
	_, err = tr.PeekData(pid, 0)
	True(t, err != nil, "PEEKDATA at address 0 fails")
	Want(t, tr.PokeData(pid, 8, 0), api.EIO, "POKEDATA at an unmapped address")
	OK(t, tr.Cont(pid, 0))
	ptraceKill(t, e, tr, pid)
}

func testPtraceRegs(t T, e *Env) {
	tr, pid := ptraceChild(t, e)
	var regs api.Regs
	err := tr.GetRegs(pid, &regs)
	NoSys(t, err)
	Want(t, err, api.ESRCH, "GETREGS of a process not traced")
	OK(t, tr.Seize(pid, 0))
	ptraceStop(t, tr, pid)
	OK(t, tr.GetRegs(pid, &regs), "PTRACE_GETREGS")
	True(t, regs.Rip != 0 && regs.Rsp != 0, "rip %#x, rsp %#x", regs.Rip, regs.Rsp)
	// The stack pointer is inside the [stack] mapping.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	OK(t, err)
	inStack := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(line, "[stack]") {
			lo, hi, _ := strings.Cut(strings.Fields(line)[0], "-")
			l, _ := strconv.ParseUint(lo, 16, 64)
			h, _ := strconv.ParseUint(hi, 16, 64)
			inStack = regs.Rsp >= l && regs.Rsp < h
		}
	}
	True(t, inStack, "rsp %#x in [stack]", regs.Rsp)
	mod := regs
	mod.R15 ^= 0x1234
	OK(t, tr.SetRegs(pid, &mod), "PTRACE_SETREGS")
	var back api.Regs
	OK(t, tr.GetRegs(pid, &back))
	Eq(t, back.R15, mod.R15, "r15 written")
	Eq(t, back.Rip, regs.Rip, "rip unchanged")
	OK(t, tr.SetRegs(pid, &regs), "restore")
	OK(t, tr.GetRegs(pid, &back))
	Eq(t, back, regs, "registers restored")
	Want(t, tr.GetRegs(pid, nil), api.EINVAL, "nil Regs")
	OK(t, tr.Cont(pid, 0))
	Want(t, tr.SetRegs(pid, &regs), api.ESRCH, "SETREGS of a running tracee")
	ptraceKill(t, e, tr, pid)
}

// testPtraceEventMsg sets PTRACE_O_TRACEEXIT and reads the exit status
// from the exit event's message.
func testPtraceEventMsg(t T, e *Env) {
	k := e.K
	tr, pid := ptraceChild(t, e)
	OK(t, tr.Seize(pid, 0))
	ptraceStop(t, tr, pid)
	OK(t, tr.SetOptions(pid, api.PTRACE_O_TRACEEXIT), "PTRACE_SETOPTIONS")
	OK(t, tr.Cont(pid, 0))
	OK(t, k.Kill(pid, api.SIGTERM))
	st := ptraceWait(t, tr, pid)
	True(t, st.Status.Stopped() && st.Status.StopSignal() == api.SIGTERM, "signal-delivery stop: %v", st.Status)
	Eq(t, st.Event, api.PtraceEvent(0), "not an event stop")
	OK(t, tr.Cont(pid, api.SIGTERM), "deliver SIGTERM")
	st = ptraceWait(t, tr, pid)
	Eq(t, st.Event, api.PTRACE_EVENT_EXIT, "exit event stop")
	msg, err := tr.GetEventMsg(pid)
	OK(t, err, "PTRACE_GETEVENTMSG")
	Eq(t, msg&0x7f, uint64(api.SIGTERM), "the exit status: killed by SIGTERM")
	OK(t, tr.Cont(pid, 0))
	st = ptraceWait(t, tr, pid)
	True(t, st.Status.Signaled() && st.Status.Signal() == api.SIGTERM, "died of SIGTERM: %v", st.Status)
	Want(t, tr.SetOptions(pid, api.PtraceOptions(1<<40)), api.EINVAL, "unknown option")
	_, err = tr.GetEventMsg(pid)
	Want(t, err, api.ESRCH, "the tracee is gone")
	o, err := api.ParsePtraceOptions("tracesysgood,exitkill")
	OK(t, err)
	Eq(t, o, api.PTRACE_O_TRACESYSGOOD|api.PTRACE_O_EXITKILL)
}

// testPtraceSyscall stops the tracee at its next system call with
// PTRACE_O_TRACESYSGOOD marking the stop.
func testPtraceSyscall(t T, e *Env) {
	tr, pid := ptraceChild(t, e)
	OK(t, tr.Seize(pid, api.PTRACE_O_TRACESYSGOOD|api.PTRACE_O_EXITKILL))
	ptraceStop(t, tr, pid)
	OK(t, tr.ContSyscall(pid, 0), "PTRACE_SYSCALL")
	st := ptraceWait(t, tr, pid)
	True(t, st.Status.Stopped(), "stopped: %v", st.Status)
	Eq(t, st.Status.StopSignal(), api.SIGTRAP|0x80, "a syscall stop (SIGTRAP|0x80)")
	var regs api.Regs
	if err := tr.GetRegs(pid, &regs); err == nil {
		True(t, regs.OrigRax < 1024, "orig_rax %d is a syscall number", regs.OrigRax)
	}
	OK(t, tr.Cont(pid, 0))
	ptraceKill(t, e, tr, pid)
}
