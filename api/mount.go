package api

import (
	"os"
	"strings"
	"unsafe"
)

// Mounts: mount, umount2, pivot_root, and the file-descriptor based mount
// API of Linux 5.2 and later (fsopen, fsconfig, fsmount, move_mount,
// open_tree, mount_setattr). Mounts belong to the caller's mount namespace,
// which a Go thread may have of its own (Unshare(CLONE_NEWNS)).

var (
	sysMount        = newCall("mount")
	sysUmount2      = newCall("umount2")
	sysPivotRoot    = newCall("pivot_root")
	sysFsopen       = newCall("fsopen")
	sysFsconfig     = newCall("fsconfig")
	sysFsmount      = newCall("fsmount")
	sysFspick       = newCall("fspick")
	sysMoveMount    = newCall("move_mount")
	sysOpenTree     = newCall("open_tree")
	sysMountSetattr = newCall("mount_setattr")
	sysMntRead      = newCall("read")
)

// mountState is the mounts part of nsState.
type mountState struct {
	attr                                 layout // struct mount_attr; size 0 where the ABI lacks it
	attrSet, attrClr, propagation, usern fieldAt
}

// mountAttrBufSize bounds struct mount_attr (32 bytes in Linux 6.x).
const mountAttrBufSize = 64

func (s *mountState) init(k *Kernel) error {
	l := k.optLayout("mount_attr")
	if l.size == 0 || l.size > mountAttrBufSize {
		return nil // mount_setattr answers ENOSYS
	}
	var err error
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{{&s.attrSet, "attr_set"}, {&s.attrClr, "attr_clr"}, {&s.propagation, "propagation"}, {&s.usern, "userns_fd"}} {
		if *x.p, err = l.must(x.name); err != nil {
			return err
		}
	}
	s.attr = l
	return nil
}

// Mount attaches the file system source of type fstype at target (mount(2)).
// data is the file system's option string ("size=1m,mode=755"), "" for none.
// flags also select the other operations of mount(2): MS_BIND (source is a
// directory to bind), MS_MOVE, MS_REMOUNT, and the propagation changes
// MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE (with MS_REC for a whole
// tree; source and fstype are ignored then and may be "").
func (k *Kernel) Mount(source, target, fstype string, flags MountFlags, data string) error {
	fl, err := k.procCheckBits("mount", mountFlagsFamily, uint64(flags))
	if err != nil {
		return err
	}
	var sb, tb, fb pathBuf
	var src, typ, dat unsafe.Pointer
	if source != "" {
		if src, err = sb.cstr("mount", source); err != nil {
			return err
		}
	}
	tgt, err := tb.cstr("mount", target)
	if err != nil {
		return err
	}
	if fstype != "" {
		if typ, err = fb.cstr("mount", fstype); err != nil {
			return err
		}
	}
	if data != "" {
		if dat, err = cString("mount", data); err != nil {
			return err
		}
	}
	if _, e := k.syscall(sysMount, uintptr(src), uintptr(tgt), uintptr(typ), fl, uintptr(dat), 0); e != 0 {
		return pathErr("mount", target, e)
	}
	return nil
}

// PivotRoot makes newRoot the root mount of the caller's mount namespace and
// moves the old root to putOld, a directory at or under newRoot
// (pivot_root(2)). newRoot must be a mount point that is not the current
// root; the threads and processes of the namespace whose root or current
// directory was the old root move to the new one. The usual next step is
// Chdir("/") and Umount2(putOld, MNT_DETACH). putOld may equal newRoot
// (PivotRoot(".", ".") stacks the old root on the new one, to be detached).
func (k *Kernel) PivotRoot(newRoot, putOld string) error {
	var nb, ob pathBuf
	n, err := nb.cstr("pivot_root", newRoot)
	if err != nil {
		return err
	}
	o, err := ob.cstr("pivot_root", putOld)
	if err != nil {
		return err
	}
	if _, e := k.syscall(sysPivotRoot, uintptr(n), uintptr(o), 0, 0, 0, 0); e != 0 {
		return pathErr("pivot_root", newRoot, e)
	}
	return nil
}

// Umount2 detaches the file system mounted at target (umount2(2)); flags
// may hold MNT_FORCE, MNT_DETACH (lazy: detach now, clean up when no longer
// busy), MNT_EXPIRE and UMOUNT_NOFOLLOW.
func (k *Kernel) Umount2(target string, flags UmountFlags) error {
	fl, err := k.procCheckBits("umount2", umountFlagsFamily, uint64(flags))
	if err != nil {
		return err
	}
	var pb pathBuf
	p, err := pb.cstr("umount2", target)
	if err != nil {
		return err
	}
	if _, e := k.syscall(sysUmount2, uintptr(p), fl, 0, 0, 0, 0); e != 0 {
		return pathErr("umount2", target, e)
	}
	return nil
}

// The file-descriptor based mount API. A file system is created in steps
// on an fs context descriptor:
//
//	fc, _ := k.Fsopen("tmpfs", api.FSOPEN_CLOEXEC)
//	fc.FsconfigSetString("size", "1m")
//	fc.FsconfigCreate()
//	mnt, _ := fc.Fsmount(api.FSMOUNT_CLOEXEC, api.MOUNT_ATTR_NODEV)
//	k.MoveMount(mnt, "", nil, "/mnt", api.MOVE_MOUNT_F_EMPTY_PATH)
//
// A mount descriptor (from Fsmount or OpenTree with OPEN_TREE_CLONE) is a
// detached mount until MoveMount attaches it; closing it unattached
// unmounts it.

// Fsopen starts creating a file system of type fsname ("tmpfs", "proc")
// and returns its fs context descriptor.
func (k *Kernel) Fsopen(fsname string, flags FsopenFlags) (*Fd, error) {
	fl, err := k.procCheckBits("fsopen", fsopenFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	var pb pathBuf
	p, err := pb.cstr("fsopen", fsname)
	if err != nil {
		return nil, err
	}
	r, e := k.syscall(sysFsopen, uintptr(p), fl, 0, 0, 0, 0)
	if e != 0 {
		return nil, pathErr("fsopen", fsname, e)
	}
	return k.newFd(r), nil
}

// Fspick opens an fs context for the file system mounted at path (relative
// to dir, nil: the current directory), to reconfigure it
// (FsconfigReconfigure).
func (k *Kernel) Fspick(dir *Fd, path string, flags FspickFlags) (*Fd, error) {
	fl, err := k.procCheckBits("fspick", fspickFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	var pb pathBuf
	p, err := pb.cstr("fspick", path)
	if err != nil {
		return nil, err
	}
	d, e := k.dirfd(dir)
	if e != 0 {
		return nil, pathErr("fspick", path, e)
	}
	r, e := k.syscall(sysFspick, d, uintptr(p), fl, 0, 0, 0)
	k.releaseDir(dir)
	if e != 0 {
		return nil, pathErr("fspick", path, e)
	}
	return k.newFd(r), nil
}

// Fsconfig makes one fsconfig(2) call on the fs context f: cmd with key,
// value and aux as the kernel takes them for cmd (value is a C string for
// SET_STRING and SET_PATH, the bytes for SET_BINARY, unused otherwise; aux
// is a descriptor number for SET_PATH and SET_FD, the length for
// SET_BINARY). The typed methods (FsconfigSetString, FsconfigCreate, ...)
// are easier; this one serves commands they do not cover. On failure the
// error carries the message the file system logged to the context, if
// any.
func (f *Fd) Fsconfig(cmd FsconfigCmd, key string, value []byte, aux int) error {
	if aux < 0 || aux != int(int32(aux)) {
		return badArg("fsconfig", "aux out of range")
	}
	return f.fsconfig(cmd, key, false, value, nil, uintptr(aux))
}

// FsconfigSetFlag sets a flag option ("ro", "noexec").
func (f *Fd) FsconfigSetFlag(key string) error {
	return f.fsconfig(FSCONFIG_SET_FLAG, key, false, nil, nil, 0)
}

// FsconfigSetString sets an option with a string value ("size", "1m").
func (f *Fd) FsconfigSetString(key, value string) error {
	if strings.IndexByte(value, 0) >= 0 {
		return badArg("fsconfig", "value "+quoteNUL(value)+" contains a NUL byte")
	}
	v := make([]byte, len(value)+1)
	copy(v, value)
	return f.fsconfig(FSCONFIG_SET_STRING, key, false, v, nil, 0)
}

// FsconfigSetBinary sets an option with a binary value.
func (f *Fd) FsconfigSetBinary(key string, value []byte) error {
	if len(value) == 0 {
		return badArg("fsconfig", "empty binary value")
	}
	return f.fsconfig(FSCONFIG_SET_BINARY, key, false, value, nil, uintptr(len(value)))
}

// FsconfigSetPath sets an option that names a file ("source" of a block
// device file system), path relative to dir (nil: the current directory);
// path "" names dir itself (FSCONFIG_SET_PATH_EMPTY).
func (f *Fd) FsconfigSetPath(key string, dir *Fd, path string) error {
	cmd := FSCONFIG_SET_PATH
	if path == "" {
		if dir == nil {
			return badArg("fsconfig", "empty path without a directory")
		}
		cmd = FSCONFIG_SET_PATH_EMPTY
	}
	v, err := cString("fsconfig", path)
	if err != nil {
		return err
	}
	return f.fsconfig(cmd, key, true, unsafe.Slice((*byte)(v), len(path)+1), dir, 0)
}

// FsconfigSetFd sets an option whose value is an open file.
func (f *Fd) FsconfigSetFd(key string, fd *Fd) error {
	if fd == nil {
		return callErr("fsconfig", EBADF)
	}
	return f.fsconfig(FSCONFIG_SET_FD, key, true, nil, fd, 0)
}

// FsconfigCreate creates the file system from the options set so far; the
// context can then be mounted with Fsmount.
func (f *Fd) FsconfigCreate() error {
	return f.fsconfig(FSCONFIG_CMD_CREATE, "", false, nil, nil, 0)
}

// FsconfigReconfigure applies the options set so far to the file system
// of a context opened with Fspick.
func (f *Fd) FsconfigReconfigure() error {
	return f.fsconfig(FSCONFIG_CMD_RECONFIGURE, "", false, nil, nil, 0)
}

// fsconfig makes the call; withFd passes fd's number (dir: AT_FDCWD when
// nil) as aux.
func (f *Fd) fsconfig(cmd FsconfigCmd, key string, withFd bool, value []byte, fd *Fd, aux uintptr) error {
	if f == nil {
		return callErr("fsconfig", EBADF)
	}
	k := f.k
	known := false
	for _, v := range fsconfigCmdFamily.values {
		known = known || v == uint64(cmd)
	}
	if !known {
		return badArg("fsconfig", "unknown FsconfigCmd "+cmd.String())
	}
	c, err := k.enumToABI(fsconfigCmdFamily, uint64(cmd))
	if err != nil {
		return badArg("fsconfig", err.Error())
	}
	var kb pathBuf
	var kp unsafe.Pointer
	if key != "" {
		if kp, err = kb.cstr("fsconfig", key); err != nil {
			return err
		}
	}
	if withFd {
		var e Errno
		if aux, e = k.dirfd(fd); e != 0 {
			return callErr("fsconfig", e)
		}
	}
	n, e := f.acquire()
	if e != 0 {
		if withFd {
			k.releaseDir(fd)
		}
		return callErr("fsconfig", e)
	}
	vp := bufPtr(value)
	_, e = k.syscall(sysFsconfig, n, uintptr(c), uintptr(kp), uintptr(vp), aux, 0)
	if withFd {
		k.releaseDir(fd)
	}
	if e != 0 {
		msg := f.fsLog()
		f.release()
		op := "fsconfig"
		if key != "" {
			op += " " + key
		}
		if msg != "" {
			op += " (" + msg + ")"
		}
		return &os.SyscallError{Syscall: op, Err: e}
	}
	f.release()
	return nil
}

// fsLog reads the first message a file system logged to its context, ""
// when there is none. The caller holds f.
func (f *Fd) fsLog() string {
	var b [256]byte
	// Raw call: reading the context's log never blocks (ENODATA when
	// empty).
	r, e := f.k.rawSyscall(sysMntRead, uintptr(f.num), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0)
	if e != 0 || r == 0 {
		return ""
	}
	return strings.TrimSpace(string(b[:r]))
}

// Fsmount turns the created file system of fs context f into a detached
// mount and returns its descriptor; attrs are the mount's MOUNT_ATTR_*
// attributes. Attach it with MoveMount.
func (f *Fd) Fsmount(flags FsmountFlags, attrs MountAttrFlags) (*Fd, error) {
	if f == nil {
		return nil, callErr("fsmount", EBADF)
	}
	k := f.k
	fl, err := k.procCheckBits("fsmount", fsmountFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	at, err := k.procCheckBits("fsmount", mountAttrFlagsFamily, uint64(attrs))
	if err != nil {
		return nil, err
	}
	n, e := f.acquire()
	if e != 0 {
		return nil, callErr("fsmount", e)
	}
	r, e := k.syscall(sysFsmount, n, fl, at, 0, 0, 0)
	f.release()
	if e != 0 {
		return nil, callErr("fsmount", e)
	}
	return k.newFd(r), nil
}

// MoveMount moves the mount at fromPath (relative to fromDir) to toPath
// (relative to toDir); a nil directory is the current directory. With
// MOVE_MOUNT_F_EMPTY_PATH and fromPath "", fromDir itself is the mount (a
// detached mount from Fsmount or OpenTree: this attaches it); likewise
// MOVE_MOUNT_T_EMPTY_PATH for the target.
func (k *Kernel) MoveMount(fromDir *Fd, fromPath string, toDir *Fd, toPath string, flags MoveMountFlags) error {
	fl, err := k.procCheckBits("move_mount", moveMountFlagsFamily, uint64(flags))
	if err != nil {
		return err
	}
	var fb, tb pathBuf
	fp, err := fb.cstr("move_mount", fromPath)
	if err != nil {
		return err
	}
	tp, err := tb.cstr("move_mount", toPath)
	if err != nil {
		return err
	}
	fd, e := k.dirfd(fromDir)
	if e != 0 {
		return pathErr("move_mount", toPath, e)
	}
	td, e := k.dirfd(toDir)
	if e != 0 {
		k.releaseDir(fromDir)
		return pathErr("move_mount", toPath, e)
	}
	_, e = k.syscall(sysMoveMount, fd, uintptr(fp), td, uintptr(tp), fl, 0)
	k.releaseDir(toDir)
	k.releaseDir(fromDir)
	if e != 0 {
		return pathErr("move_mount", toPath, e)
	}
	return nil
}

// OpenTree opens the mount at path (relative to dir, nil: the current
// directory) as a mount descriptor. With OPEN_TREE_CLONE it is a detached
// copy of the mount (with AT_RECURSIVE, of the whole tree below it: a bind
// mount, or an rbind) that MoveMount can attach elsewhere; without, an
// O_PATH-like handle of the mount itself. at may also hold AT_EMPTY_PATH,
// AT_NO_AUTOMOUNT and AT_SYMLINK_NOFOLLOW.
func (k *Kernel) OpenTree(dir *Fd, path string, flags OpenTreeFlags, at AtFlags) (*Fd, error) {
	fl, err := k.procCheckBits("open_tree", openTreeFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	af, err := k.procCheckBits("open_tree", atFlagsFamily, uint64(at))
	if err != nil {
		return nil, err
	}
	var pb pathBuf
	p, err := pb.cstr("open_tree", path)
	if err != nil {
		return nil, err
	}
	d, e := k.dirfd(dir)
	if e != 0 {
		return nil, pathErr("open_tree", path, e)
	}
	r, e := k.syscall(sysOpenTree, d, uintptr(p), fl|af, 0, 0, 0)
	k.releaseDir(dir)
	if e != 0 {
		return nil, pathErr("open_tree", path, e)
	}
	return k.newFd(r), nil
}

// MountAttr is a change of a mount's attributes (struct mount_attr).
type MountAttr struct {
	Set   MountAttrFlags // attributes to set
	Clear MountAttrFlags // attributes to clear (MOUNT_ATTR__ATIME to change the atime mode)
	// Propagation, if not 0, is one of MS_PRIVATE, MS_SLAVE, MS_SHARED,
	// MS_UNBINDABLE.
	Propagation MountFlags
	// Userns is the user namespace of an ID-mapped mount
	// (MOUNT_ATTR_IDMAP in Set).
	Userns *Fd
}

// MountSetattr changes the attributes of the mount at path (relative to
// dir, nil: the current directory), or of every mount below it too with
// AT_RECURSIVE (mount_setattr(2), Linux 5.12). at may also hold
// AT_EMPTY_PATH (path "" and dir a mount descriptor), AT_NO_AUTOMOUNT and
// AT_SYMLINK_NOFOLLOW.
func (k *Kernel) MountSetattr(dir *Fd, path string, at AtFlags, attr *MountAttr) error {
	s := &k.ns.mnt
	if s.attr.size == 0 {
		return pathErr("mount_setattr", path, ENOSYS)
	}
	if attr == nil {
		return badArg("mount_setattr", "nil *MountAttr")
	}
	af, err := k.procCheckBits("mount_setattr", atFlagsFamily, uint64(at))
	if err != nil {
		return err
	}
	set, err := k.procCheckBits("mount_setattr", mountAttrFlagsFamily, uint64(attr.Set))
	if err != nil {
		return err
	}
	clr, err := k.procCheckBits("mount_setattr", mountAttrFlagsFamily, uint64(attr.Clear))
	if err != nil {
		return err
	}
	switch attr.Propagation {
	case 0, MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE:
	default:
		return badArg("mount_setattr", "propagation "+attr.Propagation.String()+" is not one of MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE")
	}
	prop, err := k.procCheckBits("mount_setattr", mountFlagsFamily, uint64(attr.Propagation))
	if err != nil {
		return err
	}
	var pb pathBuf
	p, err := pb.cstr("mount_setattr", path)
	if err != nil {
		return err
	}
	var raw [mountAttrBufSize]byte
	b, be := raw[:s.attr.size], s.attr.be
	s.attrSet.put(b, be, uint64(set))
	s.attrClr.put(b, be, uint64(clr))
	s.propagation.put(b, be, uint64(prop))
	if attr.Userns != nil {
		if attr.Userns.k != k {
			return pathErr("mount_setattr", path, EBADF)
		}
		u, e := attr.Userns.acquire()
		if e != 0 {
			return pathErr("mount_setattr", path, e)
		}
		defer attr.Userns.release()
		s.usern.put(b, be, uint64(u))
	}
	d, e := k.dirfd(dir)
	if e != 0 {
		return pathErr("mount_setattr", path, e)
	}
	_, e = k.syscall(sysMountSetattr, d, uintptr(p), af, uintptr(unsafe.Pointer(&raw[0])), uintptr(s.attr.size), 0)
	k.releaseDir(dir)
	if e != 0 {
		return pathErr("mount_setattr", path, e)
	}
	return nil
}
