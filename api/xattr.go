package api

import (
	"strconv"
	"strings"
	"unsafe"
)

// Extended attributes: name/value pairs beside a file's data, in namespaces
// ("user.", "trusted.", "security.", "system."). Each operation comes in
// three forms: on a path (following symbolic links), on a path's link
// itself (l*), and on an open file (f*, methods on *Fd).

var (
	sysSetxattr     = newCall("setxattr")
	sysLsetxattr    = newCall("lsetxattr")
	sysFsetxattr    = newCall("fsetxattr")
	sysGetxattr     = newCall("getxattr")
	sysLgetxattr    = newCall("lgetxattr")
	sysFgetxattr    = newCall("fgetxattr")
	sysListxattr    = newCall("listxattr")
	sysLlistxattr   = newCall("llistxattr")
	sysFlistxattr   = newCall("flistxattr")
	sysRemovexattr  = newCall("removexattr")
	sysLremovexattr = newCall("lremovexattr")
	sysFremovexattr = newCall("fremovexattr")
)

// xattrName checks an attribute name and returns its C string.
func (k *Kernel) xattrName(op string, nb *pathBuf, name string) (unsafe.Pointer, error) {
	if name == "" {
		return nil, badArg(op, "empty attribute name")
	}
	if max := k.fmeta().xattrNameMax; len(name) > max {
		return nil, badArg(op, "attribute name of "+strconv.Itoa(len(name))+" bytes, more than XATTR_NAME_MAX ("+strconv.Itoa(max)+")")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return nil, badArg(op, "attribute name "+quoteNUL(name)+" contains a NUL byte")
	}
	return nb.cstr(op, name)
}

// xattrTarget prepares the target of an xattr call: the C string of path
// in pb, or, when f is not nil, f's number (acquired: release f after the
// call).
func xattrTarget(op, path string, f *Fd, pb *pathBuf) (unsafe.Pointer, uintptr, error) {
	if f != nil {
		fd, e := f.acquire()
		if e != 0 {
			return nil, 0, callErr(op, e)
		}
		return nil, fd, nil
	}
	p, err := pb.cstr(op, path)
	return p, 0, err
}

// xattrSys makes one xattr call: on the path p when it is not nil, else on
// descriptor fd. Addresses arrive as unsafe.Pointer, which the runtime
// adjusts if the stack moves in this function's prologue.
func (k *Kernel) xattrSys(c call, p unsafe.Pointer, fd uintptr, a2, a3 unsafe.Pointer, a4, a5 uintptr) (uintptr, Errno) {
	if p != nil {
		return k.syscall(c, uintptr(p), uintptr(a2), uintptr(a3), a4, a5, 0)
	}
	return k.syscall(c, fd, uintptr(a2), uintptr(a3), a4, a5, 0)
}

// xattrListSys is xattrSys for the list calls: (target, list, size).
func (k *Kernel) xattrListSys(c call, p unsafe.Pointer, fd uintptr, b unsafe.Pointer, n int) (uintptr, Errno) {
	if p != nil {
		return k.syscall(c, uintptr(p), uintptr(b), uintptr(n), 0, 0, 0)
	}
	return k.syscall(c, fd, uintptr(b), uintptr(n), 0, 0, 0)
}

// xattrCall makes one of the calls that name an attribute, on path or, when
// f is not nil, on f: c(target, name, buf, len(buf), a5).
func (k *Kernel) xattrCall(c call, op, path string, f *Fd, name string, buf []byte, a5 uintptr) (uintptr, error) {
	var nb, pb pathBuf
	np, err := k.xattrName(op, &nb, name)
	if err != nil {
		return 0, err
	}
	p, fd, err := xattrTarget(op, path, f, &pb)
	if err != nil {
		return 0, err
	}
	r, e := k.xattrSys(c, p, fd, np, bufPtr(buf), uintptr(len(buf)), a5)
	if f != nil {
		f.release()
	}
	if e != 0 {
		return 0, xattrErr(op, path, f != nil, e)
	}
	return r, nil
}

// xattrErr wraps e: with the path for the path forms, the call otherwise.
func xattrErr(op, path string, onFd bool, e Errno) error {
	if onFd {
		return callErr(op, e)
	}
	return pathErr(op, path, e)
}

// Setxattr sets the attribute name of path to value. flags:
// XATTR_CREATE fails with EEXIST if it exists, XATTR_REPLACE with ENODATA
// if it does not; 0 does either. File systems without user attributes
// answer ENOTSUP (EOPNOTSUPP).
func (k *Kernel) Setxattr(path, name string, value []byte, flags XattrFlags) error {
	return k.setxattr(sysSetxattr, "setxattr", path, nil, name, value, flags)
}

// Lsetxattr is Setxattr on a symbolic link itself.
func (k *Kernel) Lsetxattr(path, name string, value []byte, flags XattrFlags) error {
	return k.setxattr(sysLsetxattr, "lsetxattr", path, nil, name, value, flags)
}

// Setxattr sets an attribute of the open file (fsetxattr).
func (f *Fd) Setxattr(name string, value []byte, flags XattrFlags) error {
	if f == nil {
		return callErr("fsetxattr", EBADF)
	}
	return f.k.setxattr(sysFsetxattr, "fsetxattr", "", f, name, value, flags)
}

func (k *Kernel) setxattr(c call, op, path string, f *Fd, name string, value []byte, flags XattrFlags) error {
	if flags&^(XATTR_CREATE|XATTR_REPLACE) != 0 {
		return badArg(op, "unknown XattrFlags bits "+flags.String())
	}
	fl, err := k.flagsToABI(xattrFlagsFamily, uint64(flags))
	if err != nil {
		return err
	}
	return errOnly(k.xattrCall(c, op, path, f, name, value, uintptr(fl)))
}

// Getxattr reads the attribute name of path into buf and returns its
// length. A buf too small for the value gives ERANGE; a nil (empty) buf
// asks only for the length. A missing attribute gives ENODATA.
func (k *Kernel) Getxattr(path, name string, buf []byte) (int, error) {
	return k.getxattr(sysGetxattr, "getxattr", path, nil, name, buf)
}

// Lgetxattr is Getxattr on a symbolic link itself.
func (k *Kernel) Lgetxattr(path, name string, buf []byte) (int, error) {
	return k.getxattr(sysLgetxattr, "lgetxattr", path, nil, name, buf)
}

// Getxattr reads an attribute of the open file (fgetxattr); see
// Kernel.Getxattr.
func (f *Fd) Getxattr(name string, buf []byte) (int, error) {
	if f == nil {
		return 0, callErr("fgetxattr", EBADF)
	}
	return f.k.getxattr(sysFgetxattr, "fgetxattr", "", f, name, buf)
}

func (k *Kernel) getxattr(c call, op, path string, f *Fd, name string, buf []byte) (int, error) {
	r, err := k.xattrCall(c, op, path, f, name, buf, 0)
	return int(r), err
}

// Listxattr returns the names of path's attributes (those the caller may
// see: user.* and, with privilege, trusted.*).
func (k *Kernel) Listxattr(path string) ([]string, error) {
	return k.listxattr(sysListxattr, "listxattr", path, nil)
}

// Llistxattr is Listxattr on a symbolic link itself.
func (k *Kernel) Llistxattr(path string) ([]string, error) {
	return k.listxattr(sysLlistxattr, "llistxattr", path, nil)
}

// Listxattr returns the names of the open file's attributes (flistxattr).
func (f *Fd) Listxattr() ([]string, error) {
	if f == nil {
		return nil, callErr("flistxattr", EBADF)
	}
	return f.k.listxattr(sysFlistxattr, "flistxattr", "", f)
}

func (k *Kernel) listxattr(c call, op, path string, f *Fd) ([]string, error) {
	var pb pathBuf
	p, fd, err := xattrTarget(op, path, f, &pb)
	if err != nil {
		return nil, err
	}
	if f != nil {
		defer f.release()
	}
	var small [512]byte
	buf := small[:]
	for try := 0; ; try++ {
		r, e := k.xattrListSys(c, p, fd, bufPtr(buf), len(buf))
		if e == 0 {
			return splitNames(buf[:r]), nil
		}
		// ERANGE: the list is longer than buf. Ask for its size and try
		// again; it may grow in between, so retry a few times.
		if e != ERANGE || try == 8 {
			return nil, xattrErr(op, path, f != nil, e)
		}
		r, e = k.xattrListSys(c, p, fd, nil, 0)
		if e != 0 {
			return nil, xattrErr(op, path, f != nil, e)
		}
		buf = make([]byte, int(r)+256)
	}
}

// splitNames splits the kernel's list of NUL-terminated names.
func splitNames(b []byte) []string {
	names := []string{}
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		if i > 0 {
			names = append(names, string(b[:i]))
		}
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return names
}

// Removexattr removes the attribute name of path; a missing one gives
// ENODATA.
func (k *Kernel) Removexattr(path, name string) error {
	return k.removexattr(sysRemovexattr, "removexattr", path, nil, name)
}

// Lremovexattr is Removexattr on a symbolic link itself.
func (k *Kernel) Lremovexattr(path, name string) error {
	return k.removexattr(sysLremovexattr, "lremovexattr", path, nil, name)
}

// Removexattr removes an attribute of the open file (fremovexattr).
func (f *Fd) Removexattr(name string) error {
	if f == nil {
		return callErr("fremovexattr", EBADF)
	}
	return f.k.removexattr(sysFremovexattr, "fremovexattr", "", f, name)
}

func (k *Kernel) removexattr(c call, op, path string, f *Fd, name string) error {
	return errOnly(k.xattrCall(c, op, path, f, name, nil, 0))
}
