package hypercall

import (
	"unsafe"

	"golang.org/x/sys/unix"
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
