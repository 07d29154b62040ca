package knet

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Datagram tests: each runs on the host kernel here and on a rump kernel
// in rump_test.go (-tags rump).

// datagramBuf is what the tests ask of the socket buffers: NetBSD's
// defaults are too small for 64 KiB datagrams (Linux caps it at its own
// maximum, which is enough).
const datagramBuf = 200000

// listenPacket is ListenPacket with large buffers, closed at the end
// (and its file removed: a "unixgram" socket's stays after Close).
func listenPacket(t testing.TB, k *api.Kernel, network, address string) *PacketConn {
	t.Helper()
	c, err := ListenPacket(k, network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if network == "unixgram" && !strings.HasPrefix(address, "@") {
			k.Unlink(address)
		}
	})
	growBuffers(t, c.Fd())
	return c
}

func growBuffers(t testing.TB, fd *api.Fd) {
	t.Helper()
	if err := fd.SetSndBuf(datagramBuf); err != nil {
		t.Fatal(err)
	}
	if err := fd.SetRcvBuf(datagramBuf); err != nil {
		t.Fatal(err)
	}
}

// echoPackets answers every datagram to its sender until c is closed.
func echoPackets(c *PacketConn) {
	buf := make([]byte, 1<<17)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		if from != nil {
			c.WriteTo(buf[:n], from)
		}
	}
}

// maxUDP is the largest UDP payload over IPv4 (65535 - 20 - 8) and IPv6
// (65535 - 8: the IPv6 payload length excludes its header).
func maxUDP(ip string) int {
	if strings.Contains(ip, ":") {
		return 65527
	}
	return 65507
}

func TestPacketEcho(t *testing.T) {
	k := host(t)
	t.Run("udp4", func(t *testing.T) { testPacketEcho(t, k, "udp4", "127.0.0.1:0", "127.0.0.1:0", maxUDP("127.0.0.1")) })
	t.Run("udp6", func(t *testing.T) { testPacketEcho(t, k, "udp6", "[::1]:0", "[::1]:0", maxUDP("::1")) })
	t.Run("unixgram", func(t *testing.T) {
		dir := t.TempDir()
		testPacketEcho(t, k, "unixgram", filepath.Join(dir, "srv"), filepath.Join(dir, "cli"), 100000)
	})
}

// testPacketEcho sends datagrams of many sizes, 0 to max bytes, to an
// echo server, one at a time (UDP may drop what overflows a queue), and
// checks every payload, its length and its sender; then a burst of small
// ones read back one by one: a datagram socket keeps boundaries.
func testPacketEcho(t *testing.T, k *api.Kernel, network, srvAddr, cliAddr string, max int) {
	srv := listenPacket(t, k, network, srvAddr)
	cli := listenPacket(t, k, network, cliAddr)
	go echoPackets(srv)
	sa := srv.LocalAddr()
	if sa == nil || cli.LocalAddr() == nil {
		t.Fatalf("local addresses %v %v", sa, cli.LocalAddr())
	}
	if ua, ok := sa.(*net.UDPAddr); ok && ua.Port == 0 {
		t.Fatalf("server address %v: no port chosen", sa)
	}
	if sa.Network() != strings.TrimRight(network, "46") && sa.Network() != network {
		t.Errorf("server address network %q, want %q", sa.Network(), network)
	}
	cli.SetDeadline(time.Now().Add(30 * time.Second))
	sizes := []int{0, 1, 2, 3, 7, 100, 512, 1024, 1472, 1473, 4096, 8192, 9216, 9217, 16384, 32768, 40000, 65000, max}
	buf := make([]byte, max+100)
	for i, size := range sizes {
		if size > max {
			continue
		}
		msg := make([]byte, size)
		rand.Read(msg)
		if n, err := cli.WriteTo(msg, sa); err != nil || n != size {
			t.Fatalf("WriteTo %d bytes: %d %v", size, n, err)
		}
		n, from, err := cli.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d (%d bytes): %v", i, size, err)
		}
		if n != size || !bytes.Equal(buf[:n], msg) {
			t.Fatalf("datagram %d: sent %d bytes, echoed %d, same bytes %v", i, size, n, bytes.Equal(buf[:n], msg))
		}
		if from == nil || from.String() != sa.String() {
			t.Fatalf("datagram %d from %v, want %v", i, from, sa)
		}
	}
	// A burst: boundaries kept, order kept (one path, no loss at these
	// sizes), empty datagrams included.
	burst := []string{"one", "", "three33", "x", strings.Repeat("z", 3000), ""}
	for _, m := range burst {
		if _, err := cli.WriteTo([]byte(m), sa); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range burst {
		n, _, err := cli.ReadFrom(buf)
		if err != nil || string(buf[:n]) != m {
			t.Fatalf("burst datagram %d: %d bytes %v, want %d bytes", i, n, err, len(m))
		}
	}
}

func TestPacketTruncate(t *testing.T) {
	testPacketTruncate(t, host(t), "udp", "127.0.0.1:0")
}

// testPacketTruncate: a datagram longer than the buffer is cut without an
// error, and its rest does not come with the next read; an empty buffer
// takes one datagram.
func testPacketTruncate(t *testing.T, k *api.Kernel, network, addr string) {
	a := listenPacket(t, k, network, addr)
	b := listenPacket(t, k, network, addr)
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, m := range []string{"0123456789abcdef", "skipped", "next"} {
		if _, err := a.WriteTo([]byte(m), b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	small := make([]byte, 10)
	n, from, err := b.ReadFrom(small)
	if err != nil || n != 10 || string(small) != "0123456789" || from.String() != a.LocalAddr().String() {
		t.Fatalf("truncated read: %d %q %v %v", n, small[:n], from, err)
	}
	if n, _, err := b.ReadFrom(nil); err != nil || n != 0 {
		t.Fatalf("read into an empty buffer: %d %v", n, err)
	}
	n, _, err = b.ReadFrom(small)
	if err != nil || string(small[:n]) != "next" {
		t.Fatalf("read after truncation: %q %v (the empty read should have taken \"skipped\")", small[:n], err)
	}
}

func TestPacketDeadlines(t *testing.T) {
	testPacketDeadlines(t, host(t), "udp", "127.0.0.1:0")
}

func testPacketDeadlines(t *testing.T, k *api.Kernel, network, addr string) {
	a := listenPacket(t, k, network, addr)
	b := listenPacket(t, k, network, addr)
	buf := make([]byte, 64)

	// A deadline in the future ends a read with nothing to read.
	dl := time.Now().Add(50 * time.Millisecond)
	b.SetReadDeadline(dl)
	if _, _, err := b.ReadFrom(buf); !isTimeout(err) || time.Now().Before(dl) {
		t.Fatalf("read with a 50ms deadline: %v (returned before the deadline: %v)", err, time.Now().Before(dl))
	}
	// A past deadline fails at once, even with a datagram waiting.
	if _, err := a.WriteTo([]byte("x"), b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	b.SetReadDeadline(time.Now().Add(-time.Second))
	if _, _, err := b.ReadFromUDPAddrPort(buf); !isTimeout(err) {
		t.Fatalf("read past the deadline: %v", err)
	}
	// Cleared, the datagram is there.
	b.SetReadDeadline(time.Time{})
	if n, _, err := b.ReadFrom(buf); n != 1 || err != nil {
		t.Fatalf("read after clearing the deadline: %d %v", n, err)
	}

	// A deadline set in the past while a read waits reaches it.
	errc := make(chan error, 1)
	go func() {
		_, _, err := b.ReadFrom(buf)
		errc <- err
	}()
	time.Sleep(30 * time.Millisecond)
	b.SetReadDeadline(time.Now().Add(-time.Second))
	select {
	case err := <-errc:
		if !isTimeout(err) {
			t.Fatalf("pending read after SetReadDeadline(past): %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a pending read ignored SetReadDeadline")
	}

	// A deadline extended while a read waits: the read waits on, to the
	// new deadline (never returning before it).
	b.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	go func() {
		_, _, err := b.ReadFrom(buf)
		errc <- err
	}()
	later := time.Now().Add(300 * time.Millisecond)
	b.SetReadDeadline(later)
	if err := <-errc; !isTimeout(err) || time.Now().Before(later) {
		t.Fatalf("extended deadline: %v, returned before the new deadline: %v", err, time.Now().Before(later))
	}
	// And extended while it waits, a datagram still arrives.
	b.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	go func() {
		_, _, err := b.ReadFrom(buf)
		errc <- err
	}()
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	time.Sleep(60 * time.Millisecond)
	if _, err := a.WriteTo([]byte("late"), b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("read under an extended deadline: %v", err)
	}
	b.SetReadDeadline(time.Time{})

	// A past write deadline fails a write at once.
	a.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := a.WriteTo([]byte("x"), b.LocalAddr()); !isTimeout(err) {
		t.Fatalf("write past the deadline: %v", err)
	}
	a.SetWriteDeadline(time.Time{})

	// Close wakes a parked ReadFrom at once, with net.ErrClosed.
	go func() {
		_, _, err := b.ReadFrom(buf)
		errc <- err
	}()
	time.Sleep(30 * time.Millisecond)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("pending ReadFrom after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a pending ReadFrom")
	}
	// After Close everything is net.ErrClosed.
	if err := b.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := b.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadFrom after Close: %v", err)
	}
	if _, err := b.WriteTo(buf, a.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteTo after Close: %v", err)
	}
	if err := b.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetDeadline after Close: %v", err)
	}
	// The port is free again: the socket really closed.
	again, err := ListenPacket(k, network, b.LocalAddr().String())
	if err != nil {
		t.Errorf("bind a closed socket's port again: %v", err)
	} else {
		again.Close()
	}
}

func TestPacketBadInput(t *testing.T) {
	k := host(t)
	udp := listenPacket(t, k, "udp4", "127.0.0.1:0")
	ug := listenPacket(t, k, "unixgram", filepath.Join(t.TempDir(), "s"))
	testPacketBadInput(t, k, udp, ug)
	// Zones are interface indexes: names are the kernel's, not the host's.
	udp6 := listenPacket(t, k, "udp6", "[::1]:0")
	zoned := &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 53, Zone: "eth0"}
	if _, err := udp6.WriteTo([]byte("x"), zoned); !errors.Is(err, api.EINVAL) || !strings.Contains(err.Error(), "numeric interface index") {
		t.Errorf("WriteTo a zone name: %v", err)
	}
}

// testPacketBadInput: addresses WriteTo cannot take are errors that match
// EINVAL and say what is wrong; nothing panics or blocks.
func testPacketBadInput(t *testing.T, k *api.Kernel, udp, ug *PacketConn) {
	msg := []byte("x")
	for _, c := range []struct {
		pc   *PacketConn
		addr net.Addr
		says string
	}{
		{udp, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, "*net.TCPAddr"},
		{udp, &net.UnixAddr{Name: "/x", Net: "unixgram"}, "*net.UnixAddr"},
		{udp, nil, "nil"},
		{udp, (*net.UDPAddr)(nil), "nil"},
		{udp, &net.UDPAddr{Port: 53}, "no IP address"},
		{udp, &net.UDPAddr{IP: net.ParseIP("::1"), Port: 53}, "IPv6 address on an IPv4 socket"},
		{ug, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, "*net.UnixAddr"},
		{ug, &net.UnixAddr{Name: "/" + strings.Repeat("y", 200), Net: "unixgram"}, ""},
	} {
		n, err := c.pc.WriteTo(msg, c.addr)
		var oe *net.OpError
		if n != 0 || !errors.Is(err, api.EINVAL) || !errors.As(err, &oe) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s WriteTo(%#v): %d %v; want an EINVAL *net.OpError saying %q", c.pc.network, c.addr, n, err, c.says)
		}
	}
	for _, ap := range []netip.AddrPort{{}, netip.MustParseAddrPort("[::1]:53")} {
		if _, err := udp.WriteToUDPAddrPort(msg, ap); !errors.Is(err, api.EINVAL) {
			t.Errorf("WriteToUDPAddrPort(%v) on udp4: %v", ap, err)
		}
	}
	if _, err := udp.WriteToUDP(msg, nil); !errors.Is(err, api.EINVAL) {
		t.Errorf("WriteToUDP(nil): %v", err)
	}
	if _, _, err := ug.ReadFromUDPAddrPort(msg); !errors.Is(err, api.EINVAL) {
		t.Errorf("ReadFromUDPAddrPort on unixgram: %v", err)
	}
	if _, err := ug.WriteToUDPAddrPort(msg, netip.MustParseAddrPort("127.0.0.1:1")); !errors.Is(err, api.EINVAL) {
		t.Errorf("WriteToUDPAddrPort on unixgram: %v", err)
	}
	for _, c := range []struct{ network, addr string }{
		{"tcp", "127.0.0.1:0"}, {"unix", "/tmp/x"}, {"udp", "example.com:53"}, {"udp", "127.0.0.1:domain"},
		{"udp", "127.0.0.1"}, {"udp4", "[::1]:0"}, {"udp6", "127.0.0.1:0"}, {"ip", "127.0.0.1"}, {"unixgram", "/a\x00b"},
	} {
		if pc, err := ListenPacket(k, c.network, c.addr); err == nil {
			pc.Close()
			t.Errorf("ListenPacket(%q, %q): no error", c.network, c.addr)
		}
	}
	if _, err := ListenPacket(nil, "udp", ":0"); err == nil {
		t.Error("ListenPacket on a nil Kernel: no error")
	}
	if _, err := Listen(k, "udp", "127.0.0.1:0"); err == nil {
		t.Error("Listen(udp): no error")
	}
	if _, err := NewPacketConn(nil, "udp"); !errors.Is(err, api.EBADF) {
		t.Errorf("NewPacketConn(nil): %v", err)
	}
	if _, err := NewPacketConn(udp.Fd(), "tcp"); err == nil {
		t.Error("NewPacketConn(tcp): no error")
	}
}

func TestPacketAllocs(t *testing.T) {
	k := host(t)
	a := listenPacket(t, k, "udp", "127.0.0.1:0")
	b := listenPacket(t, k, "udp", "127.0.0.1:0")
	dst := b.LocalAddr().(*net.UDPAddr).AddrPort()
	msg := []byte("hello")
	buf := make([]byte, 100)
	// Every write is read by the next read: the queue never runs dry, so
	// no read waits (waiting allocates its timer and channel).
	w := testing.AllocsPerRun(100, func() {
		if _, err := a.WriteToUDPAddrPort(msg, dst); err != nil {
			t.Fatal(err)
		}
	})
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	var from netip.AddrPort
	r := testing.AllocsPerRun(100, func() {
		var err error
		if _, from, err = b.ReadFromUDPAddrPort(buf); err != nil {
			t.Fatal(err)
		}
	})
	if w != 0 || r != 0 {
		t.Errorf("allocations: WriteToUDPAddrPort %v, ReadFromUDPAddrPort %v; want 0", w, r)
	}
	if from != a.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Errorf("sender %v, want %v", from, a.LocalAddr())
	}
}

func TestPacketDial(t *testing.T) {
	k := host(t)
	// Linux routes all of 127/8 to lo: a source other than the default
	// shows that LocalAddr was bound.
	testPacketDial(t, k, "udp", "127.0.0.1", "127.0.0.2")
	t.Run("udp6", func(t *testing.T) { testPacketDial(t, k, "udp6", "::1", "::1") })
	t.Run("refused", func(t *testing.T) { testPacketRefused(t, k) })
}

// testPacketRefused: a connected UDP socket hears of ICMP port
// unreachable.
func testPacketRefused(t *testing.T, k *api.Kernel) {
	pc := listenPacket(t, k, "udp", "127.0.0.1:0")
	addr := pc.LocalAddr().String()
	pc.Close()
	c, err := Dial(k, "udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("anyone?")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, api.ECONNREFUSED) {
		t.Errorf("read after writing to a closed port: %v, want ECONNREFUSED", err)
	}
}

// testPacketDial: a connected datagram socket as a net.Conn, bound to
// localIP through Dialer.LocalAddr.
func testPacketDial(t *testing.T, k *api.Kernel, network, ip, localIP string) {
	srv := listenPacket(t, k, network, net.JoinHostPort(ip, "0"))
	srv.SetDeadline(time.Now().Add(30 * time.Second))
	d := &Dialer{Kernel: k, LocalAddr: &net.UDPAddr{IP: net.ParseIP(localIP)}}
	nc, err := d.DialContext(context.Background(), network, srv.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*Conn)
	defer c.Close()
	growBuffers(t, c.Fd())
	c.SetDeadline(time.Now().Add(30 * time.Second))
	la, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok || la.IP.String() != localIP || la.Port == 0 {
		t.Fatalf("local address %v, want %s:port", c.LocalAddr(), localIP)
	}
	if c.RemoteAddr().String() != srv.LocalAddr().String() {
		t.Errorf("remote address %v, want %v", c.RemoteAddr(), srv.LocalAddr())
	}
	buf := make([]byte, 70000)
	for _, size := range []int{0, 1, 1500, 40000, maxUDP(ip)} {
		msg := make([]byte, size)
		rand.Read(msg)
		if n, err := c.Write(msg); n != size || err != nil {
			t.Fatalf("Write %d bytes: %d %v", size, n, err)
		}
		n, from, err := srv.ReadFrom(buf)
		if err != nil || n != size || !bytes.Equal(buf[:n], msg) || from.String() != la.String() {
			t.Fatalf("server got %d bytes of %d from %v, %v", n, size, from, err)
		}
		if _, err := srv.WriteTo(buf[:n], from); err != nil {
			t.Fatal(err)
		}
		n, err = c.Read(buf)
		if err != nil || n != size || !bytes.Equal(buf[:n], msg) {
			t.Fatalf("Read of the %d-byte echo: %d %v", size, n, err)
		}
	}
	// Boundaries and truncation through Read.
	for _, m := range []string{"ab", "cde", "truncated here"} {
		srv.WriteTo([]byte(m), la)
	}
	for _, want := range []string{"ab", "cde"} {
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != want {
			t.Fatalf("Read %q %v, want %q", buf[:n], err, want)
		}
	}
	if n, err := c.Read(buf[:9]); err != nil || string(buf[:n]) != "truncated" {
		t.Fatalf("truncated Read %q %v", buf[:n], err)
	}
	if err := c.CloseWrite(); !errors.Is(err, api.EOPNOTSUPP) {
		t.Errorf("CloseWrite on a datagram Conn: %v", err)
	}
	if err := c.CloseRead(); !errors.Is(err, api.EOPNOTSUPP) {
		t.Errorf("CloseRead on a datagram Conn: %v", err)
	}
	// Deadlines and Close as for streams.
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := c.Read(buf); !isTimeout(err) {
		t.Errorf("Read past its deadline: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		errc <- err
	}()
	time.Sleep(30 * time.Millisecond)
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("pending Read after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a pending Read")
	}
}

func TestUnixgram(t *testing.T) {
	k := host(t)
	dir := t.TempDir()
	testUnixgram(t, k, filepath.Join(dir, "srv"), filepath.Join(dir, "cli"))
	t.Run("abstract", func(t *testing.T) {
		testUnixgram(t, k, "@knet-test-srv-"+filepath.Base(dir), "@knet-test-cli-"+filepath.Base(dir))
	})
	t.Run("full", func(t *testing.T) {
		// A receiver that never reads: its queue fills, the sender's
		// socket still polls writable (Linux looks at the sender's
		// buffer only), and the write deadline ends the wait.
		srv := listenPacket(t, k, "unixgram", filepath.Join(dir, "full"))
		cli := listenPacket(t, k, "unixgram", filepath.Join(dir, "sender"))
		cli.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		var err error
		for i := 0; i < 100000 && err == nil; i++ {
			_, err = cli.WriteTo([]byte("fill"), srv.LocalAddr())
		}
		if !isTimeout(err) {
			t.Fatalf("writing to a full receiver: %v, want a timeout", err)
		}
	})
}

// testUnixgram: a Unix datagram server answers a bound client; a client
// dialled without a LocalAddr is unnamed, as in package net, and cannot
// be answered; with one it can.
func testUnixgram(t *testing.T, k *api.Kernel, srvPath, cliPath string) {
	srv := listenPacket(t, k, "unixgram", srvPath)
	go echoPackets(srv)
	if ua, ok := srv.LocalAddr().(*net.UnixAddr); !ok || ua.Name != srvPath || ua.Net != "unixgram" {
		t.Fatalf("server address %#v", srv.LocalAddr())
	}
	srvAddr := &net.UnixAddr{Name: srvPath, Net: "unixgram"}

	// Dialled with a name: the server echoes to it.
	d := &Dialer{Kernel: k, LocalAddr: &net.UnixAddr{Name: cliPath, Net: "unixgram"}}
	nc, err := d.Dial("unixgram", srvPath)
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*Conn)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 100)
	for _, m := range []string{"over unixgram", ""} {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != m {
			t.Fatalf("echo of %q: %q %v", m, buf[:n], err)
		}
	}
	if c.LocalAddr().String() != cliPath || c.RemoteAddr().String() != srvPath {
		t.Errorf("addresses %v -> %v", c.LocalAddr(), c.RemoteAddr())
	}
	c.Close()
	if !strings.HasPrefix(cliPath, "@") {
		// As with net, the file stays after Close.
		if err := k.Unlink(cliPath); err != nil {
			t.Errorf("the client's socket file after Close: %v", err)
		}
	}

	// Unnamed: the datagram arrives, from no address.
	probe := listenPacket(t, k, "unixgram", cliPath)
	unnamed, err := Dial(k, "unixgram", probe.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer unnamed.Close()
	if _, err := unnamed.Write([]byte("who am I")); err != nil {
		t.Fatal(err)
	}
	probe.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := probe.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "who am I" || from != nil {
		t.Fatalf("from an unnamed client: %q from %#v, %v; want no address", buf[:n], from, err)
	}
	// And a PacketConn client, by WriteTo.
	if _, err := probe.WriteTo([]byte("to the server"), srvAddr); err != nil {
		t.Fatal(err)
	}
	n, from, err = probe.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "to the server" || from.String() != srvPath {
		t.Fatalf("PacketConn echo: %q from %v, %v", buf[:n], from, err)
	}
}

// TestNewPacketConn adopts a datagram socket made with api calls, and
// NewConn gives a connected one datagram semantics by its SO_TYPE.
func TestNewPacketConn(t *testing.T) {
	k := host(t)
	fd, err := k.Socket(api.AF_INET, api.SOCK_DGRAM, api.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := fd.Bind(api.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	pc, err := NewPacketConn(fd, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if pc.Fd() != fd || pc.LocalAddr().(*net.UDPAddr).Port == 0 {
		t.Fatalf("adopted socket: %v", pc.LocalAddr())
	}
	a, b, err := k.Socketpair(api.AF_UNIX, api.SOCK_DGRAM, api.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewConn(a, "unix") // the network says stream; SO_TYPE says otherwise
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	cb, err := NewConn(b, "unixgram")
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	ca.Write([]byte("one"))
	ca.Write(nil)
	cb.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 10)
	if n, err := cb.Read(buf); n != 3 || err != nil {
		t.Fatalf("first datagram: %d %v", n, err)
	}
	if n, err := cb.Read(buf); n != 0 || err != nil {
		t.Fatalf("empty datagram: %d %v, want 0, nil (not io.EOF)", n, err)
	}
}

func TestPacketConcurrentReaders(t *testing.T) {
	testPacketConcurrentReaders(t, host(t), "udp", "127.0.0.1:0")
}

// testPacketConcurrentReaders: several goroutines in ReadFrom on one
// socket each take whole datagrams, every datagram once; Close then wakes
// all those still parked.
func testPacketConcurrentReaders(t *testing.T, k *api.Kernel, network, addr string) {
	const readers, count = 4, 100
	srv := listenPacket(t, k, network, addr)
	cli := listenPacket(t, k, network, addr)
	type got struct {
		msg string
		err error
	}
	ch := make(chan got, count+readers)
	for r := 0; r < readers; r++ {
		go func() {
			buf := make([]byte, 64)
			for {
				n, _, err := srv.ReadFrom(buf)
				ch <- got{string(buf[:n]), err}
				if err != nil {
					return
				}
			}
		}()
	}
	for i := 0; i < count; i++ {
		if _, err := cli.WriteTo([]byte(fmt.Sprintf("datagram %03d", i)), srv.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	timeout := time.After(20 * time.Second)
	for len(seen) < count {
		select {
		case g := <-ch:
			if g.err != nil {
				t.Fatalf("a reader failed after %d datagrams: %v", len(seen), g.err)
			}
			if seen[g.msg] || !strings.HasPrefix(g.msg, "datagram ") || len(g.msg) != len("datagram 000") {
				t.Fatalf("datagram %q: twice or not whole", g.msg)
			}
			seen[g.msg] = true
		case <-timeout:
			t.Fatalf("%d of %d datagrams arrived", len(seen), count)
		}
	}
	srv.Close()
	for r := 0; r < readers; r++ {
		select {
		case g := <-ch:
			if !errors.Is(g.err, net.ErrClosed) {
				t.Errorf("parked reader after Close: %q %v", g.msg, g.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Close woke %d of %d parked readers", r, readers)
		}
	}
}
