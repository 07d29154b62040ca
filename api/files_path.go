package api

import (
	"errors"
	"os"
	"unsafe"
)

// Names in the file system: link, symlink, readlink, rename, unlink, mkdir,
// rmdir, mknod. The classic one-path calls use the ABI's own syscall where it
// has one (so that the matrix row "link" really exercises link) and fall back
// to the *at form with AT_FDCWD on ABIs that only have that (arm64,
// riscv64).

var (
	sysLink       = newCall("link")
	sysLinkat     = newCall("linkat")
	sysSymlink    = newCall("symlink")
	sysSymlinkat  = newCall("symlinkat")
	sysReadlink   = newCall("readlink")
	sysReadlinkat = newCall("readlinkat")
	sysRename     = newCall("rename")
	sysRenameat   = newCall("renameat")
	sysRenameat2  = newCall("renameat2")
	sysUnlink     = newCall("unlink")
	sysUnlinkat   = newCall("unlinkat")
	sysMkdir      = newCall("mkdir")
	sysMkdirat    = newCall("mkdirat")
	sysRmdir      = newCall("rmdir")
	sysMknod      = newCall("mknod", "__mknod50")
	sysMknodat    = newCall("mknodat")
	sysMkfifo     = newCall("mkfifo")
	sysMkfifoat   = newCall("mkfifoat")
)

// fmetaState is what the names, metadata, copying and xattr calls resolve
// from the ABI table, once per Kernel at New.
type fmetaState struct {
	// utimensat's special nanosecond values; utimeOK is false when the ABI
	// lacks them.
	utimeNow, utimeOmit uint64
	utimeOK             bool
	// struct timespec, for utimensat's times[2].
	ts            layout
	tsSec, tsNsec fieldAt
	tsErr         error

	// iovecGo: the ABI's struct iovec is laid out as fmIovec, so vmsplice
	// can hand the kernel an array the Go runtime keeps pointers in.
	iovecGo bool
	iovMax  int

	// fcntl commands for memfd seals; sealsOK false when absent.
	fAddSeals, fGetSeals uint64
	sealsOK              bool

	xattrNameMax int

	// pathMax is the ABI's PATH_MAX (4096 on Linux, 1024 on NetBSD):
	// the buffer getcwd needs for any path it can report.
	pathMax int
}

// fmeta returns k's fmetaState.
func (k *Kernel) fmeta() *fmetaState { return k.meta }

func newFmetaState(k *Kernel) *fmetaState {
	t := k.table
	s := &fmetaState{xattrNameMax: 255, iovMax: 1024, pathMax: 4096}
	if v, ok := t.Const("PATH_MAX"); ok && v > 0 && v <= dirGetcwdMax {
		s.pathMax = int(v)
	}
	now, ok1 := t.Const("UTIME_NOW")
	omit, ok2 := t.Const("UTIME_OMIT")
	s.utimeNow, s.utimeOmit, s.utimeOK = now, omit, ok1 && ok2
	if l, err := k.layoutOf("timespec"); err != nil {
		s.tsErr = errMissing("struct timespec")
	} else {
		s.ts = l
		st := l.s
		var e1, e2 error
		s.tsSec, e1 = s.ts.must("tv_sec")
		s.tsNsec, e2 = s.ts.must("tv_nsec")
		switch {
		case e1 != nil:
			s.tsErr = e1
		case e2 != nil:
			s.tsErr = e2
		case 2*st.Size > utimesBufSize:
			s.tsErr = errMissing("a struct timespec of at most 32 bytes")
		}
	}
	if st, ok := t.Struct("iovec"); ok {
		var v fmIovec
		b, okb := st.Field("iov_base")
		l, okl := st.Field("iov_len")
		s.iovecGo = okb && okl && uintptr(st.Size) == unsafe.Sizeof(v) &&
			b.Offset == 0 && uintptr(b.Size) == unsafe.Sizeof(v.base) &&
			uintptr(l.Offset) == unsafe.Offsetof(v.n) && uintptr(l.Size) == unsafe.Sizeof(v.n)
	}
	if v, ok := t.Const("UIO_MAXIOV"); ok {
		s.iovMax = int(v)
	} else if v, ok := t.Const("IOV_MAX"); ok {
		s.iovMax = int(v)
	}
	a, ok1 := t.Const("F_ADD_SEALS")
	g, ok2 := t.Const("F_GET_SEALS")
	s.fAddSeals, s.fGetSeals, s.sealsOK = a, g, ok1 && ok2
	if v, ok := t.Const("XATTR_NAME_MAX"); ok {
		s.xattrNameMax = int(v)
	}
	return s
}

// linkErr wraps e for the two-name calls, as os.Link and os.Rename do.
func linkErr(call, old, new string, e Errno) error {
	return &os.LinkError{Op: call, Old: old, New: new, Err: e}
}

// Each call below with a classic one-path form takes it as legacy (sysNone
// for the *at form itself) and makes it when the ABI has it; the arguments
// are checked the same way for both forms.

// Link makes a new name newname for the file oldname (a hard link). It does
// not follow a final symbolic link in oldname, as Linux's link does not.
func (k *Kernel) Link(oldname, newname string) error {
	return k.linkat("link", sysLink, nil, oldname, nil, newname, 0)
}

// Linkat is Link relative to directories (nil: the current directory).
// flags may hold AT_SYMLINK_FOLLOW (link what a final symbolic link in
// oldname points to) and AT_EMPTY_PATH (oldname "" links the file olddir is
// open on; Linux allows it to callers with CAP_DAC_READ_SEARCH, and to
// anyone for an O_TMPFILE file).
func (k *Kernel) Linkat(olddir *Fd, oldname string, newdir *Fd, newname string, flags AtFlags) error {
	return k.linkat("linkat", sysNone, olddir, oldname, newdir, newname, flags)
}

func (k *Kernel) linkat(op string, legacy call, olddir *Fd, oldname string, newdir *Fd, newname string, flags AtFlags) error {
	if flags&^(AT_SYMLINK_FOLLOW|AT_EMPTY_PATH) != 0 {
		return badArg(op, "flags "+flags.String()+": only AT_SYMLINK_FOLLOW and AT_EMPTY_PATH apply")
	}
	if k.hasCall(legacy) {
		return k.namesCall(op, legacy, oldname, newname)
	}
	fl, err := k.flagsToABI(atFlagsFamily, uint64(flags))
	if err != nil {
		return &os.LinkError{Op: op, Old: oldname, New: newname, Err: err}
	}
	return k.names2Call(op, sysLinkat, olddir, oldname, newdir, newname, uintptr(fl))
}

// Symlink makes linkname a symbolic link whose content is target. The
// target is stored as given; it need not exist.
func (k *Kernel) Symlink(target, linkname string) error {
	return k.symlinkat("symlink", sysSymlink, target, nil, linkname)
}

// Symlinkat is Symlink with linkname relative to dir (nil: the current
// directory).
func (k *Kernel) Symlinkat(target string, dir *Fd, linkname string) error {
	return k.symlinkat("symlinkat", sysNone, target, dir, linkname)
}

func (k *Kernel) symlinkat(op string, legacy call, target string, dir *Fd, linkname string) error {
	if target == "" {
		// Linux refuses an empty target; NetBSD would make the link.
		return linkErr(op, target, linkname, ENOENT)
	}
	if k.hasCall(legacy) {
		return k.namesCall(op, legacy, target, linkname)
	}
	var pa, pb pathBuf
	pt, err := pa.cstr(op, target)
	if err != nil {
		return err
	}
	pl, err := pb.cstr(op, linkname)
	if err != nil {
		return err
	}
	d, e := k.dirfd(dir)
	if e != 0 {
		return linkErr(op, target, linkname, e)
	}
	_, e = k.syscall(sysSymlinkat, uintptr(pt), d, uintptr(pl), 0, 0, 0)
	k.releaseDir(dir)
	if e != 0 {
		return linkErr(op, target, linkname, e)
	}
	return nil
}

// readlinkMax bounds how far Readlink grows its buffer; Linux limits link
// targets to PATH_MAX, but some file systems store longer ones.
const readlinkMax = 1 << 20

// Readlink returns the target of the symbolic link path. A path that is not
// a symbolic link gives EINVAL.
func (k *Kernel) Readlink(path string) (string, error) {
	return k.readlinkat("readlink", sysReadlink, nil, path)
}

// Readlinkat is Readlink relative to dir (nil: the current directory). An
// empty path reads the link dir itself is open on (with O_PATH|O_NOFOLLOW).
func (k *Kernel) Readlinkat(dir *Fd, path string) (string, error) {
	return k.readlinkat("readlinkat", sysNone, dir, path)
}

func (k *Kernel) readlinkat(op string, legacy call, dir *Fd, path string) (string, error) {
	var pb pathBuf
	p, d, err := k.atArgs(op, dir, path, &pb)
	if err != nil {
		return "", err
	}
	c := sysReadlinkat
	if k.hasCall(legacy) {
		c = legacy
	}
	var small [256]byte
	buf := small[:]
	for {
		r, e := k.readlinkRaw(c, d, p, bufPtr(buf), len(buf))
		if e != 0 {
			k.releaseDir(dir)
			return "", pathErr(op, path, e)
		}
		// A full buffer may mean a truncated target: grow and read again.
		if int(r) < len(buf) {
			k.releaseDir(dir)
			return string(buf[:r]), nil
		}
		if len(buf) >= readlinkMax {
			k.releaseDir(dir)
			return "", pathErr(op, path, ENAMETOOLONG)
		}
		buf = make([]byte, 4*len(buf))
	}
}

// readlinkRaw makes one readlink (c == sysReadlink) or readlinkat call.
// Addresses arrive as unsafe.Pointer, which the runtime adjusts if the stack
// moves in this function's prologue.
func (k *Kernel) readlinkRaw(c call, d uintptr, p, b unsafe.Pointer, n int) (uintptr, Errno) {
	if c == sysReadlink {
		return k.syscall(c, uintptr(p), uintptr(b), uintptr(n), 0, 0, 0)
	}
	return k.syscall(c, d, uintptr(p), uintptr(b), uintptr(n), 0, 0)
}

// Rename renames oldname to newname, replacing newname if it exists (and,
// for directories, is empty).
func (k *Kernel) Rename(oldname, newname string) error {
	return k.renameat("rename", sysRename, nil, oldname, nil, newname, 0, false)
}

// Renameat is Rename relative to directories (nil: the current directory).
func (k *Kernel) Renameat(olddir *Fd, oldname string, newdir *Fd, newname string) error {
	return k.renameat("renameat", sysNone, olddir, oldname, newdir, newname, 0, false)
}

// Renameat2 is Renameat with flags: RENAME_NOREPLACE fails with EEXIST
// instead of replacing newname, RENAME_EXCHANGE swaps the two names
// atomically (both must exist), RENAME_WHITEOUT is for overlay file systems.
func (k *Kernel) Renameat2(olddir *Fd, oldname string, newdir *Fd, newname string, flags RenameFlags) error {
	return k.renameat("renameat2", sysNone, olddir, oldname, newdir, newname, flags, true)
}

func (k *Kernel) renameat(op string, legacy call, olddir *Fd, oldname string, newdir *Fd, newname string, flags RenameFlags, v2 bool) error {
	if flags&^(RENAME_NOREPLACE|RENAME_EXCHANGE|RENAME_WHITEOUT) != 0 {
		return badArg(op, "unknown RenameFlags bits "+flags.String())
	}
	if k.hasCall(legacy) {
		return k.namesCall(op, legacy, oldname, newname)
	}
	fl, err := k.flagsToABI(renameFlagsFamily, uint64(flags))
	if err != nil {
		return &os.LinkError{Op: op, Old: oldname, New: newname, Err: err}
	}
	c := sysRenameat
	if v2 || !k.hasCall(sysRenameat) {
		// renameat2 with no flags is renameat; arm64 and riscv64 only have it.
		c = sysRenameat2
	}
	return k.names2Call(op, c, olddir, oldname, newdir, newname, uintptr(fl))
}

// Unlink removes the name path (not a directory: use Rmdir).
func (k *Kernel) Unlink(path string) error {
	return k.unlinkat("unlink", sysUnlink, nil, path, 0)
}

// Unlinkat removes path relative to dir (nil: the current directory);
// with AT_REMOVEDIR it removes an empty directory, as Rmdir does.
func (k *Kernel) Unlinkat(dir *Fd, path string, flags AtFlags) error {
	return k.unlinkat("unlinkat", sysNone, dir, path, flags)
}

// Rmdir removes the empty directory path; a non-empty one gives ENOTEMPTY.
func (k *Kernel) Rmdir(path string) error {
	return k.unlinkat("rmdir", sysRmdir, nil, path, AT_REMOVEDIR)
}

// unlinkat serves unlink and rmdir too: their legacy calls take the path
// alone, flags being implied.
func (k *Kernel) unlinkat(op string, legacy call, dir *Fd, path string, flags AtFlags) error {
	if flags&^AT_REMOVEDIR != 0 {
		return badArg(op, "flags "+flags.String()+": only AT_REMOVEDIR applies")
	}
	var err error
	if k.hasCall(legacy) {
		_, err = k.pathCall(op, legacy, path, 0, 0)
	} else {
		fl, ferr := k.flagsToABI(atFlagsFamily, uint64(flags))
		if ferr != nil {
			return &os.PathError{Op: op, Path: path, Err: ferr}
		}
		_, err = k.atCall(op, sysUnlinkat, dir, path, uintptr(fl), 0, 0)
	}
	if flags&AT_REMOVEDIR == 0 && errors.Is(err, EPERM) && k.table.OS == "netbsd" {
		// BSD answers EPERM for unlink of a directory, Linux EISDIR:
		// say EISDIR when that is why.
		var st Stat
		if k.Fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) == nil && st.IsDir() {
			return &os.PathError{Op: op, Path: path, Err: EISDIR}
		}
	}
	return err
}

// checkPerm rejects mode bits beyond the permission, set-id and sticky bits,
// which mkdir and chmod would silently drop.
func checkPerm(op string, mode Mode) error {
	if mode&^0o7777 != 0 {
		return badArg(op, "mode "+mode.String()+" has bits other than permissions (0o7777)")
	}
	return nil
}

// Mkdir makes the directory path with permissions mode (less the umask).
func (k *Kernel) Mkdir(path string, mode Mode) error {
	return k.mkdirat("mkdir", sysMkdir, nil, path, mode)
}

// Mkdirat is Mkdir relative to dir (nil: the current directory).
func (k *Kernel) Mkdirat(dir *Fd, path string, mode Mode) error {
	return k.mkdirat("mkdirat", sysNone, dir, path, mode)
}

func (k *Kernel) mkdirat(op string, legacy call, dir *Fd, path string, mode Mode) error {
	if err := checkPerm(op, mode); err != nil {
		return err
	}
	return k.pathOrAt(op, legacy, sysMkdirat, dir, path, uintptr(mode), 0, 0)
}

// Mknod makes a file system node: mode holds the type (S_IFIFO, S_IFCHR,
// S_IFBLK, S_IFREG or S_IFSOCK) and the permissions; dev is the device
// number of a S_IFCHR or S_IFBLK node (see Mkdev). Device nodes need
// privilege (CAP_MKNOD); FIFOs do not.
func (k *Kernel) Mknod(path string, mode Mode, dev uint64) error {
	return k.mknodat("mknod", sysMknod, nil, path, mode, dev)
}

// Mknodat is Mknod relative to dir (nil: the current directory).
func (k *Kernel) Mknodat(dir *Fd, path string, mode Mode, dev uint64) error {
	return k.mknodat("mknodat", sysNone, dir, path, mode, dev)
}

func (k *Kernel) mknodat(op string, legacy call, dir *Fd, path string, mode Mode, dev uint64) error {
	if err := k.checkMknod(op, mode, dev); err != nil {
		return err
	}
	if mode&S_IFMT == S_IFIFO && k.hasCall(sysMkfifoat) {
		// ABIs with a mkfifo call (NetBSD) make FIFOs only through it;
		// their mknod refuses S_IFIFO.
		if legacy != sysNone {
			legacy = sysMkfifo
		}
		return k.pathOrAt(op, legacy, sysMkfifoat, dir, path, uintptr(mode&0o7777), 0, 0)
	}
	return k.pathOrAt(op, legacy, sysMknodat, dir, path, uintptr(mode), uintptr(dev), 0)
}

func (k *Kernel) checkMknod(op string, mode Mode, dev uint64) error {
	if mode&^(S_IFMT|0o7777) != 0 {
		return badArg(op, "mode "+mode.String()+" has unknown bits")
	}
	// Linux's mknod takes a 32-bit dev_t (12-bit major, 20-bit minor);
	// higher bits would be dropped without a word.
	if k.table.OS == "linux" && dev > 0xffffffff {
		return badArg(op, "device number does not fit Linux's 32-bit mknod dev_t")
	}
	return nil
}

// Mkdev returns the device number of major and minor in Linux's encoding,
// the one Stat.Rdev and Stat.Dev use on Linux and that Mknod expects:
// minor bits 0-7 at bits 0-7, major bits 0-11 at bits 8-19, minor bits 8-31
// at bits 20-43 and major bits 12-31 at bits 44-63 (glibc's
// gnu_dev_makedev). Numbers with major < 4096 and minor < 1<<20 fit in 32
// bits, which is what the kernel's mknod accepts. Other ABIs (NetBSD) encode
// device numbers differently.
func Mkdev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 |
		uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

// Major returns the major part of a device number in Linux's encoding (see
// Mkdev).
func Major(dev uint64) uint32 {
	return uint32((dev>>8)&0xfff | (dev>>32)&^0xfff)
}

// Minor returns the minor part of a device number in Linux's encoding (see
// Mkdev).
func Minor(dev uint64) uint32 {
	return uint32(dev&0xff | (dev>>12)&^0xff)
}
