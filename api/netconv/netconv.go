// Package netconv converts between api's socket addresses and the net
// package's net.Addr types. It is separate from api so that programs using
// only api do not link package net (and, through it, cgo's resolver).
package netconv

import (
	"net"
	"net/netip"
	"strconv"

	"github.com/anykernel/anykernel/api"
)

func addrErr(input, reason string) error { return &api.SockaddrError{Input: input, Reason: reason} }

// FromNetAddr converts *net.TCPAddr, *net.UDPAddr, *net.IPAddr (port 0) and
// *net.UnixAddr. Zones must be numeric interface indexes: names belong to
// the kernel under test, which need not be the host.
func FromNetAddr(a net.Addr) (api.Sockaddr, error) {
	var ip net.IP
	var port int
	var zone string
	switch a := a.(type) {
	case *net.TCPAddr:
		if a == nil {
			return nil, addrErr("<nil>", "no address")
		}
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.UDPAddr:
		if a == nil {
			return nil, addrErr("<nil>", "no address")
		}
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.IPAddr:
		if a == nil {
			return nil, addrErr("<nil>", "no address")
		}
		ip, zone = a.IP, a.Zone
	case *net.UnixAddr:
		if a == nil {
			return nil, addrErr("<nil>", "no address")
		}
		if len(a.Name) > 0 && a.Name[0] == '@' {
			return api.ParseSockaddr(a.Name)
		}
		return api.ParseSockaddr("unix:" + a.Name)
	case nil:
		return nil, addrErr("<nil>", "no address")
	default:
		return nil, addrErr(a.String(), "unsupported net.Addr type "+a.Network())
	}
	input := a.String()
	if port < 0 || port > 65535 {
		return nil, addrErr(input, "port "+strconv.Itoa(port)+" out of range (0-65535)")
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		if len(ip) == 0 {
			return nil, addrErr(input, "no IP address")
		}
		return nil, addrErr(input, "IP address of "+strconv.Itoa(len(ip))+" bytes")
	}
	if zone == "" {
		// net keeps IPv4 addresses in 16-byte form; they are IPv4.
		addr = addr.Unmap()
	} else {
		addr = addr.WithZone(zone)
	}
	return api.SockaddrFromAddrPort(netip.AddrPortFrom(addr, uint16(port)))
}

// ToNetAddr converts sa to a net.Addr for network: "tcp", "udp", "ip" (and
// their "4"/"6" forms) for IP addresses; "unix", "unixgram" or "unixpacket"
// for Unix ones.
func ToNetAddr(sa api.Sockaddr, network string) (net.Addr, error) {
	switch sa := sa.(type) {
	case api.SockaddrInet4:
		return ipAddr(sa.AddrPort(), network)
	case *api.SockaddrInet4:
		if sa != nil {
			return ipAddr(sa.AddrPort(), network)
		}
	case api.SockaddrInet6:
		return ipAddr(sa.AddrPort(), network)
	case *api.SockaddrInet6:
		if sa != nil {
			return ipAddr(sa.AddrPort(), network)
		}
	case api.SockaddrUnix:
		return unixAddr(sa, network)
	case *api.SockaddrUnix:
		if sa != nil {
			return unixAddr(*sa, network)
		}
	default:
		if sa != nil {
			return nil, addrErr(sa.String(), "no net.Addr type for "+sa.Family().String())
		}
	}
	return nil, addrErr("<nil>", "no address")
}

func unixAddr(sa api.SockaddrUnix, network string) (net.Addr, error) {
	switch network {
	case "unix", "unixgram", "unixpacket":
		return &net.UnixAddr{Name: sa.Name, Net: network}, nil
	}
	return nil, addrErr(sa.String(), "network "+strconv.Quote(network)+" does not fit a Unix address")
}

func ipAddr(ap netip.AddrPort, network string) (net.Addr, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return net.TCPAddrFromAddrPort(ap), nil
	case "udp", "udp4", "udp6":
		return net.UDPAddrFromAddrPort(ap), nil
	case "ip", "ip4", "ip6":
		a := ap.Addr()
		return &net.IPAddr{IP: a.AsSlice(), Zone: a.Zone()}, nil
	}
	return nil, addrErr(ap.String(), "network "+strconv.Quote(network)+" does not fit an IP address")
}
