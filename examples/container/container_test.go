package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/nsexec"
)

// The tests run the container for real, as root, with /bin/busybox of
// Debian's busybox-static. So that its veth pair never touches the host,
// each run happens in a sandbox: a child of the test started by nsexec in
// new network, mount and UTS namespaces, which plays the host.

const sandboxEntry = "container.test.sandbox"

func init() {
	nsexec.Register(sandboxEntry, func() int { return run(os.Args[1:]) })
}

func TestMain(m *testing.M) {
	nsexec.Init()
	os.Exit(m.Run())
}

func needContainer(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := findBusybox(); err != nil {
		t.Skip(err)
	}
}

// runSandboxed runs the container with args in a sandbox and returns its
// output and exit status.
func runSandboxed(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := nsexec.Command(sandboxEntry, &nsexec.Options{
		Namespaces: api.CLONE_NEWNET | api.CLONE_NEWNS | api.CLONE_NEWUTS,
		Args:       args,
	})
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		t.Fatalf("container timed out; output:\n%s", out.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

// script is what the container runs: one fact per line.
const script = `echo pid=$$
echo hostname=$(hostname)
ip -4 -o addr show dev eth0
hostname evil; echo sethostname=$?
grep CapEff /proc/self/status
grep CapBnd /proc/self/status
ping -c1 -W3 10.199.0.1 >/dev/null && echo ping=ok
touch /written && echo write=ok
exit 7`

func TestContainer(t *testing.T) {
	needContainer(t)
	out, status := runSandboxed(t, "-hostname", "box-test", "-seccomp", "errno EHOSTDOWN sethostname",
		"--", "/bin/busybox", "sh", "-c", script)
	t.Logf("output:\n%s", out)
	if status != 7 {
		t.Fatalf("exit status %d, want the command's 7", status)
	}
	for _, want := range []string{
		"pid=1\n",                     // the command is PID 1 of its namespace
		"hostname=box-test\n",         // set in its UTS namespace
		"inet 10.199.0.2/24",          // eth0's address, on the veth inside
		"sethostname: Host is down\n", // the seccomp filter's errno
		"sethostname=1\n",
		"ping=ok\n", // the host end answers through the veth pair
		"write=ok\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Capabilities: Docker's default set, without CAP_SYS_ADMIN, in the
	// effective and bounding sets.
	keep, err := api.ParseCapSet(defaultCaps)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"CapEff", "CapBnd"} {
		v, ok := capField(out, set)
		if !ok {
			t.Errorf("no %s in the output", set)
			continue
		}
		if api.CapSet(v) != keep {
			t.Errorf("%s = %v, want %v", set, api.CapSet(v), keep)
		}
	}
	if h, _ := os.Hostname(); h == "box-test" || h == "evil" {
		t.Errorf("the host's name changed to %q", h)
	}
}

// TestContainerPlain runs without a user namespace and network, with a
// read-only root, and checks the default seccomp policy.
func TestContainerPlain(t *testing.T) {
	needContainer(t)
	out, status := runSandboxed(t, "-userns=false", "-net=false", "-ro", "--",
		"/bin/sh", "-c", `echo pid=$$; touch /x; ip -o link | wc -l; mkdir /tmp/d && echo tmp=ok; unshare -n true; echo unshare=$?`)
	t.Logf("output:\n%s", out)
	if status != 0 {
		t.Fatalf("exit status %d", status)
	}
	for _, want := range []string{
		"pid=1\n",
		"Read-only file system", // -ro: mount_setattr on the root
		"1\n",                   // lo only
		"tmp=ok\n",              // /tmp is a writable tmpfs
		"unshare: unshare(0x40000000): Operation not permitted", // denied by the default policy
		"unshare=1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestContainerErrors(t *testing.T) {
	needContainer(t)
	if _, status := runSandboxed(t, "-caps", "bogus_cap", "true"); status != setupFailed {
		t.Errorf("unknown capability: status %d, want %d", status, setupFailed)
	}
	if _, status := runSandboxed(t, "-seccomp", "errno EPERM no_such_call", "true"); status != setupFailed {
		t.Errorf("bad seccomp rule: status %d, want %d", status, setupFailed)
	}
	out, status := runSandboxed(t, "-net=false", "/no/such/command")
	if status != 127 || !strings.Contains(out, "/no/such/command") {
		t.Errorf("missing command: status %d, output %q", status, out)
	}
	// PID 1 ignores even SIGKILL from inside its namespace; a seccomp
	// kill_process action still ends it, with SIGSYS.
	if out, status = runSandboxed(t, "-net=false", "-seccomp", "kill_process uname", "--", "/bin/uname"); status != 128+int(api.SIGSYS) {
		t.Errorf("killed by SIGSYS: status %d, want %d (%q)", status, 128+int(api.SIGSYS), out)
	}
}

// capField returns the hex value of a capability line of /proc/PID/status.
func capField(out, name string) (uint64, bool) {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name+":" {
			v, err := strconv.ParseUint(f[1], 16, 64)
			return v, err == nil
		}
	}
	return 0, false
}
