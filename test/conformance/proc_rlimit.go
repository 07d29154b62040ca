package conformance

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/anykernel/anykernel/api"
)

// The processes family: resource limits. The current process's limits are
// lowered and restored; limits of other processes are changed on a child.

func init() {
	Register(
		Case{Family: "proc", Call: "getrlimit", Run: testProcGetrlimit},
		Case{Family: "proc", Call: "setrlimit", Run: testProcSetrlimit},
		Case{Family: "proc", Call: "prlimit64", Run: testProcPrlimit},
	)
}

// procLimits reads one line of /proc/<pid>/limits ("Max open files") as
// an Rlimit, "unlimited" being RLIM_INFINITY.
func procLimits(t T, pid, name string) api.Rlimit {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/limits")
	OK(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		True(t, len(f) >= 2, "limits line %q", line)
		var v [2]uint64
		for i := range v {
			if f[i] == "unlimited" {
				v[i] = api.RLIM_INFINITY
				continue
			}
			v[i], err = strconv.ParseUint(f[i], 10, 64)
			OK(t, err, "limits line %q", line)
		}
		return api.Rlimit{Cur: v[0], Max: v[1]}
	}
	t.Fatalf("/proc/%s/limits has no %q line", pid, name)
	return api.Rlimit{}
}

func testProcGetrlimit(t T, e *Env) {
	k := e.K
	var rl api.Rlimit
	NoSys(t, k.Getrlimit(api.RLIMIT_NOFILE, &rl))
	Want(t, k.Getrlimit(api.RLIMIT_NOFILE, nil), api.EINVAL, "nil *Rlimit")
	Want(t, k.Getrlimit(api.Resource(99), &rl), api.EINVAL, "unknown resource")
	OK(t, k.Getrlimit(api.RLIMIT_NOFILE, &rl), "RLIMIT_NOFILE")
	True(t, rl.Cur > 0 && rl.Cur <= rl.Max, "soft %d within hard %d", rl.Cur, rl.Max)
	var stack api.Rlimit
	OK(t, k.Getrlimit(api.RLIMIT_STACK, &stack), "RLIMIT_STACK")
	if !procIsHost(e) {
		return
	}
	var sr syscall.Rlimit
	OK(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &sr))
	Eq(t, rl, api.Rlimit{Cur: sr.Cur, Max: sr.Max}, "syscall.Getrlimit")
	Eq(t, rl, procLimits(t, "self", "Max open files"), "/proc/self/limits")
	var cpu api.Rlimit
	OK(t, k.Getrlimit(api.RLIMIT_CPU, &cpu), "RLIMIT_CPU")
	Eq(t, cpu, procLimits(t, "self", "Max cpu time"), "RLIMIT_CPU against /proc (unlimited is RLIM_INFINITY)")
	Eq(t, stack, procLimits(t, "self", "Max stack size"), "RLIMIT_STACK against /proc")
}

func testProcSetrlimit(t T, e *Env) {
	k := e.K
	Want(t, k.Setrlimit(api.RLIMIT_NOFILE, nil), api.EINVAL, "nil *Rlimit")
	var orig api.Rlimit
	OK(t, k.Getrlimit(api.RLIMIT_NOFILE, &orig), "getrlimit")
	t.Cleanup(func() { k.Setrlimit(api.RLIMIT_NOFILE, &orig) })
	Want(t, k.Setrlimit(api.RLIMIT_NOFILE, &api.Rlimit{Cur: orig.Max + 1, Max: orig.Max}), api.EINVAL, "soft above hard")
	Want(t, k.Setrlimit(api.Resource(99), &orig), api.EINVAL, "unknown resource")
	// Lower the soft limit, see it, put it back.
	low := api.Rlimit{Cur: orig.Cur - 1, Max: orig.Max}
	OK(t, k.Setrlimit(api.RLIMIT_NOFILE, &low), "lower the soft limit")
	var got api.Rlimit
	OK(t, k.Getrlimit(api.RLIMIT_NOFILE, &got))
	Eq(t, got, low, "lowered limit")
	if procIsHost(e) {
		Eq(t, procLimits(t, "self", "Max open files"), low, "/proc/self/limits")
	}
	OK(t, k.Setrlimit(api.RLIMIT_NOFILE, &orig), "restore")
	OK(t, k.Getrlimit(api.RLIMIT_NOFILE, &got))
	Eq(t, got, orig, "restored limit")
	// An infinite limit round-trips where it is one already.
	var core api.Rlimit
	OK(t, k.Getrlimit(api.RLIMIT_CORE, &core))
	OK(t, k.Setrlimit(api.RLIMIT_CORE, &core), "set RLIMIT_CORE to itself (%v)", core)
	OK(t, k.Getrlimit(api.RLIMIT_CORE, &got))
	Eq(t, got, core, "RLIMIT_CORE unchanged")
}

func testProcPrlimit(t T, e *Env) {
	k := e.K
	var own, old api.Rlimit
	OK(t, k.Getrlimit(api.RLIMIT_NOFILE, &own))
	OK(t, k.Prlimit(0, api.RLIMIT_NOFILE, nil, &old), "read our own")
	Eq(t, old, own, "prlimit(0) reads what getrlimit reads")
	OK(t, k.Prlimit(0, api.RLIMIT_NOFILE, nil, nil), "neither old nor new")
	Want(t, k.Prlimit(0, api.Resource(99), nil, &old), api.EINVAL, "unknown resource")
	Want(t, k.Prlimit(0, api.RLIMIT_NOFILE, &api.Rlimit{Cur: 2, Max: 1}, nil), api.EINVAL, "soft above hard")
	procNeedHost(t, e)
	child := procSleeper(t, e)
	pid := strconv.Itoa(child)
	before := procLimits(t, pid, "Max open files")
	set := api.Rlimit{Cur: 64, Max: 128}
	OK(t, k.Prlimit(child, api.RLIMIT_NOFILE, &set, &old), "set a child's limit")
	Eq(t, old, before, "old limits are the child's, from /proc")
	Eq(t, procLimits(t, pid, "Max open files"), set, "the child's new limits in /proc")
	OK(t, k.Prlimit(child, api.RLIMIT_NOFILE, nil, &old))
	Eq(t, old, set, "read back")
	// Infinity through prlimit64 (raising a hard limit needs privilege).
	inf := api.Rlimit{Cur: api.RLIM_INFINITY, Max: api.RLIM_INFINITY}
	if e.Target.Root() || procLimits(t, pid, "Max core file size").Max == api.RLIM_INFINITY {
		OK(t, k.Prlimit(child, api.RLIMIT_CORE, &inf, nil), "unlimited core for the child")
		Eq(t, procLimits(t, pid, "Max core file size"), inf, "unlimited in /proc")
		OK(t, k.Prlimit(child, api.RLIMIT_CORE, nil, &old))
		Eq(t, old, inf, "RLIM_INFINITY read back")
	}
	OK(t, k.Getrlimit(api.RLIMIT_NOFILE, &old))
	Eq(t, old, own, "our own limits untouched")
	Want(t, k.Prlimit(procReaped(t, e), api.RLIMIT_NOFILE, nil, &old), api.ESRCH, "reaped child")
}
