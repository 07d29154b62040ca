package netconv

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/api"
)

func TestFromNetAddr(t *testing.T) {
	for _, c := range []struct {
		in   net.Addr
		want api.Sockaddr
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, api.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 80}},
		{&net.UDPAddr{IP: net.IP{10, 0, 0, 1}, Port: 53}, api.SockaddrInet4{Addr: [4]byte{10, 0, 0, 1}, Port: 53}},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 443}, api.SockaddrInet6{Addr: [16]byte{15: 1}, Port: 443}},
		{&net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: "7"}, api.SockaddrInet6{Addr: [16]byte{0: 0xfe, 1: 0x80, 15: 1}, Port: 1, ZoneID: 7}},
		{&net.IPAddr{IP: net.IPv4(1, 2, 3, 4)}, api.SockaddrInet4{Addr: [4]byte{1, 2, 3, 4}}},
		{&net.UnixAddr{Name: "/tmp/s", Net: "unix"}, api.SockaddrUnix{Name: "/tmp/s"}},
		{&net.UnixAddr{Name: "@abs", Net: "unixgram"}, api.SockaddrUnix{Name: "@abs"}},
	} {
		got, err := FromNetAddr(c.in)
		if err != nil || got != c.want {
			t.Errorf("FromNetAddr(%v) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []net.Addr{
		nil,
		(*net.TCPAddr)(nil),
		&net.TCPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 70000},
		&net.TCPAddr{Port: 80},
		&net.UDPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"},
		&net.UnixAddr{Name: "/" + strings.Repeat("y", 200)},
	} {
		if sa, err := FromNetAddr(bad); err == nil || !errors.Is(err, api.EINVAL) {
			t.Errorf("FromNetAddr(%v) = %v, %v; want EINVAL", bad, sa, err)
		}
	}
}

func TestToNetAddr(t *testing.T) {
	v4 := api.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 8080}
	v6 := api.SockaddrInet6{Addr: [16]byte{0: 0xfe, 1: 0x80, 15: 1}, Port: 53, ZoneID: 3}
	for _, c := range []struct {
		sa      api.Sockaddr
		network string
		want    string
	}{
		{v4, "tcp", "127.0.0.1:8080"},
		{&v4, "udp4", "127.0.0.1:8080"},
		{v6, "udp", "[fe80::1%3]:53"},
		{api.SockaddrUnix{Name: "/x"}, "unixgram", "/x"},
	} {
		a, err := ToNetAddr(c.sa, c.network)
		if err != nil || a.String() != c.want || !strings.HasPrefix(a.Network(), c.network[:3]) {
			t.Errorf("ToNetAddr(%v, %s) = %v, %v", c.sa, c.network, a, err)
		}
	}
	for _, c := range []struct {
		sa      api.Sockaddr
		network string
	}{
		{v4, "unix"},
		{api.SockaddrUnix{Name: "/x"}, "tcp"},
		{nil, "tcp"},
		{(*api.SockaddrInet4)(nil), "tcp"},
	} {
		if _, err := ToNetAddr(c.sa, c.network); !errors.Is(err, api.EINVAL) {
			t.Errorf("ToNetAddr(%v, %s) = %v, want EINVAL", c.sa, c.network, err)
		}
	}
}
