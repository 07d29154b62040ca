package api

import (
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

// seccomp(2): installing filter programs, asking what the kernel supports,
// and the user-notification descriptor, on which a supervisor receives the
// calls a filter hands it and answers them. Package api/seccomp compiles
// policies into the programs and runs the notification loop.

var sysSeccomp = newCall("seccomp")

// SockFilter is one classic BPF instruction (struct sock_filter), the unit
// of seccomp programs and of socket filters.
type SockFilter struct {
	Code   uint16 // operation: class, size, mode or operator, source
	Jt, Jf uint8  // conditional jumps: instructions to skip when true, false
	K      uint32 // the constant operand
}

// SeccompData is what a filter sees of a call (struct seccomp_data).
type SeccompData struct {
	Nr                 int32  // the call's number in the ABI of Arch
	Arch               uint32 // the ABI's AUDIT_ARCH_* value
	InstructionPointer uint64
	Args               [6]uint64
}

// SeccompNotif is one call a filter handed to the supervisor (struct
// seccomp_notif).
type SeccompNotif struct {
	ID    uint64 // answer with this id; it also identifies the call to NotifIDValid
	Pid   int    // the calling thread's id, in the supervisor's pid namespace (0 if not visible there)
	Flags uint32
	Data  SeccompData
}

// SeccompNotifResp is the supervisor's answer (struct seccomp_notif_resp):
// the call returns Val, or fails with Error when it is not 0, or, with
// SECCOMP_USER_NOTIF_FLAG_CONTINUE (Val and Error 0), runs as if no filter
// had stopped it. CONTINUE is not a security decision: the target may have
// changed the memory the arguments point to since the supervisor looked.
type SeccompNotifResp struct {
	ID    uint64
	Val   int64
	Error Errno
	Flags SeccompUserNotifFlags
}

// SeccompNotifSizes are the kernel's sizes of the notification structs,
// which may be larger than the ABI table's on a newer kernel.
type SeccompNotifSizes struct {
	Notif, Resp, Data int
}

// seccompState is the seccomp part of secState.
type seccompState struct {
	setModeFilter, getActionAvail, getNotifSizes uint64 // secNoConst when missing
	recv, send, idValid, addfd                   uint64 // ioctl requests; secNoConst when missing

	maxInsns uint64 // BPF_MAXINSNS, 0 when unknown

	filt                    layout // struct sock_filter
	fCode, fJt, fJf, fK     fieldAt
	fprog                   layout // struct sock_fprog
	fpLen, fpFilter         fieldAt
	notif                   layout // struct seccomp_notif
	nID, nPid, nFlags       fieldAt
	nNr, nArch, nIP, nArgs  fieldAt
	resp                    layout // struct seccomp_notif_resp
	rID, rVal, rErr, rFlags fieldAt
	add                     layout // struct seccomp_notif_addfd; size 0 when absent
	aID, aFlags, aSrc, aNew fieldAt
	aNewFlags               fieldAt
	sizes                   layout // struct seccomp_notif_sizes
	szNotif, szResp, szData fieldAt
	oCloexec                uint64 // O_CLOEXEC, for addfd's newfd_flags
	kernelSizes             sync.Once
	kNotif, kResp           int   // the kernel's sizes, once asked
	kErr                    Errno // why they could not be asked
	ready                   bool  // every struct and constant is there
	notifReady              bool  // so are the notification ones
}

// Scratch sizes for the seccomp structs; the kernel's notification structs
// must fit too (checked when first used).
const (
	seccompFprogBuf = 16
	seccompNotifBuf = 256
	seccompRespBuf  = 64
	seccompAddfdBuf = 64
	seccompSizesBuf = 16
)

func (s *seccompState) init(k *Kernel) error {
	c := func(name string) uint64 {
		v, ok := k.table.Const(name)
		if !ok {
			return secNoConst
		}
		return v
	}
	s.setModeFilter, s.getActionAvail, s.getNotifSizes = c("SECCOMP_SET_MODE_FILTER"), c("SECCOMP_GET_ACTION_AVAIL"), c("SECCOMP_GET_NOTIF_SIZES")
	s.recv, s.send, s.idValid, s.addfd = c("SECCOMP_IOCTL_NOTIF_RECV"), c("SECCOMP_IOCTL_NOTIF_SEND"), c("SECCOMP_IOCTL_NOTIF_ID_VALID"), c("SECCOMP_IOCTL_NOTIF_ADDFD")
	if v, ok := k.table.Const("BPF_MAXINSNS"); ok {
		s.maxInsns = v
	}
	s.oCloexec = c("O_CLOEXEC")
	// Every struct is optional (ABIs without seccomp); one that is there
	// but lacks a field, or outgrows its buffer, is an error.
	var ok1, ok2, ok3, ok4, ok5, ok6 bool
	var err error
	if s.filt, ok1, err = secStruct(k, "sock_filter", 8, secField{&s.fCode, "code"}, secField{&s.fJt, "jt"},
		secField{&s.fJf, "jf"}, secField{&s.fK, "k"}); err != nil {
		return err
	}
	if s.fprog, ok2, err = secStruct(k, "sock_fprog", seccompFprogBuf, secField{&s.fpLen, "len"}, secField{&s.fpFilter, "filter"}); err != nil {
		return err
	}
	if s.notif, ok3, err = secStruct(k, "seccomp_notif", seccompNotifBuf, secField{&s.nID, "id"}, secField{&s.nPid, "pid"},
		secField{&s.nFlags, "flags"}, secField{&s.nNr, "data.nr"}, secField{&s.nArch, "data.arch"},
		secField{&s.nIP, "data.instruction_pointer"}, secField{&s.nArgs, "data.args"}); err != nil {
		return err
	}
	if s.resp, ok4, err = secStruct(k, "seccomp_notif_resp", seccompRespBuf, secField{&s.rID, "id"}, secField{&s.rVal, "val"},
		secField{&s.rErr, "error"}, secField{&s.rFlags, "flags"}); err != nil {
		return err
	}
	if s.sizes, ok5, err = secStruct(k, "seccomp_notif_sizes", seccompSizesBuf, secField{&s.szNotif, "seccomp_notif"},
		secField{&s.szResp, "seccomp_notif_resp"}, secField{&s.szData, "seccomp_data"}); err != nil {
		return err
	}
	if s.add, ok6, err = secStruct(k, "seccomp_notif_addfd", seccompAddfdBuf, secField{&s.aID, "id"}, secField{&s.aFlags, "flags"},
		secField{&s.aSrc, "srcfd"}, secField{&s.aNew, "newfd"}, secField{&s.aNewFlags, "newfd_flags"}); err != nil {
		return err
	}
	if !ok6 {
		s.addfd = secNoConst
	}
	s.ready = ok1 && ok2 && s.setModeFilter != secNoConst && s.fpFilter.size <= 8
	s.notifReady = ok3 && ok4 && ok5 && s.nArgs.size == 48 && s.getNotifSizes != secNoConst &&
		s.recv != secNoConst && s.send != secNoConst
	return nil
}

// SeccompSetModeFilter installs the seccomp filter prog
// (seccomp(SECCOMP_SET_MODE_FILTER)), for good: filters cannot be removed,
// only added to, and every call of the filtered threads runs through all
// of them.
//
// With SECCOMP_FILTER_FLAG_TSYNC the filter applies to every thread of the
// process, which is what a Go program wants (its goroutines run on any
// thread); the call fails with an error wrapping ESRCH when some thread
// cannot take it (one with another filter of its own). Without TSYNC it
// applies to the calling OS thread only: SeccompSetModeFilter then locks
// the goroutine to that thread and leaves it locked, and the filter ends
// with the thread.
//
// The kernel wants no_new_privs set on the calling thread unless it has
// CAP_SYS_ADMIN; SeccompSetModeFilter sets it first when the thread lacks
// that capability, or always when noNewPrivs is true (TSYNC spreads it to
// every thread). Once set it stays, also when the kernel then refuses the
// program.
//
// With SECCOMP_FILTER_FLAG_NEW_LISTENER it returns the filter's
// notification descriptor, on which the USER_NOTIF action's calls arrive
// (SeccompNotifRecv); TSYNC then also asks for TSYNC_ESRCH, which the
// kernel requires with NEW_LISTENER. Otherwise the Fd is nil.
func (k *Kernel) SeccompSetModeFilter(prog []SockFilter, flags SeccompFilterFlags, noNewPrivs bool) (*Fd, error) {
	s := &k.sec.sc
	if !s.ready {
		return nil, callErr("seccomp", ENOSYS)
	}
	if len(prog) == 0 {
		return nil, badArg("seccomp", "empty filter program")
	}
	if (s.maxInsns != 0 && uint64(len(prog)) > s.maxInsns) || len(prog) > 1<<16-1 {
		return nil, badArg("seccomp", "filter program of "+strconv.Itoa(len(prog))+" instructions, more than BPF_MAXINSNS")
	}
	if flags&SECCOMP_FILTER_FLAG_TSYNC != 0 && flags&SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	fl, err := k.flagsToABI(seccompFilterFlagsFamily, uint64(flags))
	if err != nil {
		return nil, &argErr{"seccomp", err.Error()}
	}
	// The program lives on the heap, which does not move; sock_fprog
	// holds its address as a number, so it is kept alive below.
	be := s.filt.be
	buf := make([]byte, len(prog)*s.filt.size)
	for i, in := range prog {
		b := buf[i*s.filt.size:]
		s.fCode.put(b, be, uint64(in.Code))
		s.fJt.put(b, be, uint64(in.Jt))
		s.fJf.put(b, be, uint64(in.Jf))
		s.fK.put(b, be, uint64(in.K))
	}
	var fp [seccompFprogBuf]byte
	s.fpLen.put(fp[:], be, uint64(len(prog)))
	s.fpFilter.put(fp[:], be, uint64(uintptr(unsafe.Pointer(&buf[0]))))

	// no_new_privs and the filter must go to the same thread.
	runtime.LockOSThread()
	tsync := flags&SECCOMP_FILTER_FLAG_TSYNC != 0
	if tsync {
		defer runtime.UnlockOSThread()
	}
	if !noNewPrivs {
		c, err := k.Capget(0)
		noNewPrivs = err != nil || !c.Effective.Has(CAP_SYS_ADMIN)
	}
	if noNewPrivs {
		if err := k.PrctlSetNoNewPrivs(); err != nil {
			return nil, err
		}
	}
	r, e := k.syscall(sysSeccomp, uintptr(s.setModeFilter), uintptr(fl), uintptr(unsafe.Pointer(&fp)), 0, 0, 0)
	runtime.KeepAlive(buf)
	if e != 0 {
		return nil, callErr("seccomp", e)
	}
	if flags&SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return k.newFd(r), nil
	}
	if tsync && r != 0 {
		// TSYNC without TSYNC_ESRCH names the thread that could not
		// take the filter instead of failing.
		return nil, &seccompSyncError{tid: int(r)}
	}
	return nil, nil
}

// seccompSyncError reports the thread TSYNC could not reach.
type seccompSyncError struct{ tid int }

func (e *seccompSyncError) Error() string {
	return "seccomp: thread " + strconv.Itoa(e.tid) + " cannot take the filter (TSYNC)"
}

func (e *seccompSyncError) Unwrap() error { return ESRCH }

// SeccompGetActionAvail reports whether the kernel knows the filter
// return action (seccomp(SECCOMP_GET_ACTION_AVAIL)): nil if it does, an
// error wrapping EOPNOTSUPP if not.
func (k *Kernel) SeccompGetActionAvail(action SeccompRet) error {
	s := &k.sec.sc
	if s.getActionAvail == secNoConst {
		return callErr("seccomp", ENOSYS)
	}
	v, err := k.enumToABI(seccompRetFamily, uint64(action))
	if err != nil {
		return &argErr{"seccomp", err.Error()}
	}
	a := uint32(v)
	_, e := k.syscall(sysSeccomp, uintptr(s.getActionAvail), 0, uintptr(unsafe.Pointer(&a)), 0, 0, 0)
	if e != 0 {
		return callErr("seccomp", e)
	}
	return nil
}

// SeccompGetNotifSizes returns the kernel's sizes of struct seccomp_notif,
// seccomp_notif_resp and seccomp_data (seccomp(SECCOMP_GET_NOTIF_SIZES)).
func (k *Kernel) SeccompGetNotifSizes() (SeccompNotifSizes, error) {
	s := &k.sec.sc
	if s.getNotifSizes == secNoConst || s.sizes.s == nil {
		return SeccompNotifSizes{}, callErr("seccomp", ENOSYS)
	}
	var raw [seccompSizesBuf]byte
	_, e := k.syscall(sysSeccomp, uintptr(s.getNotifSizes), 0, uintptr(unsafe.Pointer(&raw)), 0, 0, 0)
	if e != 0 {
		return SeccompNotifSizes{}, callErr("seccomp", e)
	}
	be := s.sizes.be
	return SeccompNotifSizes{
		Notif: int(s.szNotif.uint(raw[:], be)),
		Resp:  int(s.szResp.uint(raw[:], be)),
		Data:  int(s.szData.uint(raw[:], be)),
	}, nil
}

// notifSizes asks the kernel for its struct sizes once: the receive
// buffer must be as large as the kernel's struct, and zeroed.
func (k *Kernel) notifSizes() Errno {
	s := &k.sec.sc
	if !s.notifReady {
		return ENOSYS
	}
	s.kernelSizes.Do(func() {
		sz, err := k.SeccompGetNotifSizes()
		switch {
		case err != nil:
			s.kErr = ENOSYS
			if en, ok := unwrapErrno(err); ok {
				s.kErr = en
			}
		case sz.Notif > seccompNotifBuf || sz.Resp > seccompRespBuf:
			s.kErr = EOVERFLOW // a kernel far newer than api's buffers
		default:
			s.kNotif, s.kResp = max(sz.Notif, s.notif.size), max(sz.Resp, s.resp.size)
		}
	})
	return s.kErr
}

func unwrapErrno(err error) (Errno, bool) {
	for err != nil {
		if e, ok := err.(Errno); ok {
			return e, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return 0, false
		}
		err = u.Unwrap()
	}
	return 0, false
}

// SeccompNotifRecv waits for the next call a filter hands to this
// notification descriptor and fills in n (ioctl
// SECCOMP_IOCTL_NOTIF_RECV). It blocks until one arrives: poll the
// descriptor (POLLIN; POLLHUP once no task uses the filter any more) to
// wait with a timeout. ENOENT means the calling task died before it could
// be received.
func (f *Fd) SeccompNotifRecv(n *SeccompNotif) error {
	const op = "SECCOMP_IOCTL_NOTIF_RECV"
	if f == nil {
		return callErr(op, EBADF)
	}
	k := f.k
	s := &k.sec.sc
	if e := k.notifSizes(); e != 0 {
		return callErr(op, e)
	}
	var raw [seccompNotifBuf]byte // the kernel insists on zeros
	num, e := f.acquire()
	if e != 0 {
		return callErr(op, e)
	}
	_, e = k.syscall(sysIoctl, num, uintptr(s.recv), uintptr(unsafe.Pointer(&raw)), 0, 0, 0)
	f.release()
	if e != 0 {
		return callErr(op, e)
	}
	b, be := raw[:], s.notif.be
	*n = SeccompNotif{
		ID:    s.nID.uint(b, be),
		Pid:   int(int32(s.nPid.uint(b, be))),
		Flags: uint32(s.nFlags.uint(b, be)),
		Data: SeccompData{
			Nr:                 int32(s.nNr.uint(b, be)),
			Arch:               uint32(s.nArch.uint(b, be)),
			InstructionPointer: s.nIP.uint(b, be),
		},
	}
	for i := range n.Data.Args {
		a := fieldAt{off: s.nArgs.off + uint16(8*i), size: 8}
		n.Data.Args[i] = a.uint(b, be)
	}
	return nil
}

// SeccompNotifSend answers a received call (ioctl
// SECCOMP_IOCTL_NOTIF_SEND). ENOENT means the call is no longer waiting:
// its task died, or a signal interrupted it (it will be notified again if
// restarted); EINPROGRESS that it has been answered already.
func (f *Fd) SeccompNotifSend(r *SeccompNotifResp) error {
	const op = "SECCOMP_IOCTL_NOTIF_SEND"
	if f == nil || r == nil {
		return callErr(op, EBADF)
	}
	k := f.k
	s := &k.sec.sc
	if e := k.notifSizes(); e != 0 {
		return callErr(op, e)
	}
	var errv int64
	if r.Error != 0 {
		n, ok := k.ErrnoToABI(r.Error)
		if !ok {
			return badArg(op, "errno "+r.Error.Name()+" does not exist in the ABI")
		}
		errv = -int64(n)
	}
	fl, err := k.flagsToABI(seccompUserNotifFlagsFamily, uint64(r.Flags))
	if err != nil {
		return &argErr{op, err.Error()}
	}
	var raw [seccompRespBuf]byte
	be := s.resp.be
	s.rID.put(raw[:], be, r.ID)
	s.rVal.put(raw[:], be, uint64(r.Val))
	s.rErr.put(raw[:], be, uint64(errv))
	s.rFlags.put(raw[:], be, fl)
	num, e := f.acquire()
	if e != 0 {
		return callErr(op, e)
	}
	_, e = k.syscall(sysIoctl, num, uintptr(s.send), uintptr(unsafe.Pointer(&raw)), 0, 0, 0)
	f.release()
	if e != 0 {
		return callErr(op, e)
	}
	return nil
}

// SeccompNotifIDValid reports whether the call with this id is still
// waiting for an answer (ioctl SECCOMP_IOCTL_NOTIF_ID_VALID). A supervisor
// that reads the target's memory (/proc/<pid>/mem) checks it afterwards:
// if the id is still valid, the pid was not reused meanwhile.
func (f *Fd) SeccompNotifIDValid(id uint64) (bool, error) {
	const op = "SECCOMP_IOCTL_NOTIF_ID_VALID"
	if f == nil {
		return false, callErr(op, EBADF)
	}
	s := &f.k.sec.sc
	if s.idValid == secNoConst {
		return false, callErr(op, ENOSYS)
	}
	num, e := f.acquire()
	if e != 0 {
		return false, callErr(op, e)
	}
	v := id
	_, e = f.k.syscall(sysIoctl, num, uintptr(s.idValid), uintptr(unsafe.Pointer(&v)), 0, 0, 0)
	f.release()
	switch e {
	case 0:
		return true, nil
	case ENOENT:
		return false, nil
	}
	return false, callErr(op, e)
}

// SeccompNotifAddfd installs a duplicate of src in the descriptor table of
// the task whose call id is waiting (ioctl SECCOMP_IOCTL_NOTIF_ADDFD) and
// returns its number there. With SECCOMP_ADDFD_FLAG_SETFD it takes number
// newfd (replacing what was there); otherwise the lowest free one.
// SECCOMP_ADDFD_FLAG_SEND also answers the call with that number, which
// is how a supervisor serves an openat or socket call for its target.
func (f *Fd) SeccompNotifAddfd(id uint64, src *Fd, newfd int, flags SeccompAddfdFlags, cloexec bool) (int, error) {
	const op = "SECCOMP_IOCTL_NOTIF_ADDFD"
	if f == nil {
		return -1, callErr(op, EBADF)
	}
	k := f.k
	s := &k.sec.sc
	if s.addfd == secNoConst {
		return -1, callErr(op, ENOSYS)
	}
	if newfd < 0 || newfd > 1<<31-1 {
		return -1, badArg(op, "descriptor number "+strconv.Itoa(newfd)+" out of range")
	}
	fl, err := k.flagsToABI(seccompAddfdFlagsFamily, uint64(flags))
	if err != nil {
		return -1, &argErr{op, err.Error()}
	}
	var fdFlags uint64
	if cloexec {
		if s.oCloexec == secNoConst {
			return -1, callErr(op, ENOSYS)
		}
		fdFlags = s.oCloexec
	}
	num, srcNum, e := k.acquirePair(f, src)
	if e != 0 {
		return -1, callErr(op, e)
	}
	var raw [seccompAddfdBuf]byte
	be := s.add.be
	s.aID.put(raw[:], be, id)
	s.aFlags.put(raw[:], be, fl)
	s.aSrc.put(raw[:], be, uint64(srcNum))
	s.aNew.put(raw[:], be, uint64(newfd))
	s.aNewFlags.put(raw[:], be, fdFlags)
	r, e := k.syscall(sysIoctl, num, uintptr(s.addfd), uintptr(unsafe.Pointer(&raw)), 0, 0, 0)
	f.release()
	src.release()
	if e != 0 {
		return -1, callErr(op, e)
	}
	return int(r), nil
}
