package rtnl

import (
	"net/netip"
	"strconv"

	"github.com/anykernel/anykernel/api"
)

// Rule is a policy-routing rule (`ip rule`, RTM_NEWRULE).
type Rule struct {
	// Family is AF_INET or AF_INET6; in a new rule, AF_UNSPEC takes the
	// family of Src or Dst, or IPv4.
	Family api.Family
	// Priority orders the rules; in a new rule, 0 lets the kernel choose
	// (just before the last rule it has below 32766).
	Priority int
	Table    Table // the table to look up (Action ActionToTable)
	Src, Dst netip.Prefix
	IIFName  string
	OIFName  string
	Mark     uint32 // fwmark to match; 0: any
	Mask     uint32 // fwmask; 0 with a Mark: all ones
	TOS      uint8
	Action   RuleAction // in a new rule, zero means ActionToTable
	Protocol Protocol
	Invert   bool // "not": the rule matches what the selectors do not
}

// DecodeRule decodes an RTM_NEWRULE or RTM_DELRULE payload.
func (c *Codec) DecodeRule(b []byte) (*Rule, error) {
	l := &c.l.frh
	if len(b) < l.size {
		return nil, &MalformedError{"fib_rule_hdr", 0, "payload of " + strconv.Itoa(len(b)) + " bytes"}
	}
	fam := c.family(uint8(l.family.get(b, c.bo)))
	r := &Rule{
		Family: fam,
		Table:  Table(l.table.get(b, c.bo)),
		TOS:    uint8(l.tos.get(b, c.bo)),
		Action: RuleAction(l.action.get(b, c.bo)),
	}
	if c.n.FIB_RULE_INVERT != ^uint32(0) {
		r.Invert = l.flags.get(b, c.bo)&uint64(c.n.FIB_RULE_INVERT) != 0
	}
	n := &c.n
	a, err := c.attrs(b[alignTo(l.size, c.msg):])
	if err != nil {
		return nil, err
	}
	pfx := func(v []byte, bits int) netip.Prefix {
		ip := ipOf(fam, v)
		if !ip.IsValid() || bits > ip.BitLen() {
			return netip.Prefix{}
		}
		return netip.PrefixFrom(ip, bits)
	}
	if v, ok := a[n.FRA_SRC]; ok {
		r.Src = pfx(v, int(l.srcLen.get(b, c.bo)))
	}
	if v, ok := a[n.FRA_DST]; ok {
		r.Dst = pfx(v, int(l.dstLen.get(b, c.bo)))
	}
	r.IIFName = str(a[n.FRA_IIFNAME])
	r.OIFName = str(a[n.FRA_OIFNAME])
	r.Priority = int(c.u32(a[n.FRA_PRIORITY]))
	r.Mark = c.u32(a[n.FRA_FWMARK])
	r.Mask = c.u32(a[n.FRA_FWMASK])
	if v, ok := a[n.FRA_TABLE]; ok && len(v) >= 4 {
		r.Table = Table(c.u32(v))
	}
	if n.FRA_PROTOCOL != 0xffff {
		r.Protocol = Protocol(c.u8(a[n.FRA_PROTOCOL]))
	}
	return r, nil
}

// Rules lists the rules of family (AF_UNSPEC: IPv4 and IPv6).
func (c *Conn) Rules(family api.Family) ([]*Rule, error) {
	op := "rule list"
	af, err := c.c.af(op, family)
	if err != nil {
		return nil, err
	}
	m := c.c.newMsg(c.c.n.RTM_GETRULE, 0)
	l := &c.c.l.frh
	b := m.fixed(l.size)
	l.family.put(b, c.c.bo, uint64(af))
	var out []*Rule
	err = c.dump(op, m, func() { out = out[:0] }, func(msg Message) error {
		if msg.Type != c.c.n.RTM_NEWRULE {
			return nil
		}
		r, err := c.c.DecodeRule(msg.Data)
		if err != nil {
			return err
		}
		if r.Family == api.AF_INET || r.Family == api.AF_INET6 {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// AddRule adds a rule; EEXIST if an identical one exists.
func (c *Conn) AddRule(r *Rule) error {
	n := &c.c.n
	return c.ruleCall("rule add", n.RTM_NEWRULE, n.NLM_F_CREATE|n.NLM_F_EXCL, r)
}

// DeleteRule deletes the first rule that matches r's set fields.
func (c *Conn) DeleteRule(r *Rule) error {
	return c.ruleCall("rule del", c.c.n.RTM_DELRULE, 0, r)
}

func (c *Conn) ruleCall(op string, typ, flags uint16, r *Rule) error {
	if r == nil {
		return badArg(op, "nil Rule")
	}
	fam := r.Family
	if fam == api.AF_UNSPEC {
		fam = api.AF_INET
		if r.Src.IsValid() {
			fam = familyOf(r.Src.Addr())
		} else if r.Dst.IsValid() {
			fam = familyOf(r.Dst.Addr())
		}
	}
	af, err := c.c.af(op, fam)
	if err != nil {
		return err
	}
	for _, p := range []netip.Prefix{r.Src, r.Dst} {
		if p.IsValid() && familyOf(p.Addr()) != fam {
			return badArg(op, "prefix "+p.String()+" of another family")
		}
	}
	if r.Priority < 0 || int64(r.Priority) > int64(^uint32(0)) {
		return badArg(op, "priority "+strconv.Itoa(r.Priority))
	}
	n := &c.c.n
	del := typ == n.RTM_DELRULE
	action := r.Action
	if action == 0 && !del {
		action = ActionToTable
	}
	m := c.c.newMsg(typ, flags)
	l := &c.c.l.frh
	b := m.fixed(l.size)
	bo := c.c.bo
	l.family.put(b, bo, uint64(af))
	l.dstLen.put(b, bo, uint64(max(r.Dst.Bits(), 0)))
	l.srcLen.put(b, bo, uint64(max(r.Src.Bits(), 0)))
	l.tos.put(b, bo, uint64(r.TOS))
	l.action.put(b, bo, uint64(action))
	if r.Invert {
		if n.FIB_RULE_INVERT == ^uint32(0) {
			return &Error{Op: op, Errno: api.ENOTSUP, Message: "the ABI table has no FIB_RULE_INVERT", Offset: -1}
		}
		l.flags.put(b, bo, uint64(n.FIB_RULE_INVERT))
	}
	if r.Table != 0 {
		if r.Table < 256 {
			l.table.put(b, bo, uint64(r.Table))
		}
		m.u32(n.FRA_TABLE, uint32(r.Table))
	} else if !del && action == ActionToTable {
		return badArg(op, "a rule that looks up a table needs Table")
	}
	if r.Src.IsValid() {
		m.attr(n.FRA_SRC, ipBytes(r.Src.Addr().WithZone("")))
	}
	if r.Dst.IsValid() {
		m.attr(n.FRA_DST, ipBytes(r.Dst.Addr().WithZone("")))
	}
	for _, x := range []struct {
		t    uint16
		name string
	}{{n.FRA_IIFNAME, r.IIFName}, {n.FRA_OIFNAME, r.OIFName}} {
		if x.name == "" {
			continue
		}
		if err := c.c.checkName(op, x.name); err != nil {
			return err
		}
		m.str(x.t, x.name)
	}
	if r.Priority > 0 {
		m.u32(n.FRA_PRIORITY, uint32(r.Priority))
	}
	if r.Mark != 0 || r.Mask != 0 {
		m.u32(n.FRA_FWMARK, r.Mark)
		mask := r.Mask
		if mask == 0 {
			mask = ^uint32(0)
		}
		m.u32(n.FRA_FWMASK, mask)
	}
	if r.Protocol != 0 && n.FRA_PROTOCOL != 0xffff && !del {
		m.u8(n.FRA_PROTOCOL, uint8(r.Protocol))
	}
	return c.request(op, m, nil)
}
