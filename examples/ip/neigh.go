package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
)

func (ip *ipcmd) neigh(w []string) error {
	if len(w) == 0 {
		return ip.neighShow(&args{})
	}
	a := &args{w[1:]}
	switch cmd := w[0]; {
	case prefixOf(cmd, "show", 1) || prefixOf(cmd, "list", 1) || cmd == "lst":
		return ip.neighShow(a)
	case prefixOf(cmd, "add", 1):
		return ip.neighModify(a, "add")
	case prefixOf(cmd, "delete", 1):
		return ip.neighModify(a, "del")
	case prefixOf(cmd, "replace", 3):
		return ip.neighModify(a, "replace")
	}
	return usagef("command %q is unknown, try \"ip neigh help\"", w[0])
}

// neighStates are iproute2's state names in its order.
var neighStates = []rtnl.NeighState{
	rtnl.NeighIncomplete, rtnl.NeighReachable, rtnl.NeighStale, rtnl.NeighDelay,
	rtnl.NeighProbe, rtnl.NeighFailed, rtnl.NeighNoARP, rtnl.NeighPermanent,
}

func (ip *ipcmd) neighShow(a *args) error {
	dev := 0
	// iproute2 hides NOARP entries and entries without a state unless
	// asked ("nud all", "nud noarp").
	var want rtnl.NeighState
	for _, s := range neighStates {
		if s != rtnl.NeighNoARP {
			want |= s
		}
	}
	stateless, given := false, false
	for a.more() {
		s := a.next()
		v, err := a.value(s)
		if err != nil {
			return err
		}
		switch s {
		case "dev":
			if dev, err = ip.linkIndex(v); err != nil {
				return err
			}
		case "nud":
			if !given {
				want, given = 0, true
			}
			switch st, perr := rtnl.ParseNeighState(v); {
			case v == "all":
				for _, s := range neighStates {
					want |= s
				}
				stateless = true
			case v == "none":
				stateless = true
			case perr != nil:
				return usagef("nud state %q is bad", v)
			default:
				want |= st
			}
		default:
			return usagef("neigh show: unexpected %q", s)
		}
	}
	ns, err := ip.c.Neighs(ip.family, dev)
	if err != nil {
		return err
	}
	if err := ip.loadLinks(); err != nil {
		return err
	}
	var list []obj
	for _, n := range ns {
		special := n.Flags&(rtnl.NeighFlagProxy|rtnl.NeighFlagExtLearned) != 0
		if n.State&want == 0 && !special && (n.State != 0 || !stateless) {
			continue
		}
		var o obj
		o.set("dst", n.IP.String())
		if dev == 0 && n.Index != 0 {
			o.set("dev", ip.linkName(n.Index))
		}
		if n.HardwareAddr != nil {
			o.set("lladdr", n.HardwareAddr.String())
		}
		if n.Flags&rtnl.NeighFlagRouter != 0 {
			o.set("router", nil)
		}
		if n.Flags&rtnl.NeighFlagProxy != 0 {
			o.set("proxy", nil)
		}
		if n.Flags&rtnl.NeighFlagExtLearned != 0 {
			o.set("extern_learn", nil)
		}
		if n.State != 0 {
			st := []string{}
			for _, s := range neighStates {
				if n.State&s != 0 {
					st = append(st, s.String())
				}
			}
			o.set("state", st)
		}
		list = append(list, o)
	}
	if ip.json {
		return ip.printJSON(list)
	}
	for _, o := range list {
		var b strings.Builder
		for _, x := range o {
			switch x.k {
			case "dst":
				fmt.Fprintf(&b, "%s ", x.v)
			case "state":
				b.WriteString(strings.Join(x.v.([]string), " "))
			case "router", "proxy", "extern_learn":
				b.WriteString(x.k + " ")
			default:
				fmt.Fprintf(&b, "%s %v ", x.k, x.v)
			}
		}
		fmt.Fprintln(ip.out, strings.TrimRight(b.String(), " "))
	}
	return nil
}

func (ip *ipcmd) neighModify(a *args, cmd string) error {
	n := &rtnl.Neigh{}
	for a.more() {
		s := a.next()
		var err error
		switch s {
		case "lladdr":
			var v string
			if v, err = a.value(s); err == nil {
				n.HardwareAddr, err = parseMAC(v)
			}
		case "dev":
			var v string
			if v, err = a.value(s); err == nil {
				n.Index, err = ip.linkIndex(v)
			}
		case "nud":
			var v string
			if v, err = a.value(s); err == nil {
				if n.State, err = rtnl.ParseNeighState(v); err != nil {
					err = usagef("nud state %q is invalid", v)
				}
			}
		case "router":
			n.Flags |= rtnl.NeighFlagRouter
		case "proxy":
			n.Flags |= rtnl.NeighFlagProxy
		case "to":
			var v string
			if v, err = a.value(s); err == nil {
				n.IP, err = netip.ParseAddr(v)
			}
		default:
			if n.IP.IsValid() {
				return usagef("neigh: unexpected %q", s)
			}
			if n.IP, err = netip.ParseAddr(s); err != nil {
				err = usagef("%q is not a valid address", s)
			}
		}
		if err != nil {
			return err
		}
	}
	if n.Index == 0 {
		return usagef("device (dev) is required")
	}
	if !n.IP.IsValid() {
		return usagef("an address is required")
	}
	if ip.family != api.AF_UNSPEC && n.Family() != ip.family {
		return usagef("address %s is not of the family asked for", n.IP)
	}
	switch cmd {
	case "add":
		return ip.c.AddNeigh(n)
	case "replace":
		return ip.c.ReplaceNeigh(n)
	}
	return ip.c.DeleteNeigh(n)
}
