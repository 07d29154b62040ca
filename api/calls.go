package api

import "unsafe"

// Helpers for the shapes most wrappers share: a call on a path, on a path
// relative to an optional directory, on a descriptor, or with integer
// arguments only. Each one wraps errors the way its shape wants (paths:
// fs.PathError; two names: os.LinkError; otherwise os.SyscallError), with
// the op its caller names.
//
// The memory-safety rule of Kernel.syscall holds inside them: paths become C
// strings in the helper's own frame, addresses arrive as unsafe.Pointer
// (which the runtime adjusts if the stack moves in a prologue) and become
// uintptr only in the argument list of k.syscall. The uintptr parameters
// carry numbers, never addresses.

// sysNone is a call no ABI has: hasCall reports false for it, and making it
// answers ENOSYS. It stands for "no legacy form" in the calls that have one,
// and for a call an ABI cannot serve, so that an open descriptor is still
// checked first.
var sysNone = newCall()

// hasCall reports whether the ABI has call c itself (not a fallback).
func (k *Kernel) hasCall(c call) bool { return k.nr[c] != noSyscall }

// errOnly drops a call's result, for the wrappers that return only the
// error: return errOnly(k.pathCall(...)).
func errOnly(_ uintptr, err error) error { return err }

// intCall makes c(a1, a2, a3), all numbers.
func (k *Kernel) intCall(op string, c call, a1, a2, a3 uintptr) (uintptr, error) {
	r, e := k.syscall(c, a1, a2, a3, 0, 0, 0)
	if e != 0 {
		return 0, callErr(op, e)
	}
	return r, nil
}

// pathCall makes c(path, a2, a3).
func (k *Kernel) pathCall(op string, c call, path string, a2, a3 uintptr) (uintptr, error) {
	var pb pathBuf
	p, err := pb.cstr(op, path)
	if err != nil {
		return 0, err
	}
	r, e := k.syscall(c, uintptr(p), a2, a3, 0, 0, 0)
	if e != 0 {
		return 0, pathErr(op, path, e)
	}
	return r, nil
}

// pathOrAt makes the classic one-path call legacy(path, a2, a3) when the
// ABI has it, else its *at form at(dir, path, a2, a3, a4); a4 is the *at
// form's flags, which the classic call implies. Passing sysNone as legacy
// always makes the *at form (the *at wrappers themselves).
func (k *Kernel) pathOrAt(op string, legacy, at call, dir *Fd, path string, a2, a3, a4 uintptr) error {
	if k.hasCall(legacy) {
		return errOnly(k.pathCall(op, legacy, path, a2, a3))
	}
	return errOnly(k.atCall(op, at, dir, path, a2, a3, a4))
}

// atArgs prepares the first two arguments of an *at call: path as a C
// string in pb, and dir acquired (nil: AT_FDCWD; release it after the call).
func (k *Kernel) atArgs(op string, dir *Fd, path string, pb *pathBuf) (unsafe.Pointer, uintptr, error) {
	p, err := pb.cstr(op, path)
	if err != nil {
		return nil, 0, err
	}
	d, e := k.dirfd(dir)
	if e != 0 {
		return nil, 0, pathErr(op, path, e)
	}
	return p, d, nil
}

// atCall makes c(dir, path, a3, a4, a5), dir nil meaning AT_FDCWD.
func (k *Kernel) atCall(op string, c call, dir *Fd, path string, a3, a4, a5 uintptr) (uintptr, error) {
	var pb pathBuf
	p, d, err := k.atArgs(op, dir, path, &pb)
	if err != nil {
		return 0, err
	}
	r, e := k.syscall(c, d, uintptr(p), a3, a4, a5, 0)
	k.releaseDir(dir)
	if e != 0 {
		return 0, pathErr(op, path, e)
	}
	return r, nil
}

// atBufCall is atCall for the calls whose third argument is an address:
// c(dir, path, buf, a4).
func (k *Kernel) atBufCall(op string, c call, dir *Fd, path string, buf unsafe.Pointer, a4 uintptr) (uintptr, error) {
	var pb pathBuf
	p, d, err := k.atArgs(op, dir, path, &pb)
	if err != nil {
		return 0, err
	}
	r, e := k.syscall(c, d, uintptr(p), uintptr(buf), a4, 0, 0)
	k.releaseDir(dir)
	if e != 0 {
		return 0, pathErr(op, path, e)
	}
	return r, nil
}

// namesCall makes c(oldname, newname), the classic link, symlink and rename.
func (k *Kernel) namesCall(op string, c call, oldname, newname string) error {
	var pa, pb pathBuf
	po, err := pa.cstr(op, oldname)
	if err != nil {
		return err
	}
	pn, err := pb.cstr(op, newname)
	if err != nil {
		return err
	}
	_, e := k.syscall(c, uintptr(po), uintptr(pn), 0, 0, 0, 0)
	if e != 0 {
		return linkErr(op, oldname, newname, e)
	}
	return nil
}

// names2Call makes c(olddir, oldname, newdir, newname, a5), linkat and the
// renameat calls; nil directories mean AT_FDCWD.
func (k *Kernel) names2Call(op string, c call, olddir *Fd, oldname string, newdir *Fd, newname string, a5 uintptr) error {
	var pa, pb pathBuf
	po, err := pa.cstr(op, oldname)
	if err != nil {
		return err
	}
	pn, err := pb.cstr(op, newname)
	if err != nil {
		return err
	}
	do, dn, e := k.twoDirs(olddir, newdir)
	if e != 0 {
		return linkErr(op, oldname, newname, e)
	}
	_, e = k.syscall(c, do, uintptr(po), dn, uintptr(pn), a5, 0)
	k.releaseDir(olddir)
	k.releaseDir(newdir)
	if e != 0 {
		return linkErr(op, oldname, newname, e)
	}
	return nil
}

// twoDirs acquires two optional directories (nil: AT_FDCWD); release both
// with releaseDir after the call.
func (k *Kernel) twoDirs(a, b *Fd) (uintptr, uintptr, Errno) {
	da, e := k.dirfd(a)
	if e != 0 {
		return 0, 0, e
	}
	db, e := k.dirfd(b)
	if e != 0 {
		k.releaseDir(a)
		return 0, 0, e
	}
	return da, db, 0
}

// acquirePair acquires two descriptors of k for a call that takes both;
// release both after it. A nil, foreign or closed one is EBADF.
func (k *Kernel) acquirePair(a, b *Fd) (uintptr, uintptr, Errno) {
	if a == nil || b == nil || a.k != k || b.k != k {
		return 0, 0, EBADF
	}
	na, e := a.acquire()
	if e != 0 {
		return 0, 0, e
	}
	nb, e := b.acquire()
	if e != 0 {
		a.release()
		return 0, 0, e
	}
	return na, nb, 0
}

// fdCall makes c(f, a2, a3, a4). A nil or closed f is EBADF.
func (f *Fd) fdCall(op string, c call, a2, a3, a4 uintptr) (uintptr, error) {
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr(op, e)
	}
	r, e := f.k.syscall(c, n, a2, a3, a4, 0, 0)
	f.release()
	if e != 0 {
		return 0, callErr(op, e)
	}
	return r, nil
}

// fdBufCall is fdCall for the calls whose second argument is an address:
// c(f, buf, a3, a4).
func (f *Fd) fdBufCall(op string, c call, buf unsafe.Pointer, a3, a4 uintptr) (uintptr, error) {
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr(op, e)
	}
	r, e := f.k.syscall(c, n, uintptr(buf), a3, a4, 0, 0)
	f.release()
	if e != 0 {
		return 0, callErr(op, e)
	}
	return r, nil
}
