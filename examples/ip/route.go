package main

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
)

func (ip *ipcmd) route(w []string) error {
	if len(w) == 0 {
		return ip.routeShow(&args{})
	}
	a := &args{w[1:]}
	switch cmd := w[0]; {
	case prefixOf(cmd, "show", 1) || prefixOf(cmd, "list", 1) || cmd == "lst":
		return ip.routeShow(a)
	case prefixOf(cmd, "add", 1):
		return ip.routeModify(a, "add")
	case prefixOf(cmd, "delete", 1):
		return ip.routeModify(a, "del")
	case prefixOf(cmd, "replace", 3):
		return ip.routeModify(a, "replace")
	}
	return usagef("command %q is unknown, try \"ip route help\"", w[0])
}

// parseTable reads a table name or number; "all" is 0.
func parseTable(s string) (rtnl.Table, error) {
	if s == "all" {
		return 0, nil
	}
	t, err := rtnl.ParseTable(s)
	if err != nil {
		return 0, usagef("%q is not a valid table", s)
	}
	return t, nil
}

func (ip *ipcmd) routeShow(a *args) error {
	table := rtnl.TableMain
	for a.more() {
		s := a.next()
		switch s {
		case "table":
			v, err := a.value(s)
			if err != nil {
				return err
			}
			if table, err = parseTable(v); err != nil {
				return err
			}
		default:
			return usagef("route show: unexpected %q", s)
		}
	}
	fam := ip.family
	if fam == api.AF_UNSPEC && table != 0 {
		fam = api.AF_INET // iproute2 lists IPv4 unless asked otherwise
	}
	rs, err := ip.c.Routes(fam, &rtnl.RouteFilter{Table: table})
	if err != nil {
		return err
	}
	if err := ip.loadLinks(); err != nil {
		return err
	}
	var list []obj
	for _, r := range rs {
		list = append(list, ip.routeObj(r, table == 0))
	}
	if ip.json {
		return ip.printJSON(list)
	}
	for _, o := range list {
		fmt.Fprintln(ip.out, routeText(o))
	}
	return nil
}

// hostBits is the length of a host prefix of the family.
func hostBits(f api.Family) int {
	if f == api.AF_INET6 {
		return 128
	}
	return 32
}

func prefixText(p netip.Prefix, f api.Family) string {
	if !p.IsValid() {
		return "default"
	}
	if p.Bits() == hostBits(f) {
		return p.Addr().String()
	}
	return p.String()
}

// scopeText spells a route scope as iproute2 does.
func scopeText(s rtnl.Scope) string { return scopeName(s) }

// metricNames are iproute2's names of route metrics that differ from rtnl's.
var metricNames = map[rtnl.Metric]string{rtnl.MetricCCAlgo: "congctl"}

// prefNames names IPv6 router preferences from the ABI table; nil when the
// table lacks them (then "pref" is not printed).
func (ip *ipcmd) prefName(v uint8) (string, bool) {
	for _, n := range []string{"LOW", "MEDIUM", "HIGH"} {
		if c, ok := ip.k.Const("ICMPV6_ROUTER_PREF_" + n); ok && c == uint64(v) {
			return strings.ToLower(n), true
		}
	}
	if _, ok := ip.k.Const("ICMPV6_ROUTER_PREF_MEDIUM"); ok {
		return strconv.Itoa(int(v)), true
	}
	return "", false
}

func routeFlags(fl rtnl.NexthopFlags) []string {
	out := []string{}
	for _, x := range []struct {
		f    rtnl.NexthopFlags
		name string
	}{
		{rtnl.NexthopDead, "dead"}, {rtnl.NexthopOnlink, "onlink"}, {rtnl.NexthopPervasive, "pervasive"},
		{rtnl.NexthopOffload, "offload"}, {rtnl.NexthopTrap, "trap"}, {rtnl.NexthopLinkDown, "linkdown"},
		{rtnl.NexthopUnresolved, "unresolved"},
	} {
		if fl&x.f != 0 {
			out = append(out, x.name)
		}
	}
	return out
}

// routeObj builds a route's JSON object with iproute2's keys and order.
func (ip *ipcmd) routeObj(r *rtnl.Route, allTables bool) obj {
	var o obj
	if r.Type != rtnl.TypeUnicast {
		o.set("type", r.Type.String())
	}
	o.set("dst", prefixText(r.Dst, r.Family))
	if r.Src.IsValid() {
		o.set("from", prefixText(r.Src, r.Family))
	}
	if r.Gateway.IsValid() {
		o.set("gateway", r.Gateway.String())
	}
	if r.OutIndex != 0 {
		o.set("dev", ip.linkName(r.OutIndex))
	}
	if r.Table != 0 && r.Table != rtnl.TableMain && allTables {
		o.set("table", r.Table.String())
	}
	if r.Protocol != rtnl.ProtoBoot {
		o.set("protocol", r.Protocol.String())
	}
	if r.Scope != rtnl.ScopeUniverse {
		o.set("scope", scopeText(r.Scope))
	}
	if r.PrefSrc.IsValid() {
		o.set("prefsrc", r.PrefSrc.String())
	}
	if r.Priority != 0 || r.Family == api.AF_INET6 {
		o.set("metric", r.Priority)
	}
	o.set("flags", routeFlags(r.Flags))
	if len(r.Metrics) > 0 {
		keys := make([]rtnl.Metric, 0, len(r.Metrics))
		for k := range r.Metrics {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		var m obj
		for _, k := range keys {
			v := r.Metrics[k]
			switch k {
			case rtnl.MetricLock:
				continue
			case rtnl.MetricRTT:
				v /= 8
			case rtnl.MetricRTTVar:
				v /= 4
			case rtnl.MetricHopLimit:
				if v == ^uint32(0) {
					continue
				}
			}
			name, ok := metricNames[k]
			if !ok {
				name = k.String()
			}
			m.set(name, v)
		}
		if len(m) > 0 {
			o.set("metrics", []obj{m})
		}
	}
	if r.InIndex != 0 {
		o.set("iif", ip.linkName(r.InIndex))
	}
	if r.Family == api.AF_INET6 {
		if p, ok := ip.prefName(r.Pref); ok {
			o.set("pref", p)
		}
	}
	if len(r.Multipath) > 0 {
		var nhs []obj
		for _, nh := range r.Multipath {
			var n obj
			if nh.Gateway.IsValid() {
				n.set("gateway", nh.Gateway.String())
			}
			n.set("dev", ip.linkName(nh.Index))
			n.set("weight", nh.Weight)
			n.set("flags", routeFlags(nh.Flags))
			nhs = append(nhs, n)
		}
		o.set("nexthops", nhs)
	}
	return o
}

// routeText prints a route as ip's text output does.
func routeText(o obj) string {
	var b strings.Builder
	for _, x := range o {
		switch x.k {
		case "type":
			fmt.Fprintf(&b, "%s ", x.v)
		case "dst":
			fmt.Fprintf(&b, "%s ", x.v)
		case "gateway":
			fmt.Fprintf(&b, "via %s ", x.v)
		case "protocol":
			fmt.Fprintf(&b, "proto %s ", x.v)
		case "prefsrc":
			fmt.Fprintf(&b, "src %s ", x.v)
		case "flags":
			for _, f := range x.v.([]string) {
				b.WriteString(f + " ")
			}
		case "metrics":
			for _, m := range x.v.([]obj) {
				for _, y := range m {
					fmt.Fprintf(&b, "%s %v ", y.k, y.v)
				}
			}
		case "nexthops":
			for _, n := range x.v.([]obj) {
				b.WriteString("\n\tnexthop ")
				for _, y := range n {
					switch y.k {
					case "gateway":
						fmt.Fprintf(&b, "via %s ", y.v)
					case "flags":
						for _, f := range y.v.([]string) {
							b.WriteString(f + " ")
						}
					default:
						fmt.Fprintf(&b, "%s %v ", y.k, y.v)
					}
				}
			}
		default:
			fmt.Fprintf(&b, "%s %v ", x.k, x.v)
		}
	}
	return strings.TrimRight(b.String(), " ")
}

func (ip *ipcmd) routeModify(a *args, cmd string) error {
	r := &rtnl.Route{}
	if ip.family != api.AF_UNSPEC {
		r.Family = ip.family
	}
	dstSet := false
	parseAddr := func(s string) (netip.Addr, error) {
		x, err := netip.ParseAddr(s)
		if err != nil {
			return x, usagef("%q is not a valid address", s)
		}
		return x, nil
	}
	for a.more() {
		s := a.next()
		var err error
		switch s {
		case "via":
			var v string
			if v, err = a.value(s); err == nil && (v == "inet" || v == "inet6") {
				v, err = a.value(s)
			}
			if err == nil {
				r.Gateway, err = parseAddr(v)
			}
		case "dev", "oif":
			var v string
			if v, err = a.value(s); err == nil {
				r.OutIndex, err = ip.linkIndex(v)
			}
		case "src":
			var v string
			if v, err = a.value(s); err == nil {
				r.PrefSrc, err = parseAddr(v)
			}
		case "table":
			var v string
			if v, err = a.value(s); err == nil {
				r.Table, err = parseTable(v)
			}
		case "metric", "priority", "preference":
			r.Priority, err = a.int(s)
		case "proto", "protocol":
			var v string
			if v, err = a.value(s); err == nil {
				if r.Protocol, err = rtnl.ParseProtocol(v); err != nil {
					err = usagef("%q is not a valid protocol", v)
				}
			}
		case "scope":
			var v string
			if v, err = a.value(s); err == nil {
				r.Scope, err = parseScope(v)
			}
		case "onlink":
			r.Flags |= rtnl.NexthopOnlink
		case "mtu", "hoplimit", "advmss", "window", "rtt", "rttvar", "reordering", "cwnd", "initcwnd", "initrwnd", "ssthresh", "quickack":
			if a.more() && a.w[0] == "lock" {
				a.next()
			}
			var n int
			if n, err = a.int(s); err == nil {
				k, perr := rtnl.ParseMetric(s)
				if perr != nil {
					return usagef("unknown metric %q", s)
				}
				if r.Metrics == nil {
					r.Metrics = map[rtnl.Metric]uint32{}
				}
				r.Metrics[k] = uint32(n)
			}
		case "nexthop":
			nh := rtnl.Nexthop{}
			for a.more() && a.w[0] != "nexthop" {
				t := a.next()
				switch t {
				case "via":
					var v string
					if v, err = a.value(t); err == nil {
						nh.Gateway, err = parseAddr(v)
					}
				case "dev":
					var v string
					if v, err = a.value(t); err == nil {
						nh.Index, err = ip.linkIndex(v)
					}
				case "weight":
					nh.Weight, err = a.int(t)
				case "onlink":
					nh.Flags |= rtnl.NexthopOnlink
				default:
					return usagef("nexthop: unexpected %q", t)
				}
				if err != nil {
					return err
				}
			}
			r.Multipath = append(r.Multipath, nh)
		default:
			if dstSet {
				return usagef("route: unexpected %q", s)
			}
			if t, terr := rtnl.ParseRouteType(s); terr == nil && t != rtnl.TypeUnspec {
				if _, nerr := strconv.Atoi(s); nerr != nil && a.more() {
					r.Type = t
					continue
				}
			}
			dstSet = true
			if s == "default" || s == "all" {
				continue
			}
			r.Dst, err = parsePrefix(s)
		}
		if err != nil {
			return err
		}
	}
	if !dstSet {
		return usagef("not enough information: a destination is required")
	}
	if r.Family == api.AF_UNSPEC && !r.Dst.IsValid() && !r.Gateway.IsValid() && len(r.Multipath) == 0 {
		r.Family = api.AF_INET // "default" alone: IPv4, as iproute2
	}
	switch cmd {
	case "add":
		return ip.c.AddRoute(r)
	case "replace":
		return ip.c.ReplaceRoute(r)
	}
	return ip.c.DeleteRoute(r)
}
