package api

import (
	"io"
	"io/fs"
	"time"
	"unsafe"
)

// The core of the files family: open, read, write, stat. The rest of the
// family lives in files_*.go.

var (
	sysOpenat  = newCall("openat")
	sysRead    = newCall("read")
	sysWrite   = newCall("write")
	sysPread   = newCall("pread64", "pread")
	sysPwrite  = newCall("pwrite64", "pwrite")
	sysFstat   = newCall("fstat", "__fstat50")
	sysFstatat = newCall("newfstatat", "fstatat", "__fstatat50")
)

// fileState is the files family's per-Kernel state.
type fileState struct {
	openFlags *family
	atFdcwd   uintptr // the ABI's AT_FDCWD
	// largefile is O_LARGEFILE on 32-bit Linux, added to every open:
	// without it the kernel refuses offsets past 2 GiB (EFBIG, EOVERFLOW),
	// as files opened by a C program built with 64-bit off_t never see.
	largefile uintptr

	stat     layout
	statFast bool // the ABI's struct stat is rawStatLP64: copy, do not decode
	statBSD  bool // the ABI's struct stat is rawStatNetBSD64 (rump kernels)
	st       statFields

	statx  layout // size 0 when the ABI has no statx
	stx    statxFields
	statfs layout // size 0 when the ABI has no Linux-style statfs
	// statfs64: 32-bit Linux's statfs64/fstatfs64, which take the struct's
	// size before its address, fill the layout statfs then holds
	// (struct statfs64), and do not fail with EOVERFLOW on large file
	// systems as the 32-bit statfs does.
	statfs64 bool
	sfs      statfsFields
	// statvfs is NetBSD's statvfs1 struct, which serves Statfs where the
	// ABI has no statfs (size 0 otherwise); sfs then holds its fields,
	// typ unset.
	statvfs    layout
	svTypename fieldAt // f_fstypename
	svWait     uintptr // ST_WAIT: statvfs1's flags, fresh figures

	fio fioState // descriptors, vectored I/O, locks (files_io.go)
	dir dirState // directories (dir.go)
}

// statFields are the places of struct stat's fields in the ABI.
type statFields struct {
	dev, ino, nlink, mode, uid, gid, rdev, size, blksize, blocks fieldAt
	atimS, atimN, mtimS, mtimN, ctimS, ctimN                     fieldAt
}

// statBufSize bounds struct stat in every ABI api serves (Linux 144, NetBSD
// 152); New refuses an ABI whose stat is larger.
const statBufSize = 256

func (s *fileState) init(k *Kernel) error {
	s.openFlags = openFlagsFamily
	v, ok := k.table.Const("AT_FDCWD")
	if !ok {
		return errMissing("AT_FDCWD")
	}
	s.atFdcwd = uintptr(v)
	if t := k.table; t.OS == "linux" && t.PtrSize == 4 {
		v, _ := t.Const("O_LARGEFILE")
		s.largefile = uintptr(v)
	}
	l, err := k.layoutOf("stat")
	if err != nil {
		return err
	}
	if l.size > statBufSize {
		return errMissing("a struct stat that fits 256 bytes")
	}
	s.stat = l
	f := &s.st
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{
		{&f.dev, "st_dev"}, {&f.ino, "st_ino"}, {&f.nlink, "st_nlink"}, {&f.mode, "st_mode"},
		{&f.uid, "st_uid"}, {&f.gid, "st_gid"}, {&f.rdev, "st_rdev"}, {&f.size, "st_size"},
		{&f.blksize, "st_blksize"}, {&f.blocks, "st_blocks"},
		{&f.atimS, "st_atim.tv_sec"}, {&f.atimN, "st_atim.tv_nsec"},
		{&f.mtimS, "st_mtim.tv_sec"}, {&f.mtimN, "st_mtim.tv_nsec"},
		{&f.ctimS, "st_ctim.tv_sec"}, {&f.ctimN, "st_ctim.tv_nsec"},
	} {
		if *x.p, err = l.must(x.name); err != nil {
			return err
		}
	}
	s.statFast = !k.table.BigEndian && f.matchesLP64()
	s.statBSD = !k.table.BigEndian && f.matchesNetBSD64()
	if err := s.initStatx(k); err != nil {
		return err
	}
	if err := s.initStatfs(k); err != nil {
		return err
	}
	if err := s.fio.init(k); err != nil {
		return err
	}
	return s.dir.init(k)
}

type missingErr string

func (e missingErr) Error() string { return "the ABI table lacks " + string(e) }

func errMissing(what string) error { return missingErr(what) }

// rawStatLP64 is struct stat of Linux's 64-bit x86 ABI. When an ABI's table
// gives exactly these offsets and sizes, Stat copies fields instead of
// decoding them by table, which keeps fstat within a few nanoseconds of a
// bare syscall.
type rawStatLP64 struct {
	Dev     uint64
	Ino     uint64
	Nlink   uint64
	Mode    uint32
	Uid     uint32
	Gid     uint32
	_       int32
	Rdev    uint64
	Size    int64
	Blksize int64
	Blocks  int64
	Atim    [2]int64
	Mtim    [2]int64
	Ctim    [2]int64
	_       [3]int64
}

func (f *statFields) matchesLP64() bool {
	var r rawStatLP64
	at := func(p fieldAt, off, size uintptr) bool { return uintptr(p.off) == off && uintptr(p.size) == size }
	return at(f.dev, unsafe.Offsetof(r.Dev), 8) && at(f.ino, unsafe.Offsetof(r.Ino), 8) &&
		at(f.nlink, unsafe.Offsetof(r.Nlink), 8) && at(f.mode, unsafe.Offsetof(r.Mode), 4) &&
		at(f.uid, unsafe.Offsetof(r.Uid), 4) && at(f.gid, unsafe.Offsetof(r.Gid), 4) &&
		at(f.rdev, unsafe.Offsetof(r.Rdev), 8) && at(f.size, unsafe.Offsetof(r.Size), 8) &&
		at(f.blksize, unsafe.Offsetof(r.Blksize), 8) && at(f.blocks, unsafe.Offsetof(r.Blocks), 8) &&
		at(f.atimS, unsafe.Offsetof(r.Atim), 8) && at(f.atimN, unsafe.Offsetof(r.Atim)+8, 8) &&
		at(f.mtimS, unsafe.Offsetof(r.Mtim), 8) && at(f.mtimN, unsafe.Offsetof(r.Mtim)+8, 8) &&
		at(f.ctimS, unsafe.Offsetof(r.Ctim), 8) && at(f.ctimN, unsafe.Offsetof(r.Ctim)+8, 8)
}

// rawStatNetBSD64 is struct stat of NetBSD's 64-bit ABIs (__stat50), what
// a rump kernel fills; matched against the table like rawStatLP64.
type rawStatNetBSD64 struct {
	Dev     uint64
	Mode    uint32
	_       uint32
	Ino     uint64
	Nlink   uint32
	Uid     uint32
	Gid     uint32
	_       uint32
	Rdev    uint64
	Atim    [2]int64
	Mtim    [2]int64
	Ctim    [2]int64
	Birth   [2]int64
	Size    int64
	Blocks  int64
	Blksize uint32
}

func (f *statFields) matchesNetBSD64() bool {
	var r rawStatNetBSD64
	at := func(p fieldAt, off, size uintptr) bool { return uintptr(p.off) == off && uintptr(p.size) == size }
	return at(f.dev, unsafe.Offsetof(r.Dev), 8) && at(f.ino, unsafe.Offsetof(r.Ino), 8) &&
		at(f.nlink, unsafe.Offsetof(r.Nlink), 4) && at(f.mode, unsafe.Offsetof(r.Mode), 4) &&
		at(f.uid, unsafe.Offsetof(r.Uid), 4) && at(f.gid, unsafe.Offsetof(r.Gid), 4) &&
		at(f.rdev, unsafe.Offsetof(r.Rdev), 8) && at(f.size, unsafe.Offsetof(r.Size), 8) &&
		at(f.blksize, unsafe.Offsetof(r.Blksize), 4) && at(f.blocks, unsafe.Offsetof(r.Blocks), 8) &&
		at(f.atimS, unsafe.Offsetof(r.Atim), 8) && at(f.atimN, unsafe.Offsetof(r.Atim)+8, 8) &&
		at(f.mtimS, unsafe.Offsetof(r.Mtim), 8) && at(f.mtimN, unsafe.Offsetof(r.Mtim)+8, 8) &&
		at(f.ctimS, unsafe.Offsetof(r.Ctim), 8) && at(f.ctimN, unsafe.Offsetof(r.Ctim)+8, 8)
}

// Stat is a file's status, whatever the kernel's struct stat looks like.
type Stat struct {
	Dev     uint64
	Ino     uint64
	Nlink   uint64
	Mode    Mode // file type and permission bits (S_IFREG|0644)
	Uid     uint32
	Gid     uint32
	Rdev    uint64
	Size    int64
	Blksize int64
	Blocks  int64 // 512-byte blocks
	Atim    Timespec
	Mtim    Timespec
	Ctim    Timespec
}

// FileMode converts Mode to Go's fs.FileMode.
func (m Mode) FileMode() fs.FileMode {
	fm := fs.FileMode(m & 0o777)
	switch m & S_IFMT {
	case S_IFDIR:
		fm |= fs.ModeDir
	case S_IFLNK:
		fm |= fs.ModeSymlink
	case S_IFIFO:
		fm |= fs.ModeNamedPipe
	case S_IFSOCK:
		fm |= fs.ModeSocket
	case S_IFCHR:
		fm |= fs.ModeDevice | fs.ModeCharDevice
	case S_IFBLK:
		fm |= fs.ModeDevice
	}
	if m&S_ISUID != 0 {
		fm |= fs.ModeSetuid
	}
	if m&S_ISGID != 0 {
		fm |= fs.ModeSetgid
	}
	if m&S_ISVTX != 0 {
		fm |= fs.ModeSticky
	}
	return fm
}

// Type returns only the file type bits (m & S_IFMT).
func (m Mode) Type() Mode { return m & S_IFMT }

// IsDir reports whether the status is a directory's.
func (st *Stat) IsDir() bool { return st.Mode&S_IFMT == S_IFDIR }

// IsRegular reports whether the status is a regular file's.
func (st *Stat) IsRegular() bool { return st.Mode&S_IFMT == S_IFREG }

// ModTime returns the modification time.
func (st *Stat) ModTime() time.Time { return st.Mtim.Time() }

// decodeStat fills st from the raw struct stat the kernel wrote.
func (s *fileState) decodeStat(raw *[statBufSize]byte, st *Stat) {
	if s.statFast {
		r := (*rawStatLP64)(unsafe.Pointer(raw))
		*st = Stat{
			Dev: r.Dev, Ino: r.Ino, Nlink: r.Nlink, Mode: Mode(r.Mode), Uid: r.Uid, Gid: r.Gid,
			Rdev: r.Rdev, Size: r.Size, Blksize: r.Blksize, Blocks: r.Blocks,
			Atim: Timespec{r.Atim[0], r.Atim[1]}, Mtim: Timespec{r.Mtim[0], r.Mtim[1]}, Ctim: Timespec{r.Ctim[0], r.Ctim[1]},
		}
		return
	}
	if s.statBSD {
		r := (*rawStatNetBSD64)(unsafe.Pointer(raw))
		*st = Stat{
			Dev: r.Dev, Ino: r.Ino, Nlink: uint64(r.Nlink), Mode: Mode(r.Mode), Uid: r.Uid, Gid: r.Gid,
			Rdev: r.Rdev, Size: r.Size, Blksize: int64(r.Blksize), Blocks: r.Blocks,
			Atim: Timespec{r.Atim[0], r.Atim[1]}, Mtim: Timespec{r.Mtim[0], r.Mtim[1]}, Ctim: Timespec{r.Ctim[0], r.Ctim[1]},
		}
		return
	}
	b, be, f := raw[:], s.stat.be, &s.st
	*st = Stat{
		Dev: f.dev.uint(b, be), Ino: f.ino.uint(b, be), Nlink: f.nlink.uint(b, be),
		Mode: Mode(f.mode.uint(b, be)), Uid: uint32(f.uid.uint(b, be)), Gid: uint32(f.gid.uint(b, be)),
		Rdev: f.rdev.uint(b, be), Size: f.size.int(b, be), Blksize: f.blksize.int(b, be), Blocks: f.blocks.int(b, be),
		Atim: Timespec{f.atimS.int(b, be), f.atimN.int(b, be)},
		Mtim: Timespec{f.mtimS.int(b, be), f.mtimN.int(b, be)},
		Ctim: Timespec{f.ctimS.int(b, be), f.ctimN.int(b, be)},
	}
	// The mode's type bits are the same on every Unix api serves; the flag
	// translation would only cost time here.
}

// dirfd returns the number to pass for an optional directory: AT_FDCWD for
// nil. A non-nil dir must be released by the caller after the call.
func (k *Kernel) dirfd(dir *Fd) (uintptr, Errno) {
	if dir == nil {
		return k.files.atFdcwd, 0
	}
	if dir.k != k {
		return 0, EBADF
	}
	return dir.acquire()
}

func (k *Kernel) releaseDir(dir *Fd) {
	if dir != nil {
		dir.release()
	}
}

// Open opens path relative to the current directory; mode applies when
// flags create the file.
func (k *Kernel) Open(path string, flags OpenFlags, mode Mode) (*Fd, error) {
	return k.Openat(nil, path, flags, mode)
}

// Openat opens path relative to dir (nil: the current directory).
func (k *Kernel) Openat(dir *Fd, path string, flags OpenFlags, mode Mode) (*Fd, error) {
	fl, err := k.flagsToABI(openFlagsFamily, uint64(flags))
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: path, Err: err}
	}
	r, err := k.atCall("openat", sysOpenat, dir, path, uintptr(fl)|k.files.largefile, uintptr(mode), 0)
	if err != nil {
		return nil, err
	}
	return k.newFd(r), nil
}

// Read reads up to len(p) bytes. At end of file it returns 0, io.EOF, as
// io.Reader asks; a zero-length p returns 0, nil.
func (f *Fd) Read(p []byte) (int, error) {
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("read", e)
	}
	r, e := f.k.syscall(sysRead, n, uintptr(bufPtr(p)), uintptr(len(p)), 0, 0, 0)
	f.release()
	if e != 0 {
		return 0, callErr("read", e)
	}
	if r == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return int(r), nil
}

// Write writes p. A short write without an error from the kernel is
// reported as io.ErrShortWrite, as io.Writer requires.
func (f *Fd) Write(p []byte) (int, error) {
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("write", e)
	}
	r, e := f.k.syscall(sysWrite, n, uintptr(bufPtr(p)), uintptr(len(p)), 0, 0, 0)
	f.release()
	if e != 0 {
		return 0, callErr("write", e)
	}
	if int(r) < len(p) {
		return int(r), io.ErrShortWrite
	}
	return int(r), nil
}

// ReadAt reads at offset off without moving the file offset (pread). It
// returns io.EOF when fewer than len(p) bytes remain, as io.ReaderAt asks.
func (f *Fd) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, badArg("pread64", "negative offset")
	}
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("pread64", e)
	}
	var r uintptr
	if ptr64 { // the hot path keeps its direct call
		r, e = f.k.syscall(sysPread, n, uintptr(bufPtr(p)), uintptr(len(p)), uintptr(off), 0, 0)
	} else {
		r, e = f.k.syscallW(sysPread, 3, noArg64, uint64(off), 0, n, uintptr(bufPtr(p)), uintptr(len(p)), 0, 0)
	}
	f.release()
	if e != 0 {
		return 0, callErr("pread64", e)
	}
	if int(r) < len(p) {
		return int(r), io.EOF
	}
	return int(r), nil
}

// WriteAt writes at offset off without moving the file offset (pwrite).
func (f *Fd) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, badArg("pwrite64", "negative offset")
	}
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("pwrite64", e)
	}
	var r uintptr
	if ptr64 { // the hot path keeps its direct call
		r, e = f.k.syscall(sysPwrite, n, uintptr(bufPtr(p)), uintptr(len(p)), uintptr(off), 0, 0)
	} else {
		r, e = f.k.syscallW(sysPwrite, 3, noArg64, uint64(off), 0, n, uintptr(bufPtr(p)), uintptr(len(p)), 0, 0)
	}
	f.release()
	if e != 0 {
		return 0, callErr("pwrite64", e)
	}
	if int(r) < len(p) {
		return int(r), io.ErrShortWrite
	}
	return int(r), nil
}

// Stat fills st with the status of the open file (fstat).
func (f *Fd) Stat(st *Stat) error {
	n, e := f.acquire()
	if e != 0 {
		return callErr("fstat", e)
	}
	var raw [statBufSize]byte
	_, e = f.k.syscall(sysFstat, n, uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0)
	f.release()
	if e != 0 {
		return callErr("fstat", e)
	}
	f.k.files.decodeStat(&raw, st)
	return nil
}

// Stat fills st with the status of path, following symbolic links.
func (k *Kernel) Stat(path string, st *Stat) error {
	return k.Fstatat(nil, path, st, 0)
}

// Lstat is Stat that does not follow a final symbolic link.
func (k *Kernel) Lstat(path string, st *Stat) error {
	return k.Fstatat(nil, path, st, AT_SYMLINK_NOFOLLOW)
}

// Fstatat is stat relative to dir (nil: the current directory); flags may
// hold AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH.
func (k *Kernel) Fstatat(dir *Fd, path string, st *Stat, flags AtFlags) error {
	fl, err := k.flagsToABI(atFlagsFamily, uint64(flags))
	if err != nil {
		return &fs.PathError{Op: "fstatat", Path: path, Err: err}
	}
	var raw [statBufSize]byte
	if _, err := k.atBufCall("fstatat", sysFstatat, dir, path, unsafe.Pointer(&raw), uintptr(fl)); err != nil {
		return err
	}
	k.files.decodeStat(&raw, st)
	return nil
}

var sysFcntl = newCall("fcntl")

// DupCloexec returns a new descriptor for the same open file, with
// close-on-exec set (fcntl F_DUPFD_CLOEXEC).
func (f *Fd) DupCloexec() (*Fd, error) {
	r, err := f.fcntl(fioDupfdCloexec, 0)
	if err != nil {
		return nil, err
	}
	return f.k.newFd(r), nil
}

var sysUmask = newCall("umask")

// Umask sets the file mode creation mask and returns the previous one.
func (k *Kernel) Umask(mask Mode) Mode {
	r, _ := k.rawSyscall(sysUmask, uintptr(mask&0o777), 0, 0, 0, 0, 0)
	return Mode(r)
}

// The rest of the status calls: statx, statfs, fstatfs.

var (
	sysStatx   = newCall("statx")
	sysStatfs  = newCall("statfs")
	sysFstatfs = newCall("fstatfs")
	// NetBSD's statvfs1 and fstatvfs1 (struct statvfs90 in NetBSD 10's
	// headers), which serve Statfs where the ABI has no statfs.
	sysStatvfs1  = newCall("statvfs1")
	sysFstatvfs1 = newCall("fstatvfs1")
)

// statxFields are the places of struct statx's fields in the ABI.
type statxFields struct {
	mask, blksize, attributes, nlink, uid, gid, mode, ino, size, blocks, attributesMask fieldAt
	atimS, atimN, btimS, btimN, ctimS, ctimN, mtimS, mtimN                              fieldAt
	rdevMajor, rdevMinor, devMajor, devMinor, mntID, dioMemAlign, dioOffsetAlign        fieldAt
}

// statxBufSize is the kernel's struct statx (256 bytes, with room for later
// fields); New refuses an ABI whose table says more.
const statxBufSize = 256

func (s *fileState) initStatx(k *Kernel) error {
	l := k.optLayout("statx")
	if l.size == 0 {
		return nil // statx answers ENOSYS
	}
	if l.size > statxBufSize {
		return errMissing("a struct statx that fits 256 bytes")
	}
	f := &s.stx
	var err error
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{
		{&f.mask, "stx_mask"}, {&f.blksize, "stx_blksize"}, {&f.attributes, "stx_attributes"},
		{&f.nlink, "stx_nlink"}, {&f.uid, "stx_uid"}, {&f.gid, "stx_gid"}, {&f.mode, "stx_mode"},
		{&f.ino, "stx_ino"}, {&f.size, "stx_size"}, {&f.blocks, "stx_blocks"},
		{&f.attributesMask, "stx_attributes_mask"},
		{&f.atimS, "stx_atime.tv_sec"}, {&f.atimN, "stx_atime.tv_nsec"},
		{&f.btimS, "stx_btime.tv_sec"}, {&f.btimN, "stx_btime.tv_nsec"},
		{&f.ctimS, "stx_ctime.tv_sec"}, {&f.ctimN, "stx_ctime.tv_nsec"},
		{&f.mtimS, "stx_mtime.tv_sec"}, {&f.mtimN, "stx_mtime.tv_nsec"},
		{&f.rdevMajor, "stx_rdev_major"}, {&f.rdevMinor, "stx_rdev_minor"},
		{&f.devMajor, "stx_dev_major"}, {&f.devMinor, "stx_dev_minor"},
	} {
		if *x.p, err = l.must(x.name); err != nil {
			return err
		}
	}
	// Later additions: older tables may lack them; they read as zero.
	f.mntID = l.field("stx_mnt_id")
	f.dioMemAlign = l.field("stx_dio_mem_align")
	f.dioOffsetAlign = l.field("stx_dio_offset_align")
	s.statx = l
	return nil
}

// Statx is a file's extended status (statx(2)). Only the fields whose bits
// are set in Mask were filled in by the kernel; the others are zero.
type Statx struct {
	Mask           StatxMask // which fields are valid
	Blksize        uint32
	Attributes     StatxAttr // STATX_ATTR_IMMUTABLE, ...
	Nlink          uint32
	Uid            uint32
	Gid            uint32
	Mode           Mode
	Ino            uint64
	Size           int64
	Blocks         int64     // 512-byte blocks
	AttributesMask StatxAttr // which Attributes the file system supports
	Atime          Timespec
	Btime          Timespec // creation ("birth") time, when STATX_BTIME is in Mask
	Ctime          Timespec
	Mtime          Timespec
	RdevMajor      uint32 // device numbers, for device files
	RdevMinor      uint32
	DevMajor       uint32 // the device of the file system holding the file
	DevMinor       uint32
	MntID          uint64 // mount ID, when STATX_MNT_ID is in Mask
	DioMemAlign    uint32 // direct I/O alignment, when STATX_DIOALIGN is in Mask
	DioOffsetAlign uint32
}

// IsDir reports whether the status is a directory's.
func (st *Statx) IsDir() bool { return st.Mode&S_IFMT == S_IFDIR }

// IsRegular reports whether the status is a regular file's.
func (st *Statx) IsRegular() bool { return st.Mode&S_IFMT == S_IFREG }

// Statx fills st with the status of path relative to dir (nil: the current
// directory). mask asks for fields (STATX_BASIC_STATS|STATX_BTIME); the
// kernel may fill in fewer, and says which in st.Mask. flags may hold
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH (path "" means dir itself),
// AT_NO_AUTOMOUNT and one of the AT_STATX_*_SYNC values.
func (k *Kernel) Statx(dir *Fd, path string, flags AtFlags, mask StatxMask, st *Statx) error {
	if st == nil {
		return badArg("statx", "nil *Statx")
	}
	if k.files.statx.size == 0 {
		return pathErr("statx", path, ENOSYS)
	}
	fl, err := k.flagsToABI(atFlagsFamily, uint64(flags))
	if err != nil {
		return &fs.PathError{Op: "statx", Path: path, Err: err}
	}
	m, err := k.flagsToABI(statxMaskFamily, uint64(mask))
	if err != nil {
		return &fs.PathError{Op: "statx", Path: path, Err: err}
	}
	var pb pathBuf
	p, d, err := k.atArgs("statx", dir, path, &pb)
	if err != nil {
		return err
	}
	var raw [statxBufSize]byte
	_, e := k.syscall(sysStatx, d, uintptr(p), uintptr(fl), uintptr(m), uintptr(unsafe.Pointer(&raw)), 0)
	k.releaseDir(dir)
	if e != 0 {
		return pathErr("statx", path, e)
	}
	k.decodeStatx(&raw, st)
	return nil
}

// Statx fills st with the extended status of the open file (statx with
// AT_EMPTY_PATH).
func (f *Fd) Statx(mask StatxMask, st *Statx) error {
	if f == nil {
		return callErr("statx", EBADF)
	}
	return f.k.Statx(f, "", AT_EMPTY_PATH, mask, st)
}

func (k *Kernel) decodeStatx(raw *[statxBufSize]byte, st *Statx) {
	b, be, f := raw[:], k.files.statx.be, &k.files.stx
	ts := func(s, n fieldAt) Timespec { return Timespec{s.int(b, be), int64(n.uint(b, be))} }
	*st = Statx{
		Mask:           StatxMask(k.flagsFromABI(statxMaskFamily, f.mask.uint(b, be))),
		Blksize:        uint32(f.blksize.uint(b, be)),
		Attributes:     StatxAttr(k.flagsFromABI(statxAttrFamily, f.attributes.uint(b, be))),
		Nlink:          uint32(f.nlink.uint(b, be)),
		Uid:            uint32(f.uid.uint(b, be)),
		Gid:            uint32(f.gid.uint(b, be)),
		Mode:           Mode(f.mode.uint(b, be)),
		Ino:            f.ino.uint(b, be),
		Size:           int64(f.size.uint(b, be)),
		Blocks:         int64(f.blocks.uint(b, be)),
		AttributesMask: StatxAttr(k.flagsFromABI(statxAttrFamily, f.attributesMask.uint(b, be))),
		Atime:          ts(f.atimS, f.atimN),
		Btime:          ts(f.btimS, f.btimN),
		Ctime:          ts(f.ctimS, f.ctimN),
		Mtime:          ts(f.mtimS, f.mtimN),
		RdevMajor:      uint32(f.rdevMajor.uint(b, be)),
		RdevMinor:      uint32(f.rdevMinor.uint(b, be)),
		DevMajor:       uint32(f.devMajor.uint(b, be)),
		DevMinor:       uint32(f.devMinor.uint(b, be)),
		MntID:          f.mntID.uint(b, be),
		DioMemAlign:    uint32(f.dioMemAlign.uint(b, be)),
		DioOffsetAlign: uint32(f.dioOffsetAlign.uint(b, be)),
	}
}

// statfsFields are the places of struct statfs's fields in the ABI.
type statfsFields struct {
	typ, bsize, blocks, bfree, bavail, files, ffree, fsid0, fsid1, namelen, frsize, flags fieldAt
}

// statfsBufSize bounds struct statfs (Linux 120 bytes on LP64).
const statfsBufSize = 256

func (s *fileState) initStatfs(k *Kernel) error {
	l := k.optLayout("statfs")
	if t := k.table; t.OS == "linux" && t.PtrSize == 4 {
		l64 := k.optLayout("statfs64")
		n1, ok1 := t.Syscall("statfs64")
		n2, ok2 := t.Syscall("fstatfs64")
		if l64.size != 0 && ok1 && ok2 {
			l, s.statfs64 = l64, true
			k.nr[sysStatfs], k.nr[sysFstatfs] = n1, n2
		}
	}
	if l.size == 0 || l.field("f_namelen").size == 0 {
		s.initStatvfs(k)
		return nil // not Linux's statfs: statvfs1, or ENOSYS
	}
	if l.size > statfsBufSize {
		return errMissing("a struct statfs that fits 256 bytes")
	}
	f := &s.sfs
	var err error
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{
		{&f.typ, "f_type"}, {&f.bsize, "f_bsize"}, {&f.blocks, "f_blocks"}, {&f.bfree, "f_bfree"},
		{&f.bavail, "f_bavail"}, {&f.files, "f_files"}, {&f.ffree, "f_ffree"}, {&f.fsid0, "f_fsid"},
		{&f.namelen, "f_namelen"},
	} {
		if *x.p, err = l.must(x.name); err != nil {
			return err
		}
	}
	if f.fsid0.size != 8 {
		return errMissing("an 8-byte f_fsid in struct statfs")
	}
	// fsid_t is int val[2]: two 4-byte halves in memory order.
	f.fsid1 = fieldAt{off: f.fsid0.off + 4, size: 4}
	f.fsid0.size = 4
	f.frsize = l.field("f_frsize")
	f.flags = l.field("f_flags")
	s.statfs = l
	return nil
}

// statvfsBufSize bounds NetBSD's struct statvfs (2256 bytes on LP64,
// with its two mount paths).
const statvfsBufSize = 2560

// initStatvfs resolves NetBSD's statvfs1 struct; anything missing leaves
// Statfs answering ENOSYS.
func (s *fileState) initStatvfs(k *Kernel) {
	l := k.optLayout("statvfs90")
	wait, ok := k.table.Const("ST_WAIT")
	if l.size == 0 || l.size > statvfsBufSize || !ok || !k.hasCall(sysStatvfs1) || !k.hasCall(sysFstatvfs1) {
		return
	}
	f := &s.sfs
	if fieldsOf(l, statvfsBufSize, &f.bsize, "f_bsize", &f.frsize, "f_frsize", &f.blocks, "f_blocks",
		&f.bfree, "f_bfree", &f.bavail, "f_bavail", &f.files, "f_files", &f.ffree, "f_ffree",
		&f.fsid0, "f_fsidx", &f.namelen, "f_namemax", &f.flags, "f_flag", &s.svTypename, "f_fstypename") != nil ||
		f.fsid0.size != 8 {
		*f = statfsFields{}
		return
	}
	// fsid_t is int32_t __fsid_val[2], as Linux's.
	f.fsid1 = fieldAt{off: f.fsid0.off + 4, size: 4}
	f.fsid0.size = 4
	s.statvfs, s.svWait = l, uintptr(wait)
}

// Statfs describes a mounted file system (statfs(2); statvfs1(2) on
// NetBSD, which has no statfs).
type Statfs struct {
	Type    int64  // file system magic number (0x01021994 for tmpfs, ...); 0 where the kernel names types instead (NetBSD: Fstype)
	Bsize   int64  // optimal transfer block size
	Blocks  uint64 // total data blocks, in Frsize units
	Bfree   uint64 // free blocks
	Bavail  uint64 // free blocks available to unprivileged users
	Files   uint64 // total inodes
	Ffree   uint64 // free inodes
	Fsid    [2]int32
	Namelen int64 // longest file name
	Frsize  int64 // fragment size
	Flags   StatfsFlags
	Fstype  string // the type's name where the kernel gives one ("tmpfs", "ffs": NetBSD's f_fstypename); "" on Linux
}

// Statfs fills st with the status of the file system holding path.
func (k *Kernel) Statfs(path string, st *Statfs) error {
	if st == nil {
		return badArg("statfs", "nil *Statfs")
	}
	if k.files.statfs.size == 0 {
		if k.files.statvfs.size != 0 {
			return k.statvfs(path, st)
		}
		return pathErr("statfs", path, ENOSYS)
	}
	var pb pathBuf
	p, err := pb.cstr("statfs", path)
	if err != nil {
		return err
	}
	var raw [statfsBufSize]byte
	var e Errno
	if k.files.statfs64 {
		_, e = k.syscall(sysStatfs, uintptr(p), uintptr(k.files.statfs.size), uintptr(unsafe.Pointer(&raw)), 0, 0, 0)
	} else {
		_, e = k.syscall(sysStatfs, uintptr(p), uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0)
	}
	if e != 0 {
		return pathErr("statfs", path, e)
	}
	k.decodeStatfs(&raw, st)
	return nil
}

// Statfs fills st with the status of the file system holding the open file
// (fstatfs).
func (f *Fd) Statfs(st *Statfs) error {
	if st == nil {
		return badArg("fstatfs", "nil *Statfs")
	}
	c := sysFstatfs
	if f != nil && f.k.files.statfs.size == 0 {
		if f.k.files.statvfs.size != 0 {
			return f.statvfs(st)
		}
		c = sysNone // ENOSYS, but a closed f is EBADF first
	}
	var raw [statfsBufSize]byte
	if f != nil && f.k.files.statfs64 {
		n, e := f.acquire()
		if e != 0 {
			return callErr("fstatfs", e)
		}
		_, e = f.k.syscall(c, n, uintptr(f.k.files.statfs.size), uintptr(unsafe.Pointer(&raw)), 0, 0, 0)
		f.release()
		if e != 0 {
			return callErr("fstatfs", e)
		}
	} else if _, err := f.fdBufCall("fstatfs", c, unsafe.Pointer(&raw), 0, 0); err != nil {
		return err
	}
	f.k.decodeStatfs(&raw, st)
	return nil
}

// statvfs is Statfs through NetBSD's statvfs1.
func (k *Kernel) statvfs(path string, st *Statfs) error {
	var pb pathBuf
	p, err := pb.cstr("statvfs1", path)
	if err != nil {
		return err
	}
	var raw [statvfsBufSize]byte
	_, e := k.syscall(sysStatvfs1, uintptr(p), uintptr(unsafe.Pointer(&raw)), k.files.svWait, 0, 0, 0)
	if e != 0 {
		return pathErr("statvfs1", path, e)
	}
	k.decodeStatvfs(&raw, st)
	return nil
}

// statvfs is Fd.Statfs through NetBSD's fstatvfs1.
func (f *Fd) statvfs(st *Statfs) error {
	var raw [statvfsBufSize]byte
	if _, err := f.fdBufCall("fstatvfs1", sysFstatvfs1, unsafe.Pointer(&raw), f.k.files.svWait, 0); err != nil {
		return err
	}
	f.k.decodeStatvfs(&raw, st)
	return nil
}

func (k *Kernel) decodeStatvfs(raw *[statvfsBufSize]byte, st *Statfs) {
	b, be, f := raw[:], k.files.statvfs.be, &k.files.sfs
	*st = Statfs{
		Bsize:  f.bsize.int(b, be),
		Blocks: f.blocks.uint(b, be), Bfree: f.bfree.uint(b, be), Bavail: f.bavail.uint(b, be),
		Files: f.files.uint(b, be), Ffree: f.ffree.uint(b, be),
		Fsid:    [2]int32{int32(f.fsid0.uint(b, be)), int32(f.fsid1.uint(b, be))},
		Namelen: f.namelen.int(b, be), Frsize: f.frsize.int(b, be),
		Flags:  StatfsFlags(k.flagsFromABI(statfsFlagsFamily, f.flags.uint(b, be))),
		Fstype: goString(k.files.svTypename.bytes(b)),
	}
}

func (k *Kernel) decodeStatfs(raw *[statfsBufSize]byte, st *Statfs) {
	b, be, f := raw[:], k.files.statfs.be, &k.files.sfs
	*st = Statfs{
		Type: f.typ.int(b, be), Bsize: f.bsize.int(b, be),
		Blocks: f.blocks.uint(b, be), Bfree: f.bfree.uint(b, be), Bavail: f.bavail.uint(b, be),
		Files: f.files.uint(b, be), Ffree: f.ffree.uint(b, be),
		Fsid:    [2]int32{int32(f.fsid0.uint(b, be)), int32(f.fsid1.uint(b, be))},
		Namelen: f.namelen.int(b, be), Frsize: f.frsize.int(b, be),
		Flags: StatfsFlags(k.flagsFromABI(statfsFlagsFamily, f.flags.uint(b, be))),
	}
}
