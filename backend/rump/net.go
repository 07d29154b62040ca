package rump

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/api"
)

// Network configuration of a NetBSD kernel: cloned interfaces, flags,
// link strings, addresses (the interface ioctls, as ifconfig(8) makes
// them) and routes (the routing socket, as route(8) writes it). Every
// struct is laid out from the ABI table (build/abigen's netif unit), so
// these work on any Kernel that speaks NetBSD's ABI: a local rump kernel,
// a remote one, or a NetBSD host. They need no cgo and build without the
// rump tag.
//
// A rump kernel with the net.netinet component comes up with lo0 up and
// 127.0.0.1/8 on it. A shmif interface joins an Ethernet "bus" that is a
// host file: every rump kernel whose shmif has the same file as its link
// string is on the same segment, whichever process it runs in.
//
//	rump.IfCreate(k, "shmif0")
//	rump.IfSetLinkStr(k, "shmif0", "/tmp/bus")
//	rump.IfAddAddr(k, "shmif0", netip.MustParsePrefix("10.1.0.1/24"))
//	rump.IfUp(k, "shmif0")
//	rump.RouteAdd(k, netip.MustParsePrefix("10.2.0.0/16"), netip.MustParseAddr("10.1.0.254"))

// IfFlags are interface flags (IFF_*), translated by name through the ABI
// table.
type IfFlags uint32

const (
	IffUp           IfFlags = 1 << iota // IFF_UP: administratively up
	IffBroadcast                        // IFF_BROADCAST: broadcast address valid
	IffDebug                            // IFF_DEBUG: debugging on
	IffLoopback                         // IFF_LOOPBACK: a loopback interface
	IffPointToPoint                     // IFF_POINTOPOINT: a point-to-point link
	IffRunning                          // IFF_RUNNING: resources allocated
	IffNoARP                            // IFF_NOARP: no address resolution
	IffPromisc                          // IFF_PROMISC: receives all packets
	IffAllMulti                         // IFF_ALLMULTI: receives all multicast
	IffSimplex                          // IFF_SIMPLEX: cannot hear its own transmissions
	IffMulticast                        // IFF_MULTICAST: supports multicast
)

var ifFlagNames = namedBits{
	"IFF_UP", "IFF_BROADCAST", "IFF_DEBUG", "IFF_LOOPBACK", "IFF_POINTOPOINT", "IFF_RUNNING",
	"IFF_NOARP", "IFF_PROMISC", "IFF_ALLMULTI", "IFF_SIMPLEX", "IFF_MULTICAST",
}

// String names the flags: "UP|LOOPBACK|RUNNING".
func (f IfFlags) String() string { return ifFlagNames.format(uint64(f), "IFF_") }

// ifFlagsToABI translates f; bits the ABI lacks are an error.
func ifFlagsToABI(k *api.Kernel, op string, f IfFlags) (uint64, error) {
	return ifFlagNames.toABI(k, op, "interface", uint64(f))
}

// ifFlagsFromABI translates the kernel's flags; bits without a name
// here are dropped (IfSetFlags keeps them in the kernel).
func ifFlagsFromABI(k *api.Kernel, v uint64) IfFlags { return IfFlags(ifFlagNames.fromABI(k, v)) }

// raw is a C struct being built or read with its layout from the table.
type raw struct {
	s   *abi.Struct
	t   *abi.Table
	b   []byte
	op  string
	err error
}

func newRaw(k *api.Kernel, op, name string) (*raw, error) {
	t := k.ABI()
	s, ok := t.Struct(name)
	if !ok {
		return nil, fmt.Errorf("%s: struct %s is missing from the %s/%s ABI table: %w", op, name, t.OS, t.Arch, api.ENOSYS)
	}
	return &raw{s: s, t: t, b: make([]byte, s.Size), op: op}, nil
}

func (r *raw) field(name string) (abi.Field, bool) {
	f, ok := r.s.Field(name)
	if !ok && r.err == nil {
		r.err = fmt.Errorf("%s: struct %s has no field %s in the %s/%s ABI table: %w", r.op, r.s.Name, name, r.t.OS, r.t.Arch, api.ENOSYS)
	}
	return f, ok
}

// put sets an integer field, truncated to its width.
func (r *raw) put(name string, v uint64) {
	f, ok := r.field(name)
	if !ok {
		return
	}
	putInt(r.t, r.b[f.Offset:f.Offset+f.Size], v)
}

func putInt(t *abi.Table, p []byte, v uint64) {
	o := t.ByteOrder()
	switch len(p) {
	case 1:
		p[0] = byte(v)
	case 2:
		o.PutUint16(p, uint16(v))
	case 4:
		o.PutUint32(p, uint32(v))
	case 8:
		o.PutUint64(p, v)
	}
}

func getInt(t *abi.Table, p []byte) uint64 {
	o := t.ByteOrder()
	switch len(p) {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(o.Uint16(p))
	case 4:
		return uint64(o.Uint32(p))
	case 8:
		return o.Uint64(p)
	}
	return 0
}

// get reads an integer field.
func (r *raw) get(name string) uint64 {
	f, ok := r.field(name)
	if !ok {
		return 0
	}
	return getInt(r.t, r.b[f.Offset:f.Offset+f.Size])
}

// bytes returns a field's bytes.
func (r *raw) bytes(name string) []byte {
	f, ok := r.field(name)
	if !ok {
		return nil
	}
	return r.b[f.Offset : f.Offset+f.Size]
}

// name fills a char[IFNAMSIZ] field with an interface name.
func (r *raw) name(field, ifname string) {
	p := r.bytes(field)
	if p == nil {
		return
	}
	if ifname == "" || len(ifname) >= len(p) || strings.IndexByte(ifname, 0) >= 0 || strings.ContainsAny(ifname, "/ ") {
		if r.err == nil {
			r.err = fmt.Errorf("%s: bad interface name %q (1 to %d bytes, no NUL, '/' or space): %w", r.op, ifname, len(p)-1, api.EINVAL)
		}
		return
	}
	copy(p, ifname)
}

// sockaddr writes a BSD sockaddr_in/sockaddr_in6 (with its length byte)
// for a at the struct's field prefix (a flattened nested struct such as
// "ifra_addr"), laid out by the sockaddr_in/in6 layouts of the table.
func (r *raw) sockaddr(k *api.Kernel, field string, a netip.Addr) {
	f, ok := r.field(field)
	if !ok {
		return
	}
	if _, err := putSockaddr(k, r.b[f.Offset:f.Offset+f.Size], a); err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: %s: %w", r.op, field, err)
	}
}

// putSockaddr writes a's sockaddr_in or sockaddr_in6 into p and returns
// its length.
func putSockaddr(k *api.Kernel, p []byte, a netip.Addr) (int, error) {
	t := k.ABI()
	name, fam, prefix := "sockaddr_in", "AF_INET", "sin_"
	if a.Is6() && !a.Is4In6() {
		name, fam, prefix = "sockaddr_in6", "AF_INET6", "sin6_"
	} else {
		a = a.Unmap()
	}
	s, ok := t.Struct(name)
	if !ok {
		return 0, fmt.Errorf("struct %s missing from the ABI table: %w", name, api.ENOSYS)
	}
	if len(p) < s.Size {
		return 0, fmt.Errorf("%s of %d bytes does not fit in %d: %w", name, s.Size, len(p), api.EINVAL)
	}
	af, ok := k.Const(fam)
	if !ok {
		return 0, fmt.Errorf("%s missing from the ABI table: %w", fam, api.ENOSYS)
	}
	clear(p[:s.Size])
	set := func(field string, v uint64) {
		if f, ok := s.Field(prefix + field); ok {
			putInt(t, p[f.Offset:f.Offset+f.Size], v)
		}
	}
	set("len", uint64(s.Size))
	set("family", af)
	f, ok := s.Field(prefix + "addr")
	if !ok {
		return 0, fmt.Errorf("struct %s has no %saddr: %w", name, prefix, api.ENOSYS)
	}
	copy(p[f.Offset:f.Offset+f.Size], a.AsSlice())
	return s.Size, nil
}

// getSockaddr decodes a BSD sockaddr_in or sockaddr_in6 from p; ok is
// false for another family. A netmask comes shortened (its sa_len counts
// the bytes up to the last non-zero one) and with a family byte that
// means nothing: mask then names the family to read it as.
func getSockaddr(k *api.Kernel, p []byte, mask string) (netip.Addr, bool) {
	t := k.ABI()
	if len(p) < 2 {
		return netip.Addr{}, false
	}
	fam := uint64(p[1]) // sa_family is the byte after sa_len on the BSDs
	in4, _ := k.Const("AF_INET")
	in6, _ := k.Const("AF_INET6")
	name, prefix := "", ""
	switch {
	case mask == "AF_INET" || (mask == "" && fam == in4):
		name, prefix = "sockaddr_in", "sin_"
	case mask == "AF_INET6" || (mask == "" && fam == in6):
		name, prefix = "sockaddr_in6", "sin6_"
	default:
		return netip.Addr{}, false
	}
	s, ok := t.Struct(name)
	if !ok {
		return netip.Addr{}, false
	}
	f, ok := s.Field(prefix + "addr")
	if !ok {
		return netip.Addr{}, false
	}
	var b [16]byte
	if f.Offset < len(p) {
		copy(b[:f.Size], p[f.Offset:min(len(p), f.Offset+f.Size)])
	}
	if f.Size == 4 {
		return netip.AddrFrom4([4]byte(b[:4])), true
	}
	return netip.AddrFrom16(b), true
}

// ctlSocket opens a datagram socket of family fam ("AF_INET",
// "AF_INET6") for interface ioctls; "" takes the first of AF_INET,
// AF_INET6 and AF_UNIX the kernel has, for the requests every socket
// passes to the interface layer.
func ctlSocket(k *api.Kernel, op, fam string) (*api.Fd, error) {
	fams := []api.Family{api.AF_INET, api.AF_INET6, api.AF_UNIX}
	switch fam {
	case "AF_INET":
		fams = fams[:1]
	case "AF_INET6":
		fams = fams[1:2]
	}
	var first error
	for _, f := range fams {
		s, err := k.Socket(f, api.SOCK_DGRAM, api.SOCK_CLOEXEC, 0)
		if err == nil {
			return s, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, fmt.Errorf("%s: no socket for interface requests: %w", op, first)
}

// ioctl makes request req (a constant of the table) on a control socket
// with r's bytes as the argument; keep holds memory r points to.
func ioctl(k *api.Kernel, op, fam, req string, r *raw, keep ...[]byte) error {
	if r.err != nil {
		return r.err
	}
	nr, ok := k.Const(req)
	if !ok {
		return fmt.Errorf("%s: %s is not in the %s ABI table: %w", op, req, k.Name(), api.ENOSYS)
	}
	s, err := ctlSocket(k, op, fam)
	if err != nil {
		return err
	}
	defer s.Close()
	_, err = s.IoctlBuf(nr, r.b)
	runtime.KeepAlive(keep)
	if err != nil {
		return &os.SyscallError{Syscall: op, Err: unwrapSyscall(err)}
	}
	return nil
}

// ifreq makes an interface request carrying a struct ifreq.
func ifreq(k *api.Kernel, op, req, ifname string, fill func(*raw)) (*raw, error) {
	r, err := newRaw(k, op, "ifreq")
	if err != nil {
		return nil, err
	}
	r.name("ifr_name", ifname)
	if fill != nil {
		fill(r)
	}
	if err := ioctl(k, op, "", req, r); err != nil {
		return nil, err
	}
	return r, nil
}

// IfCreate makes a cloned interface (SIOCIFCREATE): "shmif0" (needs the
// net.shmif component), "virt0" (net.virtif: it opens the host's
// /dev/net/tun as a tap named "tun0" in the host thread's network
// namespace), "lo1", "bridge0", ...
func IfCreate(k *api.Kernel, name string) error {
	_, err := ifreq(k, "SIOCIFCREATE "+name, "SIOCIFCREATE", name, nil)
	return err
}

// IfDestroy removes a cloned interface (SIOCIFDESTROY). Some drivers
// (virtif) refuse while the interface is up (EBUSY): IfDown it first.
func IfDestroy(k *api.Kernel, name string) error {
	_, err := ifreq(k, "SIOCIFDESTROY "+name, "SIOCIFDESTROY", name, nil)
	return err
}

// IfGetFlags returns an interface's flags (SIOCGIFFLAGS).
func IfGetFlags(k *api.Kernel, name string) (IfFlags, error) {
	v, err := ifRawFlags(k, name)
	if err != nil {
		return 0, err
	}
	return ifFlagsFromABI(k, v), nil
}

func ifRawFlags(k *api.Kernel, name string) (uint64, error) {
	r, err := ifreq(k, "SIOCGIFFLAGS "+name, "SIOCGIFFLAGS", name, nil)
	if err != nil {
		return 0, err
	}
	return r.get("ifr_flags"), nil
}

// IfSetFlags sets an interface's flags (SIOCSIFFLAGS); the kernel keeps
// the ones it owns (RUNNING, SIMPLEX, ...) whatever is asked. Flags api
// does not name keep their value.
func IfSetFlags(k *api.Kernel, name string, flags IfFlags) error {
	op := "SIOCSIFFLAGS " + name
	v, err := ifFlagsToABI(k, op, flags)
	if err != nil {
		return err
	}
	old, err := ifRawFlags(k, name)
	if err != nil {
		return err
	}
	known, _ := ifFlagsToABI(k, op, 1<<len(ifFlagNames)-1)
	v |= old &^ known
	_, err = ifreq(k, op, "SIOCSIFFLAGS", name, func(r *raw) { r.put("ifr_flags", v) })
	return err
}

// IfUp sets IFF_UP on an interface, as "ifconfig name up".
func IfUp(k *api.Kernel, name string) error { return ifUpDown(k, name, true) }

// IfDown clears IFF_UP.
func IfDown(k *api.Kernel, name string) error { return ifUpDown(k, name, false) }

func ifUpDown(k *api.Kernel, name string, up bool) error {
	f, err := IfGetFlags(k, name)
	if err != nil {
		return err
	}
	if up {
		f |= IffUp
	} else {
		f &^= IffUp
	}
	return IfSetFlags(k, name, f)
}

// IfIndex returns an interface's index (SIOCGIFINDEX), the zone of its
// IPv6 link-local addresses.
func IfIndex(k *api.Kernel, name string) (int, error) {
	r, err := ifreq(k, "SIOCGIFINDEX "+name, "SIOCGIFINDEX", name, nil)
	if err != nil {
		return 0, err
	}
	return int(r.get("ifr_index")), nil
}

// IfGetMTU returns an interface's MTU (SIOCGIFMTU).
func IfGetMTU(k *api.Kernel, name string) (int, error) {
	r, err := ifreq(k, "SIOCGIFMTU "+name, "SIOCGIFMTU", name, nil)
	if err != nil {
		return 0, err
	}
	return int(int32(r.get("ifr_mtu"))), nil
}

// IfGetAddr returns an interface's first IPv4 address (SIOCGIFADDR);
// EADDRNOTAVAIL when it has none.
func IfGetAddr(k *api.Kernel, name string) (netip.Addr, error) {
	op := "SIOCGIFADDR " + name
	r, err := newRaw(k, op, "ifreq")
	if err != nil {
		return netip.Addr{}, err
	}
	r.name("ifr_name", name)
	if err := ioctl(k, op, "AF_INET", "SIOCGIFADDR", r); err != nil {
		return netip.Addr{}, err
	}
	a, ok := getSockaddr(k, r.bytes("ifr_addr"), "")
	if !ok {
		return netip.Addr{}, &os.SyscallError{Syscall: op, Err: api.EAFNOSUPPORT}
	}
	return a, nil
}

// IfSetLinkStr sets an interface's link string (SIOCSLINKSTR, struct
// ifdrv): for shmif, the host file that is its Ethernet bus, created if
// missing. The interface must be down.
func IfSetLinkStr(k *api.Kernel, name, link string) error {
	op := "SIOCSLINKSTR " + name
	if link == "" || strings.IndexByte(link, 0) >= 0 {
		return fmt.Errorf("%s: bad link string %q: %w", op, link, api.EINVAL)
	}
	r, err := newRaw(k, op, "ifdrv")
	if err != nil {
		return err
	}
	s := append([]byte(link), 0) // heap memory: its address may sit in the struct
	r.name("ifd_name", name)
	r.put("ifd_cmd", 0)
	r.put("ifd_len", uint64(len(s)))
	r.put("ifd_data", uint64(addrOf(s)))
	return ioctl(k, op, "", "SIOCSLINKSTR", r, s)
}

// IfAddAddr adds an address with its prefix length to an interface
// (SIOCAIFADDR with struct in_aliasreq, SIOCAIFADDR_IN6 with struct
// in6_aliasreq and infinite lifetimes), as "ifconfig name inet addr/len
// alias". Adding an IPv4 address again updates its netmask. The kernel
// adds the route to the prefix.
func IfAddAddr(k *api.Kernel, name string, p netip.Prefix) error {
	op := "SIOCAIFADDR " + name
	if !p.IsValid() {
		return fmt.Errorf("%s: invalid prefix %v: %w", op, p, api.EINVAL)
	}
	a := p.Addr()
	if a.Is4() || a.Is4In6() {
		r, err := newRaw(k, op, "in_aliasreq")
		if err != nil {
			return err
		}
		mask := netip.PrefixFrom(a.Unmap(), p.Bits())
		r.name("ifra_name", name)
		r.sockaddr(k, "ifra_addr", a.Unmap())
		r.sockaddr(k, "ifra_mask", maskAddr(mask.Bits(), 32))
		if p.Bits() < 31 {
			r.sockaddr(k, "ifra_dstaddr", lastAddr(mask)) // ifra_broadaddr
		}
		return ioctl(k, op, "AF_INET", "SIOCAIFADDR", r)
	}
	op = "SIOCAIFADDR_IN6 " + name
	r, err := newRaw(k, op, "in6_aliasreq")
	if err != nil {
		return err
	}
	inf := constOr(k, "ND6_INFINITE_LIFETIME", 0xffffffff)
	r.name("ifra_name", name)
	r.sockaddr(k, "ifra_addr", a)
	r.sockaddr(k, "ifra_prefixmask", maskAddr(p.Bits(), 128))
	r.put("ifra_lifetime.ia6t_vltime", inf)
	r.put("ifra_lifetime.ia6t_pltime", inf)
	return ioctl(k, op, "AF_INET6", "SIOCAIFADDR_IN6", r)
}

// IfDelAddr removes an address from an interface (SIOCDIFADDR with
// struct ifreq, SIOCDIFADDR_IN6 with struct in6_ifreq), as "ifconfig name
// inet6 addr delete"; the kernel removes the prefix route with it.
func IfDelAddr(k *api.Kernel, name string, a netip.Addr) error {
	op := "SIOCDIFADDR " + name
	if !a.IsValid() {
		return fmt.Errorf("%s: invalid address: %w", op, api.EINVAL)
	}
	if !a.Is4() && !a.Is4In6() {
		op = "SIOCDIFADDR_IN6 " + name
		r, err := newRaw(k, op, "in6_ifreq")
		if err != nil {
			return err
		}
		r.name("ifr_name", name)
		r.sockaddr(k, "ifr_addr", a)
		return ioctl(k, op, "AF_INET6", "SIOCDIFADDR_IN6", r)
	}
	r, err := newRaw(k, op, "ifreq")
	if err != nil {
		return err
	}
	r.name("ifr_name", name)
	r.sockaddr(k, "ifr_addr", a.Unmap())
	return ioctl(k, op, "AF_INET", "SIOCDIFADDR", r)
}

// maskAddr is the netmask of a prefix length as an address.
func maskAddr(bits, total int) netip.Addr {
	var b [16]byte
	for i := 0; i < bits; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	if total == 32 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// lastAddr is the highest address of p (its IPv4 broadcast address).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// LoopbackUp brings up lo0 with 127.0.0.1/8, as NetBSD's rc does. A rump
// kernel with net.netinet has done so at boot already; this makes sure,
// and works for kernels (or processes) that took it down.
func LoopbackUp(k *api.Kernel) error {
	if err := IfAddAddr(k, "lo0", netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		return err
	}
	return IfUp(k, "lo0")
}

// ShmifUp makes a shmif interface on the bus file bus (a host path,
// created if missing) with address addr, and brings it up: IfCreate,
// IfSetLinkStr, IfAddAddr and IfUp. The kernel needs the net.shmif
// component.
func ShmifUp(k *api.Kernel, name, bus string, addr netip.Prefix) error {
	if err := IfCreate(k, name); err != nil {
		return err
	}
	if err := IfSetLinkStr(k, name, bus); err != nil {
		return err
	}
	if addr.IsValid() {
		if err := IfAddAddr(k, name, addr); err != nil {
			return err
		}
	}
	return IfUp(k, name)
}
