package api_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

func host(t testing.TB) *api.Kernel {
	t.Helper()
	k, err := native.New()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// holds reports whether descriptor n is open on path. Comparing the target,
// not only the number, keeps a number the runtime reused for its own files
// from looking like a leak.
func holds(n int, path string) bool {
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(n))
	return err == nil && target == path
}

func TestFdCleanupClosesLostDescriptors(t *testing.T) {
	k := host(t)
	path := filepath.Join(t.TempDir(), "lost")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := k.Open(path, api.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := f.Num()
	f = nil
	deadline := time.Now().Add(5 * time.Second)
	for holds(n, path) && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if holds(n, path) {
		t.Fatalf("descriptor %d still open on %s after its Fd became unreachable", n, path)
	}
	_ = f
}

func TestFdNoGCKeepsDescriptor(t *testing.T) {
	k := host(t)
	f, err := k.Open("/dev/null", api.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.NoGC().Release()
	if err != nil {
		t.Fatal(err)
	}
	f = nil
	for range 3 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if !holds(n, "/dev/null") {
		t.Fatalf("released descriptor %d was closed by the collector", n)
	}
	g, err := k.NewFd(n)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil || holds(n, "/dev/null") {
		t.Fatalf("adopted descriptor not closed: %v", err)
	}
	_ = f
	if _, err := k.NewFd(-1); !errors.Is(err, api.EINVAL) {
		t.Errorf("NewFd(-1) = %v, want EINVAL", err)
	}
}

// Close while reads are in flight must leave the number alone until they
// return, so a concurrent open can never get a number that is then closed
// under it.
func TestFdCloseDuringUse(t *testing.T) {
	k := host(t)
	for range 200 {
		f, err := k.Open("/dev/zero", api.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 64)
				for {
					if _, err := f.Read(buf); err != nil {
						if !errors.Is(err, api.EBADF) {
							t.Errorf("read: %v", err)
						}
						return
					}
				}
			}()
		}
		time.Sleep(50 * time.Microsecond)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		// Reopen: may reuse the number only after every read returned.
		g, err := k.Open("/dev/null", api.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		var st api.Stat
		if err := g.Stat(&st); err != nil {
			t.Fatalf("the new descriptor was closed by the old Fd: %v", err)
		}
		g.Close()
	}
}

func TestFdFileAndString(t *testing.T) {
	k := host(t)
	f, err := k.Open("/etc/hostname", api.O_RDONLY, 0)
	if err != nil {
		t.Skipf("no /etc/hostname: %v", err)
	}
	defer f.Close()
	if s := f.String(); s != "fd "+strconv.Itoa(f.Num())+" (native)" {
		t.Errorf("String = %q", s)
	}
	of, err := f.File()
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	if int(of.Fd()) == f.Num() {
		t.Errorf("File shares the number instead of duplicating it")
	}
	want, _ := os.ReadFile("/etc/hostname")
	got, err := io.ReadAll(of)
	if err != nil || string(got) != string(want) {
		t.Errorf("read through *os.File = %q, %v; want %q", got, err, want)
	}
	f.Close()
	if s := f.String(); s != "fd closed (native)" {
		t.Errorf("String after close = %q", s)
	}
	if _, err := f.File(); !errors.Is(err, api.EBADF) {
		t.Errorf("File after close = %v, want EBADF", err)
	}
	if _, err := f.Release(); !errors.Is(err, api.EBADF) {
		t.Errorf("Release after close = %v, want EBADF", err)
	}
}
