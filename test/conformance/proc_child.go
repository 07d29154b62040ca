package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// Helpers of the processes family: re-exec children, host children started
// with os/exec, /proc readers.
//
// Re-exec children. A case that needs a process of its own running Go code
// (to drop its identity for good, to become a session leader) runs the
// current binary again with ANYKERNEL_CONFORMANCE_CHILD=<name>. This
// package's init sees the variable, runs the function of that name from
// procChildren on the host kernel and exits: status 0 on success, 1 with the
// error on stderr, 2 when the call is not served (ENOSYS). Every binary that
// links this package does this first thing, so it works under `go test`
// (the test binary) and under `go run ./test/matrix` (the matrix binary)
// alike. Only the native backend has host children: other backends skip.

const procChildEnv = "ANYKERNEL_CONFORMANCE_CHILD"

// procChildren are the functions a re-exec child can run, by name. They
// run before main, in a fresh process, with the host kernel.
var procChildren = map[string]func(k *api.Kernel) error{
	"ctty":       miscChildCtty, // misc_term.go: a session leader with a controlling terminal
	"setuid":     procChildSetuid,
	"setgid":     procChildSetgid,
	"setreuid":   procChildSetreuid,
	"setregid":   procChildSetregid,
	"setresuid":  procChildSetresuid,
	"setresgid":  procChildSetresgid,
	"setgroups":  procChildSetgroups,
	"setfsuid":   procChildSetfsuid,
	"setfsgid":   procChildSetfsgid,
	"setsid":     procChildSetsid,
	"setpgid":    procChildSetpgid,
	"nonewprivs": procChildNoNewPrivs,
}

func init() {
	name := os.Getenv(procChildEnv)
	if name == "" {
		return
	}
	f, ok := procChildren[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: no child function %q\n", procChildEnv, name)
		os.Exit(1)
	}
	k, err := native.New()
	if err == nil {
		err = f(k)
	}
	if errors.Is(err, api.ENOSYS) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// procRunChild runs re-exec child name and fails the case unless it
// succeeds; ENOSYS in the child skips the case as ENOSYS.
func procRunChild(t T, e *Env, name string) {
	t.Helper()
	procNeedHost(t, e)
	exe, err := os.Executable()
	OK(t, err, "os.Executable")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), procChildEnv+"="+name)
	out, err := cmd.CombinedOutput()
	msg := strings.TrimSpace(string(out))
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		t.Skipf("%schild %s: %s", NoSysPrefix, name, msg)
	}
	if err != nil {
		t.Fatalf("child %s: %v: %s", name, err, msg)
	}
}

// procIsHost reports whether e's kernel is the host's, whose processes are
// this process and its children.
func procIsHost(e *Env) bool {
	_, ok := e.K.Backend().(api.HostBackend)
	return ok
}

// procNeedHost skips parts of cases that need host children.
func procNeedHost(t T, e *Env) {
	t.Helper()
	if !procIsHost(e) {
		t.Skipf("needs the host kernel (child processes, /proc)")
	}
}

// procSpawn starts /bin/sh -c script as a child of this process and
// returns its pid. The case reaps it with the kernel under test; if it
// does not, cleanup kills and reaps it (through Go's pidfd, which cannot
// hit a reused pid).
func procSpawn(t T, e *Env, script string, attr *syscall.SysProcAttr) int {
	t.Helper()
	procNeedHost(t, e)
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = attr
	OK(t, cmd.Start(), "start /bin/sh -c %q", script)
	p := cmd.Process
	t.Cleanup(func() {
		p.Kill()
		p.Wait()
	})
	return p.Pid
}

// procSleeper starts a child that sleeps until killed.
func procSleeper(t T, e *Env) int {
	t.Helper()
	return procSpawn(t, e, "exec sleep 30", nil)
}

// procWaitResult is what a Wait4 in a helper goroutine gave.
type procWaitResult struct {
	pid int
	ws  api.WaitStatus
	ru  api.Rusage
	err error
}

// procWait4 calls Wait4 with a deadline: a child that does not change
// state within 5 s is killed and the case fails.
func procWait4(t T, e *Env, pid int, opts api.WaitOptions) procWaitResult {
	t.Helper()
	ch := make(chan procWaitResult, 1)
	go func() {
		var r procWaitResult
		r.pid, r.err = e.K.Wait4(pid, &r.ws, opts, &r.ru)
		ch <- r
	}()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		select {
		case <-ch:
		case <-time.After(2 * time.Second):
		}
		t.Fatalf("wait4(%d, %v) did not return within 5s", pid, opts)
		return procWaitResult{}
	}
}

// procReaped returns the pid of a child that has exited and been reaped:
// a number no process of ours has any more.
func procReaped(t T, e *Env) int {
	t.Helper()
	pid := procSpawn(t, e, "exit 0", nil)
	r := procWait4(t, e, pid, 0)
	OK(t, r.err, "reap")
	return pid
}

// procLocked runs f on a goroutine locked to a fresh OS thread that is
// discarded afterwards (the goroutine exits locked), so per-thread state f
// changes cannot leak to other goroutines. f reports failure by returning
// an error; the case fails with it.
func procLocked(t T, f func() error) {
	t.Helper()
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: Go ends the thread when we return
		defer func() {
			if r := recover(); r != nil {
				ch <- fmt.Errorf("panic: %v", r)
			}
		}()
		ch <- f()
	}()
	select {
	case err := <-ch:
		if err != nil {
			NoSys(t, err)
			t.Fatalf("%v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("locked-thread check did not finish within 5s")
	}
}

// procStatus returns the fields after "key:" in a /proc status file
// ("/proc/self/status", "/proc/thread-self/status", ...).
func procStatus(path, key string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.Fields(rest), nil
		}
	}
	return nil, fmt.Errorf("%s: no %s line", path, key)
}

// procStatusInts is procStatus with every field parsed as a number.
func procStatusInts(t T, path, key string) []int {
	t.Helper()
	f, err := procStatus(path, key)
	OK(t, err)
	var out []int
	for _, s := range f {
		n, err := strconv.Atoi(s)
		OK(t, err, "%s %s field %q", path, key, s)
		out = append(out, n)
	}
	return out
}

// procStatFields returns the fields of a /proc stat file
// ("/proc/self/stat") numbered as proc(5) numbers them from 1; the command
// name, which may hold spaces, is field 2.
func procStatFields(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i <= 0 || j < i {
		return nil, fmt.Errorf("%s: cannot parse %q", path, s)
	}
	f := append([]string{"", strings.TrimSpace(s[:i]), s[i+1 : j]}, strings.Fields(s[j+1:])...)
	if len(f) < 42 {
		return nil, fmt.Errorf("%s: only %d fields", path, len(f)-1)
	}
	return f, nil
}

// procStat is procStatFields that fails the case on error.
func procStat(t T, path string) []string {
	t.Helper()
	f, err := procStatFields(path)
	OK(t, err)
	return f
}

// procStatInt is field n of a /proc stat file as a number.
func procStatInt(t T, path string, n int) int {
	t.Helper()
	f := procStat(t, path)
	True(t, n < len(f), "%s has field %d", path, n)
	v, err := strconv.Atoi(f[n])
	OK(t, err, "%s field %d", path, n)
	return v
}

// procAllocs returns the average number of heap allocations per call of f,
// as testing.AllocsPerRun counts them (which this package cannot use
// outside go test).
func procAllocs(runs int, f func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&b)
	return (b.Mallocs - a.Mallocs) / uint64(runs)
}

// procAllTasks checks that every thread of this process shows want in
// the /proc status line key ("Uid", "Gid", "Groups"), so that an identity
// call reached all of them. It also makes sure there are several threads
// to check.
func procAllTasks(key string, want []string) error {
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil {
		return err
	}
	if len(tasks) < 2 {
		return fmt.Errorf("only %d threads: nothing to compare", len(tasks))
	}
	for _, p := range tasks {
		got, err := procStatus(p, key)
		if err != nil {
			if os.IsNotExist(err) {
				continue // the thread exited meanwhile
			}
			return err
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			return fmt.Errorf("%s %s: %v, want %v", p, key, got, want)
		}
	}
	return nil
}

// procSpareThreads makes sure a child has several OS threads before it
// changes identity, so that procAllTasks has something to check: each
// goroutine locked to a thread forces one more.
func procSpareThreads(n int) {
	ready := make(chan struct{})
	for range n {
		go func() {
			runtime.LockOSThread()
			ready <- struct{}{}
			select {} // keep the thread until the child exits
		}()
		<-ready
	}
}

// The re-exec children.

const procNobody = 65534

func procIDs(n int) []string {
	s := strconv.Itoa(n)
	return []string{s, s, s, s}
}

func procWantIDs(k *api.Kernel, uid, gid int) error {
	if err := procAllTasks("Uid", procIDs(uid)); err != nil {
		return err
	}
	if err := procAllTasks("Gid", procIDs(gid)); err != nil {
		return err
	}
	if os.Getuid() != uid || os.Geteuid() != uid || os.Getgid() != gid || os.Getegid() != gid {
		return fmt.Errorf("os package sees uid %d/%d gid %d/%d", os.Getuid(), os.Geteuid(), os.Getgid(), os.Getegid())
	}
	if k.Getuid() != uid || k.Geteuid() != uid {
		return fmt.Errorf("getuid %d geteuid %d, want %d", k.Getuid(), k.Geteuid(), uid)
	}
	return nil
}

// procWantEPERM checks that a call that needs privilege now fails.
func procWantEPERM(what string, err error) error {
	if !errors.Is(err, api.EPERM) {
		return fmt.Errorf("%s after dropping privilege: %v, want EPERM", what, err)
	}
	return nil
}

func procChildSetuid(k *api.Kernel) error {
	procSpareThreads(2)
	if err := k.Setgid(procNobody); err != nil {
		return err
	}
	if err := k.Setuid(procNobody); err != nil {
		return err
	}
	if err := procWantIDs(k, procNobody, procNobody); err != nil {
		return err
	}
	return procWantEPERM("setuid(0)", k.Setuid(0))
}

func procChildSetgid(k *api.Kernel) error {
	procSpareThreads(2)
	if err := k.Setgid(procNobody); err != nil {
		return err
	}
	if err := procAllTasks("Gid", procIDs(procNobody)); err != nil {
		return err
	}
	if k.Getgid() != procNobody || k.Getegid() != procNobody {
		return fmt.Errorf("getgid %d getegid %d", k.Getgid(), k.Getegid())
	}
	// Still root: the gid can go back.
	if err := k.Setgid(0); err != nil {
		return err
	}
	return procAllTasks("Gid", procIDs(0))
}

func procChildSetreuid(k *api.Kernel) error {
	procSpareThreads(2)
	if err := k.Setregid(procNobody, procNobody); err != nil {
		return err
	}
	if err := k.Setreuid(procNobody, procNobody); err != nil {
		return err
	}
	// Setting the real id also sets the saved one to the new effective id.
	if err := procWantIDs(k, procNobody, procNobody); err != nil {
		return err
	}
	return procWantEPERM("setreuid(0, 0)", k.Setreuid(0, 0))
}

func procChildSetregid(k *api.Kernel) error {
	procSpareThreads(2)
	if err := k.Setregid(-1, procNobody); err != nil {
		return err
	}
	// An effective id other than the real one also becomes the saved one.
	n := strconv.Itoa(procNobody)
	if err := procAllTasks("Gid", []string{"0", n, n, n}); err != nil {
		return err
	}
	if err := k.Setregid(procNobody, procNobody); err != nil {
		return err
	}
	return procAllTasks("Gid", procIDs(procNobody))
}

func procChildSetresuid(k *api.Kernel) error {
	procSpareThreads(2)
	// Effective only, keeping real and saved root: reversible.
	if err := k.Setresuid(-1, procNobody, -1); err != nil {
		return err
	}
	n := strconv.Itoa(procNobody)
	if err := procAllTasks("Uid", []string{"0", n, "0", n}); err != nil {
		return err
	}
	r, eu, s, err := k.Getresuid()
	if err != nil || r != 0 || eu != procNobody || s != 0 {
		return fmt.Errorf("getresuid %d %d %d %v", r, eu, s, err)
	}
	if err := k.Setresuid(-1, 0, -1); err != nil {
		return fmt.Errorf("back to euid 0: %w", err)
	}
	if err := k.Setresgid(procNobody, procNobody, procNobody); err != nil {
		return err
	}
	if err := k.Setresuid(procNobody, procNobody, procNobody); err != nil {
		return err
	}
	if err := procWantIDs(k, procNobody, procNobody); err != nil {
		return err
	}
	return procWantEPERM("setresuid(0, 0, 0)", k.Setresuid(0, 0, 0))
}

func procChildSetresgid(k *api.Kernel) error {
	procSpareThreads(2)
	if err := k.Setresgid(1, 2, 3); err != nil {
		return err
	}
	if err := procAllTasks("Gid", []string{"1", "2", "3", "2"}); err != nil {
		return err
	}
	r, eg, s, err := k.Getresgid()
	if err != nil || r != 1 || eg != 2 || s != 3 {
		return fmt.Errorf("getresgid %d %d %d %v", r, eg, s, err)
	}
	return nil
}

func procChildSetgroups(k *api.Kernel) error {
	procSpareThreads(2)
	if err := k.Setgroups([]int{3, 1, 2}); err != nil {
		return err
	}
	if err := procAllTasks("Groups", []string{"1", "2", "3"}); err != nil {
		return err
	}
	g, err := k.Getgroups()
	if err != nil {
		return err
	}
	if fmt.Sprint(g) != "[3 1 2]" && fmt.Sprint(g) != "[1 2 3]" {
		return fmt.Errorf("getgroups: %v", g)
	}
	if err := k.Setgroups(nil); err != nil {
		return err
	}
	return procAllTasks("Groups", nil)
}

// procTasks checks the /proc status line key of every thread: the calling
// thread must show self, every other one others.
func procTasks(k *api.Kernel, key string, self, others []string) error {
	tid := strconv.Itoa(k.Gettid())
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil {
		return err
	}
	if len(tasks) < 2 {
		return fmt.Errorf("only %d threads: nothing to compare", len(tasks))
	}
	for _, p := range tasks {
		want := others
		if filepath.Base(filepath.Dir(p)) == tid {
			want = self
		}
		got, err := procStatus(p, key)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return err
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			return fmt.Errorf("%s %s: %v, want %v", p, key, got, want)
		}
	}
	return nil
}

// procChildSetfs changes the file-system uid or gid to nobody and checks
// every thread, and that a file created now belongs to nobody. In a cgo
// program the all-thread call is ENOTSUP: then it checks the thread-only
// variant, which must change the calling thread and no other.
func procChildSetfs(k *api.Kernel, key string, set, setThread func(int) (int, error)) error {
	runtime.LockOSThread() // for the thread-only variant; the child exits anyway
	procSpareThreads(2)
	n := strconv.Itoa(procNobody)
	nobody := []string{"0", "0", "0", n}
	prev, err := set(procNobody)
	if errors.Is(err, api.ENOTSUP) {
		if prev, err = setThread(procNobody); err != nil {
			return err
		}
		if err := procTasks(k, key, nobody, procIDs(0)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	} else if err := procAllTasks(key, nobody); err != nil {
		return err
	}
	if prev != 0 {
		return fmt.Errorf("previous id %d, want 0", prev)
	}
	if cur, _ := set(-1); cur != procNobody {
		return fmt.Errorf("query (-1) = %d, want %d", cur, procNobody)
	}
	// Files are created with the file-system ids.
	dir, err := os.MkdirTemp("", "anykernel-fsid-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return err
	}
	var st api.Stat
	if err := k.Stat(p, &st); err != nil {
		return err
	}
	owner := int(st.Uid)
	if key == "Gid" {
		owner = int(st.Gid)
	}
	if owner != procNobody {
		return fmt.Errorf("a file created with %s %d belongs to %d", key, procNobody, owner)
	}
	return nil
}

func procChildSetfsuid(k *api.Kernel) error {
	return procChildSetfs(k, "Uid", k.Setfsuid, k.SetfsuidThread)
}

func procChildSetfsgid(k *api.Kernel) error {
	return procChildSetfs(k, "Gid", k.Setfsgid, k.SetfsgidThread)
}

func procChildSetsid(k *api.Kernel) error {
	pid := k.Getpid()
	if k.Getpgrp() == pid {
		return fmt.Errorf("child started as a group leader")
	}
	sid, err := k.Setsid()
	if err != nil {
		return err
	}
	if sid != pid {
		return fmt.Errorf("setsid returned %d, want %d", sid, pid)
	}
	if s, err := k.Getsid(0); err != nil || s != pid {
		return fmt.Errorf("getsid(0) = %d, %v; want %d", s, err, pid)
	}
	if g := k.Getpgrp(); g != pid {
		return fmt.Errorf("getpgrp = %d after setsid, want %d", g, pid)
	}
	_, err = k.Setsid()
	if !errors.Is(err, api.EPERM) {
		return fmt.Errorf("second setsid: %v, want EPERM", err)
	}
	return nil
}

func procChildSetpgid(k *api.Kernel) error {
	pid := k.Getpid()
	if err := k.Setpgid(0, 0); err != nil {
		return err
	}
	if g := k.Getpgrp(); g != pid {
		return fmt.Errorf("getpgrp = %d after setpgid(0, 0), want %d", g, pid)
	}
	if g, err := k.Getpgid(0); err != nil || g != pid {
		return fmt.Errorf("getpgid(0) = %d, %v", g, err)
	}
	// A group that does not exist in the session.
	if err := k.Setpgid(0, 1<<22+1); !errors.Is(err, api.EPERM) {
		return fmt.Errorf("setpgid to a missing group: %v, want EPERM", err)
	}
	return nil
}

func procChildNoNewPrivs(k *api.Kernel) error {
	runtime.LockOSThread() // the bit is per thread: read it where it was set
	if on, err := k.PrctlGetNoNewPrivs(); err != nil || on {
		return fmt.Errorf("no_new_privs before: %v %v", on, err)
	}
	if err := k.PrctlSetNoNewPrivs(); err != nil {
		return err
	}
	on, err := k.PrctlGetNoNewPrivs()
	if err != nil || !on {
		return fmt.Errorf("no_new_privs after: %v %v", on, err)
	}
	f, err := procStatus("/proc/thread-self/status", "NoNewPrivs")
	if err != nil || len(f) != 1 || f[0] != "1" {
		return fmt.Errorf("/proc NoNewPrivs: %v %v", f, err)
	}
	return nil
}
