//go:build xen

package xen

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// epoll: an interest list over descriptions (which it does not keep open); readiness is asked of each
// description when waiting (level-triggered by nature; EPOLLET reports a
// description again only after its state changed, EPOLLONESHOT disarms it).

const (
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3

	epollExclusive = 1 << 28
	epollWakeup    = 1 << 29
	epollOneshot   = 1 << 30
	epollET        = 1 << 31
)

type epItem struct {
	fd       int
	of       *ofile
	events   uint32
	data     uint64
	disarmed bool   // EPOLLONESHOT fired
	last     uint32 // EPOLLET: readiness last reported
}

type epollFD struct {
	mu    sync.Mutex
	items []*epItem
	fl    atomic.Int64
	ino   uint64
}

func (ep *epollFD) read(*kernel, []byte, bool) (int, Errno)  { return 0, EINVAL }
func (ep *epollFD) write(*kernel, []byte, bool) (int, Errno) { return 0, EINVAL }
func (ep *epollFD) flags() int                               { return int(ep.fl.Load()) }
func (ep *epollFD) setFlags(fl int) {
	ep.fl.Store(int64(memfs.O_RDWR | fl&memfs.StatusFlags))
}
func (ep *epollFD) stat() memfs.Stat {
	return memfs.Stat{Dev: 0xe, Ino: ep.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}
}

func (ep *epollFD) release(k *kernel) {
	k.epolls.remove(ep)
	ep.mu.Lock()
	ep.items = nil
	ep.mu.Unlock()
}

// poll: an epoll is readable when a wait would report something.
func (ep *epollFD) poll(k *kernel) uint32 {
	if ep.collect(k, nil, 1) > 0 {
		return pollIn | pollRdnorm
	}
	return 0
}

// collect writes up to max ready events as struct epoll_event at out and
// returns how many; with out nil it only looks (it stops at the first
// ready one) and changes nothing.
func (ep *epollFD) collect(k *kernel, out unsafe.Pointer, max int) int {
	consume := out != nil
	ep.mu.Lock()
	items := append([]*epItem(nil), ep.items...)
	ep.mu.Unlock()
	n := 0
	for _, it := range items {
		if n == max {
			break
		}
		ep.mu.Lock()
		disarmed := it.disarmed
		ep.mu.Unlock()
		if disarmed {
			continue
		}
		if inner, ok := it.of.f.(*epollFD); ok && inner == ep {
			continue
		}
		ev := it.of.f.poll(k) & (it.events | pollErr | pollHup)
		if ev == 0 {
			ep.mu.Lock()
			it.last = 0
			ep.mu.Unlock()
			continue
		}
		ep.mu.Lock()
		if it.events&epollET != 0 && ev == it.last {
			ep.mu.Unlock()
			continue
		}
		if consume {
			o := view(unsafe.Add(out, n*epevSize), "epoll_event")
			o.put("events", uint64(ev))
			o.put("data", it.data)
			it.last = ev
			if it.events&epollOneshot != 0 {
				it.disarmed = true
			}
		}
		ep.mu.Unlock()
		n++
	}
	return n
}

func (ep *epollFD) ctl(k *kernel, op int, fd int, target *ofile, events uint32, data uint64) Errno {
	if inner, ok := target.f.(*epollFD); ok && op == epollCtlAdd && inner.reaches(ep, 0) {
		return ELOOP // an epoll watching itself, through others
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var it *epItem
	idx := -1
	for i, x := range ep.items {
		if x.fd == fd && x.of == target {
			it, idx = x, i
			break
		}
	}
	switch op {
	case epollCtlAdd:
		if it != nil {
			return memfs.EEXIST
		}
		ep.items = append(ep.items, &epItem{fd: fd, of: target, events: events, data: data})
	case epollCtlMod:
		if it == nil {
			return ENOENT
		}
		if it.events&epollExclusive != 0 {
			return EINVAL
		}
		it.events, it.data, it.disarmed, it.last = events, data, false, 0
	case epollCtlDel:
		if it == nil {
			return ENOENT
		}
		ep.items = append(ep.items[:idx], ep.items[idx+1:]...)
	default:
		return EINVAL
	}
	return 0
}

// maxNests bounds epolls within epolls, as Linux's EPOLL_MAX_NESTS.
const maxNests = 4

// reaches reports whether ep watches target, directly or through the
// epolls it watches (or nests too deep). The caller holds no epoll's
// mutex.
func (ep *epollFD) reaches(target *epollFD, depth int) bool {
	if ep == target || depth > maxNests {
		return true
	}
	ep.mu.Lock()
	var inner []*epollFD
	for _, it := range ep.items {
		if x, ok := it.of.f.(*epollFD); ok {
			inner = append(inner, x)
		}
	}
	ep.mu.Unlock()
	for _, x := range inner {
		if x.reaches(target, depth+1) {
			return true
		}
	}
	return false
}

// epollSet knows every epoll, so that closing a description's last
// descriptor takes it out of their interest lists.
type epollSet struct {
	mu  sync.Mutex
	all map[*epollFD]bool
}

func (s *epollSet) add(ep *epollFD) {
	s.mu.Lock()
	if s.all == nil {
		s.all = map[*epollFD]bool{}
	}
	s.all[ep] = true
	s.mu.Unlock()
}

func (s *epollSet) remove(ep *epollFD) {
	s.mu.Lock()
	delete(s.all, ep)
	s.mu.Unlock()
}

// forget takes a released description out of every interest list, as
// Linux does when a file's last reference goes.
func (s *epollSet) forget(k *kernel, of *ofile) {
	s.mu.Lock()
	eps := make([]*epollFD, 0, len(s.all))
	for ep := range s.all {
		eps = append(eps, ep)
	}
	s.mu.Unlock()
	for _, ep := range eps {
		ep.mu.Lock()
		kept := ep.items[:0]
		for _, it := range ep.items {
			if it.of != of {
				kept = append(kept, it)
			}
		}
		clear(ep.items[len(kept):])
		ep.items = kept
		ep.mu.Unlock()
	}
}
