package api

import (
	"strconv"
	"time"
	"unsafe"
)

// Socket options: a generic typed API (the option's Go type says its level,
// so SO_REUSEADDR cannot be asked at IPPROTO_TCP by mistake) and helpers
// for the common options with Go-typed values.

var (
	sysGetsockopt = newCall("getsockopt")
	sysSetsockopt = newCall("setsockopt")
)

// SockOption names a socket option with its level: a SockOpt (SOL_SOCKET),
// TCPOpt (SOL_TCP), IPOpt (SOL_IP), IPv6Opt (SOL_IPV6), or a RawSockOpt for
// options api has no name for.
type SockOption interface {
	String() string
	sockOption()
}

// RawSockOpt is an option api has no name for: Level is translated to the
// kernel's ABI, Name is passed as it is (the ABI's own number).
type RawSockOpt struct {
	Level SockLevel
	Name  int
}

func (SockOpt) sockOption()    {}
func (TCPOpt) sockOption()     {}
func (IPOpt) sockOption()      {}
func (IPv6Opt) sockOption()    {}
func (RawSockOpt) sockOption() {}

// Level returns SOL_SOCKET.
func (SockOpt) Level() SockLevel { return SOL_SOCKET }

// Level returns SOL_TCP.
func (TCPOpt) Level() SockLevel { return SOL_TCP }

// Level returns SOL_IP.
func (IPOpt) Level() SockLevel { return SOL_IP }

// Level returns SOL_IPV6.
func (IPv6Opt) Level() SockLevel { return SOL_IPV6 }

// String formats the option as "SOL_SOCKET/42".
func (o RawSockOpt) String() string { return o.Level.String() + "/" + strconv.Itoa(o.Name) }

// Linger is the SO_LINGER option: with OnOff, Close waits up to Linger
// seconds for unsent data to go out.
type Linger struct {
	OnOff  bool
	Linger int // seconds
}

// optState holds the layouts option values use.
type optState struct {
	be     bool
	linger struct {
		size          int
		onoff, linger fieldAt
	}
	timeval struct {
		size      int
		sec, usec fieldAt
	}
}

// optBufSize bounds the option values the helpers decode (struct linger,
// struct timeval, struct ucred).
const optBufSize = 32

func (s *optState) init(k *Kernel) error {
	s.be = k.table.BigEndian
	l, err := k.layoutOf("linger")
	if err != nil {
		return err
	}
	s.linger.size = l.size
	if s.linger.onoff, err = l.must("l_onoff"); err != nil {
		return err
	}
	if s.linger.linger, err = l.must("l_linger"); err != nil {
		return err
	}
	tv, err := k.layoutOf("timeval")
	if err != nil {
		return err
	}
	s.timeval.size = tv.size
	if s.timeval.sec, err = tv.must("tv_sec"); err != nil {
		return err
	}
	if s.timeval.usec, err = tv.must("tv_usec"); err != nil {
		return err
	}
	u := k.optLayout("ucred")
	if l.size > optBufSize || tv.size > optBufSize || u.size > optBufSize {
		return errMissing("linger, timeval and ucred layouts of at most 32 bytes")
	}
	return nil
}

// levelToABI translates an option level. Protocol levels are protocol
// numbers on every Unix; the BSDs have no SOL_IP or SOL_TCP names for them,
// so a level the table does not name goes through its IPPROTO_* twin.
func (k *Kernel) levelToABI(lv SockLevel) (uint64, error) {
	l, err := k.enumToABI(sockLevelFamily, uint64(lv))
	if err == nil || lv == SOL_SOCKET {
		return l, err
	}
	var p Protocol
	switch lv {
	case SOL_IP:
		p = IPPROTO_IP
	case SOL_TCP:
		p = IPPROTO_TCP
	case SOL_IPV6:
		p = IPPROTO_IPV6
	case SOL_RAW:
		p = IPPROTO_RAW
	case SOL_ICMPV6:
		p = IPPROTO_ICMPV6
	default:
		return 0, err
	}
	if l, perr := k.enumToABI(protocolFamily, uint64(p)); perr == nil {
		return l, nil
	}
	return 0, err
}

// optNums translates a level and an option of family fam (nil: raw).
func (k *Kernel) optNums(lv SockLevel, fam *family, name uint64) (uintptr, uintptr, error) {
	l, err := k.levelToABI(lv)
	if err != nil {
		return 0, 0, err
	}
	if fam != nil {
		a, err := k.enumToABI(fam, name)
		if err != nil {
			if !fam.member(name) {
				// A number of no option api knows: what a kernel says
				// of an option it lacks, as Linux, which takes any
				// number, does.
				return 0, 0, ENOPROTOOPT
			}
			return 0, 0, err
		}
		name = a
	}
	return uintptr(l), uintptr(name), nil
}

// optToABI translates any SockOption. A type switch rather than methods, so
// that the option value never escapes (an interface call would box it).
func (k *Kernel) optToABI(call string, o SockOption) (uintptr, uintptr, error) {
	var (
		lv   SockLevel
		fam  *family
		name uint64
	)
	switch o := o.(type) {
	case SockOpt:
		lv, fam, name = SOL_SOCKET, sockOptFamily, uint64(o)
	case TCPOpt:
		lv, fam, name = SOL_TCP, tcpOptFamily, uint64(o)
	case IPOpt:
		lv, fam, name = SOL_IP, ipOptFamily, uint64(o)
	case IPv6Opt:
		lv, fam, name = SOL_IPV6, iPv6OptFamily, uint64(o)
	case RawSockOpt:
		if o.Name < 0 {
			return 0, 0, badArg(call, "negative option number "+strconv.Itoa(o.Name))
		}
		lv, name = o.Level, uint64(o.Name)
	default:
		return 0, 0, badArg(call, "nil socket option")
	}
	l, n, err := k.optNums(lv, fam, name)
	if err != nil {
		return 0, 0, sockErr(call, err)
	}
	return l, n, nil
}

// getsockopt reads an option into the size bytes at p and returns the
// length the kernel reported.
func (f *Fd) getsockopt(level, name uintptr, p unsafe.Pointer, size int) (int, error) {
	l := uint32(size)
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("getsockopt", e)
	}
	_, e = f.k.syscall(sysGetsockopt, n, level, name, uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	f.release()
	if e != 0 {
		return 0, callErr("getsockopt", e)
	}
	return int(l), nil
}

func (f *Fd) setsockopt(level, name uintptr, p unsafe.Pointer, size int) error {
	n, e := f.acquire()
	if e != 0 {
		return callErr("setsockopt", e)
	}
	_, e = f.k.syscall(sysSetsockopt, n, level, name, uintptr(p), uintptr(size), 0)
	f.release()
	if e != 0 {
		return callErr("setsockopt", e)
	}
	return nil
}

// Getsockopt reads option opt's raw value (the ABI's layout) into buf and
// returns its length (getsockopt(2)).
func (f *Fd) Getsockopt(opt SockOption, buf []byte) (int, error) {
	if f == nil {
		return 0, callErr("getsockopt", EBADF)
	}
	if len(buf) > 1<<30 {
		return 0, badArg("getsockopt", "buffer larger than 1 GiB")
	}
	l, o, err := f.k.optToABI("getsockopt", opt)
	if err != nil {
		return 0, err
	}
	return f.getsockopt(l, o, bufPtr(buf), len(buf))
}

// Setsockopt sets option opt to the raw value buf (setsockopt(2)).
func (f *Fd) Setsockopt(opt SockOption, buf []byte) error {
	if f == nil {
		return callErr("setsockopt", EBADF)
	}
	if len(buf) > 1<<30 {
		return badArg("setsockopt", "value larger than 1 GiB")
	}
	l, o, err := f.k.optToABI("setsockopt", opt)
	if err != nil {
		return err
	}
	return f.setsockopt(l, o, bufPtr(buf), len(buf))
}

// GetsockoptInt reads an option whose value is a C int (or, on some ABIs,
// a single byte).
func (f *Fd) GetsockoptInt(opt SockOption) (int, error) {
	if f == nil {
		return 0, callErr("getsockopt", EBADF)
	}
	l, o, err := f.k.optToABI("getsockopt", opt)
	if err != nil {
		return 0, err
	}
	return f.getInt(l, o)
}

// SetsockoptInt sets an option whose value is a C int.
func (f *Fd) SetsockoptInt(opt SockOption, v int) error {
	if f == nil {
		return callErr("setsockopt", EBADF)
	}
	l, o, err := f.k.optToABI("setsockopt", opt)
	if err != nil {
		return err
	}
	return f.setInt(l, o, v)
}

func (f *Fd) getInt(level, name uintptr) (int, error) {
	var raw [8]byte
	n, err := f.getsockopt(level, name, unsafe.Pointer(&raw), 4)
	if err != nil {
		return 0, err
	}
	if n == 1 {
		return int(raw[0]), nil
	}
	return int(fieldAt{size: 4}.int(raw[:], f.k.table.BigEndian)), nil
}

func (f *Fd) setInt(level, name uintptr, v int) error {
	if v < -1<<31 || v > 1<<31-1 {
		return badArg("setsockopt", "value "+strconv.Itoa(v)+" does not fit a C int")
	}
	var raw [8]byte
	fieldAt{size: 4}.put(raw[:], f.k.table.BigEndian, uint64(uint32(int32(v))))
	return f.setsockopt(level, name, unsafe.Pointer(&raw), 4)
}

// The helpers below name the option by its neutral constant and translate
// it without going through an interface.

func (f *Fd) getOptInt(lv SockLevel, fam *family, name uint64) (int, error) {
	if f == nil {
		return 0, callErr("getsockopt", EBADF)
	}
	l, o, err := f.k.optNums(lv, fam, name)
	if err != nil {
		return 0, sockErr("getsockopt", err)
	}
	return f.getInt(l, o)
}

func (f *Fd) setOptInt(lv SockLevel, fam *family, name uint64, v int) error {
	if f == nil {
		return callErr("setsockopt", EBADF)
	}
	l, o, err := f.k.optNums(lv, fam, name)
	if err != nil {
		return sockErr("setsockopt", err)
	}
	return f.setInt(l, o, v)
}

func (f *Fd) getSockBool(o SockOpt) (bool, error) {
	v, err := f.getOptInt(SOL_SOCKET, sockOptFamily, uint64(o))
	return v != 0, err
}

func (f *Fd) setSockBool(o SockOpt, on bool) error {
	return f.setOptInt(SOL_SOCKET, sockOptFamily, uint64(o), b2i(on))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ReuseAddr reports SO_REUSEADDR.
func (f *Fd) ReuseAddr() (bool, error) { return f.getSockBool(SO_REUSEADDR) }

// SetReuseAddr sets SO_REUSEADDR: bind may reuse a local address still in
// TIME_WAIT.
func (f *Fd) SetReuseAddr(on bool) error { return f.setSockBool(SO_REUSEADDR, on) }

// ReusePort reports SO_REUSEPORT.
func (f *Fd) ReusePort() (bool, error) { return f.getSockBool(SO_REUSEPORT) }

// SetReusePort sets SO_REUSEPORT: several sockets may bind the same address
// and port and share the load.
func (f *Fd) SetReusePort(on bool) error { return f.setSockBool(SO_REUSEPORT, on) }

// KeepAlive reports SO_KEEPALIVE.
func (f *Fd) KeepAlive() (bool, error) { return f.getSockBool(SO_KEEPALIVE) }

// SetKeepAlive sets SO_KEEPALIVE.
func (f *Fd) SetKeepAlive(on bool) error { return f.setSockBool(SO_KEEPALIVE, on) }

// PassCred reports SO_PASSCRED.
func (f *Fd) PassCred() (bool, error) { return f.getSockBool(SO_PASSCRED) }

// SetPassCred sets SO_PASSCRED: received messages carry the sender's
// credentials (Received.Control.Creds).
func (f *Fd) SetPassCred(on bool) error { return f.setSockBool(SO_PASSCRED, on) }

// AcceptConn reports SO_ACCEPTCONN: whether the socket is listening.
func (f *Fd) AcceptConn() (bool, error) { return f.getSockBool(SO_ACCEPTCONN) }

// RcvBuf returns SO_RCVBUF, the receive buffer size. Linux reports double
// the size set, to account for its bookkeeping.
func (f *Fd) RcvBuf() (int, error) { return f.getOptInt(SOL_SOCKET, sockOptFamily, uint64(SO_RCVBUF)) }

// SetRcvBuf sets SO_RCVBUF.
func (f *Fd) SetRcvBuf(n int) error {
	return f.setOptInt(SOL_SOCKET, sockOptFamily, uint64(SO_RCVBUF), n)
}

// SndBuf returns SO_SNDBUF (doubled by Linux, as RcvBuf).
func (f *Fd) SndBuf() (int, error) { return f.getOptInt(SOL_SOCKET, sockOptFamily, uint64(SO_SNDBUF)) }

// SetSndBuf sets SO_SNDBUF.
func (f *Fd) SetSndBuf(n int) error {
	return f.setOptInt(SOL_SOCKET, sockOptFamily, uint64(SO_SNDBUF), n)
}

// TCPNoDelay reports TCP_NODELAY.
func (f *Fd) TCPNoDelay() (bool, error) {
	v, err := f.getOptInt(SOL_TCP, tcpOptFamily, uint64(TCP_NODELAY))
	return v != 0, err
}

// SetTCPNoDelay sets TCP_NODELAY: small writes go out at once instead of
// waiting to be coalesced (Nagle's algorithm off).
func (f *Fd) SetTCPNoDelay(on bool) error {
	return f.setOptInt(SOL_TCP, tcpOptFamily, uint64(TCP_NODELAY), b2i(on))
}

// IPTTL returns IP_TTL, the time-to-live of outgoing IPv4 packets.
func (f *Fd) IPTTL() (int, error) { return f.getOptInt(SOL_IP, ipOptFamily, uint64(IP_TTL)) }

// SetIPTTL sets IP_TTL (1-255; -1, where Linux takes it, restores the
// default). Other values are EINVAL on every kernel (NetBSD would keep the
// low 8 bits).
func (f *Fd) SetIPTTL(ttl int) error {
	if ttl > 255 || ttl == 0 || ttl < -1 {
		return badArg("setsockopt", "IP_TTL "+strconv.Itoa(ttl)+" outside 1..255")
	}
	return f.setOptInt(SOL_IP, ipOptFamily, uint64(IP_TTL), ttl)
}

// IPv6Only reports IPV6_V6ONLY.
func (f *Fd) IPv6Only() (bool, error) {
	v, err := f.getOptInt(SOL_IPV6, iPv6OptFamily, uint64(IPV6_V6ONLY))
	return v != 0, err
}

// SetIPv6Only sets IPV6_V6ONLY: an IPv6 socket does not also serve IPv4
// (mapped) addresses. Set it before bind.
func (f *Fd) SetIPv6Only(on bool) error {
	return f.setOptInt(SOL_IPV6, iPv6OptFamily, uint64(IPV6_V6ONLY), b2i(on))
}

// SocketType returns SO_TYPE (SOCK_STREAM, ...).
func (f *Fd) SocketType() (SockType, error) {
	v, err := f.getOptInt(SOL_SOCKET, sockOptFamily, uint64(SO_TYPE))
	if err != nil {
		return 0, err
	}
	return SockType(f.k.enumFromABI(sockTypeFamily, uint64(v))), nil
}

// SocketFamily returns SO_DOMAIN (AF_INET, ...). Where the ABI has no
// SO_DOMAIN (NetBSD) it is the family of the socket's own name, which
// getsockname reports for a socket bound or not.
func (f *Fd) SocketFamily() (Family, error) {
	if _, err := f.k.enumToABI(sockOptFamily, uint64(SO_DOMAIN)); err != nil {
		return f.nameFamily()
	}
	v, err := f.getOptInt(SOL_SOCKET, sockOptFamily, uint64(SO_DOMAIN))
	if err != nil {
		return 0, err
	}
	return Family(f.k.enumFromABI(familyFamily, uint64(v))), nil
}

// nameFamily is the address family of the socket's name.
func (f *Fd) nameFamily() (Family, error) {
	if f == nil {
		return 0, callErr("getsockname", EBADF)
	}
	s := &f.k.socks
	var raw sockaddrBuf
	alen := uint32(len(raw))
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("getsockname", e)
	}
	_, e = f.k.syscall(sysGetsockname, n, uintptr(unsafe.Pointer(&raw)), uintptr(unsafe.Pointer(&alen)), 0, 0, 0)
	f.release()
	if e != 0 {
		return 0, callErr("getsockname", e)
	}
	if int(alen) < int(s.saFamily.off)+int(s.saFamily.size) {
		return 0, callErr("getsockname", EAFNOSUPPORT)
	}
	return Family(f.k.enumFromABI(familyFamily, s.saFamily.uint(raw[:], s.be))), nil
}

// SocketProtocol returns SO_PROTOCOL (IPPROTO_TCP, ...).
func (f *Fd) SocketProtocol() (Protocol, error) {
	v, err := f.getOptInt(SOL_SOCKET, sockOptFamily, uint64(SO_PROTOCOL))
	if err != nil {
		return 0, err
	}
	return Protocol(f.k.enumFromABI(protocolFamily, uint64(v))), nil
}

// SockError returns and clears the socket's pending error (SO_ERROR): 0
// when there is none, else the error a nonblocking connect ended with, for
// example. err reports a failure of the query itself.
func (f *Fd) SockError() (pending Errno, err error) {
	v, err := f.getOptInt(SOL_SOCKET, sockOptFamily, uint64(SO_ERROR))
	if err != nil || v == 0 {
		return 0, err
	}
	return f.k.errno(uintptr(v)), nil
}

// PeerCred returns the credentials of the peer of a Unix socket, as they
// were when it connected (SO_PEERCRED, Linux).
func (f *Fd) PeerCred() (Ucred, error) {
	if f == nil {
		return Ucred{}, callErr("getsockopt", EBADF)
	}
	l, o, err := f.k.optNums(SOL_SOCKET, sockOptFamily, uint64(SO_PEERCRED))
	if err != nil {
		return Ucred{}, sockErr("getsockopt", err)
	}
	m := &f.k.socks.msg
	if m.ucred.size == 0 {
		return Ucred{}, callErr("getsockopt", ENOTSUP)
	}
	var raw [optBufSize]byte
	n, err := f.getsockopt(l, o, unsafe.Pointer(&raw), m.ucred.size)
	if err != nil {
		return Ucred{}, err
	}
	if n < m.ucred.size {
		return Ucred{}, callErr("getsockopt", EINVAL)
	}
	return m.getUcred(raw[:]), nil
}

// Linger returns SO_LINGER.
func (f *Fd) Linger() (Linger, error) {
	if f == nil {
		return Linger{}, callErr("getsockopt", EBADF)
	}
	l, o, err := f.k.optNums(SOL_SOCKET, sockOptFamily, uint64(SO_LINGER))
	if err != nil {
		return Linger{}, sockErr("getsockopt", err)
	}
	s := &f.k.socks.opt
	var raw [optBufSize]byte
	if _, err := f.getsockopt(l, o, unsafe.Pointer(&raw), s.linger.size); err != nil {
		return Linger{}, err
	}
	return Linger{
		OnOff:  s.linger.onoff.int(raw[:], s.be) != 0,
		Linger: int(s.linger.linger.int(raw[:], s.be)),
	}, nil
}

// SetLinger sets SO_LINGER.
func (f *Fd) SetLinger(lg Linger) error {
	if f == nil {
		return callErr("setsockopt", EBADF)
	}
	if lg.Linger < 0 || lg.Linger > 1<<31-1 {
		return badArg("setsockopt", "linger time "+strconv.Itoa(lg.Linger)+"s out of range")
	}
	l, o, err := f.k.optNums(SOL_SOCKET, sockOptFamily, uint64(SO_LINGER))
	if err != nil {
		return sockErr("setsockopt", err)
	}
	s := &f.k.socks.opt
	var raw [optBufSize]byte
	s.linger.onoff.put(raw[:], s.be, uint64(b2i(lg.OnOff)))
	s.linger.linger.put(raw[:], s.be, uint64(lg.Linger))
	return f.setsockopt(l, o, unsafe.Pointer(&raw), s.linger.size)
}

// RcvTimeo returns SO_RCVTIMEO: how long a receive (or accept) may block
// before failing with EAGAIN; 0 means forever. The kernel keeps it in
// clock ticks, so it reads back rounded.
func (f *Fd) RcvTimeo() (time.Duration, error) { return f.getTimeo(SO_RCVTIMEO) }

// SetRcvTimeo sets SO_RCVTIMEO (0: block forever). Sub-microsecond parts
// round up, so a tiny timeout never turns into none.
func (f *Fd) SetRcvTimeo(d time.Duration) error { return f.setTimeo(SO_RCVTIMEO, d) }

// SndTimeo returns SO_SNDTIMEO, the send counterpart of RcvTimeo.
func (f *Fd) SndTimeo() (time.Duration, error) { return f.getTimeo(SO_SNDTIMEO) }

// SetSndTimeo sets SO_SNDTIMEO (0: block forever).
func (f *Fd) SetSndTimeo(d time.Duration) error { return f.setTimeo(SO_SNDTIMEO, d) }

func (f *Fd) getTimeo(opt SockOpt) (time.Duration, error) {
	if f == nil {
		return 0, callErr("getsockopt", EBADF)
	}
	l, o, err := f.k.optNums(SOL_SOCKET, sockOptFamily, uint64(opt))
	if err != nil {
		return 0, sockErr("getsockopt", err)
	}
	s := &f.k.socks.opt
	var raw [optBufSize]byte
	if _, err := f.getsockopt(l, o, unsafe.Pointer(&raw), s.timeval.size); err != nil {
		return 0, err
	}
	sec := s.timeval.sec.int(raw[:], s.be)
	usec := s.timeval.usec.int(raw[:], s.be)
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func (f *Fd) setTimeo(opt SockOpt, d time.Duration) error {
	if f == nil {
		return callErr("setsockopt", EBADF)
	}
	if d < 0 {
		return badArg("setsockopt", "negative timeout "+d.String())
	}
	l, o, err := f.k.optNums(SOL_SOCKET, sockOptFamily, uint64(opt))
	if err != nil {
		return sockErr("setsockopt", err)
	}
	sec := int64(d / time.Second)
	usec := int64((d%time.Second + time.Microsecond - 1) / time.Microsecond)
	if usec == 1e6 {
		sec, usec = sec+1, 0
	}
	s := &f.k.socks.opt
	var raw [optBufSize]byte
	s.timeval.sec.put(raw[:], s.be, uint64(sec))
	s.timeval.usec.put(raw[:], s.be, uint64(usec))
	return f.setsockopt(l, o, unsafe.Pointer(&raw), s.timeval.size)
}
