// Package rumpserver runs a NetBSD rump kernel in its own process, a
// rump_server from buildrump.sh, for rump.Dial to reach. A crash of that
// kernel cannot take the Go program down, and several programs can share
// it. It is a package of its own so that programs that link only the rump
// kernel (examples/rump/nohost) do not link os/exec and net.
package rumpserver

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anykernel/anykernel/backend/rump"
)

// Server is a rump_server process started by Start, for rump.Dial to
// reach.
type Server struct {
	// URL is the address the server listens on, as rump.Dial takes it.
	URL string

	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	waitMu sync.Mutex
	err    error       // the process's exit status, once done
	stderr *tailBuffer // the end of what the server printed
}

// Start runs Prefix/bin/rump_server (Options.Prefix, else $RUMP_PREFIX)
// in the foreground with opts.Components, listening on url
// ("unix:///path" or "tcp://host:port"), and returns once the server
// accepts connections, so that rump.Dial(url) cannot race its start. The socket
// file of a unix:// URL appears when the server binds, before it listens:
// waiting for the file is not enough. Close stops the server.
//
// Only Components and Prefix of opts are used; timeout bounds the wait (0
// means 10 seconds).
func Start(url string, opts rump.Options, timeout time.Duration) (*Server, error) {
	network, addr, ok := strings.Cut(url, "://")
	if !ok || addr == "" || strings.IndexByte(url, 0) >= 0 || (network != "unix" && network != "tcp") {
		return nil, fmt.Errorf("rumpserver: url %q: want unix:///path or tcp://host:port", url)
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = os.Getenv("RUMP_PREFIX")
	}
	if prefix == "" {
		return nil, errors.New("rumpserver: " + rump.Unavailable)
	}
	bin := filepath.Join(prefix, "bin", "rump_server")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("rumpserver: %w (%s)", err, rump.Unavailable)
	}
	libs, err := rump.Libraries(opts.Components)
	if err != nil {
		return nil, err
	}
	// -s keeps the server in the foreground, so that Close ends it (by
	// default rump_server daemonizes and outlives its parent).
	args := []string{"-s"}
	for _, lib := range libs[1:] { // rump_server links librump.so itself
		args = append(args, "-l"+strings.TrimSuffix(strings.TrimPrefix(lib, "lib"), ".so"))
	}
	args = append(args, url)
	s := &Server{URL: url, done: make(chan struct{}), stderr: &tailBuffer{max: 4096}}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(prefix, "lib"))
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("rumpserver: rump_server: %w", err)
	}
	go func() {
		err := s.cmd.Wait()
		s.waitMu.Lock()
		s.err = err
		s.waitMu.Unlock()
		close(s.done)
	}()
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		probe, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			probe.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("rumpserver: rump_server exited before listening on %s: %v: %s", url, s.exitErr(), s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("rumpserver: rump_server not listening on %s after %v: %w: %s", url, timeout, err, s.stderr)
		}
	}
}

func (s *Server) exitErr() error {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	return s.err
}

// Close kills the server and waits for it to exit; a Kernel dialed to it
// fails with ENOTCONN from then on.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("rumpserver: stop rump_server: %w", err)
	}
	<-s.done
	return nil
}

// Output returns the end of what the server printed (at most 4 KiB).
func (s *Server) Output() string { return s.stderr.String() }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(bytes.TrimSpace(b.buf))
}
