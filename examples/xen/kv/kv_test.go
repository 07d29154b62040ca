package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
func image(t *testing.T) string {
	t.Helper()
	imgOnce.Do(func() {
		imgDir, imgErr = os.MkdirTemp("", "kv-image-")
		if imgErr != nil {
			return
		}
		imgPath = filepath.Join(imgDir, "kv.elf")
		imgErr = pvh.BuildPackage(".", ".", imgPath)
	})
	if imgErr != nil {
		t.Fatalf("building the image: %v", imgErr)
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

func noXen(t *testing.T, status int, console string) {
	t.Helper()
	if status != exitNoXen || !strings.Contains(console, "kv: no Xen here") {
		t.Errorf("status %d, want %d and the no-Xen message\n%s", status, exitNoXen, console)
	}
}

// TestKVXen boots Xen once with two kv guests (g00, domain 1, with the
// default key; g01, domain 2, with keys of its own) and checks that each
// printed its own name and id and read its keys back.
func TestKVXen(t *testing.T) {
	if testing.Short() {
		t.Skip("Xen under QEMU takes ~15s: skipped with -short")
	}
	if err := runner.XenMissing(); err != nil {
		t.Skip("examples/xen/kv:", err)
	}
	img := image(t)
	rs, err := runner.XenBatch(context.Background(), []runner.Options{
		{Image: img, Timeout: 60 * time.Second},
		{Image: img, Args: []string{"--", "color=blue", "greeting=two words"}, Timeout: 60 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"name = g00\n", "domid = 1\n", "home /local/domain/1\n", `data/kv-example = "hello from g00" (written and read back)`},
		{"name = g01\n", "domid = 2\n", "home /local/domain/2\n", `data/color = "blue" (written and read back)`,
			`data/greeting = "two words" (written and read back)`, "data/ holds color greeting\n"},
	}
	for i, r := range rs {
		t.Run(fmt.Sprintf("g%02d", i), func(t *testing.T) {
			t.Logf("%s after %.1fs:\n%s", r.Outcome, r.Wall.Seconds(), r.Console)
			if r.Outcome != runner.Exited || r.Status != 0 {
				t.Errorf("outcome %v status %d, want exit status 0", r.Outcome, r.Status)
			}
			for _, w := range want[i] {
				if !strings.Contains(r.Console, w) {
					t.Errorf("console lacks %q", w)
				}
			}
		})
	}
}

// TestKVQEMU: under QEMU microvm there is no Xen.
func TestKVQEMU(t *testing.T) {
	if err := runner.Missing(runner.QEMUPackages); err != nil {
		t.Skip("examples/xen/kv:", err)
	}
	r, err := runner.QEMU(context.Background(), runner.Options{Image: image(t), Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != runner.Exited {
		t.Fatalf("outcome %v\n%s", r.Outcome, r.Console)
	}
	noXen(t, r.Status, r.Console)
}

// TestKVHost: as an ordinary process there is no Xen either.
func TestKVHost(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("kv as a process: %v, want exit status %d\n%s", err, exitNoXen, out)
	}
	noXen(t, ee.ExitCode(), string(out))
}
