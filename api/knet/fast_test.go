package knet

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Tests of the two ways a socket waits: Go's netpoller on the host kernel
// (host.go), and knet's own poller (poll.go), which other kernels use and
// which these tests run on the host kernel too (knetPoller).

// TestHostPath checks that host sockets wait in Go's netpoller: a ping-
// pong starts no knet poller and allocates nothing.
func TestHostPath(t *testing.T) {
	k := host(t)
	// The host Kernel is shared: a poller left by an earlier test in
	// knet's poller (-count, -shuffle) ends a second after its last
	// waiter, and must be gone before this test can tell.
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		pollers.Lock()
		p := pollers.m[k]
		pollers.Unlock()
		if p == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("a knet poller of the host kernel outlived its waiters by 10s")
		}
	}
	c, s := pair(t, k)
	if c.h == nil || s.h == nil {
		t.Fatal("a host Conn without the fast path")
	}
	l, err := Listen(k, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pc := listenPacket(t, k, "udp", "127.0.0.1:0")
	if l.h == nil || pc.h == nil {
		t.Fatal("a host Listener or PacketConn without the fast path")
	}
	testPingPongAllocs(t, c, s)
	pollers.Lock()
	p := pollers.m[k]
	pollers.Unlock()
	if p != nil {
		t.Error("the host kernel has a knet poller: some wait did not use Go's netpoller")
	}
}

// testPingPongAllocs bounces 64 bytes through an echo: both ends park on
// every round trip, and nothing may allocate.
func testPingPongAllocs(t *testing.T, c, s *Conn) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(s, s)
	}()
	defer func() {
		c.Close()
		<-done
	}()
	msg, buf := make([]byte, 64), make([]byte, 64)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	round := func() {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		round() // the waiters and timers are made once
	}
	if n := testing.AllocsPerRun(200, round); n != 0 {
		t.Errorf("%v allocations per round trip, want 0", n)
	}
}

// openFds counts the process's descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd (Linux's procfs) to count descriptors: %v", err)
	}
	return len(des)
}

// TestNoFdLeak opens and closes many sockets of every kind (each with its
// netpoller duplicate on the host) and counts descriptors before and after.
func TestNoFdLeak(t *testing.T) {
	t.Run("host", func(t *testing.T) { testNoFdLeak(t, host(t)) })
	t.Run("poller", func(t *testing.T) {
		knetPoller(t)
		testNoFdLeak(t, host(t))
	})
}

func testNoFdLeak(t *testing.T, k *api.Kernel) {
	warm, _ := pair(t, k) // Go's netpoller's own descriptors, made once
	warm.Close()
	before := openFds(t)
	for i := 0; i < 100; i++ {
		l, err := Listen(k, "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := l.AcceptConn()
			if err != nil {
				t.Error(err)
				return
			}
			s.Write([]byte("x"))
			s.Close()
		}()
		c, err := Dial(k, "tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if got, err := io.ReadAll(c); string(got) != "x" || err != nil {
			t.Fatalf("conversation %d: %q %v", i, got, err)
		}
		wg.Wait()
		c.Close()
		l.Close()
		pc, err := ListenPacket(k, "udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(time.Millisecond))
		pc.ReadFrom(make([]byte, 1)) // waits, then times out
		pc.Close()
	}
	// knet's poller closes its wake pipe a second after its last waiter.
	end := time.Now().Add(5 * time.Second)
	after := openFds(t)
	for after > before && time.Now().Before(end) {
		time.Sleep(50 * time.Millisecond)
		after = openFds(t)
	}
	if after > before {
		t.Errorf("%d descriptors before 100 conversations, %d after", before, after)
	}
	runtime.KeepAlive(warm)
}

// TestConnErrors checks errors that come back through api's calls: a
// reset connection, a write to it, both matching api's errnos.
func TestConnErrors(t *testing.T) {
	t.Run("host", func(t *testing.T) { testConnErrors(t, host(t)) })
	t.Run("poller", func(t *testing.T) {
		knetPoller(t)
		testConnErrors(t, host(t))
	})
}

func testConnErrors(t *testing.T, k *api.Kernel) {
	c, s := pair(t, k)
	// SO_LINGER 0: the close sends a reset.
	if err := s.Fd().SetLinger(api.Linger{OnOff: true}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the Read park
	s.Close()
	select {
	case err := <-errc:
		var oe *net.OpError
		if !errors.Is(err, api.ECONNRESET) || !errors.As(err, &oe) || oe.Op != "read" {
			t.Errorf("read of a reset connection: %v, want ECONNRESET in a *net.OpError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a reset did not end a pending Read")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, api.EPIPE) && !errors.Is(err, api.ECONNRESET) {
		t.Errorf("write to a reset connection: %v, want EPIPE", err)
	}
	// Close wakes a parked Write (a full connection) at once.
	c2, _ := pair(t, k)
	go func() {
		_, err := c2.Write(make([]byte, 64<<20))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c2.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("pending Write after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a pending Write")
	}
}

// TestKnetPoller runs the stream and datagram tests in knet's own poller
// on the host kernel, as on every other kernel.
func TestKnetPoller(t *testing.T) {
	knetPoller(t)
	k := host(t)
	t.Run("echo", func(t *testing.T) { testEcho(t, k, "127.0.0.1") })
	t.Run("deadlines", func(t *testing.T) { testDeadlines(t, k) })
	t.Run("close", func(t *testing.T) { testClose(t, k) })
	t.Run("many", func(t *testing.T) { testManyConns(t, k, "127.0.0.1", 50) })
	t.Run("http", func(t *testing.T) { testHTTP(t, k, k, "127.0.0.1", "127.0.0.1") })
	t.Run("packet-deadlines", func(t *testing.T) { testPacketDeadlines(t, k, "udp", "127.0.0.1:0") })
	t.Run("packet-concurrent-readers", func(t *testing.T) { testPacketConcurrentReaders(t, k, "udp", "127.0.0.1:0") })
	t.Run("dial", func(t *testing.T) { testPacketDial(t, k, "udp", "127.0.0.1", "127.0.0.1") })
	t.Run("allocs", func(t *testing.T) {
		c, s := pair(t, k)
		if c.h != nil {
			t.Fatal("knetPoller did not turn the fast path off")
		}
		testPingPongAllocs(t, c, s)
	})
}

// TestFdClosedDirectly: closing a Conn's Fd behind its back is safe now
// that every call goes through api's Fd (whose guard keeps the number
// until calls in flight return): later reads and writes fail with EBADF,
// a Read parked meanwhile ends with EBADF once the socket wakes it, and
// Close still succeeds.
func TestFdClosedDirectly(t *testing.T) {
	t.Run("host", func(t *testing.T) { testFdClosedDirectly(t, host(t)) })
	t.Run("poller", func(t *testing.T) {
		knetPoller(t)
		testFdClosedDirectly(t, host(t))
	})
}

func testFdClosedDirectly(t *testing.T, k *api.Kernel) {
	c, s := pair(t, k)
	defer s.Close()
	if err := c.Fd().Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, api.EBADF) {
		t.Errorf("Write after closing the Fd: %v, want EBADF", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, api.EBADF) {
		t.Errorf("Read after closing the Fd: %v, want EBADF", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after closing the Fd: %v", err)
	}

	// A Read parked when the Fd is closed.
	c, s = pair(t, k)
	defer s.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the Read park
	if err := c.Fd().Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, api.EBADF) {
		t.Errorf("parked Read after closing the Fd: %v, want EBADF", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after closing the Fd: %v", err)
	}
}
