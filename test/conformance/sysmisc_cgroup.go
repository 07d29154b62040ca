package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/cgroup"
	"github.com/anykernel/anykernel/api/procfs"
)

// cgroup v2 through api/cgroup: every case works in a fresh cgroup below
// the suite's own, moves child processes (never the suite) into it, and
// removes it at the end.

func init() {
	Register(
		Case{Family: "cgroup", Call: "cgroup.Create", Root: true, Run: testCgroupCreate},
		Case{Family: "cgroup", Call: "cgroup.procs", Root: true, Run: testCgroupProcs},
		Case{Family: "cgroup", Call: "cgroup.freeze", Root: true, Run: testCgroupFreeze},
		Case{Family: "cgroup", Call: "cgroup.kill", Root: true, Run: testCgroupKill},
		Case{Family: "cgroup", Call: "cgroup.max.descendants", Root: true, Run: testCgroupMaxDescendants},
		Case{Family: "cgroup", Call: "pids.max", Root: true, Run: testCgroupPidsMax},
	)
}

var smCgroupSeq atomic.Int64

// smCgroup returns the suite's own cgroup and a fresh child of it, removed
// (after killing what is left in it) when the case ends. It skips where
// cgroup2 is not mounted or the hierarchy is not writable here.
func smCgroup(t T, e *Env) (own, cg *cgroup.Cgroup) {
	t.Helper()
	if !smIsHost(e) {
		t.Skipf("needs the host kernel (its processes move between cgroups)")
	}
	k := e.K
	own, err := cgroup.Self(k)
	if errors.Is(err, cgroup.ErrNoCgroup2) {
		t.Skipf("cgroup2 is not mounted here")
	}
	OK(t, err, "cgroup.Self")
	name := fmt.Sprintf("anykernel-test-%d-%d", k.Getpid(), smCgroupSeq.Add(1))
	cg, err = own.Create(name)
	if errors.Is(err, api.EACCES) || errors.Is(err, api.EPERM) || errors.Is(err, api.EROFS) {
		t.Skipf("the cgroup2 hierarchy is not delegated to us: cannot create %s/%s: %v", own.Path, name, err)
	}
	OK(t, err, "create %s/%s", own.Path, name)
	t.Cleanup(func() { smCgroupRemove(cg) })
	return own, cg
}

// smCgroupRemove kills what is left in cg and below, then removes the
// cgroups, children first.
func smCgroupRemove(cg *cgroup.Cgroup) {
	ents, _ := cg.K.ReadDir(cg.Path)
	for _, de := range ents {
		if de.Type == api.DT_DIR {
			smCgroupRemove(cg.Child(de.Name))
		}
	}
	if pids, err := cg.Procs(); err == nil && len(pids) > 0 {
		if cg.Kill() != nil {
			for _, p := range pids {
				cg.K.Kill(p, api.SIGKILL)
			}
		}
	}
	cg.Freeze(false)
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := cg.Remove()
		if err == nil || errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// smChild starts a command whose stdio is not inherited; cleanup kills and
// reaps it.
func smChild(t T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	smStart(t, cmd)
	return cmd
}

func testCgroupCreate(t T, e *Env) {
	k := e.K
	own, cg := smCgroup(t, e)
	mp, err := cgroup.Mountpoint(k)
	OK(t, err, "Mountpoint")
	ms, err := procfs.Mountinfo(k)
	OK(t, err)
	found := false
	for _, m := range ms {
		found = found || (m.MountPoint == mp && m.FSType == "cgroup2")
	}
	True(t, found, "%s is a cgroup2 mount", mp)
	True(t, strings.HasPrefix(own.Path, mp), "own cgroup %s is under %s", own.Path, mp)
	name, err := own.Name()
	OK(t, err, "Name")
	raw, err := os.ReadFile("/proc/self/cgroup")
	OK(t, err)
	True(t, strings.Contains(string(raw), "0::"+name+"\n"), "/proc/self/cgroup names %s: %q", name, raw)

	var st api.Stat
	OK(t, k.Stat(cg.Path+"/cgroup.procs", &st), "the new cgroup has cgroup.procs")
	procs, err := cg.Procs()
	OK(t, err, "Procs")
	Eq(t, len(procs), 0, "a new cgroup holds no process")
	pop, err := cg.Populated()
	OK(t, err, "Populated")
	True(t, !pop, "not populated")
	Eq(t, cg.Parent().Path, own.Path, "Parent")

	base := cg.Path[strings.LastIndexByte(cg.Path, '/')+1:]
	_, err = own.Create(base)
	Want(t, err, fs.ErrExist, "creating it again")
	_, err = cg.Create("a/b")
	Want(t, err, api.EINVAL, "a name with a slash")
	_, err = cg.Create("..")
	Want(t, err, api.EINVAL, "..")
	sub, err := cg.Create("sub")
	OK(t, err, "nested create")
	stat, err := cg.Stat()
	OK(t, err, "cgroup.stat")
	Eq(t, stat["nr_descendants"], int64(1), "one descendant")
	Want(t, cg.Remove(), api.EBUSY, "removing a cgroup with a child")
	OK(t, sub.Remove(), "remove the child")
	OK(t, cg.Remove(), "remove the cgroup")
	Want(t, k.Stat(cg.Path, &st), fs.ErrNotExist, "removed")
	Want(t, cg.Remove(), fs.ErrNotExist, "removing it again")
	_, err = cg.Procs()
	Want(t, err, fs.ErrNotExist, "Procs of a removed cgroup")
}

func testCgroupProcs(t T, e *Env) {
	k := e.K
	own, cg := smCgroup(t, e)
	cmd := smChild(t, "sleep", "30")
	pid := cmd.Process.Pid
	OK(t, cg.AddProc(pid), "move the child in")
	procs, err := cg.Procs()
	OK(t, err)
	Eq(t, fmt.Sprint(procs), fmt.Sprint([]int{pid}), "cgroup.procs")
	threads, err := cg.Threads()
	OK(t, err)
	True(t, slices.Contains(threads, pid), "cgroup.threads has the child: %v", threads)
	in, err := cgroup.OfPid(k, pid)
	OK(t, err, "OfPid")
	Eq(t, in.Path, cg.Path, "the child's cgroup")
	self, err := cgroup.Self(k)
	OK(t, err)
	Eq(t, self.Path, own.Path, "we stayed where we were")
	ownProcs, err := own.Procs()
	OK(t, err)
	True(t, !slices.Contains(ownProcs, pid), "the child left our cgroup")
	True(t, slices.Contains(ownProcs, k.Getpid()), "we are still in ours")
	pop, err := cg.Populated()
	OK(t, err)
	True(t, pop, "populated")
	// Back out to our cgroup, then in again, then let it die.
	OK(t, own.AddProc(pid), "move the child back")
	procs, err = cg.Procs()
	OK(t, err)
	Eq(t, len(procs), 0, "empty after moving out")
	OK(t, cg.AddProc(pid))
	OK(t, k.Kill(pid, api.SIGTERM))
	cmd.Wait()
	True(t, smEventually(func() bool { p, _ := cg.Populated(); return !p }), "unpopulated after the child exits")
	procs, err = cg.Procs()
	OK(t, err)
	Eq(t, len(procs), 0, "no process after exit")

	Want(t, cg.AddProc(0), api.EINVAL, "pid 0")
	Want(t, cg.AddProc(smGonePid(t, e)), api.ESRCH, "a pid that is gone")
	Want(t, cg.Write("cgroup.procs", "not a pid"), api.EINVAL, "a word for a pid")
}

// smCPUTicks returns a process's user+system time in clock ticks.
func smCPUTicks(t T, e *Env, pid int) uint64 {
	t.Helper()
	st, err := procfs.Pid(e.K, pid).Stat()
	OK(t, err, "stat of %d", pid)
	return st.Utime + st.Stime
}

func testCgroupFreeze(t T, e *Env) {
	_, cg := smCgroup(t, e)
	var st api.Stat
	if err := e.K.Stat(cg.Path+"/cgroup.freeze", &st); err != nil {
		t.Skipf("no cgroup.freeze (Linux < 5.2): %v", err)
	}
	cmd := smChild(t, "/bin/sh", "-c", "while :; do :; done")
	pid := cmd.Process.Pid
	OK(t, cg.AddProc(pid))
	OK(t, cg.Freeze(true), "freeze")
	True(t, smEventually(func() bool { f, _ := cg.Frozen(); return f }), "cgroup.events says frozen")
	v, err := cg.Read("cgroup.freeze")
	OK(t, err)
	Eq(t, v, "1", "cgroup.freeze")
	// A frozen busy loop burns no CPU.
	a := smCPUTicks(t, e, pid)
	time.Sleep(150 * time.Millisecond)
	b := smCPUTicks(t, e, pid)
	Eq(t, b, a, "CPU ticks of a frozen busy loop")
	OK(t, cg.Freeze(false), "thaw")
	True(t, smEventually(func() bool { f, _ := cg.Frozen(); return !f }), "cgroup.events says thawed")
	True(t, smEventually(func() bool { return smCPUTicks(t, e, pid) > b }), "the loop runs again")
}

func testCgroupKill(t T, e *Env) {
	_, cg := smCgroup(t, e)
	var st api.Stat
	if err := e.K.Stat(cg.Path+"/cgroup.kill", &st); err != nil {
		t.Skipf("no cgroup.kill (Linux < 5.14): %v", err)
	}
	a := smChild(t, "sleep", "30")
	b := smChild(t, "sleep", "30")
	OK(t, cg.AddProc(a.Process.Pid))
	OK(t, cg.AddProc(b.Process.Pid))
	OK(t, cg.Kill(), "cgroup.kill")
	for _, c := range []*exec.Cmd{a, b} {
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			True(t, errors.As(err, &ee), "the child was killed: %v", err)
			ws := ee.Sys().(syscall.WaitStatus)
			True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "by SIGKILL: %v", ws)
		case <-time.After(2 * time.Second):
			t.Fatalf("child %d still alive after cgroup.kill", c.Process.Pid)
		}
	}
	True(t, smEventually(func() bool { p, _ := cg.Populated(); return !p }), "empty after the kill")
}

func testCgroupMaxDescendants(t T, e *Env) {
	_, cg := smCgroup(t, e)
	n, err := cg.ReadInt("cgroup.max.descendants")
	OK(t, err)
	Eq(t, n, int64(-1), "no limit at first (max)")
	OK(t, cg.SetMaxDescendants(1), "cgroup.max.descendants = 1")
	n, err = cg.ReadInt("cgroup.max.descendants")
	OK(t, err)
	Eq(t, n, int64(1))
	_, err = cg.Create("one")
	OK(t, err, "the first child fits")
	_, err = cg.Create("two")
	Want(t, err, api.EAGAIN, "the second child is over the limit")
	OK(t, cg.SetMaxDescendants(-1), "lift the limit")
	_, err = cg.Create("two")
	OK(t, err, "the second child after lifting the limit")
	OK(t, cg.SetMaxDepth(1), "cgroup.max.depth = 1")
	_, err = cg.Child("one").Create("deeper")
	Want(t, err, api.EAGAIN, "a grandchild is too deep")
	Want(t, cg.Write("cgroup.max.descendants", "many"), api.EINVAL, "a word for a limit")
}

func testCgroupPidsMax(t T, e *Env) {
	own, cg := smCgroup(t, e)
	has, err := own.HasController("pids")
	OK(t, err)
	if !has {
		all, _ := own.Controllers()
		t.Skipf("the pids controller is not available in cgroup2 at %s (controllers: %q; on a hybrid system it is bound to a cgroup v1 hierarchy)", own.Path, strings.Join(all, " "))
	}
	sub, err := own.SubtreeControl()
	OK(t, err)
	if !slices.Contains(sub, "pids") {
		// Our children do not get pids, and enabling it here would change
		// the controllers of a cgroup that is not ours to change (and a
		// non-root cgroup holding processes refuses anyway). Our siblings
		// have it: the parent enabled it for us.
		mp, err := cgroup.Mountpoint(e.K)
		OK(t, err)
		if own.Path == mp {
			t.Skipf("pids is not enabled in the root cgroup's cgroup.subtree_control at %s, and the suite does not change the host's controllers", mp)
		}
		parent := own.Parent()
		name := fmt.Sprintf("anykernel-test-%d-%d", e.K.Getpid(), smCgroupSeq.Add(1))
		cg, err = parent.Create(name)
		if err != nil {
			t.Skipf("cannot create a cgroup beside ours in %s: %v", parent.Path, err)
		}
		t.Cleanup(func() { smCgroupRemove(cg) })
	}
	cur, err := cg.PidsCurrent()
	OK(t, err, "pids.current")
	Eq(t, cur, int64(0), "pids.current of an empty cgroup")
	// A shell that waits for a line, then tries to fork.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", "read x; /bin/true && echo forked")
	stdin, err := cmd.StdinPipe()
	OK(t, err)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	OK(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	OK(t, cg.AddProc(cmd.Process.Pid))
	OK(t, cg.SetPidsMax(1), "pids.max = 1")
	n, err := cg.ReadInt("pids.max")
	OK(t, err)
	Eq(t, n, int64(1))
	cur, err = cg.PidsCurrent()
	OK(t, err)
	Eq(t, cur, int64(1), "pids.current with the shell in")
	stdin.Write([]byte("go\n"))
	stdin.Close()
	cmd.Wait()
	True(t, !strings.Contains(out.String(), "forked"), "fork succeeded over pids.max: %q", out.String())
	ev, err := cg.ReadKeyed("pids.events")
	OK(t, err)
	True(t, ev["max"] >= 1, "pids.events counts the refused fork: %v", ev)
	OK(t, cg.SetPidsMax(-1), "pids.max = max")
	v, err := cg.Read("pids.max")
	OK(t, err)
	Eq(t, v, "max")
}
