package conformance

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The sockets family, core calls: socket, socketpair, bind, listen,
// accept, accept4, connect, getsockname, getpeername, shutdown. Every case
// stays on 127.0.0.1, ::1 and Unix sockets, and every socket that waits has
// SO_RCVTIMEO set, so no case can hang.

func init() {
	Register(
		Case{Family: "sockets", Call: "socket", Run: testSocket},
		Case{Family: "sockets", Call: "socketpair", Run: testSocketpair},
		Case{Family: "sockets", Call: "bind", Run: testBind},
		Case{Family: "sockets", Call: "listen", Run: testListen},
		Case{Family: "sockets", Call: "accept", Run: testAccept},
		Case{Family: "sockets", Call: "accept4", Run: testAccept4},
		Case{Family: "sockets", Call: "connect", Run: testConnect},
		Case{Family: "sockets", Call: "getsockname", Run: testGetsockname},
		Case{Family: "sockets", Call: "getpeername", Run: testGetpeername},
		Case{Family: "sockets", Call: "shutdown", Run: testShutdown},
	)
}

// sockWait bounds every wait in the sockets cases.
const sockWait = 2 * time.Second

var loopback4 = api.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}

// sockOpen makes a socket that closes at the end of the case and cannot
// block for longer than sockWait.
func sockOpen(t T, e *Env, fam api.Family, typ api.SockType, proto api.Protocol) *api.Fd {
	t.Helper()
	f, err := e.K.Socket(fam, typ, api.SOCK_CLOEXEC, proto)
	OK(t, err, "socket(%v, %v)", fam, typ)
	t.Cleanup(func() { f.Close() })
	OK(t, f.SetRcvTimeo(sockWait), "SO_RCVTIMEO")
	OK(t, f.SetSndTimeo(sockWait), "SO_SNDTIMEO")
	return f
}

// sockPair makes a Unix socketpair with timeouts on both ends.
func sockPair(t T, e *Env, typ api.SockType) (a, b *api.Fd) {
	t.Helper()
	a, b, err := e.K.Socketpair(api.AF_UNIX, typ, api.SOCK_CLOEXEC, 0)
	OK(t, err, "socketpair(AF_UNIX, %v)", typ)
	t.Cleanup(func() { a.Close(); b.Close() })
	for _, f := range []*api.Fd{a, b} {
		OK(t, f.SetRcvTimeo(sockWait), "SO_RCVTIMEO")
		OK(t, f.SetSndTimeo(sockWait), "SO_SNDTIMEO")
	}
	return a, b
}

// sockInet4 returns the IPv4 address of a socket's name, failing otherwise.
func sockInet4(t T, sa api.Sockaddr, what string) api.SockaddrInet4 {
	t.Helper()
	a, ok := sa.(api.SockaddrInet4)
	True(t, ok, "%s is an IPv4 address: %#v", what, sa)
	return a
}

// sockListener is a TCP socket listening on 127.0.0.1 at a free port.
func sockListener(t T, e *Env) (*api.Fd, api.SockaddrInet4) {
	t.Helper()
	l := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	OK(t, l.Bind(loopback4), "bind 127.0.0.1:0")
	OK(t, l.Listen(8), "listen")
	sa, err := l.Getsockname()
	OK(t, err, "getsockname")
	a := sockInet4(t, sa, "listener name")
	True(t, a.Port != 0, "bind to port 0 picked a port")
	return l, a
}

// sockTCPPair returns a connected client and the server's end.
func sockTCPPair(t T, e *Env) (client, server *api.Fd) {
	t.Helper()
	l, addr := sockListener(t, e)
	c := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	OK(t, c.Connect(addr), "connect %v", addr)
	s, _, err := l.Accept4(api.SOCK_CLOEXEC)
	OK(t, err, "accept4")
	t.Cleanup(func() { s.Close() })
	OK(t, s.SetRcvTimeo(sockWait), "SO_RCVTIMEO")
	return c, s
}

// sockClosedPort returns a loopback port nothing listens on: bound and
// released again.
func sockClosedPort(t T, e *Env) api.SockaddrInet4 {
	t.Helper()
	f, err := e.K.Socket(api.AF_INET, api.SOCK_STREAM, api.SOCK_CLOEXEC, 0)
	OK(t, err)
	OK(t, f.Bind(loopback4))
	sa, err := f.Getsockname()
	OK(t, err)
	OK(t, f.Close())
	return sockInet4(t, sa, "name")
}

var sockSeq atomic.Int64

// sockAbstract returns a fresh name in Linux's abstract namespace.
func sockAbstract(tag string) string {
	return fmt.Sprintf("@anykernel-%s-%d-%d-%d", tag, os.Getpid(), time.Now().UnixNano(), sockSeq.Add(1))
}

// sockLinux reports whether the kernel speaks a Linux ABI: Unix sockets
// have an abstract namespace ("@name") and autobind only there.
func sockLinux(e *Env) bool { return e.K.ABI().OS == "linux" }

// sockUnixName returns a fresh Unix socket name nobody has bound: in
// Linux's abstract namespace where the kernel has one, else a path in a
// fresh directory.
func sockUnixName(t T, e *Env, tag string) string {
	t.Helper()
	if sockLinux(e) {
		return sockAbstract(tag)
	}
	return filepath.Join(e.TempDir(t), tag)
}

// sockCloexec reports whether close-on-exec is set on f, from the host's
// /proc; ok is false where that cannot be seen (other backends).
func sockCloexec(t T, e *Env, f *api.Fd) (cloexec, ok bool) {
	t.Helper()
	if e.Target.Name != "native" {
		return false, false
	}
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(f.Num()))
	if err != nil {
		return false, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "flags:"); found {
			fl, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			OK(t, err, "fdinfo flags %q", v)
			return fl&uint64(api.O_CLOEXEC) != 0, true
		}
	}
	return false, false
}

// sockWantCloexec checks close-on-exec where the target lets us see it.
func sockWantCloexec(t T, e *Env, f *api.Fd, want bool, what string) {
	t.Helper()
	if got, ok := sockCloexec(t, e, f); ok {
		Eq(t, got, want, "close-on-exec of %s", what)
	}
}

func testSocket(t T, e *Env) {
	k := e.K
	for _, c := range []struct {
		fam   api.Family
		typ   api.SockType
		proto api.Protocol
		want  api.Protocol
	}{
		{api.AF_INET, api.SOCK_STREAM, 0, api.IPPROTO_TCP},
		{api.AF_INET, api.SOCK_DGRAM, 0, api.IPPROTO_UDP},
		{api.AF_INET, api.SOCK_STREAM, api.IPPROTO_TCP, api.IPPROTO_TCP},
		{api.AF_UNIX, api.SOCK_STREAM, 0, 0},
		{api.AF_UNIX, api.SOCK_DGRAM, 0, 0},
		{api.AF_UNIX, api.SOCK_SEQPACKET, 0, 0},
	} {
		f := sockOpen(t, e, c.fam, c.typ, c.proto)
		typ, err := f.SocketType()
		OK(t, err, "SO_TYPE")
		Eq(t, typ, c.typ, "SO_TYPE of %v/%v", c.fam, c.typ)
		fam, err := f.SocketFamily()
		OK(t, err, "SO_DOMAIN")
		Eq(t, fam, c.fam, "SO_DOMAIN")
		// SO_PROTOCOL is Linux's (and FreeBSD's); NetBSD has none.
		if p, err := f.SocketProtocol(); Has(err) {
			OK(t, err, "SO_PROTOCOL")
			Eq(t, p, c.want, "SO_PROTOCOL of %v/%v", c.fam, c.typ)
		}
		sockWantCloexec(t, e, f, true, "SOCK_CLOEXEC socket")
		OK(t, f.Close())
	}
	if f, err := k.Socket(api.AF_INET6, api.SOCK_STREAM, api.SOCK_CLOEXEC, 0); err == nil {
		fam, err := f.SocketFamily()
		OK(t, err)
		Eq(t, fam, api.AF_INET6, "SO_DOMAIN of an IPv6 socket")
		f.Close()
	} else {
		Want(t, err, api.EAFNOSUPPORT, "IPv6 socket")
	}

	// SOCK_NONBLOCK: a receive with nothing queued fails at once.
	f, err := k.Socket(api.AF_INET, api.SOCK_DGRAM, api.SOCK_NONBLOCK, 0)
	OK(t, err, "nonblocking socket")
	defer f.Close()
	sockWantCloexec(t, e, f, false, "socket without SOCK_CLOEXEC")
	OK(t, f.Bind(loopback4))
	start := time.Now()
	_, err = f.Recv(make([]byte, 8), 0)
	Want(t, err, api.EAGAIN, "recv on an empty nonblocking socket")
	True(t, time.Since(start) < time.Second, "nonblocking recv returned at once")

	// Bad input.
	_, err = k.Socket(api.AF_INET, api.SOCK_STREAM, api.SockFlags(1), 0)
	Want(t, err, api.EINVAL, "unknown SockFlags bits")
	_, err = k.Socket(api.Family(4000), api.SOCK_STREAM, 0, 0)
	Want(t, err, api.EAFNOSUPPORT, "unknown family")
	_, err = k.Socket(api.AF_INET, api.SOCK_STREAM, 0, api.IPPROTO_UDP)
	Want(t, err, api.EPROTONOSUPPORT, "UDP protocol on a stream socket")
	_, err = api.ParseSockFlags("nonblock,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "bogus", "ParseSockFlags names the bad word: %v", err)
	fl, err := api.ParseSockFlags("nonblock|cloexec")
	OK(t, err)
	Eq(t, fl, api.SOCK_NONBLOCK|api.SOCK_CLOEXEC, "parsed flags")
	fam, err := api.ParseFamily("inet6")
	OK(t, err)
	Eq(t, fam, api.AF_INET6)
}

func testSocketpair(t T, e *Env) {
	k := e.K
	a, b := sockPair(t, e, api.SOCK_STREAM)
	sockWantCloexec(t, e, a, true, "socketpair end")
	_, err := a.Write([]byte("ping"))
	OK(t, err, "write")
	buf := make([]byte, 16)
	n, err := b.Read(buf)
	OK(t, err, "read")
	Eq(t, string(buf[:n]), "ping", "data across the pair")
	_, err = b.Write([]byte("pong"))
	OK(t, err)
	n, err = a.Read(buf)
	OK(t, err)
	Eq(t, string(buf[:n]), "pong", "data back")
	typ, err := b.SocketType()
	OK(t, err)
	Eq(t, typ, api.SOCK_STREAM)

	// SEQPACKET keeps message boundaries.
	p, q := sockPair(t, e, api.SOCK_SEQPACKET)
	_, err = p.Write([]byte("one"))
	OK(t, err)
	_, err = p.Write([]byte("two"))
	OK(t, err)
	n, err = q.Read(buf)
	OK(t, err)
	Eq(t, string(buf[:n]), "one", "first record alone")
	n, err = q.Read(buf)
	OK(t, err)
	Eq(t, string(buf[:n]), "two", "second record")

	// Nonblocking pair.
	x, y, err := k.Socketpair(api.AF_UNIX, api.SOCK_DGRAM, api.SOCK_NONBLOCK|api.SOCK_CLOEXEC, 0)
	OK(t, err)
	defer x.Close()
	defer y.Close()
	_, err = y.Read(buf)
	Want(t, err, api.EAGAIN, "read on an empty nonblocking pair")

	_, _, err = k.Socketpair(api.AF_INET, api.SOCK_STREAM, api.SOCK_CLOEXEC, 0)
	Want(t, err, api.EOPNOTSUPP, "socketpair of AF_INET")
	_, _, err = k.Socketpair(api.AF_UNIX, api.SOCK_STREAM, api.SockFlags(1<<40), 0)
	Want(t, err, api.EINVAL, "unknown SockFlags bits")
}

func testBind(t T, e *Env) {
	k := e.K
	a := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	OK(t, a.Bind(loopback4), "bind 127.0.0.1:0")
	sa, err := a.Getsockname()
	OK(t, err)
	addr := sockInet4(t, sa, "bound name")
	Eq(t, addr.Addr, loopback4.Addr, "bound address")
	True(t, addr.Port != 0, "a port was picked")
	OK(t, a.Listen(1))
	Want(t, a.Bind(loopback4), api.EINVAL, "binding a bound socket again")

	// The same address from another socket is in use (pointer form too).
	b := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	Want(t, b.Bind(&addr), api.EADDRINUSE, "bind to a port in use")

	// Wrong-family addresses.
	Want(t, b.Bind(api.SockaddrInet6{Addr: [16]byte{15: 1}}), api.EAFNOSUPPORT, "IPv6 address on an IPv4 socket")
	u := sockOpen(t, e, api.AF_UNIX, api.SOCK_STREAM, 0)
	Want(t, u.Bind(loopback4), api.EAFNOSUPPORT, "IPv4 address on a Unix socket")

	// A Unix path becomes a socket file; binding it twice is EADDRINUSE.
	p := filepath.Join(e.TempDir(t), "s")
	OK(t, u.Bind(api.SockaddrUnix{Name: p}), "bind %s", p)
	var st api.Stat
	OK(t, k.Stat(p, &st), "stat the socket file")
	Eq(t, st.Mode.Type(), api.S_IFSOCK, "file type of a bound Unix socket")
	sa, err = u.Getsockname()
	OK(t, err)
	Eq(t, sa, api.Sockaddr(api.SockaddrUnix{Name: p}), "name of the bound Unix socket")
	u2 := sockOpen(t, e, api.AF_UNIX, api.SOCK_STREAM, 0)
	Want(t, u2.Bind(api.SockaddrUnix{Name: p}), api.EADDRINUSE, "bind to an existing socket file")

	// Abstract names leave no file (Linux's abstract namespace).
	if sockLinux(e) {
		name := sockAbstract("bind")
		OK(t, u2.Bind(api.SockaddrUnix{Name: name}), "bind %s", name)
		sa, err = u2.Getsockname()
		OK(t, err)
		Eq(t, sa.String(), name, "abstract name read back")
	}

	// Bad input: too long, NUL, nil, closed, nil Fd.
	u3 := sockOpen(t, e, api.AF_UNIX, api.SOCK_DGRAM, 0)
	long := "/" + strings.Repeat("x", 200)
	err = u3.Bind(api.SockaddrUnix{Name: long})
	Want(t, err, api.EINVAL, "unix path longer than sun_path")
	var se *api.SockaddrError
	True(t, errors.As(err, &se) && se.Input == long, "error names the path: %v", err)
	Want(t, u3.Bind(api.SockaddrUnix{Name: "/tmp/a\x00b"}), api.EINVAL, "NUL in a unix path")
	Want(t, u3.Bind(nil), api.EINVAL, "nil address")
	OK(t, u3.Close())
	Want(t, u3.Bind(api.SockaddrUnix{Name: "@x"}), api.EBADF, "bind on a closed Fd")
	var nilFd *api.Fd
	Want(t, nilFd.Bind(loopback4), api.EBADF, "bind on a nil Fd")
	_, err = api.ParseSockaddr("127.0.0.1:99999")
	True(t, errors.As(err, &se) && se.Input == "127.0.0.1:99999", "port out of range named: %v", err)
}

func testListen(t T, e *Env) {
	l := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	OK(t, l.Bind(loopback4))
	on, err := l.AcceptConn()
	OK(t, err, "SO_ACCEPTCONN")
	Eq(t, on, false, "SO_ACCEPTCONN before listen")
	Want(t, l.Listen(-1), api.EINVAL, "negative backlog")
	OK(t, l.Listen(4), "listen")
	on, err = l.AcceptConn()
	OK(t, err)
	Eq(t, on, true, "SO_ACCEPTCONN after listen")

	// A listening socket accepts connections: the backlog holds one that
	// nobody has accepted yet.
	sa, err := l.Getsockname()
	OK(t, err)
	c := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	OK(t, c.Connect(sa), "connect to the listener")

	u := sockOpen(t, e, api.AF_INET, api.SOCK_DGRAM, 0)
	Want(t, u.Listen(1), api.EOPNOTSUPP, "listen on a datagram socket")
	OK(t, u.Close())
	Want(t, u.Listen(1), api.EBADF, "listen on a closed Fd")
}

func testAccept(t T, e *Env) {
	l, addr := sockListener(t, e)

	// Nothing pending: SO_RCVTIMEO bounds the wait.
	OK(t, l.SetRcvTimeo(100*time.Millisecond))
	start := time.Now()
	_, _, err := l.Accept()
	Want(t, err, api.EAGAIN, "accept with nothing pending, after SO_RCVTIMEO")
	True(t, time.Since(start) >= 80*time.Millisecond, "accept waited for the timeout (%v)", time.Since(start))
	OK(t, l.SetRcvTimeo(sockWait))

	c := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	OK(t, c.Connect(addr))
	s, peer, err := l.Accept()
	OK(t, err, "accept")
	defer s.Close()
	local, err := c.Getsockname()
	OK(t, err)
	Eq(t, peer, local, "accept's peer address is the client's name")
	sockWantCloexec(t, e, s, false, "accepted socket (accept has no flags)")
	_, err = c.Write([]byte("hi"))
	OK(t, err)
	OK(t, s.SetRcvTimeo(sockWait))
	buf := make([]byte, 4)
	n, err := s.Read(buf)
	OK(t, err)
	Eq(t, string(buf[:n]), "hi", "data on the accepted connection")

	// Unix: an unbound client has an empty name.
	ul := sockOpen(t, e, api.AF_UNIX, api.SOCK_STREAM, 0)
	name := sockUnixName(t, e, "accept")
	OK(t, ul.Bind(api.SockaddrUnix{Name: name}))
	OK(t, ul.Listen(1))
	uc := sockOpen(t, e, api.AF_UNIX, api.SOCK_STREAM, 0)
	OK(t, uc.Connect(api.SockaddrUnix{Name: name}))
	us, upeer, err := ul.Accept()
	OK(t, err, "accept on a Unix socket")
	defer us.Close()
	Eq(t, upeer, api.Sockaddr(api.SockaddrUnix{}), "peer of an unbound Unix client")

	notListening := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	_, _, err = notListening.Accept()
	Want(t, err, api.EINVAL, "accept on a socket that does not listen")
	OK(t, l.Close())
	_, _, err = l.Accept()
	Want(t, err, api.EBADF, "accept on a closed Fd")
}

func testAccept4(t T, e *Env) {
	l, addr := sockListener(t, e)
	c := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	OK(t, c.Connect(addr))
	s, peer, err := l.Accept4(api.SOCK_NONBLOCK | api.SOCK_CLOEXEC)
	OK(t, err, "accept4")
	defer s.Close()
	local, err := c.Getsockname()
	OK(t, err)
	Eq(t, peer, local, "peer address")
	sockWantCloexec(t, e, s, true, "accept4(SOCK_CLOEXEC)")
	start := time.Now()
	_, err = s.Read(make([]byte, 4))
	Want(t, err, api.EAGAIN, "read on the accept4(SOCK_NONBLOCK) socket")
	True(t, time.Since(start) < time.Second, "nonblocking read returned at once")

	// A nonblocking listener: nothing pending is EAGAIN at once.
	nl, err := e.K.Socket(api.AF_INET, api.SOCK_STREAM, api.SOCK_NONBLOCK|api.SOCK_CLOEXEC, 0)
	OK(t, err)
	defer nl.Close()
	OK(t, nl.Bind(loopback4))
	OK(t, nl.Listen(1))
	_, _, err = nl.Accept4(0)
	Want(t, err, api.EAGAIN, "accept4 on an idle nonblocking listener")

	_, _, err = l.Accept4(api.SockFlags(1))
	Want(t, err, api.EINVAL, "unknown SockFlags bits")
	OK(t, l.Close())
	_, _, err = l.Accept4(0)
	Want(t, err, api.EBADF, "accept4 on a closed Fd")
}

func testConnect(t T, e *Env) {
	k := e.K
	// Refused: nothing listens on the port.
	closed := sockClosedPort(t, e)
	c := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	Want(t, c.Connect(closed), api.ECONNREFUSED, "connect to a closed port on 127.0.0.1")

	// Nonblocking connect: EINPROGRESS, then the connection completes.
	l, addr := sockListener(t, e)
	nb, err := k.Socket(api.AF_INET, api.SOCK_STREAM, api.SOCK_NONBLOCK|api.SOCK_CLOEXEC, 0)
	OK(t, err)
	defer nb.Close()
	err = nb.Connect(addr)
	Want(t, err, api.EINPROGRESS, "nonblocking connect")
	s, _, err := l.Accept()
	OK(t, err, "accept the nonblocking connect")
	defer s.Close()
	deadline := time.Now().Add(sockWait)
	for {
		_, err = nb.Getpeername()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	OK(t, err, "the nonblocking connect completed")
	pending, err := nb.SockError()
	OK(t, err)
	Eq(t, pending, api.Errno(0), "SO_ERROR after a successful connect")
	// Linux reports the completion to one more connect, then EISCONN.
	if err := nb.Connect(addr); err != nil {
		Want(t, err, api.EISCONN, "connect again after completion")
	}
	Want(t, nb.Connect(addr), api.EISCONN, "connect on a connected socket")

	// UDP connect sets the default destination.
	r := sockOpen(t, e, api.AF_INET, api.SOCK_DGRAM, 0)
	OK(t, r.Bind(loopback4))
	raddr, err := r.Getsockname()
	OK(t, err)
	u := sockOpen(t, e, api.AF_INET, api.SOCK_DGRAM, 0)
	OK(t, u.Connect(raddr), "connect a UDP socket")
	_, err = u.Send([]byte("dgram"), 0)
	OK(t, err, "send without an address")
	buf := make([]byte, 16)
	n, err := r.Recv(buf, 0)
	OK(t, err)
	Eq(t, string(buf[:n]), "dgram")

	// Unix: by path, and a missing path.
	dir := e.TempDir(t)
	p := filepath.Join(dir, "srv")
	ul := sockOpen(t, e, api.AF_UNIX, api.SOCK_STREAM, 0)
	OK(t, ul.Bind(api.SockaddrUnix{Name: p}))
	OK(t, ul.Listen(1))
	uc := sockOpen(t, e, api.AF_UNIX, api.SOCK_STREAM, 0)
	OK(t, uc.Connect(api.SockaddrUnix{Name: p}), "connect to %s", p)
	uc2 := sockOpen(t, e, api.AF_UNIX, api.SOCK_STREAM, 0)
	Want(t, uc2.Connect(api.SockaddrUnix{Name: filepath.Join(dir, "missing")}), api.ENOENT, "connect to a missing path")

	// Bad input.
	Want(t, uc2.Connect(api.SockaddrUnix{Name: "/" + strings.Repeat("y", 120)}), api.EINVAL, "too long a path")
	c6 := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	Want(t, c6.Connect(api.SockaddrInet6{Addr: [16]byte{15: 1}, Port: addr.Port}), api.EAFNOSUPPORT, "IPv6 address on an IPv4 socket")
	OK(t, c6.Close())
	Want(t, c6.Connect(addr), api.EBADF, "connect on a closed Fd")
}

func testGetsockname(t T, e *Env) {
	f := sockOpen(t, e, api.AF_INET, api.SOCK_DGRAM, 0)
	sa, err := f.Getsockname()
	OK(t, err, "getsockname of an unbound socket")
	Eq(t, sa, api.Sockaddr(api.SockaddrInet4{}), "unbound IPv4 name")
	OK(t, f.Bind(loopback4))
	sa, err = f.Getsockname()
	OK(t, err)
	a := sockInet4(t, sa, "bound name")
	Eq(t, a.Addr, loopback4.Addr)
	True(t, a.Port != 0, "port assigned")
	// The text form parses back to the same address.
	back, err := api.ParseSockaddr(sa.String())
	OK(t, err, "ParseSockaddr(%q)", sa.String())
	Eq(t, back, sa, "round trip through String")
	Eq(t, a.AddrPort().Port(), a.Port, "as a netip.AddrPort")

	if f6, err := e.K.Socket(api.AF_INET6, api.SOCK_DGRAM, api.SOCK_CLOEXEC, 0); err == nil {
		defer f6.Close()
		OK(t, f6.Bind(api.SockaddrInet6{Addr: [16]byte{15: 1}}), "bind [::1]:0")
		sa, err := f6.Getsockname()
		OK(t, err)
		a6, ok := sa.(api.SockaddrInet6)
		True(t, ok && a6.Addr == [16]byte{15: 1} && a6.Port != 0, "IPv6 name %v", sa)
		True(t, strings.HasPrefix(sa.String(), "[::1]:"), "IPv6 name text %q", sa.String())
	}

	u := sockOpen(t, e, api.AF_UNIX, api.SOCK_DGRAM, 0)
	sa, err = u.Getsockname()
	OK(t, err)
	Eq(t, sa, api.Sockaddr(api.SockaddrUnix{}), "unbound Unix name")
	if sockLinux(e) {
		// Binding the empty name autobinds an abstract name (Linux's).
		OK(t, u.Bind(api.SockaddrUnix{}), "autobind")
		sa, err = u.Getsockname()
		OK(t, err)
		un, ok := sa.(api.SockaddrUnix)
		True(t, ok && strings.HasPrefix(un.Name, "@") && len(un.Name) > 1, "autobound name %q", sa)
	} else {
		p := filepath.Join(e.TempDir(t), "named")
		OK(t, u.Bind(api.SockaddrUnix{Name: p}), "bind %s", p)
		sa, err = u.Getsockname()
		OK(t, err)
		Eq(t, sa, api.Sockaddr(api.SockaddrUnix{Name: p}), "bound Unix name")
	}
	OK(t, u.Close())
	_, err = u.Getsockname()
	Want(t, err, api.EBADF, "getsockname on a closed Fd")
}

func testGetpeername(t T, e *Env) {
	c, s := sockTCPPair(t, e)
	peer, err := c.Getpeername()
	OK(t, err, "getpeername")
	name, err := s.Getsockname()
	OK(t, err)
	Eq(t, peer, name, "client's peer is the server's name")
	speer, err := s.Getpeername()
	OK(t, err)
	cname, err := c.Getsockname()
	OK(t, err)
	Eq(t, speer, cname, "server's peer is the client's name")

	a, _ := sockPair(t, e, api.SOCK_STREAM)
	pp, err := a.Getpeername()
	OK(t, err, "getpeername of a socketpair end")
	Eq(t, pp, api.Sockaddr(api.SockaddrUnix{}), "socketpair peers are unnamed")

	lone := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	_, err = lone.Getpeername()
	Want(t, err, api.ENOTCONN, "getpeername of an unconnected socket")
	OK(t, lone.Close())
	_, err = lone.Getpeername()
	Want(t, err, api.EBADF, "getpeername on a closed Fd")
}

func testShutdown(t T, e *Env) {
	c, s := sockTCPPair(t, e)
	_, err := c.Write([]byte("last"))
	OK(t, err)
	OK(t, c.Shutdown(api.SHUT_WR), "shutdown(SHUT_WR)")
	b, err := io.ReadAll(s)
	OK(t, err, "read to EOF after the peer's SHUT_WR")
	Eq(t, string(b), "last", "data before the EOF")
	n, err := s.Recv(make([]byte, 4), 0)
	OK(t, err, "recv at EOF")
	Eq(t, n, 0, "recv at EOF returns 0")
	// The other direction still works.
	_, err = s.Write([]byte("back"))
	OK(t, err, "write towards the half-closed side")
	buf := make([]byte, 8)
	n, err = c.Read(buf)
	OK(t, err)
	Eq(t, string(buf[:n]), "back", "reading after SHUT_WR")
	_, err = c.Send([]byte("x"), api.MSG_NOSIGNAL)
	Want(t, err, api.EPIPE, "send after SHUT_WR")

	// SHUT_RD on a socketpair: reads see EOF at once.
	a, _ := sockPair(t, e, api.SOCK_STREAM)
	OK(t, a.Shutdown(api.SHUT_RD), "shutdown(SHUT_RD)")
	_, err = a.Read(buf)
	Want(t, err, io.EOF, "read after SHUT_RD")
	OK(t, a.Shutdown(api.SHUT_RDWR), "shutdown(SHUT_RDWR)")

	lone := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)
	if err := lone.Shutdown(api.SHUT_RDWR); sockLinux(e) || err != nil {
		// NetBSD shuts an unconnected socket down without complaint.
		Want(t, err, api.ENOTCONN, "shutdown of an unconnected socket")
	}
	Want(t, a.Shutdown(api.ShutHow(7)), api.EINVAL, "bad ShutHow")
	how, err := api.ParseShutHow("wr")
	OK(t, err)
	Eq(t, how, api.SHUT_WR)
	OK(t, lone.Close())
	Want(t, lone.Shutdown(api.SHUT_RD), api.EBADF, "shutdown on a closed Fd")
}
