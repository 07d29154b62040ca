package conformance

import (
	"errors"
	"os"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The sockets family, options: getsockopt and setsockopt, through the
// typed helpers and the generic typed-option calls.

func init() {
	Register(
		Case{Family: "sockets", Call: "getsockopt", Run: testGetsockopt},
		Case{Family: "sockets", Call: "setsockopt", Run: testSetsockopt},
	)
}

func testGetsockopt(t T, e *Env) {
	// Read-only options.
	f := sockOpen(t, e, api.AF_INET, api.SOCK_DGRAM, 0)
	typ, err := f.SocketType()
	OK(t, err, "SO_TYPE")
	Eq(t, typ, api.SOCK_DGRAM, "SO_TYPE")
	fam, err := f.SocketFamily()
	OK(t, err, "SO_DOMAIN")
	Eq(t, fam, api.AF_INET, "SO_DOMAIN")
	if proto, err := f.SocketProtocol(); Has(err) {
		OK(t, err, "SO_PROTOCOL")
		Eq(t, proto, api.IPPROTO_UDP, "SO_PROTOCOL")
	}

	// The generic forms agree with the helpers, raw bytes included.
	// GetsockoptInt gives the kernel's int as it is: SO_TYPE in the
	// ABI's own numbering (SOCK_DGRAM is 1 on mips), unlike SocketType.
	dgram, ok := e.K.Const("SOCK_DGRAM")
	True(t, ok, "the ABI has SOCK_DGRAM")
	v, err := f.GetsockoptInt(api.SO_TYPE)
	OK(t, err, "GetsockoptInt(SO_TYPE)")
	Eq(t, v, int(dgram), "SO_TYPE as an int")
	raw := make([]byte, 16)
	n, err := f.Getsockopt(api.SO_TYPE, raw)
	OK(t, err, "Getsockopt(SO_TYPE)")
	Eq(t, n, 4, "SO_TYPE is a C int")
	typNum, ok := e.K.Const("SO_TYPE")
	True(t, ok, "the ABI has SO_TYPE")
	v2, err := f.GetsockoptInt(api.RawSockOpt{Level: api.SOL_SOCKET, Name: int(typNum)})
	OK(t, err, "RawSockOpt")
	Eq(t, v2, v, "the raw option is the same option")

	// SO_ERROR: a nonblocking connect to a closed port ends in
	// ECONNREFUSED, which SO_ERROR reports once.
	pending, err := f.SockError()
	OK(t, err, "SO_ERROR")
	Eq(t, pending, api.Errno(0), "no pending error")
	closed := sockClosedPort(t, e)
	nb, err := e.K.Socket(api.AF_INET, api.SOCK_STREAM, api.SOCK_NONBLOCK|api.SOCK_CLOEXEC, 0)
	OK(t, err)
	defer nb.Close()
	err = nb.Connect(closed)
	if !errors.Is(err, api.ECONNREFUSED) {
		Want(t, err, api.EINPROGRESS, "nonblocking connect to a closed port")
		deadline := time.Now().Add(sockWait)
		for pending == 0 && time.Now().Before(deadline) {
			pending, err = nb.SockError()
			OK(t, err, "SO_ERROR")
			time.Sleep(time.Millisecond)
		}
		Eq(t, pending, api.ECONNREFUSED, "SO_ERROR after a refused connect")
		pending, err = nb.SockError()
		OK(t, err)
		Eq(t, pending, api.Errno(0), "SO_ERROR is cleared by reading it")
	}

	// SO_PEERCRED on a socketpair: our own credentials (Linux's option).
	a, b := sockPair(t, e, api.SOCK_STREAM)
	if ca, err := a.PeerCred(); Has(err) {
		OK(t, err, "SO_PEERCRED")
		cb, err := b.PeerCred()
		OK(t, err)
		Eq(t, ca, cb, "both ends are this process")
		True(t, ca.Pid > 0, "peer pid %d", ca.Pid)
		if e.Target.Name == "native" {
			Eq(t, ca, api.Ucred{Pid: int32(os.Getpid()), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}, "SO_PEERCRED")
		}
	}

	// SO_ACCEPTCONN.
	l, _ := sockListener(t, e)
	on, err := l.AcceptConn()
	OK(t, err)
	Eq(t, on, true, "SO_ACCEPTCONN of a listener")

	// Bad input.
	_, err = f.IPv6Only()
	sockWantAny(t, err, "IPV6_V6ONLY on an IPv4 socket", api.ENOPROTOOPT, api.EOPNOTSUPP)
	_, err = f.TCPNoDelay()
	if sockLinux(e) {
		Want(t, err, api.EOPNOTSUPP, "TCP_NODELAY on a UDP socket")
	} else {
		// POSIX's error for an option the protocol does not have.
		Want(t, err, api.ENOPROTOOPT, "TCP_NODELAY on a UDP socket")
	}
	_, err = f.GetsockoptInt(api.RawSockOpt{Level: api.SOL_SOCKET, Name: 99999})
	Want(t, err, api.ENOPROTOOPT, "an option number nobody knows")
	_, err = f.GetsockoptInt(nil)
	Want(t, err, api.EINVAL, "nil option")
	_, err = f.GetsockoptInt(api.SockOpt(4000))
	Want(t, err, api.ENOPROTOOPT, "an unnamed SockOpt value")
	_, err = api.ParseSockOpt("so_bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "ParseSockOpt of an unknown name: %v", err)
	o, err := api.ParseTCPOpt("nodelay")
	OK(t, err)
	Eq(t, o, api.TCP_NODELAY)
	OK(t, f.Close())
	_, err = f.SocketType()
	Want(t, err, api.EBADF, "getsockopt on a closed Fd")
	_, err = f.Getsockopt(api.SO_TYPE, raw)
	Want(t, err, api.EBADF, "Getsockopt on a closed Fd")
	var nilFd *api.Fd
	_, err = nilFd.RcvBuf()
	Want(t, err, api.EBADF, "getsockopt on a nil Fd")
}

// sockWantAny fails unless err matches one of want: Linux versions differ
// in which of two errors some refusals give.
func sockWantAny(t T, err error, what string, want ...error) {
	t.Helper()
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	t.Fatalf("%s: got error %v, want one of %v", what, err, want)
}

func testSetsockopt(t T, e *Env) {
	f := sockOpen(t, e, api.AF_INET, api.SOCK_STREAM, 0)

	bools := []struct {
		name string
		set  func(bool) error
		get  func() (bool, error)
	}{
		{"SO_REUSEADDR", f.SetReuseAddr, f.ReuseAddr},
		{"SO_REUSEPORT", f.SetReusePort, f.ReusePort},
		{"SO_KEEPALIVE", f.SetKeepAlive, f.KeepAlive},
		{"TCP_NODELAY", f.SetTCPNoDelay, f.TCPNoDelay},
	}
	u := sockOpen(t, e, api.AF_UNIX, api.SOCK_DGRAM, 0)
	bools = append(bools, struct {
		name string
		set  func(bool) error
		get  func() (bool, error)
	}{"SO_PASSCRED", u.SetPassCred, u.PassCred})
	for _, c := range bools {
		if !Has(c.set(true)) {
			continue // an option of another kernel (SO_PASSCRED)
		}
		for _, want := range []bool{true, false, true} {
			OK(t, c.set(want), "set %s %v", c.name, want)
			got, err := c.get()
			OK(t, err, "get %s", c.name)
			Eq(t, got, want, c.name)
		}
	}

	// Buffer sizes: Linux doubles what is set.
	OK(t, f.SetRcvBuf(64<<10), "SO_RCVBUF")
	n, err := f.RcvBuf()
	OK(t, err)
	True(t, n >= 64<<10, "SO_RCVBUF %d >= 64 KiB", n)
	OK(t, f.SetSndBuf(32<<10), "SO_SNDBUF")
	n, err = f.SndBuf()
	OK(t, err)
	True(t, n >= 32<<10, "SO_SNDBUF %d >= 32 KiB", n)

	// Linger.
	for _, want := range []api.Linger{{OnOff: true, Linger: 5}, {OnOff: true, Linger: 0}} {
		OK(t, f.SetLinger(want), "SO_LINGER %+v", want)
		got, err := f.Linger()
		OK(t, err)
		Eq(t, got, want, "SO_LINGER")
	}
	// Turning it off keeps the time (Linux), so compare only OnOff.
	OK(t, f.SetLinger(api.Linger{}), "SO_LINGER off")
	lg, err := f.Linger()
	OK(t, err)
	Eq(t, lg.OnOff, false, "SO_LINGER off")

	// Timeouts go through struct timeval; the kernel keeps clock ticks.
	for _, c := range []struct {
		name string
		set  func(time.Duration) error
		get  func() (time.Duration, error)
		d    time.Duration
	}{
		{"SO_RCVTIMEO", f.SetRcvTimeo, f.RcvTimeo, 1500 * time.Millisecond},
		{"SO_SNDTIMEO", f.SetSndTimeo, f.SndTimeo, 250 * time.Millisecond},
		{"SO_RCVTIMEO", f.SetRcvTimeo, f.RcvTimeo, 3 * time.Second},
		{"SO_SNDTIMEO", f.SetSndTimeo, f.SndTimeo, 0},
	} {
		OK(t, c.set(c.d), "set %s %v", c.name, c.d)
		got, err := c.get()
		OK(t, err, "get %s", c.name)
		diff := got - c.d
		True(t, diff >= -20*time.Millisecond && diff <= 20*time.Millisecond, "%s: set %v, got %v", c.name, c.d, got)
	}
	OK(t, f.SetRcvTimeo(sockWait))

	// IP level.
	OK(t, f.SetIPTTL(42), "IP_TTL")
	ttl, err := f.IPTTL()
	OK(t, err)
	Eq(t, ttl, 42, "IP_TTL")

	// The generic typed calls, at each level.
	OK(t, f.SetsockoptInt(api.SO_REUSEADDR, 0), "SetsockoptInt(SO_REUSEADDR)")
	v, err := f.GetsockoptInt(api.SO_REUSEADDR)
	OK(t, err)
	Eq(t, v, 0, "SO_REUSEADDR")
	if err := f.SetsockoptInt(api.TCP_KEEPIDLE, 77); Has(err) {
		OK(t, err, "TCP_KEEPIDLE")
		v, err = f.GetsockoptInt(api.TCP_KEEPIDLE)
		// NetBSD's tcp_ctloutput sets TCP_KEEPIDLE but cannot read it back.
		if sockLinux(e) || !errors.Is(err, api.ENOPROTOOPT) {
			OK(t, err)
			Eq(t, v, 77, "TCP_KEEPIDLE")
		}
	}
	OK(t, f.SetsockoptInt(api.IP_TOS, 0x10), "IP_TOS")
	v, err = f.GetsockoptInt(api.IP_TOS)
	OK(t, err)
	Eq(t, v, 0x10, "IP_TOS")
	// SO_PRIORITY is Linux's.
	// A C int in the kernel's byte order, as raw Setsockopt takes it.
	prio := []byte{3, 0, 0, 0}
	if e.K.ABI().BigEndian {
		prio = []byte{0, 0, 0, 3}
	}
	if err := f.Setsockopt(api.SO_PRIORITY, prio); Has(err) {
		OK(t, err, "Setsockopt raw SO_PRIORITY")
		v, err = f.GetsockoptInt(api.SO_PRIORITY)
		OK(t, err)
		Eq(t, v, 3, "SO_PRIORITY")
	}

	// IPv6 only where the kernel has IPv6.
	if f6, err := e.K.Socket(api.AF_INET6, api.SOCK_STREAM, api.SOCK_CLOEXEC, 0); err == nil {
		defer f6.Close()
		for _, want := range []bool{true, false} {
			OK(t, f6.SetIPv6Only(want), "IPV6_V6ONLY %v", want)
			got, err := f6.IPv6Only()
			OK(t, err)
			Eq(t, got, want, "IPV6_V6ONLY")
		}
		OK(t, f6.SetsockoptInt(api.IPV6_UNICAST_HOPS, 9), "IPV6_UNICAST_HOPS")
		v, err := f6.GetsockoptInt(api.IPV6_UNICAST_HOPS)
		OK(t, err)
		Eq(t, v, 9, "IPV6_UNICAST_HOPS")
	}

	// An option takes effect: SO_REUSEADDR lets a second socket bind a
	// port whose connection is in TIME_WAIT... more simply, SO_REUSEPORT
	// lets two sockets bind the same UDP port.
	u1 := sockOpen(t, e, api.AF_INET, api.SOCK_DGRAM, 0)
	OK(t, u1.SetReusePort(true))
	OK(t, u1.Bind(loopback4))
	sa, err := u1.Getsockname()
	OK(t, err)
	u2 := sockOpen(t, e, api.AF_INET, api.SOCK_DGRAM, 0)
	Want(t, u2.Bind(sa), api.EADDRINUSE, "same port without SO_REUSEPORT")
	OK(t, u2.SetReusePort(true))
	OK(t, u2.Bind(sa), "same port with SO_REUSEPORT on both")

	// Bad input.
	Want(t, f.SetIPTTL(1000), api.EINVAL, "IP_TTL out of range")
	Want(t, f.SetRcvTimeo(-time.Second), api.EINVAL, "negative timeout")
	Want(t, f.SetLinger(api.Linger{OnOff: true, Linger: -1}), api.EINVAL, "negative linger")
	if big, ok := Wide(40); ok {
		Want(t, f.SetsockoptInt(api.SO_RCVBUF, big), api.EINVAL, "value beyond a C int")
	}
	Want(t, f.SetsockoptInt(nil, 1), api.EINVAL, "nil option")
	Want(t, f.SetsockoptInt(api.RawSockOpt{Level: api.SOL_SOCKET, Name: -3}, 1), api.EINVAL, "negative raw option")
	Want(t, f.Setsockopt(api.SO_LINGER, []byte{1}), api.EINVAL, "SO_LINGER value too short")
	sockWantAny(t, f.SetIPv6Only(true), "IPV6_V6ONLY on an IPv4 socket", api.ENOPROTOOPT, api.EOPNOTSUPP)
	OK(t, f.Close())
	Want(t, f.SetReuseAddr(true), api.EBADF, "setsockopt on a closed Fd")
	Want(t, f.SetsockoptInt(api.SO_KEEPALIVE, 1), api.EBADF, "SetsockoptInt on a closed Fd")
}
