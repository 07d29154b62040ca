package rumpserver

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anykernel/anykernel/backend/rump"
)

// TestStartErrors: bad URLs, a missing rump_server, bad components and a
// server that cannot listen are errors that say so, not hangs.
func TestStartErrors(t *testing.T) {
	for _, url := range []string{"", "nourl", "udp://x", "unix://", "unix:///a\x00b"} {
		if _, err := Start(url, rump.Options{Prefix: "/nonexistent"}, 0); err == nil || !strings.Contains(err.Error(), "want unix") {
			t.Errorf("Start(%q): %v", url, err)
		}
	}
	if _, err := Start("unix:///tmp/x.sock", rump.Options{Prefix: "/nonexistent"}, 0); err == nil || !strings.Contains(err.Error(), "buildrump.sh") {
		t.Errorf("Start without rump_server: %v", err)
	}
	t.Run("rump_server", testStartErrors)
}

func testStartErrors(t *testing.T) {
	if os.Getenv("RUMP_PREFIX") == "" {
		t.Skip("RUMP_PREFIX unset: " + rump.Unavailable)
	}
	if _, err := Start("unix:///tmp/x.sock", rump.Options{Components: []string{"bogus"}}, 0); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("Start with a bad component: %v", err)
	}
	// A server that cannot bind exits; Start says so instead of
	// waiting out its timeout.
	_, err := Start("unix:///nonexistent-dir/x.sock", rump.Options{Components: []string{"vfs"}}, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Errorf("Start on an unbindable socket: %v", err)
	}
}
