package rtnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/api"
)

// Codec encodes and decodes rtnetlink messages for one ABI: every number and
// struct layout comes from its table. It does no I/O; a Conn has one, and
// tests and tools can use one on captured bytes. A Codec is immutable and
// safe for concurrent use.
type Codec struct {
	t   *abi.Table
	bo  binary.ByteOrder
	n   wire
	l   layouts
	msg int // NLMSG_ALIGNTO
	nla int // NLA_ALIGNTO

	errnos map[uint64]api.Errno // the ABI's errno numbers to api's
}

var codecs sync.Map // *abi.Table -> *Codec

// NewCodec returns the Codec of table t (cached: one per table). It fails,
// naming what is missing, if t lacks rtnetlink's constants or structs or
// numbers them unlike Linux.
func NewCodec(t *abi.Table) (*Codec, error) {
	if t == nil {
		return nil, errors.New("rtnl: nil ABI table")
	}
	if c, ok := codecs.Load(t); ok {
		return c.(*Codec), nil
	}
	c := &Codec{t: t, bo: t.ByteOrder()}
	if err := fillWire(t, &c.n); err != nil {
		return nil, err
	}
	if err := checkFamilies(t); err != nil {
		return nil, err
	}
	if err := c.l.init(t); err != nil {
		return nil, err
	}
	hdr, _ := t.Struct("nlmsghdr")
	c.msg, c.nla = int(c.n.NLMSG_ALIGNTO), int(c.n.NLA_ALIGNTO)
	if c.n.NLMSG_ALIGNTO == ^uint32(0) {
		c.msg = hdr.Align
	}
	if c.n.NLA_ALIGNTO == ^uint32(0) {
		c.nla = hdr.Align
	}
	if c.msg <= 0 || c.msg&(c.msg-1) != 0 || c.nla <= 0 || c.nla&(c.nla-1) != 0 {
		return nil, fmt.Errorf("rtnl: netlink alignment %d/%d of the %s/%s table is not a power of two", c.msg, c.nla, t.OS, t.Arch)
	}
	c.errnos = make(map[uint64]api.Errno, len(t.Errnos))
	byName := apiErrnos()
	for _, e := range t.Errnos {
		if n, ok := byName[e.Name]; ok {
			c.errnos[uint64(e.Nr)] = n
		}
	}
	v, _ := codecs.LoadOrStore(t, c)
	return v.(*Codec), nil
}

var (
	apiErrnoOnce   sync.Once
	apiErrnoByName map[string]api.Errno
)

// apiErrnos maps errno names to api's numbers (api numbers errors as Linux
// does, below 4096).
func apiErrnos() map[string]api.Errno {
	apiErrnoOnce.Do(func() {
		apiErrnoByName = map[string]api.Errno{}
		for e := api.Errno(1); e < 4096; e++ {
			if n := e.Name(); n[0] == 'E' {
				apiErrnoByName[n] = e
			}
		}
	})
	return apiErrnoByName
}

// errno converts the (positive) ABI errno of an NLMSG_ERROR to api's.
func (c *Codec) errno(n uint64) api.Errno {
	if e, ok := c.errnos[n]; ok {
		return e
	}
	return api.Errno(n)
}

func alignTo(n, a int) int { return (n + a - 1) &^ (a - 1) }

// HeaderLen is the length of a netlink message header (NLMSG_HDRLEN).
func (c *Codec) HeaderLen() int { return alignTo(c.l.hdr.size, c.msg) }

// Message is one netlink message. Data is the payload after the header; when
// parsed, it aliases the buffer it came from.
type Message struct {
	Type  uint16
	Flags uint16
	Seq   uint32
	Pid   uint32
	Data  []byte
}

// Attr is one netlink attribute (struct nlattr and its payload).
type Attr struct {
	Type         uint16 // without the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits
	Nested       bool   // NLA_F_NESTED: Data holds attributes
	NetByteOrder bool   // NLA_F_NET_BYTEORDER
	Data         []byte
}

// MalformedError reports bytes that are not well-formed netlink; it
// unwraps to api.EBADMSG.
type MalformedError struct {
	What   string // "message", "attribute", "ifinfomsg"...
	Offset int    // where in the buffer
	Reason string
}

func (e *MalformedError) Error() string {
	return "rtnl: malformed " + e.What + " at byte " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Unwrap makes errors.Is(err, api.EBADMSG) hold.
func (e *MalformedError) Unwrap() error { return api.EBADMSG }

// ParseMessages splits a datagram into its messages. Data slices alias b.
func (c *Codec) ParseMessages(b []byte) ([]Message, error) {
	var out []Message
	err := c.eachMessage(b, func(m Message) bool {
		out = append(out, m)
		return true
	})
	return out, err
}

// eachMessage calls fn for each message of b until fn returns false.
func (c *Codec) eachMessage(b []byte, fn func(Message) bool) error {
	h := &c.l.hdr
	hl := c.HeaderLen()
	off := 0
	for off < len(b) {
		rest := b[off:]
		if len(rest) < h.size {
			return &MalformedError{"message", off, strconv.Itoa(len(rest)) + " bytes left, less than a header"}
		}
		l := int(h.len.get(rest, c.bo))
		if l < hl || l > len(rest) {
			return &MalformedError{"message", off, "length " + strconv.Itoa(l) + " outside " + strconv.Itoa(hl) + ".." + strconv.Itoa(len(rest))}
		}
		m := Message{
			Type:  uint16(h.typ.get(rest, c.bo)),
			Flags: uint16(h.flags.get(rest, c.bo)),
			Seq:   uint32(h.seq.get(rest, c.bo)),
			Pid:   uint32(h.pid.get(rest, c.bo)),
			Data:  rest[hl:l:l],
		}
		if !fn(m) {
			return nil
		}
		off += min(alignTo(l, c.msg), len(rest))
	}
	return nil
}

// ParseAttrs splits an attribute stream. Data slices alias b.
func (c *Codec) ParseAttrs(b []byte) ([]Attr, error) {
	var out []Attr
	err := c.eachAttr(b, func(a Attr) {
		out = append(out, a)
	})
	return out, err
}

// eachAttr calls fn for each attribute of b.
func (c *Codec) eachAttr(b []byte, fn func(Attr)) error {
	a := &c.l.attr
	hl := alignTo(a.size, c.nla)
	flagBits := c.n.NLA_F_NESTED | c.n.NLA_F_NET_BYTEORDER
	off := 0
	for off < len(b) {
		rest := b[off:]
		if len(rest) < a.size {
			return &MalformedError{"attribute", off, strconv.Itoa(len(rest)) + " bytes left, less than an attribute header"}
		}
		l := int(a.len.get(rest, c.bo))
		if l < a.size || l > len(rest) {
			return &MalformedError{"attribute", off, "length " + strconv.Itoa(l) + " outside " + strconv.Itoa(a.size) + ".." + strconv.Itoa(len(rest))}
		}
		t := uint16(a.typ.get(rest, c.bo))
		start := min(hl, l)
		fn(Attr{
			Type:         t &^ flagBits,
			Nested:       t&c.n.NLA_F_NESTED != 0,
			NetByteOrder: t&c.n.NLA_F_NET_BYTEORDER != 0,
			Data:         rest[start:l:l],
		})
		off += min(alignTo(l, c.nla), len(rest))
	}
	return nil
}

// attrMap indexes a stream's attributes by type (the last one of a type
// wins, as in the kernel's nla_parse).
type attrMap map[uint16][]byte

func (c *Codec) attrs(b []byte) (attrMap, error) {
	m := attrMap{}
	err := c.eachAttr(b, func(a Attr) { m[a.Type] = a.Data })
	return m, err
}

// u8/u16/u32 read native-order integers; a short payload reads as 0, as a
// missing attribute does.
func (c *Codec) u8(b []byte) uint8 {
	if len(b) < 1 {
		return 0
	}
	return b[0]
}

func (c *Codec) u16(b []byte) uint16 {
	if len(b) < 2 {
		return 0
	}
	return c.bo.Uint16(b)
}

func (c *Codec) u32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return c.bo.Uint32(b)
}

// str reads a NUL-terminated (or unterminated) string attribute.
func str(b []byte) string {
	for i, x := range b {
		if x == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// builder assembles one request message.
type builder struct {
	c *Codec
	b []byte
}

// newMsg starts a message of type typ with flags; the header is completed
// by finish.
func (c *Codec) newMsg(typ, flags uint16) *builder {
	m := &builder{c: c, b: make([]byte, c.HeaderLen(), 256)}
	h := &c.l.hdr
	h.typ.put(m.b, c.bo, uint64(typ))
	h.flags.put(m.b, c.bo, uint64(flags))
	return m
}

// fixed appends a zeroed struct of n bytes (aligned) and returns it to be
// filled in before the next append.
func (m *builder) fixed(n int) []byte {
	start := len(m.b)
	m.b = append(m.b, make([]byte, alignTo(n, m.c.msg))...)
	return m.b[start : start+n]
}

// attr appends one attribute.
func (m *builder) attr(t uint16, data []byte) {
	a := &m.c.l.attr
	hl := alignTo(a.size, m.c.nla)
	start := len(m.b)
	m.b = append(m.b, make([]byte, hl)...)
	m.b = append(m.b, data...)
	a.len.put(m.b[start:], m.c.bo, uint64(hl+len(data)))
	a.typ.put(m.b[start:], m.c.bo, uint64(t))
	m.pad()
}

func (m *builder) pad() {
	if n := alignTo(len(m.b), m.c.nla) - len(m.b); n > 0 {
		m.b = append(m.b, make([]byte, n)...)
	}
}

func (m *builder) u8(t uint16, v uint8) { m.attr(t, []byte{v}) }

func (m *builder) u16(t uint16, v uint16) {
	var x [2]byte
	m.c.bo.PutUint16(x[:], v)
	m.attr(t, x[:])
}

func (m *builder) u32(t uint16, v uint32) {
	var x [4]byte
	m.c.bo.PutUint32(x[:], v)
	m.attr(t, x[:])
}

// be16 appends a network-order 16-bit attribute (ports).
func (m *builder) be16(t uint16, v uint16) { m.attr(t, []byte{byte(v >> 8), byte(v)}) }

// str appends a NUL-terminated string.
func (m *builder) str(t uint16, s string) { m.attr(t, append([]byte(s), 0)) }

// nest opens a nested attribute; end closes it.
func (m *builder) nest(t uint16) int {
	start := len(m.b)
	m.attr(t|m.c.n.NLA_F_NESTED, nil)
	return start
}

// open starts an attribute whose payload follows (not flagged nested:
// RTA_MULTIPATH, whose payload is rtnexthop records).
func (m *builder) open(t uint16) int {
	start := len(m.b)
	m.attr(t, nil)
	return start
}

func (m *builder) end(start int) {
	m.pad()
	m.c.l.attr.len.put(m.b[start:], m.c.bo, uint64(len(m.b)-start))
}

// finish sets the length, sequence number and port id and returns the
// message.
func (m *builder) finish(seq, pid uint32) []byte {
	h := &m.c.l.hdr
	h.len.put(m.b, m.c.bo, uint64(len(m.b)))
	h.seq.put(m.b, m.c.bo, uint64(seq))
	h.pid.put(m.b, m.c.bo, uint64(pid))
	return m.b
}

// EncodeMessage builds a message from m's type, flags, sequence number,
// port id and payload (aligned), for callers that speak rtnetlink
// messages rtnl does not wrap.
func (c *Codec) EncodeMessage(m Message) []byte {
	b := c.newMsg(m.Type, m.Flags)
	b.b = append(b.b, m.Data...)
	if n := alignTo(len(b.b), c.msg) - len(b.b); n > 0 {
		b.b = append(b.b, make([]byte, n)...)
	}
	return b.finish(m.Seq, m.Pid)
}

// EncodeAttrs appends attributes to b, each padded to the alignment; a
// Nested attribute's Data must already be an attribute stream.
func (c *Codec) EncodeAttrs(b []byte, attrs ...Attr) []byte {
	m := &builder{c: c, b: b}
	for _, a := range attrs {
		t := a.Type
		if a.Nested {
			t |= c.n.NLA_F_NESTED
		}
		if a.NetByteOrder {
			t |= c.n.NLA_F_NET_BYTEORDER
		}
		m.attr(t, a.Data)
	}
	return m.b
}

// Error is the kernel's answer to a request that failed: the errno and,
// when the kernel gave one (extended acks), its message and the offset of
// the attribute it blamed. It unwraps to the Errno.
type Error struct {
	Op      string // what rtnl was doing: "link add", "route del", ...
	Errno   api.Errno
	Message string // the kernel's extended-ack message, "" without one
	Offset  int    // byte offset of the bad attribute in the request; -1 if none
}

func (e *Error) Error() string {
	s := "rtnl: " + e.Op + ": " + e.Errno.Error()
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the Errno, so errors.Is(err, api.EEXIST) and
// errors.Is(err, fs.ErrExist) hold.
func (e *Error) Unwrap() error { return e.Errno }

// parseError decodes an NLMSG_ERROR (or the error of an NLMSG_DONE):
// code 0 with ok true is an acknowledgement.
func (c *Codec) parseError(m Message, op string) (ack bool, err error) {
	em := &c.l.errmsg
	if len(m.Data) < 4 {
		return false, &MalformedError{"error message", 0, "shorter than its error code"}
	}
	code := int32(c.u32(m.Data[em.err.off:]))
	if code == 0 {
		return true, nil
	}
	e := &Error{Op: op, Errno: c.errno(uint64(-int64(code))), Offset: -1}
	if code > 0 {
		e.Errno = c.errno(uint64(code))
	}
	if m.Type != c.n.NLMSG_ERROR || c.n.NLM_F_ACK_TLVS == 0xffff || m.Flags&c.n.NLM_F_ACK_TLVS == 0 {
		return false, e
	}
	// The TLVs follow nlmsgerr; without NLM_F_CAPPED the request's payload
	// is echoed in between.
	off := em.size
	if m.Flags&c.n.NLM_F_CAPPED == 0 || c.n.NLM_F_CAPPED == 0xffff {
		if len(m.Data) >= em.msg.off+c.l.hdr.size {
			off = em.msg.off + alignTo(int(c.l.hdr.len.get(m.Data[em.msg.off:], c.bo)), c.msg)
		}
	}
	if off <= len(m.Data) {
		_ = c.eachAttr(m.Data[off:], func(a Attr) {
			switch a.Type {
			case c.n.NLMSGERR_ATTR_MSG:
				e.Message = str(a.Data)
			case c.n.NLMSGERR_ATTR_OFFS:
				if len(a.Data) >= 4 {
					e.Offset = int(c.u32(a.Data))
				}
			}
		})
	}
	return false, e
}
