package conformance

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
)

// The netlink family: rtnetlink through package api/rtnl. Every case runs
// in network namespaces of its own, made on threads that are then
// discarded, so nothing it creates can reach the host's interfaces,
// addresses or routes; the namespaces vanish with their last socket.

func init() {
	Register(
		Case{Family: "netlink", Call: "rtnl_dial", Root: true, Run: testRtnlDial},
		Case{Family: "netlink", Call: "rtnl_link_list", Root: true, Run: testRtnlLinkList},
		Case{Family: "netlink", Call: "rtnl_link_get", Root: true, Run: testRtnlLinkGet},
		Case{Family: "netlink", Call: "rtnl_link_add_veth", Root: true, Run: testRtnlVeth},
		Case{Family: "netlink", Call: "rtnl_link_add_bridge", Root: true, Run: testRtnlBridge},
		Case{Family: "netlink", Call: "rtnl_link_add_macvlan", Root: true, Run: testRtnlMacvlan},
		Case{Family: "netlink", Call: "rtnl_link_add_vxlan", Root: true, Run: testRtnlVxlan},
		Case{Family: "netlink", Call: "rtnl_link_add_ifb", Root: true, Run: testRtnlIfb},
		Case{Family: "netlink", Call: "rtnl_link_add_tuntap", Root: true, Run: testRtnlTuntap},
		Case{Family: "netlink", Call: "rtnl_link_add_dummy", Root: true, Run: func(t T, e *Env) { testRtnlNoDriver(t, e, &rtnl.Dummy{}, "dummy") }},
		Case{Family: "netlink", Call: "rtnl_link_add_vlan", Root: true, Run: func(t T, e *Env) { testRtnlNoDriver(t, e, &rtnl.Vlan{ID: 5}, "8021q") }},
		Case{Family: "netlink", Call: "rtnl_link_add_bond", Root: true, Run: func(t T, e *Env) { testRtnlNoDriver(t, e, &rtnl.Bond{}, "bonding") }},
		Case{Family: "netlink", Call: "rtnl_link_del", Root: true, Run: testRtnlLinkDel},
		Case{Family: "netlink", Call: "rtnl_link_set_updown", Root: true, Run: testRtnlUpDown},
		Case{Family: "netlink", Call: "rtnl_link_set_mtu_mac", Root: true, Run: testRtnlMTUMAC},
		Case{Family: "netlink", Call: "rtnl_link_set_name", Root: true, Run: testRtnlName},
		Case{Family: "netlink", Call: "rtnl_link_set_master", Root: true, Run: testRtnlMaster},
		Case{Family: "netlink", Call: "rtnl_link_set_netns", Root: true, Run: testRtnlNetns},
		Case{Family: "netlink", Call: "rtnl_extack", Root: true, Run: testRtnlExtack},
	)
}

// RtnlNetns dials rtnetlink inside a fresh network namespace; the
// namespace lives as long as the returned Conn (closed at cleanup).
func RtnlNetns(t T, e *Env) *rtnl.Conn {
	t.Helper()
	c, _, release := rtnlNetnsThread(t, e)
	release()
	return c
}

// rtnlNetnsThread is RtnlNetns that also keeps a thread inside the
// namespace, for moves by pid: its thread id, and release to let it go.
func rtnlNetnsThread(t T, e *Env) (*rtnl.Conn, int, func()) {
	t.Helper()
	type res struct {
		c   *rtnl.Conn
		tid int
		err error
	}
	ch := make(chan res, 1)
	stop := make(chan struct{})
	go func() {
		// Unshare locks this goroutine to its thread for good: the
		// runtime discards the thread when the goroutine returns.
		if err := e.K.Unshare(api.CLONE_NEWNET); err != nil {
			ch <- res{err: err}
			return
		}
		c, err := rtnl.Dial(e.K)
		ch <- res{c, e.K.Gettid(), err}
		<-stop
	}()
	r := <-ch
	once := false
	release := func() {
		if !once {
			once = true
			close(stop)
		}
	}
	if r.err != nil {
		release()
		OK(t, r.err, "rtnetlink in a fresh network namespace")
	}
	t.Cleanup(func() {
		release()
		r.c.Close()
	})
	return r.c, r.tid, release
}

// rtnlLink fetches a link by name, failing the case if it is missing.
func rtnlLink(t T, c *rtnl.Conn, name string) *rtnl.Link {
	t.Helper()
	l, err := c.LinkByName(name)
	OK(t, err, "link %s", name)
	Eq(t, l.Name, name, "link name")
	return l
}

func addVeth(t T, c *rtnl.Conn, a, b string) (*rtnl.Link, *rtnl.Link) {
	t.Helper()
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: a, Info: &rtnl.Veth{PeerName: b}}), "add veth %s/%s", a, b)
	return rtnlLink(t, c, a), rtnlLink(t, c, b)
}

func testRtnlDial(t T, e *Env) {
	c := RtnlNetns(t, e)
	True(t, c.Pid() != 0, "the kernel assigned a port id")
	sa, err := c.Fd().Getsockname()
	OK(t, err, "getsockname")
	nl, err := e.K.NetlinkAddr(sa)
	OK(t, err, "NetlinkAddr")
	Eq(t, nl.Pid, c.Pid(), "port id")
	Eq(t, nl.Family(), api.AF_NETLINK, "family")
	_, err = e.K.NetlinkAddr(api.SockaddrInet4{})
	Want(t, err, api.EAFNOSUPPORT, "an IPv4 address is not a netlink one")
	p, err := api.ParseSockaddr("netlink:" + nl.String()[len("netlink:"):])
	OK(t, err, "ParseSockaddr of %s", nl)
	Eq(t, p.(api.SockaddrNetlink), nl, "netlink address round trip")
	_, err = api.ParseSockaddr("netlink:x")
	Want(t, err, api.EINVAL, "bad netlink address")

	// A second socket in the same namespace sees the same links.
	ns, err := c.Netns()
	OK(t, err, "Netns")
	c2, err := rtnl.DialNetns(e.K, ns)
	OK(t, err, "DialNetns")
	defer c2.Close()
	addVeth(t, c, "d0", "d1")
	_, err = c2.LinkByName("d1")
	OK(t, err, "the other socket sees the veth")

	OK(t, c2.Close(), "close")
	_, err = c2.Links()
	Want(t, err, api.EBADF, "list on a closed Conn")
	_, err = rtnl.DialNetns(e.K, nil)
	OK(t, err, "DialNetns(nil) dials the current namespace")
}

func testRtnlLinkList(t T, e *Env) {
	c := RtnlNetns(t, e)
	ls, err := c.Links()
	OK(t, err, "list links")
	// A fresh namespace has lo (and maybe the tunnel drivers' fallback
	// devices), nothing of the host's.
	var lo *rtnl.Link
	for _, l := range ls {
		if l.Name == "lo" {
			lo = l
		}
	}
	True(t, lo != nil, "lo is listed")
	Eq(t, lo.Type, rtnl.LinkTypeLoopback, "lo type")
	True(t, lo.Flags&rtnl.FlagLoopback != 0, "lo has IFF_LOOPBACK: %v", lo.Flags)
	True(t, lo.MTU > 0, "lo MTU")
	Eq(t, len(lo.HardwareAddr), 6, "lo hardware address length")
	addVeth(t, c, "l0", "l1")
	ls2, err := c.Links()
	OK(t, err, "list again")
	Eq(t, len(ls2), len(ls)+2, "two more links")
	seen := map[string]bool{}
	for _, l := range ls2 {
		seen[l.Name] = true
		if l.Name == "l0" || l.Name == "l1" {
			Eq(t, l.Kind, "veth", "kind of %s", l.Name)
		}
	}
	True(t, seen["l0"] && seen["l1"], "both ends listed")
}

func testRtnlLinkGet(t T, e *Env) {
	c := RtnlNetns(t, e)
	lo := rtnlLink(t, c, "lo")
	l, err := c.Link(lo.Index)
	OK(t, err, "get by index")
	Eq(t, l.Name, "lo", "name by index")
	_, err = c.LinkByName("nosuch0")
	Want(t, err, api.ENODEV, "missing link")
	var re *rtnl.Error
	True(t, errors.As(err, &re), "error is *rtnl.Error: %T", err)
	_, err = c.Link(1 << 30)
	Want(t, err, api.ENODEV, "missing index")
	_, err = c.Link(0)
	Want(t, err, api.EINVAL, "index 0")
	_, err = c.LinkByName("a/b")
	Want(t, err, api.EINVAL, "name with a slash")
	_, err = c.LinkByName(strings.Repeat("x", 16))
	Want(t, err, api.EINVAL, "name longer than IFNAMSIZ-1")
}

func testRtnlVeth(t T, e *Env) {
	c := RtnlNetns(t, e)
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x42}
	OK(t, c.AddLink(&rtnl.LinkAttrs{
		Name: "ve0", MTU: 1400, TxQLen: 50,
		Info: &rtnl.Veth{PeerName: "ve1", PeerHardwareAddr: mac, PeerMTU: 1300},
	}), "add veth")
	a, b := rtnlLink(t, c, "ve0"), rtnlLink(t, c, "ve1")
	Eq(t, a.Kind, "veth", "kind")
	Eq(t, a.MTU, 1400, "MTU")
	Eq(t, a.TxQLen, 50, "txqueuelen")
	Eq(t, b.MTU, 1300, "peer MTU")
	Eq(t, b.HardwareAddr.String(), mac.String(), "peer MAC")
	Eq(t, a.ParentIndex, b.Index, "each end's IFLA_LINK is the other")
	Eq(t, b.ParentIndex, a.Index, "peer's IFLA_LINK")
	Eq(t, a.LinkNetnsID, -1, "peer in the same namespace")
	Want(t, c.AddLink(&rtnl.LinkAttrs{Name: "ve0", Info: &rtnl.Veth{}}), fs.ErrExist, "same name again")
	Want(t, c.AddLink(&rtnl.LinkAttrs{Name: "ve2"}), api.EINVAL, "no kind")
	Want(t, c.AddLink(nil), api.EINVAL, "nil attrs")
	Want(t, c.AddLink(&rtnl.LinkAttrs{Name: "", Info: &rtnl.Veth{}}), api.EINVAL, "no name")
	Want(t, c.AddLink(&rtnl.LinkAttrs{Name: "ve3", MTU: -1, Info: &rtnl.Veth{}}), api.EINVAL, "negative MTU")
}

func testRtnlBridge(t T, e *Env) {
	c := RtnlNetns(t, e)
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "br0", Up: true, Info: &rtnl.Bridge{}}), "add bridge")
	br := rtnlLink(t, c, "br0")
	Eq(t, br.Kind, "bridge", "kind")
	True(t, br.Flags&rtnl.FlagUp != 0, "created up")
	Eq(t, br.Type, rtnl.LinkTypeEther, "Ethernet")
}

func testRtnlMacvlan(t T, e *Env) {
	c := RtnlNetns(t, e)
	v0, _ := addVeth(t, c, "mv0", "mv1")
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "mac0", Info: &rtnl.Macvlan{Parent: v0.Index, Mode: rtnl.MacvlanBridge}}), "add macvlan")
	m := rtnlLink(t, c, "mac0")
	Eq(t, m.Kind, "macvlan", "kind")
	Eq(t, m.ParentIndex, v0.Index, "parent")
	mi, ok := m.Info.(*rtnl.Macvlan)
	True(t, ok, "Info is *Macvlan: %T", m.Info)
	Eq(t, mi.Mode, rtnl.MacvlanBridge, "mode")
	Eq(t, mi.Mode.String(), "bridge", "mode name")
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "mac1", Info: &rtnl.Macvlan{Parent: v0.Index, Mode: rtnl.MacvlanPrivate}}), "private macvlan")
	Eq(t, rtnlLink(t, c, "mac1").Info.(*rtnl.Macvlan).Mode, rtnl.MacvlanPrivate, "private mode")
	Want(t, c.AddLink(&rtnl.LinkAttrs{Name: "mac2", Info: &rtnl.Macvlan{}}), api.EINVAL, "no parent")
}

func testRtnlVxlan(t T, e *Env) {
	c := RtnlNetns(t, e)
	v0, _ := addVeth(t, c, "vv0", "vv1")
	off := false
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "vx0", Info: &rtnl.Vxlan{
		ID: 4242, Port: 4789, Local: net.ParseIP("10.0.0.1"), Dev: v0.Index, TTL: 17, Learning: &off,
	}}), "add vxlan")
	x := rtnlLink(t, c, "vx0")
	Eq(t, x.Kind, "vxlan", "kind")
	vi, ok := x.Info.(*rtnl.Vxlan)
	True(t, ok, "Info is *Vxlan: %T", x.Info)
	Eq(t, vi.ID, uint32(4242), "VNI")
	Eq(t, vi.Port, uint16(4789), "port (network order on the wire)")
	Eq(t, vi.Local.String(), "10.0.0.1", "local")
	Eq(t, vi.Dev, v0.Index, "dev")
	Eq(t, vi.TTL, 17, "ttl")
	True(t, vi.Learning != nil && !*vi.Learning, "learning off")
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "vx6", Info: &rtnl.Vxlan{ID: 7, Group: net.ParseIP("ff05::100"), Dev: v0.Index}}), "IPv6 multicast vxlan")
	Eq(t, rtnlLink(t, c, "vx6").Info.(*rtnl.Vxlan).Group.String(), "ff05::100", "IPv6 group")
	Want(t, c.AddLink(&rtnl.LinkAttrs{Name: "vx1", Info: &rtnl.Vxlan{ID: 1, TTL: 300}}), api.EINVAL, "ttl out of range")
}

func testRtnlIfb(t T, e *Env) {
	c := RtnlNetns(t, e)
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "ifb7", Info: &rtnl.Ifb{}}), "add ifb")
	l := rtnlLink(t, c, "ifb7")
	Eq(t, l.Kind, "ifb", "kind")
	True(t, l.Flags&rtnl.FlagNoARP != 0, "ifb is NOARP: %v", l.Flags)
}

func testRtnlTuntap(t T, e *Env) {
	c := RtnlNetns(t, e)
	err := c.AddTuntap(&rtnl.Tuntap{Name: "tap0", Tap: true})
	if errors.Is(err, api.ENOTSUP) {
		t.Skipf("%v", err)
	}
	OK(t, err, "add tap")
	tap := rtnlLink(t, c, "tap0")
	Eq(t, tap.Type, rtnl.LinkTypeEther, "a tap is Ethernet")
	Eq(t, tap.Kind, "tun", "kind")
	OK(t, c.AddTuntap(&rtnl.Tuntap{Name: "tun0"}), "add tun")
	tun := rtnlLink(t, c, "tun0")
	Eq(t, tun.Type, rtnl.LinkTypeNone, "a tun has no link layer")
	True(t, tun.Flags&rtnl.FlagPointToPoint != 0, "tun is point-to-point")
	OK(t, c.DeleteLink(tap.Index), "delete tap")
	_, err = c.LinkByName("tap0")
	Want(t, err, api.ENODEV, "tap gone")
	Want(t, c.AddTuntap(&rtnl.Tuntap{Name: "bad/name"}), api.EINVAL, "bad name")
}

// testRtnlNoDriver adds a kind whose driver this machine kind's kernel
// lacks; the case skips with the kernel's reason, or checks the link.
func testRtnlNoDriver(t T, e *Env, info rtnl.LinkInfo, driver string) {
	c := RtnlNetns(t, e)
	v0, _ := addVeth(t, c, "nd0", "nd1")
	switch i := info.(type) {
	case *rtnl.Vlan:
		i.Parent = v0.Index
	}
	err := c.AddLink(&rtnl.LinkAttrs{Name: "x0", Info: info})
	var re *rtnl.Error
	if errors.Is(err, api.EOPNOTSUPP) && errors.As(err, &re) && strings.Contains(re.Message, "Unknown device type") {
		t.Skipf("this kernel has no %s driver: %v", driver, err)
	}
	OK(t, err, "add %s", info.Kind())
	Eq(t, rtnlLink(t, c, "x0").Kind, info.Kind(), "kind")
}

func testRtnlLinkDel(t T, e *Env) {
	c := RtnlNetns(t, e)
	a, b := addVeth(t, c, "del0", "del1")
	OK(t, c.DeleteLink(a.Index), "delete one end")
	_, err := c.Link(a.Index)
	Want(t, err, api.ENODEV, "deleted end")
	_, err = c.Link(b.Index)
	Want(t, err, api.ENODEV, "the peer goes with it")
	Want(t, c.DeleteLink(a.Index), api.ENODEV, "delete twice")
	Want(t, c.DeleteLink(-1), api.EINVAL, "negative index")
}

func testRtnlUpDown(t T, e *Env) {
	c := RtnlNetns(t, e)
	a, b := addVeth(t, c, "up0", "up1")
	True(t, a.Flags&rtnl.FlagUp == 0, "created down")
	OK(t, c.SetLinkUp(a.Index), "up")
	OK(t, c.SetLinkUp(b.Index), "peer up")
	a = rtnlLink(t, c, "up0")
	True(t, a.Flags&rtnl.FlagUp != 0, "is up: %v", a.Flags)
	Eq(t, a.Flags.String() != "", true, "flags print")
	OK(t, c.SetLinkDown(a.Index), "down")
	True(t, rtnlLink(t, c, "up0").Flags&rtnl.FlagUp == 0, "is down")
	lo := rtnlLink(t, c, "lo")
	OK(t, c.SetLinkUp(lo.Index), "lo up")
	lo = rtnlLink(t, c, "lo")
	True(t, lo.Flags&(rtnl.FlagUp|rtnl.FlagRunning) == rtnl.FlagUp|rtnl.FlagRunning, "lo up and running: %v", lo.Flags)
	Want(t, c.SetLinkUp(1<<30), api.ENODEV, "missing link")
	Want(t, c.SetLink(a.Index, nil), api.EINVAL, "nil change")
}

func testRtnlMTUMAC(t T, e *Env) {
	c := RtnlNetns(t, e)
	a, _ := addVeth(t, c, "mtu0", "mtu1")
	OK(t, c.SetLinkMTU(a.Index, 1280), "set MTU")
	Eq(t, rtnlLink(t, c, "mtu0").MTU, 1280, "MTU")
	mac := net.HardwareAddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	OK(t, c.SetLinkHardwareAddr(a.Index, mac), "set MAC")
	True(t, bytes.Equal(rtnlLink(t, c, "mtu0").HardwareAddr, mac), "MAC")
	up := true
	OK(t, c.SetLink(a.Index, &rtnl.LinkChange{Up: &up, MTU: 1400, TxQLen: 99}), "several changes at once")
	l := rtnlLink(t, c, "mtu0")
	Eq(t, l.MTU, 1400, "MTU")
	Eq(t, l.TxQLen, 99, "txqueuelen")
	True(t, l.Flags&rtnl.FlagUp != 0, "up")
	err := c.SetLinkMTU(a.Index, 1<<20)
	Want(t, err, api.EINVAL, "MTU above the maximum")
	var re *rtnl.Error
	True(t, errors.As(err, &re) && re.Message != "", "the kernel says why: %v", err)
	Want(t, c.SetLinkMTU(a.Index, 0), api.EINVAL, "MTU 0")
	Want(t, c.SetLinkHardwareAddr(a.Index, nil), api.EINVAL, "empty MAC")
	Want(t, c.SetLinkHardwareAddr(a.Index, net.HardwareAddr{1, 2, 3, 4, 5, 6}), api.EADDRNOTAVAIL, "multicast MAC")
}

func testRtnlName(t T, e *Env) {
	c := RtnlNetns(t, e)
	a, _ := addVeth(t, c, "old0", "old1")
	OK(t, c.SetLinkName(a.Index, "new0"), "rename")
	l, err := c.Link(a.Index)
	OK(t, err, "get")
	Eq(t, l.Name, "new0", "new name")
	_, err = c.LinkByName("old0")
	Want(t, err, api.ENODEV, "old name gone")
	alias := "an alias"
	OK(t, c.SetLink(a.Index, &rtnl.LinkChange{Alias: &alias}), "alias")
	Eq(t, rtnlLink(t, c, "new0").Alias, alias, "alias")
	Want(t, c.SetLinkName(a.Index, "old1"), fs.ErrExist, "rename onto an existing name")
	Want(t, c.SetLinkName(a.Index, "bad name"), api.EINVAL, "space in name")
	Want(t, c.SetLinkName(a.Index, ""), api.EINVAL, "empty name")
}

func testRtnlMaster(t T, e *Env) {
	c := RtnlNetns(t, e)
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "brm", Info: &rtnl.Bridge{}}), "add bridge")
	br := rtnlLink(t, c, "brm")
	a, _ := addVeth(t, c, "pm0", "pm1")
	OK(t, c.SetLinkMaster(a.Index, br.Index), "enslave")
	p := rtnlLink(t, c, "pm0")
	Eq(t, p.MasterIndex, br.Index, "master")
	Eq(t, p.SlaveKind, "bridge", "slave kind")
	OK(t, c.SetLinkMaster(a.Index, 0), "nomaster")
	Eq(t, rtnlLink(t, c, "pm0").MasterIndex, 0, "no master")
	// Master at creation.
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "pm2", MasterIndex: br.Index, Info: &rtnl.Veth{PeerName: "pm3"}}), "veth created as a port")
	Eq(t, rtnlLink(t, c, "pm2").MasterIndex, br.Index, "created enslaved")
	Want(t, c.SetLinkMaster(a.Index, -1), api.EINVAL, "negative master")
	Want(t, c.SetLinkMaster(a.Index, a.Index), api.EOPNOTSUPP, "a veth is no master")
}

func testRtnlNetns(t T, e *Env) {
	c := RtnlNetns(t, e)
	other, tid, release := rtnlNetnsThread(t, e)
	defer release()
	ons, err := other.Netns()
	OK(t, err, "the other namespace's handle")

	// By namespace descriptor.
	a, _ := addVeth(t, c, "ns0", "ns1")
	OK(t, c.SetLinkNetns(a.Index, rtnl.NetnsFd(ons)), "move by fd")
	_, err = c.LinkByName("ns0")
	Want(t, err, api.ENODEV, "gone from here")
	moved := rtnlLink(t, other, "ns0")
	True(t, moved.LinkNetnsID >= 0, "its peer is in another namespace: netnsid %d", moved.LinkNetnsID)

	// By pid (a thread that lives in the other namespace).
	b, _ := addVeth(t, c, "np0", "np1")
	OK(t, c.SetLinkNetns(b.Index, rtnl.NetnsPid(tid)), "move by pid")
	rtnlLink(t, other, "np0")

	// A veth whose peer is born in the other namespace.
	OK(t, c.AddLink(&rtnl.LinkAttrs{Name: "pe0", Info: &rtnl.Veth{PeerName: "pe1", PeerNetns: rtnl.NetnsFd(ons)}}), "veth across namespaces")
	rtnlLink(t, c, "pe0")
	rtnlLink(t, other, "pe1")
	_, err = c.LinkByName("pe1")
	Want(t, err, api.ENODEV, "peer is not here")

	// Bad targets.
	closed, err := e.K.Open("/proc/self/ns/net", api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err, "open a namespace file")
	closed.Close()
	Want(t, c.SetLinkNetns(b.Index, rtnl.NetnsFd(closed)), api.EBADF, "closed namespace fd")
	Want(t, c.SetLinkNetns(b.Index, rtnl.NetnsPid(0)), api.EINVAL, "pid 0")
	Want(t, c.SetLinkNetns(b.Index, nil), api.EINVAL, "nil namespace")
	lo := rtnlLink(t, c, "lo")
	Want(t, c.SetLinkNetns(lo.Index, rtnl.NetnsFd(ons)), api.EINVAL, "lo cannot move")
}

func testRtnlExtack(t T, e *Env) {
	c := RtnlNetns(t, e)
	err := c.AddLink(&rtnl.LinkAttrs{Name: "ex0", Info: &rtnl.Generic{KindName: "no-such-kind"}})
	var re *rtnl.Error
	True(t, errors.As(err, &re), "*rtnl.Error: %v", err)
	Want(t, err, api.EOPNOTSUPP, "unknown kind")
	Eq(t, re.Message, "Unknown device type", "the kernel's extended-ack message")
	True(t, strings.Contains(err.Error(), "Unknown device type") && strings.Contains(err.Error(), "link add ex0"), "message in the error text: %v", err)
	Want(t, err, errors.ErrUnsupported, "errors.Is ErrUnsupported")
}
