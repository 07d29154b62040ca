package rtnl

import (
	"errors"

	"github.com/anykernel/anykernel/api"
)

// Tuntap is a persistent tun (IP packets) or tap (Ethernet frames) device.
// The kernel does not create these through rtnetlink; AddTuntap uses
// /dev/net/tun and its ioctls, as `ip tuntap add` does.
type Tuntap struct {
	Name       string
	Tap        bool    // a tap device; false: tun
	MultiQueue bool    // IFF_MULTI_QUEUE
	Owner      *uint32 // the only uid allowed to attach (TUNSETOWNER); nil: any with CAP_NET_ADMIN
	Group      *uint32 // the gid allowed to attach (TUNSETGROUP); nil: none
}

// AddTuntap creates a persistent tun or tap device in the Conn's network
// namespace. Delete it with DeleteLink.
func (c *Conn) AddTuntap(t *Tuntap) error {
	op := "tuntap add"
	if t == nil {
		return badArg(op, "nil Tuntap")
	}
	op += " " + t.Name
	if err := c.c.checkName(op, t.Name); err != nil {
		return err
	}
	n := &c.c.n
	l := &c.c.l.ifreq
	if l.size == 0 || n.TUNSETIFF == ^uint64(0) || n.TUNSETPERSIST == ^uint64(0) || n.IFF_TAP == 0xffff || n.IFF_TUN == 0xffff || n.IFF_NO_PI == 0xffff {
		return &Error{Op: op, Errno: api.ENOTSUP, Message: "the ABI table lacks struct ifreq or the TUN* ioctls", Offset: -1}
	}
	flags := n.IFF_TUN
	if t.Tap {
		flags = n.IFF_TAP
	}
	flags |= n.IFF_NO_PI
	if t.MultiQueue {
		if n.IFF_MULTI_QUEUE == 0xffff {
			return &Error{Op: op, Errno: api.ENOTSUP, Message: "the ABI table has no IFF_MULTI_QUEUE", Offset: -1}
		}
		flags |= n.IFF_MULTI_QUEUE
	}
	req := make([]byte, l.size)
	copy(l.name.bytes(req), t.Name)
	l.flags.put(req, c.c.bo, uint64(flags))
	ns, err := c.Netns()
	if err != nil {
		return err
	}
	k := c.k
	// /dev/net/tun makes the device in the namespace of the thread that
	// opens it: a thread that enters the Conn's namespace.
	return inNetns(k, ns, func() error {
		f, err := k.Open("/dev/net/tun", api.O_RDWR|api.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.IoctlBuf(n.TUNSETIFF, req); err != nil {
			return &Error{Op: op, Errno: errnoOf(err), Message: "TUNSETIFF", Offset: -1}
		}
		for _, x := range []struct {
			id  *uint32
			req uint64
		}{{t.Owner, n.TUNSETOWNER}, {t.Group, n.TUNSETGROUP}} {
			if x.id == nil {
				continue
			}
			if x.req == ^uint64(0) {
				return &Error{Op: op, Errno: api.ENOTSUP, Message: "the ABI table has no TUNSETOWNER/TUNSETGROUP", Offset: -1}
			}
			if _, err := f.IoctlInt(x.req, uintptr(*x.id)); err != nil {
				return err
			}
		}
		if _, err := f.IoctlInt(n.TUNSETPERSIST, 1); err != nil {
			return err
		}
		return nil
	})
}

// errnoOf extracts the Errno of an api error (EIO if there is none).
func errnoOf(err error) api.Errno {
	var e api.Errno
	if errors.As(err, &e) {
		return e
	}
	return api.EIO
}
