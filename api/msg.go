package api

import (
	"errors"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"github.com/anykernel/anykernel/abi"
)

// sendmsg, recvmsg, sendmmsg, recvmmsg and control messages.
//
// Memory: struct msghdr points to other memory (iovecs, the name, the
// control data, the caller's buffers), and those addresses sit inside a raw
// byte array where the runtime cannot see them. A goroutine stack can move
// while such an address is stored there, so nothing a msghdr points to may
// live on a stack: api's own structs go into pooled heap scratch, and the
// caller's buffers are made to escape to the heap by msgSink below (the
// compiler then allocates them there, as it does for Go's syscall package).

var (
	sysSendmsg  = newCall("sendmsg")
	sysRecvmsg  = newCall("recvmsg")
	sysSendmmsg = newCall("sendmmsg")
	sysRecvmmsg = newCall("recvmmsg")
)

// msgSink is never written (on is always false), but the compiler cannot
// know that: assigning a parameter to it makes the memory the parameter
// points to escape to the heap, where it does not move.
var msgSink struct {
	on   bool
	iov  [][]byte
	b    []byte
	mmsg []Mmsg
}

// msgLayouts are the ABI's msghdr, mmsghdr, iovec, cmsghdr and ucred.
type msgLayouts struct {
	ok  bool // false when the ABI's pointers are not this process's size
	be  bool
	hdr struct {
		size                                                   int
		name, namelen, iov, iovlen, control, controllen, flags fieldAt
	}
	mmsg struct {
		size int
		len  fieldAt // msg_len; msg_hdr is at offset 0 (checked at init)
	}
	iov struct {
		size      int
		base, len fieldAt
	}
	cmsg struct {
		size            int
		len, level, typ fieldAt
	}
	ucred struct {
		size          int
		pid, uid, gid fieldAt
	}
	align int // CMSG_ALIGN's unit: the ABI's pointer size

	solSocket, scmRights, scmCreds uint64
}

func (m *msgLayouts) init(k *Kernel) error {
	m.be = k.table.BigEndian
	m.align = cmsgAlignUnit(k.table)
	h, err := k.layoutOf("msghdr")
	if err != nil {
		return err
	}
	m.hdr.size = h.size
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{
		{&m.hdr.name, "msg_name"}, {&m.hdr.namelen, "msg_namelen"}, {&m.hdr.iov, "msg_iov"},
		{&m.hdr.iovlen, "msg_iovlen"}, {&m.hdr.control, "msg_control"},
		{&m.hdr.controllen, "msg_controllen"}, {&m.hdr.flags, "msg_flags"},
	} {
		if *x.p, err = h.must(x.name); err != nil {
			return err
		}
	}
	mm := k.optLayout("mmsghdr") // NetBSD has it; an ABI without it answers ENOSYS
	if mm.s != nil {
		m.mmsg.size = mm.size
		m.mmsg.len = mm.field("msg_len")
		if f := mm.field("msg_hdr"); f.off != 0 || !m.mmsg.len.ok() {
			m.mmsg.size = 0
		}
	}
	iov, err := k.layoutOf("iovec")
	if err != nil {
		return err
	}
	m.iov.size = iov.size
	if m.iov.base, err = iov.must("iov_base"); err != nil {
		return err
	}
	if m.iov.len, err = iov.must("iov_len"); err != nil {
		return err
	}
	c, err := k.layoutOf("cmsghdr")
	if err != nil {
		return err
	}
	m.cmsg.size = c.size
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{{&m.cmsg.len, "cmsg_len"}, {&m.cmsg.level, "cmsg_level"}, {&m.cmsg.typ, "cmsg_type"}} {
		if *x.p, err = c.must(x.name); err != nil {
			return err
		}
	}
	// struct ucred is Linux's; elsewhere credentials answer ENOTSUP.
	u := k.optLayout("ucred")
	m.ucred.size = u.size
	m.ucred.pid, m.ucred.uid, m.ucred.gid = u.field("pid"), u.field("uid"), u.field("gid")
	var ok bool
	if m.solSocket, ok = k.table.Const("SOL_SOCKET"); !ok {
		return errMissing("SOL_SOCKET")
	}
	if m.scmRights, ok = k.table.Const("SCM_RIGHTS"); !ok {
		return errMissing("SCM_RIGHTS")
	}
	if m.scmCreds, ok = k.table.Const("SCM_CREDENTIALS"); !ok || m.ucred.size == 0 {
		m.scmCreds = ^uint64(0) // Linux only: credentials answer ENOTSUP elsewhere
	}
	ptr := uint16(unsafe.Sizeof(uintptr(0)))
	m.ok = m.align > 0 && m.align&(m.align-1) == 0 &&
		m.hdr.name.size == ptr && m.hdr.iov.size == ptr && m.hdr.control.size == ptr && m.iov.base.size == ptr
	return nil
}

// cmsgAlignUnit is the unit CMSG_ALIGN rounds to: the pointer size, with
// the exceptions golang.org/x/sys/unix also makes (the tables do not record
// it yet).
func cmsgAlignUnit(t *abi.Table) int {
	switch {
	case t.OS == "darwin" && t.PtrSize == 8:
		return 4 // 64-bit Darwin kernels still align to 32 bits
	case (t.OS == "netbsd" || t.OS == "openbsd") && t.Arch == "arm":
		return 8
	case t.OS == "netbsd" && t.Arch == "arm64":
		return 16
	}
	return t.PtrSize
}

// cmsgAlign is CMSG_ALIGN.
func (m *msgLayouts) cmsgAlign(n int) int { return (n + m.align - 1) &^ (m.align - 1) }

// CmsgLen is CMSG_LEN: the cmsg_len of a control message with n bytes of
// data, in the kernel's ABI.
func (k *Kernel) CmsgLen(n int) int { m := &k.socks.msg; return m.cmsgAlign(m.cmsg.size) + n }

// CmsgSpace is CMSG_SPACE: the bytes a control message with n bytes of data
// takes in a buffer, padding included. Size Recvmsg's oob buffer with it.
func (k *Kernel) CmsgSpace(n int) int {
	m := &k.socks.msg
	return m.cmsgAlign(m.cmsg.size) + m.cmsgAlign(n)
}

// Ucred is a process's credentials as sockets carry them (struct ucred):
// SCM_CREDENTIALS messages and the SO_PEERCRED option.
type Ucred struct {
	Pid int32
	Uid uint32
	Gid uint32
}

// Cmsg is one control message in neutral form. Type is a CmsgType at level
// SOL_SOCKET, an IPOpt at SOL_IP, an IPv6Opt at SOL_IPV6, a TCPOpt at
// SOL_TCP, and the ABI's own number at other levels. Data is in the ABI's
// layout.
type Cmsg struct {
	Level SockLevel
	Type  int
	Data  []byte
}

// Control is the typed ancillary data of one message. Sendmsg encodes it;
// Recvmsg decodes what arrives into it.
type Control struct {
	// Rights are descriptors passed along (SCM_RIGHTS). On receipt they are
	// new descriptors the caller owns.
	Rights []*Fd
	// Creds are credentials (SCM_CREDENTIALS, Linux). To send them, they
	// must be the sender's own unless it is privileged; on receipt they need
	// SO_PASSCRED on the receiving socket.
	Creds *Ucred
	// Other holds every other message.
	Other []Cmsg
}

// cmsgTypeFamily returns the family of a level's message types, nil when
// the level has none api names.
func cmsgTypeFam(level SockLevel) *family {
	switch level {
	case SOL_SOCKET:
		return cmsgTypeFamily
	case SOL_IP:
		return ipOptFamily
	case SOL_IPV6:
		return iPv6OptFamily
	case SOL_TCP:
		return tcpOptFamily
	}
	return nil
}

func (k *Kernel) cmsgToABI(level SockLevel, typ int) (uint64, uint64, error) {
	l, err := k.levelToABI(level)
	if err != nil {
		return 0, 0, err
	}
	t := uint64(typ)
	if f := cmsgTypeFam(level); f != nil {
		if t, err = k.enumToABI(f, t); err != nil {
			return 0, 0, err
		}
	}
	return l, t, nil
}

// AppendCmsg appends one control message to b in the kernel's layout
// (header, data, padding to CMSG_ALIGN), for Mmsg.Control or any raw use.
func (k *Kernel) AppendCmsg(b []byte, level SockLevel, typ int, data []byte) ([]byte, error) {
	l, t, err := k.cmsgToABI(level, typ)
	if err != nil {
		return b, sockErr("sendmsg", err)
	}
	return k.socks.msg.appendCmsg(b, l, t, len(data), data), nil
}

// appendCmsg writes a header for n bytes of data; data, if not nil, is
// copied, else the caller fills the n bytes returned at the end.
func (m *msgLayouts) appendCmsg(b []byte, level, typ uint64, n int, data []byte) []byte {
	hl := m.cmsgAlign(m.cmsg.size)
	space := hl + m.cmsgAlign(n)
	start := len(b)
	b = append(b, make([]byte, space)...)
	c := b[start:]
	m.cmsg.len.put(c, m.be, uint64(hl+n))
	m.cmsg.level.put(c, m.be, level)
	m.cmsg.typ.put(c, m.be, typ)
	copy(c[hl:], data)
	return b
}

// AppendRights appends an SCM_RIGHTS message passing fds. The numbers are
// read now: keep the descriptors open until the message is sent (Sendmsg
// with Control.Rights does that by itself).
func (k *Kernel) AppendRights(b []byte, fds ...*Fd) ([]byte, error) {
	m := &k.socks.msg
	start := len(b)
	b = m.appendCmsg(b, m.solSocket, m.scmRights, 4*len(fds), nil)
	data := b[start+m.cmsgAlign(m.cmsg.size):]
	for i, fd := range fds {
		if fd == nil || fd.k != k || fd.Num() < 0 {
			return b[:start], callErr("sendmsg", EBADF)
		}
		putInt32(data[4*i:], m.be, int32(fd.num))
	}
	return b, nil
}

// AppendCredentials appends an SCM_CREDENTIALS message (Linux).
func (k *Kernel) AppendCredentials(b []byte, c Ucred) ([]byte, error) {
	m := &k.socks.msg
	if m.scmCreds == ^uint64(0) {
		return b, callErr("sendmsg", ENOTSUP)
	}
	start := len(b)
	b = m.appendCmsg(b, m.solSocket, m.scmCreds, m.ucred.size, nil)
	m.putUcred(b[start+m.cmsgAlign(m.cmsg.size):], c)
	return b, nil
}

func (m *msgLayouts) putUcred(b []byte, c Ucred) {
	m.ucred.pid.put(b, m.be, uint64(uint32(c.Pid)))
	m.ucred.uid.put(b, m.be, uint64(c.Uid))
	m.ucred.gid.put(b, m.be, uint64(c.Gid))
}

func (m *msgLayouts) getUcred(b []byte) Ucred {
	return Ucred{
		Pid: int32(m.ucred.pid.int(b, m.be)),
		Uid: uint32(m.ucred.uid.uint(b, m.be)),
		Gid: uint32(m.ucred.gid.uint(b, m.be)),
	}
}

func putInt32(b []byte, be bool, v int32) {
	fieldAt{off: 0, size: 4}.put(b, be, uint64(uint32(v)))
}

// ParseCmsgs splits control data the kernel wrote into messages; Data
// slices alias b. A truncated last message (MSG_CTRUNC) is dropped. It does
// not take ownership of SCM_RIGHTS descriptors: Recvmsg and Recvmmsg already
// did.
func (k *Kernel) ParseCmsgs(b []byte) ([]Cmsg, error) {
	var out []Cmsg
	err := k.walkCmsgs(b, func(level, typ uint64, data []byte) {
		out = append(out, k.neutralCmsg(level, typ, data))
	})
	return out, err
}

func (k *Kernel) neutralCmsg(level, typ uint64, data []byte) Cmsg {
	lv := SockLevel(k.enumFromABI(sockLevelFamily, level))
	t := int(typ)
	if f := cmsgTypeFam(lv); f != nil {
		t = int(k.enumFromABI(f, typ))
	}
	return Cmsg{Level: lv, Type: t, Data: data}
}

// walkCmsgs calls fn for each whole message in b.
func (k *Kernel) walkCmsgs(b []byte, fn func(level, typ uint64, data []byte)) error {
	m := &k.socks.msg
	hl := m.cmsgAlign(m.cmsg.size)
	for off := 0; off+m.cmsg.size <= len(b); {
		c := b[off:]
		clen := m.cmsg.len.uint(c, m.be)
		if clen < uint64(m.cmsg.size) {
			return callErr("recvmsg", EINVAL)
		}
		if clen > uint64(len(c)) {
			return nil // truncated
		}
		start := hl
		if start > int(clen) {
			start = int(clen)
		}
		fn(m.cmsg.level.uint(c, m.be), m.cmsg.typ.uint(c, m.be), c[start:clen:clen])
		off += m.cmsgAlign(int(clen))
	}
	return nil
}

// parseControl decodes received control data into ctl, taking ownership of
// every passed descriptor so that none can leak.
func (k *Kernel) parseControl(b []byte, ctl *Control) error {
	m := &k.socks.msg
	return k.walkCmsgs(b, func(level, typ uint64, data []byte) {
		switch {
		case level == m.solSocket && typ == m.scmRights:
			for i := 0; i+4 <= len(data); i += 4 {
				n := int32(fieldAt{off: uint16(i), size: 4}.uint(data, m.be))
				ctl.Rights = append(ctl.Rights, k.newFd(uintptr(n)))
			}
		case level == m.solSocket && typ == m.scmCreds && len(data) >= m.ucred.size:
			c := m.getUcred(data)
			ctl.Creds = &c
		default:
			ctl.Other = append(ctl.Other, k.neutralCmsg(level, typ, data))
		}
	})
}

// msgScratch is pooled heap memory for the structs a call points into.
var msgScratch = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getScratch(n int) *[]byte {
	p := msgScratch.Get().(*[]byte)
	if cap(*p) < n {
		*p = make([]byte, n)
	}
	*p = (*p)[:n]
	clear(*p)
	return p
}

func putScratch(p *[]byte) {
	if cap(*p) <= 64<<10 {
		msgScratch.Put(p)
	}
}

// align8 rounds n up so that the structs after it are aligned.
func align8(n int) int { return (n + 7) &^ 7 }

// putAddr stores an address in a pointer field. Only heap addresses are
// ever stored (see the note at the top of the file).
func (m *msgLayouts) putAddr(b []byte, f fieldAt, p unsafe.Pointer) {
	f.put(b, m.be, uint64(uintptr(p)))
}

// putIovecs writes iovecs for bufs at b (heap scratch).
func (m *msgLayouts) putIovecs(b []byte, bufs [][]byte) {
	for i, p := range bufs {
		v := b[i*m.iov.size:]
		m.putAddr(v, m.iov.base, bufPtr(p))
		m.iov.len.put(v, m.be, uint64(len(p)))
	}
}

// controlSize is the bytes ctl takes once encoded.
func (k *Kernel) controlSize(ctl *Control) (int, error) {
	if ctl == nil {
		return 0, nil
	}
	m := &k.socks.msg
	n := 0
	if len(ctl.Rights) > 0 {
		n += k.CmsgSpace(4 * len(ctl.Rights))
	}
	if ctl.Creds != nil {
		if m.scmCreds == ^uint64(0) {
			return 0, callErr("sendmsg", ENOTSUP)
		}
		n += k.CmsgSpace(m.ucred.size)
	}
	for _, c := range ctl.Other {
		n += k.CmsgSpace(len(c.Data))
	}
	if n > 1<<20 {
		return 0, badArg("sendmsg", "control data larger than 1 MiB")
	}
	return n, nil
}

// encodeControl writes ctl into b (exactly controlSize bytes), acquiring
// each passed descriptor; the caller releases them after the call with
// releaseRights, whatever happens. It returns how many it acquired.
func (k *Kernel) encodeControl(b []byte, ctl *Control) (int, error) {
	if ctl == nil {
		return 0, nil
	}
	m := &k.socks.msg
	b = b[:0]
	acquired := 0
	if len(ctl.Rights) > 0 {
		start := len(b)
		b = m.appendCmsg(b, m.solSocket, m.scmRights, 4*len(ctl.Rights), nil)
		data := b[start+m.cmsgAlign(m.cmsg.size):]
		for i, fd := range ctl.Rights {
			if fd == nil || fd.k != k {
				return acquired, callErr("sendmsg", EBADF)
			}
			n, e := fd.acquire()
			if e != 0 {
				return acquired, callErr("sendmsg", e)
			}
			acquired++
			putInt32(data[4*i:], m.be, int32(n))
		}
	}
	if ctl.Creds != nil {
		start := len(b)
		b = m.appendCmsg(b, m.solSocket, m.scmCreds, m.ucred.size, nil)
		m.putUcred(b[start+m.cmsgAlign(m.cmsg.size):], *ctl.Creds)
	}
	for _, c := range ctl.Other {
		l, t, err := k.cmsgToABI(c.Level, c.Type)
		if err != nil {
			return acquired, sockErr("sendmsg", err)
		}
		b = m.appendCmsg(b, l, t, len(c.Data), c.Data)
	}
	return acquired, nil
}

func releaseRights(ctl *Control, n int) {
	for i := 0; i < n; i++ {
		ctl.Rights[i].release()
	}
}

// Sendmsg sends the buffers of iov as one message with control data ctl
// (nil: none) to the address to (nil on a connected socket) (sendmsg(2)).
// Descriptors in ctl.Rights stay open at least until the call returns. An
// address of another family than the socket's is EAFNOSUPPORT, as for
// Bind.
func (f *Fd) Sendmsg(iov [][]byte, ctl *Control, to Sockaddr, flags MsgFlags) (int, error) {
	if msgSink.on {
		msgSink.iov = iov
	}
	if f == nil {
		return 0, callErr("sendmsg", EBADF)
	}
	k := f.k
	m := &k.socks.msg
	if !m.ok {
		return 0, callErr("sendmsg", ENOSYS)
	}
	fl, err := k.msgFlags("sendmsg", flags)
	if err != nil {
		return 0, err
	}
	clen, err := k.controlSize(ctl)
	if err != nil {
		return 0, err
	}
	iovOff := align8(m.hdr.size)
	nameOff := align8(iovOff + len(iov)*m.iov.size)
	ctlOff := nameOff + sockaddrBufSize
	sp := getScratch(ctlOff + clen)
	defer putScratch(sp)
	b := *sp
	nameLen := 0
	if to != nil {
		if nameLen, err = k.encodeSockaddr("sendmsg", to, (*sockaddrBuf)(b[nameOff:ctlOff])); err != nil {
			return 0, err
		}
	}
	acq, err := k.encodeControl(b[ctlOff:], ctl)
	if err != nil {
		releaseRights(ctl, acq)
		return 0, err
	}
	m.putIovecs(b[iovOff:], iov)
	if nameLen > 0 {
		m.putAddr(b, m.hdr.name, unsafe.Pointer(&b[nameOff]))
		m.hdr.namelen.put(b, m.be, uint64(nameLen))
	}
	if len(iov) > 0 {
		m.putAddr(b, m.hdr.iov, unsafe.Pointer(&b[iovOff]))
		m.hdr.iovlen.put(b, m.be, uint64(len(iov)))
	}
	if clen > 0 {
		m.putAddr(b, m.hdr.control, unsafe.Pointer(&b[ctlOff]))
		m.hdr.controllen.put(b, m.be, uint64(clen))
	}
	r, err := f.fdBufCall("sendmsg", sysSendmsg, unsafe.Pointer(&b[0]), fl, 0)
	if nameLen > 0 && errors.Is(err, EINVAL) && f.otherFamily((*sockaddrBuf)(b[nameOff:ctlOff])) {
		err = callErr("sendmsg", EAFNOSUPPORT) // as for Bind
	}
	releaseRights(ctl, acq)
	runtime.KeepAlive(iov)
	return int(r), err
}

// Received describes a message Recvmsg received.
type Received struct {
	N     int      // data bytes; with MSG_TRUNC in flags, the datagram's full length
	From  Sockaddr // the sender, nil when the socket reports none
	Flags MsgFlags // MSG_TRUNC (data cut short), MSG_CTRUNC (control cut short), MSG_EOR, ...
	// Control is the decoded control data: passed descriptors are already
	// open and owned by the caller.
	Control Control
	// ControlN is how many bytes of oob the kernel filled.
	ControlN int
}

// Recvmsg receives one message into the buffers of iov and its control
// data into oob (recvmsg(2)); size oob with k.CmsgSpace. Received
// descriptors become *Fd values in the result; MSG_CMSG_CLOEXEC sets
// close-on-exec on them atomically.
func (f *Fd) Recvmsg(iov [][]byte, oob []byte, flags MsgFlags) (Received, error) {
	if msgSink.on {
		msgSink.iov, msgSink.b = iov, oob
	}
	if f == nil {
		return Received{}, callErr("recvmsg", EBADF)
	}
	k := f.k
	m := &k.socks.msg
	if !m.ok {
		return Received{}, callErr("recvmsg", ENOSYS)
	}
	fl, err := k.msgFlags("recvmsg", flags)
	if err != nil {
		return Received{}, err
	}
	iovOff := align8(m.hdr.size)
	nameOff := align8(iovOff + len(iov)*m.iov.size)
	sp := getScratch(nameOff + sockaddrBufSize)
	defer putScratch(sp)
	b := *sp
	m.putIovecs(b[iovOff:], iov)
	m.putAddr(b, m.hdr.name, unsafe.Pointer(&b[nameOff]))
	m.hdr.namelen.put(b, m.be, sockaddrBufSize)
	if len(iov) > 0 {
		m.putAddr(b, m.hdr.iov, unsafe.Pointer(&b[iovOff]))
		m.hdr.iovlen.put(b, m.be, uint64(len(iov)))
	}
	if len(oob) > 0 {
		m.putAddr(b, m.hdr.control, bufPtr(oob))
		m.hdr.controllen.put(b, m.be, uint64(len(oob)))
	}
	r, err := f.fdBufCall("recvmsg", sysRecvmsg, unsafe.Pointer(&b[0]), fl, 0)
	runtime.KeepAlive(iov)
	runtime.KeepAlive(oob)
	if err != nil {
		return Received{}, err
	}
	var res Received
	res.N = int(r)
	res.Flags = MsgFlags(k.flagsFromABI(msgFlagsFamily, m.hdr.flags.uint(b, m.be)))
	res.From = k.decodeSockaddr(b[nameOff:], int(m.hdr.namelen.uint(b, m.be)))
	res.ControlN = min(int(m.hdr.controllen.uint(b, m.be)), len(oob))
	if err := k.parseControl(oob[:res.ControlN], &res.Control); err != nil {
		return res, err
	}
	return res, nil
}

// Mmsg is one message of a Sendmmsg or Recvmmsg batch.
type Mmsg struct {
	// Addr is the destination when sending (nil on a connected socket) and
	// is set to the sender when receiving.
	Addr Sockaddr
	// Iov are the data buffers.
	Iov [][]byte
	// Control is raw control data to send (build it with k.AppendCmsg,
	// k.AppendRights, ...) or the buffer for received control data.
	Control []byte

	// Results, set by the call for the messages it handled.
	N        int      // bytes sent or received (msg_len)
	ControlN int      // bytes of Control received
	Flags    MsgFlags // received message's flags (MSG_TRUNC, MSG_CTRUNC, ...)
	Rights   []*Fd    // descriptors received (SCM_RIGHTS), owned by the caller
}

// mmsgScratch returns the scratch size for msgs and the offsets of their
// iovecs and names.
func (m *msgLayouts) mmsgScratch(msgs []Mmsg) (size, iovOff, nameOff int) {
	iovOff = align8(len(msgs) * m.mmsg.size)
	n := 0
	for i := range msgs {
		n += len(msgs[i].Iov)
	}
	nameOff = align8(iovOff + n*m.iov.size)
	return nameOff + len(msgs)*sockaddrBufSize, iovOff, nameOff
}

// Sendmmsg sends a batch of messages in one call (sendmmsg(2)) and returns
// how many were sent; each sent message's N is set.
func (f *Fd) Sendmmsg(msgs []Mmsg, flags MsgFlags) (int, error) {
	if msgSink.on {
		msgSink.mmsg = msgs
	}
	r, sp, _, err := f.mmsg("sendmmsg", sysSendmmsg, msgs, flags, true)
	if err != nil {
		return 0, err
	}
	defer putScratch(sp)
	b, m := *sp, &f.k.socks.msg
	for i := 0; i < r; i++ {
		msgs[i].N = int(m.mmsg.len.uint(b[i*m.mmsg.size:], m.be))
	}
	return r, nil
}

// Recvmmsg receives up to len(msgs) messages in one call (recvmmsg(2)) and
// returns how many arrived; each received message's Addr, N, ControlN,
// Flags and Rights are set. With MSG_WAITFORONE it blocks only for the first.
// (The kernel's own recvmmsg timeout is not offered: it is checked only
// between messages; use SetRcvTimeo or MSG_DONTWAIT.)
func (f *Fd) Recvmmsg(msgs []Mmsg, flags MsgFlags) (int, error) {
	if msgSink.on {
		msgSink.mmsg = msgs
	}
	r, sp, nameOff, err := f.mmsg("recvmmsg", sysRecvmmsg, msgs, flags, false)
	if err != nil {
		return 0, err
	}
	defer putScratch(sp)
	k := f.k
	b, m := *sp, &k.socks.msg
	var perr error
	for i := 0; i < r; i++ {
		mm := &msgs[i]
		h := b[i*m.mmsg.size:]
		mm.N = int(m.mmsg.len.uint(h, m.be))
		mm.Flags = MsgFlags(k.flagsFromABI(msgFlagsFamily, m.hdr.flags.uint(h, m.be)))
		no := nameOff + i*sockaddrBufSize
		mm.Addr = k.decodeSockaddr(b[no:no+sockaddrBufSize], int(m.hdr.namelen.uint(h, m.be)))
		mm.ControlN = min(int(m.hdr.controllen.uint(h, m.be)), len(mm.Control))
		mm.Rights = mm.Rights[:0]
		var ctl Control
		if err := k.parseControl(mm.Control[:mm.ControlN], &ctl); err != nil && perr == nil {
			perr = err
		}
		mm.Rights = append(mm.Rights, ctl.Rights...)
	}
	return r, perr
}

// mmsg makes sendmmsg or recvmmsg (send says which) with mmsghdrs in pooled
// scratch that point at the buffers of msgs and at their destination
// addresses (send) or room for their senders' (receive). It returns the
// count of messages the kernel handled and, on success, the scratch, for the
// caller to decode and then putScratch, with the offset of the addresses.
func (f *Fd) mmsg(op string, c call, msgs []Mmsg, flags MsgFlags, send bool) (int, *[]byte, int, error) {
	if f == nil {
		return 0, nil, 0, callErr(op, EBADF)
	}
	k := f.k
	m := &k.socks.msg
	if !m.ok || m.mmsg.size == 0 {
		return 0, nil, 0, callErr(op, ENOSYS)
	}
	if len(msgs) > 1<<20 {
		return 0, nil, 0, badArg(op, "more than 1Mi messages")
	}
	fl, err := k.msgFlags(op, flags)
	if err != nil {
		return 0, nil, 0, err
	}
	size, iovOff, nameOff := m.mmsgScratch(msgs)
	sp := getScratch(size)
	b := *sp
	vi := iovOff
	for i := range msgs {
		mm := &msgs[i]
		h := b[i*m.mmsg.size:]
		no := nameOff + i*sockaddrBufSize
		switch {
		case !send:
			m.putAddr(h, m.hdr.name, unsafe.Pointer(&b[no]))
			m.hdr.namelen.put(h, m.be, sockaddrBufSize)
		case mm.Addr != nil:
			l, err := k.encodeSockaddr(op, mm.Addr, (*sockaddrBuf)(b[no:no+sockaddrBufSize]))
			if err != nil {
				putScratch(sp)
				return 0, nil, 0, err
			}
			m.putAddr(h, m.hdr.name, unsafe.Pointer(&b[no]))
			m.hdr.namelen.put(h, m.be, uint64(l))
		}
		if len(mm.Iov) > 0 {
			m.putIovecs(b[vi:], mm.Iov)
			m.putAddr(h, m.hdr.iov, unsafe.Pointer(&b[vi]))
			m.hdr.iovlen.put(h, m.be, uint64(len(mm.Iov)))
			vi += len(mm.Iov) * m.iov.size
		}
		if len(mm.Control) > 0 {
			m.putAddr(h, m.hdr.control, bufPtr(mm.Control))
			m.hdr.controllen.put(h, m.be, uint64(len(mm.Control)))
		}
	}
	var hp unsafe.Pointer
	if len(msgs) > 0 {
		hp = unsafe.Pointer(&b[0])
	}
	r, err := f.fdBufCall(op, c, hp, uintptr(len(msgs)), fl)
	runtime.KeepAlive(msgs)
	if err != nil {
		putScratch(sp)
		return 0, nil, 0, err
	}
	return int(r), sp, nameOff, nil
}

// String describes a control message for logs.
func (c Cmsg) String() string {
	t := strconv.Itoa(c.Type)
	if f := cmsgTypeFam(c.Level); f != nil {
		t = f.formatEnum(uint64(c.Type))
	}
	return c.Level.String() + "/" + t + " (" + strconv.Itoa(len(c.Data)) + " bytes)"
}
