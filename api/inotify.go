package api

import (
	"errors"
	"iter"
)

// inotify: file-system events on watched paths, read as data.

var (
	sysInotifyInit     = newCall("inotify_init")
	sysInotifyInit1    = newCall("inotify_init1")
	sysInotifyAddWatch = newCall("inotify_add_watch")
	sysInotifyRmWatch  = newCall("inotify_rm_watch")
)

// Inotify is an inotify instance: a set of watches and a queue of the
// events they saw.
type Inotify struct {
	fd *Fd
}

// InotifyEvent is one event: the watch it came from (the number AddWatch
// returned), what happened, a cookie pairing IN_MOVED_FROM with
// IN_MOVED_TO, and the name of the entry concerned when the watch is on a
// directory ("" for the directory itself).
type InotifyEvent struct {
	Wd     int
	Mask   InotifyMask
	Cookie uint32
	Name   string
}

// InotifyBufSize is a read buffer that always holds at least one event: the
// header and the longest name (NAME_MAX 255 bytes and its NUL). Smaller
// buffers get EINVAL when the next event does not fit.
const InotifyBufSize = 16 + 256

// InotifyInit1 creates an inotify instance; flags may hold IN_CLOEXEC and
// IN_NONBLOCK.
func (k *Kernel) InotifyInit1(flags InotifyFlags) (*Inotify, error) {
	fl, err := k.flagsToABI(inotifyFlagsFamily, uint64(flags))
	if err != nil {
		return nil, sysErr("inotify_init1", err)
	}
	if k.ready.inoSize == 0 {
		return nil, callErr("inotify_init1", ENOSYS)
	}
	r, err := k.intCall("inotify_init1", sysInotifyInit1, uintptr(fl), 0, 0)
	if err != nil {
		return nil, err
	}
	return &Inotify{k.newFd(r)}, nil
}

// InotifyInit creates an inotify instance with the legacy call, which takes
// no flags. ABIs without it answer ENOSYS; prefer InotifyInit1.
func (k *Kernel) InotifyInit() (*Inotify, error) {
	if k.ready.inoSize == 0 {
		return nil, callErr("inotify_init", ENOSYS)
	}
	r, err := k.intCall("inotify_init", sysInotifyInit, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	return &Inotify{k.newFd(r)}, nil
}

func (in *Inotify) file() *Fd {
	if in == nil {
		return nil
	}
	return in.fd
}

// Fd returns the inotify descriptor (readable when events are queued: poll
// or epoll it).
func (in *Inotify) Fd() *Fd { return in.file() }

// Close closes the instance and drops its watches.
func (in *Inotify) Close() error { return in.file().Close() }

// AddWatch watches path for the events in mask and returns the watch
// number events carry. Watching a path already watched by in replaces its
// mask (or adds to it with IN_MASK_ADD) and returns the same number.
func (in *Inotify) AddWatch(path string, mask InotifyMask) (int, error) {
	f := in.file()
	if f == nil {
		return 0, pathErr("inotify_add_watch", path, EBADF)
	}
	k := f.k
	m, err := k.flagsToABI(inotifyMaskFamily, uint64(mask))
	if err != nil {
		return 0, sysErr("inotify_add_watch", err)
	}
	var pb pathBuf
	p, err := pb.cstr("inotify_add_watch", path)
	if err != nil {
		return 0, err
	}
	n, e := f.acquire()
	if e != 0 {
		return 0, pathErr("inotify_add_watch", path, e)
	}
	r, e := k.syscall(sysInotifyAddWatch, n, uintptr(p), uintptr(m), 0, 0, 0)
	f.release()
	if e != 0 {
		return 0, pathErr("inotify_add_watch", path, e)
	}
	return int(int32(r)), nil
}

// RmWatch removes watch wd; an IN_IGNORED event for it follows. An unknown
// number is EINVAL.
func (in *Inotify) RmWatch(wd int) error {
	if wd < 0 || wd > 1<<31-1 {
		return badArg("inotify_rm_watch", "watch number out of range")
	}
	return errOnly(in.file().fdCall("inotify_rm_watch", sysInotifyRmWatch, uintptr(wd), 0, 0))
}

// Read reads queued events, raw, into buf (see InotifyBufSize); decode
// them with Events, or let Events read.
func (in *Inotify) Read(buf []byte) (int, error) {
	r, err := in.file().fdBufCall("read", sysRead, bufPtr(buf), uintptr(len(buf)), 0)
	return int(r), err
}

// Events does one read of the queued events into buf (nil: a buffer of its
// own) and yields each, decoded:
//
//	buf := make([]byte, 4096)
//	for ev, err := range in.Events(buf) { ... }
//
// With nothing queued the read blocks, or, under IN_NONBLOCK, the loop
// yields nothing; a read interrupted by a signal is retried. Another error
// is yielded once, with a zero event. buf must hold at least one event
// (InotifyBufSize is always enough).
func (in *Inotify) Events(buf []byte) iter.Seq2[InotifyEvent, error] {
	return func(yield func(InotifyEvent, error) bool) {
		if buf == nil {
			buf = make([]byte, 4096)
		}
		f := in.file()
		if f != nil && f.k.ready.inoSize == 0 {
			yield(InotifyEvent{}, callErr("read", ENOSYS))
			return
		}
		n, err := in.Read(buf)
		for errors.Is(err, EINTR) {
			n, err = in.Read(buf)
		}
		if errors.Is(err, EAGAIN) {
			return
		}
		if err != nil {
			yield(InotifyEvent{}, err)
			return
		}
		k := f.k
		s := &k.ready
		for off := 0; off+s.inoSize <= n; {
			raw := buf[off:n]
			nameLen := int(s.inoLen.uint(raw, s.be))
			if s.inoSize+nameLen > len(raw) {
				yield(InotifyEvent{}, callErr("read", EIO)) // a torn event: cannot happen
				return
			}
			ev := InotifyEvent{
				Wd:     int(int32(s.inoWd.uint(raw, s.be))),
				Mask:   InotifyMask(k.flagsFromABI(inotifyMaskFamily, s.inoMask.uint(raw, s.be))),
				Cookie: uint32(s.inoCookie.uint(raw, s.be)),
				Name:   goString(raw[s.inoSize : s.inoSize+nameLen]),
			}
			off += s.inoSize + nameLen
			if !yield(ev, nil) {
				return
			}
		}
	}
}
