package rump

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// The routing socket (PF_ROUTE, route(4)): a message is a struct
// rt_msghdr followed by the sockaddrs its rtm_addrs bits name, in RTAX_
// order, each padded to RT_ROUNDUP_UNIT bytes. Writing RTM_ADD, RTM_DELETE
// or RTM_GET asks the kernel; it answers (to every routing socket,
// including the asking one) with the same message completed, matched here
// by rtm_pid and rtm_seq.

// RouteFlags are a route's flags (RTF_*), translated by name through the
// ABI table.
type RouteFlags uint32

const (
	RtfUp        RouteFlags = 1 << iota // RTF_UP: usable
	RtfGateway                          // RTF_GATEWAY: through a gateway
	RtfHost                             // RTF_HOST: to a host (not a network)
	RtfReject                           // RTF_REJECT: unreachable
	RtfDynamic                          // RTF_DYNAMIC: made by a redirect
	RtfModified                         // RTF_MODIFIED: changed by a redirect
	RtfDone                             // RTF_DONE: message confirmed
	RtfConnected                        // RTF_CONNECTED: hosts on it are neighbours
	RtfStatic                           // RTF_STATIC: added by hand
	RtfBlackhole                        // RTF_BLACKHOLE: discards packets
	RtfLocal                            // RTF_LOCAL: a local address
	RtfBroadcast                        // RTF_BROADCAST: a broadcast address
)

var routeFlagNames = namedBits{
	"RTF_UP", "RTF_GATEWAY", "RTF_HOST", "RTF_REJECT", "RTF_DYNAMIC", "RTF_MODIFIED",
	"RTF_DONE", "RTF_CONNECTED", "RTF_STATIC", "RTF_BLACKHOLE", "RTF_LOCAL", "RTF_BROADCAST",
}

// String names the flags: "UP|GATEWAY|STATIC".
func (f RouteFlags) String() string { return routeFlagNames.format(uint64(f), "RTF_") }

func (f RouteFlags) abi(k *api.Kernel, op string) (uint64, error) {
	return routeFlagNames.toABI(k, op, "route", uint64(f))
}

func routeFlagsFromABI(k *api.Kernel, v uint64) RouteFlags {
	return RouteFlags(routeFlagNames.fromABI(k, v))
}

// Route is a routing table entry, as RouteGet reports it.
type Route struct {
	Dst     netip.Prefix // the destination the entry covers
	Gateway netip.Addr   // the next hop; invalid for a directly connected destination
	IfIndex int          // the outgoing interface (IfIndex), 0 if the kernel did not say
	Flags   RouteFlags
}

func (r Route) String() string {
	gw := "link"
	if r.Gateway.IsValid() {
		gw = r.Gateway.String()
	}
	return fmt.Sprintf("%v via %s if %d <%v>", r.Dst, gw, r.IfIndex, r.Flags)
}

// routeSeq numbers this process's routing messages.
var routeSeq atomic.Int32

// rtNums are the routing socket's constants, read from the table: the
// message version and types, and the RTAX_ index of each address (whose
// bit in rtm_addrs is 1<<index, the RTA_ constant).
type rtNums struct {
	version, roundup           uint64
	add, del, get              uint64
	dst, gateway, netmask, ifp int
	max                        int
	afLink                     uint64
}

func rtConsts(k *api.Kernel, op string) (*rtNums, error) {
	var n rtNums
	var dst, gw, mask, ifp, max uint64
	for _, c := range []struct {
		p    *uint64
		name string
	}{
		{&n.version, "RTM_VERSION"}, {&n.add, "RTM_ADD"}, {&n.del, "RTM_DELETE"}, {&n.get, "RTM_GET"},
		{&dst, "RTAX_DST"}, {&gw, "RTAX_GATEWAY"}, {&mask, "RTAX_NETMASK"}, {&ifp, "RTAX_IFP"},
		{&max, "RTAX_MAX"}, {&n.afLink, "AF_LINK"},
	} {
		v, ok := k.Const(c.name)
		if !ok {
			return nil, fmt.Errorf("%s: %s is not in the %s ABI table: %w", op, c.name, k.Name(), api.ENOSYS)
		}
		*c.p = v
	}
	if max > 32 || dst >= max || gw >= max || mask >= max || ifp >= max {
		return nil, fmt.Errorf("%s: RTAX_ constants out of range in the %s ABI table: %w", op, k.Name(), api.ENOSYS)
	}
	n.dst, n.gateway, n.netmask, n.ifp, n.max = int(dst), int(gw), int(mask), int(ifp), int(max)
	n.roundup = constOr(k, "RT_ROUNDUP_UNIT", 8)
	return &n, nil
}

// roundup pads a sockaddr length as RT_ROUNDUP does (0 takes one unit).
func (n *rtNums) roundupLen(l int) int {
	u := int(n.roundup)
	if l <= 0 {
		return u
	}
	return (l + u - 1) / u * u
}

// routeSocket opens a PF_ROUTE socket; api's Socket has no AF_ROUTE, a
// BSD family, so it is made by the ABI's socket call.
func routeSocket(k *api.Kernel, op string) (*api.Fd, error) {
	af, ok1 := k.Const("AF_ROUTE")
	raw, ok2 := k.Const("SOCK_RAW")
	cloexec, _ := k.Const("SOCK_CLOEXEC")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: no AF_ROUTE in the %s ABI table: %w", op, k.Name(), api.EAFNOSUPPORT)
	}
	name := "__socket30"
	if !k.Has(name) {
		name = "socket"
	}
	fd, err := k.Syscall(name, uintptr(af), uintptr(raw|cloexec), 0)
	if err != nil {
		return nil, fmt.Errorf("%s: routing socket: %w", op, err)
	}
	return k.NewFd(int(fd))
}

// rtMessage builds a routing message: the header, then the sockaddrs of
// addrs (by RTAX_ index) in index order, each padded, their bits set in
// rtm_addrs.
func rtMessage(k *api.Kernel, n *rtNums, op string, typ uint64, flags uint64, seq int32, addrs map[int][]byte) ([]byte, error) {
	r, err := newRaw(k, op, "rt_msghdr")
	if err != nil {
		return nil, err
	}
	msg := append([]byte(nil), r.b...)
	var bits uint64
	for i := 0; i < n.max; i++ {
		sa, ok := addrs[i]
		if !ok {
			continue
		}
		bits |= 1 << i
		p := make([]byte, n.roundupLen(len(sa)))
		copy(p, sa)
		msg = append(msg, p...)
	}
	r.b = msg[:len(r.b)]
	r.put("rtm_msglen", uint64(len(msg)))
	r.put("rtm_version", n.version)
	r.put("rtm_type", typ)
	r.put("rtm_flags", flags)
	r.put("rtm_addrs", bits)
	r.put("rtm_seq", uint64(uint32(seq)))
	if r.err != nil {
		return nil, r.err
	}
	return msg, nil
}

// sockaddrBytes encodes a as a BSD sockaddr_in/in6.
func sockaddrBytes(k *api.Kernel, a netip.Addr) ([]byte, error) {
	var b [128]byte
	l, err := putSockaddr(k, b[:], a)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b[:l]...), nil
}

// RouteAdd adds a route to dst through the gateway gw (RTM_ADD), as
// "route add -net dst gw": a host route for a full-length prefix. The
// kernel adds the routes to the prefixes of its interfaces' addresses
// itself.
func RouteAdd(k *api.Kernel, dst netip.Prefix, gw netip.Addr) error {
	return routeChange(k, "RTM_ADD", dst, gw)
}

// RouteDelete removes the route to dst (RTM_DELETE).
func RouteDelete(k *api.Kernel, dst netip.Prefix) error {
	return routeChange(k, "RTM_DELETE", dst, netip.Addr{})
}

func routeChange(k *api.Kernel, op string, dst netip.Prefix, gw netip.Addr) error {
	op += " " + dst.String()
	if !dst.IsValid() {
		return fmt.Errorf("%s: invalid destination: %w", op, api.EINVAL)
	}
	add := strings.HasPrefix(op, "RTM_ADD")
	if add && (!gw.IsValid() || gw.Unmap().Is4() != dst.Addr().Unmap().Is4()) {
		return fmt.Errorf("%s: the gateway %v is not an address of the destination's family: %w", op, gw, api.EINVAL)
	}
	n, err := rtConsts(k, op)
	if err != nil {
		return err
	}
	dst = dst.Masked()
	total := 128
	if dst.Addr().Unmap().Is4() {
		total = 32
		dst = netip.PrefixFrom(dst.Addr().Unmap(), dst.Bits())
	}
	addrs := map[int][]byte{}
	if addrs[n.dst], err = sockaddrBytes(k, dst.Addr()); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	typ := n.del
	flags := RouteFlags(0)
	if add {
		typ = n.add
		flags = RtfUp | RtfGateway | RtfStatic
		if addrs[n.gateway], err = sockaddrBytes(k, gw.Unmap()); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if dst.Bits() == total {
		flags |= RtfHost
	} else if addrs[n.netmask], err = sockaddrBytes(k, maskAddr(dst.Bits(), total)); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	fl, err := flags.abi(k, op)
	if err != nil {
		return err
	}
	msg, err := rtMessage(k, n, op, typ, fl, routeSeq.Add(1), addrs)
	if err != nil {
		return err
	}
	s, err := routeSocket(k, op)
	if err != nil {
		return err
	}
	defer s.Close()
	// The kernel answers the write itself: EEXIST, ESRCH, ENETUNREACH.
	if _, err := s.Write(msg); err != nil {
		return &os.SyscallError{Syscall: op, Err: unwrapSyscall(err)}
	}
	return nil
}

// RouteGet looks up the route the kernel would use to reach dst
// (RTM_GET), as "route get dst".
func RouteGet(k *api.Kernel, dst netip.Addr) (Route, error) {
	op := "RTM_GET " + dst.String()
	if !dst.IsValid() {
		return Route{}, fmt.Errorf("%s: invalid destination: %w", op, api.EINVAL)
	}
	dst = dst.Unmap()
	n, err := rtConsts(k, op)
	if err != nil {
		return Route{}, err
	}
	addrs := map[int][]byte{}
	if addrs[n.dst], err = sockaddrBytes(k, dst); err != nil {
		return Route{}, fmt.Errorf("%s: %w", op, err)
	}
	// An empty AF_LINK sockaddr under RTA_IFP asks for the interface.
	ifp := make([]byte, 20)
	ifp[0], ifp[1] = 20, byte(n.afLink)
	addrs[n.ifp] = ifp
	// RTF_UP marks a route(8) query: without it NetBSD answers as to
	// arp(8), with the link-layer entry of dst.
	up, err := RtfUp.abi(k, op)
	if err != nil {
		return Route{}, err
	}
	seq := routeSeq.Add(1)
	msg, err := rtMessage(k, n, op, n.get, up, seq, addrs)
	if err != nil {
		return Route{}, err
	}
	s, err := routeSocket(k, op)
	if err != nil {
		return Route{}, err
	}
	defer s.Close()
	if err := s.SetRcvTimeo(5 * time.Second); err != nil {
		return Route{}, err
	}
	pid := k.Getpid()
	if _, err := s.Write(msg); err != nil {
		return Route{}, &os.SyscallError{Syscall: op, Err: unwrapSyscall(err)}
	}
	buf := make([]byte, 2048)
	for {
		m, err := s.Read(buf)
		if err != nil {
			if errors.Is(err, api.EAGAIN) {
				err = errRouteReply
			}
			return Route{}, &os.SyscallError{Syscall: op, Err: unwrapSyscall(err)}
		}
		r, err := newRaw(k, op, "rt_msghdr")
		if err != nil {
			return Route{}, err
		}
		if m < len(r.b) {
			continue
		}
		r.b = buf[:len(r.b)]
		if r.get("rtm_type") != n.get || int32(r.get("rtm_seq")) != seq || int(int32(r.get("rtm_pid"))) != pid {
			continue // another socket's traffic
		}
		if e := r.get("rtm_errno"); e != 0 {
			return Route{}, &os.SyscallError{Syscall: op, Err: errnoFromABI(k, e)}
		}
		if r.err != nil {
			return Route{}, r.err
		}
		return parseRoute(k, n, r, buf[len(r.b):min(m, int(r.get("rtm_msglen")))], dst), nil
	}
}

// parseRoute decodes the addresses after a reply's header.
func parseRoute(k *api.Kernel, n *rtNums, r *raw, rest []byte, dst netip.Addr) Route {
	rt := Route{IfIndex: int(r.get("rtm_index")), Flags: routeFlagsFromABI(k, r.get("rtm_flags"))}
	fam := "AF_INET"
	total := 32
	if dst.Is6() {
		fam, total = "AF_INET6", 128
	}
	bits := r.get("rtm_addrs")
	var d, mask netip.Addr
	for i := 0; i < n.max && len(rest) > 0; i++ {
		if bits&(1<<i) == 0 {
			continue
		}
		l := int(rest[0]) // sa_len
		sa := rest[:min(len(rest), max(l, 2))]
		switch i {
		case n.dst:
			d, _ = getSockaddr(k, sa, "")
		case n.gateway: // an address, or the interface's link address
			if a, ok := getSockaddr(k, sa, ""); ok {
				rt.Gateway = a
			}
		case n.netmask:
			mask, _ = getSockaddr(k, sa, fam)
			if l == 0 {
				mask = maskAddr(0, total)
			}
		}
		adv := n.roundupLen(l)
		if adv > len(rest) {
			break
		}
		rest = rest[adv:]
	}
	if !d.IsValid() {
		d = dst
	}
	bitsLen := total
	if mask.IsValid() {
		bitsLen = 0
		for _, b := range mask.AsSlice() {
			for j := 7; j >= 0 && b&(1<<j) != 0; j-- {
				bitsLen++
			}
			if b != 0xff {
				break
			}
		}
	}
	rt.Dst = netip.PrefixFrom(d, bitsLen).Masked()
	return rt
}

// errnoFromABI converts a NetBSD errno number carried in a message to
// api's Errno, by name.
func errnoFromABI(k *api.Kernel, e uint64) error {
	for _, x := range k.ABI().Errnos {
		if uint64(x.Nr) == e {
			for i := api.Errno(1); i < 4096; i++ {
				if i.Name() == x.Name {
					return i
				}
			}
			return fmt.Errorf("%s (%d)", x.Name, e)
		}
	}
	return fmt.Errorf("errno %d", e)
}

// addrOf is the address of p's first byte, for a pointer field of a
// struct the kernel reads (p is heap memory, which does not move).
func addrOf(p []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(p))) }

// errRouteReply reports a routing socket that never answered.
var errRouteReply = errors.New("no reply from the routing socket")
