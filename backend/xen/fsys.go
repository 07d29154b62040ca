//go:build xen

package xen

import (
	"unsafe"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// The file system calls, on memfs.

const (
	atFdcwd           = -100
	atSymlinkNofollow = 0x100
	atRemovedir       = 0x200
	atEaccess         = 0x200
	atSymlinkFollow   = 0x400
	atNoAutomount     = 0x800
	atEmptyPath       = 0x1000
	atStatxSyncType   = 0x6000
)

var rootCred = memfs.Root // the unikernel's one user is root

// fdcwd is AT_FDCWD as an argument word.
const fdcwd uintptr = 1<<64 - 100

// inodeOf returns the inode a description is open on, or nil for an
// anonymous file (pipe, eventfd, ...).
func inodeOf(f file) *memfs.Inode {
	switch x := f.(type) {
	case *fsFile:
		return x.mf.Inode()
	case *devFile:
		return x.mf.Inode()
	case *pipeEnd:
		if x.mf != nil {
			return x.mf.Inode()
		}
	case *fifoRW:
		if x.r.mf != nil {
			return x.r.mf.Inode()
		}
	}
	return nil
}

// start returns where path is resolved from: nil (the root) for an
// absolute path, the current directory for AT_FDCWD, else dirfd's inode,
// which must be a directory unless path is empty.
func (k *kernel) start(dirfd uintptr, p string) (*memfs.Inode, Errno) {
	if p != "" && p[0] == '/' {
		return nil, 0
	}
	if int32(dirfd) == atFdcwd {
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.cwd, 0
	}
	of, e := k.get(dirfd)
	if e != 0 {
		return nil, e
	}
	defer k.put(of)
	ino := inodeOf(of.f)
	if ino == nil {
		if p == "" {
			return nil, ENOENT
		}
		return nil, ENOTDIR
	}
	if p != "" && ino.Mode()&memfs.S_IFMT != memfs.S_IFDIR {
		return nil, ENOTDIR
	}
	return ino, 0
}

// at reads a path argument and its start.
func (k *kernel) at(dirfd uintptr, pp unsafe.Pointer) (*memfs.Inode, string, Errno) {
	p, e := pathArg(pp)
	if e != 0 {
		return nil, "", e
	}
	st, e := k.start(dirfd, p)
	return st, p, e
}

// lookupAt resolves dirfd/path; empty with AT_EMPTY_PATH is dirfd's file.
func (k *kernel) lookupAt(dirfd uintptr, pp unsafe.Pointer, follow, emptyPath bool) (*memfs.Inode, Errno) {
	st, p, e := k.at(dirfd, pp)
	if e != 0 {
		return nil, e
	}
	fl := 0
	if follow {
		fl |= memfs.Follow
	}
	if p == "" {
		if !emptyPath {
			return nil, ENOENT
		}
		if st == nil {
			return nil, EBADF
		}
		return st, 0
	}
	return k.fs.Lookup(rootCred, st, p, fl)
}

// Opening.

const openat2Flags = memfs.O_ACCMODE | memfs.O_CREAT | memfs.O_EXCL | memfs.O_NOCTTY | memfs.O_TRUNC |
	memfs.O_APPEND | memfs.O_NONBLOCK | memfs.O_DSYNC | memfs.O_ASYNC | memfs.O_DIRECT | memfs.O_LARGEFILE |
	memfs.O_DIRECTORY | memfs.O_NOFOLLOW | memfs.O_NOATIME | memfs.O_CLOEXEC | memfs.O_SYNC | memfs.O_PATH | memfs.O_TMPFILE

func (k *kernel) openat(dirfd uintptr, pp unsafe.Pointer, flags, mode uintptr, resolve int) (uintptr, Errno) {
	st, p, e := k.at(dirfd, pp)
	if e != 0 {
		return 0, e
	}
	k.mu.Lock()
	perm := uint32(mode) & 0o7777 &^ k.umask
	k.mu.Unlock()
	mf, e := k.fs.Open(rootCred, st, p, int(flags), perm, resolve)
	if e != 0 {
		return 0, e
	}
	f, e := k.wrap(mf)
	if e != 0 {
		return 0, e
	}
	return k.install(f, flags&memfs.O_CLOEXEC != 0, 0)
}

// wrap gives an open memfs file its behaviour: FIFOs are pipes, device
// nodes devices.
func (k *kernel) wrap(mf *memfs.File) (file, Errno) {
	if mf.PathOnly() {
		return &fsFile{mf}, 0
	}
	ino := mf.Inode()
	switch ino.Mode() & memfs.S_IFMT {
	case memfs.S_IFIFO:
		return k.openFifo(mf)
	case memfs.S_IFCHR:
		if d := deviceKind(ino.Rdev()); d != devNone {
			return &devFile{mf, d}, 0
		}
		mf.Close()
		return nil, ENXIO
	case memfs.S_IFBLK, memfs.S_IFSOCK:
		mf.Close()
		return nil, ENXIO
	}
	return &fsFile{mf}, 0
}

func (k *kernel) openat2(dirfd uintptr, pp, how unsafe.Pointer, size uintptr) (uintptr, Errno) {
	l := layouts["open_how"]
	if size < uintptr(l.size) || size > 4096 {
		return 0, EINVAL
	}
	if how == nil {
		return 0, EFAULT
	}
	for _, b := range unsafe.Slice((*byte)(how), size)[l.size:] {
		if b != 0 {
			return 0, memfs.E2BIG
		}
	}
	o := view(how, "open_how")
	flags, mode, resolve := o.get("flags"), o.get("mode"), o.get("resolve")
	if flags&^openat2Flags != 0 {
		return 0, EINVAL
	}
	if mode&^0o7777 != 0 || mode != 0 && flags&memfs.O_CREAT == 0 && flags&memfs.O_TMPFILE != memfs.O_TMPFILE {
		return 0, EINVAL
	}
	if flags&memfs.O_PATH != 0 && flags&^(memfs.O_PATH|memfs.O_DIRECTORY|memfs.O_NOFOLLOW|memfs.O_CLOEXEC) != 0 {
		return 0, EINVAL
	}
	r, e := memfs.ResolveFlags(resolve)
	if e != 0 {
		return 0, e
	}
	return k.openat(dirfd, pp, uintptr(flags), uintptr(mode), r)
}

// Status.

func putStat(p unsafe.Pointer, st memfs.Stat) {
	o := newOut(p, "stat")
	o.put("st_dev", st.Dev)
	o.put("st_ino", st.Ino)
	o.put("st_nlink", uint64(st.Nlink))
	o.put("st_mode", uint64(st.Mode))
	o.put("st_uid", uint64(st.Uid))
	o.put("st_gid", uint64(st.Gid))
	o.put("st_rdev", st.Rdev)
	o.put("st_size", uint64(st.Size))
	o.put("st_blksize", uint64(st.Blksize))
	o.put("st_blocks", uint64(st.Blocks))
	o.put("st_atim.tv_sec", uint64(st.Atime.Sec))
	o.put("st_atim.tv_nsec", uint64(st.Atime.Nsec))
	o.put("st_mtim.tv_sec", uint64(st.Mtime.Sec))
	o.put("st_mtim.tv_nsec", uint64(st.Mtime.Nsec))
	o.put("st_ctim.tv_sec", uint64(st.Ctime.Sec))
	o.put("st_ctim.tv_nsec", uint64(st.Ctime.Nsec))
}

const (
	statxBasicStats = 0x7ff
	statxBtime      = 0x800
	statxMntID      = 0x1000
	statxReserved   = 0x80000000
)

func putStatx(p unsafe.Pointer, st memfs.Stat) {
	o := newOut(p, "statx")
	o.put("stx_mask", statxBasicStats|statxBtime|statxMntID)
	o.put("stx_blksize", uint64(st.Blksize))
	o.put("stx_nlink", uint64(st.Nlink))
	o.put("stx_uid", uint64(st.Uid))
	o.put("stx_gid", uint64(st.Gid))
	o.put("stx_mode", uint64(st.Mode))
	o.put("stx_ino", st.Ino)
	o.put("stx_size", uint64(st.Size))
	o.put("stx_blocks", uint64(st.Blocks))
	for _, t := range []struct {
		name string
		ts   memfs.Timespec
	}{{"stx_atime", st.Atime}, {"stx_btime", st.Btime}, {"stx_ctime", st.Ctime}, {"stx_mtime", st.Mtime}} {
		o.put(t.name+".tv_sec", uint64(t.ts.Sec))
		o.put(t.name+".tv_nsec", uint64(t.ts.Nsec))
	}
	o.put("stx_rdev_major", uint64(devMajor(st.Rdev)))
	o.put("stx_rdev_minor", uint64(devMinor(st.Rdev)))
	o.put("stx_dev_major", uint64(devMajor(st.Dev)))
	o.put("stx_dev_minor", uint64(devMinor(st.Dev)))
	o.put("stx_mnt_id", 1)
}

func (k *kernel) fstat(fd uintptr, sp unsafe.Pointer) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	st := of.f.stat()
	k.put(of)
	if sp == nil {
		return 0, EFAULT
	}
	putStat(sp, st)
	return 0, 0
}

// statAt is the status behind fstatat and statx.
func (k *kernel) statAt(dirfd uintptr, pp unsafe.Pointer, flags uintptr) (memfs.Stat, Errno) {
	if flags&atEmptyPath != 0 && pp != nil {
		if p, e := pathArg(pp); e == 0 && p == "" && int32(dirfd) != atFdcwd {
			of, e := k.get(dirfd)
			if e != 0 {
				return memfs.Stat{}, e
			}
			defer k.put(of)
			return of.f.stat(), 0
		}
	}
	if pp == nil && flags&atEmptyPath != 0 {
		of, e := k.get(dirfd)
		if e != 0 {
			return memfs.Stat{}, e
		}
		defer k.put(of)
		return of.f.stat(), 0
	}
	ino, e := k.lookupAt(dirfd, pp, flags&atSymlinkNofollow == 0, flags&atEmptyPath != 0)
	if e != 0 {
		return memfs.Stat{}, e
	}
	return ino.Stat(), 0
}

func (k *kernel) fstatat(dirfd uintptr, pp, sp unsafe.Pointer, flags uintptr) (uintptr, Errno) {
	if flags&^(atSymlinkNofollow|atEmptyPath|atNoAutomount) != 0 {
		return 0, EINVAL
	}
	st, e := k.statAt(dirfd, pp, flags)
	if e != 0 {
		return 0, e
	}
	if sp == nil {
		return 0, EFAULT
	}
	putStat(sp, st)
	return 0, 0
}

func (k *kernel) statx(dirfd uintptr, pp unsafe.Pointer, flags, mask uintptr, sp unsafe.Pointer) (uintptr, Errno) {
	if flags&^(atSymlinkNofollow|atEmptyPath|atNoAutomount|atStatxSyncType) != 0 || flags&atStatxSyncType == atStatxSyncType {
		return 0, EINVAL
	}
	if mask&statxReserved != 0 {
		return 0, EINVAL
	}
	st, e := k.statAt(dirfd, pp, flags)
	if e != 0 {
		return 0, e
	}
	if sp == nil {
		return 0, EFAULT
	}
	putStatx(sp, st)
	return 0, 0
}

const (
	pipefsMagic    = 0x50495045
	anonInodeMagic = 0x09041934
)

func (k *kernel) putStatfs(p unsafe.Pointer, f file) {
	s := k.fs.Statfs()
	if f != nil && inodeOf(f) == nil {
		s.Type = anonInodeMagic
		if _, _, w := pipeOf(f); w || isPipe(f) {
			s.Type = pipefsMagic
		}
	}
	o := newOut(p, "statfs")
	o.put("f_type", uint64(s.Type))
	o.put("f_bsize", uint64(s.Bsize))
	o.put("f_blocks", s.Blocks)
	o.put("f_bfree", s.Bfree)
	o.put("f_bavail", s.Bavail)
	o.put("f_files", s.Files)
	o.put("f_ffree", s.Ffree)
	o.put("f_fsid", uint64(uint32(s.Fsid[0]))|uint64(uint32(s.Fsid[1]))<<32)
	o.put("f_namelen", uint64(s.Namelen))
	o.put("f_frsize", uint64(s.Frsize))
	o.put("f_flags", 0x20|0x400) // ST_VALID, ST_RELATIME
}

func isPipe(f file) bool {
	p, _, _ := pipeOf(f)
	return p != nil
}

func (k *kernel) statfs(pp, sp unsafe.Pointer) (uintptr, Errno) {
	if _, e := k.lookupAt(fdcwd, pp, true, false); e != 0 {
		return 0, e
	}
	if sp == nil {
		return 0, EFAULT
	}
	k.putStatfs(sp, nil)
	return 0, 0
}

func (k *kernel) fstatfs(fd uintptr, sp unsafe.Pointer) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	if sp == nil {
		return 0, EFAULT
	}
	k.putStatfs(sp, of.f)
	return 0, 0
}

// Descriptors.

func (k *kernel) lseek(fd uintptr, off int64, whence uintptr) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	switch f := of.f.(type) {
	case *fsFile:
		if whence > memfs.SEEK_HOLE {
			return 0, EINVAL
		}
		r, e := f.mf.Lseek(off, int(whence))
		return uintptr(r), e
	case *devFile:
		if f.dev == devConsole {
			return 0, ESPIPE
		}
		if whence > memfs.SEEK_END {
			return 0, EINVAL
		}
		return 0, 0
	}
	return 0, ESPIPE
}

func (k *kernel) dupMin(fd uintptr, min int64, cloexec bool) (uintptr, Errno) {
	if min < 0 || min >= maxFds {
		return 0, EINVAL
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if fd >= uintptr(len(k.fds)) || k.fds[fd].of == nil {
		return 0, EBADF
	}
	return k.installLocked(k.fds[fd].of, cloexec, int(min))
}

func (k *kernel) dup2(oldfd, newfd uintptr) (uintptr, Errno) {
	if oldfd == newfd {
		of, e := k.get(oldfd)
		if e != 0 {
			return 0, e
		}
		k.put(of)
		return newfd, 0
	}
	if e := k.dupTo(oldfd, newfd, false); e != 0 {
		return 0, e
	}
	return newfd, 0
}

func (k *kernel) dup3(oldfd, newfd, flags uintptr) (uintptr, Errno) {
	if flags&^memfs.O_CLOEXEC != 0 || oldfd == newfd {
		return 0, EINVAL
	}
	if e := k.dupTo(oldfd, newfd, flags != 0); e != 0 {
		return 0, e
	}
	return newfd, 0
}

// fcntl commands.
const (
	fDupfd        = 0
	fGetfd        = 1
	fSetfd        = 2
	fGetfl        = 3
	fSetfl        = 4
	fGetlk        = 5
	fSetlk        = 6
	fSetlkw       = 7
	fSetown       = 8
	fGetown       = 9
	fOfdGetlk     = 36
	fOfdSetlk     = 37
	fOfdSetlkw    = 38
	fDupfdCloexec = 1030
	fSetpipeSz    = 1031
	fGetpipeSz    = 1032
	fAddSeals     = 1033
	fGetSeals     = 1034
)

//go:nosplit
func fcntlTakesPtr(cmd uintptr) bool {
	switch cmd {
	case fGetlk, fSetlk, fSetlkw, fOfdGetlk, fOfdSetlk, fOfdSetlkw:
		return true
	}
	return false
}

func (k *kernel) fcntl(fd, cmd, arg uintptr, p unsafe.Pointer) (uintptr, Errno) {
	switch cmd {
	case fDupfd, fDupfdCloexec:
		return k.dupMin(fd, int64(int32(arg)), cmd == fDupfdCloexec)
	case fGetfd, fSetfd:
		k.mu.Lock()
		defer k.mu.Unlock()
		if fd >= uintptr(len(k.fds)) || k.fds[fd].of == nil {
			return 0, EBADF
		}
		if cmd == fSetfd {
			k.fds[fd].cloexec = arg&1 != 0
			return 0, 0
		}
		if k.fds[fd].cloexec {
			return 1, 0
		}
		return 0, 0
	}
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	switch cmd {
	case fGetfl:
		fl := of.f.flags()
		if fl&memfs.O_PATH != 0 {
			fl = memfs.O_PATH
		}
		return uintptr(fl), 0
	case fSetfl:
		if of.f.flags()&memfs.O_PATH != 0 {
			return 0, EBADF
		}
		of.f.setFlags(int(arg))
		k.hub.wake()
		return 0, 0
	case fSetown:
		return 0, 0
	case fGetown:
		return 0, 0
	case fGetlk, fSetlk, fSetlkw, fOfdGetlk, fOfdSetlk, fOfdSetlkw:
		ff, ok := of.f.(*fsFile)
		if !ok || ff.mf.PathOnly() {
			if ok {
				return 0, EBADF
			}
			return 0, EINVAL
		}
		if p == nil {
			return 0, EFAULT
		}
		o := view(p, "flock")
		l := memfs.Flock{Type: int16(o.get("l_type")), Whence: int16(o.get("l_whence")),
			Start: int64(o.get("l_start")), Len: int64(o.get("l_len")), Pid: int32(o.get("l_pid"))}
		owner := memfs.Owner{Pid: k.pid}
		ofd := cmd >= fOfdGetlk
		if ofd {
			if l.Pid != 0 {
				return 0, EINVAL
			}
			owner = memfs.Owner{OFD: ff.mf}
		}
		switch cmd {
		case fGetlk, fOfdGetlk:
			if e := ff.mf.GetLock(owner, &l); e != 0 {
				return 0, e
			}
			o.put("l_type", uint64(uint16(l.Type)))
			o.put("l_whence", uint64(uint16(l.Whence)))
			o.put("l_start", uint64(l.Start))
			o.put("l_len", uint64(l.Len))
			o.put("l_pid", uint64(uint32(l.Pid)))
			return 0, 0
		}
		return 0, ff.mf.SetLock(owner, &l, cmd == fSetlkw || cmd == fOfdSetlkw)
	case fGetpipeSz, fSetpipeSz:
		pp, _, _ := pipeOf(of.f)
		if pp == nil {
			return 0, EBADF
		}
		if cmd == fSetpipeSz {
			n, e := pp.setSize(int64(int32(arg)))
			k.hub.wake()
			return uintptr(n), e
		}
		pp.mu.Lock()
		defer pp.mu.Unlock()
		return uintptr(pp.cap), 0
	case fAddSeals, fGetSeals:
		ff, ok := of.f.(*fsFile)
		if !ok {
			return 0, EINVAL
		}
		if cmd == fGetSeals {
			s, e := ff.mf.Seals()
			return uintptr(s), e
		}
		return 0, ff.mf.AddSeals(uint32(arg))
	}
	return 0, EINVAL
}

// ioctl requests served.
const (
	fioclex  = 0x5451
	fionclex = 0x5450
	fionbio  = 0x5421
	fionread = 0x541b
)

//go:nosplit
func ioctlTakesPtr(req uintptr) bool { return req == fionbio || req == fionread }

func (k *kernel) ioctl(fd, req uintptr, p unsafe.Pointer) (uintptr, Errno) {
	switch req {
	case fioclex, fionclex:
		k.mu.Lock()
		defer k.mu.Unlock()
		if fd >= uintptr(len(k.fds)) || k.fds[fd].of == nil {
			return 0, EBADF
		}
		k.fds[fd].cloexec = req == fioclex
		return 0, 0
	}
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	switch req {
	case fionbio:
		if p == nil {
			return 0, EFAULT
		}
		fl := of.f.flags() &^ memfs.O_NONBLOCK
		if *(*int32)(p) != 0 {
			fl |= memfs.O_NONBLOCK
		}
		of.f.setFlags(fl)
		return 0, 0
	case fionread:
		if p == nil {
			return 0, EFAULT
		}
		var n int
		switch f := of.f.(type) {
		case *fsFile:
			st := f.stat()
			if st.Mode&memfs.S_IFMT != memfs.S_IFREG {
				return 0, ENOTTY
			}
			n = int(max(0, st.Size-f.mf.Offset()))
		case *inotifyFD:
			n = f.pending()
		default:
			pp, r, _ := pipeOf(of.f)
			if pp == nil || !r {
				return 0, ENOTTY
			}
			pp.mu.Lock()
			n = len(pp.data)
			pp.mu.Unlock()
		}
		*(*int32)(p) = int32(n)
		return 0, 0
	}
	return 0, ENOTTY
}

func (k *kernel) fsFileOf(fd uintptr) (*ofile, *fsFile, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return nil, nil, e
	}
	ff, ok := of.f.(*fsFile)
	if !ok {
		k.put(of)
		return nil, nil, EINVAL
	}
	return of, ff, 0
}

func (k *kernel) ftruncate(fd uintptr, size int64) (uintptr, Errno) {
	of, ff, e := k.fsFileOf(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	if ff.mf.PathOnly() {
		return 0, EBADF
	}
	return 0, ff.mf.Truncate(size)
}

func (k *kernel) fallocate(fd uintptr, mode uintptr, off, n int64) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	ff, ok := of.f.(*fsFile)
	if !ok {
		if isPipe(of.f) {
			return 0, ESPIPE
		}
		return 0, memfs.ENODEV
	}
	if ff.mf.PathOnly() {
		return 0, EBADF
	}
	return 0, ff.mf.Fallocate(int(mode), off, n)
}

// fsync, fdatasync: memory is as durable as it gets; pipes and the like
// refuse, as Linux's do.
func (k *kernel) fsync(fd uintptr, anyFile bool) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	switch f := of.f.(type) {
	case *fsFile:
		if f.mf.PathOnly() {
			return 0, EBADF
		}
		return 0, 0
	case *devFile:
		return 0, 0
	}
	if anyFile {
		return 0, 0
	}
	return 0, EINVAL
}

func (k *kernel) getdents(fd uintptr, b unsafe.Pointer, n uintptr) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	ff, ok := of.f.(*fsFile)
	if !ok {
		return 0, ENOTDIR
	}
	p, e := userBuf(b, n)
	if e != 0 {
		return 0, e
	}
	r, e := ff.mf.Getdents(p)
	return uintptr(r), e
}

// The current directory.

func (k *kernel) chdir(pp unsafe.Pointer) (uintptr, Errno) {
	ino, e := k.lookupAt(fdcwd, pp, true, false)
	if e != 0 {
		return 0, e
	}
	return k.setCwd(ino)
}

func (k *kernel) setCwd(ino *memfs.Inode) (uintptr, Errno) {
	if ino.Mode()&memfs.S_IFMT != memfs.S_IFDIR {
		return 0, ENOTDIR
	}
	if e := k.fs.Access(rootCred, ino, memfs.X_OK); e != 0 {
		return 0, e
	}
	k.mu.Lock()
	k.cwd = ino
	k.mu.Unlock()
	return 0, 0
}

func (k *kernel) fchdir(fd uintptr) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	ino := inodeOf(of.f)
	if ino == nil {
		return 0, ENOTDIR
	}
	return k.setCwd(ino)
}

func (k *kernel) getcwd(b unsafe.Pointer, n uintptr) (uintptr, Errno) {
	k.mu.Lock()
	cwd := k.cwd
	k.mu.Unlock()
	s, e := k.fs.Path(cwd)
	if e != 0 {
		return 0, e
	}
	if uintptr(len(s)+1) > n {
		return 0, ERANGE
	}
	p, e := userBuf(b, n)
	if e != 0 {
		return 0, e
	}
	copy(p, s)
	p[len(s)] = 0
	return uintptr(len(s) + 1), 0
}

// Names.

func (k *kernel) mkdirat(dirfd uintptr, pp unsafe.Pointer, mode uintptr) (uintptr, Errno) {
	st, p, e := k.at(dirfd, pp)
	if e != 0 {
		return 0, e
	}
	k.mu.Lock()
	perm := uint32(mode) & 0o7777 &^ k.umask
	k.mu.Unlock()
	return 0, k.fs.Mkdir(rootCred, st, p, perm)
}

func (k *kernel) mknodat(dirfd uintptr, pp unsafe.Pointer, mode, dev uintptr) (uintptr, Errno) {
	if mode&^0o177777 != 0 || dev > 0xffffffff {
		return 0, EINVAL
	}
	st, p, e := k.at(dirfd, pp)
	if e != 0 {
		return 0, e
	}
	k.mu.Lock()
	m := uint32(mode)&memfs.S_IFMT | uint32(mode)&0o7777&^k.umask
	k.mu.Unlock()
	return 0, k.fs.Mknod(rootCred, st, p, m, uint64(dev))
}

func (k *kernel) unlinkat(dirfd uintptr, pp unsafe.Pointer, flags uintptr) (uintptr, Errno) {
	if flags&^atRemovedir != 0 {
		return 0, EINVAL
	}
	st, p, e := k.at(dirfd, pp)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Unlink(rootCred, st, p, flags&atRemovedir != 0)
}

func (k *kernel) linkat(odir uintptr, op unsafe.Pointer, ndir uintptr, np unsafe.Pointer, flags uintptr) (uintptr, Errno) {
	if flags&^(atSymlinkFollow|atEmptyPath) != 0 {
		return 0, EINVAL
	}
	ost, o, e := k.at(odir, op)
	if e != 0 {
		return 0, e
	}
	nst, n, e := k.at(ndir, np)
	if e != 0 {
		return 0, e
	}
	fl := 0
	if flags&atSymlinkFollow != 0 {
		fl |= memfs.Follow
	}
	if flags&atEmptyPath != 0 {
		fl |= memfs.EmptyPath
	}
	return 0, k.fs.Link(rootCred, ost, o, nst, n, fl)
}

func (k *kernel) symlinkat(tp unsafe.Pointer, dirfd uintptr, pp unsafe.Pointer) (uintptr, Errno) {
	target, e := pathArg(tp)
	if e != 0 {
		return 0, e
	}
	st, p, e := k.at(dirfd, pp)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Symlink(rootCred, target, st, p)
}

func (k *kernel) readlinkat(dirfd uintptr, pp, b unsafe.Pointer, n uintptr) (uintptr, Errno) {
	if int(n) <= 0 {
		return 0, EINVAL
	}
	st, p, e := k.at(dirfd, pp)
	if e != 0 {
		return 0, e
	}
	target, e := k.fs.Readlink(rootCred, st, p, memfs.EmptyPath)
	if e != 0 {
		return 0, e
	}
	out, e := userBuf(b, n)
	if e != 0 {
		return 0, e
	}
	return uintptr(copy(out, target)), 0
}

func (k *kernel) renameat(odir uintptr, op unsafe.Pointer, ndir uintptr, np unsafe.Pointer, flags uintptr) (uintptr, Errno) {
	ost, o, e := k.at(odir, op)
	if e != 0 {
		return 0, e
	}
	nst, n, e := k.at(ndir, np)
	if e != 0 {
		return 0, e
	}
	if flags > 0xffffffff {
		return 0, EINVAL
	}
	return 0, k.fs.Rename(rootCred, ost, o, nst, n, int(flags))
}

// Metadata.

func (k *kernel) fdInode(fd uintptr) (*memfs.Inode, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return nil, e
	}
	defer k.put(of)
	if ff, ok := of.f.(*fsFile); ok && ff.mf.PathOnly() {
		return nil, EBADF
	}
	ino := inodeOf(of.f)
	if ino == nil {
		return nil, EBADF
	}
	return ino, 0
}

func (k *kernel) fchmodat(dirfd uintptr, pp unsafe.Pointer, mode uintptr, follow bool) (uintptr, Errno) {
	ino, e := k.lookupAt(dirfd, pp, follow, false)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Chmod(rootCred, ino, uint32(mode))
}

func (k *kernel) fchmod(fd, mode uintptr) (uintptr, Errno) {
	ino, e := k.fdInode(fd)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Chmod(rootCred, ino, uint32(mode))
}

func idOf(v uintptr) int64 {
	if uint32(v) == ^uint32(0) {
		return -1
	}
	return int64(uint32(v))
}

func (k *kernel) fchownat(dirfd uintptr, pp unsafe.Pointer, uid, gid, flags uintptr) (uintptr, Errno) {
	if flags&^(atSymlinkNofollow|atEmptyPath) != 0 {
		return 0, EINVAL
	}
	ino, e := k.lookupAt(dirfd, pp, flags&atSymlinkNofollow == 0, flags&atEmptyPath != 0)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Chown(rootCred, ino, idOf(uid), idOf(gid))
}

func (k *kernel) fchown(fd, uid, gid uintptr) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	ino := inodeOf(of.f)
	if ino == nil {
		return 0, EBADF
	}
	return 0, k.fs.Chown(rootCred, ino, idOf(uid), idOf(gid))
}

func (k *kernel) utimensat(dirfd uintptr, pp, tp unsafe.Pointer, flags uintptr) (uintptr, Errno) {
	if flags&^(atSymlinkNofollow|atEmptyPath) != 0 {
		return 0, EINVAL
	}
	at := memfs.Timespec{Nsec: memfs.UTIME_NOW}
	mt := at
	if tp != nil {
		at.Sec, at.Nsec = getTimespec(tp)
		mt.Sec, mt.Nsec = getTimespec(unsafe.Add(tp, layouts["timespec"].size))
	}
	var ino *memfs.Inode
	var e Errno
	if pp == nil {
		// futimens: the open file itself.
		if int32(dirfd) == atFdcwd {
			return 0, EFAULT
		}
		of, e := k.get(dirfd)
		if e != 0 {
			return 0, e
		}
		ino = inodeOf(of.f)
		k.put(of)
		if ino == nil {
			return 0, EBADF
		}
	} else if ino, e = k.lookupAt(dirfd, pp, flags&atSymlinkNofollow == 0, flags&atEmptyPath != 0); e != 0 {
		return 0, e
	}
	return 0, k.fs.Utimens(rootCred, ino, at, mt)
}

func (k *kernel) faccessat(dirfd uintptr, pp unsafe.Pointer, mode, flags uintptr) (uintptr, Errno) {
	if flags&^(atEaccess|atSymlinkNofollow|atEmptyPath) != 0 {
		return 0, EINVAL
	}
	if mode&^7 != 0 {
		return 0, EINVAL
	}
	ino, e := k.lookupAt(dirfd, pp, flags&atSymlinkNofollow == 0, flags&atEmptyPath != 0)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Access(rootCred, ino, uint32(mode))
}

func (k *kernel) truncate(pp unsafe.Pointer, size int64) (uintptr, Errno) {
	ino, e := k.lookupAt(fdcwd, pp, true, false)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Truncate(rootCred, ino, size)
}

func (k *kernel) flock(fd, op uintptr) (uintptr, Errno) {
	of, ff, e := k.fsFileOf(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	if ff.mf.PathOnly() {
		return 0, EBADF
	}
	return 0, ff.mf.Flock(int(op))
}

func (k *kernel) umaskCall(m uintptr) (uintptr, Errno) {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.umask
	k.umask = uint32(m) & 0o777
	return uintptr(old), 0
}

const (
	mfdCloexec      = 1
	mfdAllowSealing = 2
	mfdNoexecSeal   = 8
	mfdExec         = 0x10
)

func (k *kernel) memfdCreate(np unsafe.Pointer, flags uintptr) (uintptr, Errno) {
	name, e := cstring(np, 250)
	if e == ENAMETOOLONG {
		return 0, EINVAL
	}
	if e != 0 {
		return 0, e
	}
	_ = name
	if flags&^(mfdCloexec|mfdAllowSealing|mfdNoexecSeal|mfdExec) != 0 {
		return 0, EINVAL
	}
	mf := k.fs.Anonymous(rootCred, 0o777, memfs.O_RDWR|memfs.O_LARGEFILE, flags&mfdAllowSealing != 0)
	return k.install(&fsFile{mf}, flags&mfdCloexec != 0, 0)
}

// Extended attributes.

func xattrName(p unsafe.Pointer) (string, Errno) {
	n, e := cstring(p, memfs.XattrNameMax+1)
	if e == ENAMETOOLONG || e == 0 && n == "" {
		return "", ERANGE
	}
	return n, e
}

// xattrInode finds the inode of a path call (follow or not) or of an fd.
func (k *kernel) xattrInode(fd uintptr, pp unsafe.Pointer, follow, byFd bool) (*memfs.Inode, Errno) {
	if byFd {
		return k.fdInode(fd)
	}
	return k.lookupAt(fdcwd, pp, follow, false)
}

func (k *kernel) setxattr(ino *memfs.Inode, e Errno, np, vp unsafe.Pointer, size, flags uintptr) (uintptr, Errno) {
	if e != 0 {
		return 0, e
	}
	name, e := xattrName(np)
	if e != 0 {
		return 0, e
	}
	if size > memfs.XattrSizeMax {
		return 0, memfs.E2BIG
	}
	v, e := userBuf(vp, size)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Setxattr(rootCred, ino, name, v, int(flags))
}

func (k *kernel) getxattr(ino *memfs.Inode, e Errno, np, vp unsafe.Pointer, size uintptr) (uintptr, Errno) {
	if e != 0 {
		return 0, e
	}
	name, e := xattrName(np)
	if e != 0 {
		return 0, e
	}
	v, e := userBuf(vp, min(size, memfs.XattrSizeMax))
	if e != 0 {
		return 0, e
	}
	n, e := k.fs.Getxattr(rootCred, ino, name, v)
	return uintptr(n), e
}

func (k *kernel) listxattr(ino *memfs.Inode, e Errno, lp unsafe.Pointer, size uintptr) (uintptr, Errno) {
	if e != 0 {
		return 0, e
	}
	v, e := userBuf(lp, min(size, memfs.XattrListMax))
	if e != 0 {
		return 0, e
	}
	n, e := k.fs.Listxattr(rootCred, ino, v)
	return uintptr(n), e
}

func (k *kernel) removexattr(ino *memfs.Inode, e Errno, np unsafe.Pointer) (uintptr, Errno) {
	if e != 0 {
		return 0, e
	}
	name, e := xattrName(np)
	if e != 0 {
		return 0, e
	}
	return 0, k.fs.Removexattr(rootCred, ino, name)
}
