package conformance

import (
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
)

// Addresses, routes, neighbours, rules and events of the netlink family.

func init() {
	Register(
		Case{Family: "netlink", Call: "rtnl_addr_add", Root: true, Run: testRtnlAddrAdd},
		Case{Family: "netlink", Call: "rtnl_addr_del", Root: true, Run: testRtnlAddrDel},
		Case{Family: "netlink", Call: "rtnl_addr_list", Root: true, Run: testRtnlAddrList},
		Case{Family: "netlink", Call: "rtnl_route_add", Root: true, Run: testRtnlRouteAdd},
		Case{Family: "netlink", Call: "rtnl_route_multipath", Root: true, Run: testRtnlMultipath},
		Case{Family: "netlink", Call: "rtnl_route_replace", Root: true, Run: testRtnlRouteReplace},
		Case{Family: "netlink", Call: "rtnl_route_del", Root: true, Run: testRtnlRouteDel},
		Case{Family: "netlink", Call: "rtnl_route_list", Root: true, Run: testRtnlRouteList},
		Case{Family: "netlink", Call: "rtnl_neigh_add", Root: true, Run: testRtnlNeighAdd},
		Case{Family: "netlink", Call: "rtnl_neigh_del", Root: true, Run: testRtnlNeighDel},
		Case{Family: "netlink", Call: "rtnl_neigh_list", Root: true, Run: testRtnlNeighList},
		Case{Family: "netlink", Call: "rtnl_rule_add", Root: true, Run: testRtnlRuleAdd},
		Case{Family: "netlink", Call: "rtnl_rule_del", Root: true, Run: testRtnlRuleDel},
		Case{Family: "netlink", Call: "rtnl_rule_list", Root: true, Run: testRtnlRuleList},
		Case{Family: "netlink", Call: "rtnl_events", Root: true, Run: testRtnlEvents},
		Case{Family: "netlink", Call: "rtnl_events_enobufs", Root: true, Run: testRtnlEventsOverrun},
	)
}

// upVeth makes a veth pair with both ends up and returns the first.
func upVeth(t T, c *rtnl.Conn, a, b string) *rtnl.Link {
	t.Helper()
	x, y := addVeth(t, c, a, b)
	OK(t, c.SetLinkUp(x.Index), "up %s", a)
	OK(t, c.SetLinkUp(y.Index), "up %s", b)
	return x
}

func findAddr(t T, c *rtnl.Conn, index int, p netip.Prefix) *rtnl.Addr {
	t.Helper()
	as, err := c.Addrs(api.AF_UNSPEC, index)
	OK(t, err, "list addresses")
	for _, a := range as {
		if a.Prefix == p {
			return a
		}
	}
	return nil
}

func testRtnlAddrAdd(t T, e *Env) {
	c := RtnlNetns(t, e)
	l := upVeth(t, c, "a0", "a1")
	p4 := netip.MustParsePrefix("10.1.2.3/24")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: p4, Broadcast: netip.MustParseAddr("10.1.2.255"), Label: "a0:web"}), "add IPv4")
	a := findAddr(t, c, l.Index, p4)
	True(t, a != nil, "IPv4 address listed")
	Eq(t, a.Family(), api.AF_INET, "family")
	Eq(t, a.Label, "a0:web", "label")
	Eq(t, a.Broadcast.String(), "10.1.2.255", "broadcast")
	Eq(t, a.Scope, rtnl.ScopeUniverse, "scope")
	True(t, a.Flags&rtnl.AddrPermanent != 0, "permanent: %v", a.Flags)
	Eq(t, a.ValidLifetime, rtnl.Forever, "valid forever")

	p6 := netip.MustParsePrefix("2001:db8::1/64")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: p6, Flags: rtnl.AddrNoDAD | rtnl.AddrNoPrefixRoute}), "add IPv6")
	a = findAddr(t, c, l.Index, p6)
	True(t, a != nil, "IPv6 address listed")
	True(t, a.Flags&rtnl.AddrNoDAD != 0 && a.Flags&rtnl.AddrNoPrefixRoute != 0, "flags kept (IFA_FLAGS): %v", a.Flags)
	True(t, a.Flags&rtnl.AddrTentative == 0, "nodad: not tentative")

	pp := netip.MustParsePrefix("10.5.0.1/32")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: pp, Peer: netip.MustParseAddr("10.5.0.2")}), "add with peer")
	a = findAddr(t, c, l.Index, pp)
	True(t, a != nil && a.Peer.String() == "10.5.0.2", "peer: %+v", a)

	pl := netip.MustParsePrefix("172.16.0.1/16")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: pl, Scope: rtnl.ScopeLink, ValidLifetime: 300, PreferredLifetime: 200}), "scope and lifetimes")
	a = findAddr(t, c, l.Index, pl)
	True(t, a != nil, "listed")
	Eq(t, a.Scope, rtnl.ScopeLink, "scope")
	True(t, a.ValidLifetime <= 300 && a.ValidLifetime >= 295, "valid lifetime %d", a.ValidLifetime)
	True(t, a.PreferredLifetime <= 200 && a.PreferredLifetime >= 195, "preferred lifetime %d", a.PreferredLifetime)
	True(t, a.Flags&rtnl.AddrPermanent == 0, "an address with a lifetime is not permanent")

	Want(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: p4}), fs.ErrExist, "add twice")
	OK(t, c.ReplaceAddr(&rtnl.Addr{Index: l.Index, Prefix: p4, ValidLifetime: 100}), "replace updates")
	True(t, findAddr(t, c, l.Index, p4).ValidLifetime <= 100, "lifetime replaced")
	Want(t, c.AddAddr(&rtnl.Addr{Index: l.Index}), api.EINVAL, "no address")
	Want(t, c.AddAddr(&rtnl.Addr{Prefix: p4}), api.EINVAL, "no link")
	Want(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: pl, ValidLifetime: 10, PreferredLifetime: 20}), api.EINVAL, "preferred > valid")
	Want(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: p6, Label: "x"}), api.EINVAL, "label on IPv6")
	Want(t, c.AddAddr(&rtnl.Addr{Index: 1 << 30, Prefix: netip.MustParsePrefix("10.9.9.9/8")}), api.ENODEV, "missing link")
	Want(t, c.AddAddr(nil), api.EINVAL, "nil")
}

func testRtnlAddrDel(t T, e *Env) {
	c := RtnlNetns(t, e)
	l := upVeth(t, c, "ad0", "ad1")
	for _, s := range []string{"10.1.2.3/24", "2001:db8::1/64"} {
		p := netip.MustParsePrefix(s)
		OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: p, Flags: rtnl.AddrNoDAD}), "add %s", s)
		OK(t, c.DeleteAddr(&rtnl.Addr{Index: l.Index, Prefix: p}), "del %s", s)
		True(t, findAddr(t, c, l.Index, p) == nil, "%s gone", s)
		Want(t, c.DeleteAddr(&rtnl.Addr{Index: l.Index, Prefix: p}), api.EADDRNOTAVAIL, "del %s twice", s)
	}
}

func testRtnlAddrList(t T, e *Env) {
	c := RtnlNetns(t, e)
	lo := rtnlLink(t, c, "lo")
	OK(t, c.SetLinkUp(lo.Index), "lo up")
	v4, err := c.Addrs(api.AF_INET, 0)
	OK(t, err, "IPv4 addresses")
	True(t, len(v4) == 1 && v4[0].Prefix.String() == "127.0.0.1/8" && v4[0].Scope == rtnl.ScopeHost, "lo's 127.0.0.1/8: %v", v4)
	v6, err := c.Addrs(api.AF_INET6, lo.Index)
	OK(t, err, "IPv6 addresses of lo")
	True(t, len(v6) == 1 && v6[0].Prefix.String() == "::1/128", "lo's ::1: %v", v6)
	all, err := c.Addrs(api.AF_UNSPEC, 0)
	OK(t, err, "all addresses")
	Eq(t, len(all), 2, "both")
	_, err = c.Addrs(api.AF_UNIX, 0)
	Want(t, err, api.EAFNOSUPPORT, "AF_UNIX addresses")
	_, err = c.Addrs(api.AF_INET, -1)
	Want(t, err, api.EINVAL, "negative index")
}

// findRoute lists routes of all tables and returns the one to dst in table.
func findRoute(t T, c *rtnl.Conn, dst string, table rtnl.Table) *rtnl.Route {
	t.Helper()
	rs, err := c.Routes(api.AF_UNSPEC, &rtnl.RouteFilter{Table: table})
	OK(t, err, "list routes")
	for _, r := range rs {
		if (dst == "default" && !r.Dst.IsValid()) || r.Dst.String() == dst {
			return r
		}
	}
	return nil
}

func testRtnlRouteAdd(t T, e *Env) {
	c := RtnlNetns(t, e)
	l := upVeth(t, c, "r0", "r1")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: netip.MustParsePrefix("10.1.2.3/24")}), "address")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: netip.MustParsePrefix("2001:db8::1/64"), Flags: rtnl.AddrNoDAD}), "IPv6 address")
	gw := netip.MustParseAddr("10.1.2.1")

	OK(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.9.0.0/16"), Gateway: gw, OutIndex: l.Index}), "via gateway")
	r := findRoute(t, c, "10.9.0.0/16", rtnl.TableMain)
	True(t, r != nil, "route listed")
	Eq(t, r.Gateway, gw, "gateway")
	Eq(t, r.OutIndex, l.Index, "dev")
	Eq(t, r.Protocol, rtnl.ProtoBoot, "default protocol")
	Eq(t, r.Scope, rtnl.ScopeUniverse, "scope")
	Eq(t, r.Type, rtnl.TypeUnicast, "type")

	OK(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.10.0.0/16"), Gateway: gw, Table: 1000, Priority: 5,
		Protocol: rtnl.ProtoStatic, PrefSrc: netip.MustParseAddr("10.1.2.3"),
		Metrics: map[rtnl.Metric]uint32{rtnl.MetricMTU: 1400, rtnl.MetricHopLimit: 9, rtnl.MetricAdvMSS: 1300}}), "table, metric, metrics")
	r = findRoute(t, c, "10.10.0.0/16", 1000)
	True(t, r != nil, "listed in table 1000 (RTA_TABLE)")
	Eq(t, r.Table, rtnl.Table(1000), "table")
	Eq(t, r.Priority, 5, "metric")
	Eq(t, r.Protocol, rtnl.ProtoStatic, "protocol")
	Eq(t, r.PrefSrc.String(), "10.1.2.3", "src")
	Eq(t, r.Metrics[rtnl.MetricMTU], uint32(1400), "mtu metric")
	Eq(t, r.Metrics[rtnl.MetricHopLimit], uint32(9), "hoplimit metric")
	Eq(t, r.Metrics[rtnl.MetricAdvMSS], uint32(1300), "advmss metric")
	True(t, findRoute(t, c, "10.10.0.0/16", rtnl.TableMain) == nil, "not in main")

	OK(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.11.0.0/16"), OutIndex: l.Index}), "device route")
	Eq(t, findRoute(t, c, "10.11.0.0/16", rtnl.TableMain).Scope, rtnl.ScopeLink, "no gateway: scope link")
	OK(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.12.0.0/16"), Type: rtnl.TypeBlackhole}), "blackhole")
	Eq(t, findRoute(t, c, "10.12.0.0/16", rtnl.TableMain).Type, rtnl.TypeBlackhole, "type")
	OK(t, c.AddRoute(&rtnl.Route{Gateway: gw, Table: 77}), "default route")
	Eq(t, findRoute(t, c, "default", 77).Gateway, gw, "default route's gateway")
	OK(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("2001:db8:1::/48"), Gateway: netip.MustParseAddr("2001:db8::2")}), "IPv6")
	r = findRoute(t, c, "2001:db8:1::/48", rtnl.TableMain)
	True(t, r != nil && r.Family == api.AF_INET6 && r.OutIndex == l.Index, "IPv6 route resolved to the link: %+v", r)

	Want(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.9.0.0/16"), Gateway: gw}), fs.ErrExist, "add twice")
	err := c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.13.0.0/16"), Gateway: netip.MustParseAddr("192.0.2.1")})
	Want(t, err, api.ENETUNREACH, "unreachable gateway")
	Want(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.14.0.0/16"), Gateway: netip.MustParseAddr("2001:db8::2")}), api.EINVAL, "mixed families")
	Want(t, c.AddRoute(&rtnl.Route{}), api.EINVAL, "no family")
	Want(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.15.0.0/16"), Metrics: map[rtnl.Metric]uint32{rtnl.MetricCCAlgo: 1}}), api.EINVAL, "string metric")
	Want(t, c.AddRoute(nil), api.EINVAL, "nil")
}

func testRtnlMultipath(t T, e *Env) {
	c := RtnlNetns(t, e)
	a := upVeth(t, c, "mp0", "mp1")
	b := upVeth(t, c, "mq0", "mq1")
	OK(t, c.AddAddr(&rtnl.Addr{Index: a.Index, Prefix: netip.MustParsePrefix("10.1.0.3/24")}), "address a")
	OK(t, c.AddAddr(&rtnl.Addr{Index: b.Index, Prefix: netip.MustParsePrefix("10.2.0.3/24")}), "address b")
	OK(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.20.0.0/16"), Multipath: []rtnl.Nexthop{
		{Gateway: netip.MustParseAddr("10.1.0.1"), Index: a.Index, Weight: 3},
		{Gateway: netip.MustParseAddr("10.2.0.1"), Index: b.Index},
	}}), "multipath route")
	r := findRoute(t, c, "10.20.0.0/16", rtnl.TableMain)
	True(t, r != nil, "listed")
	Eq(t, len(r.Multipath), 2, "two next hops")
	Eq(t, r.Multipath[0].Gateway.String(), "10.1.0.1", "first gateway")
	Eq(t, r.Multipath[0].Index, a.Index, "first dev")
	Eq(t, r.Multipath[0].Weight, 3, "first weight")
	Eq(t, r.Multipath[1].Gateway.String(), "10.2.0.1", "second gateway")
	Eq(t, r.Multipath[1].Weight, 1, "second weight")
	Eq(t, r.Scope, rtnl.ScopeUniverse, "scope")
	Want(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.21.0.0/16"), Multipath: []rtnl.Nexthop{{Index: a.Index, Weight: 300}}}), api.EINVAL, "weight out of range")
}

func testRtnlRouteReplace(t T, e *Env) {
	c := RtnlNetns(t, e)
	l := upVeth(t, c, "rp0", "rp1")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: netip.MustParsePrefix("10.1.2.3/24")}), "address")
	dst := netip.MustParsePrefix("10.9.0.0/16")
	OK(t, c.ReplaceRoute(&rtnl.Route{Dst: dst, Gateway: netip.MustParseAddr("10.1.2.1")}), "replace creates")
	OK(t, c.ReplaceRoute(&rtnl.Route{Dst: dst, Gateway: netip.MustParseAddr("10.1.2.2")}), "replace changes")
	rs, err := c.Routes(api.AF_INET, &rtnl.RouteFilter{Table: rtnl.TableMain, Protocol: rtnl.ProtoBoot})
	OK(t, err, "list")
	Eq(t, len(rs), 1, "one route, not two")
	Eq(t, rs[0].Gateway.String(), "10.1.2.2", "new gateway")
}

func testRtnlRouteDel(t T, e *Env) {
	c := RtnlNetns(t, e)
	l := upVeth(t, c, "rd0", "rd1")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: netip.MustParsePrefix("10.1.2.3/24")}), "address")
	dst := netip.MustParsePrefix("10.9.0.0/16")
	OK(t, c.AddRoute(&rtnl.Route{Dst: dst, Gateway: netip.MustParseAddr("10.1.2.1"), Table: 300}), "add")
	Want(t, c.DeleteRoute(&rtnl.Route{Dst: dst}), api.ESRCH, "not in main")
	OK(t, c.DeleteRoute(&rtnl.Route{Dst: dst, Table: 300}), "del from its table")
	True(t, findRoute(t, c, dst.String(), 300) == nil, "gone")
	Want(t, c.DeleteRoute(&rtnl.Route{Dst: dst, Table: 300}), api.ESRCH, "del twice")
}

func testRtnlRouteList(t T, e *Env) {
	c := RtnlNetns(t, e)
	l := upVeth(t, c, "rl0", "rl1")
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: netip.MustParsePrefix("10.1.2.3/24")}), "address")
	rs, err := c.Routes(api.AF_INET, &rtnl.RouteFilter{Table: rtnl.TableMain})
	OK(t, err, "main table")
	True(t, len(rs) == 1 && rs[0].Dst.String() == "10.1.2.0/24" && rs[0].Protocol == rtnl.ProtoKernel && rs[0].Scope == rtnl.ScopeLink,
		"the kernel's prefix route: %+v", rs)
	local, err := c.Routes(api.AF_INET, &rtnl.RouteFilter{Table: rtnl.TableLocal, Type: rtnl.TypeLocal})
	OK(t, err, "local table")
	found := false
	for _, r := range local {
		found = found || r.Dst.String() == "10.1.2.3/32"
	}
	True(t, found, "local route of the address: %v", local)
	all, err := c.Routes(api.AF_UNSPEC, nil)
	OK(t, err, "every route")
	True(t, len(all) > len(rs)+len(local)-1, "all tables and families: %d", len(all))
	byDev, err := c.Routes(api.AF_INET, &rtnl.RouteFilter{OutIndex: 1 << 30})
	OK(t, err, "filter by a missing dev")
	Eq(t, len(byDev), 0, "nothing")
	_, err = c.Routes(api.AF_PACKET, nil)
	Want(t, err, api.EAFNOSUPPORT, "AF_PACKET routes")
}

func testRtnlNeighAdd(t T, e *Env) {
	c := RtnlNetns(t, e)
	l := upVeth(t, c, "n0", "n1")
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 9}
	OK(t, c.AddNeigh(&rtnl.Neigh{Index: l.Index, IP: netip.MustParseAddr("10.1.2.9"), HardwareAddr: mac}), "add IPv4")
	OK(t, c.AddNeigh(&rtnl.Neigh{Index: l.Index, IP: netip.MustParseAddr("2001:db8::9"), HardwareAddr: mac}), "add IPv6")
	ns, err := c.Neighs(api.AF_UNSPEC, l.Index)
	OK(t, err, "list")
	got := map[string]*rtnl.Neigh{}
	for _, n := range ns {
		got[n.IP.String()] = n
	}
	for _, ip := range []string{"10.1.2.9", "2001:db8::9"} {
		n := got[ip]
		True(t, n != nil, "%s listed", ip)
		Eq(t, n.State, rtnl.NeighPermanent, "state of %s", ip)
		Eq(t, n.HardwareAddr.String(), mac.String(), "lladdr of %s", ip)
		Eq(t, n.Index, l.Index, "dev of %s", ip)
	}
	v4, err := c.Neighs(api.AF_INET, 0)
	OK(t, err, "IPv4 only")
	for _, n := range v4 {
		True(t, n.IP.Is4(), "only IPv4: %v", n.IP)
	}
	Want(t, c.AddNeigh(&rtnl.Neigh{Index: l.Index, IP: netip.MustParseAddr("10.1.2.9"), HardwareAddr: mac}), fs.ErrExist, "add twice")
	OK(t, c.ReplaceNeigh(&rtnl.Neigh{Index: l.Index, IP: netip.MustParseAddr("10.1.2.9"), HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 10}, State: rtnl.NeighStale}), "replace")
	ns, _ = c.Neighs(api.AF_INET, l.Index)
	True(t, len(ns) == 1 && ns[0].State == rtnl.NeighStale && ns[0].HardwareAddr[5] == 10, "replaced: %+v", ns)
	Want(t, c.AddNeigh(&rtnl.Neigh{IP: netip.MustParseAddr("10.1.2.8")}), api.EINVAL, "no link")
	Want(t, c.AddNeigh(&rtnl.Neigh{Index: l.Index}), api.EINVAL, "no address")
}

func testRtnlNeighDel(t T, e *Env) {
	c := RtnlNetns(t, e)
	l := upVeth(t, c, "nd0", "nd1")
	n := &rtnl.Neigh{Index: l.Index, IP: netip.MustParseAddr("10.1.2.9"), HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 9}}
	OK(t, c.AddNeigh(n), "add")
	OK(t, c.DeleteNeigh(&rtnl.Neigh{Index: l.Index, IP: n.IP}), "del")
	ns, err := c.Neighs(api.AF_INET, l.Index)
	OK(t, err, "list")
	Eq(t, len(ns), 0, "gone")
	Want(t, c.DeleteNeigh(&rtnl.Neigh{Index: l.Index, IP: n.IP}), api.ENOENT, "del twice")
}

func testRtnlNeighList(t T, e *Env) {
	c := RtnlNetns(t, e)
	ns, err := c.Neighs(api.AF_UNSPEC, 0)
	OK(t, err, "list")
	Eq(t, len(ns), 0, "a fresh namespace has no neighbours")
	a := upVeth(t, c, "nl0", "nl1")
	b := upVeth(t, c, "nm0", "nm1")
	for i, l := range []*rtnl.Link{a, b} {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i), 9})
		OK(t, c.AddNeigh(&rtnl.Neigh{Index: l.Index, IP: ip, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, byte(i), 9}}), "add on %s", l.Name)
	}
	ns, err = c.Neighs(api.AF_INET, b.Index)
	OK(t, err, "list one link's")
	True(t, len(ns) == 1 && ns[0].IP.String() == "10.0.1.9" && ns[0].Index == b.Index, "only b's entry: %v", ns)
	ns, err = c.Neighs(api.AF_INET6, 0)
	OK(t, err, "IPv6 entries")
	for _, n := range ns {
		True(t, n.IP.Is6(), "IPv6 only: %v", n.IP)
	}
	_, err = c.Neighs(api.AF_INET, -1)
	Want(t, err, api.EINVAL, "negative index")
	_, err = c.Neighs(api.AF_UNIX, 0)
	Want(t, err, api.EAFNOSUPPORT, "AF_UNIX")
}

func testRtnlRuleList(t T, e *Env) {
	c := RtnlNetns(t, e)
	for _, f := range []api.Family{api.AF_INET, api.AF_INET6} {
		rs, err := c.Rules(f)
		OK(t, err, "list %v", f)
		prios := map[int]rtnl.Table{}
		for _, r := range rs {
			Eq(t, r.Family, f, "family")
			prios[r.Priority] = r.Table
		}
		Eq(t, prios[0], rtnl.TableLocal, "%v: priority 0 looks up local", f)
		Eq(t, prios[32766], rtnl.TableMain, "%v: 32766 looks up main", f)
	}
	all, err := c.Rules(api.AF_UNSPEC)
	OK(t, err, "both families")
	True(t, len(all) >= 5, "IPv4 and IPv6 rules: %d", len(all))
	_, err = c.Rules(api.AF_NETLINK)
	Want(t, err, api.EAFNOSUPPORT, "AF_NETLINK rules")
}

func findRule(t T, c *rtnl.Conn, f api.Family, prio int) *rtnl.Rule {
	t.Helper()
	rs, err := c.Rules(f)
	OK(t, err, "list rules")
	for _, r := range rs {
		if r.Priority == prio {
			return r
		}
	}
	return nil
}

func testRtnlRuleAdd(t T, e *Env) {
	c := RtnlNetns(t, e)
	// A fresh namespace has the default rules.
	True(t, findRule(t, c, api.AF_INET, 32766) != nil, "the main-table rule")
	Eq(t, findRule(t, c, api.AF_INET, 0).Table, rtnl.TableLocal, "priority 0 looks up local")
	OK(t, c.AddRule(&rtnl.Rule{Priority: 100, Src: netip.MustParsePrefix("10.0.0.0/8"), Table: 100}), "from rule")
	r := findRule(t, c, api.AF_INET, 100)
	True(t, r != nil, "listed")
	Eq(t, r.Src.String(), "10.0.0.0/8", "from")
	Eq(t, r.Table, rtnl.Table(100), "table")
	Eq(t, r.Action, rtnl.ActionToTable, "action")
	OK(t, c.AddRule(&rtnl.Rule{Priority: 200, Mark: 0x10, Mask: 0xff, Table: 1000, IIFName: "lo"}), "fwmark rule")
	r = findRule(t, c, api.AF_INET, 200)
	True(t, r != nil && r.Mark == 0x10 && r.Mask == 0xff && r.Table == 1000 && r.IIFName == "lo", "fwmark rule: %+v", r)
	OK(t, c.AddRule(&rtnl.Rule{Priority: 300, Dst: netip.MustParsePrefix("2001:db8::/32"), Table: 300, Invert: true}), "IPv6 not-to rule")
	r = findRule(t, c, api.AF_INET6, 300)
	True(t, r != nil && r.Dst.String() == "2001:db8::/32" && r.Invert, "IPv6 rule: %+v", r)
	OK(t, c.AddRule(&rtnl.Rule{Priority: 400, Action: rtnl.ActionBlackhole}), "blackhole rule")
	Eq(t, findRule(t, c, api.AF_INET, 400).Action, rtnl.ActionBlackhole, "action")
	Want(t, c.AddRule(&rtnl.Rule{Priority: 100, Src: netip.MustParsePrefix("10.0.0.0/8"), Table: 100}), fs.ErrExist, "add twice")
	Want(t, c.AddRule(&rtnl.Rule{Priority: 500}), api.EINVAL, "a lookup without a table")
	Want(t, c.AddRule(&rtnl.Rule{Priority: -1, Table: 1}), api.EINVAL, "negative priority")
	Want(t, c.AddRule(nil), api.EINVAL, "nil")
}

func testRtnlRuleDel(t T, e *Env) {
	c := RtnlNetns(t, e)
	r := &rtnl.Rule{Priority: 100, Src: netip.MustParsePrefix("10.0.0.0/8"), Table: 100}
	OK(t, c.AddRule(r), "add")
	OK(t, c.DeleteRule(r), "del")
	True(t, findRule(t, c, api.AF_INET, 100) == nil, "gone")
	Want(t, c.DeleteRule(r), api.ENOENT, "del twice")
}

// nextEvent waits up to a second for an event that want accepts.
func nextEvent(t T, evs <-chan rtnl.Event, errs <-chan error, what string, want func(rtnl.Event) bool) rtnl.Event {
	t.Helper()
	deadline := time.After(time.Second)
	for {
		select {
		case ev := <-evs:
			if want(ev) {
				return ev
			}
		case err := <-errs:
			t.Fatalf("%s: event error: %v", what, err)
		case <-deadline:
			t.Fatalf("%s: no event within a second", what)
		}
	}
}

func testRtnlEvents(t T, e *Env) {
	c := RtnlNetns(t, e)
	sub, err := c.Subscribe(rtnl.GroupLink, rtnl.GroupIPv4Addr, rtnl.GroupIPv4Route, rtnl.GroupNeigh, rtnl.GroupIPv4Rule)
	OK(t, err, "subscribe")
	evs, errs := make(chan rtnl.Event, 256), make(chan error, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range sub.Events() {
			if err != nil {
				errs <- err
				continue
			}
			evs <- ev
		}
	}()
	l := upVeth(t, c, "ev0", "ev1")
	nextEvent(t, evs, errs, "link", func(ev rtnl.Event) bool {
		le, ok := ev.(*rtnl.LinkEvent)
		return ok && !le.Deleted() && le.Link.Name == "ev0"
	})
	OK(t, c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: netip.MustParsePrefix("10.1.2.3/24")}), "address")
	ae := nextEvent(t, evs, errs, "addr", func(ev rtnl.Event) bool { _, ok := ev.(*rtnl.AddrEvent); return ok }).(*rtnl.AddrEvent)
	Eq(t, ae.Addr.Prefix.String(), "10.1.2.3/24", "address event")
	OK(t, c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.9.0.0/16"), Gateway: netip.MustParseAddr("10.1.2.1")}), "route")
	nextEvent(t, evs, errs, "route", func(ev rtnl.Event) bool {
		re, ok := ev.(*rtnl.RouteEvent)
		return ok && re.Route.Dst.String() == "10.9.0.0/16"
	})
	OK(t, c.AddNeigh(&rtnl.Neigh{Index: l.Index, IP: netip.MustParseAddr("10.1.2.9"), HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 9}}), "neigh")
	nextEvent(t, evs, errs, "neigh", func(ev rtnl.Event) bool {
		ne, ok := ev.(*rtnl.NeighEvent)
		return ok && ne.Neigh.IP.String() == "10.1.2.9"
	})
	OK(t, c.AddRule(&rtnl.Rule{Priority: 100, Table: 100}), "rule")
	nextEvent(t, evs, errs, "rule", func(ev rtnl.Event) bool { re, ok := ev.(*rtnl.RuleEvent); return ok && re.Rule.Priority == 100 })
	OK(t, c.DeleteLink(l.Index), "delete link")
	nextEvent(t, evs, errs, "link deletion", func(ev rtnl.Event) bool {
		le, ok := ev.(*rtnl.LinkEvent)
		return ok && le.Deleted() && le.Link.Name == "ev0"
	})
	OK(t, sub.Close(), "close ends the loop")
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatalf("Events did not return after Close")
	}
	OK(t, sub.Close(), "close twice")
	_, err = c.Subscribe()
	Want(t, err, api.EINVAL, "no groups")
}

func testRtnlEventsOverrun(t T, e *Env) {
	c := RtnlNetns(t, e)
	sub, err := c.Subscribe(rtnl.GroupLink)
	OK(t, err, "subscribe")
	defer sub.Close()
	OK(t, sub.Fd().SetRcvBuf(1024), "tiny receive buffer")
	// Nobody reads while the kernel announces many changes.
	l, _ := addVeth(t, c, "ob0", "ob1")
	for i := 0; i < 50; i++ {
		up := i%2 == 0
		OK(t, c.SetLink(l.Index, &rtnl.LinkChange{Up: &up}), "flap")
	}
	var got error
	n := 0
	for ev, err := range sub.Events() {
		if err != nil {
			got = err
			break
		}
		n++
		if n > 1000 {
			break
		}
		_ = ev
	}
	Want(t, got, api.ENOBUFS, "the overrun is reported")
	Want(t, got, rtnl.ErrOverrun, "as ErrOverrun")
	var re *rtnl.Error
	True(t, errors.As(got, &re) && re.Message != "", "with an explanation: %v", got)
}
