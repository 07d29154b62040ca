package rtnl

import (
	"net"
	"runtime"
	"strconv"

	"github.com/anykernel/anykernel/api"
)

// Link is a network interface as rtnetlink reports it (RTM_NEWLINK).
type Link struct {
	Index        int
	Name         string
	Kind         string // IFLA_INFO_KIND: "veth", "bridge", "macvlan", ...; "" for plain devices (lo)
	SlaveKind    string // IFLA_INFO_SLAVE_KIND: "bridge" for a bridge port
	Type         LinkType
	Flags        LinkFlags
	MTU          int
	MinMTU       int // 0 when not reported
	MaxMTU       int
	TxQLen       int
	HardwareAddr net.HardwareAddr
	Broadcast    net.HardwareAddr
	OperState    OperState
	LinkMode     int
	MasterIndex  int    // the bridge or bond this link is a port of; 0 for none
	ParentIndex  int    // IFLA_LINK: a veth's peer, a macvlan's lower device; 0 for none
	LinkNetnsID  int    // IFLA_LINK_NETNSID: the peer's namespace id, -1 if in this one
	Alias        string // IFLA_IFALIAS
	Qdisc        string
	Group        int
	Promiscuity  int
	NumTxQueues  int
	NumRxQueues  int
	Info         LinkInfo   // kind-specific settings rtnl decodes (Macvlan, Vxlan, Vlan); nil otherwise
	Stats        *LinkStats // nil when the kernel sent none
}

// LinkStats are a link's counters (IFLA_STATS64).
type LinkStats struct {
	RxPackets, TxPackets, RxBytes, TxBytes   uint64
	RxErrors, TxErrors, RxDropped, TxDropped uint64
	Multicast, Collisions                    uint64
}

// LinkInfo is the kind of a link to create, with its settings: *Veth,
// *Bridge, *Macvlan, *Vxlan, *Ifb, *Dummy, *Vlan, *Bond, or *Generic for a
// kind rtnl has no type for.
type LinkInfo interface {
	// Kind is the driver's name in IFLA_INFO_KIND.
	Kind() string
}

// Veth is a virtual Ethernet pair; creating one creates both ends.
type Veth struct {
	PeerName         string
	PeerHardwareAddr net.HardwareAddr
	PeerMTU          int
	PeerNetns        *Netns // create the peer in another network namespace
}

// Bridge is an Ethernet bridge; ports join it with SetLinkMaster.
type Bridge struct{}

// Macvlan is a link with its own MAC address on top of a parent link.
type Macvlan struct {
	Parent int // index of the lower device (required)
	Mode   MacvlanMode
}

// Vxlan is a VXLAN tunnel endpoint.
type Vxlan struct {
	ID       uint32
	Port     uint16 // UDP destination port; 0: the kernel's default
	Local    net.IP // source address (IPv4 or IPv6), optional
	Group    net.IP // multicast group or unicast remote, optional
	Dev      int    // index of the underlying device, optional
	TTL      int    // 0: the kernel's default
	Learning *bool  // nil: the kernel's default (on)
}

// Ifb is an intermediate functional block device (traffic shaping of
// ingress).
type Ifb struct{}

// Dummy is a dummy device (the dummy driver).
type Dummy struct{}

// Vlan is an 802.1Q VLAN on top of a parent link (the 8021q driver).
type Vlan struct {
	Parent int
	ID     uint16
}

// Bond is a bonding master (the bonding driver).
type Bond struct {
	Mode *uint8 // IFLA_BOND_MODE; nil: the driver's default (balance-rr)
}

// Generic is a link of any other kind, created without settings.
type Generic struct{ KindName string }

// Kind returns "veth".
func (*Veth) Kind() string { return "veth" }

// Kind returns "bridge".
func (*Bridge) Kind() string { return "bridge" }

// Kind returns "macvlan".
func (*Macvlan) Kind() string { return "macvlan" }

// Kind returns "vxlan".
func (*Vxlan) Kind() string { return "vxlan" }

// Kind returns "ifb".
func (*Ifb) Kind() string { return "ifb" }

// Kind returns "dummy".
func (*Dummy) Kind() string { return "dummy" }

// Kind returns "vlan".
func (*Vlan) Kind() string { return "vlan" }

// Kind returns "bond".
func (*Bond) Kind() string { return "bond" }

// Kind returns KindName.
func (g *Generic) Kind() string { return g.KindName }

// Netns names a network namespace to move a link into: by a process in it
// (IFLA_NET_NS_PID) or by an open namespace file (IFLA_NET_NS_FD).
type Netns struct {
	Pid int
	Fd  *api.Fd
}

// NetnsPid names the network namespace of process pid.
func NetnsPid(pid int) *Netns { return &Netns{Pid: pid} }

// NetnsFd names the network namespace open as fd (/proc/PID/ns/net,
// /run/netns/NAME). fd must stay open until the call returns.
func NetnsFd(fd *api.Fd) *Netns { return &Netns{Fd: fd} }

// put appends the namespace attribute.
func (ns *Netns) put(c *Codec, m *builder, op string) error {
	if ns.Fd != nil {
		n := ns.Fd.Num()
		if n < 0 {
			return &Error{Op: op, Errno: api.EBADF, Message: "closed namespace descriptor", Offset: -1}
		}
		m.u32(c.n.IFLA_NET_NS_FD, uint32(n))
		return nil
	}
	if ns.Pid <= 0 {
		return badArg(op, "namespace pid "+strconv.Itoa(ns.Pid))
	}
	m.u32(c.n.IFLA_NET_NS_PID, uint32(ns.Pid))
	return nil
}

func (ns *Netns) keepAlive() {
	if ns != nil {
		runtime.KeepAlive(ns.Fd)
	}
}

// badArg reports bad input found before any request; it unwraps to EINVAL.
func badArg(op, what string) error {
	return &Error{Op: op, Errno: api.EINVAL, Message: what, Offset: -1}
}

// putIfinfo appends an ifinfomsg.
func (c *Codec) putIfinfo(m *builder, index int, flags, change LinkFlags) {
	l := &c.l.ifi
	b := m.fixed(l.size)
	l.family.put(b, c.bo, uint64(c.n.AF_UNSPEC))
	l.index.put(b, c.bo, uint64(uint32(int32(index))))
	l.flags.put(b, c.bo, uint64(flags))
	l.change.put(b, c.bo, uint64(change))
}

// DecodeLink decodes an RTM_NEWLINK or RTM_DELLINK payload.
func (c *Codec) DecodeLink(b []byte) (*Link, error) {
	l := &c.l.ifi
	if len(b) < l.size {
		return nil, &MalformedError{"ifinfomsg", 0, "payload of " + strconv.Itoa(len(b)) + " bytes"}
	}
	k := &Link{
		Index:       int(int32(uint32(l.index.get(b, c.bo)))),
		Type:        LinkType(l.typ.get(b, c.bo)),
		Flags:       LinkFlags(l.flags.get(b, c.bo)),
		LinkNetnsID: -1,
	}
	n := &c.n
	a, err := c.attrs(b[alignTo(l.size, c.msg):])
	if err != nil {
		return nil, err
	}
	k.Name = str(a[n.IFLA_IFNAME])
	k.MTU = int(c.u32(a[n.IFLA_MTU]))
	k.MinMTU = int(c.u32(a[n.IFLA_MIN_MTU]))
	k.MaxMTU = int(c.u32(a[n.IFLA_MAX_MTU]))
	k.TxQLen = int(c.u32(a[n.IFLA_TXQLEN]))
	if v, ok := a[n.IFLA_ADDRESS]; ok {
		k.HardwareAddr = net.HardwareAddr(append([]byte(nil), v...))
	}
	if v, ok := a[n.IFLA_BROADCAST]; ok {
		k.Broadcast = net.HardwareAddr(append([]byte(nil), v...))
	}
	k.OperState = OperState(c.u8(a[n.IFLA_OPERSTATE]))
	k.LinkMode = int(c.u8(a[n.IFLA_LINKMODE]))
	k.MasterIndex = int(c.u32(a[n.IFLA_MASTER]))
	k.ParentIndex = int(int32(c.u32(a[n.IFLA_LINK])))
	if v, ok := a[n.IFLA_LINK_NETNSID]; ok && len(v) >= 4 {
		k.LinkNetnsID = int(int32(c.u32(v)))
	}
	k.Alias = str(a[n.IFLA_IFALIAS])
	k.Qdisc = str(a[n.IFLA_QDISC])
	k.Group = int(c.u32(a[n.IFLA_GROUP]))
	k.Promiscuity = int(c.u32(a[n.IFLA_PROMISCUITY]))
	k.NumTxQueues = int(c.u32(a[n.IFLA_NUM_TX_QUEUES]))
	k.NumRxQueues = int(c.u32(a[n.IFLA_NUM_RX_QUEUES]))
	if v, ok := a[n.IFLA_STATS64]; ok && c.l.stats.size > 0 && len(v) >= c.l.stats.size {
		s := &c.l.stats
		k.Stats = &LinkStats{
			RxPackets: s.rxPackets.get(v, c.bo), TxPackets: s.txPackets.get(v, c.bo),
			RxBytes: s.rxBytes.get(v, c.bo), TxBytes: s.txBytes.get(v, c.bo),
			RxErrors: s.rxErrors.get(v, c.bo), TxErrors: s.txErrors.get(v, c.bo),
			RxDropped: s.rxDropped.get(v, c.bo), TxDropped: s.txDropped.get(v, c.bo),
			Multicast: s.multicast.get(v, c.bo), Collisions: s.collisions.get(v, c.bo),
		}
	}
	if v, ok := a[n.IFLA_LINKINFO]; ok {
		info, err := c.attrs(v)
		if err != nil {
			return nil, err
		}
		k.Kind = str(info[n.IFLA_INFO_KIND])
		k.SlaveKind = str(info[n.IFLA_INFO_SLAVE_KIND])
		if d, ok := info[n.IFLA_INFO_DATA]; ok {
			if k.Info, err = c.decodeInfo(k, d); err != nil {
				return nil, err
			}
		}
	}
	return k, nil
}

// decodeInfo decodes IFLA_INFO_DATA of the kinds rtnl knows.
func (c *Codec) decodeInfo(k *Link, d []byte) (LinkInfo, error) {
	n := &c.n
	a, err := c.attrs(d)
	if err != nil {
		return nil, err
	}
	switch k.Kind {
	case "macvlan":
		return &Macvlan{Parent: k.ParentIndex, Mode: MacvlanMode(c.u32(a[n.IFLA_MACVLAN_MODE]))}, nil
	case "vxlan":
		v := &Vxlan{ID: c.u32(a[n.IFLA_VXLAN_ID]), Dev: int(c.u32(a[n.IFLA_VXLAN_LINK])), TTL: int(c.u8(a[n.IFLA_VXLAN_TTL]))}
		if p := a[n.IFLA_VXLAN_PORT]; len(p) >= 2 {
			v.Port = uint16(p[0])<<8 | uint16(p[1])
		}
		if l, ok := a[n.IFLA_VXLAN_LEARNING]; ok {
			on := c.u8(l) != 0
			v.Learning = &on
		}
		v.Local = ipAttr(a, n.IFLA_VXLAN_LOCAL, n.IFLA_VXLAN_LOCAL6)
		v.Group = ipAttr(a, n.IFLA_VXLAN_GROUP, n.IFLA_VXLAN_GROUP6)
		return v, nil
	case "vlan":
		if n.IFLA_VLAN_ID != 0xffff {
			return &Vlan{Parent: k.ParentIndex, ID: c.u16(a[n.IFLA_VLAN_ID])}, nil
		}
	}
	return nil, nil
}

func ipAttr(a attrMap, t4, t6 uint16) net.IP {
	if v := a[t4]; len(v) == 4 {
		return net.IP(append([]byte(nil), v...))
	}
	if v := a[t6]; len(v) == 16 {
		return net.IP(append([]byte(nil), v...))
	}
	return nil
}

// Links lists the links of the Conn's namespace.
func (c *Conn) Links() ([]*Link, error) {
	var out []*Link
	m := c.c.newMsg(c.c.n.RTM_GETLINK, 0)
	c.c.putIfinfo(m, 0, 0, 0)
	err := c.dump("link list", m, func() { out = out[:0] }, func(r Message) error {
		if r.Type != c.c.n.RTM_NEWLINK {
			return nil
		}
		l, err := c.c.DecodeLink(r.Data)
		if err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// Link returns the link with index.
func (c *Conn) Link(index int) (*Link, error) {
	if index <= 0 {
		return nil, badArg("link get", "index "+strconv.Itoa(index))
	}
	m := c.c.newMsg(c.c.n.RTM_GETLINK, 0)
	c.c.putIfinfo(m, index, 0, 0)
	return c.getLink("link get", m)
}

// LinkByName returns the link called name.
func (c *Conn) LinkByName(name string) (*Link, error) {
	if err := c.c.checkName("link get", name); err != nil {
		return nil, err
	}
	m := c.c.newMsg(c.c.n.RTM_GETLINK, 0)
	c.c.putIfinfo(m, 0, 0, 0)
	m.str(c.c.n.IFLA_IFNAME, name)
	return c.getLink("link get "+name, m)
}

func (c *Conn) getLink(op string, m *builder) (*Link, error) {
	var out *Link
	err := c.request(op, m, func(r Message) error {
		if r.Type != c.c.n.RTM_NEWLINK {
			return nil
		}
		l, err := c.c.DecodeLink(r.Data)
		out = l
		return err
	})
	if err == nil && out == nil {
		err = &Error{Op: op, Errno: api.ENODEV, Offset: -1}
	}
	return out, err
}

// checkName rejects names the kernel cannot hold: longer than IFNAMSIZ-1
// bytes, "." or "..", or with NUL, '/', ':' or white space (the kernel's
// dev_valid_name); the kernel itself would answer without naming the
// problem.
func (c *Codec) checkName(op, name string) error {
	if name == "" {
		return badArg(op, "empty link name")
	}
	if len(name) >= int(c.n.IFNAMSIZ) {
		return badArg(op, "link name "+strconv.Quote(name)+" longer than "+strconv.Itoa(int(c.n.IFNAMSIZ)-1)+" bytes")
	}
	if name == "." || name == ".." {
		return badArg(op, "link name "+strconv.Quote(name))
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case 0, '/', ':', ' ', '\t', '\n', '\v', '\f', '\r':
			return badArg(op, "link name "+strconv.Quote(name)+" contains NUL, '/', ':' or white space")
		}
	}
	return nil
}

// LinkAttrs are the settings of a new link. (The kernel takes no alias at
// creation: set one with SetLink.)
type LinkAttrs struct {
	Name         string // required
	MTU          int
	HardwareAddr net.HardwareAddr
	TxQLen       int
	MasterIndex  int
	Up           bool
	Netns        *Netns // create it in another network namespace
	Info         LinkInfo
}

// AddLink creates a link (RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL). A kind
// whose driver the kernel lacks fails with EOPNOTSUPP and the kernel's
// message "Unknown device type".
func (c *Conn) AddLink(a *LinkAttrs) error {
	op := "link add"
	if a == nil || a.Info == nil {
		return badArg(op, "no link kind")
	}
	op += " " + a.Name
	if err := c.c.checkName(op, a.Name); err != nil {
		return err
	}
	n := &c.c.n
	var up LinkFlags
	if a.Up {
		up = FlagUp
	}
	m := c.c.newMsg(n.RTM_NEWLINK, n.NLM_F_CREATE|n.NLM_F_EXCL)
	c.c.putIfinfo(m, 0, up, up)
	m.str(n.IFLA_IFNAME, a.Name)
	if err := c.putLinkCommon(m, op, a.MTU, a.HardwareAddr, a.TxQLen, a.MasterIndex, "", a.Netns); err != nil {
		return err
	}
	switch i := a.Info.(type) {
	case *Macvlan:
		if i.Parent <= 0 {
			return badArg(op, "macvlan needs a parent link")
		}
		m.u32(n.IFLA_LINK, uint32(i.Parent))
	case *Vlan:
		if i.Parent <= 0 {
			return badArg(op, "vlan needs a parent link")
		}
		m.u32(n.IFLA_LINK, uint32(i.Parent))
	}
	li := m.nest(n.IFLA_LINKINFO)
	kind := a.Info.Kind()
	if kind == "" {
		return badArg(op, "empty link kind")
	}
	m.str(n.IFLA_INFO_KIND, kind)
	if err := c.putInfoData(m, op, a.Info); err != nil {
		return err
	}
	m.end(li)
	err := c.request(op, m, nil)
	a.Netns.keepAlive()
	if v, ok := a.Info.(*Veth); ok {
		v.PeerNetns.keepAlive()
	}
	return err
}

func (c *Conn) putLinkCommon(m *builder, op string, mtu int, mac net.HardwareAddr, txq, master int, alias string, ns *Netns) error {
	n := &c.c.n
	if mtu < 0 || mtu > 1<<31-1 {
		return badArg(op, "MTU "+strconv.Itoa(mtu))
	}
	if mtu > 0 {
		m.u32(n.IFLA_MTU, uint32(mtu))
	}
	if len(mac) > 0 {
		m.attr(n.IFLA_ADDRESS, mac)
	}
	if txq < 0 || txq > 1<<31-1 {
		return badArg(op, "txqueuelen "+strconv.Itoa(txq))
	}
	if txq > 0 {
		m.u32(n.IFLA_TXQLEN, uint32(txq))
	}
	if master < 0 {
		return badArg(op, "master index "+strconv.Itoa(master))
	}
	if master > 0 {
		m.u32(n.IFLA_MASTER, uint32(master))
	}
	if alias != "" {
		m.str(n.IFLA_IFALIAS, alias)
	}
	if ns != nil {
		return ns.put(c.c, m, op)
	}
	return nil
}

func (c *Conn) putInfoData(m *builder, op string, info LinkInfo) error {
	n := &c.c.n
	switch i := info.(type) {
	case *Veth:
		d := m.nest(n.IFLA_INFO_DATA)
		p := m.nest(n.VETH_INFO_PEER)
		c.c.putIfinfo(m, 0, 0, 0)
		if i.PeerName != "" {
			if err := c.c.checkName(op, i.PeerName); err != nil {
				return err
			}
			m.str(n.IFLA_IFNAME, i.PeerName)
		}
		if err := c.putLinkCommon(m, op, i.PeerMTU, i.PeerHardwareAddr, 0, 0, "", i.PeerNetns); err != nil {
			return err
		}
		m.end(p)
		m.end(d)
	case *Macvlan:
		d := m.nest(n.IFLA_INFO_DATA)
		if i.Mode != 0 {
			m.u32(n.IFLA_MACVLAN_MODE, uint32(i.Mode))
		}
		m.end(d)
	case *Vxlan:
		d := m.nest(n.IFLA_INFO_DATA)
		m.u32(n.IFLA_VXLAN_ID, i.ID)
		if i.Port != 0 {
			m.be16(n.IFLA_VXLAN_PORT, i.Port)
		}
		for _, x := range []struct {
			ip     net.IP
			t4, t6 uint16
			what   string
		}{{i.Local, n.IFLA_VXLAN_LOCAL, n.IFLA_VXLAN_LOCAL6, "local"}, {i.Group, n.IFLA_VXLAN_GROUP, n.IFLA_VXLAN_GROUP6, "group"}} {
			if x.ip == nil {
				continue
			}
			if v4 := x.ip.To4(); v4 != nil {
				m.attr(x.t4, v4)
			} else if len(x.ip) == 16 {
				m.attr(x.t6, x.ip)
			} else {
				return badArg(op, "vxlan "+x.what+" address "+x.ip.String())
			}
		}
		if i.Dev < 0 {
			return badArg(op, "vxlan dev index "+strconv.Itoa(i.Dev))
		}
		if i.Dev > 0 {
			m.u32(n.IFLA_VXLAN_LINK, uint32(i.Dev))
		}
		if i.TTL < 0 || i.TTL > 255 {
			return badArg(op, "vxlan ttl "+strconv.Itoa(i.TTL))
		}
		if i.TTL > 0 {
			m.u8(n.IFLA_VXLAN_TTL, uint8(i.TTL))
		}
		if i.Learning != nil {
			m.u8(n.IFLA_VXLAN_LEARNING, b2u8(*i.Learning))
		}
		m.end(d)
	case *Vlan:
		if n.IFLA_VLAN_ID == 0xffff {
			return &Error{Op: op, Errno: api.ENOTSUP, Message: "the ABI table has no IFLA_VLAN_ID", Offset: -1}
		}
		if i.ID == 0 || i.ID >= 4095 {
			return badArg(op, "vlan id "+strconv.Itoa(int(i.ID))+" (1-4094)")
		}
		d := m.nest(n.IFLA_INFO_DATA)
		m.u16(n.IFLA_VLAN_ID, i.ID)
		m.end(d)
	case *Bond:
		if i.Mode != nil {
			if n.IFLA_BOND_MODE == 0xffff {
				return &Error{Op: op, Errno: api.ENOTSUP, Message: "the ABI table has no IFLA_BOND_MODE", Offset: -1}
			}
			d := m.nest(n.IFLA_INFO_DATA)
			m.u8(n.IFLA_BOND_MODE, *i.Mode)
			m.end(d)
		}
	}
	return nil
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// DeleteLink deletes the link with index (a veth's peer goes with it).
func (c *Conn) DeleteLink(index int) error {
	op := "link del"
	if index <= 0 {
		return badArg(op, "index "+strconv.Itoa(index))
	}
	m := c.c.newMsg(c.c.n.RTM_DELLINK, 0)
	c.c.putIfinfo(m, index, 0, 0)
	return c.request(op, m, nil)
}

// LinkChange is a set of changes to one link, made in one request as
// `ip link set` does. Nil or zero fields are left alone.
type LinkChange struct {
	Up           *bool
	MTU          int
	HardwareAddr net.HardwareAddr
	Name         string
	TxQLen       int
	Alias        *string
	Master       *int // 0 detaches (nomaster)
	Netns        *Netns
}

// SetLink applies ch to the link with index.
func (c *Conn) SetLink(index int, ch *LinkChange) error {
	op := "link set"
	if index <= 0 {
		return badArg(op, "index "+strconv.Itoa(index))
	}
	if ch == nil {
		return badArg(op, "no change")
	}
	n := &c.c.n
	var fl, change LinkFlags
	if ch.Up != nil {
		change = FlagUp
		if *ch.Up {
			fl = FlagUp
		}
	}
	m := c.c.newMsg(n.RTM_NEWLINK, 0)
	c.c.putIfinfo(m, index, fl, change)
	if ch.Name != "" {
		if err := c.c.checkName(op, ch.Name); err != nil {
			return err
		}
		m.str(n.IFLA_IFNAME, ch.Name)
	}
	alias := ""
	if ch.Alias != nil {
		alias = *ch.Alias
		if alias == "" {
			m.attr(n.IFLA_IFALIAS, nil) // an empty alias removes it
		}
	}
	if err := c.putLinkCommon(m, op, ch.MTU, ch.HardwareAddr, ch.TxQLen, 0, alias, ch.Netns); err != nil {
		return err
	}
	if ch.Master != nil {
		if *ch.Master < 0 {
			return badArg(op, "master index "+strconv.Itoa(*ch.Master))
		}
		m.u32(n.IFLA_MASTER, uint32(*ch.Master))
	}
	err := c.request(op, m, nil)
	ch.Netns.keepAlive()
	return err
}

// SetLinkUp brings a link up.
func (c *Conn) SetLinkUp(index int) error {
	up := true
	return c.SetLink(index, &LinkChange{Up: &up})
}

// SetLinkDown brings a link down.
func (c *Conn) SetLinkDown(index int) error {
	up := false
	return c.SetLink(index, &LinkChange{Up: &up})
}

// SetLinkMTU sets a link's MTU.
func (c *Conn) SetLinkMTU(index, mtu int) error {
	if mtu <= 0 {
		return badArg("link set", "MTU "+strconv.Itoa(mtu))
	}
	return c.SetLink(index, &LinkChange{MTU: mtu})
}

// SetLinkHardwareAddr sets a link's MAC address.
func (c *Conn) SetLinkHardwareAddr(index int, mac net.HardwareAddr) error {
	if len(mac) == 0 {
		return badArg("link set", "empty hardware address")
	}
	return c.SetLink(index, &LinkChange{HardwareAddr: mac})
}

// SetLinkName renames a link (it must be down).
func (c *Conn) SetLinkName(index int, name string) error {
	if err := c.c.checkName("link set", name); err != nil {
		return err
	}
	return c.SetLink(index, &LinkChange{Name: name})
}

// SetLinkMaster makes a link a port of master (a bridge or bond); master 0
// detaches it (nomaster).
func (c *Conn) SetLinkMaster(index, master int) error {
	return c.SetLink(index, &LinkChange{Master: &master})
}

// SetLinkNetns moves a link into another network namespace.
func (c *Conn) SetLinkNetns(index int, ns *Netns) error {
	if ns == nil {
		return badArg("link set", "nil namespace")
	}
	return c.SetLink(index, &LinkChange{Netns: ns})
}
