package rump

import (
	"sort"

	"github.com/anykernel/anykernel/abi"
)

// NetBSD constants the generated abi/netbsd tables do not carry yet (their
// x/sys source lacks them), with their values from NetBSD's headers (the
// src-netbsd a rump kernel is built from: sys/unistd.h, sys/time.h,
// sys/signal.h, sys/sched.h, sys/idtype.h, sys/wait.h, sys/mman.h,
// sys/termios.h, sys/fd_set.h). They are the same on every NetBSD
// architecture. withExtras adds only the names a table lacks, so each entry
// becomes a no-op once build/abigen emits it; TestExtrasNeeded lists those.
var netbsdExtras = []abi.Const{
	{Name: "SEEK_SET", Value: 0},
	{Name: "SEEK_CUR", Value: 1},
	{Name: "SEEK_END", Value: 2},
	{Name: "X_OK", Value: 0x01},
	{Name: "W_OK", Value: 0x02},
	{Name: "R_OK", Value: 0x04},
	{Name: "CLOCK_REALTIME", Value: 0},
	{Name: "CLOCK_VIRTUAL", Value: 1},
	{Name: "CLOCK_PROF", Value: 2},
	{Name: "CLOCK_MONOTONIC", Value: 3},
	{Name: "CLOCK_THREAD_CPUTIME_ID", Value: 0x80000000},
	{Name: "CLOCK_PROCESS_CPUTIME_ID", Value: 0x40000000},
	{Name: "TIMER_ABSTIME", Value: 0x1},
	{Name: "SIG_BLOCK", Value: 1},
	{Name: "SIG_UNBLOCK", Value: 2},
	{Name: "SIG_SETMASK", Value: 3},
	{Name: "SCHED_OTHER", Value: 0},
	{Name: "SCHED_FIFO", Value: 1},
	{Name: "SCHED_RR", Value: 2},
	{Name: "P_ALL", Value: 0},
	{Name: "P_PID", Value: 1},
	{Name: "P_PGID", Value: 4},
	{Name: "WCONTINUED", Value: 0x10},
	{Name: "WEXITED", Value: 0x20},
	{Name: "MAP_ANONYMOUS", Value: 0x1000},
	{Name: "TCSANOW", Value: 0},
	{Name: "TCSADRAIN", Value: 1},
	{Name: "TCSAFLUSH", Value: 2},
	// Socket option levels: BSD takes the protocol number, which is what
	// Linux's SOL_ names equal too.
	{Name: "SOL_IP", Value: 0},
	{Name: "SOL_TCP", Value: 6},
	{Name: "SOL_IPV6", Value: 41},
	{Name: "SOL_ICMPV6", Value: 58},
	{Name: "SOL_RAW", Value: 255},
}

// netbsdExtraStructs are layouts the generated tables lack: the kernel's
// sigset_t (sys/sigtypes.h: four uint32 words, bit n-1 for signal n), which
// __sigprocmask14, __sigpending14 and __pollts50 take.
var netbsdExtraStructs = []abi.Struct{
	{Name: "kernel_sigset", Size: 16, Align: 4, Fields: []abi.Field{{Name: "sig", Offset: 0, Size: 16}}},
}

// netbsdFixes correct values the generated tables have wrong: x/sys took
// WSTOPPED from the status macro _WSTOPPED (0177); the option is WUNTRACED
// (sys/wait.h: #define WSTOPPED WUNTRACED).
var netbsdFixes = []abi.Const{
	{Name: "WSTOPPED", Value: 0x2},
}

// withExtras returns t with netbsdExtras added where t lacks them and
// netbsdExtraStructs added and netbsdFixes applied; t itself is not
// changed.
func withExtras(t *abi.Table) *abi.Table {
	if t == nil {
		return nil
	}
	c := *t
	c.Consts = append([]abi.Const(nil), t.Consts...)
	for _, x := range netbsdExtras {
		if _, ok := t.Const(x.Name); !ok {
			c.Consts = append(c.Consts, x)
		}
	}
	c.Structs = append([]abi.Struct(nil), t.Structs...)
	for _, x := range netbsdExtraStructs {
		if _, ok := t.Struct(x.Name); !ok {
			c.Structs = append(c.Structs, x)
		}
	}
	sort.Slice(c.Structs, func(i, j int) bool { return c.Structs[i].Name < c.Structs[j].Name })
	for _, x := range netbsdFixes {
		for i := range c.Consts {
			if c.Consts[i].Name == x.Name {
				c.Consts[i].Value = x.Value
			}
		}
	}
	sort.Slice(c.Consts, func(i, j int) bool { return c.Consts[i].Name < c.Consts[j].Name })
	return &c
}
