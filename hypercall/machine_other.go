//go:build !(linux && amd64)

package hypercall

import (
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// Stand-ins where there is no anykernel image (it is linux/amd64): cpl
// says "not ring 0", so Open fails with ErrNoXen and nothing else is
// reached.

func cpl() uint64 { return 3 }

func hcall(entry, cmd uintptr, arg unsafe.Pointer, count uintptr) int64 { panic("hypercall: no Xen") }
func cpuid(leaf, sub uint32) (a, b, c, d uint32)                        { panic("hypercall: no Xen") }
func wrmsr(msr uint32, v uint64)                                        { panic("hypercall: no Xen") }
func rdtsc() uint64                                                     { panic("hypercall: no Xen") }
func readCR3() uint64                                                   { panic("hypercall: no Xen") }
func auxv(key uintptr) (uintptr, bool)                                  { return 0, false }
func evtchnWait(seq, timeout uint64) api.Errno                          { return api.ENOSYS }
