package conformance

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/knet"
)

// Go's net interfaces over the kernel under test (api/knet): what a
// program gets when it hands a kernel's TCP/IP stack to code written for
// package net. Each case moves bytes both ways through the kernel and
// checks them; a kernel without sockets answers ENOSYS.

func init() {
	Register(
		Case{Family: "knet", Call: "knet.tcp", Run: func(t T, e *Env) { knetStream(t, e, "tcp4", "127.0.0.1:0") }},
		Case{Family: "knet", Call: "knet.tcp6", Run: func(t T, e *Env) { knetStream(t, e, "tcp6", "[::1]:0") }},
		Case{Family: "knet", Call: "knet.unix", Run: func(t T, e *Env) { knetStream(t, e, "unix", e.TempDir(t)+"/s") }},
		Case{Family: "knet", Call: "knet.udp", Run: func(t T, e *Env) { knetDatagram(t, e, "udp4", "127.0.0.1:0") }},
		Case{Family: "knet", Call: "knet.udp6", Run: func(t T, e *Env) { knetDatagram(t, e, "udp6", "[::1]:0") }},
		Case{Family: "knet", Call: "knet.unixgram", Run: func(t T, e *Env) { knetDatagram(t, e, "unixgram", e.TempDir(t)+"/g") }},
		Case{Family: "knet", Call: "knet.deadline", Run: testKnetDeadline},
	)
}

// knetTimeout bounds every wait, so that a broken kernel fails the case
// rather than hanging it.
const knetTimeout = 10 * time.Second

// knetSkip turns a kernel without sockets (or without the address
// family) into ENOSYS.
func knetSkip(t T, err error) {
	t.Helper()
	if errors.Is(err, api.EAFNOSUPPORT) || errors.Is(err, api.EPROTONOSUPPORT) {
		t.Skipf("%s%v", NoSysPrefix, err)
	}
	NoSys(t, err)
}

// knetStream: Listen, Dial, an echo of a payload larger than any socket
// buffer, half-close, and the addresses on both ends.
func knetStream(t T, e *Env, network, address string) {
	l, err := knet.Listen(e.K, network, address)
	knetSkip(t, err)
	OK(t, err, "Listen %s %s", network, address)
	defer l.Close()
	OK(t, l.SetDeadline(time.Now().Add(knetTimeout)), "listener deadline")
	served := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(knetTimeout))
		_, err = io.Copy(c, c) // echo until the client half-closes
		served <- err
	}()
	c, err := knet.Dial(e.K, network, l.Addr().String())
	OK(t, err, "Dial %s %v", network, l.Addr())
	defer c.Close()
	OK(t, c.SetDeadline(time.Now().Add(knetTimeout)), "conn deadline")
	if network != "unix" {
		Eq(t, c.RemoteAddr().String(), l.Addr().String(), "the client's remote address is the listener's")
	}
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		if err == nil {
			err = c.CloseWrite()
		}
		wrote <- err
	}()
	got, err := io.ReadAll(c)
	OK(t, err, "read the echo")
	OK(t, <-wrote, "write and half-close")
	OK(t, <-served, "server side")
	Eq(t, len(got), len(payload), "echoed length")
	True(t, bytes.Equal(got, payload), "echoed bytes")
}

// knetDatagram: ListenPacket twice, datagrams both ways with their
// boundaries and senders, and an empty one.
func knetDatagram(t T, e *Env, network, address string) {
	srv, err := knet.ListenPacket(e.K, network, address)
	knetSkip(t, err)
	OK(t, err, "ListenPacket %s %s", network, address)
	defer srv.Close()
	cliAddr := "127.0.0.1:0"
	switch network {
	case "udp6":
		cliAddr = "[::1]:0"
	case "unixgram":
		cliAddr = address + ".client"
	}
	cli, err := knet.ListenPacket(e.K, network, cliAddr)
	OK(t, err, "client ListenPacket")
	defer cli.Close()
	deadline := time.Now().Add(knetTimeout)
	OK(t, srv.SetDeadline(deadline), "server deadline")
	OK(t, cli.SetDeadline(deadline), "client deadline")
	msgs := [][]byte{[]byte("first"), {}, bytes.Repeat([]byte{0xa5}, 1200)}
	for i, m := range msgs {
		n, err := cli.WriteTo(m, srv.LocalAddr())
		OK(t, err, "WriteTo #%d", i)
		Eq(t, n, len(m), "bytes sent #%d", i)
	}
	buf := make([]byte, 2048)
	for i, m := range msgs {
		n, from, err := srv.ReadFrom(buf)
		OK(t, err, "ReadFrom #%d", i)
		True(t, bytes.Equal(buf[:n], m), "datagram #%d kept its boundaries: %d bytes, want %d", i, n, len(m))
		True(t, from != nil && from.String() == cli.LocalAddr().String(), "sender #%d: %v, want %v", i, from, cli.LocalAddr())
		_, err = srv.WriteTo(buf[:n], from)
		OK(t, err, "echo #%d", i)
	}
	for i, m := range msgs {
		n, _, err := cli.ReadFrom(buf)
		OK(t, err, "read echo #%d", i)
		True(t, bytes.Equal(buf[:n], m), "echo #%d", i)
	}
	if network != "unixgram" {
		// The netip form, as net.UDPConn's.
		port := srv.LocalAddr().(*net.UDPAddr).Port
		_, err := cli.WriteToUDPAddrPort([]byte("ap"), netip.AddrPortFrom(netip.MustParseAddr(map[string]string{"udp4": "127.0.0.1", "udp6": "::1"}[network]), uint16(port)))
		OK(t, err, "WriteToUDPAddrPort")
		n, ap, err := srv.ReadFromUDPAddrPort(buf)
		OK(t, err, "ReadFromUDPAddrPort")
		Eq(t, string(buf[:n]), "ap", "payload")
		Eq(t, strconv.Itoa(int(ap.Port())), strconv.Itoa(cli.LocalAddr().(*net.UDPAddr).Port), "sender port")
	}
}

// testKnetDeadline: a read with nothing to read ends at its deadline with
// os.ErrDeadlineExceeded as a timeout net.Error, and Close wakes a parked
// Accept with net.ErrClosed.
func testKnetDeadline(t T, e *Env) {
	l, err := knet.Listen(e.K, "tcp4", "127.0.0.1:0")
	knetSkip(t, err)
	OK(t, err, "Listen")
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c, err := knet.Dial(e.K, "tcp4", l.Addr().String())
	OK(t, err, "Dial")
	defer c.Close()
	if s := <-accepted; s != nil {
		defer s.Close()
	}
	OK(t, c.SetReadDeadline(time.Now().Add(20*time.Millisecond)), "SetReadDeadline")
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	True(t, errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout(), "read past its deadline: %v", err)

	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- nil
	}()
	time.Sleep(10 * time.Millisecond) // let Accept park; either way it must end
	OK(t, l.Close(), "Close the listener")
	select {
	case <-accepted:
	case <-time.After(knetTimeout):
		t.Fatalf("Close did not wake a parked Accept")
	}
	_, err = l.Accept()
	True(t, errors.Is(err, net.ErrClosed), "Accept after Close: %v", err)
}
