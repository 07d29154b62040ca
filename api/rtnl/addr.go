package rtnl

import (
	"net/netip"
	"strconv"

	"github.com/anykernel/anykernel/api"
)

// Forever is the lifetime of an address that does not expire (the
// all-ones 32-bit value the kernel uses).
const Forever = ^uint32(0)

// Addr is an IPv4 or IPv6 address of a link (RTM_NEWADDR).
type Addr struct {
	Index     int          // the link's index
	Prefix    netip.Prefix // the local address and its prefix length: 10.1.2.3/24
	Peer      netip.Addr   // the far end of a point-to-point link (IFA_ADDRESS), if any
	Broadcast netip.Addr   // IPv4 broadcast address, if any
	Label     string       // IPv4 label, "eth0:1"
	Scope     Scope
	Flags     AddrFlags
	// Lifetimes in seconds; Forever for a permanent address. In a new
	// address, zero means Forever, and a zero Preferred with a non-zero
	// Valid takes Valid.
	ValidLifetime     uint32
	PreferredLifetime uint32
}

// Family returns AF_INET or AF_INET6 (AF_UNSPEC for an empty Prefix).
func (a *Addr) Family() api.Family { return familyOf(a.Prefix.Addr()) }

func familyOf(ip netip.Addr) api.Family {
	switch {
	case !ip.IsValid():
		return api.AF_UNSPEC
	case ip.Is4():
		return api.AF_INET
	}
	return api.AF_INET6
}

// af converts an api family to the ABI's number; rtnl handles IPv4, IPv6
// and "all".
func (c *Codec) af(op string, f api.Family) (uint8, error) {
	switch f {
	case api.AF_UNSPEC:
		return c.n.AF_UNSPEC, nil
	case api.AF_INET:
		return c.n.AF_INET, nil
	case api.AF_INET6:
		return c.n.AF_INET6, nil
	}
	return 0, &Error{Op: op, Errno: api.EAFNOSUPPORT, Message: "family " + f.String(), Offset: -1}
}

// family converts the ABI's family number back (AF_UNSPEC if unknown).
func (c *Codec) family(v uint8) api.Family {
	switch v {
	case c.n.AF_INET:
		return api.AF_INET
	case c.n.AF_INET6:
		return api.AF_INET6
	case c.n.AF_BRIDGE:
		return api.Family(-1) // not an IP family; callers skip it
	}
	return api.AF_UNSPEC
}

// ipOf reads an address attribute of family f.
func ipOf(f api.Family, b []byte) netip.Addr {
	switch {
	case f == api.AF_INET && len(b) == 4:
		return netip.AddrFrom4([4]byte(b))
	case f == api.AF_INET6 && len(b) == 16:
		return netip.AddrFrom16([16]byte(b))
	}
	return netip.Addr{}
}

// ipBytes returns the address's bytes in the width of its family (no zone).
func ipBytes(ip netip.Addr) []byte {
	if ip.Is4() {
		b := ip.As4()
		return b[:]
	}
	b := ip.As16()
	return b[:]
}

// DecodeAddr decodes an RTM_NEWADDR or RTM_DELADDR payload.
func (c *Codec) DecodeAddr(b []byte) (*Addr, error) {
	l := &c.l.ifa
	if len(b) < l.size {
		return nil, &MalformedError{"ifaddrmsg", 0, "payload of " + strconv.Itoa(len(b)) + " bytes"}
	}
	fam := c.family(uint8(l.family.get(b, c.bo)))
	a := &Addr{
		Index: int(l.index.get(b, c.bo)),
		Scope: Scope(l.scope.get(b, c.bo)),
		Flags: AddrFlags(l.flags.get(b, c.bo)),
	}
	plen := int(l.prefixlen.get(b, c.bo))
	n := &c.n
	at, err := c.attrs(b[alignTo(l.size, c.msg):])
	if err != nil {
		return nil, err
	}
	local, addr := ipOf(fam, at[n.IFA_LOCAL]), ipOf(fam, at[n.IFA_ADDRESS])
	switch {
	case local.IsValid():
		if addr.IsValid() && addr != local {
			a.Peer = addr
		}
	default:
		local = addr
	}
	if local.IsValid() && plen <= local.BitLen() {
		a.Prefix = netip.PrefixFrom(local, plen)
	}
	a.Broadcast = ipOf(fam, at[n.IFA_BROADCAST])
	a.Label = str(at[n.IFA_LABEL])
	if v, ok := at[n.IFA_FLAGS]; ok && len(v) >= 4 {
		a.Flags = AddrFlags(c.u32(v))
	}
	a.ValidLifetime, a.PreferredLifetime = Forever, Forever
	if v := at[n.IFA_CACHEINFO]; len(v) >= c.l.cacheinfo.size {
		ci := &c.l.cacheinfo
		a.ValidLifetime = uint32(ci.valid.get(v, c.bo))
		a.PreferredLifetime = uint32(ci.preferred.get(v, c.bo))
	}
	return a, nil
}

// Addrs lists addresses of family (AF_UNSPEC: IPv4 and IPv6) on the link
// with index (0: every link).
func (c *Conn) Addrs(family api.Family, index int) ([]*Addr, error) {
	op := "addr list"
	af, err := c.c.af(op, family)
	if err != nil {
		return nil, err
	}
	if index < 0 {
		return nil, badArg(op, "index "+strconv.Itoa(index))
	}
	m := c.c.newMsg(c.c.n.RTM_GETADDR, 0)
	l := &c.c.l.ifa
	b := m.fixed(l.size)
	l.family.put(b, c.c.bo, uint64(af))
	var out []*Addr
	err = c.dump(op, m, func() { out = out[:0] }, func(r Message) error {
		if r.Type != c.c.n.RTM_NEWADDR {
			return nil
		}
		a, err := c.c.DecodeAddr(r.Data)
		if err != nil {
			return err
		}
		if (index == 0 || a.Index == index) && a.Prefix.IsValid() {
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// AddAddr adds an address to a link; it fails with EEXIST if the link has
// it already.
func (c *Conn) AddAddr(a *Addr) error {
	return c.addrCall("addr add", c.c.n.RTM_NEWADDR, c.c.n.NLM_F_CREATE|c.c.n.NLM_F_EXCL, a)
}

// ReplaceAddr adds an address or updates it (flags, lifetimes).
func (c *Conn) ReplaceAddr(a *Addr) error {
	return c.addrCall("addr replace", c.c.n.RTM_NEWADDR, c.c.n.NLM_F_CREATE|c.c.n.NLM_F_REPLACE, a)
}

// DeleteAddr removes an address from a link (Index and Prefix identify it).
func (c *Conn) DeleteAddr(a *Addr) error {
	return c.addrCall("addr del", c.c.n.RTM_DELADDR, 0, a)
}

func (c *Conn) addrCall(op string, typ, flags uint16, a *Addr) error {
	if a == nil {
		return badArg(op, "nil Addr")
	}
	if !a.Prefix.IsValid() {
		return badArg(op, "no address")
	}
	op += " " + a.Prefix.String()
	if a.Index <= 0 {
		return badArg(op, "link index "+strconv.Itoa(a.Index))
	}
	ip := a.Prefix.Addr().WithZone("")
	af, err := c.c.af(op, a.Family())
	if err != nil {
		return err
	}
	for _, x := range []netip.Addr{a.Peer, a.Broadcast} {
		if x.IsValid() && x.Is4() != ip.Is4() {
			return badArg(op, "peer or broadcast "+x.String()+" of another family")
		}
	}
	n := &c.c.n
	m := c.c.newMsg(typ, flags)
	l := &c.c.l.ifa
	b := m.fixed(l.size)
	l.family.put(b, c.c.bo, uint64(af))
	l.prefixlen.put(b, c.c.bo, uint64(a.Prefix.Bits()))
	l.flags.put(b, c.c.bo, uint64(a.Flags&0xff)) // the rest goes in IFA_FLAGS
	l.scope.put(b, c.c.bo, uint64(a.Scope))
	l.index.put(b, c.c.bo, uint64(a.Index))
	m.attr(n.IFA_LOCAL, ipBytes(ip))
	if a.Peer.IsValid() {
		m.attr(n.IFA_ADDRESS, ipBytes(a.Peer.WithZone("")))
	} else {
		m.attr(n.IFA_ADDRESS, ipBytes(ip))
	}
	if typ != n.RTM_DELADDR {
		if a.Broadcast.IsValid() {
			m.attr(n.IFA_BROADCAST, ipBytes(a.Broadcast))
		}
		if a.Label != "" {
			if !ip.Is4() {
				return badArg(op, "labels are for IPv4 addresses")
			}
			if len(a.Label) >= int(n.IFNAMSIZ) {
				return badArg(op, "label "+strconv.Quote(a.Label)+" too long")
			}
			m.str(n.IFA_LABEL, a.Label)
		}
		if a.Flags != 0 {
			m.u32(n.IFA_FLAGS, uint32(a.Flags))
		}
		if a.ValidLifetime != 0 || a.PreferredLifetime != 0 {
			valid, pref := a.ValidLifetime, a.PreferredLifetime
			if valid == 0 {
				valid = Forever
			}
			if pref == 0 {
				pref = valid
			}
			if pref > valid {
				return badArg(op, "preferred lifetime longer than the valid one")
			}
			ci := &c.c.l.cacheinfo
			v := make([]byte, ci.size)
			ci.valid.put(v, c.c.bo, uint64(valid))
			ci.preferred.put(v, c.c.bo, uint64(pref))
			m.attr(n.IFA_CACHEINFO, v)
		}
	}
	return c.request(op, m, nil)
}
