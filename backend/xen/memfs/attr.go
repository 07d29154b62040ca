package memfs

// Metadata: permissions, owners, times, access checks, truncation.

// UTIME_NOW and UTIME_OMIT are the special nanosecond values of utimensat.
const (
	UTIME_NOW  = 1<<30 - 1
	UTIME_OMIT = 1<<30 - 2
)

// Chmod sets the permission bits of ino (mode & 07777).
func (fs *FS) Chmod(c *Cred, ino *Inode, mode uint32) Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !ino.owns(c) {
		return EPERM
	}
	mode &= 0o7777
	if c.Uid != 0 && !ino.isDir() && !c.inGroup(ino.gid) {
		mode &^= S_ISGID
	}
	ino.mode = ino.mode&S_IFMT | mode
	ino.touch(tC)
	fs.notify(nil, "", ino, IN_ATTRIB, 0)
	return 0
}

// Chown changes the owner and group of ino; -1 leaves one as it is.
func (fs *FS) Chown(c *Cred, ino *Inode, uid, gid int64) Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if c.Uid != 0 {
		// The owner may "change" the owner to itself and the group to one
		// of its own; giving a file away takes privilege.
		if uid != -1 && (c.Uid != ino.uid || uint32(uid) != ino.uid) {
			return EPERM
		}
		if gid != -1 && (c.Uid != ino.uid || uint32(gid) != ino.gid && !c.inGroup(uint32(gid))) {
			return EPERM
		}
	}
	if uid != -1 {
		ino.uid = uint32(uid)
	}
	if gid != -1 {
		ino.gid = uint32(gid)
	}
	if (uid != -1 || gid != -1) && !ino.isDir() {
		// A new owner never inherits the set-id powers of the old one.
		ino.mode &^= S_ISUID
		if ino.mode&0o010 != 0 {
			ino.mode &^= S_ISGID
		}
	}
	ino.touch(tC)
	fs.notify(nil, "", ino, IN_ATTRIB, 0)
	return 0
}

// Utimens sets the access and modification times of ino. A Nsec of
// UTIME_NOW means the current time, UTIME_OMIT leaves the time alone.
func (fs *FS) Utimens(c *Cred, ino *Inode, atime, mtime Timespec) Errno {
	for _, t := range []Timespec{atime, mtime} {
		if t.Nsec != UTIME_NOW && t.Nsec != UTIME_OMIT && (t.Nsec < 0 || t.Nsec >= 1e9) {
			return EINVAL
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if atime.Nsec == UTIME_OMIT && mtime.Nsec == UTIME_OMIT {
		return 0
	}
	explicit := (atime.Nsec != UTIME_NOW && atime.Nsec != UTIME_OMIT) || (mtime.Nsec != UTIME_NOW && mtime.Nsec != UTIME_OMIT)
	if !ino.owns(c) && (explicit || !ino.may(c, W_OK)) {
		if explicit {
			return EPERM
		}
		return EACCES
	}
	now := fs.now()
	set := func(dst *Timespec, t Timespec) {
		switch t.Nsec {
		case UTIME_OMIT:
		case UTIME_NOW:
			*dst = now
		default:
			*dst = t
		}
	}
	set(&ino.atime, atime)
	set(&ino.mtime, mtime)
	ino.ctime = now
	fs.notify(nil, "", ino, IN_ATTRIB, 0)
	return 0
}

// Access checks c's access to ino: mode is F_OK or R_OK|W_OK|X_OK.
func (fs *FS) Access(c *Cred, ino *Inode, mode uint32) Errno {
	if mode&^7 != 0 {
		return EINVAL
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !ino.may(c, mode) {
		return EACCES
	}
	return 0
}

// Truncate sets the size of the regular file ino, checking c's write
// permission (truncate(2); ftruncate goes through File.Truncate).
func (fs *FS) Truncate(c *Cred, ino *Inode, size int64) Errno {
	if size < 0 {
		return EINVAL
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if ino.isDir() {
		return EISDIR
	}
	if !ino.isReg() {
		return EINVAL
	}
	if !ino.may(c, W_OK) {
		return EACCES
	}
	if e := ino.truncate(size); e != 0 {
		return e
	}
	fs.notify(nil, "", ino, IN_MODIFY, 0)
	return 0
}

// truncate sets the size, dropping pages past it and zeroing the tail of
// the last one.
func (i *Inode) truncate(size int64) Errno {
	if size < i.size && i.seals&F_SEAL_SHRINK != 0 || size > i.size && i.seals&F_SEAL_GROW != 0 {
		return EPERM
	}
	if size < i.size {
		for p := range i.data {
			if p*pageSize >= size {
				delete(i.data, p)
				i.fs.pages--
			}
		}
		if rem := size % pageSize; rem != 0 {
			if pg := i.data[size/pageSize]; pg != nil {
				clear(pg[rem:])
			}
		}
	}
	i.size = size
	i.touch(tM | tC)
	return 0
}
