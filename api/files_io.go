package api

import (
	"errors"
	"io"
	"io/fs"
	"runtime"
	"strconv"
	"unsafe"
)

// Descriptors and their I/O beyond read and write: creat and openat2,
// vectored I/O, lseek, dup, fcntl (descriptor and status flags, record and
// open-file-description locks, pipe size), truncate, fallocate and the sync
// calls.

var (
	sysCreat     = newCall("creat")
	sysOpenat2   = newCall("openat2")
	sysReadv     = newCall("readv")
	sysWritev    = newCall("writev")
	sysPreadv    = newCall("preadv")
	sysPwritev   = newCall("pwritev")
	sysPreadv2   = newCall("preadv2")
	sysPwritev2  = newCall("pwritev2")
	sysLseek     = newCall("lseek")
	sysLlseek    = newCall("_llseek") // 32-bit Linux: a 64-bit offset as hi, lo
	sysDup       = newCall("dup")
	sysDup2      = newCall("dup2")
	sysDup3      = newCall("dup3")
	sysTruncate  = newCall("truncate")
	sysFtruncate = newCall("ftruncate")
	sysFallocate = newCall("fallocate")
	sysFsync     = newCall("fsync")
	sysFdatasync = newCall("fdatasync")
	sysSyncfs    = newCall("syncfs")
	sysSync      = newCall("sync")
)

var _ io.Seeker = (*Fd)(nil)

// fioCmd indexes the fcntl commands api uses; their values differ between
// ABIs, so each Kernel reads them from its table at New.
type fioCmd int

const (
	fioGetfd fioCmd = iota
	fioSetfd
	fioGetfl
	fioSetfl
	fioDupfd
	fioDupfdCloexec
	fioGetlk
	fioSetlk
	fioSetlkw
	// The commands above exist on every Unix, and New fails without them;
	// those below are Linux's, and answer ENOSYS elsewhere.
	fioOfdGetlk
	fioOfdSetlk
	fioOfdSetlkw
	fioGetpipeSz
	fioSetpipeSz
	fioNCmds

	fioFirstOptional = fioOfdGetlk
)

var fioCmdNames = [fioNCmds]string{
	fioGetfd: "F_GETFD", fioSetfd: "F_SETFD", fioGetfl: "F_GETFL", fioSetfl: "F_SETFL",
	fioDupfd: "F_DUPFD", fioDupfdCloexec: "F_DUPFD_CLOEXEC",
	fioGetlk: "F_GETLK", fioSetlk: "F_SETLK", fioSetlkw: "F_SETLKW",
	fioOfdGetlk: "F_OFD_GETLK", fioOfdSetlk: "F_OFD_SETLK", fioOfdSetlkw: "F_OFD_SETLKW",
	fioGetpipeSz: "F_GETPIPE_SZ", fioSetpipeSz: "F_SETPIPE_SZ",
}

// fioState is the per-Kernel state of this file's calls.
type fioState struct {
	cmd  [fioNCmds]uint64
	have [fioNCmds]bool // false: the ABI lacks the command, api answers ENOSYS

	// iovecGo is true when the ABI's struct iovec is laid out as fioVec, so
	// that api can hand the kernel an array the Go runtime understands.
	// Otherwise the vectored calls answer ENOSYS.
	iovecGo bool
	iovMax  int

	flock                                   layout
	lkType, lkWhence, lkStart, lkLen, lkPid fieldAt

	openHow                       layout // size 0: openat2 answers ENOSYS
	howFlags, howMode, howResolve fieldAt
}

// fioFlockBufSize bounds struct flock (Linux LP64: 32 bytes).
const fioFlockBufSize = 64

// fioOpenHowBufSize bounds struct open_how (24 bytes, version 0).
const fioOpenHowBufSize = 64

func (s *fioState) init(k *Kernel) error {
	for i := fioCmd(0); i < fioNCmds; i++ {
		v, ok := k.table.Const(fioCmdNames[i])
		if !ok && i < fioFirstOptional {
			return errMissing(fioCmdNames[i])
		}
		s.cmd[i], s.have[i] = v, ok
	}

	// IOV_MAX bounds the buffers of one vectored call; POSIX guarantees at
	// least 16 and every kernel api serves allows 1024.
	s.iovMax = 1024
	if v, ok := k.table.Const("IOV_MAX"); ok {
		s.iovMax = int(v)
	} else if v, ok := k.table.Const("UIO_MAXIOV"); ok {
		s.iovMax = int(v)
	}
	if l := k.optLayout("iovec"); l.size != 0 {
		var v fioVec
		b, n := l.field("iov_base"), l.field("iov_len")
		s.iovecGo = l.size == int(unsafe.Sizeof(v)) &&
			uintptr(b.off) == unsafe.Offsetof(v.base) && uintptr(b.size) == unsafe.Sizeof(v.base) &&
			uintptr(n.off) == unsafe.Offsetof(v.len) && uintptr(n.size) == unsafe.Sizeof(v.len) &&
			k.table.BigEndian == fioHostBigEndian()
	}

	l, err := k.layoutOf("flock")
	if err != nil {
		return err
	}
	// 32-bit Linux: fcntl64 (linux32Calls) with the *64 commands and
	// struct flock64, whose 64-bit l_start reaches past 2 GiB; the OFD
	// commands take struct flock64 there in any case.
	if l64 := k.optLayout("flock64"); l64.size != 0 && k.table.OS == "linux" && k.table.PtrSize == 4 {
		g, ok1 := k.table.Const("F_GETLK64")
		st, ok2 := k.table.Const("F_SETLK64")
		sw, ok3 := k.table.Const("F_SETLKW64")
		if ok1 && ok2 && ok3 {
			l = l64
			s.cmd[fioGetlk], s.cmd[fioSetlk], s.cmd[fioSetlkw] = g, st, sw
		}
	}
	if l.size > fioFlockBufSize {
		return errMissing("a struct flock that fits 64 bytes")
	}
	s.flock = l
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{
		{&s.lkType, "l_type"}, {&s.lkWhence, "l_whence"}, {&s.lkStart, "l_start"},
		{&s.lkLen, "l_len"}, {&s.lkPid, "l_pid"},
	} {
		if *x.p, err = l.must(x.name); err != nil {
			return err
		}
	}

	if h := k.optLayout("open_how"); h.size != 0 && h.size <= fioOpenHowBufSize {
		s.howFlags, s.howMode, s.howResolve = h.field("flags"), h.field("mode"), h.field("resolve")
		if s.howFlags.ok() && s.howMode.ok() && s.howResolve.ok() {
			s.openHow = h
		}
	}
	return nil
}

func fioHostBigEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 0
}

// offArgs splits a file offset into the two registers the "hi/lo" calls
// (preadv, pwritev and their v2 forms) take; on 64-bit ABIs the second is
// ignored by the kernel.
func (k *Kernel) offArgs(off int64) (lo, hi uintptr) {
	if k.table.PtrSize == 8 {
		return uintptr(off), 0
	}
	return uintptr(uint32(off)), uintptr(uint64(off) >> 32)
}

// Creat creates (or truncates) path for writing, as the classic creat(2):
// open with O_WRONLY|O_CREAT|O_TRUNC. The descriptor does not have
// close-on-exec set; use Open with O_CLOEXEC where that matters. ABIs
// without a creat call get the equivalent openat.
func (k *Kernel) Creat(path string, mode Mode) (*Fd, error) {
	if !k.hasCall(sysCreat) || k.files.largefile != 0 { // creat has no O_LARGEFILE
		return k.Openat(nil, path, O_WRONLY|O_CREAT|O_TRUNC, mode)
	}
	r, err := k.pathCall("creat", sysCreat, path, uintptr(mode), 0)
	if err != nil {
		return nil, err
	}
	return k.newFd(r), nil
}

// OpenHow is what openat2 takes: open flags, the mode for a created file, and
// how path resolution is restricted.
type OpenHow struct {
	Flags   OpenFlags
	Mode    Mode // only with O_CREAT or O_TMPFILE; otherwise it must be 0
	Resolve ResolveFlags
}

// Openat2 opens path relative to dir (nil: the current directory) with the
// resolution restrictions of how.Resolve: RESOLVE_BENEATH refuses to leave
// dir (EXDEV), RESOLVE_NO_SYMLINKS refuses any symbolic link (ELOOP), and so
// on. Unlike openat, unknown flags and a stray mode are errors (EINVAL).
func (k *Kernel) Openat2(dir *Fd, path string, how *OpenHow) (*Fd, error) {
	if how == nil {
		return nil, badArg("openat2", "nil *OpenHow")
	}
	s := &k.files.fio
	if s.openHow.size == 0 {
		return nil, pathErr("openat2", path, ENOSYS)
	}
	fl, err := k.flagsToABI(openFlagsFamily, uint64(how.Flags))
	if err != nil {
		return nil, &fs.PathError{Op: "openat2", Path: path, Err: err}
	}
	fl |= uint64(k.files.largefile)
	rs, err := k.flagsToABI(resolveFlagsFamily, uint64(how.Resolve))
	if err != nil {
		return nil, &fs.PathError{Op: "openat2", Path: path, Err: err}
	}
	var raw [fioOpenHowBufSize]byte
	be := s.openHow.be
	s.howFlags.put(raw[:], be, fl)
	s.howMode.put(raw[:], be, uint64(how.Mode))
	s.howResolve.put(raw[:], be, rs)
	r, err := k.atBufCall("openat2", sysOpenat2, dir, path, unsafe.Pointer(&raw), uintptr(s.openHow.size))
	if err != nil {
		return nil, err
	}
	return k.newFd(r), nil
}

// Vectored I/O.

// fioStackVecs is how many buffers a vectored call describes from the
// goroutine stack; more take one heap allocation.
const fioStackVecs = 8

// fioVec is struct iovec as Go sees it. Its base is a real pointer, so an
// array of them on the goroutine stack is adjusted by the runtime if the
// stack moves, and keeps the buffers alive.
type fioVec struct {
	base unsafe.Pointer
	len  uintptr
}

// fioVecRaw is fioVec for heap arrays: a uintptr base stops escape analysis
// from moving every caller's buffers to the heap. It is filled after the
// allocation, with no call before the syscall, so the addresses stay good.
type fioVecRaw struct {
	base, len uintptr
}

const fioMaxInt = int(^uint(0) >> 1)

// vecIO performs a vectored call on f: c(fd, iov, len(iovs), a4, a5, a6).
// It returns the kernel's count and the buffers' total length.
func (f *Fd) vecIO(c call, op string, iovs [][]byte, a4, a5, a6 uintptr) (int, int, error) {
	if f == nil {
		return 0, 0, callErr(op, EBADF)
	}
	k := f.k
	s := &k.files.fio
	if len(iovs) > s.iovMax {
		return 0, 0, badArg(op, strconv.Itoa(len(iovs))+" buffers, more than IOV_MAX ("+strconv.Itoa(s.iovMax)+")")
	}
	total := 0
	for _, b := range iovs {
		if len(b) > fioMaxInt-total {
			return 0, 0, badArg(op, "total length of the buffers overflows")
		}
		total += len(b)
	}
	if !s.iovecGo {
		return 0, total, callErr(op, ENOSYS)
	}
	n, e := f.acquire()
	if e != 0 {
		return 0, total, callErr(op, e)
	}
	if len(iovs) == 0 && k.table.OS == "netbsd" {
		// NetBSD refuses zero buffers (EINVAL); Linux transfers nothing.
		f.release()
		return 0, 0, nil
	}
	var r uintptr
	if len(iovs) <= fioStackVecs {
		var vs [fioStackVecs]fioVec
		for i, b := range iovs {
			vs[i] = fioVec{unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b))}
		}
		r, e = k.syscall(c, n, uintptr(unsafe.Pointer(&vs)), uintptr(len(iovs)), a4, a5, a6)
	} else {
		vs := make([]fioVecRaw, len(iovs))
		// No call from here to the syscall: the addresses are plain numbers.
		for i, b := range iovs {
			vs[i] = fioVecRaw{uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b))}
		}
		r, e = k.syscall(c, n, uintptr(unsafe.Pointer(&vs[0])), uintptr(len(iovs)), a4, a5, a6)
		runtime.KeepAlive(vs)
	}
	f.release()
	runtime.KeepAlive(iovs)
	if e != 0 {
		return 0, total, callErr(op, e)
	}
	return int(r), total, nil
}

// fioVecRead finishes a vectored read: end of file is io.EOF, as for Read.
func fioVecRead(r, total int, err error) (int, error) {
	if err == nil && r == 0 && total > 0 {
		return 0, io.EOF
	}
	return r, err
}

// fioVecWrite finishes a vectored write: a short write is io.ErrShortWrite.
func fioVecWrite(r, total int, err error) (int, error) {
	if err == nil && r < total {
		return r, io.ErrShortWrite
	}
	return r, err
}

// Readv reads into the buffers in order (readv), filling each before the
// next. At end of file it returns 0, io.EOF. At most IOV_MAX buffers; up to 8
// cost no allocation.
func (f *Fd) Readv(iovs [][]byte) (int, error) {
	return fioVecRead(f.vecIO(sysReadv, "readv", iovs, 0, 0, 0))
}

// Writev writes the buffers in order, as one write (writev). A short write
// is reported as io.ErrShortWrite.
func (f *Fd) Writev(iovs [][]byte) (int, error) {
	return fioVecWrite(f.vecIO(sysWritev, "writev", iovs, 0, 0, 0))
}

// Preadv is Readv at offset off, leaving the file offset alone (preadv).
// It returns io.EOF only when nothing is left at off.
func (f *Fd) Preadv(iovs [][]byte, off int64) (int, error) {
	if off < 0 {
		return 0, badArg("preadv", "negative offset")
	}
	if f == nil {
		return 0, callErr("preadv", EBADF)
	}
	lo, hi := f.k.offArgs(off)
	return fioVecRead(f.vecIO(sysPreadv, "preadv", iovs, lo, hi, 0))
}

// Pwritev is Writev at offset off, leaving the file offset alone (pwritev).
func (f *Fd) Pwritev(iovs [][]byte, off int64) (int, error) {
	if off < 0 {
		return 0, badArg("pwritev", "negative offset")
	}
	if f == nil {
		return 0, callErr("pwritev", EBADF)
	}
	lo, hi := f.k.offArgs(off)
	return fioVecWrite(f.vecIO(sysPwritev, "pwritev", iovs, lo, hi, 0))
}

// RWFlags are the per-call flags of preadv2 and pwritev2 (RWF_HIPRI,
// RWF_DSYNC, RWF_SYNC, RWF_NOWAIT, RWF_APPEND), in Linux's numbering. The
// ABI tables do not carry the RWF_ constants yet, so api names none and
// passes the value through; kernels answer EOPNOTSUPP to bits they do not
// know.
type RWFlags uint64

// Preadv2 is Preadv with per-call flags; off -1 means the current file
// offset, which then advances, as Readv.
func (f *Fd) Preadv2(iovs [][]byte, off int64, flags RWFlags) (int, error) {
	if off < -1 {
		return 0, badArg("preadv2", "negative offset other than -1")
	}
	if f == nil {
		return 0, callErr("preadv2", EBADF)
	}
	lo, hi := f.k.offArgs(off)
	return fioVecRead(f.vecIO(sysPreadv2, "preadv2", iovs, lo, hi, uintptr(flags)))
}

// Pwritev2 is Pwritev with per-call flags; off -1 means the current file
// offset, which then advances, as Writev.
func (f *Fd) Pwritev2(iovs [][]byte, off int64, flags RWFlags) (int, error) {
	if off < -1 {
		return 0, badArg("pwritev2", "negative offset other than -1")
	}
	if f == nil {
		return 0, callErr("pwritev2", EBADF)
	}
	lo, hi := f.k.offArgs(off)
	return fioVecWrite(f.vecIO(sysPwritev2, "pwritev2", iovs, lo, hi, uintptr(flags)))
}

// Lseek moves the file offset (lseek) and returns the new one. SEEK_DATA
// and SEEK_HOLE find the next data or hole at or after off (ENXIO past the
// end of the file).
func (f *Fd) Lseek(off int64, whence Whence) (int64, error) {
	if f == nil {
		return 0, callErr("lseek", EBADF)
	}
	w, err := f.k.enumToABI(whenceFamily, uint64(whence))
	if err != nil {
		return 0, &fioErr{"lseek", err}
	}
	if !ptr64 && f.k.hasCall(sysLlseek) {
		return f.llseek(off, uintptr(w))
	}
	r, err := f.fdCall("lseek", sysLseek, uintptr(off), uintptr(w), 0)
	return int64(r), err
}

// llseek is Lseek on 32-bit Linux, whose lseek takes and returns a 32-bit
// off_t: _llseek takes the offset as two words, high first on every
// target, and writes the new offset to a loff_t.
func (f *Fd) llseek(off int64, whence uintptr) (int64, error) {
	var res int64
	p := unsafe.Pointer(&res)
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("lseek", e)
	}
	_, e = f.k.syscall(sysLlseek, n, uintptr(uint64(off)>>32), uintptr(uint32(off)), uintptr(p), whence, 0)
	f.release()
	if e != 0 {
		return 0, callErr("lseek", e)
	}
	return res, nil
}

// Seek implements io.Seeker: whence is io.SeekStart, io.SeekCurrent or
// io.SeekEnd (the same numbers as SEEK_SET, SEEK_CUR and SEEK_END).
func (f *Fd) Seek(offset int64, whence int) (int64, error) {
	return f.Lseek(offset, Whence(whence))
}

// fioErr names the call for an error found before it was made (an
// unsupported flag).
type fioErr struct {
	call string
	err  error
}

func (e *fioErr) Error() string { return e.call + ": " + e.err.Error() }
func (e *fioErr) Unwrap() error { return e.err }

// Descriptors.

// Dup returns a new descriptor for the same open file (dup): they share the
// file offset, status flags and locks of the open file description. As
// dup(2) does, the new descriptor does not have close-on-exec set; use
// DupCloexec for one that does.
func (f *Fd) Dup() (*Fd, error) {
	r, err := f.fdCall("dup", sysDup, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	return f.k.newFd(r), nil
}

// DupMin returns a new descriptor for the same open file numbered at least
// min (fcntl F_DUPFD, or F_DUPFD_CLOEXEC when flags has FD_CLOEXEC).
func (f *Fd) DupMin(min int, flags FdFlags) (*Fd, error) {
	if min < 0 || min > int(^uint32(0)>>1) {
		return nil, badArg("fcntl", "F_DUPFD minimum "+strconv.Itoa(min)+" out of range")
	}
	if flags&^FD_CLOEXEC != 0 {
		return nil, badArg("fcntl", "F_DUPFD flags "+flags.String()+": only FD_CLOEXEC applies")
	}
	cmd := fioDupfd
	if flags&FD_CLOEXEC != 0 {
		cmd = fioDupfdCloexec
	}
	r, err := f.fcntl(cmd, uintptr(min))
	if err != nil {
		return nil, err
	}
	return f.k.newFd(r), nil
}

// Dup2 makes to's descriptor number refer to f's open file (dup2). The file
// to referred to before is closed by the kernel, atomically. Ownership does
// not move: f and to remain separate *Fd values, each owning its own number
// and closing it on Close; only what to's number refers to changed. to's
// close-on-exec flag is cleared, as dup2(2) does. to must be open (a closed
// Fd's number may already belong to someone else: EBADF) and belong to the
// same Kernel. Dup2 onto itself does nothing. To redirect a number api did
// not open (standard output), adopt it first: out, _ := k.NewFd(1).
func (f *Fd) Dup2(to *Fd) error {
	return f.dup23("dup2", to, 0)
}

// Dup3 is Dup2 that sets to's close-on-exec flag when flags is O_CLOEXEC
// (dup3). Unlike Dup2, Dup3 onto itself is an error (EINVAL).
func (f *Fd) Dup3(to *Fd, flags OpenFlags) error {
	if flags&^O_CLOEXEC != 0 {
		return badArg("dup3", "flags "+flags.String()+": only O_CLOEXEC applies")
	}
	if f == nil {
		return callErr("dup3", EBADF)
	}
	fl, err := f.k.flagsToABI(openFlagsFamily, uint64(flags))
	if err != nil {
		return &fioErr{"dup3", err}
	}
	return f.dup23("dup3", to, uintptr(fl))
}

func (f *Fd) dup23(op string, to *Fd, flags uintptr) error {
	if f == nil {
		return callErr(op, EBADF)
	}
	k := f.k
	n, m, e := k.acquirePair(f, to)
	if e != 0 {
		return callErr(op, e)
	}
	switch {
	case op == "dup3" && n == m:
		// Linux refuses it; NetBSD's dup3 would accept it.
		e = EINVAL
	case op == "dup3" || k.hasCall(sysDup2):
		c := sysDup2
		if op == "dup3" {
			c = sysDup3
		}
		_, e = k.syscall(c, n, m, flags, 0, 0, 0)
	case n == m:
		// No dup2 in this ABI (arm64): dup3 refuses equal numbers, and
		// dup2 then only checks that the number is open, which it is.
	default:
		_, e = k.syscall(sysDup3, n, m, 0, 0, 0, 0)
	}
	to.release()
	f.release()
	if e != 0 {
		return callErr(op, e)
	}
	return nil
}

// fcntl performs command c with an integer argument.
func (f *Fd) fcntl(c fioCmd, arg uintptr) (uintptr, error) {
	if f == nil {
		return 0, callErr("fcntl", EBADF)
	}
	s := &f.k.files.fio
	if !s.have[c] {
		return 0, callErr("fcntl", ENOSYS)
	}
	return f.fdCall("fcntl", sysFcntl, uintptr(s.cmd[c]), arg, 0)
}

// GetFdFlags returns the descriptor's own flags (fcntl F_GETFD): FD_CLOEXEC.
func (f *Fd) GetFdFlags() (FdFlags, error) {
	v, err := f.getFlags(fioGetfd, fdFlagsFamily)
	return FdFlags(v), err
}

// SetFdFlags sets the descriptor's own flags (fcntl F_SETFD).
func (f *Fd) SetFdFlags(flags FdFlags) error {
	return f.setFlags(fioSetfd, fdFlagsFamily, uint64(flags))
}

// GetStatusFlags returns the open file's access mode and status flags
// (fcntl F_GETFL): O_RDWR, O_APPEND, O_NONBLOCK, ... They belong to the open
// file description, so every duplicate sees the same.
func (f *Fd) GetStatusFlags() (OpenFlags, error) {
	v, err := f.getFlags(fioGetfl, openFlagsFamily)
	return OpenFlags(v), err
}

// SetStatusFlags sets the open file's status flags (fcntl F_SETFL). Linux
// changes only O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME and O_NONBLOCK and
// ignores the access mode and creation flags.
func (f *Fd) SetStatusFlags(flags OpenFlags) error {
	return f.setFlags(fioSetfl, openFlagsFamily, uint64(flags))
}

// getFlags reads a flag word of family fam with fcntl command c.
func (f *Fd) getFlags(c fioCmd, fam *family) (uint64, error) {
	r, err := f.fcntl(c, 0)
	if err != nil {
		return 0, err
	}
	return f.k.flagsFromABI(fam, uint64(r)), nil
}

// setFlags sets a flag word of family fam with fcntl command c.
func (f *Fd) setFlags(c fioCmd, fam *family, v uint64) error {
	if f == nil {
		return callErr("fcntl", EBADF)
	}
	a, err := f.k.flagsToABI(fam, v)
	if err != nil {
		return &fioErr{"fcntl", err}
	}
	_, err = f.fcntl(c, uintptr(a))
	return err
}

// SetNonblock turns O_NONBLOCK on or off, keeping the other status flags.
func (f *Fd) SetNonblock(on bool) error {
	fl, err := f.GetStatusFlags()
	if err != nil {
		return err
	}
	if on {
		fl |= O_NONBLOCK
	} else {
		fl &^= O_NONBLOCK
	}
	return f.SetStatusFlags(fl)
}

// PipeSize returns the capacity of a pipe (fcntl F_GETPIPE_SZ, Linux).
func (f *Fd) PipeSize() (int, error) {
	r, err := f.fcntl(fioGetpipeSz, 0)
	return int(r), err
}

// SetPipeSize asks for a pipe capacity of at least n bytes (fcntl
// F_SETPIPE_SZ, Linux) and returns the capacity set, which the kernel rounds
// up to a power-of-two number of pages.
func (f *Fd) SetPipeSize(n int) (int, error) {
	if n < 0 || n > int(^uint32(0)>>1) {
		return 0, badArg("fcntl", "pipe size "+strconv.Itoa(n)+" out of range")
	}
	r, err := f.fcntl(fioSetpipeSz, uintptr(n))
	return int(r), err
}

// Locks.

// Flock describes a byte-range lock (struct flock) for the record-lock and
// open-file-description-lock commands.
type Flock struct {
	Type   LockType // F_RDLCK, F_WRLCK or F_UNLCK
	Whence Whence   // what Start is relative to: SEEK_SET, SEEK_CUR, SEEK_END
	Start  int64
	Len    int64 // 0 locks to the end of the file, however far it grows
	Pid    int32 // the holder, as the get commands report it; -1 for an OFD lock
}

// lock performs a lock command; get commands fill lk with the answer.
func (f *Fd) lock(c fioCmd, lk *Flock, get, ofd bool) error {
	if lk == nil {
		return badArg("fcntl", "nil *Flock")
	}
	if f == nil {
		return callErr("fcntl", EBADF)
	}
	k := f.k
	s := &k.files.fio
	if !s.have[c] {
		return callErr("fcntl", ENOSYS)
	}
	typ, err := k.enumToABI(lockTypeFamily, uint64(lk.Type))
	if err != nil {
		return &fioErr{"fcntl", err}
	}
	wh, err := k.enumToABI(whenceFamily, uint64(lk.Whence))
	if err != nil {
		return &fioErr{"fcntl", err}
	}
	var raw [fioFlockBufSize]byte
	b, be := raw[:], s.flock.be
	s.lkType.put(b, be, typ)
	s.lkWhence.put(b, be, wh)
	s.lkStart.put(b, be, uint64(lk.Start))
	s.lkLen.put(b, be, uint64(lk.Len))
	if !ofd {
		// The OFD commands require l_pid 0 on input.
		s.lkPid.put(b, be, uint64(lk.Pid))
	}
	n, e := f.acquire()
	if e != 0 {
		return callErr("fcntl", e)
	}
	for {
		_, e = k.syscall(sysFcntl, n, uintptr(s.cmd[c]), uintptr(unsafe.Pointer(&raw)), 0, 0, 0)
		// A wait interrupted by a signal (the Go runtime sends some) is
		// resumed: Go code has no way to mean the interruption.
		if e != EINTR || (c != fioSetlkw && c != fioOfdSetlkw) {
			break
		}
	}
	f.release()
	if e != 0 {
		return callErr("fcntl", e)
	}
	if get {
		*lk = Flock{
			Type:   LockType(k.enumFromABI(lockTypeFamily, uint64(s.lkType.int(b, be)))),
			Whence: Whence(k.enumFromABI(whenceFamily, uint64(s.lkWhence.int(b, be)))),
			Start:  s.lkStart.int(b, be),
			Len:    s.lkLen.int(b, be),
			Pid:    int32(s.lkPid.int(b, be)),
		}
	}
	return nil
}

// GetLock asks whether the lock lk describes could be placed (fcntl
// F_GETLK): if not, lk is overwritten with one conflicting lock, else
// lk.Type becomes F_UNLCK. Record locks belong to the process, so the
// process's own locks never conflict.
func (f *Fd) GetLock(lk *Flock) error { return f.lock(fioGetlk, lk, true, false) }

// SetLock places or removes (F_UNLCK) a process-owned record lock (fcntl
// F_SETLK); a conflicting lock makes it fail at once with EAGAIN or EACCES.
// Beware: closing any descriptor of the file releases the process's locks.
func (f *Fd) SetLock(lk *Flock) error { return f.lock(fioSetlk, lk, false, false) }

// SetLockWait is SetLock that waits for conflicting locks to go (fcntl
// F_SETLKW); the kernel reports EDEADLK if waiting would deadlock.
func (f *Fd) SetLockWait(lk *Flock) error { return f.lock(fioSetlkw, lk, false, false) }

// OFDGetLock is GetLock for open-file-description locks (fcntl F_OFD_GETLK):
// locks held through other open file descriptions conflict, even this
// process's. lk.Pid is ignored; a conflicting OFD lock reports Pid -1.
func (f *Fd) OFDGetLock(lk *Flock) error { return f.lock(fioOfdGetlk, lk, true, true) }

// OFDSetLock places or removes a lock owned by the open file description
// (fcntl F_OFD_SETLK): it is shared by duplicates of f, released when the
// last of them closes, and conflicts with locks of other descriptions (EAGAIN).
func (f *Fd) OFDSetLock(lk *Flock) error { return f.lock(fioOfdSetlk, lk, false, true) }

// OFDSetLockWait is OFDSetLock that waits for conflicting locks to go
// (fcntl F_OFD_SETLKW).
func (f *Fd) OFDSetLockWait(lk *Flock) error { return f.lock(fioOfdSetlkw, lk, false, true) }

// Sizes and space.

// Truncate sets the size of the file at path (truncate): it cuts data off or
// extends the file with zeros.
func (k *Kernel) Truncate(path string, size int64) error {
	if size < 0 {
		return badArg("truncate", "negative length")
	}
	var pb pathBuf
	p, err := pb.cstr("truncate", path)
	if err != nil {
		return err
	}
	if _, e := k.syscallW(sysTruncate, 1, noArg64, uint64(size), 0, uintptr(p), 0, 0, 0, 0); e != 0 {
		return pathErr("truncate", path, e)
	}
	return nil
}

// Truncate sets the size of the open file (ftruncate); it must be open for
// writing (else EINVAL).
func (f *Fd) Truncate(size int64) error {
	if size < 0 {
		return badArg("ftruncate", "negative length")
	}
	n, e := f.acquire()
	if e != 0 {
		return callErr("ftruncate", e)
	}
	_, e = f.k.syscallW(sysFtruncate, 1, noArg64, uint64(size), 0, n, 0, 0, 0, 0)
	f.release()
	if e != 0 {
		return callErr("ftruncate", e)
	}
	return nil
}

// Fallocate manipulates the space of the byte range [off, off+length)
// (fallocate): with mode 0 it allocates blocks (growing the file), with
// FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE it frees them, and so on. File
// systems that cannot answer EOPNOTSUPP.
func (f *Fd) Fallocate(mode FallocFlags, off, length int64) error {
	if off < 0 || length <= 0 {
		return badArg("fallocate", "negative offset or non-positive length")
	}
	if off > int64(^uint64(0)>>1)-length {
		return badArg("fallocate", "offset+length overflows")
	}
	if f == nil {
		return callErr("fallocate", EBADF)
	}
	m, err := f.k.flagsToABI(fallocFlagsFamily, uint64(mode))
	if err != nil {
		return &fioErr{"fallocate", err}
	}
	n, e := f.acquire()
	if e != 0 {
		return callErr("fallocate", e)
	}
	_, e = f.k.syscallW(sysFallocate, 2, 3, uint64(off), uint64(length), n, uintptr(m), 0, 0, 0)
	f.release()
	if e != 0 {
		return callErr("fallocate", e)
	}
	return nil
}

// Syncing.

// Sync flushes the file's data and metadata to its device (fsync).
func (f *Fd) Sync() error { return errOnly(f.fdCall("fsync", sysFsync, 0, 0, 0)) }

// Datasync flushes the file's data, and only the metadata needed to read it
// back (fdatasync).
//
// NetBSD's fdatasync wants a descriptor open for writing (EBADF otherwise,
// a directory's included); there Datasync syncs the whole file instead, as
// fsync does, so that it works on any open descriptor as on Linux.
func (f *Fd) Datasync() error {
	_, err := f.fdCall("fdatasync", sysFdatasync, 0, 0, 0)
	if errors.Is(err, EBADF) && f.Num() >= 0 && f.k.table.OS == "netbsd" {
		return f.Sync()
	}
	return err
}

// Syncfs flushes the whole file system holding the file (syncfs).
func (f *Fd) Syncfs() error { return errOnly(f.fdCall("syncfs", sysSyncfs, 0, 0, 0)) }

// Sync schedules every file system's dirty data for writing (sync). It
// cannot fail, except with ENOSYS on a kernel without it.
func (k *Kernel) Sync() error {
	return errOnly(k.intCall("sync", sysSync, 0, 0, 0))
}
