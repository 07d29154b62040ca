package memfs

// Advisory locks: flock(2) locks, held by open files, and byte-range
// record locks (fcntl), held by a process (F_SETLK) or by an open file
// (F_OFD_SETLK). Waiters wait on the FS's condition and are all woken at
// each release.

// Flock takes, converts or releases f's flock lock: op is LOCK_SH, LOCK_EX
// or LOCK_UN, optionally with LOCK_NB. A conversion that would wait with
// LOCK_NB fails and keeps the lock f held.
func (f *File) Flock(op int) Errno {
	nb := op&LOCK_NB != 0
	switch op &^ LOCK_NB {
	case LOCK_SH, LOCK_EX, LOCK_UN:
	default:
		return EINVAL
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return EBADF
	}
	i := f.ino
	if op&^LOCK_NB == LOCK_UN {
		i.flockRelease(f)
		return 0
	}
	excl := op&^LOCK_NB == LOCK_EX
	for {
		others := 0
		for _, h := range i.flocks {
			if h != f {
				others++
			}
		}
		if others == 0 || !excl && !i.flockX {
			break
		}
		if nb {
			return EWOULDBLOCK
		}
		f.fs.cond.Wait()
		if f.closed {
			return EBADF
		}
	}
	held := false
	for _, h := range i.flocks {
		held = held || h == f
	}
	if !held {
		i.flocks = append(i.flocks, f)
	}
	i.flockX = excl
	return 0
}

// flockRelease drops f's flock lock; the caller holds the mutex.
func (i *Inode) flockRelease(f *File) {
	for k, h := range i.flocks {
		if h == f {
			i.flocks = append(i.flocks[:k], i.flocks[k+1:]...)
			if len(i.flocks) == 0 {
				i.flockX = false
			}
			i.fs.cond.Broadcast()
			return
		}
	}
}

// Flock describes a record lock, as struct flock does.
type Flock struct {
	Type   int16 // F_RDLCK, F_WRLCK, F_UNLCK
	Whence int16 // SEEK_SET, SEEK_CUR, SEEK_END
	Start  int64
	Len    int64 // 0: to the end of the file, however long it grows
	Pid    int32 // F_GETLK: the holder's, -1 for an OFD lock
}

// Owner identifies a lock holder: a process (by its pid) or an open file
// (OFD locks, Pid -1).
type Owner struct {
	Pid int32
	OFD *File
}

// rlock is one held record lock on [start, end]; end is MaxFileSize for a
// lock to the end of the file.
type rlock struct {
	owner      Owner
	typ        int16
	start, end int64
}

// span turns a Flock into an inclusive byte range.
func (f *File) span(l *Flock) (int64, int64, Errno) {
	var base int64
	switch l.Whence {
	case SEEK_SET:
	case SEEK_CUR:
		base = f.off
	case SEEK_END:
		base = f.ino.size
	default:
		return 0, 0, EINVAL
	}
	start := base + l.Start
	if l.Start > 0 && start < base {
		return 0, 0, EOVERFLOW
	}
	end := int64(MaxFileSize)
	switch {
	case l.Len > 0:
		if start > MaxFileSize-l.Len+1 {
			return 0, 0, EOVERFLOW
		}
		end = start + l.Len - 1
	case l.Len < 0:
		end = start - 1
		start += l.Len
	}
	if start < 0 {
		return 0, 0, EINVAL
	}
	return start, end, 0
}

func (i *Inode) conflict(o Owner, typ int16, start, end int64) *rlock {
	for _, l := range i.plocks {
		if l.owner == o || l.end < start || l.start > end {
			continue
		}
		if typ == F_WRLCK || l.typ == F_WRLCK {
			return l
		}
	}
	return nil
}

// GetLock reports the first lock that would conflict with l for owner o
// (F_GETLK, F_OFD_GETLK), or sets l.Type to F_UNLCK.
func (f *File) GetLock(o Owner, l *Flock) Errno {
	o = o.norm()
	if l.Type != F_RDLCK && l.Type != F_WRLCK {
		return EINVAL
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	start, end, e := f.span(l)
	if e != 0 {
		return e
	}
	c := f.ino.conflict(o, l.Type, start, end)
	if c == nil {
		l.Type = F_UNLCK
		return 0
	}
	l.Type, l.Whence, l.Start = c.typ, SEEK_SET, c.start
	l.Len = 0
	if c.end != MaxFileSize {
		l.Len = c.end - c.start + 1
	}
	l.Pid = c.owner.Pid
	return 0
}

// SetLock takes or releases a record lock for owner o (F_SETLK, F_SETLKW
// with wait, and their OFD forms). A read lock needs the file open for
// reading, a write lock for writing.
func (f *File) SetLock(o Owner, l *Flock, wait bool) Errno {
	o = o.norm()
	switch l.Type {
	case F_RDLCK:
		if !f.readable() {
			return EBADF
		}
	case F_WRLCK:
		if !f.writable() {
			return EBADF
		}
	case F_UNLCK:
	default:
		return EINVAL
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	start, end, e := f.span(l)
	if e != 0 {
		return e
	}
	i := f.ino
	if l.Type != F_UNLCK {
		for i.conflict(o, l.Type, start, end) != nil {
			if !wait {
				return EAGAIN
			}
			f.fs.cond.Wait()
			if f.closed {
				return EBADF
			}
		}
	}
	i.setRange(o, l.Type, start, end)
	return 0
}

// setRange makes o's locks over [start, end] be of type typ (F_UNLCK
// removes them), splitting and merging o's other locks.
func (i *Inode) setRange(o Owner, typ int16, start, end int64) {
	var out []*rlock
	for _, l := range i.plocks {
		if l.owner != o || l.end < start || l.start > end {
			out = append(out, l)
			continue
		}
		if l.start < start {
			out = append(out, &rlock{o, l.typ, l.start, start - 1})
		}
		if l.end > end {
			out = append(out, &rlock{o, l.typ, end + 1, l.end})
		}
	}
	if typ != F_UNLCK {
		nl := &rlock{o, typ, start, end}
		// Merge with o's adjacent locks of the same type.
		merged := out[:0]
		for _, l := range out {
			if l.owner == o && l.typ == typ && (l.end != MaxFileSize && l.end+1 == nl.start || nl.end != MaxFileSize && nl.end+1 == l.start) {
				nl.start = min(nl.start, l.start)
				nl.end = max(nl.end, l.end)
				continue
			}
			merged = append(merged, l)
		}
		out = append(merged, nl)
	}
	i.plocks = out
	i.fs.cond.Broadcast()
}

// ReleaseLocks drops every record lock process pid holds on f's file: a
// process's locks go when it closes any descriptor of the file.
func (f *File) ReleaseLocks(pid int32) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.ino.setRange(Owner{Pid: pid}, F_UNLCK, 0, MaxFileSize)
}

// releaseLocks drops the OFD locks of f; the caller holds the mutex.
func (i *Inode) releaseLocks(f *File) {
	i.setRange(Owner{Pid: -1, OFD: f}, F_UNLCK, 0, MaxFileSize)
}

// norm gives an OFD owner its one spelling.
func (o Owner) norm() Owner {
	if o.OFD != nil {
		o.Pid = -1
	}
	return o
}
