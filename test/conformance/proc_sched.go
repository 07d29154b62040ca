package conformance

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/anykernel/anykernel/api"
)

// The processes family: scheduling (affinity, policies, priorities, nice,
// getcpu). Per-thread settings are changed only on goroutines locked to a
// thread that is then discarded (procLocked), and set back anyway.

func init() {
	Register(
		Case{Family: "proc", Call: "sched_getaffinity", Run: testProcSchedGetaffinity},
		Case{Family: "proc", Call: "sched_setaffinity", Run: testProcSchedSetaffinity},
		Case{Family: "proc", Call: "sched_yield", Run: testProcSchedYield},
		Case{Family: "proc", Call: "sched_getscheduler", Run: testProcSchedGetscheduler},
		Case{Family: "proc", Call: "sched_setscheduler", Run: testProcSchedSetscheduler},
		Case{Family: "proc", Call: "sched_getparam", Run: testProcSchedGetparam},
		Case{Family: "proc", Call: "sched_setparam", Run: testProcSchedSetparam},
		Case{Family: "proc", Call: "sched_get_priority_max", Run: testProcSchedPriorityMax},
		Case{Family: "proc", Call: "sched_get_priority_min", Run: testProcSchedPriorityMin},
		Case{Family: "proc", Call: "getpriority", Run: testProcGetpriority},
		Case{Family: "proc", Call: "setpriority", Run: testProcSetpriority},
		Case{Family: "proc", Call: "getcpu", Run: testProcGetcpu},
	)
}

func testProcSchedGetaffinity(t T, e *Env) {
	k := e.K
	Want(t, k.SchedGetaffinity(0, nil), api.EINVAL, "nil set")
	var s api.CPUSet
	Want(t, k.SchedGetaffinity(-1, &s), api.ESRCH, "negative pid")
	procLocked(t, func() error {
		if err := k.SchedGetaffinity(0, &s); err != nil {
			return err
		}
		if s.Count() < 1 {
			return fmt.Errorf("empty affinity")
		}
		if procIsHost(e) {
			f, err := procStatus("/proc/thread-self/status", "Cpus_allowed_list")
			if err != nil {
				return err
			}
			if len(f) != 1 || f[0] != s.String() {
				return fmt.Errorf("affinity %s, /proc says %v", s.String(), f)
			}
		}
		return nil
	})
	if procIsHost(e) {
		var ps api.CPUSet
		OK(t, k.SchedGetaffinity(k.Getpid(), &ps), "affinity of the main thread")
		True(t, ps.Count() >= 1, "main thread affinity %s", ps.String())
		Want(t, k.SchedGetaffinity(procReaped(t, e), &ps), api.ESRCH, "reaped child")
	}
}

func testProcSchedSetaffinity(t T, e *Env) {
	k := e.K
	Want(t, k.SchedSetaffinity(0, nil), api.EINVAL, "nil set")
	procLocked(t, func() error {
		var orig, got api.CPUSet
		if err := k.SchedGetaffinity(0, &orig); err != nil {
			return err
		}
		// Set what it is already, and read it back.
		if err := k.SchedSetaffinity(0, &orig); err != nil {
			return err
		}
		if err := k.SchedGetaffinity(0, &got); err != nil {
			return err
		}
		if got != orig {
			return fmt.Errorf("affinity %s after setting %s", got.String(), orig.String())
		}
		var empty api.CPUSet
		if err := k.SchedSetaffinity(0, &empty); !errors.Is(err, api.EINVAL) {
			return fmt.Errorf("empty set: %v, want EINVAL", err)
		}
		// Pin this (discarded) thread to its last allowed CPU: getcpu
		// must then report that CPU. Restore afterwards anyway.
		cpus := orig.CPUs()
		last := cpus[len(cpus)-1]
		var one api.CPUSet
		one.Set(last)
		if err := k.SchedSetaffinity(0, &one); err != nil {
			return err
		}
		if err := k.SchedGetaffinity(0, &got); err != nil {
			return err
		}
		if got.String() != strconv.Itoa(last) {
			return fmt.Errorf("pinned to %d, affinity reads %s", last, got.String())
		}
		if cpu, _, err := k.Getcpu(); err == nil && cpu != last {
			return fmt.Errorf("pinned to %d, running on %d", last, cpu)
		}
		return k.SchedSetaffinity(0, &orig)
	})
}

func testProcSchedYield(t T, e *Env) {
	for range 3 {
		OK(t, e.K.SchedYield(), "sched_yield")
	}
}

func testProcSchedGetscheduler(t T, e *Env) {
	k := e.K
	_, err := k.SchedGetscheduler(-1)
	Want(t, err, api.EINVAL, "negative pid")
	procLocked(t, func() error {
		p, err := k.SchedGetscheduler(0)
		if err != nil {
			return err
		}
		if procIsHost(e) {
			f, err := procStatFields("/proc/thread-self/stat")
			if err != nil {
				return err
			}
			if f[41] != strconv.Itoa(int(p)) {
				return fmt.Errorf("policy %v, /proc says %s", p, f[41])
			}
		}
		return nil
	})
	if procIsHost(e) {
		child := procSleeper(t, e)
		p, err := k.SchedGetscheduler(child)
		OK(t, err, "policy of a child")
		Eq(t, p, api.SCHED_OTHER, "a child of a normal process")
		_, err = k.SchedGetscheduler(procReaped(t, e))
		Want(t, err, api.ESRCH, "reaped child")
	}
}

func testProcSchedSetscheduler(t T, e *Env) {
	k := e.K
	Want(t, k.SchedSetscheduler(0, api.SCHED_OTHER, nil), api.EINVAL, "nil param")
	procLocked(t, func() error {
		p, err := k.SchedGetscheduler(0)
		if err != nil {
			return err
		}
		var prm api.SchedParam
		if err := k.SchedGetparam(0, &prm); err != nil {
			return err
		}
		// Set the current policy again.
		if err := k.SchedSetscheduler(0, p, &prm); err != nil {
			return fmt.Errorf("set current policy %v: %w", p, err)
		}
		if q, err := k.SchedGetscheduler(0); err != nil || q != p {
			return fmt.Errorf("policy %v, %v after setting %v", q, err, p)
		}
		if p != api.SCHED_OTHER {
			return nil
		}
		if err := k.SchedSetscheduler(0, api.SCHED_OTHER, &api.SchedParam{Priority: 50}); !errors.Is(err, api.EINVAL) {
			return fmt.Errorf("SCHED_OTHER with priority 50: %v, want EINVAL", err)
		}
		// SCHED_BATCH and back: allowed without privilege.
		if err := k.SchedSetscheduler(0, api.SCHED_BATCH, &api.SchedParam{}); err != nil {
			return fmt.Errorf("SCHED_BATCH: %w", err)
		}
		if q, err := k.SchedGetscheduler(0); err != nil || q != api.SCHED_BATCH {
			return fmt.Errorf("policy %v, %v after setting SCHED_BATCH", q, err)
		}
		return k.SchedSetscheduler(0, api.SCHED_OTHER, &api.SchedParam{})
	})
}

func testProcSchedGetparam(t T, e *Env) {
	k := e.K
	Want(t, k.SchedGetparam(0, nil), api.EINVAL, "nil param")
	var prm api.SchedParam
	Want(t, k.SchedGetparam(-1, &prm), api.EINVAL, "negative pid")
	procLocked(t, func() error {
		prm.Priority = -7
		if err := k.SchedGetparam(0, &prm); err != nil {
			return err
		}
		if procIsHost(e) {
			f, err := procStatFields("/proc/thread-self/stat")
			if err != nil {
				return err
			}
			if f[40] != strconv.Itoa(prm.Priority) {
				return fmt.Errorf("priority %d, /proc rt_priority %s", prm.Priority, f[40])
			}
		}
		return nil
	})
}

func testProcSchedSetparam(t T, e *Env) {
	k := e.K
	Want(t, k.SchedSetparam(0, nil), api.EINVAL, "nil param")
	procLocked(t, func() error {
		var prm api.SchedParam
		if err := k.SchedGetparam(0, &prm); err != nil {
			return err
		}
		if err := k.SchedSetparam(0, &prm); err != nil {
			return fmt.Errorf("set the current parameters: %w", err)
		}
		p, err := k.SchedGetscheduler(0)
		if err != nil {
			return err
		}
		if p == api.SCHED_OTHER {
			if err := k.SchedSetparam(0, &api.SchedParam{Priority: 10}); !errors.Is(err, api.EINVAL) {
				return fmt.Errorf("priority 10 under SCHED_OTHER: %v, want EINVAL", err)
			}
		}
		return nil
	})
}

func testProcSchedPriorityMax(t T, e *Env) {
	k := e.K
	for _, c := range []struct {
		p    api.SchedPolicy
		want int
	}{{api.SCHED_FIFO, 99}, {api.SCHED_RR, 99}, {api.SCHED_OTHER, 0}, {api.SCHED_BATCH, 0}, {api.SCHED_IDLE, 0}} {
		n, err := k.SchedGetPriorityMax(c.p)
		OK(t, err, "max of %v", c.p)
		if e.K.ABI().OS == "linux" {
			Eq(t, n, c.want, "max of %v", c.p)
		}
	}
	_, err := k.SchedGetPriorityMax(api.SchedPolicy(42))
	Want(t, err, api.EINVAL, "unknown policy")
}

func testProcSchedPriorityMin(t T, e *Env) {
	k := e.K
	for _, c := range []struct {
		p    api.SchedPolicy
		want int
	}{{api.SCHED_FIFO, 1}, {api.SCHED_RR, 1}, {api.SCHED_OTHER, 0}} {
		n, err := k.SchedGetPriorityMin(c.p)
		OK(t, err, "min of %v", c.p)
		if e.K.ABI().OS == "linux" {
			Eq(t, n, c.want, "min of %v", c.p)
		}
		mx, err := k.SchedGetPriorityMax(c.p)
		OK(t, err)
		True(t, n <= mx, "min %d <= max %d", n, mx)
	}
	_, err := k.SchedGetPriorityMin(api.SchedPolicy(-5))
	Want(t, err, api.EINVAL, "unknown policy")
}

func testProcGetpriority(t T, e *Env) {
	k := e.K
	_, err := k.Getpriority(api.PrioWhich(9), 0)
	Want(t, err, api.EINVAL, "unknown which")
	procLocked(t, func() error {
		n, err := k.Getpriority(api.PRIO_PROCESS, 0)
		if err != nil {
			return err
		}
		if n < -20 || n > 19 {
			return fmt.Errorf("nice %d out of range", n)
		}
		if procIsHost(e) {
			f, err := procStatFields("/proc/thread-self/stat")
			if err != nil {
				return err
			}
			if f[19] != strconv.Itoa(n) {
				return fmt.Errorf("nice %d, /proc says %s", n, f[19])
			}
		}
		return nil
	})
	u, err := k.Getpriority(api.PRIO_USER, k.Geteuid())
	OK(t, err, "PRIO_USER")
	True(t, u >= -20 && u <= 19, "user nice %d", u)
	_, err = k.Getpriority(api.PRIO_PGRP, 0)
	OK(t, err, "PRIO_PGRP")
	if procIsHost(e) {
		_, err = k.Getpriority(api.PRIO_PROCESS, procReaped(t, e))
		Want(t, err, api.ESRCH, "reaped child")
	}
}

func testProcSetpriority(t T, e *Env) {
	k := e.K
	Want(t, k.Setpriority(api.PrioWhich(9), 0, 0), api.EINVAL, "unknown which")
	root := e.Target.Root()
	procLocked(t, func() error {
		n, err := k.Getpriority(api.PRIO_PROCESS, 0)
		if err != nil {
			return err
		}
		if err := k.Setpriority(api.PRIO_PROCESS, 0, n); err != nil {
			return fmt.Errorf("set the current nice %d: %w", n, err)
		}
		if n >= 19 {
			return nil
		}
		// Nicer on this (discarded) thread only, then back where root may.
		if err := k.Setpriority(api.PRIO_PROCESS, 0, n+1); err != nil {
			return fmt.Errorf("nice %d: %w", n+1, err)
		}
		if m, err := k.Getpriority(api.PRIO_PROCESS, 0); err != nil || m != n+1 {
			return fmt.Errorf("nice %d, %v after setting %d", m, err, n+1)
		}
		err = k.Setpriority(api.PRIO_PROCESS, 0, n)
		if !root {
			if err == nil || errors.Is(err, api.EACCES) || errors.Is(err, api.EPERM) {
				return nil
			}
			return fmt.Errorf("lowering nice without privilege: %v", err)
		}
		if err != nil {
			return fmt.Errorf("restore nice %d: %w", n, err)
		}
		if m, err := k.Getpriority(api.PRIO_PROCESS, 0); err != nil || m != n {
			return fmt.Errorf("nice %d, %v after restoring %d", m, err, n)
		}
		return nil
	})
	if procIsHost(e) {
		Want(t, k.Setpriority(api.PRIO_PROCESS, procReaped(t, e), 0), api.ESRCH, "reaped child")
	}
}

func testProcGetcpu(t T, e *Env) {
	k := e.K
	procLocked(t, func() error {
		cpu, node, err := k.Getcpu()
		if err != nil {
			return err
		}
		if node < 0 {
			return fmt.Errorf("node %d", node)
		}
		var s api.CPUSet
		if err := k.SchedGetaffinity(0, &s); err != nil {
			return err
		}
		if !s.IsSet(cpu) {
			return fmt.Errorf("running on CPU %d outside the affinity %s", cpu, s.String())
		}
		return nil
	})
}
