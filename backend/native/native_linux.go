package native

import (
	"sync"
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/api"
)

// Backend performs raw syscalls on the host kernel.
type Backend struct{}

var (
	_ api.HostBackend  = (*Backend)(nil)
	_ api.ClockBackend = (*Backend)(nil)
)

// Name implements api.Backend.
func (*Backend) Name() string { return "native" }

// ABI implements api.Backend.
func (*Backend) ABI() *abi.Table { return hostTable }

// HostDescriptors marks that descriptors are the process's own.
func (*Backend) HostDescriptors() {}

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

// The Go runtime reads CLOCK_REALTIME and CLOCK_MONOTONIC through the vDSO;
// these are the two entry points it exposes for that (time.Now uses them).
//
//go:linkname timeNow time.now
func timeNow() (sec int64, nsec int32, mono int64)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// ClockNow serves the clocks the vDSO serves without entering the kernel.
func (*Backend) ClockNow(clock api.ClockID) (sec, nsec int64, ok bool) {
	switch clock {
	case api.CLOCK_REALTIME:
		s, n, _ := timeNow()
		return s, int64(n), true
	case api.CLOCK_MONOTONIC:
		t := nanotime()
		return t / 1e9, t % 1e9, true
	}
	return 0, 0, false
}

var (
	once sync.Once
	k    *api.Kernel
	kerr error
)

// New returns the Kernel of the host. All callers share one; it holds no
// per-caller state.
func New() (*api.Kernel, error) {
	once.Do(func() { k, kerr = api.New(&Backend{}) })
	return k, kerr
}
