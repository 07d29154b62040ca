//go:build rump && cgo

package rump

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/anykernel/anykernel/api"
)

// A process hosts one rump kernel, so every test of this package boots the
// same component set.
var testComponents = []string{
	"vfs", "fs.tmpfs", "fs.ffs", "fs.cd9660", "fs.kernfs", "fs.ptyfs", "kern.tty",
	"vfs.fifofs", "dev.disk", "net", "net.net", "net.local", "net.netinet", "net.netinet6",
}

var tmpOnce struct {
	sync.Once
	err error
}

// kernel returns a fresh rump process, with a tmpfs on /tmp, or skips the
// test when there is no rump kernel.
func kernel(t testing.TB) *api.Kernel {
	t.Helper()
	k, err := New(Options{Components: testComponents})
	if err != nil {
		if strings.Contains(err.Error(), "buildrump.sh") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	tmpOnce.Do(func() {
		if err := k.Mkdir("/tmp", 0o1777); err != nil && !errors.Is(err, fs.ErrExist) {
			tmpOnce.err = err
			return
		}
		tmpOnce.err = MountTmpfs(k, "/tmp", 0, TmpfsArgs{})
	})
	if tmpOnce.err != nil {
		t.Fatal(tmpOnce.err)
	}
	return k
}

func TestBoot(t *testing.T) {
	k := kernel(t)
	pid := k.Getpid()
	if pid <= 1 {
		t.Fatalf("pid %d, want a process of its own (> 1)", pid)
	}
	if g := k.Getpgrp(); g != pid {
		t.Errorf("getpgrp = %d, want %d (the process leads its own group)", g, pid)
	}
	if k.Name() != "rump" || k.ABI().OS != "netbsd" {
		t.Errorf("kernel %s speaks %s", k.Name(), k.ABI().OS)
	}
	z, err := k.Open("/dev/zero", api.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	b := []byte{1, 2, 3}
	if n, err := z.Read(b); err != nil || n != 3 || b[0]|b[1]|b[2] != 0 {
		t.Fatalf("read /dev/zero: %d %v %v", n, err, b)
	}
	k2 := kernel(t)
	if p2 := k2.Getpid(); p2 == pid || p2 <= 1 {
		t.Errorf("second New: pid %d, first %d", p2, pid)
	}
	if _, err := New(Options{Components: []string{"fs.nfs"}}); err == nil || !strings.Contains(err.Error(), "librumpfs_nfs.so") {
		t.Errorf("New asking for a component the kernel lacks: %v", err)
	}
	if _, err := New(Options{Components: []string{"bogus"}}); err == nil {
		t.Error("New with an unknown component class: no error")
	}
}

// TestUnavailable runs this test binary again without RUMP_PREFIX: New
// must fail with the message that says how to get a rump kernel.
func TestUnavailable(t *testing.T) {
	if os.Getenv("ANYK_RUMP_CHILD") == "1" {
		_, err := New(Options{})
		fmt.Printf("NEW-ERROR: %v\n", err)
		return
	}
	if os.Getenv("RUMP_PREFIX") == "" {
		t.Skip("RUMP_PREFIX unset: the other tests show the message")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailable$", "-test.v")
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "RUMP_PREFIX=") && !strings.HasPrefix(e, "LD_LIBRARY_PATH=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "ANYK_RUMP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{"NEW-ERROR: rump:", "buildrump.sh", "RUMP_PREFIX"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
}

// marker makes a file in /tmp whose inode identifies a process.
func marker(t *testing.T, k *api.Kernel, name string) (*api.Fd, uint64) {
	t.Helper()
	p := "/tmp/" + name
	f, err := k.Open(p, api.O_RDWR|api.O_CREAT|api.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var st api.Stat
	if err := f.Stat(&st); err != nil {
		t.Fatal(err)
	}
	return f, st.Ino
}

// TestProcessesNeverMix runs hundreds of goroutines in two rump processes
// at once. Each process has descriptor 0 open on a file of its own; every
// goroutine checks, call after call, that descriptor 0 and getpid answer
// for its own process, whatever thread the Go scheduler runs it on.
func TestProcessesNeverMix(t *testing.T) {
	root := kernel(t)
	var procs [2]struct {
		k   *api.Kernel
		fd0 *api.Fd
		ino uint64
		pid int
	}
	for i := range procs {
		k, err := Rfork(root, RFCFDG)
		if err != nil {
			t.Fatal(err)
		}
		f, ino := marker(t, k, fmt.Sprintf("mix%d-%d", i, root.Getpid()))
		if f.Num() != 0 {
			t.Fatalf("first open in a fresh process got fd %d, want 0", f.Num())
		}
		procs[i].k, procs[i].fd0, procs[i].ino, procs[i].pid = k, f, ino, k.Getpid()
	}
	if procs[0].ino == procs[1].ino || procs[0].pid == procs[1].pid {
		t.Fatal("the two processes are not distinct")
	}
	const goroutines, rounds = 300, 200
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			me := &procs[p]
			var st api.Stat
			for r := 0; r < rounds; r++ {
				if err := me.fd0.Stat(&st); err != nil {
					errc <- err
					return
				}
				if st.Ino != me.ino {
					errc <- fmt.Errorf("process %d: fd 0 is inode %d, want %d: the call ran in another process", me.pid, st.Ino, me.ino)
					return
				}
				if pid := me.k.Getpid(); pid != me.pid {
					errc <- fmt.Errorf("getpid = %d, want %d", pid, me.pid)
					return
				}
				if r%50 == 0 {
					// A new descriptor lands in this process's table only.
					f, err := me.k.Open("/dev/null", api.O_RDONLY, 0)
					if err != nil {
						errc <- err
						return
					}
					f.Close()
				}
			}
		}(g % 2)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	for i := range procs {
		if err := Release(procs[i].k); err != nil {
			t.Error(err)
		}
	}
}

func TestRforkFlags(t *testing.T) {
	parent := kernel(t)
	f, ino := marker(t, parent, fmt.Sprintf("rf-%d", parent.Getpid()))
	n := f.Num()
	fstatNum := func(k *api.Kernel, num int) (uint64, error) {
		g, err := k.NewFd(num)
		if err != nil {
			return 0, err
		}
		g.NoGC()
		var st api.Stat
		err = g.Stat(&st)
		return st.Ino, err
	}

	clean, err := Rfork(parent, RFCFDG)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fstatNum(clean, n); !errors.Is(err, api.EBADF) {
		t.Errorf("RFCFDG child sees fd %d: %v", n, err)
	}
	if clean.Getppid() != parent.Getpid() {
		t.Errorf("child's parent is %d, want %d", clean.Getppid(), parent.Getpid())
	}

	cp, err := Rfork(parent, RFFDG)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fstatNum(cp, n); err != nil || got != ino {
		t.Errorf("RFFDG child: fd %d is %d, %v; want inode %d", n, got, err, ino)
	}
	if _, err := cp.Syscall("close", uintptr(n)); err != nil {
		t.Fatal(err)
	}
	if got, err := fstatNum(parent, n); err != nil || got != ino {
		t.Errorf("parent's fd after the RFFDG child closed its copy: %d, %v", got, err)
	}

	shared, err := Rfork(parent, RFNONE)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fstatNum(shared, n); err != nil || got != ino {
		t.Errorf("RFNONE child: fd %d is %d, %v", n, got, err)
	}
	g, err := shared.Open("/dev/null", api.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fstatNum(parent, g.Num()); err != nil {
		t.Errorf("parent does not see the fd its RFNONE child opened: %v", err)
	}
	g.Close()

	if _, err := Rfork(parent, RforkFlags(3)); !errors.Is(err, api.EINVAL) {
		t.Errorf("RFFDG|RFCFDG: %v", err)
	}
	for _, k := range []*api.Kernel{clean, cp, shared} {
		if err := Release(k); err != nil {
			t.Error(err)
		}
	}
	if err := Release(clean); err == nil {
		t.Error("second Release: no error")
	}
	if pid := clean.Getpid(); pid != -1 {
		t.Errorf("getpid in a released process = %d", pid)
	}
	if _, err := clean.Open("/dev/null", api.O_RDONLY, 0); !errors.Is(err, api.ESRCH) {
		t.Errorf("open in a released process: %v", err)
	}
}

// TestReleaseClosesDescriptors: a released process's descriptors close, so
// the reader of a pipe whose only other writer was in it sees end of file.
func TestReleaseClosesDescriptors(t *testing.T) {
	parent := kernel(t)
	r, w, err := parent.Pipe2(api.O_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	child, err := Rfork(parent, RFFDG)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := Release(child); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	n, err := r.Read(b)
	if n != 0 || err != io.EOF {
		t.Fatalf("read after the last writer's process ended: %d, %v; want EOF", n, err)
	}
}

func TestLWP(t *testing.T) {
	k := kernel(t)
	if CurLWP(k) != nil {
		t.Error("a process Kernel has a current lwp")
	}
	l, err := NewLWP(k)
	if err != nil {
		t.Fatal(err)
	}
	lk := SwitchLWP(l)
	if CurLWP(lk) != l {
		t.Error("CurLWP of an lwp Kernel is not its lwp")
	}
	if l.Pid() != k.Getpid() || lk.Getpid() != k.Getpid() {
		t.Errorf("lwp in process %d/%d, want %d", l.Pid(), lk.Getpid(), k.Getpid())
	}
	// The lwp shares its process's descriptors.
	f, ino := marker(t, lk, fmt.Sprintf("lwp-%d", k.Getpid()))
	g, err := k.NewFd(f.Num())
	if err != nil {
		t.Fatal(err)
	}
	g.NoGC()
	var st api.Stat
	if err := g.Stat(&st); err != nil || st.Ino != ino {
		t.Errorf("process sees the lwp's fd %d as %d, %v", f.Num(), st.Ino, err)
	}
	// Concurrent calls on one lwp take turns.
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				if lk.Getpid() != l.Pid() {
					t.Error("getpid on the lwp")
					return
				}
			}
		}()
	}
	wg.Wait()
	f.Close()
	if err := ReleaseLWP(l); err != nil {
		t.Fatal(err)
	}
	if err := ReleaseLWP(l); err == nil {
		t.Error("second ReleaseLWP: no error")
	}
	if pid := lk.Getpid(); pid != -1 {
		t.Errorf("getpid on a released lwp = %d", pid)
	}
	// The process lives on with its other lwps.
	if k.Getpid() <= 1 {
		t.Error("the process died with one of its lwps")
	}
	if _, err := NewLWP(nil); err == nil {
		t.Error("NewLWP(nil): no error")
	}
}
