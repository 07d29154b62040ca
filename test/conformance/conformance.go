// Package conformance is the cross-backend test suite: each case is written
// once as a function of an *Env (a Kernel plus what the case needs around
// it) and runs against every backend, under `go test ./test/...` and under
// the matrix runner (`go run ./test/matrix`).
//
// A case names the api call it exercises; that name is its row in the
// support matrix. Cases that hit ENOSYS on a backend call NoSys, which the
// matrix shows as ENOSYS rather than as a failure.
package conformance

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/anykernel/anykernel/api"
)

// T is the part of *testing.T the suite uses; the matrix runner has its own
// implementation, so cases run outside go test too.
type T interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Failed() bool
	Cleanup(func())
	TempDir() string
}

// Case is one conformance test.
type Case struct {
	Family string // "files", "sockets", ...: groups rows in the matrix
	Call   string // the api call exercised, e.g. "openat2": the matrix row
	Root   bool   // needs the privileges of root in the kernel under test
	Run    func(t T, e *Env)
}

// Target is a backend the suite can run against.
type Target struct {
	Name string
	// Open returns the kernel, or an error saying why this backend is not
	// available here and how to get it (that text is the skip message).
	Open func() (*api.Kernel, error)
	// Root reports whether the suite runs with root privileges there.
	Root func() bool
	// TempDir returns a fresh, empty directory in the kernel's own file
	// system, removed at the end of the test.
	TempDir func(t T, k *api.Kernel) string
	// Fork, where set, makes a new process of the kernel, a child of k's
	// process, and returns its Kernel and what ends it (a rump kernel's
	// rfork). Cases that need a child process use it on kernels whose
	// processes are not host processes; nil elsewhere.
	Fork func(k *api.Kernel) (child *api.Kernel, end func(), err error)
}

// Env is what a case gets: the kernel under test and its target.
type Env struct {
	K      *api.Kernel
	Target *Target
}

// TempDir returns a fresh directory inside the kernel under test.
func (e *Env) TempDir(t T) string { return e.Target.TempDir(t, e.K) }

var (
	mu      sync.Mutex
	cases   []Case
	targets []*Target
)

// Register adds cases to the suite; family files call it from init.
func Register(cs ...Case) {
	mu.Lock()
	defer mu.Unlock()
	cases = append(cases, cs...)
}

// RegisterTarget adds a backend; backend-specific files (some behind build
// tags) call it from init.
func RegisterTarget(t *Target) {
	mu.Lock()
	defer mu.Unlock()
	targets = append(targets, t)
}

// Cases returns every case, ordered by family and call.
func Cases() []Case {
	mu.Lock()
	defer mu.Unlock()
	out := append([]Case(nil), cases...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Family != out[j].Family {
			return out[i].Family < out[j].Family
		}
		return out[i].Call < out[j].Call
	})
	return out
}

// Targets returns every registered backend, native first.
func Targets() []*Target {
	mu.Lock()
	defer mu.Unlock()
	return append([]*Target(nil), targets...)
}

// Prepare checks a case's needs before it runs: it skips a root-only case
// without root, with that reason.
func Prepare(t T, c *Case, tg *Target) {
	if c.Root && !tg.Root() {
		t.Skipf("needs root (run the suite as root)")
	}
}

// NoSysPrefix starts the skip message of a case whose call the backend does
// not serve; the matrix shows such cells as ENOSYS.
const NoSysPrefix = "ENOSYS: "

// NoSys skips the case if err says the backend does not serve the call.
func NoSys(t T, err error) {
	t.Helper()
	if errors.Is(err, api.ENOSYS) {
		t.Skipf("%s%v", NoSysPrefix, err)
	}
}

// Has reports whether err is not the mark of a call, flag or option the
// kernel lacks (ENOSYS, or a member its ABI does not have, such as Linux's
// SEEK_DATA or SO_PASSCRED on NetBSD): a case leaves out the checks of such
// a feature there and runs the rest, rather than skipping as NoSys does.
func Has(err error) bool { return !errors.Is(err, api.ENOSYS) }

// OK fails the case if err is not nil (after NoSys).
func OK(t T, err error, what ...any) {
	t.Helper()
	if err == nil {
		return
	}
	NoSys(t, err)
	t.Fatalf("%s: %v", describe(what), err)
}

// Want fails unless errors.Is(err, want).
func Want(t T, err error, want error, what ...any) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", describe(what), err, want)
	}
}

// Eq fails unless got == want.
func Eq[V comparable](t T, got, want V, what ...any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", describe(what), got, want)
	}
}

// True fails unless cond holds.
func True(t T, cond bool, what ...any) {
	t.Helper()
	if !cond {
		t.Fatalf("%s: not true", describe(what))
	}
}

func describe(what []any) string {
	if len(what) == 0 {
		return "check"
	}
	if f, ok := what[0].(string); ok && strings.Contains(f, "%") {
		return fmt.Sprintf(f, what[1:]...)
	}
	return fmt.Sprint(what...)
}

// IsRoot reports whether this process runs as root on the host.
func IsRoot() bool { return os.Geteuid() == 0 }

// Wide returns 1<<shift as an int and whether an int can hold it: the
// out-of-range checks that pass ids or sizes beyond 32 bits cannot even be
// written on 32-bit targets, where such a value does not exist to refuse.
func Wide(shift uint) (int, bool) {
	v := uint64(1) << shift
	return int(v), int(v) > 0 && uint64(int(v)) == v
}
