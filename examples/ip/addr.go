package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
)

func (ip *ipcmd) addr(w []string) error {
	if len(w) == 0 {
		return ip.linkShow(nil, true)
	}
	a := &args{w[1:]}
	switch cmd := w[0]; {
	case prefixOf(cmd, "show", 1) || prefixOf(cmd, "list", 1) || cmd == "lst":
		return ip.linkShow(a, true)
	case prefixOf(cmd, "add", 1):
		return ip.addrModify(a, "add")
	case prefixOf(cmd, "delete", 1):
		return ip.addrModify(a, "del")
	case prefixOf(cmd, "replace", 3):
		return ip.addrModify(a, "replace")
	}
	return usagef("command %q is unknown, try \"ip address help\"", w[0])
}

// scopeName spells a scope as iproute2 does ("global" for universe).
func scopeName(s rtnl.Scope) string {
	if s == rtnl.ScopeUniverse {
		return "global"
	}
	return s.String()
}

// parseScope reads iproute2's scope names or a number.
func parseScope(s string) (rtnl.Scope, error) {
	if s == "global" {
		return rtnl.ScopeUniverse, nil
	}
	v, err := rtnl.ParseScope(s)
	if err != nil {
		return 0, usagef("invalid scope %q", s)
	}
	return v, nil
}

func familyName(f api.Family) string {
	if f == api.AF_INET6 {
		return "inet6"
	}
	return "inet"
}

// addrFlagNames are iproute2's names for address flags, in its order.
var addrFlagNames = []struct {
	f    rtnl.AddrFlags
	name string
}{
	{rtnl.AddrSecondary, "secondary"},
	{rtnl.AddrNoDAD, "nodad"},
	{rtnl.AddrOptimistic, "optimistic"},
	{rtnl.AddrDADFailed, "dadfailed"},
	{rtnl.AddrHomeAddress, "home"},
	{rtnl.AddrDeprecated, "deprecated"},
	{rtnl.AddrTentative, "tentative"},
	{rtnl.AddrPermanent, "permanent"},
	{rtnl.AddrManageTempAddr, "mngtmpaddr"},
	{rtnl.AddrNoPrefixRoute, "noprefixroute"},
	{rtnl.AddrMcAutoJoin, "autojoin"},
	{rtnl.AddrStablePrivacy, "stable-privacy"},
}

// addrObj builds one addr_info entry with iproute2's keys and order.
func addrObj(a *rtnl.Addr) obj {
	var o obj
	fam := a.Family()
	o.set("family", familyName(fam))
	o.set("local", a.Prefix.Addr().String())
	if a.Peer.IsValid() {
		o.set("address", a.Peer.String())
	}
	o.set("prefixlen", a.Prefix.Bits())
	if a.Broadcast.IsValid() {
		o.set("broadcast", a.Broadcast.String())
	}
	o.set("scope", scopeName(a.Scope))
	fl := a.Flags
	for _, x := range addrFlagNames {
		switch {
		case x.f == rtnl.AddrPermanent:
			if fl&x.f == 0 {
				o.set("dynamic", true)
			}
		case fl&x.f == 0:
		case x.f == rtnl.AddrSecondary && fam == api.AF_INET6:
			o.set("temporary", true)
		default:
			o.set(x.name, true)
		}
		fl &^= x.f
	}
	if fl != 0 {
		o.set("ifa_flags", fmt.Sprintf("%02x", uint32(fl)))
	}
	if a.Label != "" {
		o.set("label", a.Label)
	}
	o.set("valid_life_time", a.ValidLifetime)
	o.set("preferred_life_time", a.PreferredLifetime)
	return o
}

// addrText prints one addr_info entry as ip's text output does.
func addrText(o obj) string {
	m := map[string]any{}
	var flags []string
	for _, x := range o {
		m[x.k] = x.v
		if b, ok := x.v.(bool); ok && b {
			flags = append(flags, x.k)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "    %s %s", m["family"], m["local"])
	if p, ok := m["address"]; ok {
		fmt.Fprintf(&b, " peer %s", p)
	}
	fmt.Fprintf(&b, "/%d", m["prefixlen"])
	if v, ok := m["broadcast"]; ok {
		fmt.Fprintf(&b, " brd %s", v)
	}
	fmt.Fprintf(&b, " scope %s", m["scope"])
	for _, f := range flags {
		b.WriteString(" " + f)
	}
	if v, ok := m["label"]; ok {
		fmt.Fprintf(&b, " %s", v)
	}
	lft := func(v any) string {
		if v.(uint32) == rtnl.Forever {
			return "forever"
		}
		return strconv.FormatUint(uint64(v.(uint32)), 10) + "sec"
	}
	fmt.Fprintf(&b, "\n       valid_lft %s preferred_lft %s\n", lft(m["valid_life_time"]), lft(m["preferred_life_time"]))
	return b.String()
}

// parsePrefix reads "10.1.2.3/24" or a bare address (a host prefix).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, usagef("%q is not a valid prefix", s)
		}
		return p, nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, usagef("%q is not a valid address", s)
	}
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

func parseLifetime(s string) (uint32, error) {
	if s == "forever" {
		return rtnl.Forever, nil
	}
	s = strings.TrimSuffix(s, "sec")
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, usagef("invalid lifetime %q", s)
	}
	return uint32(n), nil
}

func (ip *ipcmd) addrModify(a *args, cmd string) error {
	ad := &rtnl.Addr{}
	dev := ""
	scoped := false
	for a.more() {
		s := a.next()
		var err error
		switch s {
		case "dev":
			dev, err = a.value(s)
		case "peer", "remote":
			var v string
			if v, err = a.value(s); err == nil {
				var p netip.Prefix
				if p, err = parsePrefix(v); err == nil {
					ad.Peer = p.Addr()
					if strings.Contains(v, "/") {
						ad.Prefix = netip.PrefixFrom(ad.Prefix.Addr(), p.Bits())
					}
				}
			}
		case "broadcast", "brd":
			var v string
			if v, err = a.value(s); err == nil {
				if ad.Broadcast, err = netip.ParseAddr(v); err != nil {
					err = usagef("%q is not a valid broadcast address", v)
				}
			}
		case "label":
			ad.Label, err = a.value(s)
		case "scope":
			var v string
			if v, err = a.value(s); err == nil {
				ad.Scope, err = parseScope(v)
				scoped = true
			}
		case "valid_lft", "preferred_lft":
			var v string
			if v, err = a.value(s); err == nil {
				var n uint32
				if n, err = parseLifetime(v); err == nil {
					if s == "valid_lft" {
						ad.ValidLifetime = n
					} else {
						ad.PreferredLifetime = n
					}
				}
			}
		case "nodad":
			ad.Flags |= rtnl.AddrNoDAD
		case "noprefixroute":
			ad.Flags |= rtnl.AddrNoPrefixRoute
		case "home":
			ad.Flags |= rtnl.AddrHomeAddress
		case "mngtmpaddr":
			ad.Flags |= rtnl.AddrManageTempAddr
		case "autojoin":
			ad.Flags |= rtnl.AddrMcAutoJoin
		case "local":
			var v string
			if v, err = a.value(s); err == nil {
				ad.Prefix, err = mergePrefix(v, ad.Prefix)
			}
		default:
			ad.Prefix, err = mergePrefix(s, ad.Prefix)
		}
		if err != nil {
			return err
		}
	}
	if dev == "" {
		return usagef("not enough information: \"dev\" argument is required")
	}
	if !ad.Prefix.IsValid() {
		return usagef("not enough information: an address is required")
	}
	idx, err := ip.linkIndex(dev)
	if err != nil {
		return err
	}
	ad.Index = idx
	if !scoped && ad.Prefix.Addr().Is4() && ad.Prefix.Addr().As4()[0] == 127 {
		ad.Scope = rtnl.ScopeHost // iproute2's default for 127/8
	}
	switch cmd {
	case "add":
		return ip.c.AddAddr(ad)
	case "replace":
		return ip.c.ReplaceAddr(ad)
	}
	return ip.c.DeleteAddr(ad)
}

// mergePrefix parses the local address, keeping a prefix length a "peer"
// gave before it.
func mergePrefix(s string, prev netip.Prefix) (netip.Prefix, error) {
	p, err := parsePrefix(s)
	if err != nil {
		return p, err
	}
	if prev.IsValid() && !strings.Contains(s, "/") {
		return netip.PrefixFrom(p.Addr(), prev.Bits()), nil
	}
	return p, nil
}
