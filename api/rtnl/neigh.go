package rtnl

import (
	"net"
	"net/netip"
	"strconv"

	"github.com/anykernel/anykernel/api"
)

// Neigh is an entry of the neighbour (ARP or NDP) table (RTM_NEWNEIGH).
type Neigh struct {
	Index        int
	IP           netip.Addr
	HardwareAddr net.HardwareAddr
	// State: in a new entry, zero means NUD_PERMANENT.
	State NeighState
	Flags NeighFlags
	Type  RouteType
}

// Family returns AF_INET or AF_INET6.
func (nb *Neigh) Family() api.Family { return familyOf(nb.IP) }

// DecodeNeigh decodes an RTM_NEWNEIGH or RTM_DELNEIGH payload.
func (c *Codec) DecodeNeigh(b []byte) (*Neigh, error) {
	l := &c.l.nd
	if len(b) < l.size {
		return nil, &MalformedError{"ndmsg", 0, "payload of " + strconv.Itoa(len(b)) + " bytes"}
	}
	fam := c.family(uint8(l.family.get(b, c.bo)))
	nb := &Neigh{
		Index: int(int32(uint32(l.ifindex.get(b, c.bo)))),
		State: NeighState(l.state.get(b, c.bo)),
		Flags: NeighFlags(l.flags.get(b, c.bo)),
		Type:  RouteType(l.typ.get(b, c.bo)),
	}
	a, err := c.attrs(b[alignTo(l.size, c.msg):])
	if err != nil {
		return nil, err
	}
	nb.IP = ipOf(fam, a[c.n.NDA_DST])
	if v, ok := a[c.n.NDA_LLADDR]; ok {
		nb.HardwareAddr = net.HardwareAddr(append([]byte(nil), v...))
	}
	return nb, nil
}

// Neighs lists neighbour entries of family (AF_UNSPEC: IPv4 and IPv6) on
// the link with index (0: every link).
func (c *Conn) Neighs(family api.Family, index int) ([]*Neigh, error) {
	op := "neigh list"
	af, err := c.c.af(op, family)
	if err != nil {
		return nil, err
	}
	if index < 0 {
		return nil, badArg(op, "index "+strconv.Itoa(index))
	}
	m := c.c.newMsg(c.c.n.RTM_GETNEIGH, 0)
	l := &c.c.l.nd
	b := m.fixed(l.size)
	l.family.put(b, c.c.bo, uint64(af))
	var out []*Neigh
	err = c.dump(op, m, func() { out = out[:0] }, func(r Message) error {
		if r.Type != c.c.n.RTM_NEWNEIGH {
			return nil
		}
		nb, err := c.c.DecodeNeigh(r.Data)
		if err != nil {
			return err
		}
		if nb.IP.IsValid() && (index == 0 || nb.Index == index) {
			out = append(out, nb)
		}
		return nil
	})
	return out, err
}

// AddNeigh adds an entry (NUD_PERMANENT unless State says otherwise);
// EEXIST if there is one for the address.
func (c *Conn) AddNeigh(nb *Neigh) error {
	n := &c.c.n
	return c.neighCall("neigh add", n.RTM_NEWNEIGH, n.NLM_F_CREATE|n.NLM_F_EXCL, nb)
}

// ReplaceNeigh adds an entry or replaces the one for the address.
func (c *Conn) ReplaceNeigh(nb *Neigh) error {
	n := &c.c.n
	return c.neighCall("neigh replace", n.RTM_NEWNEIGH, n.NLM_F_CREATE|n.NLM_F_REPLACE, nb)
}

// DeleteNeigh deletes the entry for nb.IP on link nb.Index.
func (c *Conn) DeleteNeigh(nb *Neigh) error {
	return c.neighCall("neigh del", c.c.n.RTM_DELNEIGH, 0, nb)
}

func (c *Conn) neighCall(op string, typ, flags uint16, nb *Neigh) error {
	if nb == nil || !nb.IP.IsValid() {
		return badArg(op, "no neighbour address")
	}
	op += " " + nb.IP.String()
	if nb.Index <= 0 {
		return badArg(op, "link index "+strconv.Itoa(nb.Index))
	}
	af, err := c.c.af(op, nb.Family())
	if err != nil {
		return err
	}
	state := nb.State
	if state == 0 && typ != c.c.n.RTM_DELNEIGH {
		state = NeighPermanent
	}
	m := c.c.newMsg(typ, flags)
	l := &c.c.l.nd
	b := m.fixed(l.size)
	l.family.put(b, c.c.bo, uint64(af))
	l.ifindex.put(b, c.c.bo, uint64(nb.Index))
	l.state.put(b, c.c.bo, uint64(state))
	l.flags.put(b, c.c.bo, uint64(nb.Flags))
	l.typ.put(b, c.c.bo, uint64(nb.Type))
	m.attr(c.c.n.NDA_DST, ipBytes(nb.IP.WithZone("")))
	if len(nb.HardwareAddr) > 0 && typ != c.c.n.RTM_DELNEIGH {
		m.attr(c.c.n.NDA_LLADDR, nb.HardwareAddr)
	}
	return c.request(op, m, nil)
}
