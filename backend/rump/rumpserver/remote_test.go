//go:build rump && cgo

package rumpserver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/rump"
)

// startServer runs rump_server on a Unix socket in a temporary directory.
func startServer(t *testing.T) *Server {
	t.Helper()
	if os.Getenv("RUMP_PREFIX") == "" {
		t.Skip("RUMP_PREFIX unset: " + rump.Unavailable)
	}
	srv, err := Start("unix://"+filepath.Join(t.TempDir(), "rump.sock"),
		rump.Options{Components: []string{"vfs", "fs.tmpfs"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// localKernel boots the rump kernel in this process.
func localKernel(t *testing.T) *api.Kernel {
	k, err := rump.New(rump.Options{Components: []string{"vfs", "fs.tmpfs"}})
	if err != nil && strings.Contains(err.Error(), "buildrump.sh") {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRemote drives a rump_server through librumpclient: its own process,
// file systems mounted and used through syscalls, and a clean error, not a
// crash, once the server is gone. librumpclient allows one connection per
// process, so this is the package's only test that dials.
func TestRemote(t *testing.T) {
	local := localKernel(t) // the local kernel coexists with the remote one
	srv := startServer(t)
	url := srv.URL
	k, err := rump.Dial(url)
	if err != nil && strings.Contains(err.Error(), "one connection per process") {
		t.Skipf("a previous run used this process's connection: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if k.Name() != "rump-remote" || !k.Backend().(*rump.Backend).Remote() {
		t.Errorf("remote kernel named %s", k.Name())
	}
	if pid := k.Getpid(); pid <= 0 {
		t.Errorf("remote getpid = %d", pid)
	}
	if err := k.Mkdir("/r", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rump.MountTmpfs(k, "/r", 0, rump.TmpfsArgs{}); err != nil {
		t.Fatal(err)
	}
	f, err := k.Open("/r/file", api.O_RDWR|api.O_CREAT, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	var big [300]byte // a stack buffer, copied out by the server
	for i := range big {
		big[i] = byte(i)
	}
	if n, err := f.Write(big[:]); err != nil || n != len(big) {
		t.Fatalf("remote write: %d %v", n, err)
	}
	var back [300]byte
	if n, err := f.ReadAt(back[:], 0); err != nil || n != len(back) || back != big {
		t.Fatalf("remote read: %d %v", n, err)
	}
	var st api.Stat
	if err := f.Stat(&st); err != nil || st.Size != 300 {
		t.Errorf("remote fstat: %+v %v", st, err)
	}
	// The local kernel does not see the remote file system.
	if err := local.Stat("/r/file", &st); !errors.Is(err, api.ENOENT) {
		t.Errorf("local kernel sees the remote file: %v", err)
	}

	if k2, err := rump.Dial(url); err != nil || k2 != k {
		t.Errorf("second Dial of the same URL: %v", err)
	}
	if _, err := rump.Dial("unix:///elsewhere"); err == nil {
		t.Error("Dial of a second server: no error")
	}
	if _, err := rump.Dial("nourl"); !errors.Is(err, api.EINVAL) {
		t.Errorf("Dial without a scheme: %v", err)
	}
	if _, err := rump.Rfork(k, rump.RFCFDG); !errors.Is(err, api.ENOTSUP) {
		t.Errorf("Rfork of a remote kernel: %v", err)
	}

	// The server dies: calls fail, the program lives.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := k.Open("/r/file", api.O_RDONLY, 0)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("open on a dead server succeeded")
		} else {
			t.Logf("after the server died: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a call on a dead server hangs")
	}
}
