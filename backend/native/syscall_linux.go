package native

import "golang.org/x/sys/unix"

// Linux returns an error as r1 in [-4095, -1], that is r1 >= firstErrno
// as an unsigned number.
const firstErrno = ^uintptr(4095 - 1)

// Syscall tells the Go scheduler that this thread may block so other
// goroutines keep running. Calls with at most three arguments (read,
// write, close, fstat...) take x/sys/unix's SyscallNoError, a direct trap
// in assembly between entersyscall and exitsyscall, rather than Syscall6's
// chain of wrappers: the api must cost no more than x/sys/unix itself, and
// the errno test is Linux's (r1 in [-4095, -1]). Where that test or those
// entries fall short (mips and powerpc flag failures in a register; on
// riscv64, 386 and arm the entries leave unloaded argument registers as
// they were), every call takes Syscall6: shortTrap, trap_*_linux.go.
//
// nosplit: address arguments may point into the caller's stack (see
// api.Backend), so nothing between api and the trap may grow it; both
// x/sys entries are NOSPLIT assembly.
//
//go:nosplit
func (*Backend) Syscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr) {
	if shortTrap && a4|a5|a6 == 0 {
		return result(unix.SyscallNoError(nr, a1, a2, a3))
	}
	r1, r2, e := unix.Syscall6(nr, a1, a2, a3, a4, a5, a6)
	return r1, r2, uintptr(e)
}

// RawSyscall skips the scheduler hand-off; api uses it only for calls that
// cannot block (getpid, fstat on an open descriptor, clock reads), where the
// hand-off would cost more than the call. Short calls trap directly, as in
// Syscall.
//
//go:nosplit
func (*Backend) RawSyscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr) {
	if shortTrap && a4|a5|a6 == 0 {
		return result(unix.RawSyscallNoError(nr, a1, a2, a3))
	}
	r1, r2, e := unix.RawSyscall6(nr, a1, a2, a3, a4, a5, a6)
	return r1, r2, uintptr(e)
}

// result splits a raw trap's r1 into a result or an errno, as Syscall6
// does.
//
//go:nosplit
func result(r1, r2 uintptr) (uintptr, uintptr, uintptr) {
	if r1 >= firstErrno {
		return ^uintptr(0), 0, -r1
	}
	return r1, r2, 0
}
