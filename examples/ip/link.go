package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
)

func (ip *ipcmd) link(w []string) error {
	if len(w) == 0 {
		return ip.linkShow(nil, false)
	}
	a := &args{w[1:]}
	switch cmd := w[0]; {
	case prefixOf(cmd, "show", 1) || prefixOf(cmd, "list", 1) || cmd == "lst":
		return ip.linkShow(a, false)
	case prefixOf(cmd, "add", 1):
		return ip.linkAdd(a)
	case prefixOf(cmd, "delete", 1):
		return ip.linkDel(a)
	case prefixOf(cmd, "set", 1):
		return ip.linkSet(a)
	default:
		return usagef("command %q is unknown, try \"ip link help\"", cmd)
	}
}

// devArg reads "[dev] NAME".
func devArg(a *args) (string, error) {
	if !a.more() {
		return "", usagef("no device given")
	}
	s := a.next()
	if s == "dev" {
		return a.value("dev")
	}
	return s, nil
}

// linkShow prints links; withAddrs adds addr_info (ip addr show).
func (ip *ipcmd) linkShow(a *args, withAddrs bool) error {
	dev := ""
	for a != nil && a.more() {
		s := a.next()
		switch s {
		case "dev":
			v, err := a.value("dev")
			if err != nil {
				return err
			}
			dev = v
		case "up":
		default:
			dev = s
		}
	}
	if err := ip.loadLinks(); err != nil {
		return err
	}
	links := ip.links
	if dev != "" {
		idx, err := ip.linkIndex(dev)
		if err != nil {
			return err
		}
		links = []*rtnl.Link{ip.byIndex[idx]}
		if links[0] == nil {
			return fmt.Errorf("device %q vanished", dev)
		}
	}
	var addrs []*rtnl.Addr
	if withAddrs {
		var err error
		if addrs, err = ip.c.Addrs(ip.family, 0); err != nil {
			return err
		}
	}
	var list []obj
	var shown []*rtnl.Link
	for _, l := range links {
		o := ip.linkObj(l, withAddrs)
		if withAddrs {
			var ai []obj
			for _, ad := range addrs {
				if ad.Index == l.Index {
					ai = append(ai, addrObj(ad))
				}
			}
			if ai == nil {
				// With a family asked for, iproute2 leaves out the links
				// without an address of it.
				if ip.family != api.AF_UNSPEC {
					continue
				}
				ai = []obj{}
			}
			o.set("addr_info", ai)
		}
		list = append(list, o)
		shown = append(shown, l)
	}
	if ip.json {
		return ip.printJSON(list)
	}
	for i, l := range shown {
		ip.printLinkText(l, list[i], withAddrs)
	}
	return nil
}

// linkFlags lists flags in iproute2's order and spelling.
func linkFlags(fl rtnl.LinkFlags, mdown bool) []string {
	var out []string
	if fl&rtnl.FlagUp != 0 && fl&rtnl.FlagRunning == 0 {
		out = append(out, "NO-CARRIER")
	}
	fl &^= rtnl.FlagRunning
	for _, f := range []rtnl.LinkFlags{
		rtnl.FlagLoopback, rtnl.FlagBroadcast, rtnl.FlagPointToPoint, rtnl.FlagMulticast,
		rtnl.FlagNoARP, rtnl.FlagAllMulti, rtnl.FlagPromisc, rtnl.FlagMaster, rtnl.FlagSlave,
		rtnl.FlagDebug, rtnl.FlagDynamic, rtnl.FlagAutoMedia, rtnl.FlagPortSel,
		rtnl.FlagNoTrailers, rtnl.FlagUp, rtnl.FlagLowerUp, rtnl.FlagDormant, rtnl.FlagEcho,
	} {
		if fl&f != 0 {
			out = append(out, f.String())
			fl &^= f
		}
	}
	if fl != 0 {
		out = append(out, strconv.FormatUint(uint64(fl), 16))
	}
	if mdown {
		out = append(out, "M-DOWN")
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// linkTypeName spells a hardware type as iproute2's ll_types does.
func linkTypeName(t rtnl.LinkType) string {
	switch t {
	case rtnl.LinkTypeTunnel:
		return "ipip"
	case rtnl.LinkTypeIPGRE:
		return "gre"
	case rtnl.LinkTypeIP6GRE:
		return "gre6"
	case rtnl.LinkTypeIEEE80211:
		return "ieee802.11"
	}
	s := t.String()
	if _, err := strconv.Atoi(s); err == nil {
		return "[" + s + "]"
	}
	return s
}

// linkObj builds a link's JSON object with iproute2's keys and order.
func (ip *ipcmd) linkObj(l *rtnl.Link, addrMode bool) obj {
	var o obj
	o.set("ifindex", l.Index)
	mdown := false
	if l.ParentIndex != 0 {
		if l.LinkNetnsID >= 0 {
			o.set("link_index", l.ParentIndex)
		} else {
			o.set("link", ip.linkName(l.ParentIndex))
			if p, ok := ip.byIndex[l.ParentIndex]; ok {
				mdown = p.Flags&rtnl.FlagUp == 0
			} else {
				mdown = true
			}
		}
	}
	o.set("ifname", l.Name)
	o.set("flags", linkFlags(l.Flags, mdown))
	o.set("mtu", l.MTU)
	if l.Qdisc != "" {
		o.set("qdisc", l.Qdisc)
	}
	if l.MasterIndex != 0 {
		o.set("master", ip.linkName(l.MasterIndex))
	}
	o.set("operstate", l.OperState.String())
	if !addrMode {
		mode := "DEFAULT"
		if l.LinkMode == 1 {
			mode = "DORMANT"
		}
		o.set("linkmode", mode)
	}
	if l.Group == 0 {
		o.set("group", "default")
	} else {
		o.set("group", strconv.Itoa(l.Group))
	}
	if l.TxQLen != 0 {
		o.set("txqlen", l.TxQLen)
	}
	// The link layer line is left out when an IP family was asked for.
	if ip.family == api.AF_UNSPEC || ip.details {
		o.set("link_type", linkTypeName(l.Type))
		if l.HardwareAddr != nil {
			o.set("address", l.HardwareAddr.String())
		}
		if l.Broadcast != nil {
			if l.Flags&rtnl.FlagPointToPoint != 0 {
				o.set("link_pointtopoint", true)
			}
			o.set("broadcast", l.Broadcast.String())
		}
	}
	if l.LinkNetnsID >= 0 {
		o.set("link_netnsid", l.LinkNetnsID)
	}
	if ip.details {
		o.set("promiscuity", l.Promiscuity)
		if l.MinMTU != 0 {
			o.set("min_mtu", l.MinMTU)
		}
		if l.MaxMTU != 0 {
			o.set("max_mtu", l.MaxMTU)
		}
		if l.Kind != "" || l.SlaveKind != "" {
			var li obj
			if l.Kind != "" {
				li.set("info_kind", l.Kind)
			}
			if l.SlaveKind != "" {
				li.set("info_slave_kind", l.SlaveKind)
			}
			o.set("linkinfo", li)
		}
		o.set("num_tx_queues", l.NumTxQueues)
		o.set("num_rx_queues", l.NumRxQueues)
	}
	if !addrMode && l.Alias != "" {
		o.set("ifalias", l.Alias)
	}
	return o
}

// printLinkText prints a link as ip's text output does.
func (ip *ipcmd) printLinkText(l *rtnl.Link, o obj, withAddrs bool) {
	get := func(k string) any {
		for _, x := range o {
			if x.k == k {
				return x.v
			}
		}
		return nil
	}
	name := l.Name
	if v, ok := get("link").(string); ok {
		name += "@" + v
	} else if l.ParentIndex != 0 && l.LinkNetnsID >= 0 {
		name += "@if" + strconv.Itoa(l.ParentIndex)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d: %s: <%s> mtu %d", l.Index, name, strings.Join(get("flags").([]string), ","), l.MTU)
	if l.Qdisc != "" {
		fmt.Fprintf(&b, " qdisc %s", l.Qdisc)
	}
	if v, ok := get("master").(string); ok {
		fmt.Fprintf(&b, " master %s", v)
	}
	fmt.Fprintf(&b, " state %s", l.OperState)
	if v, ok := get("linkmode").(string); ok {
		fmt.Fprintf(&b, " mode %s", v)
	}
	fmt.Fprintf(&b, " group %s", get("group"))
	if l.TxQLen != 0 {
		fmt.Fprintf(&b, " qlen %d", l.TxQLen)
	}
	if lt, ok := get("link_type").(string); ok {
		fmt.Fprintf(&b, "\n    link/%s", lt)
		if l.HardwareAddr != nil {
			fmt.Fprintf(&b, " %s", l.HardwareAddr)
		}
		if l.Broadcast != nil {
			if l.Flags&rtnl.FlagPointToPoint != 0 {
				fmt.Fprintf(&b, " peer %s", l.Broadcast)
			} else {
				fmt.Fprintf(&b, " brd %s", l.Broadcast)
			}
		}
	}
	if l.LinkNetnsID >= 0 {
		fmt.Fprintf(&b, " link-netnsid %d", l.LinkNetnsID)
	}
	if ip.details && l.Kind != "" {
		fmt.Fprintf(&b, "\n    %s", l.Kind)
	}
	if !withAddrs && l.Alias != "" {
		fmt.Fprintf(&b, "\n    alias %s", l.Alias)
	}
	b.WriteByte('\n')
	if withAddrs {
		for _, x := range get("addr_info").([]obj) {
			b.WriteString(addrText(x))
		}
	}
	fmt.Fprint(ip.out, b.String())
}

func parseMAC(s string) (net.HardwareAddr, error) {
	m, err := net.ParseMAC(s)
	if err != nil {
		return nil, usagef("%q is not a valid link address", s)
	}
	return m, nil
}

func (ip *ipcmd) linkAdd(a *args) error {
	la := &rtnl.LinkAttrs{}
	parent := ""
	kind := ""
	for a.more() && kind == "" {
		s := a.next()
		var err error
		switch s {
		case "link":
			parent, err = a.value(s)
		case "name", "dev":
			la.Name, err = a.value(s)
		case "mtu":
			la.MTU, err = a.int(s)
		case "address":
			var v string
			if v, err = a.value(s); err == nil {
				la.HardwareAddr, err = parseMAC(v)
			}
		case "txqueuelen", "txqlen", "qlen":
			la.TxQLen, err = a.int(s)
		case "type":
			kind, err = a.value(s)
		case "up":
			la.Up = true
		default:
			if la.Name != "" {
				return usagef("unexpected %q", s)
			}
			la.Name = s
		}
		if err != nil {
			return err
		}
	}
	if la.Name == "" {
		return usagef("not enough information: \"dev\" argument is required")
	}
	if kind == "" {
		return usagef("not enough information: \"type\" argument is required")
	}
	parentIdx := 0
	if parent != "" {
		var err error
		if parentIdx, err = ip.linkIndex(parent); err != nil {
			return err
		}
	}
	var cleanup []func()
	defer func() {
		for _, f := range cleanup {
			f()
		}
	}()
	switch kind {
	case "veth":
		v := &rtnl.Veth{}
		for a.more() {
			s := a.next()
			var err error
			switch s {
			case "peer":
			case "name":
				v.PeerName, err = a.value(s)
			case "address":
				var m string
				if m, err = a.value(s); err == nil {
					v.PeerHardwareAddr, err = parseMAC(m)
				}
			case "mtu":
				v.PeerMTU, err = a.int(s)
			case "netns":
				var ns string
				if ns, err = a.value(s); err == nil {
					var done func()
					v.PeerNetns, done, err = ip.netnsArg(ns)
					if err == nil {
						cleanup = append(cleanup, done)
					}
				}
			default:
				if v.PeerName == "" {
					v.PeerName = s
				} else {
					return usagef("veth: unexpected %q", s)
				}
			}
			if err != nil {
				return err
			}
		}
		la.Info = v
	case "bridge":
		la.Info = &rtnl.Bridge{}
	case "ifb":
		la.Info = &rtnl.Ifb{}
	case "dummy":
		la.Info = &rtnl.Dummy{}
	case "macvlan":
		mv := &rtnl.Macvlan{Parent: parentIdx, Mode: rtnl.MacvlanVEPA}
		for a.more() {
			s := a.next()
			if s != "mode" {
				return usagef("macvlan: unexpected %q", s)
			}
			v, err := a.value(s)
			if err != nil {
				return err
			}
			if mv.Mode, err = rtnl.ParseMacvlanMode(v); err != nil {
				return usagef("macvlan: unknown mode %q", v)
			}
		}
		la.Info = mv
	case "vlan":
		vl := &rtnl.Vlan{Parent: parentIdx}
		for a.more() {
			s := a.next()
			if s != "id" {
				return usagef("vlan: unexpected %q", s)
			}
			n, err := a.int(s)
			if err != nil {
				return err
			}
			vl.ID = uint16(n)
		}
		la.Info = vl
	case "bond":
		b := &rtnl.Bond{}
		for a.more() {
			s := a.next()
			if s != "mode" {
				return usagef("bond: unexpected %q", s)
			}
			n, err := a.int(s)
			if err != nil {
				return err
			}
			m := uint8(n)
			b.Mode = &m
		}
		la.Info = b
	case "vxlan":
		vx := &rtnl.Vxlan{}
		for a.more() {
			s := a.next()
			var err error
			switch s {
			case "id", "vni":
				var n int
				n, err = a.int(s)
				vx.ID = uint32(n)
			case "dstport":
				var n int
				if n, err = a.int(s); err == nil && n > 65535 {
					err = usagef("dstport %d out of range", n)
				}
				vx.Port = uint16(n)
			case "local", "group", "remote":
				var v string
				if v, err = a.value(s); err == nil {
					x := net.ParseIP(v)
					if x == nil {
						return usagef("vxlan: %q is not an address", v)
					}
					if s == "local" {
						vx.Local = x
					} else {
						vx.Group = x
					}
				}
			case "dev":
				var v string
				if v, err = a.value(s); err == nil {
					vx.Dev, err = ip.linkIndex(v)
				}
			case "ttl":
				vx.TTL, err = a.int(s)
			case "learning", "nolearning":
				on := s == "learning"
				vx.Learning = &on
			default:
				return usagef("vxlan: unexpected %q", s)
			}
			if err != nil {
				return err
			}
		}
		la.Info = vx
	default:
		if a.more() {
			return usagef("%s: options are not supported", kind)
		}
		la.Info = &rtnl.Generic{KindName: kind}
	}
	return ip.c.AddLink(la)
}

func (ip *ipcmd) linkDel(a *args) error {
	name, err := devArg(a)
	if err != nil {
		return err
	}
	idx, err := ip.linkIndex(name)
	if err != nil {
		return err
	}
	return ip.c.DeleteLink(idx)
}

func (ip *ipcmd) linkSet(a *args) error {
	name, err := devArg(a)
	if err != nil {
		return err
	}
	idx, err := ip.linkIndex(name)
	if err != nil {
		return err
	}
	ch := &rtnl.LinkChange{}
	var done func()
	defer func() {
		if done != nil {
			done()
		}
	}()
	for a.more() {
		s := a.next()
		switch s {
		case "up", "down":
			up := s == "up"
			ch.Up = &up
		case "mtu":
			if ch.MTU, err = a.int(s); err == nil && ch.MTU == 0 {
				err = usagef("mtu 0 is not valid")
			}
		case "address":
			var v string
			if v, err = a.value(s); err == nil {
				ch.HardwareAddr, err = parseMAC(v)
			}
		case "name":
			ch.Name, err = a.value(s)
		case "txqueuelen", "txqlen", "qlen":
			ch.TxQLen, err = a.int(s)
		case "alias":
			var v string
			if v, err = a.value(s); err == nil {
				ch.Alias = &v
			}
		case "master":
			var v string
			if v, err = a.value(s); err == nil {
				var m int
				if m, err = ip.linkIndex(v); err == nil {
					ch.Master = &m
				}
			}
		case "nomaster":
			zero := 0
			ch.Master = &zero
		case "netns":
			var v string
			if v, err = a.value(s); err == nil {
				ch.Netns, done, err = ip.netnsArg(v)
			}
		default:
			return usagef("link set: unexpected %q", s)
		}
		if err != nil {
			return err
		}
	}
	return ip.c.SetLink(idx, ch)
}

func (ip *ipcmd) tuntap(w []string) error {
	if len(w) == 0 {
		return usagef("usage: ip tuntap add|del [dev] NAME mode tun|tap")
	}
	a := &args{w[1:]}
	t := &rtnl.Tuntap{}
	mode := ""
	for a.more() {
		s := a.next()
		var err error
		switch s {
		case "dev", "name":
			t.Name, err = a.value(s)
		case "mode":
			mode, err = a.value(s)
		case "multi_queue":
			t.MultiQueue = true
		case "user", "group":
			var n int
			if n, err = a.int(s); err == nil {
				id := uint32(n)
				if s == "user" {
					t.Owner = &id
				} else {
					t.Group = &id
				}
			}
		case "one_queue", "pi", "vnet_hdr":
			return usagef("tuntap: %q is not supported", s)
		default:
			if t.Name != "" {
				return usagef("tuntap: unexpected %q", s)
			}
			t.Name = s
		}
		if err != nil {
			return err
		}
	}
	switch mode {
	case "tap":
		t.Tap = true
	case "tun":
	default:
		return usagef("tuntap: mode tun or tap is required")
	}
	switch cmd := w[0]; {
	case prefixOf(cmd, "add", 1):
		return ip.c.AddTuntap(t)
	case prefixOf(cmd, "delete", 1):
		idx, err := ip.linkIndex(t.Name)
		if err != nil {
			return err
		}
		return ip.c.DeleteLink(idx)
	}
	return usagef("tuntap: command %q is unknown", w[0])
}
