package rump

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/api"
)

// Typed mounts of NetBSD file systems (__mount50 with each file system's
// argument struct, laid out from the ABI table). They work on any Kernel
// that speaks NetBSD's ABI: a local rump kernel, a remote one, or a NetBSD
// host. They need no cgo, so they build without the rump tag too.

// MountFlags are NetBSD's generic mount flags (MNT_*), translated by name
// through the ABI table.
type MountFlags uint32

const (
	MountRdonly      MountFlags = 1 << iota // MNT_RDONLY: read-only
	MountNosuid                             // MNT_NOSUID: ignore set-id bits
	MountNodev                              // MNT_NODEV: no device files
	MountNoexec                             // MNT_NOEXEC: no executables
	MountSynchronous                        // MNT_SYNCHRONOUS: synchronous writes
	MountAsync                              // MNT_ASYNC: asynchronous writes
	MountNoatime                            // MNT_NOATIME: no access times
	MountLog                                // MNT_LOG: WAPBL journaling (ffs)
	MountUpdate                             // MNT_UPDATE: change an existing mount
	MountForce                              // MNT_FORCE: Unmount even if busy
)

var mountFlagNames = namedBits{
	"MNT_RDONLY", "MNT_NOSUID", "MNT_NODEV", "MNT_NOEXEC", "MNT_SYNCHRONOUS",
	"MNT_ASYNC", "MNT_NOATIME", "MNT_LOG", "MNT_UPDATE", "MNT_FORCE",
}

func (f MountFlags) abi(k *api.Kernel, op string) (uintptr, error) {
	v, err := mountFlagNames.toABI(k, op, "mount", uint64(f))
	return uintptr(v), err
}

// TmpfsArgs are tmpfs's mount arguments (struct tmpfs_args). Zero limits
// mean none; a zero RootMode means 01777.
type TmpfsArgs struct {
	NodesMax uint64
	SizeMax  int64 // bytes
	RootUID  uint32
	RootGID  uint32
	RootMode uint32
}

// PtyfsArgs are ptyfs's mount arguments (struct ptyfs_args): the group
// and mode of the slave devices it shows.
type PtyfsArgs struct {
	Gid   uint32
	Mode  uint32
	Flags uint32 // PTYFSMNT_* bits
}

// ISOFlags are cd9660's mount flags (ISOFSMNT_*).
type ISOFlags uint32

const (
	ISONoRRIP       ISOFlags = 0x01 // ISOFSMNT_NORRIP: ignore Rock Ridge
	ISOGens         ISOFlags = 0x02 // ISOFSMNT_GENS: show version numbers
	ISOExtAtt       ISOFlags = 0x04 // ISOFSMNT_EXTATT: extended attributes
	ISONoJoliet     ISOFlags = 0x08 // ISOFSMNT_NOJOLIET: ignore Joliet
	ISONoCaseTrans  ISOFlags = 0x10 // ISOFSMNT_NOCASETRANS: keep name case
	ISORRCaseInsens ISOFlags = 0x20 // ISOFSMNT_RRCASEINS: case-insensitive Rock Ridge
)

// argStruct is one mount argument struct being filled from its layout.
type argStruct struct {
	s   *abi.Struct
	t   *abi.Table
	b   []byte
	err error
}

func newArgs(k *api.Kernel, name string) (*argStruct, error) {
	t := k.ABI()
	s, ok := t.Struct(name)
	if !ok {
		return nil, fmt.Errorf("mount: struct %s is missing from the %s/%s ABI table: %w", name, t.OS, t.Arch, api.ENOSYS)
	}
	return &argStruct{s: s, t: t, b: make([]byte, s.Size)}, nil
}

// put sets a field, truncated to its width.
func (a *argStruct) put(field string, v uint64) {
	f, ok := a.s.Field(field)
	if !ok {
		if a.err == nil {
			a.err = fmt.Errorf("mount: struct %s has no field %s", a.s.Name, field)
		}
		return
	}
	p := a.b[f.Offset : f.Offset+f.Size]
	o := a.t.ByteOrder()
	switch f.Size {
	case 1:
		p[0] = byte(v)
	case 2:
		o.PutUint16(p, uint16(v))
	case 4:
		o.PutUint32(p, uint32(v))
	case 8:
		o.PutUint64(p, v)
	default:
		a.err = fmt.Errorf("mount: field %s.%s has width %d", a.s.Name, field, f.Size)
	}
}

// cstring returns a NUL-terminated heap copy of s (heap memory does not
// move, so its address may sit inside an argument struct).
func cstring(op, s string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &os.PathError{Op: op, Path: s, Err: api.EINVAL}
	}
	return append([]byte(s), 0), nil
}

// mount makes __mount50(fstype, dir, flags, data, len(data)).
func mount(k *api.Kernel, fstype, dir string, flags MountFlags, data []byte, keep ...[]byte) error {
	op := "mount " + fstype
	fl, err := flags.abi(k, op)
	if err != nil {
		return err
	}
	ct, err := cstring(op, fstype)
	if err != nil {
		return err
	}
	cd, err := cstring(op, dir)
	if err != nil {
		return err
	}
	var dp uintptr
	if len(data) > 0 {
		dp = uintptr(unsafe.Pointer(&data[0]))
	}
	_, err = k.Syscall("__mount50", uintptr(unsafe.Pointer(&ct[0])), uintptr(unsafe.Pointer(&cd[0])), fl, dp, uintptr(len(data)))
	runtime.KeepAlive(ct)
	runtime.KeepAlive(cd)
	runtime.KeepAlive(data)
	runtime.KeepAlive(keep)
	if err != nil {
		return &os.PathError{Op: op, Path: dir, Err: unwrapSyscall(err)}
	}
	return nil
}

func unwrapSyscall(err error) error {
	if se, ok := err.(*os.SyscallError); ok {
		return se.Err
	}
	return err
}

// constOr reads a constant of k's ABI, def where the ABI lacks it.
func constOr(k *api.Kernel, name string, def uint64) uint64 {
	if v, ok := k.Const(name); ok {
		return v
	}
	return def
}

// abiConst reads a constant of k's ABI.
func abiConst(k *api.Kernel, name string) (uint64, error) {
	if v, ok := k.Const(name); ok {
		return v, nil
	}
	t := k.ABI()
	return 0, fmt.Errorf("mount: %s is missing from the %s/%s ABI table: %w", name, t.OS, t.Arch, api.ENOSYS)
}

// MountTmpfs mounts a tmpfs at dir.
func MountTmpfs(k *api.Kernel, dir string, flags MountFlags, args TmpfsArgs) error {
	a, err := newArgs(k, "tmpfs_args")
	if err != nil {
		return err
	}
	mode := args.RootMode
	if mode == 0 {
		mode = 0o1777
	}
	v, err := abiConst(k, "TMPFS_ARGS_VERSION")
	if err != nil {
		return err
	}
	a.put("ta_version", v)
	a.put("ta_nodes_max", args.NodesMax)
	a.put("ta_size_max", uint64(args.SizeMax))
	a.put("ta_root_uid", uint64(args.RootUID))
	a.put("ta_root_gid", uint64(args.RootGID))
	a.put("ta_root_mode", uint64(mode))
	if a.err != nil {
		return a.err
	}
	return mount(k, "tmpfs", dir, flags, a.b)
}

// MountFFS mounts the FFS (UFS1/UFS2) file system on block device dev (an
// etfs key registered as EtfsBlk, or a /dev node) at dir.
func MountFFS(k *api.Kernel, dev, dir string, flags MountFlags) error {
	return mountSpec(k, "ffs", "ufs_args", dev, dir, flags, nil)
}

// MountCD9660 mounts the ISO 9660 file system on block device dev at dir;
// ISO 9660 is read-only, so MountRdonly is implied.
func MountCD9660(k *api.Kernel, dev, dir string, flags MountFlags, iso ISOFlags) error {
	return mountSpec(k, "cd9660", "iso_args", dev, dir, flags|MountRdonly, func(a *argStruct) {
		a.put("flags", uint64(iso))
	})
}

// mountSpec mounts a file system whose arguments start with fspec, the
// device path.
func mountSpec(k *api.Kernel, fstype, argsName, dev, dir string, flags MountFlags, fill func(*argStruct)) error {
	a, err := newArgs(k, argsName)
	if err != nil {
		return err
	}
	spec, err := cstring("mount "+fstype, dev)
	if err != nil {
		return err
	}
	a.put("fspec", uint64(uintptr(unsafe.Pointer(&spec[0]))))
	if fill != nil {
		fill(a)
	}
	if a.err != nil {
		return a.err
	}
	return mount(k, fstype, dir, flags, a.b, spec)
}

// MountKernfs mounts kernfs (the kernel's /kern) at dir.
func MountKernfs(k *api.Kernel, dir string, flags MountFlags) error {
	return mount(k, "kernfs", dir, flags, nil)
}

// MountPtyfs mounts ptyfs (the slave sides of ptys, /dev/pts) at dir.
func MountPtyfs(k *api.Kernel, dir string, flags MountFlags, args PtyfsArgs) error {
	a, err := newArgs(k, "ptyfs_args")
	if err != nil {
		return err
	}
	v, err := abiConst(k, "PTYFS_ARGSVERSION")
	if err != nil {
		return err
	}
	a.put("version", v)
	a.put("gid", uint64(args.Gid))
	a.put("mode", uint64(args.Mode))
	a.put("flags", uint64(args.Flags))
	if a.err != nil {
		return a.err
	}
	return mount(k, "ptyfs", dir, flags, a.b)
}

// Unmount detaches the file system mounted at dir (unmount(2)); flags may
// hold MountForce.
func Unmount(k *api.Kernel, dir string, flags MountFlags) error {
	fl, err := flags.abi(k, "unmount")
	if err != nil {
		return err
	}
	cd, err := cstring("unmount", dir)
	if err != nil {
		return err
	}
	_, err = k.Syscall("unmount", uintptr(unsafe.Pointer(&cd[0])), fl)
	runtime.KeepAlive(cd)
	if err != nil {
		return &os.PathError{Op: "unmount", Path: dir, Err: unwrapSyscall(err)}
	}
	return nil
}
