package api

import (
	"net/netip"
	"strconv"
	"strings"
)

// Socket addresses: neutral Go types, parsing and formatting, conversion to
// and from the net and net/netip packages. Conversion to the ABI's raw
// sockaddr_* bytes lives in sockets.go.

// Sockaddr is a socket address of one family: SockaddrInet4, SockaddrInet6,
// SockaddrUnix, SockaddrNetlink (encoded only; see its doc), or SockaddrRaw
// for families api does not decode. Calls take either the value or a
// pointer to it.
type Sockaddr interface {
	// Family is the address family (AF_INET, ...).
	Family() Family
	// String formats the address so that ParseSockaddr reads it back.
	String() string
	sockaddr()
}

// SockaddrInet4 is an IPv4 address and port (struct sockaddr_in).
type SockaddrInet4 struct {
	Addr [4]byte
	Port uint16
}

// SockaddrInet6 is an IPv6 address and port (struct sockaddr_in6).
type SockaddrInet6 struct {
	Addr     [16]byte
	Port     uint16
	ZoneID   uint32 // sin6_scope_id: the interface index of a link-local address
	Flowinfo uint32 // traffic class and flow label, in host numbering
}

// SockaddrUnix is a Unix-domain address (struct sockaddr_un). A Name
// starting with "@" is in Linux's abstract namespace, as in Go's net
// package; the empty Name is an unnamed socket (bind autobinds on Linux).
type SockaddrUnix struct {
	Name string
}

// SockaddrNetlink is a netlink address (struct sockaddr_nl): Pid is the
// port id (0 is the kernel; binding to 0 lets the kernel choose one) and
// Groups the bitmap of multicast groups 1 to 32 (group n is bit n-1).
// Received addresses of this family still decode as SockaddrRaw, as they
// always have; Kernel.NetlinkAddr converts them, and Fd.RecvfromNetlink
// receives without allocating.
type SockaddrNetlink struct {
	Pid    uint32
	Groups uint32
}

// SockaddrRaw is an address of a family api does not decode: Data holds
// the bytes after the family field, in the ABI's layout.
type SockaddrRaw struct {
	Fam  Family
	Data []byte
}

func (SockaddrInet4) sockaddr()   {}
func (SockaddrInet6) sockaddr()   {}
func (SockaddrUnix) sockaddr()    {}
func (SockaddrNetlink) sockaddr() {}
func (SockaddrRaw) sockaddr()     {}

// Family returns AF_INET.
func (SockaddrInet4) Family() Family { return AF_INET }

// Family returns AF_INET6.
func (SockaddrInet6) Family() Family { return AF_INET6 }

// Family returns AF_UNIX.
func (SockaddrUnix) Family() Family { return AF_UNIX }

// Family returns AF_NETLINK.
func (SockaddrNetlink) Family() Family { return AF_NETLINK }

// Family returns the address family.
func (sa SockaddrRaw) Family() Family { return sa.Fam }

// String formats the address as "127.0.0.1:80".
func (sa SockaddrInet4) String() string {
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), sa.Port).String()
}

// String formats the address as "[::1]:80" or "[fe80::1%2]:80" (the zone is
// the numeric interface index: interface names belong to the kernel that owns
// the interfaces, which need not be the host's).
func (sa SockaddrInet6) String() string {
	a := netip.AddrFrom16(sa.Addr)
	if sa.ZoneID != 0 {
		a = a.WithZone(strconv.FormatUint(uint64(sa.ZoneID), 10))
	}
	return netip.AddrPortFrom(a, sa.Port).String()
}

// String formats the address as "unix:/path", "@abstract" or "unix:" for an
// unnamed socket.
func (sa SockaddrUnix) String() string {
	if strings.HasPrefix(sa.Name, "@") {
		return sa.Name
	}
	return "unix:" + sa.Name
}

// String formats the address as "netlink:PID", with "/0xGROUPS" appended
// when Groups is not 0.
func (sa SockaddrNetlink) String() string {
	s := "netlink:" + strconv.FormatUint(uint64(sa.Pid), 10)
	if sa.Groups != 0 {
		s += "/0x" + strconv.FormatUint(uint64(sa.Groups), 16)
	}
	return s
}

// String formats the address as "AF_NETLINK:0c000000..." (hex data).
func (sa SockaddrRaw) String() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 2*len(sa.Data))
	for _, c := range sa.Data {
		b = append(b, hex[c>>4], hex[c&15])
	}
	return sa.Fam.String() + ":" + string(b)
}

// AddrPort returns the address as a netip.AddrPort.
func (sa SockaddrInet4) AddrPort() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), sa.Port)
}

// AddrPort returns the address as a netip.AddrPort; a non-zero ZoneID
// becomes a numeric zone.
func (sa SockaddrInet6) AddrPort() netip.AddrPort {
	a := netip.AddrFrom16(sa.Addr)
	if sa.ZoneID != 0 {
		a = a.WithZone(strconv.FormatUint(uint64(sa.ZoneID), 10))
	}
	return netip.AddrPortFrom(a, sa.Port)
}

// SockaddrError reports an address api cannot use: unparsable text, a port
// out of range, a Unix path longer than sun_path. It unwraps to EINVAL.
type SockaddrError struct {
	Input  string // the address as given
	Reason string
}

func (e *SockaddrError) Error() string {
	return "api: bad socket address " + strconv.Quote(e.Input) + ": " + e.Reason
}

// Unwrap makes errors.Is(err, api.EINVAL) hold.
func (e *SockaddrError) Unwrap() error { return EINVAL }

func addrErr(input, reason string) error { return &SockaddrError{Input: input, Reason: reason} }

// unixPathMax is the longest sun_path of the ABIs api knows (Linux 108;
// the BSDs have 104). Kernels check their own limit when converting.
const unixPathMax = 108

// ParseSockaddr parses a socket address:
//
//	127.0.0.1:80          IPv4 (SockaddrInet4)
//	[::1]:80, [fe80::1%2]:80   IPv6 (SockaddrInet6; numeric zone only)
//	unix:/run/x.sock      Unix path (SockaddrUnix), also a bare "/run/x.sock"
//	@name, unix:@name     Linux abstract Unix name
//	unix:                 unnamed Unix socket
//	netlink:PID[/GROUPS]  netlink port id and group bitmap (SockaddrNetlink;
//	                      GROUPS in C syntax: 0x10, 16)
//
// Host names are not resolved. Errors are *SockaddrError naming the input.
func ParseSockaddr(s string) (Sockaddr, error) {
	switch {
	case strings.HasPrefix(s, "unix:"):
		return parseUnix(s, s[len("unix:"):])
	case strings.HasPrefix(s, "@"), strings.HasPrefix(s, "/"):
		return parseUnix(s, s)
	case strings.HasPrefix(s, "netlink:"):
		return parseNetlink(s)
	}
	return parseInet(s)
}

func parseUnix(input, name string) (Sockaddr, error) {
	if strings.HasPrefix(name, "@") {
		if len(name) > unixPathMax {
			return nil, addrErr(input, "abstract name longer than "+strconv.Itoa(unixPathMax-1)+" bytes")
		}
		return SockaddrUnix{Name: name}, nil
	}
	if strings.IndexByte(name, 0) >= 0 {
		return nil, addrErr(input, "unix path contains a NUL byte")
	}
	if len(name) >= unixPathMax {
		return nil, addrErr(input, "unix path longer than "+strconv.Itoa(unixPathMax-1)+" bytes (sun_path)")
	}
	return SockaddrUnix{Name: name}, nil
}

func parseNetlink(s string) (Sockaddr, error) {
	rest := s[len("netlink:"):]
	pid, groups, slash := strings.Cut(rest, "/")
	p, err := strconv.ParseUint(pid, 10, 32)
	if err != nil {
		return nil, addrErr(s, "bad netlink port id "+strconv.Quote(pid)+" (0 to 4294967295)")
	}
	sa := SockaddrNetlink{Pid: uint32(p)}
	if slash {
		g, err := strconv.ParseUint(groups, 0, 32)
		if err != nil {
			return nil, addrErr(s, "bad netlink group bitmap "+strconv.Quote(groups)+" (32 bits)")
		}
		sa.Groups = uint32(g)
	}
	return sa, nil
}

func parseInet(s string) (Sockaddr, error) {
	if s == "" {
		return nil, addrErr(s, "empty address")
	}
	var host, port string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return nil, addrErr(s, "missing ']'")
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest == "" {
			return nil, addrErr(s, "missing port")
		}
		if rest[0] != ':' {
			return nil, addrErr(s, "unexpected "+strconv.Quote(rest)+" after ']'")
		}
		port = rest[1:]
		if strings.IndexByte(host, ':') < 0 {
			return nil, addrErr(s, "bad host "+strconv.Quote(host)+": brackets are for IPv6 addresses")
		}
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return nil, addrErr(s, "missing port")
		}
		host, port = s[:i], s[i+1:]
		if strings.IndexByte(host, ':') >= 0 {
			return nil, addrErr(s, "IPv6 address must be in brackets: [host]:port")
		}
	}
	if port == "" {
		return nil, addrErr(s, "missing port")
	}
	p, err := strconv.ParseUint(port, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, addrErr(s, "port "+port+" out of range (0-65535)")
		}
		return nil, addrErr(s, "bad port "+strconv.Quote(port))
	}
	if p > 65535 {
		return nil, addrErr(s, "port "+port+" out of range (0-65535)")
	}
	if host == "" {
		return nil, addrErr(s, "missing host")
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil, addrErr(s, "bad host "+strconv.Quote(host)+" (an IP address is needed; names are not resolved)")
	}
	sa, err := fromAddrPort(s, netip.AddrPortFrom(a, uint16(p)))
	if err != nil {
		return nil, err
	}
	// "[::ffff:1.2.3.4]:80" stays IPv6: the brackets asked for it.
	return sa, nil
}

// SockaddrFromAddrPort converts a netip.AddrPort: IPv4 addresses give
// SockaddrInet4, IPv6 ones (IPv4-mapped too) SockaddrInet6. A zone must be
// numeric (an interface index).
func SockaddrFromAddrPort(ap netip.AddrPort) (Sockaddr, error) {
	return fromAddrPort(ap.String(), ap)
}

func fromAddrPort(input string, ap netip.AddrPort) (Sockaddr, error) {
	a := ap.Addr()
	switch {
	case !a.IsValid():
		return nil, addrErr(input, "invalid IP address")
	case a.Is4():
		return SockaddrInet4{Addr: a.As4(), Port: ap.Port()}, nil
	}
	sa := SockaddrInet6{Addr: a.As16(), Port: ap.Port()}
	if z := a.Zone(); z != "" {
		id, err := zoneID(input, z)
		if err != nil {
			return nil, err
		}
		sa.ZoneID = id
	}
	return sa, nil
}

func zoneID(input, z string) (uint32, error) {
	n, err := strconv.ParseUint(z, 10, 32)
	if err != nil {
		return 0, addrErr(input, "zone "+strconv.Quote(z)+" is not a numeric interface index")
	}
	return uint32(n), nil
}
