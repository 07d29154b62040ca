//go:build rump && cgo

package rump

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/anykernel/anykernel/api"
)

// TestIfAddrIPv6 adds an IPv6 address to lo0 and deletes it again: the
// prefix route comes and goes with it, and a second delete is an error
// from the kernel, so the in6_ifreq layout and SIOCDIFADDR_IN6 (whose
// number encodes that layout's size) are what NetBSD expects.
func TestIfAddrIPv6(t *testing.T) {
	k := kernel(t)
	addr := netip.MustParsePrefix("fd88::5/64")
	if err := IfAddAddr(k, "lo0", addr); err != nil {
		t.Fatal(err)
	}
	if r, err := RouteGet(k, netip.MustParseAddr("fd88::1")); err != nil || r.Dst != addr.Masked() {
		t.Fatalf("prefix route after add: %v %v", r, err)
	}
	if err := IfDelAddr(k, "lo0", addr.Addr()); err != nil {
		t.Fatal(err)
	}
	if r, err := RouteGet(k, netip.MustParseAddr("fd88::1")); err == nil && r.Dst == addr.Masked() {
		t.Errorf("prefix route %v outlived its address", r)
	}
	if err := IfDelAddr(k, "lo0", addr.Addr()); !errors.Is(err, api.EADDRNOTAVAIL) {
		t.Errorf("deleting twice: %v", err)
	}
	if err := IfDelAddr(k, "lo0", netip.Addr{}); !errors.Is(err, api.EINVAL) {
		t.Errorf("deleting no address: %v", err)
	}
}
