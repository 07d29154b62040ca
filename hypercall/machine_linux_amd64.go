package hypercall

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/anykernel/anykernel/api"
)

// Implemented in machine_linux_amd64.s; privileged except cpl and cpuid,
// so called only after Open has checked that the program runs in ring 0.

//go:noescape
func hcall(entry, cmd uintptr, arg unsafe.Pointer, count uintptr) int64

func cpuid(leaf, sub uint32) (a, b, c, d uint32)
func cpl() uint64
func wrmsr(msr uint32, v uint64)
func rdtsc() uint64
func readCR3() uint64

// auxv returns the value of an auxiliary vector entry.
func auxv(key uintptr) (uintptr, bool) {
	vec, err := unix.Auxv()
	if err != nil {
		return 0, false
	}
	for _, kv := range vec {
		if kv[0] == key {
			return kv[1], true
		}
	}
	return 0, false
}

// evtchnWait makes SYS_ANYKERNEL_EVTCHN_WAIT through unix.Syscall, the
// runtime's blocking path (not RawSyscall), so that the scheduler hands
// this thread's P to another while the shim sleeps it. Linux amd64's
// errnos are api's.
func evtchnWait(seq, timeout uint64) api.Errno {
	_, _, e := unix.Syscall(sysAnykernelEvtchnWait, uintptr(seq), uintptr(timeout), 0)
	return api.Errno(e)
}
