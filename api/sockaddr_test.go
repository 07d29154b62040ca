package api

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/abi"
	linux "github.com/anykernel/anykernel/abi/linux/amd64"
)

func TestParseSockaddr(t *testing.T) {
	long := "/" + strings.Repeat("x", 106) // 107 bytes: the longest path
	for _, c := range []struct {
		in   string
		want Sockaddr
		str  string // String(), when it differs from in
	}{
		{"127.0.0.1:80", SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 80}, ""},
		{"0.0.0.0:0", SockaddrInet4{}, ""},
		{"255.255.255.255:65535", SockaddrInet4{Addr: [4]byte{255, 255, 255, 255}, Port: 65535}, ""},
		{"[::1]:80", SockaddrInet6{Addr: [16]byte{15: 1}, Port: 80}, ""},
		{"[::]:0", SockaddrInet6{}, ""},
		{"[fe80::1%2]:8080", SockaddrInet6{Addr: [16]byte{0: 0xfe, 1: 0x80, 15: 1}, Port: 8080, ZoneID: 2}, ""},
		{"[::ffff:1.2.3.4]:9", SockaddrInet6{Addr: [16]byte{10: 0xff, 11: 0xff, 12: 1, 13: 2, 14: 3, 15: 4}, Port: 9}, ""},
		{"unix:/run/x.sock", SockaddrUnix{Name: "/run/x.sock"}, ""},
		{"/run/x.sock", SockaddrUnix{Name: "/run/x.sock"}, "unix:/run/x.sock"},
		{"unix:rel/x", SockaddrUnix{Name: "rel/x"}, ""},
		{"@abstract", SockaddrUnix{Name: "@abstract"}, ""},
		{"unix:@abstract", SockaddrUnix{Name: "@abstract"}, "@abstract"},
		{"unix:", SockaddrUnix{}, ""},
		{"unix:" + long, SockaddrUnix{Name: long}, ""},
	} {
		got, err := ParseSockaddr(c.in)
		if err != nil {
			t.Errorf("ParseSockaddr(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseSockaddr(%q) = %#v, want %#v", c.in, got, c.want)
		}
		want := c.str
		if want == "" {
			want = c.in
		}
		if s := got.String(); s != want {
			t.Errorf("ParseSockaddr(%q).String() = %q, want %q", c.in, s, want)
		}
		again, err := ParseSockaddr(got.String())
		if err != nil || again != got {
			t.Errorf("round trip of %q: %#v, %v", c.in, again, err)
		}
	}
}

func TestParseSockaddrErrors(t *testing.T) {
	for _, c := range []struct{ in, reason string }{
		{"", "empty"},
		{"127.0.0.1", "missing port"},
		{"127.0.0.1:", "missing port"},
		{"127.0.0.1:70000", "out of range"},
		{"127.0.0.1:99999999999999999999", "out of range"},
		{"127.0.0.1:http", "bad port"},
		{"127.0.0.1:-1", "bad port"},
		{"localhost:80", "bad host"},
		{"300.1.1.1:80", "bad host"},
		{":80", "missing host"},
		{"::1:80", "brackets"},
		{"[::1]", "missing port"},
		{"[::1]80", "after ']'"},
		{"[::1:80", "missing ']'"},
		{"[1.2.3.4]:80", "brackets are for IPv6"},
		{"[fe80::1%eth0]:80", "numeric interface index"},
		{"unix:/" + strings.Repeat("x", 107), "longer than"},
		{"@" + strings.Repeat("x", 108), "longer than"},
		{"unix:/a\x00b", "NUL"},
	} {
		sa, err := ParseSockaddr(c.in)
		if err == nil {
			t.Errorf("ParseSockaddr(%q) = %v, want an error", c.in, sa)
			continue
		}
		var se *SockaddrError
		if !errors.As(err, &se) || se.Input != c.in {
			t.Errorf("ParseSockaddr(%q): error %v does not name the input", c.in, err)
		}
		if !errors.Is(err, EINVAL) {
			t.Errorf("ParseSockaddr(%q): error %v is not EINVAL", c.in, err)
		}
		if !strings.Contains(err.Error(), c.reason) {
			t.Errorf("ParseSockaddr(%q): error %q does not say %q", c.in, err, c.reason)
		}
	}
}

func TestSockaddrAddrPort(t *testing.T) {
	v4 := SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 8080}
	if got := v4.AddrPort(); got != netip.MustParseAddrPort("127.0.0.1:8080") {
		t.Errorf("AddrPort = %v", got)
	}
	sa, err := SockaddrFromAddrPort(netip.MustParseAddrPort("[::1]:9"))
	if err != nil || sa != (SockaddrInet6{Addr: [16]byte{15: 1}, Port: 9}) {
		t.Errorf("SockaddrFromAddrPort = %v, %v", sa, err)
	}
	if _, err := SockaddrFromAddrPort(netip.AddrPort{}); err == nil {
		t.Errorf("SockaddrFromAddrPort of the zero AddrPort: no error")
	}
}

// tableOnly is a backend that only has a table: enough to test encoding.
type tableOnly struct{ t *abi.Table }

func (b tableOnly) Name() string    { return "table-only" }
func (b tableOnly) ABI() *abi.Table { return b.t }
func (b tableOnly) Syscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, uintptr) {
	return 0, 0, uintptr(ENOSYS)
}
func (b tableOnly) RawSyscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, uintptr) {
	return 0, 0, uintptr(ENOSYS)
}

func TestSockaddrRaw(t *testing.T) {
	k, err := New(tableOnly{linux.Table})
	if err != nil {
		t.Fatal(err)
	}
	var b sockaddrBuf
	// sockaddr_in for 127.0.0.1:80, as C lays it out on Linux amd64.
	n, err := k.encodeSockaddr("test", SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 80}, &b)
	if err != nil || n != 16 || string(b[:8]) != "\x02\x00\x00\x50\x7f\x00\x00\x01" {
		t.Errorf("inet4: n=%d err=%v bytes=% x", n, err, b[:16])
	}
	in6 := SockaddrInet6{Addr: [16]byte{15: 1}, Port: 0x1234, ZoneID: 5, Flowinfo: 0xabcde}
	n, err = k.encodeSockaddr("test", &in6, &b)
	if err != nil || n != 28 || b[0] != 10 || b[2] != 0x12 || b[3] != 0x34 ||
		string(b[4:8]) != "\x00\x0a\xbc\xde" || b[23] != 1 || b[24] != 5 {
		t.Errorf("inet6: n=%d err=%v bytes=% x", n, err, b[:28])
	}
	if got := k.decodeSockaddr(b[:], n); got != in6 {
		t.Errorf("inet6 decode = %#v", got)
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"", 2}, {"/a", 5}, {"@a", 4}, {"@", 3}} {
		n, err := k.encodeSockaddr("test", SockaddrUnix{Name: c.name}, &b)
		if err != nil || n != c.n || b[0] != 1 {
			t.Errorf("unix %q: n=%d err=%v", c.name, n, err)
		}
		if got := k.decodeSockaddr(b[:], n); got != (SockaddrUnix{Name: c.name}) {
			t.Errorf("unix %q decodes as %#v", c.name, got)
		}
	}
	if _, err := k.encodeSockaddr("bind", SockaddrUnix{Name: "/" + strings.Repeat("z", 107)}, &b); !errors.Is(err, EINVAL) ||
		!strings.Contains(err.Error(), "bind") {
		t.Errorf("long unix path: %v", err)
	}
	if _, err := k.encodeSockaddr("bind", nil, &b); !errors.Is(err, EINVAL) {
		t.Errorf("nil address: %v", err)
	}
	if _, err := k.encodeSockaddr("bind", (*SockaddrInet4)(nil), &b); !errors.Is(err, EINVAL) {
		t.Errorf("nil *SockaddrInet4: %v", err)
	}
	raw := SockaddrRaw{Fam: AF_NETLINK, Data: []byte{0, 0, 1, 0, 0, 0, 0, 0, 0, 0}}
	n, err = k.encodeSockaddr("test", raw, &b)
	if err != nil || n != 12 || b[0] != 16 {
		t.Errorf("raw: n=%d err=%v", n, err)
	}
	got, ok := k.decodeSockaddr(b[:], n).(SockaddrRaw)
	if !ok || got.Fam != AF_NETLINK || string(got.Data) != string(raw.Data) || got.String() != "AF_NETLINK:00000100000000000000" {
		t.Errorf("raw decode = %#v", got)
	}
	if k.decodeSockaddr(b[:], 0) != nil {
		t.Errorf("empty address decodes as non-nil")
	}
	// Encoding a value address allocates nothing.
	v4 := SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 80}
	if a := testing.AllocsPerRun(100, func() { k.encodeSockaddr("test", v4, &b) }); a != 0 {
		t.Errorf("encodeSockaddr allocates %v times", a)
	}
	// Control messages: CMSG_ALIGN is 8 on Linux amd64.
	if k.CmsgLen(4) != 20 || k.CmsgSpace(4) != 24 || k.CmsgSpace(12) != 32 {
		t.Errorf("CmsgLen(4)=%d CmsgSpace(4)=%d CmsgSpace(12)=%d", k.CmsgLen(4), k.CmsgSpace(4), k.CmsgSpace(12))
	}
	cb, err := k.AppendCredentials(nil, Ucred{Pid: 1, Uid: 2, Gid: 3})
	if err != nil {
		t.Fatal(err)
	}
	cb, err = k.AppendCmsg(cb, SOL_IP, int(IP_TTL), []byte{64, 0, 0, 0})
	if err != nil || len(cb) != 32+24 {
		t.Fatalf("AppendCmsg: len %d, %v", len(cb), err)
	}
	cms, err := k.ParseCmsgs(cb)
	if err != nil || len(cms) != 2 || cms[0].Level != SOL_SOCKET || cms[0].Type != int(SCM_CREDENTIALS) ||
		len(cms[0].Data) != 12 || cms[1].Level != SOL_IP || cms[1].Type != int(IP_TTL) || cms[1].Data[0] != 64 {
		t.Errorf("ParseCmsgs = %v, %v", cms, err)
	}
	if s := cms[1].String(); s != "SOL_IP/IP_TTL (4 bytes)" {
		t.Errorf("Cmsg.String = %q", s)
	}
	var ctl Control
	if err := k.parseControl(cb, &ctl); err != nil || ctl.Creds == nil || *ctl.Creds != (Ucred{1, 2, 3}) || len(ctl.Other) != 1 {
		t.Errorf("parseControl = %+v, %v", ctl, err)
	}
	// A truncated last message is dropped, a corrupt length is an error.
	if cms, err := k.ParseCmsgs(cb[:40]); err != nil || len(cms) != 1 {
		t.Errorf("truncated: %v, %v", cms, err)
	}
	bad := append([]byte(nil), cb...)
	bad[0] = 3
	if _, err := k.ParseCmsgs(bad); !errors.Is(err, EINVAL) {
		t.Errorf("corrupt cmsg_len: %v", err)
	}
}

func TestSockOptionNames(t *testing.T) {
	for _, c := range []struct {
		o    SockOption
		want string
	}{
		{SO_REUSEADDR, "SO_REUSEADDR"}, {TCP_NODELAY, "TCP_NODELAY"}, {IP_TTL, "IP_TTL"},
		{IPV6_V6ONLY, "IPV6_V6ONLY"}, {RawSockOpt{SOL_SOCKET, 42}, "SOL_SOCKET/42"},
	} {
		if s := c.o.String(); s != c.want {
			t.Errorf("%v.String() = %q", c.o, s)
		}
	}
	if SO_REUSEADDR.Level() != SOL_SOCKET || TCP_NODELAY.Level() != SOL_TCP || IP_TTL.Level() != SOL_IP || IPV6_V6ONLY.Level() != SOL_IPV6 {
		t.Errorf("levels")
	}
	if o, err := ParseSockOpt("reuseport"); err != nil || o != SO_REUSEPORT {
		t.Errorf("ParseSockOpt: %v %v", o, err)
	}
	if _, err := ParseSockLevel("nope"); err == nil {
		t.Errorf("ParseSockLevel(nope): no error")
	}
}

// bsdLike returns a copy of the Linux amd64 table changed the way a BSD
// ABI differs: big-endian here for good measure, sa_len bytes before the
// families, and another AF_INET6 number.
func bsdLike(t *testing.T) *abi.Table {
	t.Helper()
	tb := *linux.Table
	tb.BigEndian = true
	tb.Consts = append([]abi.Const(nil), tb.Consts...)
	for i := range tb.Consts {
		if tb.Consts[i].Name == "AF_INET6" {
			tb.Consts[i].Value = 24
		}
	}
	tb.Structs = append([]abi.Struct(nil), tb.Structs...)
	for i := range tb.Structs {
		s := &tb.Structs[i]
		names, ok := map[string][2]string{
			"sockaddr":     {"sa_len", "sa_family"},
			"sockaddr_in":  {"sin_len", "sin_family"},
			"sockaddr_in6": {"sin6_len", "sin6_family"},
			"sockaddr_un":  {"sun_len", "sun_family"},
		}[s.Name]
		if !ok {
			continue
		}
		lenField, famField := names[0], names[1]
		fields := []abi.Field{{Name: lenField, Offset: 0, Size: 1}}
		for _, f := range s.Fields {
			if f.Name == famField {
				f = abi.Field{Name: famField, Offset: 1, Size: 1}
			}
			fields = append(fields, f)
		}
		s.Fields = fields
	}
	return &tb
}

func TestSockaddrOtherABI(t *testing.T) {
	k, err := New(tableOnly{bsdLike(t)})
	if err != nil {
		t.Fatal(err)
	}
	var b sockaddrBuf
	in6 := SockaddrInet6{Addr: [16]byte{0: 0x20, 1: 0x01, 15: 9}, Port: 443, ZoneID: 0x01020304, Flowinfo: 7}
	n, err := k.encodeSockaddr("test", in6, &b)
	if err != nil || n != 28 || b[0] != 28 || b[1] != 24 || b[2] != 1 || b[3] != 0xbb ||
		string(b[4:8]) != "\x00\x00\x00\x07" || string(b[24:28]) != "\x01\x02\x03\x04" {
		t.Errorf("inet6: n=%d err=%v bytes=% x", n, err, b[:28])
	}
	if got := k.decodeSockaddr(b[:], n); got != in6 {
		t.Errorf("inet6 decode = %#v", got)
	}
	n, err = k.encodeSockaddr("test", SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 1}, &b)
	if err != nil || n != 16 || b[0] != 16 || b[1] != 2 || b[3] != 1 {
		t.Errorf("inet4: n=%d err=%v bytes=% x", n, err, b[:16])
	}
	n, err = k.encodeSockaddr("test", SockaddrUnix{Name: "/s"}, &b)
	if err != nil || n != 5 || b[0] != 5 || b[1] != 1 || string(b[2:5]) != "/s\x00" {
		t.Errorf("unix: n=%d err=%v bytes=% x", n, err, b[:8])
	}
	if got := k.decodeSockaddr(b[:], n); got != (SockaddrUnix{Name: "/s"}) {
		t.Errorf("unix decode = %#v", got)
	}
	// Big-endian control messages.
	cb, err := k.AppendCredentials(nil, Ucred{Pid: 0x0a0b0c0d, Uid: 2, Gid: 3})
	if err != nil || cb[7] != byte(k.CmsgLen(12)) || string(cb[16:20]) != "\x0a\x0b\x0c\x0d" {
		t.Errorf("big-endian cmsg: % x, %v", cb, err)
	}
	var ctl Control
	if err := k.parseControl(cb, &ctl); err != nil || ctl.Creds == nil || ctl.Creds.Pid != 0x0a0b0c0d {
		t.Errorf("big-endian parse: %+v %v", ctl, err)
	}
}
