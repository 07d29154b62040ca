//go:build rump && cgo

package rump

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

// startServer runs $RUMP_PREFIX/bin/rump_server in the foreground on a
// Unix socket in a temporary directory and returns its URL.
func startServer(t *testing.T) (string, *exec.Cmd) {
	t.Helper()
	prefix := os.Getenv("RUMP_PREFIX")
	if prefix == "" {
		t.Skip("RUMP_PREFIX unset: " + Unavailable)
	}
	srv := filepath.Join(prefix, "bin", "rump_server")
	if _, err := os.Stat(srv); err != nil {
		t.Skipf("no rump_server: %v", err)
	}
	sock := filepath.Join(t.TempDir(), "rump.sock")
	cmd := exec.Command(srv, "-s", "-lrumpvfs", "-lrumpfs_tmpfs", "unix://"+sock)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(prefix, "lib"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rump_server did not create its socket")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "unix://" + sock, cmd
}

// TestRemote drives a rump_server through librumpclient: its own process,
// file systems mounted and used through syscalls, and a clean error, not a
// crash, once the server is gone. librumpclient allows one connection per
// process, so this is the package's only remote test.
func TestRemote(t *testing.T) {
	kernel(t) // the local kernel coexists with the remote one
	url, srv := startServer(t)
	k, err := Dial(url)
	if err != nil && strings.Contains(err.Error(), "one connection per process") {
		t.Skipf("a previous run used this process's connection: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if k.Name() != "rump-remote" || !k.Backend().(*Backend).Remote() {
		t.Errorf("remote kernel named %s", k.Name())
	}
	if pid := k.Getpid(); pid <= 0 {
		t.Errorf("remote getpid = %d", pid)
	}
	if err := k.Mkdir("/r", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := MountTmpfs(k, "/r", 0, TmpfsArgs{}); err != nil {
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
	local := kernel(t)
	if err := local.Stat("/r/file", &st); !errors.Is(err, api.ENOENT) {
		t.Errorf("local kernel sees the remote file: %v", err)
	}

	if k2, err := Dial(url); err != nil || k2 != k {
		t.Errorf("second Dial of the same URL: %v", err)
	}
	if _, err := Dial("unix:///elsewhere"); err == nil {
		t.Error("Dial of a second server: no error")
	}
	if _, err := Dial("nourl"); !errors.Is(err, api.EINVAL) {
		t.Errorf("Dial without a scheme: %v", err)
	}
	if _, err := Rfork(k, RFCFDG); !errors.Is(err, api.ENOTSUP) {
		t.Errorf("Rfork of a remote kernel: %v", err)
	}

	// The server dies: calls fail, the program lives.
	srv.Process.Kill()
	srv.Wait()
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
