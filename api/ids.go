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
	if id < 0 || id >= 1<<32-1 {
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
	r, _, e := syscall.AllThreadsSyscall(nr, a1, a2, a3)
	if e != 0 {
		return r, k.errno(uintptr(e))
	}
	return r, 0
}

func (k *Kernel) set1(c call, name string, id int, host func(int) error) error {
	a, err := credArg(name, id, false)
	if err != nil {
		return err
	}
	if k.procs.host {
		return k.hostErr(name, host(id))
	}
	if _, e := k.syscall(c, a, 0, 0, 0, 0, 0); e != 0 {
		return callErr(name, e)
	}
	return nil
}

func (k *Kernel) set2(c call, name string, r, e int, host func(int, int) error) error {
	a1, err := credArg(name, r, true)
	if err != nil {
		return err
	}
	a2, err := credArg(name, e, true)
	if err != nil {
		return err
	}
	if k.procs.host {
		return k.hostErr(name, host(r, e))
	}
	if _, en := k.syscall(c, a1, a2, 0, 0, 0, 0); en != 0 {
		return callErr(name, en)
	}
	return nil
}

func (k *Kernel) set3(c call, name string, r, e, s int, host func(int, int, int) error) error {
	a1, err := credArg(name, r, true)
	if err != nil {
		return err
	}
	a2, err := credArg(name, e, true)
	if err != nil {
		return err
	}
	a3, err := credArg(name, s, true)
	if err != nil {
		return err
	}
	if k.procs.host {
		return k.hostErr(name, host(r, e, s))
	}
	if _, en := k.syscall(c, a1, a2, a3, 0, 0, 0); en != 0 {
		return callErr(name, en)
	}
	return nil
}

// Setuid sets the user id of every thread (see the note on identity above):
// with privilege all of real, effective and saved, otherwise the effective
// one.
func (k *Kernel) Setuid(uid int) error { return k.set1(sysSetuid, "setuid", uid, syscall.Setuid) }

// Setgid sets the group id of every thread, as Setuid does for the user id.
func (k *Kernel) Setgid(gid int) error { return k.set1(sysSetgid, "setgid", gid, syscall.Setgid) }

// Setreuid sets the real and effective user ids of every thread; -1 leaves
// one unchanged.
func (k *Kernel) Setreuid(ruid, euid int) error {
	return k.set2(sysSetreuid, "setreuid", ruid, euid, syscall.Setreuid)
}

// Setregid sets the real and effective group ids of every thread; -1 leaves
// one unchanged.
func (k *Kernel) Setregid(rgid, egid int) error {
	return k.set2(sysSetregid, "setregid", rgid, egid, syscall.Setregid)
}

// Setresuid sets the real, effective and saved user ids of every thread;
// -1 leaves one unchanged.
func (k *Kernel) Setresuid(ruid, euid, suid int) error {
	return k.set3(sysSetresuid, "setresuid", ruid, euid, suid, syscall.Setresuid)
}

// Setresgid sets the real, effective and saved group ids of every thread;
// -1 leaves one unchanged.
func (k *Kernel) Setresgid(rgid, egid, sgid int) error {
	return k.set3(sysSetresgid, "setresgid", rgid, egid, sgid, syscall.Setresgid)
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
	a1, err := credArg(name, r, true)
	if err != nil {
		return err
	}
	a2, err := credArg(name, e, true)
	if err != nil {
		return err
	}
	a3, err := credArg(name, s, true)
	if err != nil {
		return err
	}
	if _, en := k.syscall(c, a1, a2, a3, 0, 0, 0); en != 0 {
		return callErr(name, en)
	}
	return nil
}

// Setgroups sets the supplementary group ids of every thread (needs
// privilege). An empty list clears them.
func (k *Kernel) Setgroups(gids []int) error {
	if len(gids) > procMaxGroups {
		return badArg("setgroups", "more than 65536 groups")
	}
	for _, g := range gids {
		if g < 0 || g >= 1<<32-1 {
			return badArg("setgroups", "group id "+strconv.Itoa(g)+" out of range")
		}
	}
	if k.procs.host {
		if gids == nil {
			gids = []int{}
		}
		return k.hostErr("setgroups", syscall.Setgroups(gids))
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
