package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anykernel/anykernel/build/image/pvh"
	"github.com/anykernel/anykernel/build/xenrun/runner"
)

var (
	imgOnce sync.Once
	imgPath string
	imgErr  error
	imgDir  string
)

// image builds this program into a PVH image once per test binary.
func image(tb testing.TB) string {
	tb.Helper()
	imgOnce.Do(func() {
		imgDir, imgErr = os.MkdirTemp("", "hello-image-")
		if imgErr != nil {
			return
		}
		imgPath = filepath.Join(imgDir, "hello.elf")
		imgErr = pvh.BuildPackage(".", ".", imgPath)
	})
	if imgErr != nil {
		tb.Fatalf("building the image: %v", imgErr)
	}
	return imgPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if imgDir != "" {
		os.RemoveAll(imgDir)
	}
	os.Exit(code)
}

// testArgs exercise the command line: environment, "--", quoting.
var testArgs = []string{"shim.stats", "HELLO_GREETING=from the host", "--", "one", "two words", "churn=256", "exit=3"}

var wantLines = []string{
	"hello from Go ",
	`args: ["one" "two words" "churn=256" "exit=3"]`,
	`env HELLO_GREETING="from the host"`,
	"goroutines: 8 done, sum of squares 140",
	"slept 50ms: ok",
	"rounds): preempted ok",
	"in a loop without calls: preempted ok",
	"allocated 256 MiB in total",
	"exit status 3",
}

func check(t *testing.T, r *runner.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != runner.Exited || r.Status != 3 {
		t.Errorf("outcome %v status %d, want exited with status 3\nconsole:\n%s", r.Outcome, r.Status, r.Console)
	}
	for _, w := range wantLines {
		if !strings.Contains(r.Console, w) {
			t.Errorf("console lacks %q\nconsole:\n%s", w, r.Console)
		}
	}
	// The wall clock must come from the platform, not a constant.
	m := regexp.MustCompile(`wall clock: (\S+)`).FindStringSubmatch(r.Console)
	if m == nil {
		t.Errorf("no wall clock line")
	} else if ts, err := time.Parse(time.RFC3339, m[1]); err != nil || time.Since(ts).Abs() > 10*time.Minute {
		t.Errorf("guest wall clock %s is not the host's time (%v)", m[1], time.Now().UTC())
	}
	t.Logf("%s: %.2fs\n%s", r.Outcome, r.Wall.Seconds(), r.Console)
}

func TestHelloQEMU(t *testing.T) {
	if err := runner.Missing(runner.QEMUPackages); err != nil {
		t.Skip(err)
	}
	r, err := runner.QEMU(context.Background(), runner.Options{Image: image(t), Args: testArgs, Timeout: 60 * time.Second})
	check(t, r, err)
}

// TestXen boots Xen once and runs three guests: the hello (output and
// exit status), a nil dereference, which must be reported with registers
// and end the domain as a crash, and a guest that hangs without a word,
// which the runner must boot once more (as it would a hung Xen boot) and
// then report as hung.
func TestXen(t *testing.T) {
	if testing.Short() {
		t.Skip("Xen under QEMU takes ~15s: skipped with -short")
	}
	if err := runner.XenMissing(); err != nil {
		t.Skip(err)
	}
	rs, err := runner.XenBatch(context.Background(), []runner.Options{
		{Image: image(t), Args: testArgs, Timeout: 90 * time.Second},
		{Image: image(t), Args: []string{"fault"}, Timeout: 60 * time.Second},
		{Image: image(t), Args: []string{"quiet-hang"}, Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("hello", func(t *testing.T) { check(t, rs[0], nil) })
	t.Run("fault", func(t *testing.T) {
		r := rs[1]
		if r.Outcome != runner.Crashed || !strings.Contains(r.Console, "anykernel: fault: vector 14 (page fault) in program") {
			t.Errorf("outcome %v, want crashed with a page fault report\n%s", r.Outcome, r.Console)
		}
	})
	t.Run("quiet-hang", func(t *testing.T) {
		r := rs[2]
		if r.Outcome != runner.Hung || !r.Retried || strings.TrimSpace(r.Console) != "" {
			t.Errorf("outcome %v, retried %v, want hung after a second boot\n%s", r.Outcome, r.Retried, r.Console)
		}
	})
}

// TestHangQEMU: a guest that never exits is reported as hung.
func TestHangQEMU(t *testing.T) {
	if err := runner.Missing(runner.QEMUPackages); err != nil {
		t.Skip(err)
	}
	r, err := runner.QEMU(context.Background(), runner.Options{Image: image(t), Args: []string{"--", "spin=1h"}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != runner.Hung || r.ExitCode() != 124 {
		t.Errorf("outcome %v (exit code %d), want hung (124)\n%s", r.Outcome, r.ExitCode(), r.Console)
	}
}

// TestSoak runs 60s of mixed goroutine, timer and allocation work under
// the shim and checks that it neither hangs nor faults. Set
// ANYKERNEL_SOAK=1 to run it (it is not part of the default test run).
func TestSoak(t *testing.T) {
	if os.Getenv("ANYKERNEL_SOAK") == "" {
		t.Skip("set ANYKERNEL_SOAK=1 to run the 60s soak test")
	}
	if err := runner.Missing(runner.QEMUPackages); err != nil {
		t.Skip(err)
	}
	r, err := runner.QEMU(context.Background(), runner.Options{
		Image: image(t), Args: []string{"shim.stats", "--", "churn=64", "spin=1s", "soak=60s"}, Timeout: 150 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != runner.Exited || r.Status != 0 {
		t.Fatalf("outcome %v status %d\n%s", r.Outcome, r.Status, r.Console)
	}
	if !strings.Contains(r.Console, "soak: 1m0s done, every worker progressed: true") {
		t.Errorf("soak did not finish cleanly\n%s", r.Console)
	}
	t.Logf("%.1fs\n%s", r.Wall.Seconds(), r.Console)
}
