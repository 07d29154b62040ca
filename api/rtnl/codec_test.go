package rtnl

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"strings"
	"testing"

	linux "github.com/anykernel/anykernel/abi/linux/amd64"
	"github.com/anykernel/anykernel/api"
)

func codec(t testing.TB) *Codec {
	t.Helper()
	c, err := NewCodec(linux.Table)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCodecRoundTrip(t *testing.T) {
	c := codec(t)
	if c.HeaderLen() != 16 {
		t.Fatalf("NLMSG_HDRLEN = %d", c.HeaderLen())
	}
	// Attributes of odd lengths are padded; nested ones keep their flag.
	inner := c.EncodeAttrs(nil, Attr{Type: 1, Data: []byte("abc")}, Attr{Type: 2, Data: []byte{7}})
	if len(inner) != 16 {
		t.Fatalf("two padded attributes take %d bytes, want 16", len(inner))
	}
	payload := c.EncodeAttrs(nil, Attr{Type: 3, Nested: true, Data: inner}, Attr{Type: 4, NetByteOrder: true, Data: []byte{0x12, 0x34}})
	b := c.EncodeMessage(Message{Type: c.n.RTM_NEWLINK, Flags: c.n.NLM_F_MULTI, Seq: 9, Pid: 77, Data: payload})
	b = append(b, c.EncodeMessage(Message{Type: c.n.NLMSG_DONE, Seq: 9, Data: []byte{0, 0, 0, 0}})...)
	ms, err := c.ParseMessages(b)
	if err != nil || len(ms) != 2 {
		t.Fatalf("ParseMessages: %d messages, %v", len(ms), err)
	}
	m := ms[0]
	if m.Type != c.n.RTM_NEWLINK || m.Flags != c.n.NLM_F_MULTI || m.Seq != 9 || m.Pid != 77 || !bytes.Equal(m.Data, payload) {
		t.Fatalf("message = %+v", m)
	}
	as, err := c.ParseAttrs(m.Data)
	if err != nil || len(as) != 2 {
		t.Fatalf("ParseAttrs: %v %v", as, err)
	}
	if as[0].Type != 3 || !as[0].Nested || as[1].Type != 4 || !as[1].NetByteOrder || as[1].Nested {
		t.Fatalf("attribute flags: %+v", as)
	}
	in, err := c.ParseAttrs(as[0].Data)
	if err != nil || len(in) != 2 || string(in[0].Data) != "abc" || !bytes.Equal(in[1].Data, []byte{7}) {
		t.Fatalf("nested: %+v %v", in, err)
	}
	if ms[1].Type != c.n.NLMSG_DONE {
		t.Fatalf("second message type %d", ms[1].Type)
	}
}

func TestCodecMalformed(t *testing.T) {
	c := codec(t)
	good := c.EncodeMessage(Message{Type: c.n.RTM_NEWLINK, Data: c.EncodeAttrs(nil, Attr{Type: 1, Data: []byte{1, 2, 3, 4}})})
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"short header", good[:10]},
		{"length too big", func() []byte { b := bytes.Clone(good); b[0] = 200; return b }()},
		{"length below the header", func() []byte { b := bytes.Clone(good); b[0] = 4; return b }()},
		{"length 0", func() []byte { b := bytes.Clone(good); b[0] = 0; return b }()},
	} {
		_, err := c.ParseMessages(tc.b)
		var me *MalformedError
		if !errors.As(err, &me) || !errors.Is(err, api.EBADMSG) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, b := range [][]byte{{1, 0}, {0, 0, 1, 0}, {9, 0, 1, 0, 1}, {3, 0, 1, 0}} {
		if _, err := c.ParseAttrs(b); !errors.Is(err, api.EBADMSG) {
			t.Errorf("attrs % x: %v", b, err)
		}
	}
	if _, err := c.DecodeLink([]byte{1, 2}); !errors.Is(err, api.EBADMSG) {
		t.Errorf("short ifinfomsg: %v", err)
	}
}

// extack builds an NLMSG_ERROR with the kernel's extended-ack TLVs.
func extack(c *Codec, code int32, msg string, capped bool) Message {
	em := make([]byte, c.l.errmsg.size)
	c.l.errmsg.err.put(em, c.bo, uint64(uint32(code)))
	req := c.EncodeMessage(Message{Type: c.n.RTM_NEWLINK, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}})
	copy(em[c.l.errmsg.msg.off:], req[:c.l.hdr.size])
	fl := c.n.NLM_F_ACK_TLVS
	if capped {
		fl |= c.n.NLM_F_CAPPED
	} else {
		em = append(em[:c.l.errmsg.msg.off], req...)
	}
	em = c.EncodeAttrs(em, Attr{Type: c.n.NLMSGERR_ATTR_MSG, Data: append([]byte(msg), 0)},
		Attr{Type: c.n.NLMSGERR_ATTR_OFFS, Data: []byte{20, 0, 0, 0}})
	return Message{Type: c.n.NLMSG_ERROR, Flags: fl, Data: em}
}

func TestExtack(t *testing.T) {
	c := codec(t)
	for _, capped := range []bool{true, false} {
		ack, err := c.parseError(extack(c, -int32(api.EEXIST), "It is there", capped), "link add x")
		var re *Error
		if ack || !errors.As(err, &re) || re.Errno != api.EEXIST || re.Message != "It is there" || re.Offset != 20 {
			t.Fatalf("capped=%v: %v %#v", capped, ack, err)
		}
		if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "link add x") || !strings.Contains(err.Error(), "It is there") {
			t.Errorf("error text or chain: %v", err)
		}
	}
	ack, err := c.parseError(extack(c, 0, "", true), "x")
	if !ack || err != nil {
		t.Errorf("ack: %v %v", ack, err)
	}
	if _, err := c.parseError(Message{Type: c.n.NLMSG_ERROR, Data: []byte{1}}, "x"); !errors.Is(err, api.EBADMSG) {
		t.Errorf("short error message: %v", err)
	}
}

// fakeIO answers requests from a script: each send queues the datagrams
// the next function returns.
type fakeIO struct {
	c       *Codec
	answer  func(req Message) [][]byte
	queue   [][]byte
	sent    int
	fromPid uint32
}

func (f *fakeIO) send(b []byte) error {
	ms, err := f.c.ParseMessages(b)
	if err != nil {
		return err
	}
	f.sent++
	f.queue = append(f.queue, f.answer(ms[0])...)
	return nil
}

func (f *fakeIO) recv(b []byte) (int, uint32, error) {
	if len(f.queue) == 0 {
		return 0, 0, api.EAGAIN
	}
	d := f.queue[0]
	f.queue = f.queue[1:]
	copy(b, d)
	return len(d), f.fromPid, nil // MSG_TRUNC: the datagram's full length
}

func fakeConn(t *testing.T, answer func(c *Codec, req Message) [][]byte) (*Conn, *fakeIO) {
	c := codec(t)
	f := &fakeIO{c: c}
	f.answer = func(req Message) [][]byte { return answer(c, req) }
	return &Conn{c: c, io: f, buf: make([]byte, recvBufSize)}, f
}

// linkMsg encodes one RTM_NEWLINK of a dump.
func linkMsg(c *Codec, seq uint32, flags uint16, index int, name string) []byte {
	m := c.newMsg(c.n.RTM_NEWLINK, flags)
	c.putIfinfo(m, index, 0, 0)
	m.str(c.n.IFLA_IFNAME, name)
	return m.finish(seq, 0)
}

func done(c *Codec, seq uint32, flags uint16) []byte {
	return c.EncodeMessage(Message{Type: c.n.NLMSG_DONE, Flags: flags, Seq: seq, Data: []byte{0, 0, 0, 0}})
}

func TestDumpInterrupted(t *testing.T) {
	tries := 0
	conn, f := fakeConn(t, func(c *Codec, req Message) [][]byte {
		tries++
		var intr uint16
		if tries < 3 {
			intr = c.n.NLM_F_DUMP_INTR
		}
		// A stale answer to an older request comes first, and is skipped.
		return [][]byte{
			linkMsg(c, req.Seq-1, c.n.NLM_F_MULTI, 9, "stale"),
			append(linkMsg(c, req.Seq, c.n.NLM_F_MULTI|intr, 1, "lo"), linkMsg(c, req.Seq, c.n.NLM_F_MULTI, 2, "v"+string(rune('0'+tries)))...),
			done(c, req.Seq, c.n.NLM_F_MULTI|intr),
		}
	})
	ls, err := conn.Links()
	if err != nil {
		t.Fatal(err)
	}
	if f.sent != 3 || len(ls) != 2 || ls[0].Name != "lo" || ls[1].Name != "v3" {
		t.Fatalf("after %d dumps: %d links %v", f.sent, len(ls), ls)
	}
	// A table that never settles: the retries are bounded.
	conn, f = fakeConn(t, func(c *Codec, req Message) [][]byte {
		return [][]byte{linkMsg(c, req.Seq, c.n.NLM_F_MULTI|c.n.NLM_F_DUMP_INTR, 1, "lo"), done(c, req.Seq, c.n.NLM_F_MULTI)}
	})
	_, err = conn.Links()
	if !errors.Is(err, ErrDumpInterrupted) || !errors.Is(err, api.EINTR) || f.sent != maxDumpRetries+1 {
		t.Fatalf("endless interruption: %v after %d dumps", err, f.sent)
	}
}

func TestRequestErrors(t *testing.T) {
	conn, _ := fakeConn(t, func(c *Codec, req Message) [][]byte {
		m := extack(c, -int32(api.EOPNOTSUPP), "Unknown device type", true)
		m.Seq = req.Seq
		return [][]byte{c.EncodeMessage(m)}
	})
	err := conn.AddLink(&LinkAttrs{Name: "d0", Info: &Dummy{}})
	var re *Error
	if !errors.As(err, &re) || re.Errno != api.EOPNOTSUPP || re.Message != "Unknown device type" {
		t.Fatalf("AddLink: %v", err)
	}
	// Messages from other ports (not the kernel) are ignored.
	conn, f := fakeConn(t, func(c *Codec, req Message) [][]byte {
		return [][]byte{c.EncodeMessage(extack(c, 0, "", true))}
	})
	f.fromPid = 1234
	if err := conn.DeleteLink(3); !errors.Is(err, api.EAGAIN) {
		t.Fatalf("answer from a user port was taken: %v", err)
	}
	// An answer bigger than the buffer is reported, not misparsed.
	conn, _ = fakeConn(t, func(c *Codec, req Message) [][]byte { return [][]byte{make([]byte, 10)} })
	conn.buf = make([]byte, 4)
	if err := conn.DeleteLink(3); !errors.Is(err, api.EMSGSIZE) {
		t.Fatalf("truncated answer: %v", err)
	}
}

func TestExecute(t *testing.T) {
	var flags uint16
	conn, _ := fakeConn(t, func(c *Codec, req Message) [][]byte {
		flags = req.Flags
		return [][]byte{linkMsg(c, req.Seq, c.n.NLM_F_MULTI, 1, "lo"), linkMsg(c, req.Seq, c.n.NLM_F_MULTI, 2, "eth0"), done(c, req.Seq, c.n.NLM_F_MULTI)}
	})
	c := conn.c
	ifi := make([]byte, c.l.ifi.size)
	ms, err := conn.Execute(Message{Type: c.n.RTM_GETLINK, Flags: c.n.NLM_F_ROOT | c.n.NLM_F_MATCH, Data: ifi})
	if err != nil || len(ms) != 2 || flags&c.n.NLM_F_REQUEST == 0 || flags&c.n.NLM_F_ACK != 0 {
		t.Fatalf("dump: %d messages, flags %#x, %v", len(ms), flags, err)
	}
	if l, err := c.DecodeLink(ms[1].Data); err != nil || l.Name != "eth0" {
		t.Fatalf("second message: %+v %v", l, err)
	}
	conn, _ = fakeConn(t, func(c *Codec, req Message) [][]byte {
		flags = req.Flags
		ack := extack(c, 0, "", true)
		ack.Seq = req.Seq
		return [][]byte{append(linkMsg(c, req.Seq, 0, 1, "lo"), c.EncodeMessage(ack)...)}
	})
	ms, err = conn.Execute(Message{Type: c.n.RTM_GETLINK, Data: ifi})
	if err != nil || len(ms) != 1 || flags&c.n.NLM_F_ACK == 0 {
		t.Fatalf("request: %d messages, flags %#x, %v", len(ms), flags, err)
	}
}

func TestRequestEncoding(t *testing.T) {
	var got Message
	conn, _ := fakeConn(t, func(c *Codec, req Message) [][]byte {
		got = req
		got.Data = bytes.Clone(req.Data)
		ack := extack(c, 0, "", true)
		ack.Seq = req.Seq
		return [][]byte{c.EncodeMessage(ack)}
	})
	c := conn.c
	if err := conn.AddRoute(&Route{Dst: netip.MustParsePrefix("10.9.0.0/16"), Gateway: netip.MustParseAddr("10.1.2.1"), Table: 1000,
		Metrics: map[Metric]uint32{MetricMTU: 1400}, Multipath: nil}); err != nil {
		t.Fatal(err)
	}
	if got.Type != c.n.RTM_NEWROUTE || got.Flags&(c.n.NLM_F_REQUEST|c.n.NLM_F_ACK|c.n.NLM_F_CREATE|c.n.NLM_F_EXCL) != c.n.NLM_F_REQUEST|c.n.NLM_F_ACK|c.n.NLM_F_CREATE|c.n.NLM_F_EXCL {
		t.Fatalf("header %+v", got)
	}
	r, err := c.DecodeRoute(got.Data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Dst.String() != "10.9.0.0/16" || r.Gateway.String() != "10.1.2.1" || r.Table != 1000 || r.Protocol != ProtoBoot ||
		r.Type != TypeUnicast || r.Scope != ScopeUniverse || r.Metrics[MetricMTU] != 1400 {
		t.Fatalf("request decodes as %+v", r)
	}
	if err := conn.AddLink(&LinkAttrs{Name: "v0", MTU: 1400, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1},
		Info: &Veth{PeerName: "v1"}}); err != nil {
		t.Fatal(err)
	}
	l, err := c.DecodeLink(got.Data)
	if err != nil || l.Name != "v0" || l.MTU != 1400 || l.Kind != "veth" || l.HardwareAddr.String() != "02:00:00:00:00:01" {
		t.Fatalf("link request decodes as %+v, %v", l, err)
	}
}

func TestFamilies(t *testing.T) {
	if s := (FlagUp | FlagLowerUp | 1<<30).String(); s != "UP,LOWER_UP,0x40000000" {
		t.Errorf("LinkFlags.String = %q", s)
	}
	if s := ScopeLink.String(); s != "link" {
		t.Errorf("Scope = %q", s)
	}
	if s := Scope(42).String(); s != "42" {
		t.Errorf("unnamed scope = %q", s)
	}
	if v, err := ParseScope("HOST"); err != nil || v != ScopeHost {
		t.Errorf("ParseScope = %v %v", v, err)
	}
	if v, err := ParseTable("1000"); err != nil || v != 1000 {
		t.Errorf("ParseTable number = %v %v", v, err)
	}
	if _, err := ParseScope("nonsense"); !errors.Is(err, api.EINVAL) {
		t.Errorf("bad scope: %v", err)
	}
	if _, err := ParseScope("300"); err == nil {
		t.Errorf("scope 300 fits no uint8")
	}
	if v, err := ParseLinkFlags("up,~up,broadcast"); err != nil || v != FlagBroadcast {
		t.Errorf("ParseLinkFlags = %v %v", v, err)
	}
	if err := checkFamilies(linux.Table); err != nil {
		t.Error(err)
	}
}

func TestCheckName(t *testing.T) {
	c := codec(t)
	for _, bad := range []string{"", ".", "..", "a/b", "a b", "a:b", "a\x00", strings.Repeat("x", 16)} {
		if err := c.checkName("t", bad); !errors.Is(err, api.EINVAL) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for _, good := range []string{"eth0", strings.Repeat("x", 15), "v-1.2_3"} {
		if err := c.checkName("t", good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}

// FuzzParse feeds arbitrary bytes to the message parser and to every
// decoder: no panic, no endless loop, no allocation out of proportion.
func FuzzParse(f *testing.F) {
	c := codec(f)
	f.Add(linkMsg(c, 1, 0, 1, "lo"))
	f.Add(c.EncodeMessage(extack(c, -17, "x", false)))
	f.Add(done(c, 1, 0))
	f.Add([]byte{})
	f.Add([]byte{4, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := c.ParseMessages(b)
		if err == nil && len(ms) > len(b)/c.HeaderLen()+1 {
			t.Fatalf("%d messages from %d bytes", len(ms), len(b))
		}
		for _, m := range ms {
			c.parseError(m, "fuzz")
			c.DecodeEvent(m)
			c.DecodeLink(m.Data)
			c.DecodeAddr(m.Data)
			c.DecodeRoute(m.Data)
			c.DecodeNeigh(m.Data)
			c.DecodeRule(m.Data)
		}
		// The payload on its own, as every kind of message.
		as, err := c.ParseAttrs(b)
		if err == nil && len(as) > len(b)/4+1 {
			t.Fatalf("%d attributes from %d bytes", len(as), len(b))
		}
		c.DecodeLink(b)
		c.DecodeAddr(b)
		c.DecodeRoute(b)
		c.DecodeNeigh(b)
		c.DecodeRule(b)
		c.decodeNexthops(api.AF_INET, b)
	})
}
