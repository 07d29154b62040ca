package rtnl

import (
	"encoding/binary"
	"fmt"

	"github.com/anykernel/anykernel/abi"
)

// fld locates one C field in a raw struct, resolved from the ABI table.
// size 0: the table lacks the field; reads give 0 and writes do nothing.
type fld struct{ off, size int }

func (f fld) get(b []byte, bo binary.ByteOrder) uint64 {
	if f.size == 0 || f.off+f.size > len(b) {
		return 0
	}
	p := b[f.off:]
	switch f.size {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(bo.Uint16(p))
	case 4:
		return uint64(bo.Uint32(p))
	case 8:
		return bo.Uint64(p)
	}
	return 0
}

func (f fld) put(b []byte, bo binary.ByteOrder, v uint64) {
	if f.size == 0 || f.off+f.size > len(b) {
		return
	}
	p := b[f.off:]
	switch f.size {
	case 1:
		p[0] = byte(v)
	case 2:
		bo.PutUint16(p, uint16(v))
	case 4:
		bo.PutUint32(p, uint32(v))
	case 8:
		bo.PutUint64(p, v)
	}
}

// bytes returns the field's bytes (arrays).
func (f fld) bytes(b []byte) []byte {
	if f.size == 0 || f.off+f.size > len(b) {
		return nil
	}
	return b[f.off : f.off+f.size]
}

// structLayout resolves named fields of one struct of the table.
type structLayout struct {
	s       *abi.Struct
	name    string
	missing []string
}

func layoutOf(t *abi.Table, name string) (*structLayout, error) {
	s, ok := t.Struct(name)
	if !ok {
		return nil, fmt.Errorf("rtnl: struct %s missing from the %s/%s ABI table", name, t.OS, t.Arch)
	}
	return &structLayout{s: s, name: name}, nil
}

// f returns a field that must exist; the first of several spellings the
// table has wins (flattened unions: "ifr_ifrn.ifrn_name").
func (l *structLayout) f(names ...string) fld {
	for _, n := range names {
		if f, ok := l.s.Field(n); ok {
			return fld{f.Offset, f.Size}
		}
	}
	l.missing = append(l.missing, names[0])
	return fld{}
}

func (l *structLayout) err() error {
	if len(l.missing) > 0 {
		return fmt.Errorf("rtnl: struct %s of the ABI table has no field %v", l.name, l.missing)
	}
	return nil
}

// layouts are the C structs rtnetlink messages are made of.
type layouts struct {
	hdr struct {
		size                      int
		len, typ, flags, seq, pid fld
	}
	errmsg struct {
		size     int
		err, msg fld // msg: the start of the embedded nlmsghdr
	}
	attr struct {
		size     int
		len, typ fld
	}
	ifi struct {
		size                              int
		family, typ, index, flags, change fld
	}
	ifa struct {
		size                                   int
		family, prefixlen, flags, scope, index fld
	}
	cacheinfo struct {
		size                               int
		preferred, valid, created, updated fld
	}
	rtm struct {
		size                                                            int
		family, dstLen, srcLen, tos, table, protocol, scope, typ, flags fld
	}
	rtnh struct {
		size                      int
		len, flags, hops, ifindex fld
	}
	nd struct {
		size                               int
		family, ifindex, state, flags, typ fld
	}
	frh struct {
		size                                              int
		family, dstLen, srcLen, tos, table, action, flags fld
	}
	ifreq struct {
		size        int
		name, flags fld
	}
	stats struct {
		size int
		rxPackets, txPackets, rxBytes, txBytes, rxErrors, txErrors,
		rxDropped, txDropped, multicast, collisions fld
	}
}

func (l *layouts) init(t *abi.Table) error {
	type want struct {
		name string
		size *int
		opt  bool
		fill func(s *structLayout)
	}
	for _, w := range []want{
		{"nlmsghdr", &l.hdr.size, false, func(s *structLayout) {
			h := &l.hdr
			h.len, h.typ, h.flags, h.seq, h.pid = s.f("nlmsg_len"), s.f("nlmsg_type"), s.f("nlmsg_flags"), s.f("nlmsg_seq"), s.f("nlmsg_pid")
		}},
		{"nlmsgerr", &l.errmsg.size, false, func(s *structLayout) {
			l.errmsg.err = s.f("error")
			l.errmsg.msg = s.f("msg.nlmsg_len", "msg")
		}},
		{"nlattr", &l.attr.size, false, func(s *structLayout) {
			l.attr.len, l.attr.typ = s.f("nla_len"), s.f("nla_type")
		}},
		{"ifinfomsg", &l.ifi.size, false, func(s *structLayout) {
			i := &l.ifi
			i.family, i.typ, i.index, i.flags, i.change = s.f("ifi_family"), s.f("ifi_type"), s.f("ifi_index"), s.f("ifi_flags"), s.f("ifi_change")
		}},
		{"ifaddrmsg", &l.ifa.size, false, func(s *structLayout) {
			a := &l.ifa
			a.family, a.prefixlen, a.flags, a.scope, a.index = s.f("ifa_family"), s.f("ifa_prefixlen"), s.f("ifa_flags"), s.f("ifa_scope"), s.f("ifa_index")
		}},
		{"ifa_cacheinfo", &l.cacheinfo.size, false, func(s *structLayout) {
			c := &l.cacheinfo
			c.preferred, c.valid, c.created, c.updated = s.f("ifa_prefered"), s.f("ifa_valid"), s.f("cstamp"), s.f("tstamp")
		}},
		{"rtmsg", &l.rtm.size, false, func(s *structLayout) {
			r := &l.rtm
			r.family, r.dstLen, r.srcLen, r.tos = s.f("rtm_family"), s.f("rtm_dst_len"), s.f("rtm_src_len"), s.f("rtm_tos")
			r.table, r.protocol, r.scope, r.typ, r.flags = s.f("rtm_table"), s.f("rtm_protocol"), s.f("rtm_scope"), s.f("rtm_type"), s.f("rtm_flags")
		}},
		{"rtnexthop", &l.rtnh.size, false, func(s *structLayout) {
			n := &l.rtnh
			n.len, n.flags, n.hops, n.ifindex = s.f("rtnh_len"), s.f("rtnh_flags"), s.f("rtnh_hops"), s.f("rtnh_ifindex")
		}},
		{"ndmsg", &l.nd.size, false, func(s *structLayout) {
			n := &l.nd
			n.family, n.ifindex, n.state, n.flags, n.typ = s.f("ndm_family"), s.f("ndm_ifindex"), s.f("ndm_state"), s.f("ndm_flags"), s.f("ndm_type")
		}},
		{"fib_rule_hdr", &l.frh.size, false, func(s *structLayout) {
			r := &l.frh
			r.family, r.dstLen, r.srcLen, r.tos = s.f("family"), s.f("dst_len"), s.f("src_len"), s.f("tos")
			r.table, r.action, r.flags = s.f("table"), s.f("action"), s.f("flags")
		}},
		{"ifreq", &l.ifreq.size, true, func(s *structLayout) {
			l.ifreq.name = s.f("ifr_ifrn.ifrn_name", "ifr_name")
			l.ifreq.flags = s.f("ifr_ifru.ifru_flags", "ifr_flags")
		}},
		{"rtnl_link_stats64", &l.stats.size, true, func(s *structLayout) {
			st := &l.stats
			st.rxPackets, st.txPackets, st.rxBytes, st.txBytes = s.f("rx_packets"), s.f("tx_packets"), s.f("rx_bytes"), s.f("tx_bytes")
			st.rxErrors, st.txErrors, st.rxDropped, st.txDropped = s.f("rx_errors"), s.f("tx_errors"), s.f("rx_dropped"), s.f("tx_dropped")
			st.multicast, st.collisions = s.f("multicast"), s.f("collisions")
		}},
	} {
		s, err := layoutOf(t, w.name)
		if err != nil {
			if w.opt {
				continue
			}
			return err
		}
		w.fill(s)
		if err := s.err(); err != nil {
			if w.opt {
				continue
			}
			return err
		}
		*w.size = s.s.Size
	}
	if l.hdr.len.size != 4 || l.hdr.typ.size != 2 || l.hdr.flags.size != 2 || l.attr.len.size != 2 || l.attr.typ.size != 2 {
		return fmt.Errorf("rtnl: nlmsghdr/nlattr layouts of the %s/%s table are not netlink's", t.OS, t.Arch)
	}
	return nil
}
