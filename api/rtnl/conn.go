package rtnl

import (
	"errors"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Conn is an rtnetlink socket of one kernel (NETLINK_ROUTE): it lists,
// creates, changes and deletes links, addresses, routes, neighbours and
// rules of the network namespace the socket was created in. Requests are
// acknowledged (errors carry the kernel's extended-ack message) and a Conn
// makes one at a time; it is safe for concurrent use.
type Conn struct {
	k  *api.Kernel
	c  *Codec
	fd *api.Fd

	mu      sync.Mutex
	seq     uint32
	pid     uint32 // the socket's port id
	buf     []byte
	timeout time.Duration

	// ns is the socket's network namespace, opened on demand (tun/tap
	// creation must run on a thread inside it).
	nsMu sync.Mutex
	ns   *api.Fd

	// io is the transport; tests replace it.
	io transport
}

// transport moves datagrams; the real one is the netlink socket.
type transport interface {
	send(b []byte) error
	// recv returns the datagram's full length (which may exceed len(b))
	// and the sender's port id.
	recv(b []byte) (n int, pid uint32, err error)
}

type sockTransport struct{ fd *api.Fd }

func (s sockTransport) send(b []byte) error {
	_, err := s.fd.Sendto(b, 0, api.SockaddrNetlink{})
	return err
}

func (s sockTransport) recv(b []byte) (int, uint32, error) {
	var from api.SockaddrNetlink
	n, err := s.fd.RecvfromNetlink(b, api.MSG_TRUNC, &from)
	return n, from.Pid, err
}

// DefaultTimeout bounds the wait for the kernel's answer to one request.
const DefaultTimeout = 10 * time.Second

// recvBufSize is the receive buffer: the kernel's dump messages stay
// within 32 KiB, and events and single answers are far smaller.
const recvBufSize = 64 << 10

// Dial opens an rtnetlink socket on k, in the network namespace of the
// calling thread.
func Dial(k *api.Kernel) (*Conn, error) {
	c, err := NewCodec(k.ABI())
	if err != nil {
		return nil, err
	}
	// The socket and, where needed, the handle of its namespace come from
	// one thread, so they agree even if threads differ.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fd, err := openSocket(k, c, 0)
	if err != nil {
		return nil, err
	}
	conn := &Conn{k: k, c: c, fd: fd, timeout: DefaultTimeout, buf: make([]byte, recvBufSize)}
	conn.io = sockTransport{fd}
	if err := conn.setup(); err != nil {
		fd.Close()
		return nil, err
	}
	if c.n.SIOCGSKNS == ^uint64(0) {
		// Without SIOCGSKNS the namespace is remembered now, from this
		// thread, which is the socket's.
		conn.ns, _ = k.Open("/proc/thread-self/ns/net", api.O_RDONLY|api.O_CLOEXEC, 0)
	}
	return conn, nil
}

// DialNetns opens an rtnetlink socket inside the network namespace ns (an
// open /proc/PID/ns/net, /run/netns/NAME, or a handle from another
// library). The calling thread is not moved: the socket is made on a
// thread that enters ns and is then discarded.
func DialNetns(k *api.Kernel, ns *api.Fd) (*Conn, error) {
	var conn *Conn
	err := inNetns(k, ns, func() error {
		var err error
		conn, err = Dial(k)
		return err
	})
	return conn, err
}

// inNetns runs fn on a fresh OS thread that has entered ns (nil: the
// current namespace); the thread is discarded afterwards, so no thread of
// the process is left in ns.
func inNetns(k *api.Kernel, ns *api.Fd, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the runtime ends the thread with the goroutine.
		runtime.LockOSThread()
		if ns != nil {
			if err := k.Setns(ns, api.CLONE_NEWNET); err != nil {
				done <- err
				return
			}
		}
		done <- fn()
	}()
	return <-done
}

func openSocket(k *api.Kernel, c *Codec, groups uint32) (*api.Fd, error) {
	fd, err := k.Socket(api.AF_NETLINK, api.SOCK_RAW, api.SOCK_CLOEXEC, api.Protocol(c.n.NETLINK_ROUTE))
	if err != nil {
		return nil, err
	}
	if err := fd.Bind(api.SockaddrNetlink{Groups: groups}); err != nil {
		fd.Close()
		return nil, err
	}
	return fd, nil
}

// setup learns the port id and asks for extended acks without the
// request echoed back.
func (c *Conn) setup() error {
	sa, err := c.fd.Getsockname()
	if err != nil {
		return err
	}
	nl, err := c.k.NetlinkAddr(sa)
	if err != nil {
		return err
	}
	c.pid = nl.Pid
	n := &c.c.n
	if n.NETLINK_EXT_ACK != ^uint32(0) {
		// Kernels before 4.12 lack it: errors are then bare errnos.
		_ = c.fd.SetsockoptInt(api.RawSockOpt{Level: api.SOL_NETLINK, Name: int(n.NETLINK_EXT_ACK)}, 1)
	}
	if n.NETLINK_CAP_ACK != ^uint32(0) {
		_ = c.fd.SetsockoptInt(api.RawSockOpt{Level: api.SOL_NETLINK, Name: int(n.NETLINK_CAP_ACK)}, 1)
	}
	return c.fd.SetRcvTimeo(c.timeout)
}

// Close closes the socket.
func (c *Conn) Close() error {
	c.nsMu.Lock()
	if c.ns != nil {
		c.ns.Close()
		c.ns = nil
	}
	c.nsMu.Unlock()
	return c.fd.Close()
}

// Kernel returns the kernel the Conn speaks to.
func (c *Conn) Kernel() *api.Kernel { return c.k }

// Codec returns the Conn's message codec.
func (c *Conn) Codec() *Codec { return c.c }

// Fd returns the socket.
func (c *Conn) Fd() *api.Fd { return c.fd }

// Pid returns the socket's netlink port id.
func (c *Conn) Pid() uint32 { return c.pid }

// SetTimeout bounds the wait for each answer (0: wait forever).
func (c *Conn) SetTimeout(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fd.SetRcvTimeo(d); err != nil {
		return err
	}
	c.timeout = d
	return nil
}

// Netns returns a handle of the Conn's network namespace (owned by the
// Conn: do not close it), for setns and for moving links.
func (c *Conn) Netns() (*api.Fd, error) {
	c.nsMu.Lock()
	defer c.nsMu.Unlock()
	if c.ns != nil {
		return c.ns, nil
	}
	if c.c.n.SIOCGSKNS == ^uint64(0) {
		return nil, &Error{Op: "netns", Errno: api.ENOTSUP, Message: "the ABI table has no SIOCGSKNS", Offset: -1}
	}
	r, err := c.fd.IoctlInt(c.c.n.SIOCGSKNS, 0)
	if err != nil {
		return nil, err
	}
	ns, err := c.k.NewFd(r)
	if err != nil {
		return nil, err
	}
	c.ns = ns
	return ns, nil
}

// maxDumpRetries bounds the restarts of a dump the kernel marked
// inconsistent (NLM_F_DUMP_INTR: the table changed while it was read).
const maxDumpRetries = 10

// ErrDumpInterrupted is returned when a dump was still inconsistent after
// the retries; it unwraps to api.EINTR.
var ErrDumpInterrupted = &Error{Op: "dump", Errno: api.EINTR, Message: "the table kept changing while it was dumped", Offset: -1}

// Execute sends one request message (its Seq and Pid are filled in) and
// returns the messages of the answer: with NLM_F_DUMP in Flags, every
// message of the dump (restarted if the kernel marks it interrupted);
// otherwise NLM_F_ACK is added and the answer is what came before the
// acknowledgement. Errors are *Error with the kernel's message. Type and
// Flags are the ABI's numbers (Kernel.Const).
func (c *Conn) Execute(m Message) ([]Message, error) {
	dump := m.Flags&(c.c.n.NLM_F_ROOT|c.c.n.NLM_F_MATCH) == c.c.n.NLM_F_ROOT|c.c.n.NLM_F_MATCH
	b := c.c.newMsg(m.Type, m.Flags)
	b.b = append(b.b, m.Data...)
	var out []Message
	collect := func(r Message) error {
		r.Data = append([]byte(nil), r.Data...)
		out = append(out, r)
		return nil
	}
	op := "request " + strconv.Itoa(int(m.Type))
	var err error
	if dump {
		err = c.dump(op, b, func() { out = out[:0] }, collect)
	} else {
		err = c.request(op, b, collect)
	}
	return out, err
}

// request sends m with NLM_F_REQUEST|NLM_F_ACK and feeds the answer's
// messages to fn until the acknowledgement.
func (c *Conn) request(op string, m *builder, fn func(Message) error) error {
	h := &c.c.l.hdr
	fl := uint16(h.flags.get(m.b, c.c.bo)) | c.c.n.NLM_F_REQUEST | c.c.n.NLM_F_ACK
	h.flags.put(m.b, c.c.bo, uint64(fl))
	_, err := c.roundTrip(op, m, false, fn)
	return err
}

// dump sends a dump request and feeds every message to fn; reset is called
// before a restart.
func (c *Conn) dump(op string, m *builder, reset func(), fn func(Message) error) error {
	h := &c.c.l.hdr
	fl := uint16(h.flags.get(m.b, c.c.bo)) | c.c.n.NLM_F_REQUEST | c.c.n.NLM_F_ROOT | c.c.n.NLM_F_MATCH
	h.flags.put(m.b, c.c.bo, uint64(fl))
	for try := 0; ; try++ {
		intr, err := c.roundTrip(op, m, true, fn)
		if err != nil || !intr {
			return err
		}
		if try == maxDumpRetries {
			return ErrDumpInterrupted
		}
		reset()
	}
}

// roundTrip sends m under a new sequence number and reads the answer.
func (c *Conn) roundTrip(op string, m *builder, dump bool, fn func(Message) error) (intr bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	seq := c.seq
	req := m.finish(seq, c.pid)
	if err := c.io.send(req); err != nil {
		return false, err
	}
	n := &c.c.n
	var fnErr error
	for {
		got, pid, err := c.io.recv(c.buf)
		if err != nil {
			if errors.Is(err, api.EINTR) {
				continue
			}
			return false, err
		}
		if got > len(c.buf) {
			// The datagram was cut short and is lost; a bigger buffer
			// serves the next request.
			c.buf = make([]byte, alignTo(got, 4096))
			return false, &Error{Op: op, Errno: api.EMSGSIZE, Message: "answer of " + strconv.Itoa(got) + " bytes exceeded the receive buffer", Offset: -1}
		}
		if pid != 0 {
			continue // not from the kernel
		}
		done := false
		var result error
		perr := c.c.eachMessage(c.buf[:got], func(r Message) bool {
			if r.Seq != seq {
				return true // an answer to an earlier, abandoned request
			}
			if r.Flags&n.NLM_F_DUMP_INTR != 0 {
				intr = true
			}
			switch r.Type {
			case n.NLMSG_NOOP:
				return true
			case n.NLMSG_ERROR:
				_, result = c.c.parseError(r, op)
				done = true
				return false
			case n.NLMSG_DONE:
				if len(r.Data) >= 4 {
					_, result = c.c.parseError(r, op)
				}
				done = true
				return false
			case n.NLMSG_OVERRUN:
				result = &Error{Op: op, Errno: api.ENOBUFS, Message: "netlink overrun", Offset: -1}
				done = true
				return false
			}
			if fnErr == nil && fn != nil {
				fnErr = fn(r)
			}
			return true
		})
		if perr != nil {
			return false, perr
		}
		if done {
			if result == nil {
				result = fnErr
			}
			return intr, result
		}
	}
}
