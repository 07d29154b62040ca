package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// Helpers of the terminal, mqueue, aio, fanotify and ptrace families.
//
// Re-exec children: a case that needs a process of its own running Go code
// (a session leader with a controlling terminal) runs the current binary
// again with ANYKERNEL_MISC_CHILD=<name>. This file's init runs the function
// of that name from miscChildren on the host kernel and exits: 0 on
// success, 1 with the error on stderr, 2 when the call is not served
// (ENOSYS). Only the native backend has host children.

const miscChildEnv = "ANYKERNEL_MISC_CHILD"

// miscChildren are the functions a re-exec child can run, by name.
var miscChildren = map[string]func(k *api.Kernel) error{
	"ctty": miscChildCtty,
}

func init() {
	if name := os.Getenv(miscChildEnv); name != "" {
		runMiscChild(name)
	}
}

// miscStatFields returns the fields of a /proc stat file numbered as
// proc(5) numbers them from 1; the command name, which may hold spaces, is
// field 2.
func miscStatFields(path string) ([]string, error) {
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

// miscNeedHost skips cases that need host processes.
func miscNeedHost(t T, e *Env) {
	t.Helper()
	if _, ok := e.K.Backend().(api.HostBackend); !ok {
		t.Skipf("needs the host kernel (child processes, /proc)")
	}
}

// miscRunChild runs re-exec child name and fails the case unless it
// succeeds; ENOSYS in the child skips the case as ENOSYS.
func miscRunChild(t T, e *Env, name string) {
	t.Helper()
	miscNeedHost(t, e)
	exe, err := os.Executable()
	OK(t, err, "os.Executable")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), miscChildEnv+"="+name)
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

// runMiscChild runs the child function and exits.
func runMiscChild(name string) {
	f, ok := miscChildren[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: no child function %q\n", miscChildEnv, name)
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
