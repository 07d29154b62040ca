//go:build xen

package xen

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// inotify, on memfs's change notification.

const (
	inAllEvents  = 0xfff
	inOnlydir    = 0x1000000
	inDontFollow = 0x2000000
	inExclUnlink = 0x4000000
	inMaskCreate = 0x10000000
	inMaskAdd    = 0x20000000
	inOneshot    = 0x80000000
	inQOverflow  = 0x4000
	inCloexec    = memfs.O_CLOEXEC
	inNonblock   = memfs.O_NONBLOCK

	inotifyEventSize = 16    // struct inotify_event without its name
	inotifyMaxQueued = 16384 // /proc/sys/fs/inotify/max_queued_events
)

type iwatch struct {
	wd   int32
	ino  *memfs.Inode
	mask uint32
}

type ievent struct {
	wd           int32
	mask, cookie uint32
	name         string
}

type inotifyFD struct {
	mu      sync.Mutex
	watches map[int32]*iwatch
	byIno   map[*memfs.Inode]*iwatch
	next    int32
	queue   []ievent
	fl      atomic.Int64
	ino     uint64
}

// inotifySet is every inotify instance, which memfs's events reach.
type inotifySet struct {
	mu  sync.Mutex
	all map[*inotifyFD]bool
	n   atomic.Int32
}

func (s *inotifySet) add(in *inotifyFD) {
	s.mu.Lock()
	if s.all == nil {
		s.all = map[*inotifyFD]bool{}
	}
	s.all[in] = true
	s.n.Store(int32(len(s.all)))
	s.mu.Unlock()
}

func (s *inotifySet) remove(in *inotifyFD) {
	s.mu.Lock()
	delete(s.all, in)
	s.n.Store(int32(len(s.all)))
	s.mu.Unlock()
}

// onEvent is memfs's Notify: it runs with the file system locked, so it
// only queues.
func (k *kernel) onEvent(ev memfs.Event) {
	s := &k.inotify
	if s.n.Load() == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	queued := false
	for in := range s.all {
		queued = in.deliver(ev) || queued
	}
	if queued {
		k.hub.wake() // the hub's lock is a leaf: safe under the file system's
	}
}

// deliver queues ev for the watches it concerns.
func (in *inotifyFD) deliver(ev memfs.Event) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	queued := false
	send := func(w *iwatch, name string) {
		if w == nil || w.mask&ev.Mask&inAllEvents == 0 {
			return
		}
		in.push(ievent{w.wd, ev.Mask, ev.Cookie, name})
		queued = true
		if w.mask&inOneshot != 0 {
			in.drop(w)
		}
	}
	const selfOnly = memfs.IN_DELETE_SELF | memfs.IN_MOVE_SELF
	const dirOnly = memfs.IN_CREATE | memfs.IN_DELETE | memfs.IN_MOVED_FROM | memfs.IN_MOVED_TO
	if ev.Dir != nil && ev.Mask&selfOnly == 0 {
		send(in.byIno[ev.Dir], ev.Name)
	}
	if ev.Ino != nil && ev.Mask&dirOnly == 0 {
		send(in.byIno[ev.Ino], "")
	}
	if ev.Mask&memfs.IN_DELETE_SELF != 0 {
		// The file is gone: so is its watch.
		if w := in.byIno[ev.Ino]; w != nil {
			in.drop(w)
			queued = true
		}
	}
	return queued
}

// push queues an event, merging it with an identical last one.
func (in *inotifyFD) push(e ievent) {
	if n := len(in.queue); n > 0 && in.queue[n-1] == e {
		return
	}
	if len(in.queue) >= inotifyMaxQueued {
		if in.queue[len(in.queue)-1].mask != inQOverflow {
			in.queue = append(in.queue, ievent{wd: -1, mask: inQOverflow})
		}
		return
	}
	in.queue = append(in.queue, e)
}

// drop removes a watch, queueing IN_IGNORED; the caller holds the mutex.
func (in *inotifyFD) drop(w *iwatch) {
	delete(in.watches, w.wd)
	delete(in.byIno, w.ino)
	in.push(ievent{wd: w.wd, mask: memfs.IN_IGNORED})
}

func (in *inotifyFD) flags() int { return int(in.fl.Load()) }
func (in *inotifyFD) setFlags(fl int) {
	in.fl.Store(int64(memfs.O_RDONLY | fl&memfs.StatusFlags))
}
func (in *inotifyFD) stat() memfs.Stat {
	return memfs.Stat{Dev: 0xe, Ino: in.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}
}
func (in *inotifyFD) write(*kernel, []byte, bool) (int, Errno) { return 0, EINVAL }
func (in *inotifyFD) release(k *kernel)                        { k.inotify.remove(in) }

func (in *inotifyFD) poll(*kernel) uint32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.queue) > 0 {
		return pollIn | pollRdnorm
	}
	return 0
}

func (in *inotifyFD) pending() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, e := range in.queue {
		n += inotifyEventSize + nameLen(e.name)
	}
	return n
}

// nameLen is an event's name field: the name, NUL-padded to 16 bytes.
func nameLen(name string) int {
	if name == "" {
		return 0
	}
	return (len(name) + 1 + 15) &^ 15
}

func (in *inotifyFD) read(k *kernel, b []byte, nonblock bool) (int, Errno) {
	nonblock = nonblock || in.flags()&memfs.O_NONBLOCK != 0
	var hw hubWait
	for {
		in.mu.Lock()
		n := 0
		for len(in.queue) > 0 {
			e := in.queue[0]
			l := nameLen(e.name)
			if n+inotifyEventSize+l > len(b) {
				break
			}
			binary.LittleEndian.PutUint32(b[n:], uint32(e.wd))
			binary.LittleEndian.PutUint32(b[n+4:], e.mask)
			binary.LittleEndian.PutUint32(b[n+8:], e.cookie)
			binary.LittleEndian.PutUint32(b[n+12:], uint32(l))
			clear(b[n+16 : n+16+l])
			copy(b[n+16:], e.name)
			n += inotifyEventSize + l
			in.queue = in.queue[1:]
		}
		empty := len(in.queue) == 0
		in.mu.Unlock()
		switch {
		case n > 0:
			return n, 0
		case !empty:
			return 0, EINVAL // the buffer cannot hold the next event
		case nonblock:
			return 0, EAGAIN
		}
		hw.wait(k)
	}
}

func (k *kernel) inotifyInit(flags uintptr) (uintptr, Errno) {
	if flags&^(inCloexec|inNonblock) != 0 {
		return 0, EINVAL
	}
	in := &inotifyFD{watches: map[int32]*iwatch{}, byIno: map[*memfs.Inode]*iwatch{}, ino: anonIno.Add(1)}
	in.fl.Store(int64(memfs.O_RDONLY | int(flags)&inNonblock))
	k.inotify.add(in)
	return k.install(in, flags&inCloexec != 0, 0)
}

func (k *kernel) inotifyOf(fd uintptr) (*ofile, *inotifyFD, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return nil, nil, e
	}
	in, ok := of.f.(*inotifyFD)
	if !ok {
		k.put(of)
		return nil, nil, EINVAL
	}
	return of, in, 0
}

func (k *kernel) inotifyAddWatch(fd uintptr, pp unsafe.Pointer, mask uintptr) (uintptr, Errno) {
	of, in, e := k.inotifyOf(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	m := uint32(mask)
	if m&inAllEvents == 0 || m&inMaskAdd != 0 && m&inMaskCreate != 0 {
		return 0, EINVAL
	}
	ino, e := k.lookupAt(fdcwd, pp, m&inDontFollow == 0, false)
	if e != 0 {
		return 0, e
	}
	if m&inOnlydir != 0 && ino.Mode()&memfs.S_IFMT != memfs.S_IFDIR {
		return 0, ENOTDIR
	}
	keep := m & (inAllEvents | inOneshot | inExclUnlink)
	in.mu.Lock()
	defer in.mu.Unlock()
	if w := in.byIno[ino]; w != nil {
		switch {
		case m&inMaskCreate != 0:
			return 0, memfs.EEXIST
		case m&inMaskAdd != 0:
			w.mask |= keep
		default:
			w.mask = keep
		}
		return uintptr(w.wd), 0
	}
	in.next++
	w := &iwatch{wd: in.next, ino: ino, mask: keep}
	in.watches[w.wd] = w
	in.byIno[ino] = w
	return uintptr(w.wd), 0
}

func (k *kernel) inotifyRmWatch(fd uintptr, wd int32) (uintptr, Errno) {
	of, in, e := k.inotifyOf(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	in.mu.Lock()
	w := in.watches[wd]
	if w == nil {
		in.mu.Unlock()
		return 0, EINVAL
	}
	in.drop(w)
	in.mu.Unlock()
	k.hub.wake()
	return 0, 0
}
