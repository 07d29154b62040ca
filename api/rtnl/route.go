package rtnl

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/anykernel/anykernel/api"
)

// Route is an IPv4 or IPv6 route (RTM_NEWROUTE).
type Route struct {
	// Family is AF_INET or AF_INET6; in a new route, AF_UNSPEC takes the
	// family of Dst, Gateway or the first next hop.
	Family   api.Family
	Dst      netip.Prefix // the zero Prefix is the default route
	Src      netip.Prefix // source prefix (RTA_SRC), for source-specific IPv6 routes
	Gateway  netip.Addr
	PrefSrc  netip.Addr // preferred source address (RTA_PREFSRC)
	OutIndex int        // output link (RTA_OIF)
	InIndex  int        // input link (RTA_IIF)
	Priority int        // the route's metric (RTA_PRIORITY)
	// Table, Protocol, Type and Scope: in a new route, zero takes
	// iproute2's default: the main table, protocol boot, type unicast, and
	// for IPv4 scope link for a unicast route without gateway (host for
	// local routes), universe otherwise (IPv6 routes are universe).
	Table     Table
	Protocol  Protocol
	Type      RouteType
	Scope     Scope
	TOS       uint8
	Flags     NexthopFlags      // RTNH_F_* of the route (low byte of rtm_flags)
	Metrics   map[Metric]uint32 // RTA_METRICS: MTU, hop limit, ...
	Multipath []Nexthop         // RTA_MULTIPATH; then Gateway and OutIndex are unset
	Pref      uint8             // IPv6 router preference (RTA_PREF)
	Cloned    bool              // a cached clone (RTM_F_CLONED)
}

// Nexthop is one path of a multipath route.
type Nexthop struct {
	Gateway netip.Addr
	Index   int // output link
	Weight  int // 1 to 256; 0 in a new route means 1
	Flags   NexthopFlags
}

// DecodeRoute decodes an RTM_NEWROUTE or RTM_DELROUTE payload.
func (c *Codec) DecodeRoute(b []byte) (*Route, error) {
	l := &c.l.rtm
	if len(b) < l.size {
		return nil, &MalformedError{"rtmsg", 0, "payload of " + strconv.Itoa(len(b)) + " bytes"}
	}
	fam := c.family(uint8(l.family.get(b, c.bo)))
	r := &Route{
		Family:   fam,
		Table:    Table(l.table.get(b, c.bo)),
		Protocol: Protocol(l.protocol.get(b, c.bo)),
		Scope:    Scope(l.scope.get(b, c.bo)),
		Type:     RouteType(l.typ.get(b, c.bo)),
		TOS:      uint8(l.tos.get(b, c.bo)),
	}
	fl := l.flags.get(b, c.bo)
	r.Flags = NexthopFlags(fl & 0xff)
	if c.n.RTM_F_CLONED != ^uint32(0) {
		r.Cloned = fl&uint64(c.n.RTM_F_CLONED) != 0
	}
	n := &c.n
	a, err := c.attrs(b[alignTo(l.size, c.msg):])
	if err != nil {
		return nil, err
	}
	pfx := func(ip netip.Addr, bits int) netip.Prefix {
		if !ip.IsValid() || bits > ip.BitLen() {
			return netip.Prefix{}
		}
		return netip.PrefixFrom(ip, bits)
	}
	dlen, slen := int(l.dstLen.get(b, c.bo)), int(l.srcLen.get(b, c.bo))
	if v, ok := a[n.RTA_DST]; ok {
		r.Dst = pfx(ipOf(fam, v), dlen)
	}
	if v, ok := a[n.RTA_SRC]; ok {
		r.Src = pfx(ipOf(fam, v), slen)
	}
	r.Gateway = ipOf(fam, a[n.RTA_GATEWAY])
	r.PrefSrc = ipOf(fam, a[n.RTA_PREFSRC])
	r.OutIndex = int(c.u32(a[n.RTA_OIF]))
	r.InIndex = int(c.u32(a[n.RTA_IIF]))
	r.Priority = int(c.u32(a[n.RTA_PRIORITY]))
	if v, ok := a[n.RTA_TABLE]; ok && len(v) >= 4 {
		r.Table = Table(c.u32(v))
	}
	if n.RTA_PREF != 0xffff {
		r.Pref = c.u8(a[n.RTA_PREF])
	}
	if v, ok := a[n.RTA_METRICS]; ok {
		r.Metrics = map[Metric]uint32{}
		err := c.eachAttr(v, func(x Attr) {
			if len(x.Data) == 4 { // RTAX_CC_ALGO is a string: skipped
				r.Metrics[Metric(x.Type)] = c.u32(x.Data)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	if v, ok := a[n.RTA_MULTIPATH]; ok {
		if r.Multipath, err = c.decodeNexthops(fam, v); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (c *Codec) decodeNexthops(fam api.Family, b []byte) ([]Nexthop, error) {
	l := &c.l.rtnh
	var out []Nexthop
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < l.size {
			return nil, &MalformedError{"rtnexthop", off, "truncated"}
		}
		ln := int(l.len.get(rest, c.bo))
		if ln < l.size || ln > len(rest) {
			return nil, &MalformedError{"rtnexthop", off, "length " + strconv.Itoa(ln)}
		}
		nh := Nexthop{
			Index:  int(l.ifindex.get(rest, c.bo)),
			Weight: int(l.hops.get(rest, c.bo)) + 1,
			Flags:  NexthopFlags(l.flags.get(rest, c.bo)),
		}
		a, err := c.attrs(rest[min(alignTo(l.size, c.nla), ln):ln])
		if err != nil {
			return nil, err
		}
		nh.Gateway = ipOf(fam, a[c.n.RTA_GATEWAY])
		out = append(out, nh)
		off += min(alignTo(ln, c.nla), len(rest))
	}
	return out, nil
}

// RouteFilter selects routes in Routes; zero fields match everything.
type RouteFilter struct {
	Table    Table // 0: every table
	OutIndex int
	Protocol Protocol
	Type     RouteType
	Cloned   bool // include cached clones (hidden by default, as iproute2 does)
}

// Routes lists routes of family (AF_UNSPEC: IPv4 and IPv6) that f selects
// (nil: every route but cached clones).
func (c *Conn) Routes(family api.Family, f *RouteFilter) ([]*Route, error) {
	op := "route list"
	af, err := c.c.af(op, family)
	if err != nil {
		return nil, err
	}
	if f == nil {
		f = &RouteFilter{}
	}
	m := c.c.newMsg(c.c.n.RTM_GETROUTE, 0)
	l := &c.c.l.rtm
	b := m.fixed(l.size)
	l.family.put(b, c.c.bo, uint64(af))
	var out []*Route
	err = c.dump(op, m, func() { out = out[:0] }, func(msg Message) error {
		if msg.Type != c.c.n.RTM_NEWROUTE {
			return nil
		}
		r, err := c.c.DecodeRoute(msg.Data)
		if err != nil {
			return err
		}
		switch {
		case r.Family != api.AF_INET && r.Family != api.AF_INET6:
		case r.Cloned && !f.Cloned:
		case f.Table != 0 && r.Table != f.Table:
		case f.OutIndex != 0 && r.OutIndex != f.OutIndex:
		case f.Protocol != 0 && r.Protocol != f.Protocol:
		case f.Type != 0 && r.Type != f.Type:
		default:
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// AddRoute adds a route; EEXIST if the table has it already.
func (c *Conn) AddRoute(r *Route) error {
	n := &c.c.n
	return c.routeCall("route add", n.RTM_NEWROUTE, n.NLM_F_CREATE|n.NLM_F_EXCL, r)
}

// ReplaceRoute adds a route or replaces the one with the same key.
func (c *Conn) ReplaceRoute(r *Route) error {
	n := &c.c.n
	return c.routeCall("route replace", n.RTM_NEWROUTE, n.NLM_F_CREATE|n.NLM_F_REPLACE, r)
}

// DeleteRoute deletes the route r matches: Dst and Table (zero: main)
// pick it; Gateway, OutIndex, Priority, Protocol, Type and Scope narrow
// the match when set.
func (c *Conn) DeleteRoute(r *Route) error {
	return c.routeCall("route del", c.c.n.RTM_DELROUTE, 0, r)
}

func (c *Conn) routeCall(op string, typ, flags uint16, r *Route) error {
	if r == nil {
		return badArg(op, "nil Route")
	}
	if r.Dst.IsValid() {
		op += " " + r.Dst.String()
	} else {
		op += " default"
	}
	fam := r.Family
	if fam == api.AF_UNSPEC {
		switch {
		case r.Dst.IsValid():
			fam = familyOf(r.Dst.Addr())
		case r.Gateway.IsValid():
			fam = familyOf(r.Gateway)
		case len(r.Multipath) > 0:
			fam = familyOf(r.Multipath[0].Gateway)
		}
	}
	if fam == api.AF_UNSPEC {
		return badArg(op, "no address family (set Family, Dst or Gateway)")
	}
	af, err := c.c.af(op, fam)
	if err != nil {
		return err
	}
	same := func(ip netip.Addr) bool { return !ip.IsValid() || familyOf(ip) == fam }
	if !same(r.Dst.Addr()) || !same(r.Src.Addr()) || !same(r.Gateway) || !same(r.PrefSrc) {
		return badArg(op, "addresses of more than one family")
	}
	if r.Priority < 0 || r.OutIndex < 0 || r.InIndex < 0 {
		return badArg(op, "negative priority or link index")
	}
	del := typ == c.c.n.RTM_DELROUTE
	n := &c.c.n
	table := r.Table
	if table == 0 {
		table = TableMain
	}
	proto, typeV, scope := r.Protocol, r.Type, r.Scope
	if !del {
		if proto == 0 {
			proto = ProtoBoot
		}
		if typeV == 0 {
			typeV = TypeUnicast
		}
		if scope == 0 && fam == api.AF_INET {
			switch {
			case typeV == TypeLocal || typeV == TypeNAT:
				scope = ScopeHost
			case typeV == TypeBroadcast || typeV == TypeMulticast || typeV == TypeAnycast:
				scope = ScopeLink
			case typeV == TypeUnicast && !r.Gateway.IsValid() && len(r.Multipath) == 0:
				scope = ScopeLink
			}
		}
	} else if scope == 0 {
		scope = ScopeNowhere // matches any scope
	}
	m := c.c.newMsg(typ, flags)
	l := &c.c.l.rtm
	b := m.fixed(l.size)
	bo := c.c.bo
	l.family.put(b, bo, uint64(af))
	l.dstLen.put(b, bo, uint64(max(r.Dst.Bits(), 0)))
	l.srcLen.put(b, bo, uint64(max(r.Src.Bits(), 0)))
	l.tos.put(b, bo, uint64(r.TOS))
	if table < 256 {
		l.table.put(b, bo, uint64(table))
	} else {
		l.table.put(b, bo, uint64(TableUnspec))
	}
	l.protocol.put(b, bo, uint64(proto))
	l.scope.put(b, bo, uint64(scope))
	l.typ.put(b, bo, uint64(typeV))
	l.flags.put(b, bo, uint64(r.Flags))
	if table >= 256 {
		m.u32(n.RTA_TABLE, uint32(table))
	}
	if r.Dst.IsValid() {
		m.attr(n.RTA_DST, ipBytes(r.Dst.Addr().WithZone("")))
	}
	if r.Src.IsValid() {
		m.attr(n.RTA_SRC, ipBytes(r.Src.Addr().WithZone("")))
	}
	if r.Gateway.IsValid() {
		m.attr(n.RTA_GATEWAY, ipBytes(r.Gateway.WithZone("")))
	}
	if r.PrefSrc.IsValid() {
		m.attr(n.RTA_PREFSRC, ipBytes(r.PrefSrc.WithZone("")))
	}
	if r.OutIndex > 0 {
		m.u32(n.RTA_OIF, uint32(r.OutIndex))
	}
	if r.InIndex > 0 {
		m.u32(n.RTA_IIF, uint32(r.InIndex))
	}
	if r.Priority > 0 {
		m.u32(n.RTA_PRIORITY, uint32(r.Priority))
	}
	if r.Pref != 0 && n.RTA_PREF != 0xffff {
		m.u8(n.RTA_PREF, r.Pref)
	}
	if len(r.Metrics) > 0 && !del {
		keys := make([]Metric, 0, len(r.Metrics))
		for k := range r.Metrics {
			if k == MetricCCAlgo || k == 0 {
				return badArg(op, "metric "+k.String()+" is not a number")
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		mx := m.nest(n.RTA_METRICS)
		for _, k := range keys {
			m.u32(uint16(k), r.Metrics[k])
		}
		m.end(mx)
	}
	if len(r.Multipath) > 0 {
		if err := c.putNexthops(m, op, fam, r.Multipath); err != nil {
			return err
		}
	}
	return c.request(op, m, nil)
}

func (c *Conn) putNexthops(m *builder, op string, fam api.Family, nhs []Nexthop) error {
	l := &c.c.l.rtnh
	mp := m.open(c.c.n.RTA_MULTIPATH)
	for _, nh := range nhs {
		if nh.Weight < 0 || nh.Weight > 256 || nh.Index < 0 {
			return badArg(op, "next hop weight "+strconv.Itoa(nh.Weight)+" (1-256) or index "+strconv.Itoa(nh.Index))
		}
		if nh.Gateway.IsValid() && familyOf(nh.Gateway) != fam {
			return badArg(op, "next hop "+nh.Gateway.String()+" of another family")
		}
		start := len(m.b)
		b := m.fixed(l.size)
		w := max(nh.Weight, 1)
		l.flags.put(b, c.c.bo, uint64(nh.Flags))
		l.hops.put(b, c.c.bo, uint64(w-1))
		l.ifindex.put(b, c.c.bo, uint64(nh.Index))
		if nh.Gateway.IsValid() {
			m.attr(c.c.n.RTA_GATEWAY, ipBytes(nh.Gateway.WithZone("")))
		}
		l.len.put(m.b[start:], c.c.bo, uint64(len(m.b)-start))
	}
	m.end(mp)
	return nil
}
