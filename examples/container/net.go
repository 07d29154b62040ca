package main

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
)

// hostVeth creates the veth pair: name in the caller's network namespace,
// with address gw, and its peer eth0 straight in the network namespace of
// process pid. It returns a function that deletes the host end (the kernel
// deletes both ends anyway when the container's namespace goes).
func hostVeth(k *api.Kernel, cfg *config, name string, pid int, gw netip.Prefix) (func(), error) {
	c, err := rtnl.Dial(k)
	if err != nil {
		return nil, err
	}
	err = c.AddLink(&rtnl.LinkAttrs{Name: name, Info: &rtnl.Veth{PeerName: "eth0", PeerNetns: rtnl.NetnsPid(pid)}})
	if err != nil {
		c.Close()
		return nil, err
	}
	cleanup := func() {
		if l, err := c.LinkByName(name); err == nil {
			if err := c.DeleteLink(l.Index); err != nil && !errors.Is(err, api.ENODEV) {
				cfg.logf("deleting %s: %v", name, err)
			}
		}
		c.Close()
	}
	l, err := c.LinkByName(name)
	if err == nil {
		err = c.AddAddr(&rtnl.Addr{Index: l.Index, Prefix: gw})
	}
	if err == nil {
		err = c.SetLinkUp(l.Index)
	}
	if err != nil {
		cleanup()
		return nil, err
	}
	cfg.logf("veth %s (%v) <-> eth0 in pid %d's namespace", name, gw, pid)
	return cleanup, nil
}

// containerNet sets up the container's side: lo up, and with a veth pair
// eth0's address, eth0 up and a default route through the host's end.
func containerNet(k *api.Kernel, cfg *config) error {
	c, err := rtnl.Dial(k)
	if err != nil {
		return err
	}
	defer c.Close()
	lo, err := c.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := c.SetLinkUp(lo.Index); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	if !cfg.Net {
		return nil
	}
	addr, err := netip.ParsePrefix(cfg.Addr)
	if err != nil {
		return err
	}
	gw, err := netip.ParseAddr(cfg.Gateway)
	if err != nil {
		return err
	}
	eth, err := c.LinkByName("eth0")
	if err != nil {
		return err
	}
	if err := c.AddAddr(&rtnl.Addr{Index: eth.Index, Prefix: addr}); err != nil {
		return fmt.Errorf("eth0 address: %w", err)
	}
	if err := c.SetLinkUp(eth.Index); err != nil {
		return fmt.Errorf("eth0 up: %w", err)
	}
	if err := c.AddRoute(&rtnl.Route{Gateway: gw, OutIndex: eth.Index}); err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	return nil
}
