//go:build rump && cgo

package rump

/*
#include "rump.h"
void anyk_cgo_traceback(void *);
void anyk_cgo_symbolizer(void *);
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// The rump kernel is C: a fault in it should show where. This registers
// the traceback and symbolizer of symbolizer.c. It stands in for importing
// github.com/ianlancetaylor/cgosymbolizer (libbacktrace, with file and
// line), which the Go module proxy does not serve here; when it can be
// imported, delete symbolizer.go and symbolizer.c and import it instead
// (runtime.SetCgoTraceback may be called only once).
func init() {
	runtime.SetCgoTraceback(0, unsafe.Pointer(C.anyk_cgo_traceback), nil, unsafe.Pointer(C.anyk_cgo_symbolizer))
}

// crashForTest faults inside the rump kernel (TestCrashShowsCFrames runs
// it in a child): etfs_remove of a NULL key.
func crashForTest() { C.anyk_etfs_remove(nil) }
