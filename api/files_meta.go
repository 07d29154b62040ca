package api

import (
	"io/fs"
	"strconv"
	"unsafe"
)

// File metadata: permissions, ownership, times, access checks, advisory
// locks, and memfd (anonymous memory files) with their seals.

var (
	sysChmod       = newCall("chmod")
	sysFchmod      = newCall("fchmod")
	sysFchmodat    = newCall("fchmodat")
	sysChown       = newCall("chown", "__posix_chown")
	sysFchown      = newCall("fchown")
	sysLchown      = newCall("lchown", "__posix_lchown")
	sysFchownat    = newCall("fchownat")
	sysUtimensat   = newCall("utimensat")
	sysFutimens    = newCall("futimens") // NetBSD's; Linux's is utimensat with a null path
	sysAccess      = newCall("access")
	sysFaccessat   = newCall("faccessat")
	sysFaccessat2  = newCall("faccessat2")
	sysFlock       = newCall("flock")
	sysMemfdCreate = newCall("memfd_create")
)

// Chmod sets the permission, set-id and sticky bits of path, following
// symbolic links.
func (k *Kernel) Chmod(path string, mode Mode) error {
	return k.fchmodat("chmod", sysChmod, nil, path, mode)
}

// Fchmodat is Chmod relative to dir (nil: the current directory). Linux's
// fchmodat has no flags argument and always follows symbolic links (the
// mode of a link itself cannot be changed).
func (k *Kernel) Fchmodat(dir *Fd, path string, mode Mode) error {
	return k.fchmodat("fchmodat", sysNone, dir, path, mode)
}

// fchmodat makes the legacy call when the ABI has it (sysNone: never), as
// the calls of files_path.go do.
func (k *Kernel) fchmodat(op string, legacy call, dir *Fd, path string, mode Mode) error {
	if err := checkPerm(op, mode); err != nil {
		return err
	}
	return k.pathOrAt(op, legacy, sysFchmodat, dir, path, uintptr(mode), 0, 0)
}

// Chmod sets the permission bits of the open file (fchmod).
func (f *Fd) Chmod(mode Mode) error {
	if err := checkPerm("fchmod", mode); err != nil {
		return err
	}
	return errOnly(f.fdCall("fchmod", sysFchmod, uintptr(mode), 0, 0))
}

// idArg converts a user or group id for chown: -1 leaves it unchanged, as
// in C and os.Chown.
func idArg(op, what string, id int) (uintptr, error) {
	if id == -1 {
		return uintptr(^uint32(0)), nil
	}
	if id < 0 || int64(id) >= 1<<32-1 { // int64: int may be 32 bits wide
		return 0, badArg(op, what+" "+strconv.Itoa(id)+" out of range (use -1 to leave it unchanged)")
	}
	return uintptr(id), nil
}

func ids(op string, uid, gid int) (uintptr, uintptr, error) {
	u, err := idArg(op, "uid", uid)
	if err != nil {
		return 0, 0, err
	}
	g, err := idArg(op, "gid", gid)
	if err != nil {
		return 0, 0, err
	}
	return u, g, nil
}

// Chown changes the owner and group of path, following symbolic links; -1
// leaves one unchanged. Without privilege, only the group can change, to
// one of the caller's groups.
func (k *Kernel) Chown(path string, uid, gid int) error {
	return k.fchownat("chown", sysChown, nil, path, uid, gid, 0)
}

// Lchown is Chown on a symbolic link itself.
func (k *Kernel) Lchown(path string, uid, gid int) error {
	return k.fchownat("lchown", sysLchown, nil, path, uid, gid, AT_SYMLINK_NOFOLLOW)
}

// Fchownat is Chown relative to dir (nil: the current directory); flags
// may hold AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH (path "" changes the file
// dir is open on).
func (k *Kernel) Fchownat(dir *Fd, path string, uid, gid int, flags AtFlags) error {
	return k.fchownat("fchownat", sysNone, dir, path, uid, gid, flags)
}

// fchownat makes the legacy call (chown or lchown, whose flags are implied)
// when the ABI has it (sysNone: never).
func (k *Kernel) fchownat(op string, legacy call, dir *Fd, path string, uid, gid int, flags AtFlags) error {
	if flags&^(AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH) != 0 {
		return badArg(op, "flags "+flags.String()+": only AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH apply")
	}
	var fl uint64
	if !k.hasCall(legacy) { // the classic calls imply their flags
		var err error
		if fl, err = k.flagsToABI(atFlagsFamily, uint64(flags)); err != nil {
			return &fs.PathError{Op: op, Path: path, Err: err}
		}
	}
	u, g, err := ids(op, uid, gid)
	if err != nil {
		return err
	}
	return k.pathOrAt(op, legacy, sysFchownat, dir, path, u, g, uintptr(fl))
}

// Chown changes the owner and group of the open file (fchown); -1 leaves
// one unchanged.
func (f *Fd) Chown(uid, gid int) error {
	u, g, err := ids("fchown", uid, gid)
	if err != nil {
		return err
	}
	return errOnly(f.fdCall("fchown", sysFchown, u, g, 0))
}

// Special nanosecond values of utimensat, in api's (Linux's) numbering.
const (
	utimeNowNsec  = 1<<30 - 1
	utimeOmitNsec = 1<<30 - 2
)

var (
	// UTIME_NOW as a time given to Utimensat or Fd.Utimes sets that time
	// to the current time.
	UTIME_NOW = Timespec{Nsec: utimeNowNsec}
	// UTIME_OMIT as a time given to Utimensat or Fd.Utimes leaves that time
	// unchanged.
	UTIME_OMIT = Timespec{Nsec: utimeOmitNsec}
)

// utimesBufSize is the stack scratch for utimensat's struct timespec[2].
const utimesBufSize = 64

// encodeTimes writes atime and mtime as the ABI's struct timespec[2].
func (k *Kernel) encodeTimes(op string, raw *[utimesBufSize]byte, atime, mtime Timespec) error {
	s := k.fmeta()
	if s.tsErr != nil {
		return callErr(op, ENOSYS)
	}
	for i, t := range [2]Timespec{atime, mtime} {
		b := raw[i*s.ts.size:]
		nsec := uint64(t.Nsec)
		switch t.Nsec {
		case utimeNowNsec, utimeOmitNsec:
			if !s.utimeOK {
				return callErr(op, ENOSYS)
			}
			nsec = s.utimeNow
			if t.Nsec == utimeOmitNsec {
				nsec = s.utimeOmit
			}
			t.Sec = 0
		default:
			if !t.valid() {
				return badArg(op, "nanoseconds "+strconv.FormatInt(t.Nsec, 10)+" out of range [0, 1e9)")
			}
			if s.tsSec.size == 4 && int64(int32(t.Sec)) != t.Sec {
				return badArg(op, "seconds "+strconv.FormatInt(t.Sec, 10)+" do not fit this ABI's 32-bit time_t")
			}
		}
		s.tsSec.put(b, s.ts.be, uint64(t.Sec))
		s.tsNsec.put(b, s.ts.be, nsec)
	}
	return nil
}

// Utimensat sets the access and modification times of path relative to dir
// (nil: the current directory) with nanosecond precision. Either time may be
// UTIME_NOW (the current time) or UTIME_OMIT (unchanged). flags may hold
// AT_SYMLINK_NOFOLLOW (change a symbolic link itself) and AT_EMPTY_PATH.
func (k *Kernel) Utimensat(dir *Fd, path string, atime, mtime Timespec, flags AtFlags) error {
	if flags&^(AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH) != 0 {
		return badArg("utimensat", "flags "+flags.String()+": only AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH apply")
	}
	fl, err := k.flagsToABI(atFlagsFamily, uint64(flags))
	if err != nil {
		return &fs.PathError{Op: "utimensat", Path: path, Err: err}
	}
	var raw [utimesBufSize]byte
	if err := k.encodeTimes("utimensat", &raw, atime, mtime); err != nil {
		return err
	}
	return errOnly(k.atBufCall("utimensat", sysUtimensat, dir, path, unsafe.Pointer(&raw), uintptr(fl)))
}

// Utimes sets the access and modification times of the open file
// (futimens: on Linux utimensat with a null path, which NetBSD refuses
// with EFAULT; ABIs with a futimens call get it). UTIME_NOW and UTIME_OMIT
// work as for Utimensat.
func (f *Fd) Utimes(atime, mtime Timespec) error {
	if f == nil {
		return callErr("utimensat", EBADF)
	}
	var raw [utimesBufSize]byte
	if err := f.k.encodeTimes("utimensat", &raw, atime, mtime); err != nil {
		return err
	}
	n, e := f.acquire()
	if e != 0 {
		return callErr("utimensat", e)
	}
	if f.k.hasCall(sysFutimens) {
		_, e = f.k.syscall(sysFutimens, n, uintptr(unsafe.Pointer(&raw)), 0, 0, 0, 0)
	} else {
		_, e = f.k.syscall(sysUtimensat, n, 0, uintptr(unsafe.Pointer(&raw)), 0, 0, 0)
	}
	f.release()
	if e != 0 {
		return callErr("utimensat", e)
	}
	return nil
}

func checkAccess(op string, mode AccessMode) error {
	if mode&^(R_OK|W_OK|X_OK) != 0 {
		return badArg(op, "unknown AccessMode bits "+mode.String())
	}
	return nil
}

// Access checks whether the calling process may access path with mode
// (F_OK: it exists; R_OK, W_OK, X_OK), using the real user and group ids as
// access(2) does. A refusal is EACCES; a missing file ENOENT.
func (k *Kernel) Access(path string, mode AccessMode) error {
	return k.faccessat("access", sysAccess, nil, path, mode, 0)
}

// Faccessat is Access relative to dir (nil: the current directory). With
// flags 0 it is the faccessat syscall; other flags (AT_EACCESS: check with
// the effective ids; AT_SYMLINK_NOFOLLOW; AT_EMPTY_PATH) need faccessat2
// (Linux 5.8), since faccessat has no flags argument, and give ENOSYS
// without it.
func (k *Kernel) Faccessat(dir *Fd, path string, mode AccessMode, flags AtFlags) error {
	op := "faccessat"
	if flags != 0 {
		op = "faccessat2"
	}
	return k.faccessat(op, sysNone, dir, path, mode, flags)
}

// faccessat makes the legacy call (access, flags 0) when the ABI has it
// (sysNone: never).
func (k *Kernel) faccessat(op string, legacy call, dir *Fd, path string, mode AccessMode, flags AtFlags) error {
	if err := checkAccess(op, mode); err != nil {
		return err
	}
	if flags&^(AT_EACCESS|AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH) != 0 {
		return badArg(op, "flags "+flags.String()+": only AT_EACCESS, AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH apply")
	}
	ma, err := k.flagsToABI(accessModeFamily, uint64(mode))
	if err != nil {
		return &fs.PathError{Op: op, Path: path, Err: err}
	}
	if k.hasCall(legacy) {
		return errOnly(k.pathCall(op, legacy, path, uintptr(ma), 0))
	}
	fl, err := k.flagsToABI(atFlagsFamily, uint64(flags))
	if err != nil {
		return &fs.PathError{Op: op, Path: path, Err: err}
	}
	c := sysFaccessat
	if flags != 0 || !k.hasCall(sysFaccessat) {
		c = sysFaccessat2
	}
	return errOnly(k.atCall(op, c, dir, path, uintptr(ma), uintptr(fl), 0))
}

// Flock applies or removes an advisory lock on the open file: LOCK_SH
// (shared), LOCK_EX (exclusive) or LOCK_UN (unlock), optionally with
// LOCK_NB to fail with EWOULDBLOCK (EAGAIN) instead of waiting. Locks belong
// to the open file description, so a second Open of the same file
// conflicts, a DupCloexec does not.
func (f *Fd) Flock(op LockOp) error {
	switch op &^ LOCK_NB {
	case LOCK_SH, LOCK_EX, LOCK_UN:
	default:
		return badArg("flock", "operation "+op.String()+": want one of LOCK_SH, LOCK_EX, LOCK_UN, optionally with LOCK_NB")
	}
	if f == nil {
		return callErr("flock", EBADF)
	}
	o, err := f.k.flagsToABI(lockOpFamily, uint64(op))
	if err != nil {
		return err
	}
	// Blocking: LOCK_EX without LOCK_NB waits for the holder.
	return errOnly(f.fdCall("flock", sysFlock, uintptr(o), 0, 0))
}

// MemfdCreate returns a new anonymous file living in memory. name (at most
// 249 bytes) only labels it in /proc/self/fd. flags: MFD_CLOEXEC,
// MFD_ALLOW_SEALING (permit AddSeals), MFD_HUGETLB.
func (k *Kernel) MemfdCreate(name string, flags MemfdFlags) (*Fd, error) {
	if flags&^(MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_HUGETLB) != 0 {
		return nil, badArg("memfd_create", "unknown MemfdFlags bits "+flags.String())
	}
	fl, err := k.flagsToABI(memfdFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	r, err := k.pathCall("memfd_create", sysMemfdCreate, name, uintptr(fl), 0)
	if err != nil {
		return nil, err
	}
	return k.newFd(r), nil
}

// AddSeals adds seals to a memfd made with MFD_ALLOW_SEALING (fcntl
// F_ADD_SEALS): F_SEAL_WRITE forbids writes, F_SEAL_SHRINK/F_SEAL_GROW
// changes of size, F_SEAL_SEAL further seals. Seals cannot be removed.
func (f *Fd) AddSeals(seals SealFlags) error {
	if seals&^(F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE|F_SEAL_FUTURE_WRITE) != 0 {
		return badArg("fcntl", "unknown SealFlags bits "+seals.String())
	}
	if f == nil {
		return callErr("fcntl", EBADF)
	}
	s := f.k.fmeta()
	if !s.sealsOK {
		return callErr("fcntl", ENOSYS)
	}
	v, err := f.k.flagsToABI(sealFlagsFamily, uint64(seals))
	if err != nil {
		return err
	}
	return errOnly(f.fdCall("fcntl", sysFcntl, uintptr(s.fAddSeals), uintptr(v), 0))
}

// Seals returns the seals of a memfd (fcntl F_GET_SEALS); a file that
// cannot be sealed gives EINVAL.
func (f *Fd) Seals() (SealFlags, error) {
	if f == nil {
		return 0, callErr("fcntl", EBADF)
	}
	s := f.k.fmeta()
	if !s.sealsOK {
		return 0, callErr("fcntl", ENOSYS)
	}
	r, err := f.fdCall("fcntl", sysFcntl, uintptr(s.fGetSeals), 0, 0)
	if err != nil {
		return 0, err
	}
	return SealFlags(f.k.flagsFromABI(sealFlagsFamily, uint64(r))), nil
}
