package api

import (
	"os"
	"unsafe"
)

// The processes family: process and thread ids, sessions and groups,
// signals to processes, pidfds, prctl. Identity (uids, gids) is in ids.go,
// waiting in wait.go, scheduling in sched.go, resource limits in rlimit.go,
// uname/sysinfo/getrandom in sysinfo.go.

// procState is this family's per-Kernel state, filled in at New.
type procState struct {
	// host is true when the backend's processes are the host process
	// itself: identity changes then go to every thread (AllThreadsSyscall).
	host bool
	// linuxNice is true when getpriority returns 20-nice (Linux) rather
	// than the nice value itself.
	linuxNice bool

	rlimInf  uint64 // the ABI's RLIM_INFINITY for getrlimit/setrlimit
	rlimit   layout
	rlimCur  fieldAt
	rlimMax  fieldAt
	rlimit64 layout // struct rlimit64 of prlimit64; size 0 when absent
	rl64Cur  fieldAt
	rl64Max  fieldAt

	rusage layout
	ru     rusageFields

	siginfo layout
	si      siginfoFields

	utsname layout
	uts     [6]fieldAt // sysname nodename release version machine domainname

	sysinfo layout // optional: ENOSYS when the table lacks it
	sys     procSysinfoFields

	schedParam       layout
	schedPrio        fieldAt
	schedResetOnFork uint64

	pr procPrctlConsts
}

// procPrctlConsts are the prctl options api wraps; procNoConst marks one the ABI
// lacks (the call then answers ENOSYS).
type procPrctlConsts struct {
	setName, getName, getDumpable, setDumpable uint64
	setPdeathsig, getPdeathsig                 uint64
	getNoNewPrivs, setNoNewPrivs               uint64
}

const procNoConst = ^uint64(0)

// procField names a field to resolve into p.
type procField struct {
	p    *fieldAt
	name string
}

// procStruct resolves an optional struct and its fields. A struct the ABI
// lacks gives a zero layout (callers answer ENOSYS); one larger than max or
// lacking a field is an error, since api would misread it.
func procStruct(k *Kernel, name string, max int, fields ...procField) (layout, error) {
	l := k.optLayout(name)
	if l.s == nil {
		return layout{}, nil
	}
	if l.size > max {
		return layout{}, errMissing("a struct " + name + " that fits its buffer")
	}
	for _, f := range fields {
		var err error
		if *f.p, err = l.must(f.name); err != nil {
			// A table that describes the struct only in part (one taken
			// from x/sys/unix) cannot serve the call: ENOSYS, not a
			// Kernel that fails to start.
			return layout{}, nil
		}
	}
	return l, nil
}

func (s *procState) init(k *Kernel) error {
	_, s.host = k.b.(HostBackend)
	s.linuxNice = k.table.OS == "linux"
	var err error

	s.rlimInf = ^uint64(0)
	if v, ok := k.table.Const("RLIM_INFINITY"); ok {
		s.rlimInf = v
	}
	if s.rlimit, err = procStruct(k, "rlimit", procRlimitBufSize,
		procField{&s.rlimCur, "rlim_cur"}, procField{&s.rlimMax, "rlim_max"}); err != nil {
		return err
	}
	if s.rlimit64, err = procStruct(k, "rlimit64", procRlimitBufSize,
		procField{&s.rl64Cur, "rlim_cur"}, procField{&s.rl64Max, "rlim_max"}); err != nil {
		return err
	}
	if s.rlimit64.s == nil && s.rlimCur.size == 8 && s.rlimMax.size == 8 {
		// An LP64 ABI's struct rlimit is struct rlimit64.
		s.rlimit64, s.rl64Cur, s.rl64Max = s.rlimit, s.rlimCur, s.rlimMax
	}

	ru := &s.ru
	if s.rusage, err = procStruct(k, "rusage", procRusageBufSize,
		procField{&ru.utimeS, "ru_utime.tv_sec"}, procField{&ru.utimeU, "ru_utime.tv_usec"},
		procField{&ru.stimeS, "ru_stime.tv_sec"}, procField{&ru.stimeU, "ru_stime.tv_usec"},
		procField{&ru.maxrss, "ru_maxrss"}, procField{&ru.ixrss, "ru_ixrss"},
		procField{&ru.idrss, "ru_idrss"}, procField{&ru.isrss, "ru_isrss"},
		procField{&ru.minflt, "ru_minflt"}, procField{&ru.majflt, "ru_majflt"},
		procField{&ru.nswap, "ru_nswap"}, procField{&ru.inblock, "ru_inblock"},
		procField{&ru.oublock, "ru_oublock"}, procField{&ru.msgsnd, "ru_msgsnd"},
		procField{&ru.msgrcv, "ru_msgrcv"}, procField{&ru.nsignals, "ru_nsignals"},
		procField{&ru.nvcsw, "ru_nvcsw"}, procField{&ru.nivcsw, "ru_nivcsw"}); err != nil {
		return err
	}

	si := &s.si
	if s.siginfo, err = procStruct(k, "siginfo", procSiginfoBufSize,
		procField{&si.signo, "si_signo"}, procField{&si.code, "si_code"},
		procField{&si.pid, "si_pid"}, procField{&si.uid, "si_uid"},
		procField{&si.status, "si_status"}); err != nil {
		return err
	}

	if s.utsname, err = procStruct(k, "utsname", procUtsnameBufSize,
		procField{&s.uts[0], "sysname"}, procField{&s.uts[1], "nodename"},
		procField{&s.uts[2], "release"}, procField{&s.uts[3], "version"},
		procField{&s.uts[4], "machine"}); err != nil {
		return err
	}
	s.uts[5] = s.utsname.field("domainname") // a GNU extension

	if err := s.initSysinfo(k); err != nil {
		return err
	}

	if s.schedParam, err = procStruct(k, "sched_param", procSchedParamBufSize,
		procField{&s.schedPrio, "sched_priority"}); err != nil {
		return err
	}
	s.schedResetOnFork, _ = k.table.Const("SCHED_RESET_ON_FORK")

	c := func(name string) uint64 {
		if v, ok := k.table.Const(name); ok {
			return v
		}
		return procNoConst
	}
	s.pr = procPrctlConsts{
		setName: c("PR_SET_NAME"), getName: c("PR_GET_NAME"),
		getDumpable: c("PR_GET_DUMPABLE"), setDumpable: c("PR_SET_DUMPABLE"),
		setPdeathsig: c("PR_SET_PDEATHSIG"), getPdeathsig: c("PR_GET_PDEATHSIG"),
		getNoNewPrivs: c("PR_GET_NO_NEW_PRIVS"), setNoNewPrivs: c("PR_SET_NO_NEW_PRIVS"),
	}
	return nil
}

// procCheckBits rejects bits that name no member of family f and converts the
// rest to the ABI, so that a typo in a flag word is an error even where
// the conversion is the identity.
func (k *Kernel) procCheckBits(call string, f *family, v uint64) (uintptr, error) {
	if extra := v &^ k.bits[f.id].known; extra != 0 {
		return 0, badArg(call, "unknown "+f.goType+" bits "+f.formatBits(extra))
	}
	a, err := k.flagsToABI(f, v)
	if err != nil {
		return 0, &os.SyscallError{Syscall: call, Err: err}
	}
	return uintptr(a), nil
}

// procSigArg converts a signal for the ABI. Signal 0 (an existence check) is
// 0 everywhere; numbers api has no name for (real-time signals) pass
// through unchanged where the ABI numbers signals as api does.
func (k *Kernel) procSigArg(call string, sig Signal) (uintptr, error) {
	if sig == 0 {
		return 0, nil
	}
	if sig < 0 {
		return 0, badArg(call, "negative signal number")
	}
	v, err := k.enumToABI(signalFamily, uint64(sig))
	if err != nil {
		return 0, &os.SyscallError{Syscall: call, Err: err}
	}
	return uintptr(v), nil
}

// procSigFromABI converts an ABI's signal number to api's.
func (k *Kernel) procSigFromABI(v uint64) Signal {
	return Signal(k.enumFromABI(signalFamily, v))
}

// procCheckID validates a process, group or session id argument: pid_t is 32
// bits everywhere api runs.
func procCheckID(call string, id int) error {
	if id != int(int32(id)) {
		return badArg(call, "id out of range")
	}
	return nil
}

var (
	sysGetpid  = newCall("getpid")
	sysGetppid = newCall("getppid")
	sysGettid  = newCall("gettid", "_lwp_self")
	sysGetpgid = newCall("getpgid")
	sysSetpgid = newCall("setpgid")
	sysGetpgrp = newCall("getpgrp")
	sysGetsid  = newCall("getsid")
	sysSetsid  = newCall("setsid")
)

// Getpid returns the process id, or -1 if the kernel has no getpid.
//
// Raw syscall: getpid never blocks, and the scheduler hand-off would cost
// more than the call. It does not allocate.
func (k *Kernel) Getpid() int {
	// The backend directly, not through rawSyscall: after a trap the
	// CPU's return predictions are gone, so every call level between
	// the caller and the trap costs a mispredicted return, a tenth of
	// getpid's price; this keeps Getpid as shallow as x/sys/unix's.
	nr := k.nr[sysGetpid]
	if nr >= padMark {
		return k.getID(sysGetpid)
	}
	r, _, e := k.b.RawSyscall(nr, 0, 0, 0, 0, 0, 0)
	if e != 0 {
		return -1
	}
	return int(r)
}

// Getppid returns the parent's process id, or -1 if the kernel has no
// getppid. Raw syscall: it never blocks.
func (k *Kernel) Getppid() int { return k.getID(sysGetppid) }

// Gettid returns the id of the calling OS thread, or -1 if the kernel has
// none. A goroutine moves between threads unless it is locked to one
// (runtime.LockOSThread), so the answer is only stable for a locked
// goroutine. Raw syscall: it never blocks.
func (k *Kernel) Gettid() int { return k.getID(sysGettid) }

// Getpgrp returns the process group of the calling process, or -1 if the
// kernel has no getpgrp. Raw syscall: it never blocks.
func (k *Kernel) Getpgrp() int { return k.getID(sysGetpgrp) }

// Getpgid returns the process group of process pid (0: the caller).
func (k *Kernel) Getpgid(pid int) (int, error) { return k.pidOf("getpgid", sysGetpgid, pid) }

// pidOf makes a raw call that maps process pid (0: the caller) to an id:
// it only reads, and never blocks.
func (k *Kernel) pidOf(op string, c call, pid int) (int, error) {
	if err := procCheckID(op, pid); err != nil {
		return 0, err
	}
	r, e := k.rawSyscall(c, uintptr(pid), 0, 0, 0, 0, 0)
	if e != 0 {
		return 0, callErr(op, e)
	}
	return int(r), nil
}

// Setpgid moves process pid (0: the caller) into process group pgid (0:
// the group whose id is pid's). A child that has already called execve
// cannot be moved (EACCES).
func (k *Kernel) Setpgid(pid, pgid int) error {
	if err := procCheckID("setpgid", pid); err != nil {
		return err
	}
	if err := procCheckID("setpgid", pgid); err != nil {
		return err
	}
	if pid < 0 || pgid < 0 {
		// Linux's answer; NetBSD would say ESRCH.
		return callErr("setpgid", EINVAL)
	}
	return errOnly(k.intCall("setpgid", sysSetpgid, uintptr(pid), uintptr(pgid), 0))
}

// Getsid returns the session id of process pid (0: the caller).
func (k *Kernel) Getsid(pid int) (int, error) { return k.pidOf("getsid", sysGetsid, pid) }

// Setsid makes the caller the leader of a new session and process group
// and returns the new session id. A process group leader cannot (EPERM).
func (k *Kernel) Setsid() (int, error) {
	r, err := k.intCall("setsid", sysSetsid, 0, 0, 0)
	return int(r), err
}

var (
	sysKill            = newCall("kill")
	sysTgkill          = newCall("tgkill")
	sysTkill           = newCall("tkill")
	sysPidfdOpen       = newCall("pidfd_open")
	sysPidfdSendSignal = newCall("pidfd_send_signal")
)

// Kill sends sig to process pid (0: the caller's process group; -1: every
// process it may signal; -pgid: that group). Signal 0 sends nothing and
// checks that the process exists and may be signalled.
func (k *Kernel) Kill(pid int, sig Signal) error {
	if err := procCheckID("kill", pid); err != nil {
		return err
	}
	s, err := k.procSigArg("kill", sig)
	if err != nil {
		return err
	}
	return errOnly(k.intCall("kill", sysKill, uintptr(pid), s, 0))
}

// Tgkill sends sig to thread tid of process tgid; the process id guards
// against a thread id the kernel has reused for another process.
func (k *Kernel) Tgkill(tgid, tid int, sig Signal) error {
	if err := procCheckID("tgkill", tgid); err != nil {
		return err
	}
	if err := procCheckID("tgkill", tid); err != nil {
		return err
	}
	s, err := k.procSigArg("tgkill", sig)
	if err != nil {
		return err
	}
	return errOnly(k.intCall("tgkill", sysTgkill, uintptr(tgid), uintptr(tid), s))
}

// Tkill sends sig to thread tid. Prefer Tgkill, which cannot hit a reused
// thread id of another process.
func (k *Kernel) Tkill(tid int, sig Signal) error {
	if err := procCheckID("tkill", tid); err != nil {
		return err
	}
	s, err := k.procSigArg("tkill", sig)
	if err != nil {
		return err
	}
	return errOnly(k.intCall("tkill", sysTkill, uintptr(tid), s, 0))
}

// PidfdOpen returns a descriptor that refers to process pid: signals sent
// through it (PidfdSendSignal) and waits on it (WaitPidfd) cannot reach
// another process that reused the number, and it polls readable when the
// process exits.
func (k *Kernel) PidfdOpen(pid int, flags PidfdFlags) (*Fd, error) {
	if err := procCheckID("pidfd_open", pid); err != nil {
		return nil, err
	}
	fl, err := k.procCheckBits("pidfd_open", pidfdFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	r, err := k.intCall("pidfd_open", sysPidfdOpen, uintptr(pid), fl, 0)
	if err != nil {
		return nil, err
	}
	return k.newFd(r), nil
}

// PidfdSendSignal sends sig to the process pidfd refers to (signal 0 only
// checks that it is still alive).
func (k *Kernel) PidfdSendSignal(pidfd *Fd, sig Signal) error {
	if pidfd != nil && pidfd.k != k {
		return callErr("pidfd_send_signal", EBADF)
	}
	s, err := k.procSigArg("pidfd_send_signal", sig)
	if err != nil {
		return err
	}
	return errOnly(pidfd.fdCall("pidfd_send_signal", sysPidfdSendSignal, s, 0, 0))
}

var sysPrctl = newCall("prctl")

// prctl makes a prctl call with integer arguments only.
func (k *Kernel) prctl(opt uint64, a2 uintptr) (uintptr, Errno) {
	if opt == procNoConst {
		return 0, ENOSYS
	}
	return k.syscall(sysPrctl, uintptr(opt), a2, 0, 0, 0, 0)
}

// procThreadNameMax is the size of a thread name with its NUL (TASK_COMM_LEN).
const procThreadNameMax = 16

// PrctlSetName sets the name of the calling OS thread (PR_SET_NAME), as
// shown in /proc/self/task/*/comm and by top; the kernel keeps the first 15
// bytes. It acts on whichever thread runs the goroutine: lock the
// goroutine to its thread (runtime.LockOSThread) to name one on purpose.
func (k *Kernel) PrctlSetName(name string) error {
	if len(name) >= 4096 {
		return badArg("prctl", "thread name too long")
	}
	var b [procThreadNameMax]byte
	for i := 0; i < len(name) && i < procThreadNameMax-1; i++ {
		if name[i] == 0 {
			return badArg("prctl", "thread name "+quoteNUL(name)+" contains a NUL byte")
		}
		b[i] = name[i]
	}
	if k.procs.pr.setName == procNoConst {
		return callErr("prctl", ENOSYS)
	}
	_, e := k.syscall(sysPrctl, uintptr(k.procs.pr.setName), uintptr(unsafe.Pointer(&b[0])), 0, 0, 0, 0)
	if e != 0 {
		return callErr("prctl", e)
	}
	return nil
}

// PrctlGetName returns the name of the calling OS thread (PR_GET_NAME).
func (k *Kernel) PrctlGetName() (string, error) {
	if k.procs.pr.getName == procNoConst {
		return "", callErr("prctl", ENOSYS)
	}
	var b [procThreadNameMax + 1]byte
	_, e := k.syscall(sysPrctl, uintptr(k.procs.pr.getName), uintptr(unsafe.Pointer(&b[0])), 0, 0, 0, 0)
	if e != 0 {
		return "", callErr("prctl", e)
	}
	return goString(b[:]), nil
}

// PrctlGetDumpable reports whether the process may dump core and be
// ptrace-attached by its owner (PR_GET_DUMPABLE).
func (k *Kernel) PrctlGetDumpable() (bool, error) {
	r, e := k.prctl(k.procs.pr.getDumpable, 0)
	if e != 0 {
		return false, callErr("prctl", e)
	}
	return r != 0, nil
}

// PrctlSetDumpable sets the process's dumpable flag (PR_SET_DUMPABLE).
func (k *Kernel) PrctlSetDumpable(dumpable bool) error {
	v := uintptr(0)
	if dumpable {
		v = 1
	}
	if _, e := k.prctl(k.procs.pr.setDumpable, v); e != 0 {
		return callErr("prctl", e)
	}
	return nil
}

// PrctlSetPdeathsig asks for sig when the parent thread exits (0 cancels;
// PR_SET_PDEATHSIG). The setting belongs to the calling OS thread and
// fires when the thread that created the process exits: lock goroutines
// that use it (runtime.LockOSThread).
func (k *Kernel) PrctlSetPdeathsig(sig Signal) error {
	s, err := k.procSigArg("prctl", sig)
	if err != nil {
		return err
	}
	if _, e := k.prctl(k.procs.pr.setPdeathsig, s); e != 0 {
		return callErr("prctl", e)
	}
	return nil
}

// PrctlGetPdeathsig returns the calling thread's parent-death signal (0:
// none; PR_GET_PDEATHSIG).
func (k *Kernel) PrctlGetPdeathsig() (Signal, error) {
	if k.procs.pr.getPdeathsig == procNoConst {
		return 0, callErr("prctl", ENOSYS)
	}
	var v int32
	_, e := k.syscall(sysPrctl, uintptr(k.procs.pr.getPdeathsig), uintptr(unsafe.Pointer(&v)), 0, 0, 0, 0)
	if e != 0 {
		return 0, callErr("prctl", e)
	}
	if v == 0 {
		return 0, nil
	}
	return k.procSigFromABI(uint64(v)), nil
}

// PrctlGetNoNewPrivs reports whether the calling thread's no_new_privs bit
// is set: execve then grants no privileges (setuid bits, file caps).
func (k *Kernel) PrctlGetNoNewPrivs() (bool, error) {
	r, e := k.prctl(k.procs.pr.getNoNewPrivs, 0)
	if e != 0 {
		return false, callErr("prctl", e)
	}
	return r != 0, nil
}

// PrctlSetNoNewPrivs sets the no_new_privs bit of the calling thread and of
// the children it creates from now on. It cannot be cleared again: use it
// in a process about to exec, or before installing a seccomp filter.
func (k *Kernel) PrctlSetNoNewPrivs() error {
	if _, e := k.prctl(k.procs.pr.setNoNewPrivs, 1); e != 0 {
		return callErr("prctl", e)
	}
	return nil
}
