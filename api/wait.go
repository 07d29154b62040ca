package api

import (
	"strconv"
	"time"
	"unsafe"
)

// Waiting for children (wait4, waitid) and resource usage (getrusage).

var (
	sysWait4     = newCall("wait4", "__wait450")
	sysWaitid    = newCall("waitid")
	sysGetrusage = newCall("getrusage", "__getrusage50")
)

// Buffer bounds for the raw structs; New refuses ABIs whose structs are
// larger (Linux: rusage 144, siginfo 128).
const (
	procRusageBufSize  = 256
	procSiginfoBufSize = 256
)

// WaitStatus is how a child changed state, whatever the kernel's encoding:
// it exited, was killed by a signal (maybe dumping core), stopped or
// continued. The zero value means no child reported (WNOHANG).
type WaitStatus struct {
	code   ChildCode // CLD_EXITED, CLD_KILLED, ...; 0 for none
	status int       // exit status, or the signal in api's numbering
}

// Code returns the kind of change as waitid's si_code names it
// (CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_TRAPPED,
// CLD_CONTINUED), or 0 when nothing was reported.
func (w WaitStatus) Code() ChildCode { return w.code }

// Exited reports whether the child exited normally.
func (w WaitStatus) Exited() bool { return w.code == CLD_EXITED }

// ExitStatus returns the exit status (0..255), or -1 if the child did not
// exit normally.
func (w WaitStatus) ExitStatus() int {
	if w.code != CLD_EXITED {
		return -1
	}
	return w.status
}

// Signaled reports whether a signal ended the child.
func (w WaitStatus) Signaled() bool { return w.code == CLD_KILLED || w.code == CLD_DUMPED }

// Signal returns the signal that ended the child, or -1.
func (w WaitStatus) Signal() Signal {
	if !w.Signaled() {
		return -1
	}
	return Signal(w.status)
}

// CoreDump reports whether the child dumped core when a signal ended it.
func (w WaitStatus) CoreDump() bool { return w.code == CLD_DUMPED }

// Stopped reports whether the child stopped (by a signal, or as a traced
// child: CLD_TRAPPED).
func (w WaitStatus) Stopped() bool { return w.code == CLD_STOPPED || w.code == CLD_TRAPPED }

// StopSignal returns the signal that stopped the child, or -1.
func (w WaitStatus) StopSignal() Signal {
	if !w.Stopped() {
		return -1
	}
	return Signal(w.status)
}

// Continued reports whether SIGCONT resumed the child.
func (w WaitStatus) Continued() bool { return w.code == CLD_CONTINUED }

// String describes the change: "exit status 7", "signal SIGKILL", ...
func (w WaitStatus) String() string {
	switch w.code {
	case 0:
		return "no change"
	case CLD_EXITED:
		return "exit status " + strconv.Itoa(w.status)
	case CLD_KILLED:
		return "signal " + Signal(w.status).String()
	case CLD_DUMPED:
		return "signal " + Signal(w.status).String() + " (core dumped)"
	case CLD_STOPPED, CLD_TRAPPED:
		return "stopped by " + Signal(w.status).String()
	case CLD_CONTINUED:
		return "continued"
	}
	return w.code.String()
}

// decodeWaitStatus reads the classic Unix status word of wait4, which
// Linux and the BSDs share: low 7 bits the terminating signal (0: exited,
// 0x7f: stopped), bit 7 core dumped, next byte the exit status or the stop
// signal, 0xffff continued.
func (k *Kernel) decodeWaitStatus(s uint32) WaitStatus {
	switch {
	case s == 0xffff:
		return WaitStatus{code: CLD_CONTINUED, status: int(SIGCONT)}
	case s&0x7f == 0:
		return WaitStatus{code: CLD_EXITED, status: int(s>>8) & 0xff}
	case s&0xff == 0x7f:
		return WaitStatus{code: CLD_STOPPED, status: int(k.procSigFromABI(uint64(s>>8) & 0xff))}
	}
	c := CLD_KILLED
	if s&0x80 != 0 {
		c = CLD_DUMPED
	}
	return WaitStatus{code: c, status: int(k.procSigFromABI(uint64(s & 0x7f)))}
}

// WaitInfo is what waitid reports: which child changed state, whose it
// was, and how.
type WaitInfo struct {
	Pid    int // 0 when WNOHANG found no child to report
	Uid    int // the child's real user id
	Status WaitStatus
}

// Rusage is resource usage, as getrusage, wait4 and waitid report it.
type Rusage struct {
	Utime    time.Duration // user CPU time
	Stime    time.Duration // system CPU time
	Maxrss   int64         // peak resident set, kilobytes
	Ixrss    int64
	Idrss    int64
	Isrss    int64
	Minflt   int64 // page faults without I/O
	Majflt   int64 // page faults with I/O
	Nswap    int64
	Inblock  int64 // file-system reads, 512-byte blocks
	Oublock  int64 // file-system writes
	Msgsnd   int64
	Msgrcv   int64
	Nsignals int64
	Nvcsw    int64 // voluntary context switches
	Nivcsw   int64 // involuntary context switches
}

type rusageFields struct {
	utimeS, utimeU, stimeS, stimeU                                       fieldAt
	maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock fieldAt
	msgsnd, msgrcv, nsignals, nvcsw, nivcsw                              fieldAt
}

func (s *procState) decodeRusage(raw *[procRusageBufSize]byte, ru *Rusage) {
	b, be, f := raw[:], s.rusage.be, &s.ru
	tv := func(sec, usec fieldAt) time.Duration {
		return time.Duration(sec.int(b, be))*time.Second + time.Duration(usec.int(b, be))*time.Microsecond
	}
	*ru = Rusage{
		Utime: tv(f.utimeS, f.utimeU), Stime: tv(f.stimeS, f.stimeU),
		Maxrss: f.maxrss.int(b, be), Ixrss: f.ixrss.int(b, be), Idrss: f.idrss.int(b, be), Isrss: f.isrss.int(b, be),
		Minflt: f.minflt.int(b, be), Majflt: f.majflt.int(b, be), Nswap: f.nswap.int(b, be),
		Inblock: f.inblock.int(b, be), Oublock: f.oublock.int(b, be),
		Msgsnd: f.msgsnd.int(b, be), Msgrcv: f.msgrcv.int(b, be), Nsignals: f.nsignals.int(b, be),
		Nvcsw: f.nvcsw.int(b, be), Nivcsw: f.nivcsw.int(b, be),
	}
}

// Wait4 waits for a child to change state: pid > 0 that child, -1 any
// child, 0 any in the caller's process group, < -1 any in group -pid. It
// returns the child's pid (0 with WNOHANG when none has changed) and fills
// ws and ru when they are not nil. A child started with os/exec must not
// also be waited for by Go (cmd.Wait), or the two race to reap it.
func (k *Kernel) Wait4(pid int, ws *WaitStatus, opts WaitOptions, ru *Rusage) (int, error) {
	if err := procCheckID("wait4", pid); err != nil {
		return 0, err
	}
	fl, err := k.procCheckBits("wait4", waitOptionsFamily, uint64(opts))
	if err != nil {
		return 0, err
	}
	if ru != nil && k.procs.rusage.s == nil {
		return 0, callErr("wait4", ENOSYS)
	}
	var st uint32
	var raw [procRusageBufSize]byte
	rp := unsafe.Pointer(nil)
	if ru != nil {
		rp = unsafe.Pointer(&raw[0])
	}
	r, e := k.syscall(sysWait4, uintptr(pid), uintptr(unsafe.Pointer(&st)), fl, uintptr(rp), 0, 0)
	if e != 0 {
		return 0, callErr("wait4", e)
	}
	if ws != nil {
		if r == 0 {
			*ws = WaitStatus{}
		} else {
			*ws = k.decodeWaitStatus(st)
		}
	}
	if ru != nil {
		k.procs.decodeRusage(&raw, ru)
	}
	return int(r), nil
}

type siginfoFields struct {
	signo, code, pid, uid, status fieldAt
}

// Waitid waits for a child to change state, chosen by idtype: P_PID (id is
// a pid), P_PGID (a process group), P_ALL (any child; id ignored) or
// P_PIDFD (id is a pidfd number; WaitPidfd takes an *Fd instead). opts
// must include at least one of WEXITED, WSTOPPED, WCONTINUED. info and ru
// may be nil.
func (k *Kernel) Waitid(idtype IDType, id int, info *WaitInfo, opts WaitOptions, ru *Rusage) error {
	if err := procCheckID("waitid", id); err != nil {
		return err
	}
	return k.waitid(idtype, uintptr(id), info, opts, ru)
}

// WaitPidfd is Waitid(P_PIDFD) on the process pidfd refers to (from
// PidfdOpen). On a pidfd opened with PIDFD_NONBLOCK the kernel answers
// EAGAIN instead of blocking while the child has not changed state.
func (k *Kernel) WaitPidfd(pidfd *Fd, info *WaitInfo, opts WaitOptions, ru *Rusage) error {
	if pidfd != nil && pidfd.k != k {
		return callErr("waitid", EBADF)
	}
	n, e := pidfd.acquire()
	if e != 0 {
		return callErr("waitid", e)
	}
	err := k.waitid(P_PIDFD, n, info, opts, ru)
	pidfd.release()
	return err
}

func (k *Kernel) waitid(idtype IDType, id uintptr, info *WaitInfo, opts WaitOptions, ru *Rusage) error {
	it, err := k.enumToABI(idTypeFamily, uint64(idtype))
	if err != nil {
		return badArg("waitid", err.Error())
	}
	fl, err := k.procCheckBits("waitid", waitOptionsFamily, uint64(opts))
	if err != nil {
		return err
	}
	if opts&(WEXITED|WSTOPPED|WCONTINUED) == 0 {
		return badArg("waitid", "no event asked for (WEXITED, WSTOPPED or WCONTINUED)")
	}
	s := &k.procs
	if s.siginfo.s == nil || (ru != nil && s.rusage.s == nil) {
		return callErr("waitid", ENOSYS)
	}
	var si [procSiginfoBufSize]byte
	var raw [procRusageBufSize]byte
	rp := unsafe.Pointer(nil)
	if ru != nil {
		rp = unsafe.Pointer(&raw[0])
	}
	_, e := k.syscall(sysWaitid, uintptr(it), id, uintptr(unsafe.Pointer(&si[0])), fl, uintptr(rp), 0)
	if e != 0 {
		return callErr("waitid", e)
	}
	if info != nil {
		b, be, f := si[:], s.siginfo.be, &s.si
		*info = WaitInfo{Pid: int(f.pid.int(b, be)), Uid: int(uint32(f.uid.uint(b, be)))}
		if info.Pid != 0 {
			c := ChildCode(k.enumFromABI(childCodeFamily, uint64(f.code.int(b, be))))
			st := int(f.status.int(b, be))
			if c != CLD_EXITED {
				st = int(k.procSigFromABI(uint64(st)))
			}
			info.Status = WaitStatus{code: c, status: st}
		}
	}
	if ru != nil {
		s.decodeRusage(&raw, ru)
	}
	return nil
}

// Getrusage returns the resource usage of the caller (RUSAGE_SELF), of its
// reaped children (RUSAGE_CHILDREN) or of the calling OS thread
// (RUSAGE_THREAD).
func (k *Kernel) Getrusage(who RusageWho, ru *Rusage) error {
	if ru == nil {
		return badArg("getrusage", "nil *Rusage")
	}
	w, err := k.enumToABI(rusageWhoFamily, uint64(int64(who)))
	if err != nil {
		return badArg("getrusage", err.Error())
	}
	if k.procs.rusage.s == nil {
		return callErr("getrusage", ENOSYS)
	}
	var raw [procRusageBufSize]byte
	// Raw syscall: getrusage only reads counters and never blocks.
	_, e := k.rawSyscall(sysGetrusage, uintptr(w), uintptr(unsafe.Pointer(&raw[0])), 0, 0, 0, 0)
	if e != 0 {
		return callErr("getrusage", e)
	}
	k.procs.decodeRusage(&raw, ru)
	return nil
}
