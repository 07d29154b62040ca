//go:build rump && cgo

package rump

/*
#include "rump.h"
*/
import "C"

import (
	"os"
	"runtime"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// The lwproc API. In C a rump lwp is bound to the calling host thread
// (rump_pub_lwproc_switch) and stays bound until switched again; in Go a
// goroutine changes threads at any time, so that binding would let calls
// run in whatever process the thread last served. Here the binding belongs
// to the Kernel instead, and is checked in the same C call that enters the
// kernel: a process Kernel (New, Rfork) runs each call on an lwp of its
// process (the one the thread already holds for it, or a free one, made
// as needed; see rump.c), an lwp Kernel (SwitchLWP) on its one lwp.

// LWP is one lwp (kernel thread) of a rump process, made by NewLWP. Calls
// through its Kernel (SwitchLWP) all run on it, one at a time, as they
// would on one thread.
type LWP struct {
	b   *Backend
	k   *api.Kernel
	pid int
	lid int
}

// NewLWP makes a new lwp in k's process (rump_pub_lwproc_newlwp).
func NewLWP(k *api.Kernel) (*LWP, error) {
	b, err := backendOf("newlwp", k)
	if err != nil {
		return nil, err
	}
	if b.remote {
		return nil, &os.SyscallError{Syscall: "rump_lwproc_newlwp", Err: api.ENOTSUP}
	}
	var e C.int
	ctx := C.anyk_newlwp(b.ctx, &e)
	if ctx == nil {
		return nil, &os.SyscallError{Syscall: "rump_lwproc_newlwp", Err: errnoOf(e)}
	}
	lb := &Backend{ctx: ctx, c: uintptr(unsafe.Pointer(ctx)), name: "rump", pid: b.pid}
	l := &LWP{b: lb, pid: b.pid}
	lb.lwp = l
	l.k, err = api.New(lb)
	if err != nil {
		C.anyk_release(ctx)
		return nil, err
	}
	runtime.AddCleanup(l, func(ctx *C.struct_anyk_ctx) { C.anyk_release(ctx) }, ctx)
	if r, err := l.k.Syscall("_lwp_self"); err == nil {
		l.lid = int(r)
	}
	return l, nil
}

// SwitchLWP returns the Kernel whose calls run on l, the Go form of
// rump_pub_lwproc_switch: each call binds l to the thread that runs it.
// Concurrent calls take turns.
func SwitchLWP(l *LWP) *api.Kernel { return l.k }

// ReleaseLWP ends l (rump_pub_lwproc_releaselwp). Releasing a process's
// last lwp ends the process. Calls through l's Kernel fail with ESRCH
// afterwards; releasing twice is an error.
func ReleaseLWP(l *LWP) error {
	if l == nil {
		return &os.SyscallError{Syscall: "rump_lwproc_releaselwp", Err: api.EINVAL}
	}
	if e := C.anyk_release(l.b.ctx); e != 0 {
		return &os.SyscallError{Syscall: "rump_lwproc_releaselwp", Err: errnoOf(e)}
	}
	return nil
}

// CurLWP returns the lwp k's calls run on: the one SwitchLWP bound, or nil
// for a process Kernel, whose calls each take a free lwp of the process.
func CurLWP(k *api.Kernel) *LWP {
	if k == nil {
		return nil
	}
	if b, ok := k.Backend().(*Backend); ok {
		return b.lwp
	}
	return nil
}

// Pid is the id of l's process.
func (l *LWP) Pid() int { return l.pid }

// Lid is l's id within its process (_lwp_self).
func (l *LWP) Lid() int { return l.lid }
