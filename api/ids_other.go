//go:build !linux

package api

import "syscall"

// Other kernels keep credentials per process: the plain syscall is right
// for the host too, and the host* functions are never called.
const hostIdentityPerThread = false

func allThreadsSyscall(trap, a1, a2, a3 uintptr) (r1, r2 uintptr, err syscall.Errno) {
	return 0, 0, syscall.ENOTSUP
}

func hostUnused(...int) error { return syscall.ENOTSUP }

var (
	hostSetuid    = func(int) error { return hostUnused() }
	hostSetgid    = hostSetuid
	hostSetreuid  = func(int, int) error { return hostUnused() }
	hostSetregid  = hostSetreuid
	hostSetresuid = func(int, int, int) error { return hostUnused() }
	hostSetresgid = hostSetresuid
	hostSetgroups = func([]int) error { return hostUnused() }
)
