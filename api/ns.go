package api

import (
	"runtime"
	"unsafe"
)

// Namespaces: unshare, setns and the ioctls of namespace descriptors. The
// mount calls are in mount.go, clone3 in clone.go.
//
// Linux keeps namespaces per thread (a task), and a Go program runs each
// goroutine on whichever thread the scheduler picks. So the calls that
// change the caller's namespaces pin the calling goroutine to its OS thread
// (runtime.LockOSThread) and never unpin it: the goroutine goes on running
// in the new namespaces, no other goroutine is ever scheduled on that
// thread, and when the goroutine exits the runtime ends the thread instead
// of reusing it. Code that wants to come back (package api/nsexec's
// Netns.Do) runs on a goroutine of its own.
//
// One exception: the runtime cannot end the process's main thread, so a
// goroutine that exits locked on it leaves it parked for good in the
// namespaces it entered, and /proc/self (which shows the main thread)
// then describes those. A goroutine lands on the main thread by chance;
// nsexec.RunLocked runs a function on a goroutine that is sure not to.

var (
	sysUnshare = newCall("unshare")
	sysSetns   = newCall("setns")
)

// nsState is the per-Kernel state of namespaces and mounts, filled in at New.
type nsState struct {
	// ioctls on namespace descriptors; nsNoConst when the ABI lacks one.
	getNstype, getUserns, getParent, getOwnerUID uint64

	mnt   mountState // mount.go
	clone cloneState // clone.go
}

// nsNoConst marks a constant the ABI does not have; the call using it
// answers ENOSYS.
const nsNoConst = ^uint64(0)

func (s *nsState) init(k *Kernel) error {
	c := func(name string) uint64 {
		if v, ok := k.table.Const(name); ok {
			return v
		}
		return nsNoConst
	}
	s.getNstype, s.getUserns, s.getParent, s.getOwnerUID =
		c("NS_GET_NSTYPE"), c("NS_GET_USERNS"), c("NS_GET_PARENT"), c("NS_GET_OWNER_UID")
	if err := s.mnt.init(k); err != nil {
		return err
	}
	return s.clone.init(k)
}

// nsAllTypes is every CLONE_NEW* flag: what setns accepts as nstype.
const nsAllTypes = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME

// nsUnshareFlags is what unshare accepts.
const nsUnshareFlags = nsAllTypes | CLONE_FILES | CLONE_FS | CLONE_SYSVSEM

// Unshare moves the caller into new namespaces, or gives it its own copy of
// the descriptor table (CLONE_FILES) or of the file-system attributes
// (CLONE_FS), as flags say.
//
// The change is made on the calling goroutine's OS thread, which Unshare
// locks to the goroutine for good (see the top of ns.go): keep doing the
// namespaced work on this goroutine, and let it exit when done so the
// runtime discards the thread (call Unshare from nsexec.RunLocked, which
// also keeps the main thread out of it). On error nothing changed and the goroutine is
// left as it was.
//
// Limits of a multithreaded process such as a Go program: CLONE_NEWUSER
// fails with EINVAL (the kernel wants a single-threaded caller; start a
// process in a new user namespace with Clone3Exec or package api/nsexec),
// and CLONE_NEWPID and CLONE_NEWTIME only apply to children started
// afterwards from this goroutine. A new mount namespace keeps the
// propagation of the mounts it copied: make them private
// (Mount("", "/", "", MS_REC|MS_PRIVATE, "")) before mounting anything that
// must not show up outside.
func (k *Kernel) Unshare(flags CloneFlags) error {
	if flags&^nsUnshareFlags != 0 {
		return badArg("unshare", "flags "+(flags&^nsUnshareFlags).String()+" are not unshare flags")
	}
	fl, err := k.procCheckBits("unshare", cloneFlagsFamily, uint64(flags))
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	if _, e := k.syscall(sysUnshare, fl, 0, 0, 0, 0, 0); e != 0 {
		runtime.UnlockOSThread()
		return callErr("unshare", e)
	}
	return nil
}

// Setns moves the caller into the namespace fd refers to (a file of
// /proc/PID/ns/, or a descriptor from NsUserns/NsParent). nstype is the
// namespace's CLONE_NEW* flag, which the kernel checks against fd, or 0 to
// accept any type. fd may also be a pidfd: then nstype names every
// namespace of that process to join at once (Linux 5.8).
//
// Like Unshare, Setns locks the calling goroutine to its thread for good:
// each successful call adds one runtime.LockOSThread that it never undoes.
// Code that moves the thread back itself (package api/nsexec) may undo
// them with runtime.UnlockOSThread.
//
// Joining a mount namespace needs a thread with its own file-system
// attributes, so when nstype is 0 or includes CLONE_NEWNS Setns first
// unshares CLONE_FS on the thread (its current directory, root and umask
// then stop following the rest of the process). Joining a user namespace
// needs a single-threaded caller and fails with EINVAL in a Go program.
func (k *Kernel) Setns(fd *Fd, nstype CloneFlags) error {
	if nstype&^nsAllTypes != 0 {
		return badArg("setns", "nstype "+(nstype&^nsAllTypes).String()+" is not a namespace type")
	}
	t, err := k.procCheckBits("setns", cloneFlagsFamily, uint64(nstype))
	if err != nil {
		return err
	}
	var fs uintptr
	if nstype == 0 || nstype&CLONE_NEWNS != 0 {
		if fs, err = k.procCheckBits("setns", cloneFlagsFamily, uint64(CLONE_FS)); err != nil {
			return err
		}
	}
	if fd != nil && fd.k != k {
		return callErr("setns", EBADF)
	}
	n, e := fd.acquire()
	if e != 0 {
		return callErr("setns", e)
	}
	runtime.LockOSThread()
	if fs != 0 {
		// Unsharing the file-system attributes of a thread that is
		// already locked is harmless if setns then fails.
		if _, e = k.syscall(sysUnshare, fs, 0, 0, 0, 0, 0); e != 0 {
			fd.release()
			runtime.UnlockOSThread()
			return callErr("setns", e)
		}
	}
	_, e = k.syscall(sysSetns, n, t, 0, 0, 0, 0)
	fd.release()
	if e != 0 {
		runtime.UnlockOSThread()
		return callErr("setns", e)
	}
	return nil
}

// NsType returns the type of the namespace fd refers to, as its CLONE_NEW*
// flag (ioctl NS_GET_NSTYPE).
func (f *Fd) NsType() (CloneFlags, error) {
	if f == nil {
		return 0, callErr("ioctl", EBADF)
	}
	req := f.k.ns.getNstype
	if req == nsNoConst {
		return 0, callErr("ioctl", ENOSYS)
	}
	r, err := f.ioctlInt("ioctl", req, 0)
	if err != nil {
		return 0, err
	}
	return CloneFlags(f.k.flagsFromABI(cloneFlagsFamily, uint64(r))), nil
}

// NsUserns returns a descriptor for the user namespace that owns the
// namespace fd refers to (ioctl NS_GET_USERNS).
func (f *Fd) NsUserns() (*Fd, error) {
	return f.nsFdIoctl(func(s *nsState) uint64 { return s.getUserns })
}

// NsParent returns a descriptor for the parent of the user or PID namespace
// fd refers to (ioctl NS_GET_PARENT); EPERM when the parent is outside the
// caller's reach.
func (f *Fd) NsParent() (*Fd, error) {
	return f.nsFdIoctl(func(s *nsState) uint64 { return s.getParent })
}

func (f *Fd) nsFdIoctl(req func(*nsState) uint64) (*Fd, error) {
	if f == nil {
		return nil, callErr("ioctl", EBADF)
	}
	r := req(&f.k.ns)
	if r == nsNoConst {
		return nil, callErr("ioctl", ENOSYS)
	}
	n, err := f.ioctlInt("ioctl", r, 0)
	if err != nil {
		return nil, err
	}
	return f.k.newFd(n), nil
}

// NsOwnerUID returns the uid of the creator of the user namespace fd
// refers to, as seen from the caller's user namespace (ioctl
// NS_GET_OWNER_UID).
func (f *Fd) NsOwnerUID() (int, error) {
	if f == nil {
		return 0, callErr("ioctl", EBADF)
	}
	req := f.k.ns.getOwnerUID
	if req == nsNoConst {
		return 0, callErr("ioctl", ENOSYS)
	}
	var uid uint32 // uid_t is 32 bits on every ABI api serves
	if _, err := f.ioctlPtr("ioctl", req, unsafe.Pointer(&uid)); err != nil {
		return 0, err
	}
	return int(uid), nil
}

// CloneFlagsToABI converts flags to the numbers of k's ABI, for code that
// hands them to another interface (syscall.SysProcAttr.Cloneflags).
func (k *Kernel) CloneFlagsToABI(flags CloneFlags) (uint64, error) {
	v, err := k.procCheckBits("clone", cloneFlagsFamily, uint64(flags))
	return uint64(v), err
}
