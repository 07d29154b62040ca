package api

import (
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

// ptrace: observe and control another process (attach, stop, read and
// write its memory and registers, resume, detach).
//
// Linux makes the tracer a thread, not a process: only the thread that
// attached may make the other requests, and when it exits the tracees are
// detached. A Go program's goroutines wander between threads, so a Tracer
// owns one goroutine locked to its own OS thread and makes every ptrace
// request there, one at a time. Closing the Tracer ends that thread, which
// detaches whatever it still traces.

var (
	sysPtrace      = newCall("ptrace")
	sysPtraceWait4 = newCall("wait4", "__wait450")
)

// regsBufSize bounds struct user_regs_struct (Linux amd64: 216 bytes).
const regsBufSize = 512

// Regs is the general registers of an amd64 thread (struct
// user_regs_struct). Other architectures answer ENOSYS to GetRegs and
// SetRegs.
type Regs struct {
	R15, R14, R13, R12, Rbp, Rbx, R11, R10, R9, R8 uint64
	Rax, Rcx, Rdx, Rsi, Rdi                        uint64
	OrigRax                                        uint64 // the syscall number at a syscall stop
	Rip, Cs, Eflags, Rsp, Ss                       uint64
	FsBase, GsBase                                 uint64
	Ds, Es, Fs, Gs                                 uint64
}

// regNames are user_regs_struct's C names in Regs's order.
var regNames = [...]string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
	"fs_base", "gs_base", "ds", "es", "fs", "gs"}

// slots returns Regs's fields in regNames's order.
func (r *Regs) slots() [len(regNames)]*uint64 {
	return [...]*uint64{&r.R15, &r.R14, &r.R13, &r.R12, &r.Rbp, &r.Rbx, &r.R11, &r.R10, &r.R9, &r.R8,
		&r.Rax, &r.Rcx, &r.Rdx, &r.Rsi, &r.Rdi, &r.OrigRax, &r.Rip, &r.Cs, &r.Eflags, &r.Rsp, &r.Ss,
		&r.FsBase, &r.GsBase, &r.Ds, &r.Es, &r.Fs, &r.Gs}
}

// ptraceState is ptrace's per-Kernel state.
type ptraceState struct {
	ok bool // PTRACE_ATTACH, DETACH, CONT, PEEKDATA and POKEDATA are known

	seize, attach, interrupt, detach, cont, listen   abiConst
	peekdata, pokedata, getregs, setregs, setoptions abiConst
	geteventmsg, syscall, singlestep                 abiConst
	wall                                             abiConst // __WALL
	eventShift                                       uint     // status>>16 holds PTRACE_EVENT_*

	regs   layout // size 0: no amd64 user_regs_struct (ENOSYS)
	regsAt [len(regNames)]fieldAt
}

func (s *ptraceState) init(k *Kernel) error {
	s.ok = constsOf(k, &s.attach, "PTRACE_ATTACH", &s.detach, "PTRACE_DETACH", &s.cont, "PTRACE_CONT",
		&s.peekdata, "PTRACE_PEEKDATA", &s.pokedata, "PTRACE_POKEDATA")
	constsOf(k, &s.seize, "PTRACE_SEIZE", &s.interrupt, "PTRACE_INTERRUPT", &s.listen, "PTRACE_LISTEN",
		&s.getregs, "PTRACE_GETREGS", &s.setregs, "PTRACE_SETREGS", &s.setoptions, "PTRACE_SETOPTIONS",
		&s.geteventmsg, "PTRACE_GETEVENTMSG", &s.syscall, "PTRACE_SYSCALL", &s.singlestep, "PTRACE_SINGLESTEP",
		&s.wall, "__WALL")
	s.eventShift = 16
	l := k.optLayout("user_regs_struct")
	if l.s == nil || l.size > regsBufSize {
		return nil
	}
	for i, n := range regNames {
		f, err := l.must(n)
		if err != nil || f.size != 8 {
			return nil // not amd64's registers
		}
		s.regsAt[i] = f
	}
	s.regs = l
	return nil
}

// PtraceStop is a change of state of a tracee, as Tracer.Wait reports it.
type PtraceStop struct {
	Pid    int
	Status WaitStatus
	// Event is the PTRACE_EVENT_* of an event stop (PTRACE_EVENT_STOP for
	// the stop PTRACE_INTERRUPT causes, or a group stop of a seized
	// tracee); 0 otherwise.
	Event PtraceEvent
}

// Tracer makes ptrace requests from one OS thread of its own, the thread
// Linux knows as the tracer. It is safe for concurrent use; requests are
// made one at a time. A Tracer that becomes unreachable is closed.
type Tracer struct {
	k       *Kernel
	reqs    chan<- func()
	quit    chan struct{}
	once    sync.Once
	tid     int
	cleanup runtime.Cleanup
}

// NewTracer starts a tracer thread.
func (k *Kernel) NewTracer() (*Tracer, error) {
	if !k.misc.pt.ok {
		return nil, callErr("ptrace", ENOSYS)
	}
	reqs := make(chan func())
	quit := make(chan struct{})
	ready := make(chan int)
	go tracerLoop(k, reqs, quit, ready, nil)
	t := &Tracer{k: k, reqs: reqs, quit: quit, tid: <-ready}
	t.cleanup = runtime.AddCleanup(t, closeLostTracer, quit)
	return t, nil
}

// tracerLoop is the tracer thread. It must not reference the Tracer, so
// that a lost one can be collected (and its thread ended).
//
// If it is handed the host process's main thread, it starts over on another
// goroutine while it holds the main thread (so the other cannot get it),
// and gives the main thread back: Go never ends the main thread (it parks
// it instead), so tracees attached from it would stay attached after
// Close. held, when not nil, is closed once this goroutine has its thread.
func tracerLoop(k *Kernel, reqs <-chan func(), quit <-chan struct{}, ready chan<- int, held chan<- struct{}) {
	// Never unlocked (but on the main thread): when the loop returns, the
	// thread exits with it, and the kernel detaches every tracee this
	// thread still has.
	runtime.LockOSThread()
	if held != nil {
		close(held)
	}
	tid := k.Gettid()
	if _, host := k.b.(HostBackend); host && held == nil && tid == k.Getpid() {
		h := make(chan struct{})
		go tracerLoop(k, reqs, quit, ready, h)
		<-h
		runtime.UnlockOSThread()
		return
	}
	ready <- tid
	for {
		select {
		case f := <-reqs:
			f()
		case <-quit:
			return
		}
	}
}

func closeLostTracer(quit chan struct{}) { close(quit) }

// Tid returns the id of the tracer thread: the TracerPid a tracee's
// /proc status shows.
func (t *Tracer) Tid() int { return t.tid }

// Close ends the tracer thread; tracees still attached are detached by the
// kernel and continue. Later requests fail with ESRCH. Closing twice is
// not an error.
func (t *Tracer) Close() error {
	t.once.Do(func() {
		t.cleanup.Stop()
		close(t.quit)
	})
	return nil
}

// do runs f on the tracer thread and waits for it.
func (t *Tracer) do(f func()) Errno {
	done := make(chan struct{})
	select {
	case t.reqs <- func() { f(); close(done) }:
	case <-t.quit:
		return ESRCH
	}
	<-done
	return 0
}

// request makes ptrace(req, pid, addr, data) on the tracer thread; addr
// and data are numbers, not addresses.
func (t *Tracer) request(op string, req abiConst, pid int, addr, data uintptr) error {
	if t == nil {
		return callErr(op, ESRCH)
	}
	if !req.ok {
		return callErr(op, ENOSYS)
	}
	if err := ptracePid(op, pid); err != nil {
		return err
	}
	var e Errno
	if qe := t.do(func() {
		_, e = t.k.syscall(sysPtrace, uintptr(req.v), uintptr(pid), addr, data, 0, 0)
	}); qe != 0 {
		return callErr(op, qe)
	}
	if e != 0 {
		return callErr(op, e)
	}
	return nil
}

// ptracePid checks a tracee's pid: a positive 32-bit number.
func ptracePid(op string, pid int) error {
	if pid <= 0 || pid != int(int32(pid)) {
		return badArg(op, "pid "+strconv.Itoa(pid)+" out of range")
	}
	return nil
}

func (t *Tracer) state() *ptraceState {
	if t == nil {
		return &ptraceState{}
	}
	return &t.k.misc.pt
}

// Seize attaches to process pid without stopping it (PTRACE_SEIZE),
// with opts set as SetOptions would. Interrupt stops it.
func (t *Tracer) Seize(pid int, opts PtraceOptions) error {
	const op = "ptrace PTRACE_SEIZE"
	o, err := t.options(op, opts)
	if err != nil {
		return err
	}
	return t.request(op, t.state().seize, pid, 0, o)
}

func (t *Tracer) options(op string, opts PtraceOptions) (uintptr, error) {
	if t == nil {
		return 0, callErr(op, ESRCH)
	}
	o, err := t.k.miscBits(op, ptraceOptionsFamily, uint64(opts))
	return uintptr(o), err
}

// Attach attaches to process pid and sends it SIGSTOP (PTRACE_ATTACH);
// Wait sees it stop.
func (t *Tracer) Attach(pid int) error {
	return t.request("ptrace PTRACE_ATTACH", t.state().attach, pid, 0, 0)
}

// Interrupt stops a seized tracee (PTRACE_INTERRUPT); Wait sees a stop
// with Event PTRACE_EVENT_STOP.
func (t *Tracer) Interrupt(pid int) error {
	return t.request("ptrace PTRACE_INTERRUPT", t.state().interrupt, pid, 0, 0)
}

// Listen lets a seized tracee in a group stop wait for SIGCONT while
// still traced (PTRACE_LISTEN).
func (t *Tracer) Listen(pid int) error {
	return t.request("ptrace PTRACE_LISTEN", t.state().listen, pid, 0, 0)
}

// SetOptions sets the tracing options of a stopped tracee
// (PTRACE_SETOPTIONS).
func (t *Tracer) SetOptions(pid int, opts PtraceOptions) error {
	const op = "ptrace PTRACE_SETOPTIONS"
	o, err := t.options(op, opts)
	if err != nil {
		return err
	}
	return t.request(op, t.state().setoptions, pid, 0, o)
}

// resume is the requests that restart a stopped tracee, delivering sig
// (0: none).
func (t *Tracer) resume(op string, req abiConst, pid int, sig Signal) error {
	if t == nil {
		return callErr(op, ESRCH)
	}
	s, err := t.k.procSigArg(op, sig)
	if err != nil {
		return err
	}
	return t.request(op, req, pid, 0, s)
}

// Cont restarts a stopped tracee, delivering sig unless it is 0
// (PTRACE_CONT).
func (t *Tracer) Cont(pid int, sig Signal) error {
	return t.resume("ptrace PTRACE_CONT", t.state().cont, pid, sig)
}

// ContSyscall is Cont that stops the tracee again at its next system call
// entry or exit (PTRACE_SYSCALL).
func (t *Tracer) ContSyscall(pid int, sig Signal) error {
	return t.resume("ptrace PTRACE_SYSCALL", t.state().syscall, pid, sig)
}

// SingleStep is Cont that stops the tracee again after one instruction
// (PTRACE_SINGLESTEP).
func (t *Tracer) SingleStep(pid int, sig Signal) error {
	return t.resume("ptrace PTRACE_SINGLESTEP", t.state().singlestep, pid, sig)
}

// Detach lets a stopped tracee go, delivering sig unless it is 0
// (PTRACE_DETACH).
func (t *Tracer) Detach(pid int, sig Signal) error {
	return t.resume("ptrace PTRACE_DETACH", t.state().detach, pid, sig)
}

// PeekData reads the word at addr in a stopped tracee's memory
// (PTRACE_PEEKDATA).
func (t *Tracer) PeekData(pid int, addr uintptr) (uintptr, error) {
	const op = "ptrace PTRACE_PEEKDATA"
	if t == nil {
		return 0, callErr(op, ESRCH)
	}
	s := t.state()
	if !s.peekdata.ok {
		return 0, callErr(op, ENOSYS)
	}
	if err := ptracePid(op, pid); err != nil {
		return 0, err
	}
	var w uintptr
	var e Errno
	if qe := t.do(func() {
		// The kernel's call stores the word at data (the C library's
		// wrapper returns it instead).
		var v uintptr
		_, e = t.k.syscall(sysPtrace, uintptr(s.peekdata.v), uintptr(pid), addr, uintptr(unsafe.Pointer(&v)), 0, 0)
		w = v
	}); qe != 0 {
		return 0, callErr(op, qe)
	}
	if e != 0 {
		return 0, callErr(op, e)
	}
	return w, nil
}

// PokeData writes word at addr in a stopped tracee's memory
// (PTRACE_POKEDATA), even where the tracee may not write (its code).
func (t *Tracer) PokeData(pid int, addr, word uintptr) error {
	return t.request("ptrace PTRACE_POKEDATA", t.state().pokedata, pid, addr, word)
}

// GetEventMsg returns the message of the last event stop
// (PTRACE_GETEVENTMSG): a new child's pid for FORK, VFORK and CLONE, the
// exit status for EXIT, the former thread id for EXEC, the filter's data
// for SECCOMP.
func (t *Tracer) GetEventMsg(pid int) (uint64, error) {
	const op = "ptrace PTRACE_GETEVENTMSG"
	if t == nil {
		return 0, callErr(op, ESRCH)
	}
	s := t.state()
	if !s.geteventmsg.ok {
		return 0, callErr(op, ENOSYS)
	}
	if err := ptracePid(op, pid); err != nil {
		return 0, err
	}
	var msg uint64
	var e Errno
	if qe := t.do(func() {
		var v uintptr // unsigned long
		_, e = t.k.syscall(sysPtrace, uintptr(s.geteventmsg.v), uintptr(pid), 0, uintptr(unsafe.Pointer(&v)), 0, 0)
		msg = uint64(v)
	}); qe != 0 {
		return 0, callErr(op, qe)
	}
	if e != 0 {
		return 0, callErr(op, e)
	}
	return msg, nil
}

// GetRegs reads a stopped tracee's general registers (PTRACE_GETREGS).
// Only amd64 is served; other architectures answer ENOSYS.
func (t *Tracer) GetRegs(pid int, r *Regs) error {
	const op = "ptrace PTRACE_GETREGS"
	if r == nil {
		return badArg(op, "nil *Regs")
	}
	if t == nil {
		return callErr(op, ESRCH)
	}
	s := t.state()
	if !s.getregs.ok || s.regs.s == nil {
		return callErr(op, ENOSYS)
	}
	if err := ptracePid(op, pid); err != nil {
		return err
	}
	var e Errno
	if qe := t.do(func() {
		var raw [regsBufSize]byte
		_, e = t.k.syscall(sysPtrace, uintptr(s.getregs.v), uintptr(pid), 0, uintptr(unsafe.Pointer(&raw)), 0, 0)
		if e == 0 {
			for i, p := range r.slots() {
				*p = s.regsAt[i].uint(raw[:], s.regs.be)
			}
		}
	}); qe != 0 {
		return callErr(op, qe)
	}
	if e != 0 {
		return callErr(op, e)
	}
	return nil
}

// SetRegs writes a stopped tracee's general registers (PTRACE_SETREGS);
// start from what GetRegs read. Only amd64 is served.
func (t *Tracer) SetRegs(pid int, r *Regs) error {
	const op = "ptrace PTRACE_SETREGS"
	if r == nil {
		return badArg(op, "nil *Regs")
	}
	if t == nil {
		return callErr(op, ESRCH)
	}
	s := t.state()
	if !s.setregs.ok || s.regs.s == nil {
		return callErr(op, ENOSYS)
	}
	if err := ptracePid(op, pid); err != nil {
		return err
	}
	var e Errno
	if qe := t.do(func() {
		var raw [regsBufSize]byte
		for i, p := range r.slots() {
			s.regsAt[i].put(raw[:], s.regs.be, *p)
		}
		_, e = t.k.syscall(sysPtrace, uintptr(s.setregs.v), uintptr(pid), 0, uintptr(unsafe.Pointer(&raw)), 0, 0)
	}); qe != 0 {
		return callErr(op, qe)
	}
	if e != 0 {
		return callErr(op, e)
	}
	return nil
}

// Wait waits for a tracee (pid, or -1 for any child or tracee) to change
// state (wait4 with __WALL, so that traced threads count too). Unlike the
// other requests it runs on the calling goroutine: any thread of the
// tracer's process may wait, and a Wait in progress does not hold up
// Interrupt. opts may add WNOHANG (Pid 0 then when nothing changed).
func (t *Tracer) Wait(pid int, opts WaitOptions) (PtraceStop, error) {
	const op = "wait4"
	if t == nil {
		return PtraceStop{}, callErr(op, ESRCH)
	}
	k := t.k
	if err := procCheckID(op, pid); err != nil {
		return PtraceStop{}, err
	}
	fl, err := k.procCheckBits(op, waitOptionsFamily, uint64(opts))
	if err != nil {
		return PtraceStop{}, err
	}
	s := &k.misc.pt
	if s.wall.ok {
		fl |= uintptr(s.wall.v)
	}
	var st uint32
	r, e := k.syscall(sysPtraceWait4, uintptr(pid), uintptr(unsafe.Pointer(&st)), fl, 0, 0, 0)
	if e != 0 {
		return PtraceStop{}, callErr(op, e)
	}
	if r == 0 {
		return PtraceStop{}, nil
	}
	ps := PtraceStop{Pid: int(r), Status: k.decodeWaitStatus(st)}
	if ps.Status.Stopped() {
		ps.Event = PtraceEvent(k.enumFromABI(ptraceEventFamily, uint64(st>>s.eventShift)))
	}
	return ps, nil
}
