//go:build darwin || freebsd || netbsd || openbsd

package native

import "golang.org/x/sys/unix"

// Syscall goes through x/sys/unix's Syscall6, which tells the Go scheduler
// that this thread may block so other goroutines keep running.
//
// nosplit: address arguments may point into the caller's stack (see
// api.Backend), so nothing between api and the trap may grow it.
//
//go:nosplit
func (*Backend) Syscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr) {
	r1, r2, e := unix.Syscall6(nr, a1, a2, a3, a4, a5, a6)
	return r1, r2, uintptr(e)
}

// RawSyscall skips the scheduler hand-off; api uses it only for calls that
// cannot block (getpid, fstat on an open descriptor, clock reads), where the
// hand-off would cost more than the call.
//
//go:nosplit
func (*Backend) RawSyscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr) {
	r1, r2, e := unix.RawSyscall6(nr, a1, a2, a3, a4, a5, a6)
	return r1, r2, uintptr(e)
}
