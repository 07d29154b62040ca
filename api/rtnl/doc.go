// Package rtnl speaks rtnetlink (NETLINK_ROUTE) over an api.Kernel's
// sockets: links, addresses, routes, neighbours and policy-routing rules of
// a network namespace, and the events the kernel multicasts about them.
//
//	c, err := rtnl.Dial(k) // the calling thread's network namespace
//	err = c.AddLink(&rtnl.LinkAttrs{Name: "v0", Info: &rtnl.Veth{PeerName: "v1"}})
//	v0, err := c.LinkByName("v0")
//	err = c.SetLinkUp(v0.Index)
//	err = c.AddAddr(&rtnl.Addr{Index: v0.Index, Prefix: netip.MustParsePrefix("10.1.2.3/24")})
//	err = c.AddRoute(&rtnl.Route{Dst: netip.MustParsePrefix("10.9.0.0/16"), Gateway: netip.MustParseAddr("10.1.2.1")})
//
// Every number on the wire and every struct layout comes from the kernel's
// ABI table (a Codec resolves them once per table). The typed constants
// (LinkFlags, Scope, Table, ...) are generated from the linux/amd64 table by
// internal/rtnlgen; rtnetlink numbers them the same on every Linux
// architecture, and a Codec refuses a table that does not.
//
// Requests are acknowledged: a failure is an *Error carrying the errno and
// the kernel's extended-ack message ("Unknown device type"), and it unwraps
// to the api.Errno, so errors.Is(err, api.EEXIST) works. Dumps that the
// kernel marks interrupted (NLM_F_DUMP_INTR: the table changed while it
// was read) are restarted, a bounded number of times. A Subscription
// yields typed events (LinkEvent, AddrEvent, RouteEvent, NeighEvent,
// RuleEvent) from an iterator and reports lost events (ENOBUFS) as errors.
//
// A Conn works on the namespace its socket was made in, whatever thread
// later uses it; DialNetns makes one inside another namespace without
// moving the caller. tun/tap devices, which the kernel only creates through
// /dev/net/tun, are made on a thread that enters the Conn's namespace.
package rtnl
