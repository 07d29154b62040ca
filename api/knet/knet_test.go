package knet

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// The tests run on the host kernel through the native backend; the same
// code runs on a rump kernel in rump_test.go (-tags rump).

func host(t testing.TB) *api.Kernel {
	t.Helper()
	k, err := native.New()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pair returns the two ends of a TCP connection through k.
func pair(t testing.TB, k *api.Kernel) (client, server *Conn) {
	t.Helper()
	l, err := Listen(k, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.AcceptConn()
		ch <- res{c, err}
	}()
	c, err := Dial(k, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { c.Close(); r.c.Close() })
	return c, r.c
}

func TestEcho(t *testing.T) {
	testEcho(t, host(t), "127.0.0.1")
}

// testEcho checks addresses, both directions, CloseWrite and EOF.
func testEcho(t *testing.T, k *api.Kernel, ip string) {
	l, err := Listen(k, "tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	la, ok := l.Addr().(*net.TCPAddr)
	if !ok || la.Port == 0 || la.IP.String() != ip {
		t.Fatalf("listener address %v", l.Addr())
	}
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(c, c) // echo until the client's CloseWrite
		done <- err
	}()
	c, err := Dial(k, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ra := c.RemoteAddr().(*net.TCPAddr); ra.Port != la.Port {
		t.Errorf("remote address %v, listener %v", ra, la)
	}
	if lo, ok := c.LocalAddr().(*net.TCPAddr); !ok || lo.Port == 0 || lo.Port == la.Port {
		t.Errorf("local address %v", c.LocalAddr())
	}
	msg := make([]byte, 1<<20) // more than socket buffers: both sides must wait
	rand.Read(msg)
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		if err == nil {
			err = c.CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echoed %d bytes, sent %d", len(got), len(msg))
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestHTTP(t *testing.T) {
	k := host(t)
	testHTTP(t, k, k, "127.0.0.1", "127.0.0.1")
}

// testHTTP serves HTTP in server's stack on ip and makes requests from
// client's stack, whose address is clientIP: several on one kept-alive connection (each ends with
// net/http's abortPendingRead, which needs a prompt deadline), one
// streamed, one after the server closed.
func testHTTP(t *testing.T, server, client *api.Kernel, ip, clientIP string) {
	l, err := Listen(server, "tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s to %s", server.Name(), r.RemoteAddr)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("0123456789abcdef"), 1<<16))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	tr := &http.Transport{DialContext: (&Dialer{Kernel: client, Timeout: 5 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "http://" + l.Addr().String()
	start := time.Now()
	const n = 20
	for i := 0; i < n; i++ {
		resp, err := hc.Get(url + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(body), "hello from "+server.Name()+" to "+clientIP+":") {
			t.Fatalf("GET /hello: %v %d %q", err, resp.StatusCode, body)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%d requests took %v: something waits for a timeout", n, d)
	} else {
		t.Logf("%d keep-alive requests in %v", n, d)
	}
	resp, err := hc.Get(url + "/big")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(body) != 16<<16 {
		t.Fatalf("GET /big: %d bytes, %v", len(body), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	tr.CloseIdleConnections()
	if _, err := hc.Get(url + "/hello"); err == nil {
		t.Fatal("GET after Shutdown succeeded")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
}

func TestDeadlines(t *testing.T) {
	testDeadlines(t, host(t))
}

func testDeadlines(t *testing.T, k *api.Kernel) {
	c, s := pair(t, k)
	buf := make([]byte, 10)

	// A deadline in the future ends a read with nothing to read.
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err := c.Read(buf)
	if d := time.Since(start); !isTimeout(err) || d < 40*time.Millisecond || d > 2*time.Second {
		t.Fatalf("read with a 50ms deadline: %v after %v", err, d)
	}
	// A past deadline fails at once, even with data waiting.
	s.Write([]byte("x"))
	time.Sleep(20 * time.Millisecond)
	if _, err := c.Read(buf); !isTimeout(err) {
		t.Fatalf("read after the deadline: %v", err)
	}
	// Cleared, the data is there.
	c.SetReadDeadline(time.Time{})
	if n, err := c.Read(buf); n != 1 || err != nil {
		t.Fatalf("read after clearing the deadline: %d %v", n, err)
	}

	// A deadline set while a read waits reaches it at once.
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start = time.Now()
	c.SetReadDeadline(time.Now().Add(-time.Second))
	select {
	case err := <-errc:
		if !isTimeout(err) {
			t.Fatalf("pending read after SetReadDeadline(past): %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("the pending read took %v to notice", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a pending read ignored SetReadDeadline")
	}
	c.SetReadDeadline(time.Time{})

	// A deadline extended while a read waits: the read waits on.
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	go func() {
		_, err := c.Read(buf)
		errc <- err
	}()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	start = time.Now()
	if err := <-errc; !isTimeout(err) || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("extended deadline: %v after %v", err, time.Since(start))
	}
	c.SetReadDeadline(time.Time{})

	// Writes block once the buffers are full; the write deadline ends
	// them with what was written. (The buffer is made first: its 64MB
	// can cost a GC cycle, which on a loaded machine may outlast the
	// deadline before the Write starts.)
	big := make([]byte, 64<<20)
	c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	n, err := c.Write(big)
	if !isTimeout(err) || n <= 0 || n >= len(big) {
		t.Fatalf("write into a full connection: %d %v", n, err)
	}
	c.SetWriteDeadline(time.Time{})
}

func TestClose(t *testing.T) {
	testClose(t, host(t))
}

func testClose(t *testing.T, k *api.Kernel) {
	c, s := pair(t, k)
	errc := make(chan error, 2)
	go func() {
		_, err := c.Read(make([]byte, 1))
		errc <- err
	}()
	l, err := Listen(k, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := l.Accept()
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	l.Close()
	for i := 0; i < 2; i++ {
		select {
		case err := <-errc:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("pending call after Close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not end a pending call")
		}
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := c.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetDeadline after Close: %v", err)
	}
	// The peer sees the end of the stream.
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("peer read after Close: %v", err)
	}
	// The port is free again: the listening socket really closed.
	l2, err := Listen(k, "tcp", l.Addr().String())
	if err != nil {
		t.Errorf("listen again on a closed listener's port: %v", err)
	} else {
		l2.Close()
	}
}

func TestAcceptDeadline(t *testing.T) {
	l, err := Listen(host(t), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := l.Accept(); !isTimeout(err) {
		t.Fatalf("accept with a deadline: %v", err)
	}
}

func TestManyConns(t *testing.T) {
	testManyConns(t, host(t), "127.0.0.1", 50)
}

// testManyConns runs n echo conversations at once: the poller juggles
// every descriptor.
func testManyConns(t *testing.T, k *api.Kernel, ip string, n int) {
	testConversations(t, k, k, ip, n, 100000, 20*time.Second)
}

// testConversations runs n echo conversations at once, each of about size
// bytes within timeout, with the server in one kernel and the clients in
// another (or the same).
func testConversations(t *testing.T, server, client *api.Kernel, ip string, n, size int, timeout time.Duration) {
	l, err := Listen(server, "tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(client, "tcp", l.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(timeout))
			msg := bytes.Repeat([]byte{byte(i)}, size+i)
			go c.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				errs <- fmt.Errorf("conversation %d: %w", i, err)
				return
			}
			if !bytes.Equal(got, msg) {
				errs <- fmt.Errorf("conversation %d: wrong bytes", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDialErrors(t *testing.T) {
	k := host(t)
	l, err := Listen(k, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if _, err := Dial(k, "tcp", addr); !errors.Is(err, api.ECONNREFUSED) {
		t.Errorf("dial a closed port: %v", err)
	}
	var oe *net.OpError
	for _, c := range []struct{ network, addr string }{
		{"tcp", "127.0.0.1"}, {"tcp", "example.com:80"}, {"tcp", "127.0.0.1:http"},
		{"tcp4", "[::1]:80"}, {"tcp6", "127.0.0.1:80"}, {"sctp", "127.0.0.1:80"}, {"udp", "127.0.0.1"},
		{"udp6", "127.0.0.1:53"}, {"unix", ""}, {"unixgram", ""},
	} {
		if _, err := Dial(k, c.network, c.addr); err == nil || !errors.As(err, &oe) {
			t.Errorf("Dial(%q, %q): %v, want a *net.OpError", c.network, c.addr, err)
		}
	}
	if _, err := Listen(nil, "tcp", ":0"); err == nil {
		t.Error("Listen on a nil Kernel: no error")
	}
	if _, err := (&Dialer{}).Dial("tcp", addr); err == nil {
		t.Error("Dialer without a Kernel: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := &Dialer{Kernel: k}
	live, err := Listen(k, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if c, err := d.DialContext(ctx, "tcp", live.Addr().String()); !errors.Is(err, context.Canceled) || c != nil {
		t.Errorf("dial with a cancelled context: %v", err)
	}
	if _, err := NewConn(nil, "tcp"); err == nil {
		t.Error("NewConn(nil): no error")
	}
}

func TestUnix(t *testing.T) {
	k := host(t)
	path := filepath.Join(t.TempDir(), "s")
	l, err := Listen(k, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("over unix"))
			c.Close()
		}
	}()
	c, err := Dial(k, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	c.Close()
	if string(got) != "over unix" || err != nil {
		t.Fatalf("read %q %v", got, err)
	}
	if ua, ok := l.Addr().(*net.UnixAddr); !ok || ua.Name != path {
		t.Errorf("unix listener address %v", l.Addr())
	}
	l.Close()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Close: %v", err)
	}
}

// TestNewConn adopts a socket made with api calls.
func TestNewConn(t *testing.T) {
	k := host(t)
	a, b, err := k.Socketpair(api.AF_UNIX, api.SOCK_STREAM, api.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewConn(a, "unix")
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	cb, err := NewConn(b, "unix")
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	go ca.Write([]byte("pair"))
	buf := make([]byte, 4)
	cb.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(cb, buf); err != nil || string(buf) != "pair" {
		t.Fatalf("%q %v", buf, err)
	}
	if ca.Fd() != a {
		t.Error("Fd does not return the adopted socket")
	}
}

// TestPollerEnds checks that an idle Kernel's poller ends and lets the
// Kernel go.
func TestPollerEnds(t *testing.T) {
	knetPoller(t) // host sockets wait in Go's netpoller otherwise
	k := host(t)
	c, _ := pair(t, k)
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	c.Read(make([]byte, 1)) // starts k's poller
	deadline := time.Now().Add(5 * time.Second)
	for {
		pollers.Lock()
		p := pollers.m[k]
		pollers.Unlock()
		if p == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the poller of an idle Kernel is still there")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
