package api

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// User and group identity.
//
// On Linux, credentials belong to each thread at the syscall level; the C
// library and Go's syscall package make setuid and friends act on every
// thread of the process, which is what users expect, and api does the same
// on the host kernel: it calls Go's syscall package, which uses
// syscall.AllThreadsSyscall, or, in programs linked with cgo (where
// AllThreadsSyscall refuses with ENOTSUP because it cannot reach threads C
// code started), the C library's own all-thread setuid. Setfsuid and
// Setfsgid have no C library fallback (glibc's act on one thread): they
// use AllThreadsSyscall and return ENOTSUP in cgo programs; their *Thread
// variants, like SetresuidThread, change the calling thread only, on
// purpose. Other backends make one call to their kernel.

var (
	sysGetuid    = newCall("getuid32", "getuid")
	sysGeteuid   = newCall("geteuid32", "geteuid")
	sysGetgid    = newCall("getgid32", "getgid")
	sysGetegid   = newCall("getegid32", "getegid")
	sysGetresuid = newCall("getresuid32", "getresuid")
	sysGetresgid = newCall("getresgid32", "getresgid")
	sysGetgroups = newCall("getgroups32", "getgroups")
	sysSetuid    = newCall("setuid32", "setuid")
	sysSetgid    = newCall("setgid32", "setgid")
	sysSetreuid  = newCall("setreuid32", "setreuid")
	sysSetregid  = newCall("setregid32", "setregid")
	sysSetresuid = newCall("setresuid32", "setresuid")
	sysSetresgid = newCall("setresgid32", "setresgid")
	sysSetgroups = newCall("setgroups32", "setgroups")
	sysSetfsuid  = newCall("setfsuid32", "setfsuid")
	sysSetfsgid  = newCall("setfsgid32", "setfsgid")
)

// procMaxGroups bounds the supplementary groups api reads or sets
// (NGROUPS_MAX on Linux is 65536).
const procMaxGroups = 1 << 16

// The getters below are raw syscalls: they only read the caller's
// credentials and never block.

// Getuid returns the real user id, or -1 if the kernel has no getuid.
func (k *Kernel) Getuid() int { return k.getID(sysGetuid) }

// Geteuid returns the effective user id, or -1.
func (k *Kernel) Geteuid() int { return k.getID(sysGeteuid) }

// Getgid returns the real group id, or -1.
func (k *Kernel) Getgid() int { return k.getID(sysGetgid) }

// Getegid returns the effective group id, or -1.
func (k *Kernel) Getegid() int { return k.getID(sysGetegid) }

// getID makes a raw call without arguments that returns an id (user,
// group, process, thread), or -1 if the kernel lacks it. Getpid keeps its
// own copy: it is measured against a bare syscall, and getID does not
// inline.
func (k *Kernel) getID(c call) int {
	r, e := k.rawSyscall(c, 0, 0, 0, 0, 0, 0)
	if e != 0 {
		return -1
	}
	return int(uint32(r))
}

// Getresuid returns the real, effective and saved user ids.
func (k *Kernel) Getresuid() (ruid, euid, suid int, err error) {
	return k.getres(sysGetresuid, "getresuid")
}

// Getresgid returns the real, effective and saved group ids.
func (k *Kernel) Getresgid() (rgid, egid, sgid int, err error) {
	return k.getres(sysGetresgid, "getresgid")
}

func (k *Kernel) getres(c call, name string) (int, int, int, error) {
	var ids [3]uint32
	_, e := k.rawSyscall(c, uintptr(unsafe.Pointer(&ids[0])), uintptr(unsafe.Pointer(&ids[1])), uintptr(unsafe.Pointer(&ids[2])), 0, 0, 0)
	if e != 0 {
		return -1, -1, -1, callErr(name, e)
	}
	return int(ids[0]), int(ids[1]), int(ids[2]), nil
}

// Getgroups returns the supplementary group ids.
func (k *Kernel) Getgroups() ([]int, error) {
	for range 4 { // the set may grow between the two calls
		r, e := k.rawSyscall(sysGetgroups, 0, 0, 0, 0, 0, 0)
		if e != 0 {
			return nil, callErr("getgroups", e)
		}
		if r == 0 {
			return []int{}, nil
		}
		buf := make([]uint32, r)
		r, e = k.rawSyscall(sysGetgroups, uintptr(len(buf)), uintptr(unsafe.Pointer(&buf[0])), 0, 0, 0, 0)
		if e == EINVAL {
			continue
		}
		if e != 0 {
			return nil, callErr("getgroups", e)
		}
		out := make([]int, r)
		for i := range out {
			out[i] = int(buf[i])
		}
		return out, nil
	}
	return nil, callErr("getgroups", EAGAIN)
}

// credArg converts an id for the kernel; -1 ("leave unchanged") is allowed
// only where keep is true.
func credArg(call string, id int, keep bool) (uintptr, error) {
	if id == -1 && keep {
		return uintptr(^uint32(0)), nil
	}
	if id < 0 || int64(id) >= 1<<32-1 {
		return 0, badArg(call, "id "+strconv.Itoa(id)+" out of range")
	}
	return uintptr(id), nil
}

// hostErr converts an error of Go's syscall package.
func (k *Kernel) hostErr(name string, err error) error {
	if err == nil {
		return nil
	}
	if en, ok := err.(syscall.Errno); ok {
		return callErr(name, k.errno(uintptr(en)))
	}
	return &os.SyscallError{Syscall: name, Err: err}
}

// allThreads performs an identity call on every thread of the host
// process; ENOTSUP in cgo programs.
func (k *Kernel) allThreads(c call, a1, a2, a3 uintptr) (uintptr, Errno) {
	nr := k.nr[c]
	if nr == noSyscall {
		return 0, ENOSYS
	}
	r, _, e := allThreadsSyscall(nr, a1, a2, a3)
	if e != 0 {
		return r, k.errno(uintptr(e))
	}
	return r, 0
}

// credArgs converts up to three ids with credArg; the rest stay 0.
func credArgs(call string, keep bool, ids ...int) ([3]uintptr, error) {
	var a [3]uintptr
	for i, id := range ids {
		v, err := credArg(call, id, keep)
		if err != nil {
			return a, err
		}
		a[i] = v
	}
	return a, nil
}

// setIDs sets ids with call c, or, on the host kernel, with host (Go's
// syscall package, which acts on every thread). keep allows -1.
func (k *Kernel) setIDs(c call, name string, keep bool, host func() error, ids ...int) error {
	a, err := credArgs(name, keep, ids...)
	if err != nil {
		return err
	}
	if k.procs.host && hostIdentityPerThread {
		return k.hostErr(name, host())
	}
	return errOnly(k.intCall(name, c, a[0], a[1], a[2]))
}

// Setuid sets the user id of every thread (see the note on identity above):
// with privilege all of real, effective and saved, otherwise the effective
// one.
func (k *Kernel) Setuid(uid int) error {
	return k.setIDs(sysSetuid, "setuid", false, func() error { return hostSetuid(uid) }, uid)
}

// Setgid sets the group id of every thread, as Setuid does for the user id.
func (k *Kernel) Setgid(gid int) error {
	return k.setIDs(sysSetgid, "setgid", false, func() error { return hostSetgid(gid) }, gid)
}

// Setreuid sets the real and effective user ids of every thread; -1 leaves
// one unchanged.
func (k *Kernel) Setreuid(ruid, euid int) error {
	return k.setIDs(sysSetreuid, "setreuid", true, func() error { return hostSetreuid(ruid, euid) }, ruid, euid)
}

// Setregid sets the real and effective group ids of every thread; -1 leaves
// one unchanged.
func (k *Kernel) Setregid(rgid, egid int) error {
	return k.setIDs(sysSetregid, "setregid", true, func() error { return hostSetregid(rgid, egid) }, rgid, egid)
}

// Setresuid sets the real, effective and saved user ids of every thread;
// -1 leaves one unchanged.
func (k *Kernel) Setresuid(ruid, euid, suid int) error {
	return k.setIDs(sysSetresuid, "setresuid", true, func() error { return hostSetresuid(ruid, euid, suid) }, ruid, euid, suid)
}

// Setresgid sets the real, effective and saved group ids of every thread;
// -1 leaves one unchanged.
func (k *Kernel) Setresgid(rgid, egid, sgid int) error {
	return k.setIDs(sysSetresgid, "setresgid", true, func() error { return hostSetresgid(rgid, egid, sgid) }, rgid, egid, sgid)
}

// SetresuidThread is Setresuid for the calling OS thread only: a thread can
// drop privilege for a while (to open files as another user) and take it
// back, as long as one of its ids stays privileged.
//
// So that the changed identity cannot leak to other goroutines, it locks the
// calling goroutine to its thread (runtime.LockOSThread) and leaves it
// locked, also when it fails: restore the ids and call
// runtime.UnlockOSThread once per call, or let the goroutine exit locked,
// and Go discards the thread. While one thread's ids differ from the
// others', do not call the process-wide setters: AllThreadsSyscall (and
// the C library) end the program when threads answer differently.
func (k *Kernel) SetresuidThread(ruid, euid, suid int) error {
	return k.setresThread(sysSetresuid, "setresuid", ruid, euid, suid)
}

// SetresgidThread is Setresgid for the calling OS thread only; see
// SetresuidThread for the locking it implies.
func (k *Kernel) SetresgidThread(rgid, egid, sgid int) error {
	return k.setresThread(sysSetresgid, "setresgid", rgid, egid, sgid)
}

func (k *Kernel) setresThread(c call, name string, r, e, s int) error {
	runtime.LockOSThread()
	a, err := credArgs(name, true, r, e, s)
	if err != nil {
		return err
	}
	return errOnly(k.intCall(name, c, a[0], a[1], a[2]))
}

// Setgroups sets the supplementary group ids of every thread (needs
// privilege). An empty list clears them.
func (k *Kernel) Setgroups(gids []int) error {
	if len(gids) > procMaxGroups {
		return badArg("setgroups", "more than 65536 groups")
	}
	for _, g := range gids {
		if g < 0 || int64(g) >= 1<<32-1 {
			return badArg("setgroups", "group id "+strconv.Itoa(g)+" out of range")
		}
	}
	if k.procs.host && hostIdentityPerThread {
		if gids == nil {
			gids = []int{}
		}
		return k.hostErr("setgroups", hostSetgroups(gids))
	}
	buf := make([]uint32, len(gids)+1) // +1: never empty, so &buf[0] is valid
	for i, g := range gids {
		buf[i] = uint32(g)
	}
	if _, e := k.syscall(sysSetgroups, uintptr(len(gids)), uintptr(unsafe.Pointer(&buf[0])), 0, 0, 0, 0); e != 0 {
		return callErr("setgroups", e)
	}
	return nil
}

// Setfsuid sets the user id used for file-system access checks of every
// thread and returns the previous one (see the note on identity above: in
// cgo programs on the host kernel it returns ENOTSUP, and SetfsuidThread is
// the way). The kernel reports no error: it returns the previous id whether
// or not it changed anything, so check with Setfsuid(-1), which changes
// nothing and returns the current id.
func (k *Kernel) Setfsuid(uid int) (prev int, err error) {
	return k.setfs(sysSetfsuid, "setfsuid", uid, false)
}

// Setfsgid is Setfsuid for the file-system group id.
func (k *Kernel) Setfsgid(gid int) (prev int, err error) {
	return k.setfs(sysSetfsgid, "setfsgid", gid, false)
}

// SetfsuidThread is Setfsuid for the calling OS thread only, the classic
// use: a file server thread acting for one user. It locks the goroutine
// to its thread as SetresuidThread does.
func (k *Kernel) SetfsuidThread(uid int) (prev int, err error) {
	return k.setfs(sysSetfsuid, "setfsuid", uid, true)
}

// SetfsgidThread is Setfsgid for the calling OS thread only; see
// SetfsuidThread.
func (k *Kernel) SetfsgidThread(gid int) (prev int, err error) {
	return k.setfs(sysSetfsgid, "setfsgid", gid, true)
}

func (k *Kernel) setfs(c call, name string, id int, thread bool) (int, error) {
	if thread {
		runtime.LockOSThread()
	}
	a, err := credArg(name, id, true)
	if err != nil {
		return -1, err
	}
	var r uintptr
	var e Errno
	if id == -1 || thread || !k.procs.host {
		// id -1 is a query: every thread would answer for itself, and
		// threads whose answers differ would make AllThreadsSyscall end
		// the process.
		r, e = k.rawSyscall(c, a, 0, 0, 0, 0, 0)
	} else {
		r, e = k.allThreads(c, a, 0, 0)
	}
	if e != 0 {
		return -1, callErr(name, e)
	}
	return int(uint32(r)), nil
}
