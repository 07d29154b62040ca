package nsexec_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/nsexec"
	"github.com/anykernel/anykernel/backend/native"
)

func init() {
	nsexec.Register("test.report", func() int {
		k, err := native.New()
		if err != nil {
			fmt.Println(err)
			return 1
		}
		if err := k.Sethostname("nsexec-child"); err != nil {
			fmt.Println("sethostname:", err)
			return 1
		}
		var u api.Utsname
		k.Uname(&u)
		mounts, _ := os.ReadFile("/proc/self/mountinfo")
		private := !strings.Contains(string(mounts), "shared:")
		fmt.Printf("pid=%d uid=%d host=%s args=%s env=%q private=%v\n", k.Getpid(), os.Getuid(), u.Nodename,
			strings.Join(os.Args[1:], ","), os.Getenv("ANYKERNEL_NSEXEC"), private)
		return 0
	})
	nsexec.Register("test.exit3", func() int { return 3 })
}

func TestMain(m *testing.M) {
	nsexec.Init()
	os.Exit(m.Run())
}

func kernel(t *testing.T) *api.Kernel {
	t.Helper()
	k, err := native.New()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func TestCommand(t *testing.T) {
	needRoot(t)
	ns := api.CLONE_NEWPID | api.CLONE_NEWUTS | api.CLONE_NEWNS | api.CLONE_NEWIPC | api.CLONE_NEWNET
	withUser := nsexec.Probe(ns|api.CLONE_NEWUSER) == nil
	if withUser {
		ns |= api.CLONE_NEWUSER
	} else {
		t.Log("user namespaces not available here; testing without")
	}
	cmd := nsexec.Command("test.report", &nsexec.Options{Namespaces: ns, Args: []string{"a", "b"}})
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v: %s", err, out.String())
	}
	want := `pid=1 uid=0 host=nsexec-child args=a,b env="" private=true`
	if got := strings.TrimSpace(out.String()); got != want {
		t.Fatalf("child said %q, want %q", got, want)
	}
	host, _ := os.Hostname()
	if host == "nsexec-child" {
		t.Fatal("the child's host name leaked to the host")
	}
}

func TestCommandExitStatus(t *testing.T) {
	err := nsexec.Command("test.exit3", nil).Run()
	var ee interface{ ExitCode() int }
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("got %v, want exit status 3", err)
	}
}

func TestCommandErrors(t *testing.T) {
	if err := nsexec.Command("no.such.entry", nil).Start(); err == nil || !strings.Contains(err.Error(), "no.such.entry") {
		t.Errorf("unknown entry: got %v", err)
	}
	err := nsexec.Command("test.exit3", &nsexec.Options{Namespaces: api.CLONE_FILES}).Start()
	if !errors.Is(err, api.EINVAL) {
		t.Errorf("CLONE_FILES as a namespace: got %v", err)
	}
	err = nsexec.Command("test.exit3", &nsexec.Options{UidMap: []api.IDMap{{Inside: 0, Outside: 0, Count: 1}}}).Start()
	if !errors.Is(err, api.EINVAL) {
		t.Errorf("uid map without a user namespace: got %v", err)
	}
}

func TestProbe(t *testing.T) {
	if err := nsexec.Probe(0); err != nil {
		t.Fatalf("a child in no new namespace: %v", err)
	}
	if os.Geteuid() == 0 {
		if err := nsexec.Probe(api.CLONE_NEWNET | api.CLONE_NEWPID); err != nil {
			t.Fatalf("root, new net and pid namespaces: %v", err)
		}
	}
}

func TestRunLocked(t *testing.T) {
	k := kernel(t)
	for i := 0; i < 20; i++ {
		var tid int
		nsexec.RunLocked(k, func() { tid = k.Gettid() })
		if tid == k.Getpid() {
			t.Fatal("RunLocked ran on the main thread")
		}
	}
}

func TestNetns(t *testing.T) {
	needRoot(t)
	k := kernel(t)
	cur, err := nsexec.CurrentNetns(k)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	n, err := nsexec.NewNetns(k)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Equal(cur) {
		t.Fatalf("new netns %v equals the current one %v", n, cur)
	}
	var inside string
	if err := n.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/dev")
		inside = string(b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(inside, ":") != 1 || !strings.Contains(inside, "lo:") {
		t.Errorf("the new namespace should have only lo:\n%s", inside)
	}
	// Back on the thread's own namespace afterwards: many rounds reuse
	// threads, and each must come back.
	for i := 0; i < 50; i++ {
		if err := n.Do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		now, err := nsexec.CurrentNetns(k)
		if err != nil {
			t.Fatal(err)
		}
		same := now.Equal(cur)
		now.Close()
		if !same {
			t.Fatalf("round %d: a thread came back in the wrong namespace", i)
		}
	}
	// A panic in f comes back to the caller.
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		n.Do(func() error { panic("boom") })
	}()

	// Handles by pid and by path; a namespace of another type is refused.
	self, err := nsexec.NetnsOfPid(k, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	if _, err := nsexec.OpenNetns(k, "/proc/self/ns/uts"); !errors.Is(err, api.EINVAL) {
		t.Errorf("a UTS namespace as a netns: got %v", err)
	}
	if _, err := nsexec.NetnsOfPid(k, -1); !errors.Is(err, api.EINVAL) {
		t.Errorf("pid -1: got %v", err)
	}
	if _, err := nsexec.OpenNetns(k, "/nonexistent"); !errors.Is(err, api.ENOENT) {
		t.Errorf("missing path: got %v", err)
	}
}
