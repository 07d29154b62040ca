package api

import (
	"errors"
	"os"
	"strconv"
	"time"
	"unsafe"
)

// The sockets family: socket, socketpair, bind, listen, accept, connect,
// names, shutdown, sendto and recvfrom. Messages with control data are in
// msg.go, options in sockopt.go, the neutral address types in sockaddr.go.

var (
	sysSocket     = newCall("socket", "__socket30")
	sysSocketpair = newCall("socketpair")
	sysBind       = newCall("bind")
	sysListen     = newCall("listen")
	sysAccept     = newCall("accept")
	// NetBSD's paccept takes a signal mask before the flags; the Kernel
	// passes NULL in that slot (syscallPads), which makes it accept4.
	sysAccept4     = newCall("accept4", "paccept")
	sysConnect     = newCall("connect")
	sysGetsockname = newCall("getsockname")
	sysGetpeername = newCall("getpeername")
	sysShutdown    = newCall("shutdown")
	sysSendto      = newCall("sendto")
	sysRecvfrom    = newCall("recvfrom")
)

// sockaddrBufSize bounds struct sockaddr_storage in every ABI api serves
// (128 bytes on Linux and the BSDs); raw addresses live in stack arrays of
// this size, so converting an address allocates nothing.
const sockaddrBufSize = 128

// sockaddrBuf holds one raw sockaddr of the kernel's ABI.
type sockaddrBuf [sockaddrBufSize]byte

// sockState is the sockets family's per-Kernel state: ABI numbers and
// struct layouts, resolved once at New.
type sockState struct {
	be bool

	// The ABI's AF_* numbers of the families api encodes itself.
	afInet, afInet6, afUnix uint64

	saFamily fieldAt // sockaddr.sa_family, the same place in every sockaddr
	in4      struct {
		size                    int
		family, len, port, addr fieldAt
	}
	in6 struct {
		size                                 int
		family, len, port, flow, addr, scope fieldAt
	}
	un struct {
		family, len, path fieldAt
	}
	// nl is struct sockaddr_nl; size 0 when the ABI has no netlink (the
	// BSDs), and netlink addresses are then refused with EAFNOSUPPORT.
	nl struct {
		size                int
		af                  uint64
		family, pid, groups fieldAt
	}

	// acceptPolls is set where accept(2) ignores SO_RCVTIMEO (NetBSD):
	// api then waits for a connection with poll, bounded by it, first.
	acceptPolls bool

	sockFlagsKnown uint64 // union of the SockFlags members
	msgFlagsKnown  uint64

	msg msgLayouts // msg.go
	opt optState   // sockopt.go
}

func (s *sockState) init(k *Kernel) error {
	s.be = k.table.BigEndian
	for _, x := range []struct {
		p  *uint64
		af Family
	}{{&s.afInet, AF_INET}, {&s.afInet6, AF_INET6}, {&s.afUnix, AF_UNIX}} {
		v, err := k.enumToABI(familyFamily, uint64(x.af))
		if err != nil {
			return errMissing(x.af.String())
		}
		*x.p = v
	}
	sa, err := k.layoutOf("sockaddr")
	if err != nil {
		return err
	}
	if s.saFamily, err = sa.must("sa_family"); err != nil {
		return err
	}
	// sockaddr_storage only bounds the sizes; some tables lack it, and the
	// checks below cover the layouts api writes.
	if ss := k.optLayout("sockaddr_storage"); ss.size > sockaddrBufSize {
		return errMissing("a struct sockaddr_storage that fits 128 bytes")
	}

	in4, err := k.layoutOf("sockaddr_in")
	if err != nil {
		return err
	}
	s.in4.size = in4.size
	s.in4.len = in4.field("sin_len") // BSD only
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{{&s.in4.family, "sin_family"}, {&s.in4.port, "sin_port"}, {&s.in4.addr, "sin_addr"}} {
		if *x.p, err = in4.must(x.name); err != nil {
			return err
		}
	}
	in6, err := k.layoutOf("sockaddr_in6")
	if err != nil {
		return err
	}
	s.in6.size = in6.size
	s.in6.len = in6.field("sin6_len")
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{
		{&s.in6.family, "sin6_family"}, {&s.in6.port, "sin6_port"}, {&s.in6.flow, "sin6_flowinfo"},
		{&s.in6.addr, "sin6_addr"}, {&s.in6.scope, "sin6_scope_id"},
	} {
		if *x.p, err = in6.must(x.name); err != nil {
			return err
		}
	}
	un, err := k.layoutOf("sockaddr_un")
	if err != nil {
		return err
	}
	s.un.len = un.field("sun_len")
	if s.un.family, err = un.must("sun_family"); err != nil {
		return err
	}
	if s.un.path, err = un.must("sun_path"); err != nil {
		return err
	}
	if s.in4.port.size != 2 || s.in6.port.size != 2 || s.in4.addr.size != 4 || s.in6.addr.size != 16 || s.in6.flow.size != 4 ||
		in4.size > sockaddrBufSize || in6.size > sockaddrBufSize || un.size > sockaddrBufSize {
		return errMissing("sockaddr_in/in6/un layouts api can encode")
	}
	s.initNetlink(k)
	s.acceptPolls = acceptIgnoresRcvtimeo[k.table.OS]
	for _, v := range sockFlagsFamily.values {
		s.sockFlagsKnown |= v
	}
	for _, v := range msgFlagsFamily.values {
		s.msgFlagsKnown |= v
	}
	if err := s.msg.init(k); err != nil {
		return err
	}
	return s.opt.init(k)
}

// acceptIgnoresRcvtimeo lists, by OS, the kernels whose accept(2) blocks
// regardless of SO_RCVTIMEO (NetBSD's accept sleeps on the listen queue
// without the socket's receive timeout).
var acceptIgnoresRcvtimeo = map[string]bool{"netbsd": true}

// initNetlink resolves struct sockaddr_nl, which only Linux ABIs have.
func (s *sockState) initNetlink(k *Kernel) {
	l := k.optLayout("sockaddr_nl")
	af, err := k.enumToABI(familyFamily, uint64(AF_NETLINK))
	if l.s == nil || err != nil || l.size > sockaddrBufSize {
		return
	}
	fam, pid, groups := l.field("nl_family"), l.field("nl_pid"), l.field("nl_groups")
	if !fam.ok() || pid.size != 4 || groups.size != 4 {
		return
	}
	s.nl.size, s.nl.af = l.size, af
	s.nl.family, s.nl.pid, s.nl.groups = fam, pid, groups
}

// sockErr wraps an error that is not an Errno (a bad address, an option an
// ABI lacks) with the call's name.
func sockErr(call string, err error) error { return os.NewSyscallError(call, err) }

// encodeSockaddr writes sa in the ABI's layout into b and returns its
// length. It allocates nothing (except for the error).
func (k *Kernel) encodeSockaddr(call string, sa Sockaddr, b *sockaddrBuf) (int, error) {
	s := &k.socks
	switch a := sa.(type) {
	case SockaddrInet4:
		return s.putInet4(&a, b), nil
	case *SockaddrInet4:
		if a != nil {
			return s.putInet4(a, b), nil
		}
	case SockaddrInet6:
		return s.putInet6(&a, b), nil
	case *SockaddrInet6:
		if a != nil {
			return s.putInet6(a, b), nil
		}
	case SockaddrUnix:
		return s.putUnix(call, a.Name, b)
	case *SockaddrUnix:
		if a != nil {
			return s.putUnix(call, a.Name, b)
		}
	case SockaddrNetlink:
		return s.putNetlink(call, &a, b)
	case *SockaddrNetlink:
		if a != nil {
			return s.putNetlink(call, a, b)
		}
	case SockaddrRaw:
		return k.putRaw(call, &a, b)
	case *SockaddrRaw:
		if a != nil {
			return k.putRaw(call, a, b)
		}
	}
	return 0, badArg(call, "nil socket address")
}

func (s *sockState) putInet4(a *SockaddrInet4, b *sockaddrBuf) int {
	be, f := s.be, &s.in4
	clear(b[:f.size])
	f.family.put(b[:], be, s.afInet)
	f.len.put(b[:], be, uint64(f.size))
	// Ports are in network order on every ABI: a protocol fact.
	b[f.port.off], b[f.port.off+1] = byte(a.Port>>8), byte(a.Port)
	copy(f.addr.bytes(b[:]), a.Addr[:])
	return f.size
}

func (s *sockState) putInet6(a *SockaddrInet6, b *sockaddrBuf) int {
	be, f := s.be, &s.in6
	clear(b[:f.size])
	f.family.put(b[:], be, s.afInet6)
	f.len.put(b[:], be, uint64(f.size))
	b[f.port.off], b[f.port.off+1] = byte(a.Port>>8), byte(a.Port)
	// sin6_flowinfo is in network order too (RFC 3493).
	fl := f.flow.bytes(b[:])
	fl[0], fl[1], fl[2], fl[3] = byte(a.Flowinfo>>24), byte(a.Flowinfo>>16), byte(a.Flowinfo>>8), byte(a.Flowinfo)
	copy(f.addr.bytes(b[:]), a.Addr[:])
	f.scope.put(b[:], be, uint64(a.ZoneID))
	return f.size
}

func (s *sockState) putNetlink(call string, a *SockaddrNetlink, b *sockaddrBuf) (int, error) {
	f := &s.nl
	if f.size == 0 {
		return 0, callErr(call, EAFNOSUPPORT)
	}
	clear(b[:f.size])
	f.family.put(b[:], s.be, f.af)
	f.pid.put(b[:], s.be, uint64(a.Pid))
	f.groups.put(b[:], s.be, uint64(a.Groups))
	return f.size, nil
}

// getNetlink decodes a raw sockaddr_nl of n bytes; ok is false when it is
// not one.
func (s *sockState) getNetlink(b []byte, n int, a *SockaddrNetlink) bool {
	f := &s.nl
	if f.size == 0 || n < f.size || n > len(b) || s.saFamily.uint(b, s.be) != f.af {
		return false
	}
	a.Pid = uint32(f.pid.uint(b, s.be))
	a.Groups = uint32(f.groups.uint(b, s.be))
	return true
}

// NetlinkAddr converts an address of family AF_NETLINK that this kernel
// returned (Recvfrom, Getsockname: a SockaddrRaw, whose bytes are in the
// ABI's layout) to a SockaddrNetlink. A SockaddrNetlink is returned as it
// is; anything else is EAFNOSUPPORT.
func (k *Kernel) NetlinkAddr(sa Sockaddr) (SockaddrNetlink, error) {
	switch a := sa.(type) {
	case SockaddrNetlink:
		return a, nil
	case *SockaddrNetlink:
		if a != nil {
			return *a, nil
		}
	case SockaddrRaw:
		return k.netlinkFromRaw(&a)
	case *SockaddrRaw:
		if a != nil {
			return k.netlinkFromRaw(a)
		}
	}
	return SockaddrNetlink{}, callErr("netlinkaddr", EAFNOSUPPORT)
}

func (k *Kernel) netlinkFromRaw(a *SockaddrRaw) (SockaddrNetlink, error) {
	s := &k.socks
	var out SockaddrNetlink
	if a.Fam != AF_NETLINK {
		return out, callErr("netlinkaddr", EAFNOSUPPORT)
	}
	var raw sockaddrBuf
	start := int(s.saFamily.off) + int(s.saFamily.size)
	if start+len(a.Data) > len(raw) {
		return out, callErr("netlinkaddr", EAFNOSUPPORT)
	}
	s.saFamily.put(raw[:], s.be, s.nl.af)
	copy(raw[start:], a.Data)
	if !s.getNetlink(raw[:], start+len(a.Data), &out) {
		return out, callErr("netlinkaddr", EAFNOSUPPORT)
	}
	return out, nil
}

// putUnix encodes a Unix address as Go's syscall package does: a path gets
// its terminating NUL counted, an abstract name ("@name") becomes a leading
// NUL and is counted exactly, the empty name is the family alone.
func (s *sockState) putUnix(call, name string, b *sockaddrBuf) (int, error) {
	f := &s.un
	off, max := int(f.path.off), int(f.path.size)
	n := off
	switch {
	case name == "":
	case name[0] == '@':
		if len(name) > max {
			return 0, sockErr(call, addrErr(name, "abstract name longer than "+strconv.Itoa(max-1)+" bytes"))
		}
		n += len(name)
	default:
		if len(name) >= max {
			return 0, sockErr(call, addrErr(name, "unix path longer than "+strconv.Itoa(max-1)+" bytes (sun_path)"))
		}
		for i := 0; i < len(name); i++ {
			if name[i] == 0 {
				return 0, sockErr(call, addrErr(name, "unix path contains a NUL byte"))
			}
		}
		n += len(name) + 1
	}
	clear(b[:off+max])
	f.family.put(b[:], s.be, s.afUnix)
	copy(b[off:], name)
	if name != "" && name[0] == '@' {
		b[off] = 0
	}
	f.len.put(b[:], s.be, uint64(n))
	return n, nil
}

func (k *Kernel) putRaw(call string, a *SockaddrRaw, b *sockaddrBuf) (int, error) {
	// Raw addresses carry the ABI's bytes; only the family is translated.
	s := &k.socks
	fam, err := k.enumToABI(familyFamily, uint64(a.Fam))
	if err != nil || a.Fam < 0 {
		return 0, sockErr(call, addrErr(a.String(), "family "+a.Fam.String()+" unknown to this ABI"))
	}
	start := int(s.saFamily.off) + int(s.saFamily.size)
	if start+len(a.Data) > sockaddrBufSize {
		return 0, sockErr(call, addrErr(a.String(), "address longer than sockaddr_storage"))
	}
	clear(b[:])
	s.saFamily.put(b[:], s.be, fam)
	copy(b[start:], a.Data)
	return start + len(a.Data), nil
}

// decodeSockaddr converts the first n bytes of a raw address the kernel
// wrote; it returns nil when there is no address (n too short).
func (k *Kernel) decodeSockaddr(b []byte, n int) Sockaddr {
	s := &k.socks
	if n > len(b) {
		n = len(b) // the kernel reports the full length of a truncated address
	}
	if n < int(s.saFamily.off)+int(s.saFamily.size) {
		return nil
	}
	switch fam := s.saFamily.uint(b, s.be); fam {
	case s.afInet:
		var a SockaddrInet4
		s.getInet4(b, &a)
		return a
	case s.afInet6:
		var a SockaddrInet6
		s.getInet6(b, &a)
		return a
	case s.afUnix:
		return SockaddrUnix{Name: s.getUnix(b, n)}
	default:
		start := int(s.saFamily.off) + int(s.saFamily.size)
		return SockaddrRaw{
			Fam:  Family(k.enumFromABI(familyFamily, fam)),
			Data: append([]byte(nil), b[start:n]...),
		}
	}
}

func (s *sockState) getInet4(b []byte, a *SockaddrInet4) {
	f := &s.in4
	a.Port = uint16(b[f.port.off])<<8 | uint16(b[f.port.off+1])
	copy(a.Addr[:], f.addr.bytes(b))
}

func (s *sockState) getInet6(b []byte, a *SockaddrInet6) {
	f := &s.in6
	a.Port = uint16(b[f.port.off])<<8 | uint16(b[f.port.off+1])
	fl := f.flow.bytes(b)
	a.Flowinfo = uint32(fl[0])<<24 | uint32(fl[1])<<16 | uint32(fl[2])<<8 | uint32(fl[3])
	copy(a.Addr[:], f.addr.bytes(b))
	a.ZoneID = uint32(f.scope.uint(b, s.be))
}

func (s *sockState) getUnix(b []byte, n int) string {
	off := int(s.un.path.off)
	if n <= off {
		return "" // unnamed
	}
	p := b[off:n]
	if p[0] == 0 {
		// Abstract: every byte counts, NULs included.
		return "@" + string(p[1:])
	}
	return goString(p)
}

// Socket creates a socket (socket(2)): for example
// k.Socket(AF_INET, SOCK_STREAM, SOCK_CLOEXEC, 0).
func (k *Kernel) Socket(family Family, typ SockType, flags SockFlags, proto Protocol) (*Fd, error) {
	af, ty, pr, err := k.sockArgs("socket", family, typ, flags, proto)
	if err != nil {
		return nil, err
	}
	r, err := k.intCall("socket", sysSocket, af, ty, pr)
	if err != nil {
		return nil, err
	}
	return k.newFd(r), nil
}

// sockArgs translates socket's and socketpair's arguments; the flags are
// or-ed into the type, as the kernel wants them.
func (k *Kernel) sockArgs(call string, family Family, typ SockType, flags SockFlags, proto Protocol) (af, ty, pr uintptr, err error) {
	if uint64(flags)&^k.socks.sockFlagsKnown != 0 {
		return 0, 0, 0, badArg(call, "unknown SockFlags bits "+strconv.FormatUint(uint64(flags)&^k.socks.sockFlagsKnown, 16))
	}
	a, err := k.enumToABI(familyFamily, uint64(family))
	if err != nil {
		if !familyFamily.member(uint64(family)) {
			// A family no kernel api knows has: what Linux, which
			// takes any number, answers for it.
			return 0, 0, 0, callErr(call, EAFNOSUPPORT)
		}
		return 0, 0, 0, sockErr(call, err)
	}
	t, err := k.enumToABI(sockTypeFamily, uint64(typ))
	if err != nil {
		return 0, 0, 0, sockErr(call, err)
	}
	fl, err := k.flagsToABI(sockFlagsFamily, uint64(flags))
	if err != nil {
		return 0, 0, 0, sockErr(call, err)
	}
	p, err := k.enumToABI(protocolFamily, uint64(proto))
	if err != nil {
		if !protocolFamily.member(uint64(proto)) {
			return 0, 0, 0, callErr(call, EPROTONOSUPPORT)
		}
		return 0, 0, 0, sockErr(call, err)
	}
	return uintptr(a), uintptr(t | fl), uintptr(p), nil
}

// Socketpair creates a pair of connected sockets (socketpair(2)); on Linux
// only AF_UNIX supports it.
func (k *Kernel) Socketpair(family Family, typ SockType, flags SockFlags, proto Protocol) (a, b *Fd, err error) {
	af, ty, pr, err := k.sockArgs("socketpair", family, typ, flags, proto)
	if err != nil {
		return nil, nil, err
	}
	var sv [2]int32
	_, e := k.syscall(sysSocketpair, af, ty, pr, uintptr(unsafe.Pointer(&sv)), 0, 0)
	if e != 0 {
		return nil, nil, callErr("socketpair", e)
	}
	return k.newFd(uintptr(sv[0])), k.newFd(uintptr(sv[1])), nil
}

// Bind gives the socket a local address (bind(2)). An address of another
// family than the socket's is EAFNOSUPPORT, as POSIX says, on every
// kernel (Linux's Unix sockets say EINVAL; api reports EAFNOSUPPORT).
func (f *Fd) Bind(sa Sockaddr) error {
	return f.sockaddrCall("bind", sysBind, sa)
}

// Connect connects the socket to sa (connect(2)). On a nonblocking socket
// an error matching EINPROGRESS means the connection is under way: wait for
// the socket to become writable, then read SockError. An address of
// another family than the socket's is EAFNOSUPPORT, as for Bind.
func (f *Fd) Connect(sa Sockaddr) error {
	err := f.sockaddrCall("connect", sysConnect, sa)
	if !errors.Is(err, EINTR) {
		return err
	}
	// A signal (the Go runtime preempts goroutines with SIGURG)
	// interrupted a blocking connect. The kernel goes on connecting, as
	// POSIX says, and connecting again would say EALREADY: wait for the
	// outcome as package net does, until the socket is writable, then take
	// its pending error.
	fds := []PollFd{{Fd: f, Events: POLLOUT}}
	for {
		_, err = f.k.Poll(fds, -1)
		if err == nil {
			break
		}
		if !errors.Is(err, EINTR) {
			return err
		}
	}
	pending, err := f.SockError()
	if err != nil {
		return err
	}
	if pending != 0 {
		return callErr("connect", pending)
	}
	return nil
}

func (f *Fd) sockaddrCall(call string, c call, sa Sockaddr) error {
	if f == nil {
		return callErr(call, EBADF)
	}
	var raw sockaddrBuf
	l, err := f.k.encodeSockaddr(call, sa, &raw)
	if err != nil {
		return err
	}
	n, e := f.acquire()
	if e != 0 {
		return callErr(call, e)
	}
	_, e = f.k.syscall(c, n, uintptr(unsafe.Pointer(&raw)), uintptr(l), 0, 0, 0)
	f.release()
	if e == EINVAL && f.otherFamily(&raw) {
		e = EAFNOSUPPORT // NetBSD's UDP checks the length first
	}
	if e != 0 {
		return callErr(call, e)
	}
	return nil
}

// otherFamily reports whether the raw address is of another family than
// the socket's own, which its name says (read only after an EINVAL, so
// that every kernel reports the mismatch as EAFNOSUPPORT).
func (f *Fd) otherFamily(raw *sockaddrBuf) bool {
	s := &f.k.socks
	var own sockaddrBuf
	alen := uint32(len(own))
	n, e := f.acquire()
	if e != 0 {
		return false
	}
	_, e = f.k.syscall(sysGetsockname, n, uintptr(unsafe.Pointer(&own)), uintptr(unsafe.Pointer(&alen)), 0, 0, 0)
	f.release()
	end := int(s.saFamily.off) + int(s.saFamily.size)
	if e != 0 || int(alen) < end {
		return false
	}
	return s.saFamily.uint(own[:], s.be) != s.saFamily.uint(raw[:], s.be)
}

// Listen marks the socket as accepting connections, with a queue of
// backlog pending ones (listen(2)). A negative backlog is an error here,
// though Linux would silently take it as its maximum.
func (f *Fd) Listen(backlog int) error {
	if backlog < 0 || backlog > 1<<31-1 {
		return badArg("listen", "backlog "+strconv.Itoa(backlog)+" out of range")
	}
	return errOnly(f.fdCall("listen", sysListen, uintptr(backlog), 0, 0))
}

// Accept takes a pending connection (accept(2)) and returns it with the
// peer's address. It blocks unless the socket is nonblocking; SO_RCVTIMEO
// (SetRcvTimeo) bounds the wait, after which it fails with EAGAIN. (Where
// the kernel's accept ignores SO_RCVTIMEO, NetBSD's, api waits with poll
// first; a connection another thread takes meanwhile can still leave
// accept blocked there.)
func (f *Fd) Accept() (*Fd, Sockaddr, error) {
	if f != nil && !f.k.hasCall(sysAccept) && f.k.table.OS == "linux" {
		// Linux/386 has direct socket calls but no accept: accept4 with
		// no flags is the same call.
		return f.accept("accept", sysAccept4, 0, false)
	}
	return f.accept("accept", sysAccept, 0, false)
}

// Accept4 is Accept with flags (SOCK_NONBLOCK, SOCK_CLOEXEC) set on the new
// descriptor atomically (accept4(2)).
func (f *Fd) Accept4(flags SockFlags) (*Fd, Sockaddr, error) {
	return f.accept("accept4", sysAccept4, flags, true)
}

func (f *Fd) accept(call string, c call, flags SockFlags, four bool) (*Fd, Sockaddr, error) {
	if f == nil {
		return nil, nil, callErr(call, EBADF)
	}
	k := f.k
	var fl uint64
	if four {
		if uint64(flags)&^k.socks.sockFlagsKnown != 0 {
			return nil, nil, badArg(call, "unknown SockFlags bits "+strconv.FormatUint(uint64(flags)&^k.socks.sockFlagsKnown, 16))
		}
		var err error
		if fl, err = k.flagsToABI(sockFlagsFamily, uint64(flags)); err != nil {
			return nil, nil, sockErr(call, err)
		}
	}
	if k.socks.acceptPolls {
		if err := f.acceptWait(call); err != nil {
			return nil, nil, err
		}
	}
	var raw sockaddrBuf
	alen := uint32(len(raw)) // socklen_t is 32 bits on every ABI
	n, e := f.acquire()
	if e != 0 {
		return nil, nil, callErr(call, e)
	}
	r, e := k.syscall(c, n, uintptr(unsafe.Pointer(&raw)), uintptr(unsafe.Pointer(&alen)), uintptr(fl), 0, 0)
	f.release()
	if e != 0 {
		return nil, nil, callErr(call, e)
	}
	return k.newFd(r), k.decodeSockaddr(raw[:], int(alen)), nil
}

// acceptWait honours SO_RCVTIMEO for a kernel whose accept does not: on a
// blocking, listening socket with a receive timeout it polls for a
// pending connection that long and fails with EAGAIN, as Linux's accept
// does, when none came. Errors of its own queries, and sockets that do
// not listen, are left for accept to report.
func (f *Fd) acceptWait(call string) error {
	d, err := f.RcvTimeo()
	if err != nil || d <= 0 {
		return nil
	}
	if on, err := f.AcceptConn(); err != nil || !on {
		return nil
	}
	fl, err := f.GetStatusFlags()
	if err != nil || fl&O_NONBLOCK != 0 {
		return nil
	}
	deadline := time.Now().Add(d)
	for {
		ms := int((time.Until(deadline) + time.Millisecond - 1) / time.Millisecond)
		if ms <= 0 {
			return callErr(call, EAGAIN)
		}
		fds := [1]PollFd{{Fd: f, Events: POLLIN}}
		n, err := f.k.Poll(fds[:], ms)
		switch {
		case err == nil && n == 0:
			return callErr(call, EAGAIN)
		case err == nil || !errors.Is(err, EINTR):
			return nil
		}
	}
}

// Getsockname returns the socket's local address (getsockname(2)).
func (f *Fd) Getsockname() (Sockaddr, error) {
	return f.nameCall("getsockname", sysGetsockname)
}

// Getpeername returns the address of the connected peer (getpeername(2));
// ENOTCONN when there is none.
func (f *Fd) Getpeername() (Sockaddr, error) {
	return f.nameCall("getpeername", sysGetpeername)
}

func (f *Fd) nameCall(call string, c call) (Sockaddr, error) {
	var raw sockaddrBuf
	alen := uint32(len(raw))
	n, e := f.acquire()
	if e != 0 {
		return nil, callErr(call, e)
	}
	_, e = f.k.syscall(c, n, uintptr(unsafe.Pointer(&raw)), uintptr(unsafe.Pointer(&alen)), 0, 0, 0)
	f.release()
	if e != 0 {
		return nil, callErr(call, e)
	}
	return f.k.decodeSockaddr(raw[:], int(alen)), nil
}

// Shutdown shuts down part of a full-duplex connection (shutdown(2)): after
// SHUT_WR the peer reads end of file.
func (f *Fd) Shutdown(how ShutHow) error {
	if f == nil {
		return callErr("shutdown", EBADF)
	}
	h, err := f.k.enumToABI(shutHowFamily, uint64(how))
	if err != nil {
		return sockErr("shutdown", err)
	}
	return errOnly(f.fdCall("shutdown", sysShutdown, uintptr(h), 0, 0))
}

// msgFlags validates and translates flags for the send and receive calls.
func (k *Kernel) msgFlags(call string, flags MsgFlags) (uintptr, error) {
	if extra := uint64(flags) &^ k.socks.msgFlagsKnown; extra != 0 {
		return 0, badArg(call, "unknown MsgFlags bits 0x"+strconv.FormatUint(extra, 16))
	}
	v, err := k.flagsToABI(msgFlagsFamily, uint64(flags))
	if err != nil {
		return 0, sockErr(call, err)
	}
	return uintptr(v), nil
}

// Sendto sends p to the address to (sendto(2)); to may be nil on a
// connected socket, which is send(2). An address of another family than
// the socket's is EAFNOSUPPORT, as for Bind. With a value address (not a pointer
// that escapes elsewhere) it allocates nothing.
func (f *Fd) Sendto(p []byte, flags MsgFlags, to Sockaddr) (int, error) {
	if f == nil {
		return 0, callErr("sendto", EBADF)
	}
	k := f.k
	fl, err := k.msgFlags("sendto", flags)
	if err != nil {
		return 0, err
	}
	var raw sockaddrBuf
	var ap unsafe.Pointer
	l := 0
	if to != nil {
		if l, err = k.encodeSockaddr("sendto", to, &raw); err != nil {
			return 0, err
		}
		ap = unsafe.Pointer(&raw)
	}
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("sendto", e)
	}
	r, e := k.syscall(sysSendto, n, uintptr(bufPtr(p)), uintptr(len(p)), fl, uintptr(ap), uintptr(l))
	f.release()
	if e == EINVAL && ap != nil && f.otherFamily(&raw) {
		e = EAFNOSUPPORT // as for Bind
	}
	if e != 0 {
		return 0, callErr("sendto", e)
	}
	return int(r), nil
}

// Send sends p on a connected socket (send(2), which is sendto without an
// address).
func (f *Fd) Send(p []byte, flags MsgFlags) (int, error) { return f.Sendto(p, flags, nil) }

// Recvfrom receives into p and returns the sender's address (recvfrom(2));
// the address is nil when the socket reports none (a connected stream).
// With MSG_TRUNC on a datagram socket the result is the datagram's full
// length, which may exceed len(p). Unlike Read, a zero result is not turned
// into io.EOF: zero-length datagrams exist.
func (f *Fd) Recvfrom(p []byte, flags MsgFlags) (int, Sockaddr, error) {
	var raw sockaddrBuf
	r, alen, err := f.recvfrom(p, flags, &raw)
	if err != nil {
		return 0, nil, err
	}
	return r, f.k.decodeSockaddr(raw[:], alen), nil
}

// Recv receives into p without reporting the sender (recv(2)).
func (f *Fd) Recv(p []byte, flags MsgFlags) (int, error) {
	r, _, err := f.recvfrom(p, flags, nil)
	return r, err
}

// RecvfromInet4 is Recvfrom for IPv4 sockets that fills *from instead of
// allocating an address. It fails with EAFNOSUPPORT if the sender is not an
// IPv4 address (the data is received all the same).
func (f *Fd) RecvfromInet4(p []byte, flags MsgFlags, from *SockaddrInet4) (int, error) {
	var raw sockaddrBuf
	r, alen, err := f.recvfrom(p, flags, &raw)
	if err != nil {
		return 0, err
	}
	s := &f.k.socks
	if alen < s.in4.size || s.saFamily.uint(raw[:], s.be) != s.afInet {
		return r, callErr("recvfrom", EAFNOSUPPORT)
	}
	if from != nil {
		s.getInet4(raw[:], from)
	}
	return r, nil
}

// RecvfromInet6 is RecvfromInet4 for IPv6 sockets.
func (f *Fd) RecvfromInet6(p []byte, flags MsgFlags, from *SockaddrInet6) (int, error) {
	var raw sockaddrBuf
	r, alen, err := f.recvfrom(p, flags, &raw)
	if err != nil {
		return 0, err
	}
	s := &f.k.socks
	if alen < s.in6.size || s.saFamily.uint(raw[:], s.be) != s.afInet6 {
		return r, callErr("recvfrom", EAFNOSUPPORT)
	}
	if from != nil {
		s.getInet6(raw[:], from)
	}
	return r, nil
}

// RecvfromNetlink is Recvfrom for netlink sockets that fills *from instead
// of allocating an address (netlink readers check that a message comes
// from the kernel, port 0). It fails with EAFNOSUPPORT if the sender is not
// a netlink address (the data is received all the same).
func (f *Fd) RecvfromNetlink(p []byte, flags MsgFlags, from *SockaddrNetlink) (int, error) {
	var raw sockaddrBuf
	r, alen, err := f.recvfrom(p, flags, &raw)
	if err != nil {
		return 0, err
	}
	var a SockaddrNetlink
	if !f.k.socks.getNetlink(raw[:], alen, &a) {
		return r, callErr("recvfrom", EAFNOSUPPORT)
	}
	if from != nil {
		*from = a
	}
	return r, nil
}

// recvfrom makes the call; raw (nil: no address wanted) receives the
// sender's address and alen its length.
func (f *Fd) recvfrom(p []byte, flags MsgFlags, raw *sockaddrBuf) (int, int, error) {
	if f == nil {
		return 0, 0, callErr("recvfrom", EBADF)
	}
	fl, err := f.k.msgFlags("recvfrom", flags)
	if err != nil {
		return 0, 0, err
	}
	var alen uint32
	var ap, lp unsafe.Pointer
	if raw != nil {
		alen = sockaddrBufSize
		ap, lp = unsafe.Pointer(raw), unsafe.Pointer(&alen)
	}
	n, e := f.acquire()
	if e != 0 {
		return 0, 0, callErr("recvfrom", e)
	}
	r, e := f.k.syscall(sysRecvfrom, n, uintptr(bufPtr(p)), uintptr(len(p)), fl, uintptr(ap), uintptr(lp))
	f.release()
	if e != 0 {
		return 0, 0, callErr("recvfrom", e)
	}
	return int(r), int(alen), nil
}
