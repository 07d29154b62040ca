//go:build rump && cgo

package rump

import (
	"errors"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/api"
)

// TestMountPtys opens a pseudo-terminal pair through /dev/ptmx with ptyfs
// on /dev/pts and passes a line through it.
func TestMountPtys(t *testing.T) {
	k := kernel(t)
	if err := MountPtys(k); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := Unmount(k, PtsDir, 0); err != nil {
			t.Error(err)
		}
	}()
	m, s, err := k.Openpty()
	if err != nil {
		t.Fatal(err)
	}
	// The master closes first: a last close of the slave waits (up to
	// seconds) for the master to read the echo still queued for it.
	defer s.Close()
	defer m.Close()
	name, err := m.Ptsname()
	if err != nil || !strings.HasPrefix(name, PtsDir+"/") {
		t.Fatalf("ptsname %q, %v: want a name under %s", name, err, PtsDir)
	}
	var st api.Stat
	if err := k.Stat(name, &st); err != nil || st.Mode.Type() != api.S_IFCHR {
		t.Fatalf("stat %s: %v, %v", name, st.Mode, err)
	}
	if _, err := m.Write([]byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	fds := []api.PollFd{{Fd: s, Events: api.POLLIN}}
	if r, err := k.Poll(fds, 2000); err != nil || r != 1 {
		t.Fatalf("poll slave: %d, %v", r, err)
	}
	n, err := s.Read(buf)
	if err != nil || string(buf[:n]) != "hi\n" {
		t.Fatalf("slave read %q, %v", buf[:n], err)
	}
	if err := MountPtyfs(k, "/nonexistent/dir", 0, PtyfsArgs{}); !errors.Is(err, api.ENOENT) {
		t.Errorf("ptyfs on a missing directory: %v, want ENOENT", err)
	}
}
