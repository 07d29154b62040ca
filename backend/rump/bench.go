//go:build rump && cgo

package rump

/*
#include "rump.h"
*/
import "C"

import (
	"fmt"
	"os"

	"github.com/anykernel/anykernel/api"
)

// CLoop runs n calls of op through librump's own C wrappers (rump_sys_*),
// in a C loop on one lwp of k's process bound once, all inside a single
// cgo call: the C baseline test/bench compares api against. op is
// "getpid", "read1" (one byte from descriptor fd) or "fstat" (of fd);
// "getpid-unbound" is getpid from a thread with no lwp bound, which makes
// rump create an implicit lwp for every call.
func CLoop(k *api.Kernel, op string, fd int, n int) error {
	b, err := backendOf("cloop", k)
	if err != nil {
		return err
	}
	if b.remote {
		return &os.SyscallError{Syscall: "cloop", Err: api.ENOTSUP}
	}
	var e C.int
	switch op {
	case "getpid":
		e = C.anyk_bench_getpid(b.ctx, C.long(n))
	case "getpid-unbound":
		e = C.anyk_bench_getpid_unbound(C.long(n))
	case "read1":
		e = C.anyk_bench_read(b.ctx, C.int(fd), C.long(n))
	case "fstat":
		e = C.anyk_bench_fstat(b.ctx, C.int(fd), C.long(n))
	default:
		return fmt.Errorf("rump: cloop: unknown op %q", op)
	}
	if e != 0 {
		return &os.SyscallError{Syscall: op, Err: errnoOf(e)}
	}
	return nil
}
