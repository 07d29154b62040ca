package conformance

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
)

// perf_event_open with software counters: task clock, context switches,
// page faults; enable, disable, reset and read.

func init() {
	Register(
		Case{Family: "perf", Call: "perf_event_open", Run: testPerfEventOpen},
		Case{Family: "perf", Call: "PERF_EVENT_IOC_ENABLE", Run: testPerfEnable},
		Case{Family: "perf", Call: "PERF_EVENT_IOC_DISABLE", Run: testPerfDisable},
		Case{Family: "perf", Call: "PERF_EVENT_IOC_RESET", Run: testPerfReset},
		Case{Family: "perf", Call: "perf.Measure", Run: testPerfMeasure},
	)
}

// smPerfAttr is a software counter that an unprivileged process may open
// where perf_event_paranoid allows user-space counting.
func smPerfAttr(e *Env, cfg api.PerfSwConfig) *api.PerfEventAttr {
	return &api.PerfEventAttr{
		Type:          api.PERF_TYPE_SOFTWARE,
		Config:        uint64(cfg),
		Disabled:      true,
		ExcludeKernel: e.K.Geteuid() != 0,
		ExcludeHV:     true,
		ReadFormat:    api.PERF_FORMAT_TOTAL_TIME_ENABLED | api.PERF_FORMAT_TOTAL_TIME_RUNNING,
	}
}

// smPerfSkip skips the case when the kernel forbids counters to us.
func smPerfSkip(t T, e *Env, err error) {
	t.Helper()
	if errors.Is(err, api.EACCES) || errors.Is(err, api.EPERM) {
		v, _ := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
		t.Skipf("perf_event_open refused (%v): kernel.perf_event_paranoid = %s, euid %d", err, strings.TrimSpace(string(v)), e.K.Geteuid())
	}
	if errors.Is(err, api.ENOENT) || errors.Is(err, api.ENODEV) {
		t.Skipf("no software perf events in this kernel: %v", err)
	}
}

// smPerfOnThread runs f on a goroutine locked to its thread, which a
// counter on pid 0 follows; the thread is discarded afterwards.
func smPerfOnThread(t T, f func() error) {
	t.Helper()
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		ch <- f()
	}()
	select {
	case err := <-ch:
		if err != nil {
			t.Fatalf("%v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("counter check did not finish within 5 s")
	}
}

// smBurn keeps the CPU busy for n million steps (about n ms): a fixed
// amount of work, so the CPU time it takes does not depend on how often
// the thread is preempted.
func smBurn(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n*1000000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

func testPerfEventOpen(t T, e *Env) {
	k := e.K
	// The thread this test's goroutine runs on may change between calls:
	// open, count and read on one locked thread.
	var c api.PerfCount
	var openErr error
	smPerfOnThread(t, func() error {
		p, err := k.PerfEventOpen(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), 0, -1, nil, api.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			openErr = err
			return nil
		}
		defer p.Close()
		if err := p.Enable(); err != nil {
			return err
		}
		runtime.KeepAlive(smBurn(5))
		if err := p.Disable(); err != nil {
			return err
		}
		c, err = p.Read()
		return err
	})
	smPerfSkip(t, e, openErr)
	OK(t, openErr, "perf_event_open")
	True(t, c.Value >= uint64(100*time.Microsecond), "task clock after 5 million steps: %d ns", c.Value)
	True(t, c.Value < uint64(5*time.Second), "task clock plausible: %d ns", c.Value)
	True(t, c.TimeEnabled >= c.TimeRunning && c.TimeRunning > 0, "times enabled %d running %d", c.TimeEnabled, c.TimeRunning)
	Eq(t, c.Scaled(), c.Value, "a software counter is never multiplexed")

	// A process-wide view of another process: the page faults of a child.
	if smIsHost(e) {
		p, err := k.PerfEventOpen(&api.PerfEventAttr{Type: api.PERF_TYPE_SOFTWARE, Config: uint64(api.PERF_COUNT_SW_TASK_CLOCK), ExcludeKernel: k.Geteuid() != 0}, k.Getpid(), -1, nil, api.PERF_FLAG_FD_CLOEXEC)
		if err == nil {
			// Counting the main thread of this process: it exists, and
			// reading works whatever it did.
			_, err = p.Read()
			OK(t, err, "read a counter on our main thread")
			OK(t, p.Close())
		} else {
			smPerfSkip(t, e, err)
			OK(t, err, "perf_event_open on our pid")
		}
	}

	// Bad inputs.
	_, err := k.PerfEventOpen(nil, 0, -1, nil, 0)
	Want(t, err, api.EINVAL, "nil attr")
	_, err = k.PerfEventOpen(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), -2, -1, nil, 0)
	Want(t, err, api.EINVAL, "pid -2")
	_, err = k.PerfEventOpen(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), -1, -1, nil, 0)
	Want(t, err, api.EINVAL, "pid -1 needs a cpu")
	a := smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK)
	a.ReadFormat |= api.PERF_FORMAT_GROUP
	_, err = k.PerfEventOpen(a, 0, -1, nil, 0)
	Want(t, err, api.EINVAL, "PERF_FORMAT_GROUP")
	b := smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK)
	b.Config = 9999
	_, err = k.PerfEventOpen(b, 0, -1, nil, 0)
	True(t, err != nil, "an unknown software counter is refused")
	_, err = k.PerfEventOpen(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), 0, -1, nil, api.PerfFlags(1<<40))
	Want(t, err, api.EINVAL, "unknown flag bits")
	_, err = api.ParsePerfFlags("fd_cloexec,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown flag word: %v", err)
	var closed *api.PerfEvent
	_, err = closed.Read()
	Want(t, err, api.EBADF, "read a nil counter")
	Want(t, new(api.PerfEvent).Enable(), api.EBADF, "enable a zero PerfEvent")

	// A group: the leader's group ioctls drive the member too.
	var lead, member api.PerfCount
	smPerfOnThread(t, func() error {
		l, err := k.PerfEventOpen(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), 0, -1, nil, api.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			return err
		}
		defer l.Close()
		ma := smPerfAttr(e, api.PERF_COUNT_SW_PAGE_FAULTS)
		ma.Disabled = false // members follow their leader
		m, err := k.PerfEventOpen(ma, 0, -1, l, api.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			return err
		}
		defer m.Close()
		if err := l.EnableGroup(); err != nil {
			return err
		}
		if err := smTouchPages(k, 16); err != nil {
			return err
		}
		if err := l.DisableGroup(); err != nil {
			return err
		}
		if lead, err = l.Read(); err != nil {
			return err
		}
		member, err = m.Read()
		return err
	})
	True(t, lead.Value > 0, "the leader counted: %d", lead.Value)
	True(t, member.Value >= 16, "the member counted the faults: %d", member.Value)
}

func testPerfEnable(t T, e *Env) {
	k := e.K
	// Page faults count in any mode; context switches happen in the
	// kernel, which only a privileged counter may include.
	cfgs := []api.PerfSwConfig{api.PERF_COUNT_SW_PAGE_FAULTS}
	if k.Geteuid() == 0 {
		cfgs = append(cfgs, api.PERF_COUNT_SW_CONTEXT_SWITCHES)
	}
	for _, cfg := range cfgs {
		var before, after api.PerfCount
		var openErr error
		work := func() error {
			if cfg == api.PERF_COUNT_SW_PAGE_FAULTS {
				return smTouchPages(k, 16)
			}
			// Each sleep gives the CPU away: one switch at least.
			for i := 0; i < 5; i++ {
				k.Nanosleep(api.DurationToTimespec(time.Millisecond))
			}
			return nil
		}
		smPerfOnThread(t, func() error {
			p, err := k.PerfEventOpen(smPerfAttr(e, cfg), 0, -1, nil, api.PERF_FLAG_FD_CLOEXEC)
			if err != nil {
				openErr = err
				return nil
			}
			defer p.Close()
			// Disabled at open: the work counts nothing yet.
			if err := work(); err != nil {
				return err
			}
			if before, err = p.Read(); err != nil {
				return err
			}
			if err := p.Enable(); err != nil {
				return err
			}
			if err := work(); err != nil {
				return err
			}
			after, err = p.Read()
			return err
		})
		smPerfSkip(t, e, openErr)
		OK(t, openErr, "perf_event_open %v", cfg)
		Eq(t, before.Value, uint64(0), "%v: nothing counted while disabled", cfg)
		Eq(t, before.TimeEnabled, uint64(0), "%v: never enabled", cfg)
		want := uint64(16)
		if cfg == api.PERF_COUNT_SW_CONTEXT_SWITCHES {
			want = 5
		}
		True(t, after.Value >= want, "%v after the work: %d, want >= %d", cfg, after.Value, want)
		True(t, after.TimeEnabled > 0, "enabled time %d", after.TimeEnabled)
	}
}

func testPerfDisable(t T, e *Env) {
	k := e.K
	var c1, c2 api.PerfCount
	var openErr error
	smPerfOnThread(t, func() error {
		p, err := k.PerfEventOpen(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), 0, -1, nil, api.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			openErr = err
			return nil
		}
		defer p.Close()
		if err := p.Enable(); err != nil {
			return err
		}
		runtime.KeepAlive(smBurn(2))
		if err := p.Disable(); err != nil {
			return err
		}
		if c1, err = p.Read(); err != nil {
			return err
		}
		runtime.KeepAlive(smBurn(3))
		c2, err = p.Read()
		return err
	})
	smPerfSkip(t, e, openErr)
	OK(t, openErr, "perf_event_open")
	True(t, c1.Value > 0, "counted while enabled: %d", c1.Value)
	Eq(t, c2.Value, c1.Value, "nothing counted after Disable")
	Eq(t, c2.TimeEnabled, c1.TimeEnabled, "enabled time stopped")
	// Ioctls on a closed counter.
	p, err := k.PerfEventOpen(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), 0, -1, nil, api.PERF_FLAG_FD_CLOEXEC)
	smPerfSkip(t, e, err)
	OK(t, err)
	OK(t, p.Close())
	Want(t, p.Disable(), api.EBADF, "disable a closed counter")
	Want(t, p.Enable(), api.EBADF, "enable a closed counter")
}

func testPerfReset(t T, e *Env) {
	k := e.K
	var c1, c2, c3 api.PerfCount
	var openErr error
	smPerfOnThread(t, func() error {
		a := smPerfAttr(e, api.PERF_COUNT_SW_PAGE_FAULTS)
		p, err := k.PerfEventOpen(a, 0, -1, nil, api.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			openErr = err
			return nil
		}
		defer p.Close()
		if err := p.Enable(); err != nil {
			return err
		}
		if err := smTouchPages(k, 32); err != nil {
			return err
		}
		if err := p.Disable(); err != nil {
			return err
		}
		if c1, err = p.Read(); err != nil {
			return err
		}
		if err := p.Reset(); err != nil {
			return err
		}
		if c2, err = p.Read(); err != nil {
			return err
		}
		// Reset of an enabled group leader, through the group form.
		if err := p.EnableGroup(); err != nil {
			return err
		}
		if err := smTouchPages(k, 8); err != nil {
			return err
		}
		if err := p.ResetGroup(); err != nil {
			return err
		}
		if err := p.DisableGroup(); err != nil {
			return err
		}
		c3, err = p.Read()
		return err
	})
	smPerfSkip(t, e, openErr)
	OK(t, openErr, "perf_event_open")
	True(t, c1.Value >= 32, "page faults after touching 32 new pages: %d", c1.Value)
	Eq(t, c2.Value, uint64(0), "count after Reset")
	True(t, c3.Value < 8, "faults counted since ResetGroup: %d", c3.Value)
}

// smTouchPages maps n fresh anonymous pages and writes to each: n page
// faults.
func smTouchPages(k *api.Kernel, n int) error {
	ps := k.PageSize()
	b, err := k.Mmap(0, n*ps, api.PROT_READ|api.PROT_WRITE, api.MAP_PRIVATE|api.MAP_ANONYMOUS, nil, 0)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		b[i*ps] = 1
	}
	return k.Munmap(b)
}

func testPerfMeasure(t T, e *Env) {
	k := e.K
	c, err := k.PerfMeasure(smPerfAttr(e, api.PERF_COUNT_SW_PAGE_FAULTS), func() {
		if err := smTouchPages(k, 64); err != nil {
			t.Errorf("touch pages: %v", err)
		}
	})
	smPerfSkip(t, e, err)
	OK(t, err, "PerfMeasure page faults")
	True(t, c.Value >= 64, "page faults of 64 fresh pages: %d", c.Value)
	True(t, c.Value < 64*16, "only the measured work: %d", c.Value)
	idle, err := k.PerfMeasure(smPerfAttr(e, api.PERF_COUNT_SW_PAGE_FAULTS), func() {})
	OK(t, err)
	True(t, idle.Value < c.Value, "nothing measured around no work: %d", idle.Value)
	clk, err := k.PerfMeasure(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), func() { runtime.KeepAlive(smBurn(3)) })
	OK(t, err, "PerfMeasure task clock")
	True(t, clk.Value >= uint64(100*time.Microsecond), "task clock of 3 million steps: %d ns", clk.Value)
	_, err = k.PerfMeasure(nil, func() {})
	Want(t, err, api.EINVAL, "nil attr")
	_, err = k.PerfMeasure(smPerfAttr(e, api.PERF_COUNT_SW_TASK_CLOCK), nil)
	Want(t, err, api.EINVAL, "nil function")
}
