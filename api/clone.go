package api

import (
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// clone3 into new namespaces, followed at once by execve.
//
// A Go program cannot fork and go on running Go code in the child: the
// child has one thread, a copy of a heap other threads were changing, and a
// runtime that believes its other threads still exist. What it can do
// safely is what os/exec does: have the child run only a few raw system
// calls, on code that cannot grow its stack, allocate or take a lock, and
// then execve. Clone3Exec does exactly that, with clone3 so that the child
// starts in new namespaces and the caller gets a pidfd for it:
//
//   - signals are blocked on the calling thread around clone3, so no Go
//     signal handler runs in the child; CLONE_CLEAR_SIGHAND resets the
//     child's handlers to their defaults, and the child restores the
//     caller's signal mask just before execve;
//   - the child's code is //go:nosplit from clone3 to execve and touches
//     only memory prepared before the call;
//   - syscall.ForkLock is held, as os/exec holds it, so that no descriptor
//     created without close-on-exec elsewhere leaks into the child;
//   - from clone3 on, the calls go straight to syscall.RawSyscall6, not
//     through the Backend: this only works on the host kernel anyway, and
//     the Go standard library's raw call is the one entry that is both
//     nosplit and free of race-detector instrumentation, which must not run
//     in the child (its locks may be held by threads the child does not
//     have).
//
// Work that must run Go code in fresh namespaces re-executes the program
// instead: package api/nsexec.

var (
	sysClone3          = newCall("clone3")
	sysClExecve        = newCall("execve")
	sysClExitGroup     = newCall("exit_group")
	sysClRtSigprocmask = newCall("rt_sigprocmask")
	sysClRead          = newCall("read")
	sysClWrite         = newCall("write")
	sysClClose         = newCall("close")
	sysClFcntl         = newCall("fcntl")
	sysClDup3          = newCall("dup3")
	sysClChdir         = newCall("chdir")
)

// cloneArgsWords bounds struct clone_args (88 bytes in Linux 6.x), in
// 64-bit words: every field of it is a __aligned_u64.
const cloneArgsWords = 16

// cloneState is the clone3 part of nsState.
type cloneState struct {
	ok                                 bool // the ABI has clone3 and what it needs
	size                               uintptr
	flags, pidfd, exitSignal, cgroup   fieldAt
	sigchld, sigSetmask, fDupfdCloexec uint64
}

func (s *cloneState) init(k *Kernel) error {
	l := k.optLayout("clone_args")
	if l.size == 0 || l.size > cloneArgsWords*8 {
		return nil // no clone3 here: Clone3Exec answers ENOSYS
	}
	var err error
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{{&s.flags, "flags"}, {&s.pidfd, "pidfd"}, {&s.exitSignal, "exit_signal"}, {&s.cgroup, "cgroup"}} {
		if *x.p, err = l.must(x.name); err != nil {
			return err
		}
	}
	if s.pidfd.size != 8 || s.pidfd.off%8 != 0 {
		return errMissing("a clone_args whose pidfd field is an aligned 64-bit word")
	}
	var ok1, ok2, ok3 bool
	s.sigchld, ok1 = k.table.Const("SIGCHLD")
	s.sigSetmask, ok2 = k.table.Const("SIG_SETMASK")
	s.fDupfdCloexec, ok3 = k.table.Const("F_DUPFD_CLOEXEC")
	s.size = uintptr(l.size)
	s.ok = ok1 && ok2 && ok3
	return nil
}

// IDMap is one line of a user namespace's uid_map or gid_map: Count ids
// from Inside (in the namespace) map to the ids from Outside (in the
// parent namespace).
type IDMap struct {
	Inside, Outside, Count int
}

// CloneExecArgs is what Clone3Exec sets up for the new process. The zero
// value starts it in the caller's namespaces with the caller's standard
// descriptors and working directory.
type CloneExecArgs struct {
	// Flags are the CLONE_NEW* namespaces to create for the child.
	// CLONE_PIDFD and CLONE_CLEAR_SIGHAND are always added.
	Flags CloneFlags
	// Cgroup, if set, is an open cgroup v2 directory the child starts in
	// (CLONE_INTO_CGROUP).
	Cgroup *Fd
	// Stdin, Stdout and Stderr become the child's descriptors 0, 1 and 2;
	// nil leaves the caller's own (which the child inherits).
	Stdin, Stdout, Stderr *Fd
	// Dir is the child's working directory; "" keeps the caller's.
	Dir string
	// UidMap and GidMap need CLONE_NEWUSER: the caller writes them to the
	// child's /proc/PID/uid_map and gid_map before the child goes on to
	// execve. With a GidMap, /proc/PID/setgroups is set to "deny" unless
	// SetgroupsAllowed (an unprivileged caller needs "deny").
	UidMap, GidMap   []IDMap
	SetgroupsAllowed bool
}

// Child is a process started by Clone3Exec.
type Child struct {
	k     *Kernel
	Pid   int // in the caller's PID namespace
	Pidfd *Fd // refers to the child for good, even after its pid is reused
}

// cloneExecState is everything the child's code uses, prepared before
// clone3: the child reads it in its copy of the caller's memory.
type cloneExecState struct {
	ca       [cloneArgsWords]uint64 // struct clone_args
	pidfdW   int                    // index in ca of the pidfd field
	argsSize uintptr
	pidfd    int32 // the kernel writes the pidfd here (CLONE_PIDFD)

	nr               cloneNrs
	path, argv, envv unsafe.Pointer // C string, NULL-terminated arrays of C strings
	dir              unsafe.Pointer // C string, or nil

	stdio              [3]int32 // -1: inherit
	errW, syncR, syncW int32    // syncR < 0: no id maps to wait for
	setmask, dupfd     uintptr
	maskSize           uintptr
	mask, oldMask      [maxSigset]byte
	ecanceled          uintptr   // the ABI's ECANCELED
	report             [2]uint32 // the child's failure: raw errno, step; sent to errW
	b                  [1]byte
}

// cloneNrs are the ABI's numbers of the calls the child makes.
type cloneNrs struct {
	clone3, read, write, close, fcntl, dup3, chdir, sigprocmask, execve, exitGroup uintptr
}

// Clone3Exec starts path with arguments argv and environment envv (each
// "KEY=value") in a new process created by clone3, in the new namespaces
// of a.Flags, and returns it with its pidfd. It returns once the child has
// executed path, or with the child's error: execve's, as a *fs.PathError
// naming path, or the setup's (chdir, descriptors, id maps), after reaping
// the child. Only a backend whose processes are the host's can do this;
// others answer ENOTSUP.
//
// With CLONE_NEWPID the child is PID 1 of its namespace; with
// CLONE_NEWUSER (which Unshare cannot do in a Go program) it starts with
// the ids of a.UidMap and a.GidMap, or as the overflow ids without them.
// The caller reaps the child with Child.Wait (or WaitPidfd).
func (k *Kernel) Clone3Exec(a *CloneExecArgs, path string, argv, envv []string) (*Child, error) {
	if _, ok := k.b.(HostBackend); !ok {
		return nil, callErr("clone3", ENOTSUP)
	}
	cs := &k.ns.clone
	if !cs.ok || k.ready.sigsetSize == 0 || k.ready.sigsetSize > maxSigset || k.nr[sysClone3] == noSyscall {
		return nil, callErr("clone3", ENOSYS)
	}
	if a == nil {
		a = &CloneExecArgs{}
	}
	flags := a.Flags
	if extra := flags &^ (nsAllTypes | CLONE_PIDFD | CLONE_CLEAR_SIGHAND); extra != 0 {
		return nil, badArg("clone3", "flags "+extra.String()+" are not allowed (only CLONE_NEW*)")
	}
	if (a.UidMap != nil || a.GidMap != nil) && flags&CLONE_NEWUSER == 0 {
		return nil, badArg("clone3", "uid or gid maps without CLONE_NEWUSER")
	}
	flags |= CLONE_PIDFD | CLONE_CLEAR_SIGHAND
	if a.Cgroup != nil {
		flags |= CLONE_INTO_CGROUP
	}
	fl, err := k.procCheckBits("clone3", cloneFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	uidMap, err := formatIDMap("clone3", a.UidMap)
	if err != nil {
		return nil, err
	}
	gidMap, err := formatIDMap("clone3", a.GidMap)
	if err != nil {
		return nil, err
	}
	nr := cloneNrs{k.nr[sysClone3], k.nr[sysClRead], k.nr[sysClWrite], k.nr[sysClClose], k.nr[sysClFcntl],
		k.nr[sysClDup3], k.nr[sysClChdir], k.nr[sysClRtSigprocmask], k.nr[sysClExecve], k.nr[sysClExitGroup]}
	for _, n := range []uintptr{nr.clone3, nr.read, nr.write, nr.close, nr.fcntl, nr.dup3, nr.chdir, nr.sigprocmask, nr.execve, nr.exitGroup} {
		if n == noSyscall {
			return nil, callErr("clone3", ENOSYS)
		}
	}
	st := &cloneExecState{nr: nr, setmask: uintptr(cs.sigSetmask), dupfd: uintptr(cs.fDupfdCloexec),
		maskSize: uintptr(k.ready.sigsetSize), argsSize: cs.size, pidfd: -1, syncR: -1, syncW: -1}
	st.ecanceled, _ = k.ErrnoToABI(ECANCELED)
	if st.path, err = cString("execve", path); err != nil {
		return nil, err
	}
	if st.argv, err = cStringArray("execve", argv); err != nil {
		return nil, err
	}
	if st.envv, err = cStringArray("execve", envv); err != nil {
		return nil, err
	}
	if a.Dir != "" {
		if st.dir, err = cString("chdir", a.Dir); err != nil {
			return nil, err
		}
	}
	ca := unsafe.Slice((*byte)(unsafe.Pointer(&st.ca[0])), cs.size)
	cs.flags.put(ca, k.table.BigEndian, uint64(fl))
	cs.exitSignal.put(ca, k.table.BigEndian, cs.sigchld)
	st.pidfdW = int(cs.pidfd.off / 8)
	for i := range st.mask[:st.maskSize] {
		st.mask[i] = 0xff // SIGKILL and SIGSTOP cannot be blocked; the kernel ignores them
	}

	// Descriptors: the pipe the child reports a failure on (closed by a
	// successful execve) and, with id maps, the one it waits on. From
	// their creation until the caller's copies of the write ends are
	// closed, ForkLock keeps other forks out: a child of a concurrent
	// Clone3Exec (or os/exec) would inherit them, and this child would
	// wait for that one to exec, which may be waiting for this one.
	syscall.ForkLock.Lock()
	locked := true
	defer func() {
		if locked {
			syscall.ForkLock.Unlock()
		}
	}()
	errR, errW, err := k.Pipe2(O_CLOEXEC)
	if err != nil {
		return nil, err
	}
	defer errR.Close()
	defer errW.Close()
	var syncR, syncW *Fd
	if uidMap != "" || gidMap != "" {
		if syncR, syncW, err = k.Pipe2(O_CLOEXEC); err != nil {
			return nil, err
		}
		defer syncR.Close()
		defer syncW.Close()
	}
	held := make([]*Fd, 0, 7)
	defer func() {
		for _, f := range held {
			f.release()
		}
	}()
	hold := func(f *Fd) (int32, error) {
		if f == nil {
			return -1, nil
		}
		if f.k != k {
			return -1, callErr("clone3", EBADF)
		}
		n, e := f.acquire()
		if e != 0 {
			return -1, callErr("clone3", e)
		}
		held = append(held, f)
		return int32(n), nil
	}
	for i, f := range []*Fd{a.Stdin, a.Stdout, a.Stderr} {
		if st.stdio[i], err = hold(f); err != nil {
			return nil, err
		}
	}
	cg, err := hold(a.Cgroup)
	if err != nil {
		return nil, err
	}
	if cg >= 0 {
		cs.cgroup.put(ca, k.table.BigEndian, uint64(cg))
	}
	if st.errW, err = hold(errW); err != nil {
		return nil, err
	}
	if st.syncR, err = hold(syncR); err != nil {
		return nil, err
	}
	if st.syncW, err = hold(syncW); err != nil {
		return nil, err
	}

	runtime.LockOSThread()
	var pid uintptr
	// Raw calls: the signal mask and clone3 are quick, and clone3 must not
	// pass through the scheduler (the child would return into it).
	_, e := k.rawSyscall(sysClRtSigprocmask, st.setmask, uintptr(unsafe.Pointer(&st.mask[0])), uintptr(unsafe.Pointer(&st.oldMask[0])), st.maskSize, 0, 0)
	if e == 0 {
		var raw uintptr
		pid, raw = cloneExec1(st)
		e = k.errno(raw)
		k.rawSyscall(sysClRtSigprocmask, st.setmask, uintptr(unsafe.Pointer(&st.oldMask[0])), 0, st.maskSize, 0, 0)
	}
	runtime.UnlockOSThread()
	runtime.KeepAlive(st)
	for _, f := range held {
		f.release()
	}
	held = held[:0]
	if e != 0 {
		return nil, callErr("clone3", e)
	}
	c := &Child{k: k, Pid: int(pid), Pidfd: k.newFd(uintptr(st.pidfd))}
	errW.Close()
	if syncR != nil {
		syncR.Close()
		if err := c.writeIDMaps(uidMap, gidMap, a.GidMap != nil && !a.SetgroupsAllowed); err != nil {
			c.Kill()
			return nil, err
		}
		syncW.Close() // the child goes on
	}
	syscall.ForkLock.Unlock()
	locked = false
	var rep [2]uint32
	n, rerr := io.ReadFull(errR, unsafe.Slice((*byte)(unsafe.Pointer(&rep[0])), 8))
	if n == 0 && rerr == io.EOF {
		return c, nil // execve closed the pipe: the child runs path
	}
	c.Wait()
	c.Pidfd.Close()
	if n == 8 {
		ce := k.errno(uintptr(rep[0]))
		switch rep[1] {
		case clStepExec:
			return nil, pathErr("execve", path, ce)
		case clStepChdir:
			return nil, pathErr("chdir", a.Dir, ce)
		case clStepFds:
			return nil, callErr("dup3", ce)
		}
		return nil, callErr("clone3", ce)
	}
	if rerr == nil {
		rerr = io.ErrUnexpectedEOF
	}
	return nil, &syscallError{"clone3", rerr}
}

// syscallError wraps an error that is not an Errno with the call's name.
type syscallError struct {
	call string
	err  error
}

func (e *syscallError) Error() string { return e.call + ": " + e.err.Error() }
func (e *syscallError) Unwrap() error { return e.err }

// Steps of the child, which it reports with its error.
const (
	clStepSetup = iota + 1
	clStepFds
	clStepChdir
	clStepExec
)

// cloneExec1 makes the clone3 call. In the caller it returns the child's
// pid; in the child it never returns. Everything it and the child's code
// call is nosplit: between clone3 and execve the child must not grow its
// stack, and in the caller the address written into clone_args must stay
// valid until the kernel has read it.
//
//go:noinline
//go:nosplit
//go:norace
func cloneExec1(s *cloneExecState) (pid, errno uintptr) {
	s.ca[s.pidfdW] = uint64(uintptr(unsafe.Pointer(&s.pidfd)))
	r, _, e := syscall.RawSyscall6(s.nr.clone3, uintptr(unsafe.Pointer(&s.ca[0])), s.argsSize, 0, 0, 0, 0)
	if e != 0 || r != 0 {
		return r, uintptr(e)
	}
	cloneExecChild(s)
	return 0, 0
}

// cloneExecChild is the child between clone3 and execve. It runs with
// every signal blocked and default handlers, on its own copy of memory.
//
//go:nosplit
//go:norace
func cloneExecChild(s *cloneExecState) {
	var (
		e    syscall.Errno
		fd   uintptr
		r    uintptr
		i    int
		step uint32 = clStepSetup
	)
	// Keep the error pipe clear of descriptors 0-2, which get replaced.
	if s.errW < 3 {
		if fd, _, e = syscall.RawSyscall6(s.nr.fcntl, uintptr(s.errW), s.dupfd, 3, 0, 0, 0); e != 0 {
			goto fail
		}
		s.errW = int32(fd)
	}
	if s.syncR >= 0 {
		// Wait until the caller has written the id maps and closed its
		// end of the pipe.
		syscall.RawSyscall6(s.nr.close, uintptr(s.syncW), 0, 0, 0, 0, 0)
		r, _, e = syscall.RawSyscall6(s.nr.read, uintptr(s.syncR), uintptr(unsafe.Pointer(&s.b[0])), 1, 0, 0, 0)
		if e != 0 {
			goto fail
		}
		if r != 0 {
			e = syscall.Errno(s.ecanceled)
			goto fail
		}
	}
	step = clStepFds
	// Standard descriptors: copy each above 2 first, so that one target
	// cannot overwrite another's source.
	for i = 0; i < 3; i++ {
		if s.stdio[i] < 0 {
			continue
		}
		if fd, _, e = syscall.RawSyscall6(s.nr.fcntl, uintptr(s.stdio[i]), s.dupfd, 3, 0, 0, 0); e != 0 {
			goto fail
		}
		s.stdio[i] = int32(fd)
	}
	for i = 0; i < 3; i++ {
		if s.stdio[i] < 0 {
			continue
		}
		if _, _, e = syscall.RawSyscall6(s.nr.dup3, uintptr(s.stdio[i]), uintptr(i), 0, 0, 0, 0); e != 0 {
			goto fail
		}
	}
	step = clStepChdir
	if s.dir != nil {
		if _, _, e = syscall.RawSyscall6(s.nr.chdir, uintptr(s.dir), 0, 0, 0, 0, 0); e != 0 {
			goto fail
		}
	}
	syscall.RawSyscall6(s.nr.sigprocmask, s.setmask, uintptr(unsafe.Pointer(&s.oldMask[0])), 0, s.maskSize, 0, 0)
	step = clStepExec
	_, _, e = syscall.RawSyscall6(s.nr.execve, uintptr(s.path), uintptr(s.argv), uintptr(s.envv), 0, 0, 0)
fail:
	s.report[0], s.report[1] = uint32(e), step
	syscall.RawSyscall6(s.nr.write, uintptr(s.errW), uintptr(unsafe.Pointer(&s.report[0])), 8, 0, 0, 0)
	for {
		syscall.RawSyscall6(s.nr.exitGroup, 127, 0, 0, 0, 0, 0)
	}
}

// writeIDMaps writes the child's uid_map, setgroups and gid_map.
func (c *Child) writeIDMaps(uidMap, gidMap string, deny bool) error {
	dir := "/proc/" + strconv.Itoa(c.Pid) + "/"
	write := func(name, s string) error {
		f, err := c.k.Open(dir+name, O_WRONLY|O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.Write([]byte(s)); err != nil {
			return &syscallError{"write " + dir + name, err}
		}
		return f.Close()
	}
	if uidMap != "" {
		if err := write("uid_map", uidMap); err != nil {
			return err
		}
	}
	if gidMap != "" {
		if deny {
			if err := write("setgroups", "deny"); err != nil {
				return err
			}
		}
		if err := write("gid_map", gidMap); err != nil {
			return err
		}
	}
	return nil
}

// formatIDMap renders m in the kernel's uid_map format.
func formatIDMap(call string, m []IDMap) (string, error) {
	var b strings.Builder
	for _, x := range m {
		if x.Inside < 0 || x.Outside < 0 || x.Count <= 0 ||
			int64(x.Inside) > 1<<32-1 || int64(x.Outside) > 1<<32-1 || int64(x.Count) > 1<<32-1 {
			return "", badArg(call, "id map line {"+strconv.Itoa(x.Inside)+" "+strconv.Itoa(x.Outside)+" "+
				strconv.Itoa(x.Count)+"} out of range")
		}
		b.WriteString(strconv.Itoa(x.Inside) + " " + strconv.Itoa(x.Outside) + " " + strconv.Itoa(x.Count) + "\n")
	}
	return b.String(), nil
}

// cString returns a heap copy of s with a NUL at the end, rejecting NULs
// inside.
func cString(call, s string) (unsafe.Pointer, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, badArg(call, "string "+quoteNUL(s)+" contains a NUL byte")
	}
	b := make([]byte, len(s)+1)
	copy(b, s)
	return unsafe.Pointer(&b[0]), nil
}

// cStringArray returns a heap, NULL-terminated array of C strings.
func cStringArray(call string, ss []string) (unsafe.Pointer, error) {
	p := make([]unsafe.Pointer, len(ss)+1)
	for i, s := range ss {
		var err error
		if p[i], err = cString(call, s); err != nil {
			return nil, err
		}
	}
	return unsafe.Pointer(&p[0]), nil
}

// Wait waits for the child to exit and reaps it.
func (c *Child) Wait() (WaitStatus, error) {
	var info WaitInfo
	if err := c.k.WaitPidfd(c.Pidfd, &info, WEXITED, nil); err != nil {
		return WaitStatus{}, err
	}
	return info.Status, nil
}

// Signal sends sig to the child through its pidfd, which cannot reach
// another process that reused its pid.
func (c *Child) Signal(sig Signal) error { return c.k.PidfdSendSignal(c.Pidfd, sig) }

// Kill sends SIGKILL and reaps the child.
func (c *Child) Kill() error {
	serr := c.Signal(SIGKILL) // ESRCH once it has exited: reap it all the same
	if _, err := c.Wait(); err != nil {
		return err
	}
	if serr != nil && !errors.Is(serr, ESRCH) {
		return serr
	}
	return nil
}
