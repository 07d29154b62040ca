package rtnl

import (
	"errors"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/anykernel/anykernel/api"
)

// Event is a change the kernel announced: *LinkEvent, *AddrEvent,
// *RouteEvent, *NeighEvent or *RuleEvent.
type Event interface {
	// Deleted reports a removal (RTM_DEL*); otherwise the object was
	// created or changed.
	Deleted() bool
}

// LinkEvent announces a link's creation, change or removal.
type LinkEvent struct {
	Del  bool
	Link *Link
}

// AddrEvent announces an address's addition or removal.
type AddrEvent struct {
	Del  bool
	Addr *Addr
}

// RouteEvent announces a route's addition or removal.
type RouteEvent struct {
	Del   bool
	Route *Route
}

// NeighEvent announces a neighbour entry's change or removal.
type NeighEvent struct {
	Del   bool
	Neigh *Neigh
}

// RuleEvent announces a rule's addition or removal.
type RuleEvent struct {
	Del  bool
	Rule *Rule
}

// Deleted reports a removal.
func (e *LinkEvent) Deleted() bool { return e.Del }

// Deleted reports a removal.
func (e *AddrEvent) Deleted() bool { return e.Del }

// Deleted reports a removal.
func (e *RouteEvent) Deleted() bool { return e.Del }

// Deleted reports a removal.
func (e *NeighEvent) Deleted() bool { return e.Del }

// Deleted reports a removal.
func (e *RuleEvent) Deleted() bool { return e.Del }

// Subscription receives the events of some rtnetlink groups on a socket
// of its own.
type Subscription struct {
	k    *api.Kernel
	c    *Codec
	fd   *api.Fd
	wake *api.Fd // an eventfd; Close writes it to end a wait

	mu     sync.Mutex // one reader at a time
	once   sync.Once
	closed atomic.Bool
	buf    []byte
}

// ErrOverrun is reported (as an *Error wrapping api.ENOBUFS) when events
// were lost because the socket's receive buffer overflowed; a consumer
// that keeps a copy of the kernel's tables must dump them again.
var ErrOverrun = api.ENOBUFS

// Subscribe joins groups on a new socket in the Conn's network namespace.
func (c *Conn) Subscribe(groups ...Group) (*Subscription, error) {
	ns, err := c.Netns()
	if err != nil {
		return nil, err
	}
	var s *Subscription
	err = inNetns(c.k, ns, func() error {
		var err error
		s, err = Subscribe(c.k, groups...)
		return err
	})
	return s, err
}

// Subscribe joins groups on a new socket in the calling thread's network
// namespace.
func Subscribe(k *api.Kernel, groups ...Group) (*Subscription, error) {
	if len(groups) == 0 {
		return nil, badArg("subscribe", "no groups")
	}
	c, err := NewCodec(k.ABI())
	if err != nil {
		return nil, err
	}
	fd, err := openSocket(k, c, 0)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g == 0 {
			fd.Close()
			return nil, badArg("subscribe", "group 0")
		}
		if err := fd.SetsockoptInt(api.RawSockOpt{Level: api.SOL_NETLINK, Name: int(c.n.NETLINK_ADD_MEMBERSHIP)}, int(g)); err != nil {
			fd.Close()
			return nil, err
		}
	}
	wake, err := k.Eventfd(0, api.EFD_CLOEXEC|api.EFD_NONBLOCK)
	if err != nil {
		fd.Close()
		return nil, err
	}
	return &Subscription{k: k, c: c, fd: fd, wake: wake, buf: make([]byte, recvBufSize)}, nil
}

// Fd returns the socket (for SetRcvBuf, or to wait on it in an epoll set).
func (s *Subscription) Fd() *api.Fd { return s.fd }

// Close ends the subscription; an Events loop waiting in another goroutine
// returns.
func (s *Subscription) Close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		s.wake.EventfdWrite(1)
		// Fds close once no call is using them, so a reader inside
		// Poll or a receive is safe.
		s.wake.Close()
		err = s.fd.Close()
	})
	return err
}

// Events yields events as they come, until the loop breaks or the
// subscription is closed. A receive error is yielded as (nil, err) and the
// loop goes on: in particular an *Error wrapping api.ENOBUFS (ErrOverrun)
// says events were lost. Messages rtnl cannot decode are yielded as errors
// too.
func (s *Subscription) Events() iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed.Load() {
			return
		}
		fds := []api.PollFd{{Fd: s.fd, Events: api.POLLIN}, {Fd: s.wake, Events: api.POLLIN}}
		for {
			fds[0].Revents, fds[1].Revents = 0, 0
			if _, err := s.k.Poll(fds, -1); err != nil {
				if errors.Is(err, api.EINTR) {
					continue
				}
				if !s.closed.Load() {
					yield(nil, err)
				}
				return
			}
			if fds[1].Revents != 0 || s.closed.Load() {
				return
			}
			if fds[0].Revents == 0 {
				continue
			}
			var from api.SockaddrNetlink
			n, err := s.fd.RecvfromNetlink(s.buf, api.MSG_DONTWAIT|api.MSG_TRUNC, &from)
			switch {
			case errors.Is(err, api.EAGAIN), errors.Is(err, api.EINTR):
				continue
			case errors.Is(err, api.ENOBUFS):
				if !yield(nil, &Error{Op: "events", Errno: api.ENOBUFS, Message: "events were lost (receive buffer overrun); dump the tables again", Offset: -1}) {
					return
				}
				continue
			case err != nil:
				if !yield(nil, err) {
					return
				}
				continue
			}
			if from.Pid != 0 {
				continue // only the kernel sends rtnetlink events
			}
			if n > len(s.buf) {
				if !yield(nil, &Error{Op: "events", Errno: api.EMSGSIZE, Message: "an event exceeded the receive buffer and was lost", Offset: -1}) {
					return
				}
				continue
			}
			stop := false
			perr := s.c.eachMessage(s.buf[:n], func(m Message) bool {
				ev, err := s.c.DecodeEvent(m)
				if ev == nil && err == nil {
					return true
				}
				if !yield(ev, err) {
					stop = true
					return false
				}
				return true
			})
			if stop {
				return
			}
			if perr != nil && !yield(nil, perr) {
				return
			}
		}
	}
}

// DecodeEvent decodes a message the kernel multicast; it returns nil, nil
// for message types that are not events of rtnl's kinds.
func (c *Codec) DecodeEvent(m Message) (Event, error) {
	n := &c.n
	switch m.Type {
	case n.RTM_NEWLINK, n.RTM_DELLINK:
		l, err := c.DecodeLink(m.Data)
		if err != nil {
			return nil, err
		}
		return &LinkEvent{Del: m.Type == n.RTM_DELLINK, Link: l}, nil
	case n.RTM_NEWADDR, n.RTM_DELADDR:
		a, err := c.DecodeAddr(m.Data)
		if err != nil {
			return nil, err
		}
		return &AddrEvent{Del: m.Type == n.RTM_DELADDR, Addr: a}, nil
	case n.RTM_NEWROUTE, n.RTM_DELROUTE:
		r, err := c.DecodeRoute(m.Data)
		if err != nil {
			return nil, err
		}
		return &RouteEvent{Del: m.Type == n.RTM_DELROUTE, Route: r}, nil
	case n.RTM_NEWNEIGH, n.RTM_DELNEIGH:
		nb, err := c.DecodeNeigh(m.Data)
		if err != nil {
			return nil, err
		}
		return &NeighEvent{Del: m.Type == n.RTM_DELNEIGH, Neigh: nb}, nil
	case n.RTM_NEWRULE, n.RTM_DELRULE:
		r, err := c.DecodeRule(m.Data)
		if err != nil {
			return nil, err
		}
		return &RuleEvent{Del: m.Type == n.RTM_DELRULE, Rule: r}, nil
	}
	return nil, nil
}
