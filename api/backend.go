package api

import "github.com/anykernel/anykernel/abi"

// Backend is the seam between api and a kernel. It names the ABI it speaks
// and performs one call; everything users see is built on these two things.
//
// Arguments that are addresses may point into the calling goroutine's stack
// (api keeps its scratch buffers there so that calls do not allocate). The
// Go runtime moves stacks only in function prologues, so an implementation
// must reach the point where the kernel reads the memory without a
// stack-growth check: the native backend is //go:nosplit down to the trap; a
// backend that must run ordinary Go code first turns the address arguments
// into unsafe.Pointer inside a //go:nosplit entry, which the runtime then
// adjusts if the stack moves.
type Backend interface {
	// Name is the column name in the conformance matrix: "native", "rump", ...
	Name() string
	// ABI is the table of numbers and layouts this kernel speaks.
	ABI() *abi.Table
	// Syscall performs call nr and may block; it lets the Go scheduler run
	// other goroutines meanwhile. errno is the ABI's raw errno, 0 on success.
	Syscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr)
	// RawSyscall is Syscall for calls that can never block (getpid, fstat
	// of an open descriptor): it skips the scheduler hand-off. Backends
	// without a cheaper path implement it as Syscall.
	RawSyscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr)
}

// HostBackend is implemented by backends whose descriptors are the host
// process's own, so they can become *os.File values.
type HostBackend interface {
	Backend
	HostDescriptors()
}

// ClockBackend is implemented by backends that can read some clocks without
// entering the kernel (the Linux vDSO). ok is false when the clock is not
// served that way and the caller must make the syscall.
type ClockBackend interface {
	Backend
	ClockNow(clock ClockID) (sec, nsec int64, ok bool)
}
