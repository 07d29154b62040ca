package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
)

func (ip *ipcmd) rule(w []string) error {
	if len(w) == 0 {
		return ip.ruleShow()
	}
	a := &args{w[1:]}
	switch cmd := w[0]; {
	case prefixOf(cmd, "show", 1) || prefixOf(cmd, "list", 1) || cmd == "lst":
		if a.more() {
			return usagef("rule show: selectors are not supported")
		}
		return ip.ruleShow()
	case prefixOf(cmd, "add", 1):
		return ip.ruleModify(a, true)
	case prefixOf(cmd, "delete", 1):
		return ip.ruleModify(a, false)
	}
	return usagef("command %q is unknown, try \"ip rule help\"", w[0])
}

func (ip *ipcmd) ruleShow() error {
	fam := ip.family
	if fam == api.AF_UNSPEC {
		fam = api.AF_INET
	}
	rs, err := ip.c.Rules(fam)
	if err != nil {
		return err
	}
	var list []obj
	for _, r := range rs {
		var o obj
		o.set("priority", r.Priority)
		if r.Invert {
			o.set("not", nil)
		}
		if r.Src.IsValid() {
			o.set("src", r.Src.Addr().String())
			if r.Src.Bits() != hostBits(r.Family) {
				o.set("srclen", r.Src.Bits())
			}
		} else {
			o.set("src", "all")
		}
		if r.Dst.IsValid() {
			o.set("dst", r.Dst.Addr().String())
			if r.Dst.Bits() != hostBits(r.Family) {
				o.set("dstlen", r.Dst.Bits())
			}
		}
		if r.Mark != 0 || r.Mask != 0 {
			o.set("fwmark", "0x"+strconv.FormatUint(uint64(r.Mark), 16))
			if r.Mask != ^uint32(0) {
				o.set("fwmask", "0x"+strconv.FormatUint(uint64(r.Mask), 16))
			}
		}
		if r.IIFName != "" {
			o.set("iif", r.IIFName)
		}
		if r.OIFName != "" {
			o.set("oif", r.OIFName)
		}
		if r.Table != 0 {
			o.set("table", r.Table.String())
		}
		switch r.Action {
		case rtnl.ActionToTable:
		case rtnl.ActionNop:
			o.set("nop", nil)
		default:
			o.set("action", r.Action.String())
		}
		if r.Protocol != 0 && r.Protocol != rtnl.ProtoKernel {
			o.set("protocol", r.Protocol.String())
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
			case "priority":
				fmt.Fprintf(&b, "%v:\t", x.v)
			case "src":
				fmt.Fprintf(&b, "from %v", x.v)
			case "srclen", "dstlen":
				fmt.Fprintf(&b, "/%v", x.v)
			case "dst":
				fmt.Fprintf(&b, " to %v", x.v)
			case "fwmask":
				fmt.Fprintf(&b, "/%v", x.v)
			case "table":
				fmt.Fprintf(&b, " lookup %v", x.v)
			case "not", "nop":
				fmt.Fprintf(&b, " %s", x.k)
			case "action":
				fmt.Fprintf(&b, " %v", x.v)
			default:
				fmt.Fprintf(&b, " %s %v", x.k, x.v)
			}
		}
		fmt.Fprintln(ip.out, b.String())
	}
	return nil
}

func (ip *ipcmd) ruleModify(a *args, add bool) error {
	r := &rtnl.Rule{Family: ip.family}
	for a.more() {
		s := a.next()
		var err error
		switch s {
		case "not":
			r.Invert = true
		case "from", "to":
			var v string
			if v, err = a.value(s); err == nil && v != "all" {
				if s == "from" {
					r.Src, err = parsePrefix(v)
				} else {
					r.Dst, err = parsePrefix(v)
				}
			}
		case "fwmark":
			var v string
			if v, err = a.value(s); err == nil {
				m, mask, _ := strings.Cut(v, "/")
				var n uint64
				if n, err = strconv.ParseUint(m, 0, 32); err == nil {
					r.Mark = uint32(n)
					if mask != "" {
						if n, err = strconv.ParseUint(mask, 0, 32); err == nil {
							r.Mask = uint32(n)
						}
					}
				}
				if err != nil {
					err = usagef("fwmark %q is invalid", v)
				}
			}
		case "iif", "dev":
			r.IIFName, err = a.value(s)
		case "oif":
			r.OIFName, err = a.value(s)
		case "priority", "pref", "preference":
			r.Priority, err = a.int(s)
		case "table", "lookup":
			var v string
			if v, err = a.value(s); err == nil {
				r.Table, err = parseTable(v)
			}
		case "blackhole", "unreachable", "prohibit", "nop":
			r.Action, err = rtnl.ParseRuleAction(s)
		default:
			return usagef("rule: unexpected %q", s)
		}
		if err != nil {
			return err
		}
	}
	if add {
		return ip.c.AddRule(r)
	}
	return ip.c.DeleteRule(r)
}
