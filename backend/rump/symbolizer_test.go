//go:build rump && cgo

package rump

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCrashShowsCFrames crashes a child inside the rump kernel and checks
// that its traceback shows the rump kernel's C frames.
func TestCrashShowsCFrames(t *testing.T) {
	if os.Getenv("ANYK_RUMP_CRASH") == "1" {
		kernel(t)
		crashForTest()
		return
	}
	if os.Getenv("RUMP_PREFIX") == "" {
		t.Skip("RUMP_PREFIX unset: " + Unavailable)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashShowsCFrames$")
	cmd.Env = append(os.Environ(), "ANYK_RUMP_CRASH=1", "GOTRACEBACK=crash")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child did not crash:\n%s", out)
	}
	if !strings.Contains(string(out), "non-Go function") || !strings.Contains(string(out), "librumpvfs.so") {
		t.Errorf("no rump kernel frame in the crash:\n%s", out)
	}
}
