package conformance

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The processes family: process, group and session ids, user and group
// identity. Values are compared with Go's os package and /proc on the host
// kernel; identity changes that cannot be undone run in re-exec children
// (proc_child.go), reversible ones on a discarded thread.

func init() {
	Register(
		Case{Family: "proc", Call: "getpid", Run: testProcGetpid},
		Case{Family: "proc", Call: "getppid", Run: testProcGetppid},
		Case{Family: "proc", Call: "gettid", Run: testProcGettid},
		Case{Family: "proc", Call: "getpgrp", Run: testProcGetpgrp},
		Case{Family: "proc", Call: "getpgid", Run: testProcGetpgid},
		Case{Family: "proc", Call: "setpgid", Run: testProcSetpgid},
		Case{Family: "proc", Call: "getsid", Run: testProcGetsid},
		Case{Family: "proc", Call: "setsid", Run: testProcSetsid},
		Case{Family: "proc", Call: "getuid", Run: testProcGetuid},
		Case{Family: "proc", Call: "geteuid", Run: testProcGeteuid},
		Case{Family: "proc", Call: "getgid", Run: testProcGetgid},
		Case{Family: "proc", Call: "getegid", Run: testProcGetegid},
		Case{Family: "proc", Call: "getresuid", Run: testProcGetresuid},
		Case{Family: "proc", Call: "getresgid", Run: testProcGetresgid},
		Case{Family: "proc", Call: "getgroups", Run: testProcGetgroups},
		Case{Family: "proc", Call: "setuid", Run: testProcSetuid},
		Case{Family: "proc", Call: "setgid", Run: testProcSetgid},
		Case{Family: "proc", Call: "setreuid", Run: testProcSetreuid},
		Case{Family: "proc", Call: "setregid", Run: testProcSetregid},
		Case{Family: "proc", Call: "setresuid", Run: testProcSetresuid},
		Case{Family: "proc", Call: "setresgid", Run: testProcSetresgid},
		Case{Family: "proc", Call: "setgroups", Run: testProcSetgroups},
		Case{Family: "proc", Call: "setfsuid", Run: testProcSetfsuid},
		Case{Family: "proc", Call: "setfsgid", Run: testProcSetfsgid},
	)
}

func testProcGetpid(t T, e *Env) {
	k := e.K
	pid := k.Getpid()
	True(t, pid > 0, "getpid = %d", pid)
	Eq(t, k.Getpid(), pid, "stable")
	Eq(t, procAllocs(1000, func() { k.Getpid() }), uint64(0), "allocations per getpid")
	if !procIsHost(e) {
		return
	}
	Eq(t, pid, os.Getpid(), "os.Getpid")
	self, err := os.Readlink("/proc/self")
	OK(t, err)
	Eq(t, strconv.Itoa(pid), self, "/proc/self")
	Eq(t, procStatInt(t, "/proc/self/stat", 1), pid, "/proc/self/stat pid")
}

func testProcGetppid(t T, e *Env) {
	ppid := e.K.Getppid()
	True(t, ppid >= 0, "getppid = %d", ppid)
	if !procIsHost(e) {
		return
	}
	Eq(t, ppid, os.Getppid(), "os.Getppid")
	Eq(t, procStatInt(t, "/proc/self/stat", 4), ppid, "/proc/self/stat ppid")
}

func testProcGettid(t T, e *Env) {
	k := e.K
	if k.Gettid() == -1 {
		// A rump kernel has no thread ids: _lwp_self is not one of its
		// syscalls.
		t.Skipf("%sgettid: the kernel has no thread id call (Gettid returns -1)", NoSysPrefix)
	}
	// Two goroutines locked to their threads at the same time must see
	// two different thread ids, each stable and matching /proc.
	type res struct {
		tid int
		err error
	}
	ch := make(chan res, 2)
	hold := make(chan struct{})
	defer close(hold)
	for range 2 {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with us
			tid := k.Gettid()
			var err error
			if again := k.Gettid(); again != tid {
				err = fmt.Errorf("gettid changed on a locked thread: %d then %d", tid, again)
			} else if procIsHost(e) {
				want := strconv.Itoa(k.Getpid()) + "/task/" + strconv.Itoa(tid)
				if self, rerr := os.Readlink("/proc/thread-self"); rerr != nil || self != want {
					err = fmt.Errorf("/proc/thread-self = %q, %v; want %q", self, rerr, want)
				}
			}
			ch <- res{tid, err}
			<-hold
		}()
	}
	var tids []int
	for range 2 {
		select {
		case r := <-ch:
			OK(t, r.err)
			True(t, r.tid > 0, "gettid = %d", r.tid)
			tids = append(tids, r.tid)
		case <-time.After(5 * time.Second):
			t.Fatalf("locked goroutines did not report")
		}
	}
	True(t, tids[0] != tids[1], "two locked threads have different ids: %v", tids)
	if procIsHost(e) {
		True(t, k.Gettid() > 0, "gettid")
	}
}

func testProcGetpgrp(t T, e *Env) {
	pg := e.K.Getpgrp()
	True(t, pg > 0, "getpgrp = %d", pg)
	if !procIsHost(e) {
		return
	}
	Eq(t, pg, syscall.Getpgrp(), "syscall.Getpgrp")
	Eq(t, procStatInt(t, "/proc/self/stat", 5), pg, "/proc/self/stat pgrp")
}

func testProcGetpgid(t T, e *Env) {
	k := e.K
	pg, err := k.Getpgid(0)
	OK(t, err, "getpgid(0)")
	Eq(t, pg, k.Getpgrp(), "getpgid(0) is getpgrp")
	_, err = k.Getpgid(-5)
	Want(t, err, api.ESRCH, "getpgid of a negative pid")
	if big, ok := Wide(40); ok {
		_, err = k.Getpgid(big)
		Want(t, err, api.EINVAL, "getpgid of a pid beyond pid_t")
	}
	if !procIsHost(e) {
		return
	}
	Eq(t, pg, procStatInt(t, "/proc/self/stat", 5), "/proc pgrp")
	child := procSpawn(t, e, "exec sleep 30", &syscall.SysProcAttr{Setpgid: true})
	cg, err := k.Getpgid(child)
	OK(t, err, "getpgid(child)")
	Eq(t, cg, child, "a child started in its own group leads it")
	_, err = k.Getpgid(procReaped(t, e))
	Want(t, err, api.ESRCH, "getpgid of a reaped child")
}

func testProcSetpgid(t T, e *Env) {
	k := e.K
	Want(t, k.Setpgid(-1, 0), api.EINVAL, "negative pid")
	Want(t, k.Setpgid(0, -1), api.EINVAL, "negative pgid")
	if c := procFork(t, e); c != nil {
		// A child process of a kernel whose processes are not the
		// host's: it starts in our group, setpgid(0, 0) makes it lead
		// its own, and its parent may move it back.
		pid := c.Getpid()
		Eq(t, c.Getpgrp(), k.Getpgrp(), "a child starts in its parent's group")
		OK(t, c.Setpgid(0, 0), "setpgid(0, 0) in the child")
		Eq(t, c.Getpgrp(), pid, "the child leads its own group")
		pg, err := k.Getpgid(pid)
		OK(t, err, "getpgid(child)")
		Eq(t, pg, pid, "the child's group, seen from its parent")
		OK(t, k.Setpgid(pid, k.Getpgrp()), "the parent moves its child back")
		Eq(t, c.Getpgrp(), k.Getpgrp(), "the child is back in its parent's group")
		Want(t, c.Setpgid(0, k.Getpid()+1<<20), api.EPERM, "setpgid to a group that does not exist")
		return
	}
	procNeedHost(t, e)
	// A child that has called execve can no longer be moved.
	child := procSleeper(t, e)
	Want(t, k.Setpgid(child, child), api.EACCES, "setpgid of a child after execve")
	cg, err := k.Getpgid(child)
	OK(t, err)
	Eq(t, cg, k.Getpgrp(), "the child stayed in our group")
	// Our process may not move a process that is not its child.
	if ppid := k.Getppid(); ppid > 1 {
		Want(t, k.Setpgid(ppid, ppid), api.ESRCH, "setpgid of our parent")
	}
	// A real move, in a re-exec child: setpgid(0, 0) makes it a leader.
	procRunChild(t, e, "setpgid")
}

func testProcGetsid(t T, e *Env) {
	k := e.K
	sid, err := k.Getsid(0)
	OK(t, err, "getsid(0)")
	True(t, sid >= 0, "sid %d", sid)
	_, err = k.Getsid(-3)
	Want(t, err, api.ESRCH, "getsid of a negative pid")
	if !procIsHost(e) {
		return
	}
	Eq(t, procStatInt(t, "/proc/self/stat", 6), sid, "/proc/self/stat session")
	child := procSleeper(t, e)
	cs, err := k.Getsid(child)
	OK(t, err, "getsid(child)")
	Eq(t, cs, sid, "a child inherits the session")
	_, err = k.Getsid(procReaped(t, e))
	Want(t, err, api.ESRCH, "getsid of a reaped child")
}

func testProcSetsid(t T, e *Env) {
	k := e.K
	// Only a process that leads its group can call setsid here without
	// changing our session for good, and it must fail.
	if k.Getpgrp() == k.Getpid() {
		_, err := k.Setsid()
		Want(t, err, api.EPERM, "setsid of a group leader")
	}
	if c := procFork(t, e); c != nil {
		pid := c.Getpid()
		sid, err := c.Setsid()
		OK(t, err, "setsid in a child")
		Eq(t, sid, pid, "the new session's id is the child's pid")
		s, err := c.Getsid(0)
		OK(t, err)
		Eq(t, s, pid, "getsid(0) in the child")
		Eq(t, c.Getpgrp(), pid, "the child leads a new group too")
		s, err = k.Getsid(pid)
		OK(t, err, "getsid(child)")
		Eq(t, s, pid, "the child's session, seen from its parent")
		_, err = c.Setsid()
		Want(t, err, api.EPERM, "setsid again, as a group leader")
		return
	}
	procRunChild(t, e, "setsid")
}

// procFork returns a child process of e's kernel made by the target's
// Fork, ended with the case, or nil where the target has none (the host
// kernel, whose children are re-exec'd host processes).
func procFork(t T, e *Env) *api.Kernel {
	t.Helper()
	if e.Target.Fork == nil {
		return nil
	}
	c, end, err := e.Target.Fork(e.K)
	OK(t, err, "a child process")
	t.Cleanup(end)
	return c
}

// procHostIDs returns the four ids of a /proc/self/status Uid or Gid line.
func procHostIDs(t T, key string) []int {
	t.Helper()
	ids := procStatusInts(t, "/proc/self/status", key)
	Eq(t, len(ids), 4, "%s fields", key)
	return ids
}

func testProcGetuid(t T, e *Env) {
	u := e.K.Getuid()
	True(t, u >= 0, "getuid = %d", u)
	Eq(t, procAllocs(100, func() { e.K.Getuid() }), uint64(0), "allocations per getuid")
	if procIsHost(e) {
		Eq(t, u, os.Getuid(), "os.Getuid")
		Eq(t, u, procHostIDs(t, "Uid")[0], "/proc real uid")
	}
}

func testProcGeteuid(t T, e *Env) {
	u := e.K.Geteuid()
	True(t, u >= 0, "geteuid = %d", u)
	if procIsHost(e) {
		Eq(t, u, os.Geteuid(), "os.Geteuid")
		Eq(t, u, procHostIDs(t, "Uid")[1], "/proc effective uid")
	}
}

func testProcGetgid(t T, e *Env) {
	g := e.K.Getgid()
	True(t, g >= 0, "getgid = %d", g)
	if procIsHost(e) {
		Eq(t, g, os.Getgid(), "os.Getgid")
		Eq(t, g, procHostIDs(t, "Gid")[0], "/proc real gid")
	}
}

func testProcGetegid(t T, e *Env) {
	g := e.K.Getegid()
	True(t, g >= 0, "getegid = %d", g)
	if procIsHost(e) {
		Eq(t, g, os.Getegid(), "os.Getegid")
		Eq(t, g, procHostIDs(t, "Gid")[1], "/proc effective gid")
	}
}

func testProcGetresuid(t T, e *Env) {
	r, eu, s, err := e.K.Getresuid()
	OK(t, err, "getresuid")
	Eq(t, r, e.K.Getuid(), "real uid")
	Eq(t, eu, e.K.Geteuid(), "effective uid")
	if procIsHost(e) {
		ids := procHostIDs(t, "Uid")
		Eq(t, fmt.Sprint([]int{r, eu, s}), fmt.Sprint(ids[:3]), "/proc Uid")
	}
}

func testProcGetresgid(t T, e *Env) {
	r, eg, s, err := e.K.Getresgid()
	OK(t, err, "getresgid")
	Eq(t, r, e.K.Getgid(), "real gid")
	Eq(t, eg, e.K.Getegid(), "effective gid")
	if procIsHost(e) {
		ids := procHostIDs(t, "Gid")
		Eq(t, fmt.Sprint([]int{r, eg, s}), fmt.Sprint(ids[:3]), "/proc Gid")
	}
}

func testProcGetgroups(t T, e *Env) {
	g, err := e.K.Getgroups()
	OK(t, err, "getgroups")
	True(t, g != nil, "an empty list, not nil")
	if !procIsHost(e) {
		return
	}
	og, err := os.Getgroups()
	OK(t, err, "os.Getgroups")
	slices.Sort(og)
	mine := slices.Sorted(slices.Values(g))
	Eq(t, fmt.Sprint(mine), fmt.Sprint(og), "os.Getgroups")
	f, err := procStatus("/proc/self/status", "Groups")
	OK(t, err)
	Eq(t, strings.Join(f, " "), strings.Trim(fmt.Sprint(mine), "[]"), "/proc Groups")
}

// procSameIDs fails unless the ids are what they were.
func procSameIDs(t T, e *Env, ruid, euid, suid, rgid, egid, sgid int) {
	t.Helper()
	r, eu, s, rg, eg, sg := procCurIDs(t, e)
	Eq(t, fmt.Sprint(r, eu, s), fmt.Sprint(ruid, euid, suid), "uids unchanged")
	Eq(t, fmt.Sprint(rg, eg, sg), fmt.Sprint(rgid, egid, sgid), "gids unchanged")
}

// procCurIDs returns the real, effective and saved ids. A kernel without
// getresuid (NetBSD) shows the real and effective ones only; the saved
// ones are -1 there.
func procCurIDs(t T, e *Env) (ruid, euid, suid, rgid, egid, sgid int) {
	t.Helper()
	k := e.K
	var err error
	ruid, euid, suid, err = k.Getresuid()
	if !Has(err) {
		return k.Getuid(), k.Geteuid(), -1, k.Getgid(), k.Getegid(), -1
	}
	OK(t, err, "getresuid")
	rgid, egid, sgid, err = k.Getresgid()
	OK(t, err, "getresgid")
	return
}

// procBadIDs checks the inputs every identity setter refuses before any
// call: ids below -1 or beyond 32 bits.
func procBadIDs(t T, call string, f func(id int) error) {
	t.Helper()
	Want(t, f(-2), api.EINVAL, "%s(-2)", call)
	if big, ok := Wide(32); ok {
		Want(t, f(big), api.EINVAL, "%s(1<<32)", call)
	}
}

func testProcSetuid(t T, e *Env) {
	k := e.K
	ru, eu, su, rg, eg, sg := procCurIDs(t, e)
	// Setting the id it has is allowed to anyone and changes nothing.
	if ru == eu {
		OK(t, k.Setuid(ru), "setuid to the current uid")
		procSameIDs(t, e, ru, eu, su, rg, eg, sg)
	}
	Want(t, k.Setuid(-1), api.EINVAL, "setuid(-1)")
	procBadIDs(t, "setuid", k.Setuid)
	if e.Target.Root() && procIsHost(e) {
		procRunChild(t, e, "setuid")
	}
}

func testProcSetgid(t T, e *Env) {
	k := e.K
	ru, eu, su, rg, eg, sg := procCurIDs(t, e)
	if rg == eg {
		OK(t, k.Setgid(rg), "setgid to the current gid")
		procSameIDs(t, e, ru, eu, su, rg, eg, sg)
	}
	procBadIDs(t, "setgid", k.Setgid)
	if e.Target.Root() && procIsHost(e) {
		procRunChild(t, e, "setgid")
	}
}

func testProcSetreuid(t T, e *Env) {
	k := e.K
	ru, eu, su, rg, eg, sg := procCurIDs(t, e)
	OK(t, k.Setreuid(-1, -1), "setreuid(-1, -1)")
	OK(t, k.Setreuid(ru, eu), "setreuid to the current ids")
	procSameIDs(t, e, ru, eu, su, rg, eg, sg)
	procBadIDs(t, "setreuid", func(id int) error { return k.Setreuid(id, -1) })
	if e.Target.Root() && procIsHost(e) {
		procRunChild(t, e, "setreuid")
	}
}

func testProcSetregid(t T, e *Env) {
	k := e.K
	ru, eu, su, rg, eg, sg := procCurIDs(t, e)
	OK(t, k.Setregid(-1, -1), "setregid(-1, -1)")
	OK(t, k.Setregid(rg, eg), "setregid to the current ids")
	procSameIDs(t, e, ru, eu, su, rg, eg, sg)
	procBadIDs(t, "setregid", func(id int) error { return k.Setregid(-1, id) })
	if e.Target.Root() && procIsHost(e) {
		procRunChild(t, e, "setregid")
	}
}

func testProcSetresuid(t T, e *Env) {
	k := e.K
	ru, eu, su, rg, eg, sg := procCurIDs(t, e)
	OK(t, k.Setresuid(-1, -1, -1), "setresuid(-1, -1, -1)")
	OK(t, k.Setresuid(ru, eu, su), "setresuid to the current ids")
	procSameIDs(t, e, ru, eu, su, rg, eg, sg)
	procBadIDs(t, "setresuid", func(id int) error { return k.Setresuid(-1, -1, id) })
	if !e.Target.Root() || !procIsHost(e) {
		return
	}
	// The thread-only variant, on a thread that is then discarded: drop
	// the effective uid, see that only this thread changed, take it back.
	procLocked(t, func() error {
		if err := k.SetresuidThread(-1, procNobody, -1); err != nil {
			return err
		}
		if got := k.Geteuid(); got != procNobody {
			return fmt.Errorf("thread euid %d after SetresuidThread", got)
		}
		// This thread changed, and no other.
		n := strconv.Itoa(procNobody)
		if err := procTasks(k, "Uid", []string{"0", n, "0", n}, procIDs(0)); err != nil {
			return err
		}
		if err := k.SetresuidThread(-1, 0, -1); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if got := k.Geteuid(); got != 0 {
			return fmt.Errorf("thread euid %d after restoring", got)
		}
		return nil
	})
	procSameIDs(t, e, ru, eu, su, rg, eg, sg)
	procRunChild(t, e, "setresuid")
}

func testProcSetresgid(t T, e *Env) {
	k := e.K
	ru, eu, su, rg, eg, sg := procCurIDs(t, e)
	OK(t, k.Setresgid(-1, -1, -1), "setresgid(-1, -1, -1)")
	OK(t, k.Setresgid(rg, eg, sg), "setresgid to the current ids")
	procSameIDs(t, e, ru, eu, su, rg, eg, sg)
	procBadIDs(t, "setresgid", func(id int) error { return k.Setresgid(id, -1, -1) })
	if !e.Target.Root() || !procIsHost(e) {
		return
	}
	procLocked(t, func() error {
		if err := k.SetresgidThread(-1, procNobody, -1); err != nil {
			return err
		}
		if got := k.Getegid(); got != procNobody {
			return fmt.Errorf("thread egid %d after SetresgidThread", got)
		}
		n := strconv.Itoa(procNobody)
		if err := procTasks(k, "Gid", []string{"0", n, "0", n}, procIDs(0)); err != nil {
			return err
		}
		if err := k.SetresgidThread(-1, 0, -1); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if got := k.Getegid(); got != 0 {
			return fmt.Errorf("thread egid %d after restoring", got)
		}
		return nil
	})
	procSameIDs(t, e, ru, eu, su, rg, eg, sg)
	procRunChild(t, e, "setresgid")
}

func testProcSetgroups(t T, e *Env) {
	k := e.K
	g, err := k.Getgroups()
	OK(t, err, "getgroups")
	Want(t, k.Setgroups([]int{-5}), api.EINVAL, "negative group id")
	Want(t, k.Setgroups(make([]int, 1<<17)), api.EINVAL, "too many groups")
	err = k.Setgroups(g)
	if !e.Target.Root() {
		Want(t, err, api.EPERM, "setgroups without privilege")
		return
	}
	OK(t, err, "setgroups to the current groups")
	g2, err := k.Getgroups()
	OK(t, err)
	Eq(t, fmt.Sprint(g2), fmt.Sprint(g), "groups unchanged")
	if procIsHost(e) {
		procRunChild(t, e, "setgroups")
	}
}

func testProcSetfsuid(t T, e *Env) {
	k := e.K
	cur, err := k.Setfsuid(-1)
	OK(t, err, "setfsuid(-1)")
	Eq(t, cur, k.Geteuid(), "fsuid follows the effective uid")
	procSetfsSame(t, cur, k.Setfsuid, k.SetfsuidThread)
	_, err = k.Setfsuid(-2)
	Want(t, err, api.EINVAL, "setfsuid(-2)")
	if !procIsHost(e) {
		return
	}
	Eq(t, cur, procHostIDs(t, "Uid")[3], "/proc fsuid")
	if e.Target.Root() {
		procRunChild(t, e, "setfsuid")
	}
}

func testProcSetfsgid(t T, e *Env) {
	k := e.K
	cur, err := k.Setfsgid(-1)
	OK(t, err, "setfsgid(-1)")
	Eq(t, cur, k.Getegid(), "fsgid follows the effective gid")
	procSetfsSame(t, cur, k.Setfsgid, k.SetfsgidThread)
	if !procIsHost(e) {
		return
	}
	Eq(t, cur, procHostIDs(t, "Gid")[3], "/proc fsgid")
	if e.Target.Root() {
		procRunChild(t, e, "setfsgid")
	}
}

// procSetfsSame sets a file-system id to its current value cur, for every
// thread or, where that is ENOTSUP (a cgo program on the host kernel), for
// one discarded thread.
func procSetfsSame(t T, cur int, set, setThread func(int) (int, error)) {
	t.Helper()
	prev, err := set(cur)
	if errors.Is(err, api.ENOTSUP) {
		t.Logf("all-thread call unavailable (cgo program): %v; checking the thread-only variant", err)
		procLocked(t, func() error {
			prev, err := setThread(cur)
			if err == nil && prev != cur {
				err = fmt.Errorf("previous id %d, want %d", prev, cur)
			}
			return err
		})
		return
	}
	OK(t, err, "set to the current id")
	Eq(t, prev, cur, "previous id")
}
