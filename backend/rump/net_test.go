package rump

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"unsafe"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/abi/all"
	"github.com/anykernel/anykernel/api"
)

// recorder is a NetBSD kernel that only records: socket makes fd 3, an
// ioctl keeps a copy of its argument struct, a write the message. It lets
// the byte layouts of the interface requests and routing messages be
// checked against NetBSD's C structs (restated below) on every NetBSD
// table, without a rump kernel.
type recorder struct {
	t      *abi.Table
	ioctls []call
	writes [][]byte
}

type call struct {
	req uint64
	arg []byte
}

func (r *recorder) Name() string    { return "recorder" }
func (r *recorder) ABI() *abi.Table { return r.t }
func (r *recorder) RawSyscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, uintptr) {
	return r.Syscall(nr, a1, a2, a3, a4, a5, a6)
}

func (r *recorder) Syscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, uintptr) {
	name := ""
	for _, s := range r.t.Syscalls {
		if s.Nr == nr {
			name = s.Name
		}
	}
	switch name {
	case "__socket30":
		return 3, 0, 0
	case "ioctl":
		// The request's size is in its number (NetBSD's _IOC).
		n := int(a2 >> 16 & 0x1fff)
		r.ioctls = append(r.ioctls, call{uint64(a2), append([]byte(nil), mem(a3, n)...)})
		return 0, 0, 0
	case "write":
		r.writes = append(r.writes, append([]byte(nil), mem(a2, int(a3))...))
		return a3, 0, 0
	case "getpid":
		return 42, 0, 0
	}
	return 0, 0, 0
}

// mem is the memory at a call's address argument (live: api keeps it
// alive until the call returns).
func mem(addr uintptr, n int) []byte {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr)) // the number is an address
	return unsafe.Slice((*byte)(p), n)
}

func netbsdTables(t *testing.T) []*abi.Table {
	var out []*abi.Table
	for _, tb := range all.Tables {
		if tb.OS == "netbsd" {
			out = append(out, tb)
		}
	}
	if len(out) < 4 {
		t.Fatalf("only %d NetBSD tables", len(out))
	}
	return out
}

func TestNetLayouts(t *testing.T) {
	for _, tb := range netbsdTables(t) {
		t.Run(tb.Arch, func(t *testing.T) {
			rec := &recorder{t: tb}
			k, err := api.New(rec)
			if err != nil {
				t.Fatal(err)
			}
			o := tb.ByteOrder()
			ptr := tb.PtrSize
			c := func(name string) uint64 {
				v, ok := tb.Const(name)
				if !ok {
					t.Fatalf("no %s in the table", name)
				}
				return v
			}

			// in_aliasreq: char[16], then three sockaddr_in of 16.
			if err := IfAddAddr(k, "shmif0", netip.MustParsePrefix("10.1.2.3/24")); err != nil {
				t.Fatal(err)
			}
			a := rec.ioctls[len(rec.ioctls)-1]
			if a.req != c("SIOCAIFADDR") || len(a.arg) != 64 {
				t.Fatalf("SIOCAIFADDR: request %#x, %d bytes", a.req, len(a.arg))
			}
			want := make([]byte, 64)
			copy(want, "shmif0")
			for i, ip := range [][4]byte{{10, 1, 2, 3}, {10, 1, 2, 255}, {255, 255, 255, 0}} {
				sin := want[16+16*i:]
				sin[0], sin[1] = 16, byte(c("AF_INET")) // sin_len, sin_family
				copy(sin[4:8], ip[:])
			}
			if string(a.arg) != string(want) {
				t.Errorf("in_aliasreq\n got % x\nwant % x", a.arg, want)
			}

			// in6_aliasreq: name, three sockaddr_in6 of 28, flags, then
			// the lifetimes, 8-aligned.
			if err := IfAddAddr(k, "shmif0", netip.MustParsePrefix("fd00::1/64")); err != nil {
				t.Fatal(err)
			}
			a = rec.ioctls[len(rec.ioctls)-1]
			if a.req != c("SIOCAIFADDR_IN6") || len(a.arg) != 128 {
				t.Fatalf("SIOCAIFADDR_IN6: request %#x, %d bytes", a.req, len(a.arg))
			}
			if a.arg[16] != 28 || a.arg[17] != byte(c("AF_INET6")) || a.arg[24] != 0xfd || a.arg[39] != 1 ||
				a.arg[16+2*28] != 28 || a.arg[16+2*28+8] != 0xff || a.arg[16+2*28+15] != 0xff || a.arg[16+2*28+16] != 0 {
				t.Errorf("in6_aliasreq addresses: % x", a.arg[:100])
			}
			if o.Uint32(a.arg[120:]) != 0xffffffff || o.Uint32(a.arg[124:]) != 0xffffffff {
				t.Errorf("in6_aliasreq lifetimes: % x", a.arg[104:])
			}

			// ifdrv: name, ifd_cmd (long), ifd_len (size_t), ifd_data.
			if err := IfSetLinkStr(k, "shmif0", "/tmp/bus"); err != nil {
				t.Fatal(err)
			}
			a = rec.ioctls[len(rec.ioctls)-1]
			if a.req != c("SIOCSLINKSTR") || len(a.arg) != 16+3*ptr {
				t.Fatalf("SIOCSLINKSTR: request %#x, %d bytes", a.req, len(a.arg))
			}
			if got := getInt(tb, a.arg[16+ptr:16+2*ptr]); got != uint64(len("/tmp/bus")+1) {
				t.Errorf("ifd_len %d", got)
			}
			if getInt(tb, a.arg[16+2*ptr:16+3*ptr]) == 0 {
				t.Error("ifd_data is NULL")
			}

			// rt_msghdr (120 bytes on every port), then the sockaddrs in
			// RTAX order, each padded to 8.
			if err := RouteAdd(k, netip.MustParsePrefix("10.9.0.0/16"), netip.MustParseAddr("10.1.2.254")); err != nil {
				t.Fatal(err)
			}
			m := rec.writes[len(rec.writes)-1]
			if len(m) != 120+3*16 || int(o.Uint16(m[0:])) != len(m) {
				t.Fatalf("RTM_ADD message of %d bytes: % x", len(m), m)
			}
			if m[2] != byte(c("RTM_VERSION")) || m[3] != byte(c("RTM_ADD")) {
				t.Errorf("rtm_version %d rtm_type %d", m[2], m[3])
			}
			if got, want := o.Uint32(m[8:]), c("RTF_UP")|c("RTF_GATEWAY")|c("RTF_STATIC"); uint64(got) != want {
				t.Errorf("rtm_flags %#x, want %#x", got, want)
			}
			if got, want := o.Uint32(m[12:]), c("RTA_DST")|c("RTA_GATEWAY")|c("RTA_NETMASK"); uint64(got) != want {
				t.Errorf("rtm_addrs %#x, want %#x", got, want)
			}
			for i, ip := range [][4]byte{{10, 9, 0, 0}, {10, 1, 2, 254}, {255, 255, 0, 0}} {
				sa := m[120+16*i:]
				if sa[0] != 16 || sa[1] != byte(c("AF_INET")) || [4]byte(sa[4:8]) != ip {
					t.Errorf("sockaddr %d: % x", i, sa[:16])
				}
			}
			// A host route: RTF_HOST, no netmask.
			RouteAdd(k, netip.MustParsePrefix("10.9.9.9/32"), netip.MustParseAddr("10.1.2.254"))
			m = rec.writes[len(rec.writes)-1]
			if len(m) != 120+2*16 || o.Uint32(m[8:])&uint32(c("RTF_HOST")) == 0 {
				t.Errorf("host route message: % x", m)
			}
			// IPv6: sockaddr_in6 of 28 padded to 32.
			RouteAdd(k, netip.MustParsePrefix("fd01::/48"), netip.MustParseAddr("fd00::fe"))
			m = rec.writes[len(rec.writes)-1]
			if len(m) != 120+3*32 || m[120] != 28 || m[152] != 28 || m[184] != 28 {
				t.Errorf("IPv6 route message of %d bytes: % x", len(m), m)
			}
			if rec.ioctls[0].req == 0 || binary.Size(m) == 0 {
				t.Error("nothing recorded")
			}
		})
	}
}

// TestNetBadInput covers the checks made before any call.
func TestNetBadInput(t *testing.T) {
	tb := netbsdTables(t)[0]
	rec := &recorder{t: tb}
	k, err := api.New(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "toolongname012345", "a b", "x/y", "n\x00"} {
		if err := IfCreate(k, name); !errors.Is(err, api.EINVAL) {
			t.Errorf("IfCreate(%q): %v", name, err)
		}
	}
	if err := IfAddAddr(k, "lo0", netip.Prefix{}); !errors.Is(err, api.EINVAL) {
		t.Errorf("invalid prefix: %v", err)
	}
	if err := IfSetLinkStr(k, "shmif0", ""); !errors.Is(err, api.EINVAL) {
		t.Errorf("empty link string: %v", err)
	}
	if err := IfSetFlags(k, "lo0", 1<<31); !errors.Is(err, api.EINVAL) {
		t.Errorf("unknown flags: %v", err)
	}
	if err := RouteAdd(k, netip.MustParsePrefix("10.0.0.0/8"), netip.Addr{}); !errors.Is(err, api.EINVAL) {
		t.Errorf("route without a gateway: %v", err)
	}
	if _, err := RouteGet(k, netip.Addr{}); !errors.Is(err, api.EINVAL) {
		t.Errorf("RouteGet of no address: %v", err)
	}
	if err := IfDelAddr(k, "lo0", netip.Addr{}); !errors.Is(err, api.EINVAL) {
		t.Errorf("IfDelAddr of no address: %v", err)
	}
	if len(rec.ioctls) != 0 || len(rec.writes) != 0 {
		t.Errorf("bad input reached the kernel: %d ioctls, %d writes", len(rec.ioctls), len(rec.writes))
	}
	if s := (IffUp | IffRunning | 1<<20).String(); s != "UP|RUNNING|0x100000" {
		t.Errorf("IfFlags.String = %q", s)
	}
	if s := (RtfUp | RtfGateway).String(); s != "UP|GATEWAY" {
		t.Errorf("RouteFlags.String = %q", s)
	}
}
