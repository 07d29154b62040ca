package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// Helpers of the security family (seccomp and capabilities).
//
// A seccomp filter cannot be removed, and most capability changes cannot
// be undone, so the cases make them in a child: the current binary run
// again with ANYKERNEL_SEC_CHILD=<name>. This package's init sees the
// variable, runs the function of that name from secChildren on the host
// kernel and exits: status 0 on success, 1 with the error on stderr, 3
// when a call is not served (ENOSYS). (Status 2 is what a Go program that
// crashes exits with, which some cases expect.) Only the native backend
// has host children; other backends skip those cases.

const secChildEnv = "ANYKERNEL_SEC_CHILD"

const (
	secExitFail  = 1
	secExitNoSys = 3
)

// secChildren are the functions a child can run, by name.
var secChildren = map[string]func(k *api.Kernel) error{
	"seccomp":              secChildSeccomp,
	"seccomp_kill_process": secChildKillProcess,
	"seccomp_kill_thread":  secChildKillThread,
	"seccomp_trap":         secChildTrap,
	"seccomp_log":          secChildLog,
	"seccomp_trace":        secChildTrace,
	"seccomp_args":         secChildArgs,
	"seccomp_thread":       secChildThread,
	"seccomp_notify":       secChildNotify,
	"seccomp_notify_wait":  secChildNotifyWait,
	"seccomp_notify_addfd": secChildNotifyAddfd,
	"capset":               secChildCapset,
	"capbset_drop":         secChildCapbsetDrop,
	"cap_ambient":          secChildAmbient,
	"securebits":           secChildSecurebits,
}

func init() {
	name := os.Getenv(secChildEnv)
	if name == "" {
		return
	}
	f, ok := secChildren[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: no child function %q\n", secChildEnv, name)
		os.Exit(secExitFail)
	}
	k, err := native.New()
	if err == nil {
		err = f(k)
	}
	if errors.Is(err, api.ENOSYS) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(secExitNoSys)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(secExitFail)
	}
	os.Exit(0)
}

// secProc is a running child.
type secProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (p *secProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *secProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.TrimSpace(p.out.String())
}

// secStart starts child name with extra environment variables and extra
// descriptors (the first becomes 3 in the child). It skips the case unless
// the kernel under test is the host's.
func secStart(t T, e *Env, name string, env []string, extra ...*os.File) *secProc {
	t.Helper()
	if _, ok := e.K.Backend().(api.HostBackend); !ok {
		t.Skipf("needs the host kernel (child processes)")
	}
	exe, err := os.Executable()
	OK(t, err, "os.Executable")
	p := &secProc{done: make(chan struct{})}
	p.cmd = exec.Command(exe)
	p.cmd.Env = append(append(os.Environ(), secChildEnv+"="+name), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.ExtraFiles = extra
	OK(t, p.cmd.Start(), "start child %s", name)
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits up to 10 s for the child to end and returns how it ended.
func (p *secProc) wait(t T) syscall.WaitStatus {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("child did not end within 10s; output: %s", p.output())
	}
	ws, _ := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ws
}

// ok waits for the child and fails the case unless it succeeded; a child
// that met ENOSYS skips the case as ENOSYS.
func (p *secProc) ok(t T) {
	t.Helper()
	ws := p.wait(t)
	if ws.Exited() && ws.ExitStatus() == secExitNoSys {
		t.Skipf("%schild: %s", NoSysPrefix, p.output())
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("child: %v: %s", p.err, p.output())
	}
	if out := p.output(); out != "" {
		t.Logf("child: %s", out)
	}
}

// secCgo handles the process-wide capability setters in a child: in a
// binary linked with cgo (this one is when the net package is built with
// cgo) they answer ENOTSUP by design. secCgo reports whether err is that
// case, and then says so on stderr, which the parent logs.
func secCgo(err error, what string) bool {
	if !errors.Is(err, api.ENOTSUP) {
		return false
	}
	fmt.Fprintf(os.Stderr, "%s: ENOTSUP in this cgo-linked binary (documented); checked that nothing changed and the per-thread call on every thread instead; run with CGO_ENABLED=0 for the process-wide path\n", what)
	return true
}

// secRunChild runs child name to its end and fails the case unless it
// succeeds.
func secRunChild(t T, e *Env, name string, env ...string) {
	t.Helper()
	secStart(t, e, name, env).ok(t)
}

// secStatus returns the fields after "key:" in a /proc status file.
func secStatus(path, key string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(rest), nil
		}
	}
	return "", fmt.Errorf("%s: no %s line", path, key)
}

// secStatusHex reads a hexadecimal status line (CapEff, CapBnd, ...).
func secStatusHex(path, key string) (uint64, error) {
	s, err := secStatus(path, key)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(s, 16, 64)
}

// secTasks calls check with every thread's status path; threads that
// exit meanwhile are skipped. There must be at least min threads.
func secTasks(min int, check func(path string) error) error {
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil {
		return err
	}
	if len(tasks) < min {
		return fmt.Errorf("only %d threads, want at least %d", len(tasks), min)
	}
	for _, p := range tasks {
		if err := check(p); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
	}
	return nil
}

// secAllTasks checks that every thread shows want on status line key.
func secAllTasks(key, want string) error {
	return secTasks(3, func(p string) error {
		got, err := secStatus(p, key)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s %s: %q, want %q", p, key, got, want)
		}
		return nil
	})
}

// secSpareThreads makes sure the process has several OS threads, each
// kept by a goroutine locked to it, and returns a way to run a function
// on each of them (to read per-thread state from the thread itself).
func secSpareThreads(n int) func(f func() error) error {
	var chans []chan func()
	for range n {
		c := make(chan func())
		ready := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(ready)
			for f := range c {
				f()
			}
		}()
		<-ready
		chans = append(chans, c)
	}
	return func(f func() error) error {
		for _, c := range chans {
			res := make(chan error, 1)
			c <- func() { res <- f() }
			if err := <-res; err != nil {
				return err
			}
		}
		return nil
	}
}

// secWantErrno checks that err is the errno want.
func secWantErrno(what string, err error, want api.Errno) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("%s: got %v, want %s", what, err, want.Name())
	}
	return nil
}
