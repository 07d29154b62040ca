package conformance

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Status is the outcome of one case, one cell of the matrix.
type Status int

const (
	Pass Status = iota
	Fail
	Skip
	NoSysStatus // the backend answered ENOSYS
)

func (s Status) String() string {
	return [...]string{"ok", "FAIL", "skipped", "ENOSYS"}[s]
}

// Result is what running one case gave.
type Result struct {
	Case    Case
	Status  Status
	Message string // failure text or skip reason
	Elapsed time.Duration
}

// runT implements T outside go test: Fatalf and Skipf end the case's
// goroutine with runtime.Goexit, as testing does.
type runT struct {
	name     string
	mu       sync.Mutex
	failed   bool
	skipped  bool
	msgs     []string
	cleanups []func()
}

func (t *runT) Helper()      {}
func (t *runT) Name() string { return t.name }
func (t *runT) Logf(f string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.msgs = append(t.msgs, fmt.Sprintf(f, a...))
}
func (t *runT) Errorf(f string, a ...any) {
	t.Logf(f, a...)
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
}
func (t *runT) Fatalf(f string, a ...any) {
	t.Errorf(f, a...)
	runtime.Goexit()
}
func (t *runT) Skipf(f string, a ...any) {
	t.mu.Lock()
	t.skipped = true
	t.msgs = append(t.msgs, fmt.Sprintf(f, a...))
	t.mu.Unlock()
	runtime.Goexit()
}
func (t *runT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}
func (t *runT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}
func (t *runT) TempDir() string {
	d, err := os.MkdirTemp("", "anykernel-matrix-")
	if err != nil {
		t.Fatalf("TempDir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Timeout bounds one case in the matrix runner; a case that hangs is a
// failure, never a hung matrix.
var Timeout = 30 * time.Second

// RunCase runs one case against a kernel of target tg outside go test.
func RunCase(c Case, tg *Target, k *api.Kernel) Result {
	t := &runT{name: tg.Name + "/" + c.Family + "/" + c.Call}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("panic: %v", r)
			}
		}()
		Prepare(t, &c, tg)
		c.Run(t, &Env{K: k, Target: tg})
	}()
	timedOut := false
	select {
	case <-done:
	case <-time.After(Timeout):
		timedOut = true
	}
	res := Result{Case: c, Elapsed: time.Since(start)}
	if timedOut {
		res.Status = Fail
		res.Message = fmt.Sprintf("timed out after %v", Timeout)
		return res
	}
	t.mu.Lock()
	cleanups := t.cleanups
	t.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	res.Message = strings.Join(t.msgs, "; ")
	switch {
	case t.failed:
		res.Status = Fail
	case t.skipped && strings.HasPrefix(res.Message, NoSysPrefix):
		res.Status = NoSysStatus
	case t.skipped:
		res.Status = Skip
	default:
		res.Status = Pass
	}
	return res
}
