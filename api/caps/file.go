package caps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/api"
)

// File capabilities: what execve of a file grants, stored in the file's
// security.capability attribute as struct vfs_cap_data (revision 2) or
// struct vfs_ns_cap_data (revision 3, which adds the user id that is root
// in the user namespace the capabilities are valid in). The attribute is
// little-endian on every machine.

// XattrName is the attribute file capabilities live in
// (XATTR_NAME_CAPS: XATTR_SECURITY_PREFIX "security." plus
// XATTR_CAPS_SUFFIX "capability"; C strings, which ABI tables, made of
// numbers, do not carry).
const XattrName = "security.capability"

// FileCaps are a file's capabilities.
type FileCaps struct {
	Permitted   api.CapSet // granted whatever the caller has (within its bounding set)
	Inheritable api.CapSet // granted if also in the caller's inheritable set
	Effective   bool       // the granted permitted set is also effective at once
	// Version is the format: 2 (vfs_cap_data) or 3 (vfs_ns_cap_data);
	// Unmarshal also reads 1 (32-bit sets). 0 means 2 for Marshal.
	Version int
	// RootID is the user id, in the namespace of whoever writes or reads
	// the attribute, that is root of the user namespace the capabilities
	// apply in (version 3 only). The kernel returns a version 3 attribute
	// whose root is the reader's own root as version 2.
	RootID uint32
}

// String prints f as getcap does: "cap_chown,cap_net_raw=ep", followed
// by " [rootid=N]" for version 3 (what getcap -n adds).
func (f FileCaps) String() string {
	c := api.Caps{Permitted: f.Permitted, Inheritable: f.Inheritable}
	if f.Effective {
		c.Effective = f.Permitted | f.Inheritable
	}
	s := Format(c, 0)
	if f.Version == 3 {
		s += fmt.Sprintf(" [rootid=%d]", f.RootID)
	}
	return s
}

// ParseFile reads the text form of file capabilities ("cap_net_raw+ep");
// the effective flag must be on for all of them or for none, as a file
// has a single effective bit.
func ParseFile(s string) (FileCaps, error) {
	c, err := Parse(s)
	if err != nil {
		return FileCaps{}, err
	}
	f := FileCaps{Permitted: c.Permitted, Inheritable: c.Inheritable, Version: 2}
	switch c.Effective {
	case 0:
	case c.Permitted | c.Inheritable:
		f.Effective = true
	default:
		return FileCaps{}, &TextError{s, s, "the effective flag of file capabilities covers all of them or none:"}
	}
	return f, nil
}

// fileFormat is the resolved layout of the attribute in one ABI.
type fileFormat struct {
	magic    int // offset of magic_etc
	data     int // offset of the data array
	elem     int // size of one data element {permitted, inheritable}
	rootid   int // offset of rootid in vfs_ns_cap_data
	revMask  uint32
	flagMask uint32
	effFlag  uint32
	rev      [4]uint32 // VFS_CAP_REVISION_1..3 by version
	words    [4]int    // VFS_CAP_U32_1..3
	size     [4]int    // XATTR_CAPS_SZ_1..3
}

func formatOf(t *abi.Table) (*fileFormat, error) {
	var missing []string
	c := func(name string) uint32 {
		v, ok := t.Const(name)
		if !ok {
			missing = append(missing, name)
		}
		return uint32(v)
	}
	f := &fileFormat{
		revMask: c("VFS_CAP_REVISION_MASK"), flagMask: c("VFS_CAP_FLAGS_MASK"), effFlag: c("VFS_CAP_FLAGS_EFFECTIVE"),
	}
	for v := 1; v <= 3; v++ {
		f.rev[v] = c(fmt.Sprintf("VFS_CAP_REVISION_%d", v))
		f.words[v] = int(c(fmt.Sprintf("VFS_CAP_U32_%d", v)))
		f.size[v] = int(c(fmt.Sprintf("XATTR_CAPS_SZ_%d", v)))
	}
	v2, ok2 := t.Struct("vfs_cap_data")
	v3, ok3 := t.Struct("vfs_ns_cap_data")
	if !ok2 || !ok3 {
		missing = append(missing, "struct vfs_cap_data and vfs_ns_cap_data")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("caps: the %s/%s ABI table lacks %s: %w", t.OS, t.Arch, strings.Join(missing, ", "), api.ENOSYS)
	}
	m, okm := v2.Field("magic_etc")
	d, okd := v2.Field("data")
	m3, okm3 := v3.Field("magic_etc")
	d3, okd3 := v3.Field("data")
	r, okr := v3.Field("rootid")
	if !okm || !okd || !okm3 || !okd3 || !okr || m != m3 || d != d3 || f.words[2] == 0 ||
		d.Size%f.words[2] != 0 || v2.Size != f.size[2] || v3.Size != f.size[3] {
		return nil, fmt.Errorf("caps: struct vfs_cap_data of the %s/%s table has an unknown shape", t.OS, t.Arch)
	}
	// One element of data[] is {__le32 permitted; __le32 inheritable;}:
	// the table gives the array, its element's two words follow that
	// order (include/uapi/linux/capability.h).
	f.magic, f.data, f.elem, f.rootid = m.Offset, d.Offset, d.Size/f.words[2], r.Offset
	return f, nil
}

// Marshal encodes f as the attribute's bytes for t's ABI.
func Marshal(t *abi.Table, f FileCaps) ([]byte, error) {
	ff, err := formatOf(t)
	if err != nil {
		return nil, err
	}
	v := f.Version
	if v == 0 {
		v = 2
	}
	if v != 2 && v != 3 {
		return nil, fmt.Errorf("caps: cannot write file capabilities version %d (want 2 or 3): %w", f.Version, api.EINVAL)
	}
	if (f.Permitted|f.Inheritable)>>(32*ff.words[v]) != 0 && ff.words[v] < 2 {
		return nil, fmt.Errorf("caps: capabilities beyond version %d's sets: %w", v, api.EINVAL)
	}
	b := make([]byte, ff.size[v])
	le := binary.LittleEndian
	magic := ff.rev[v]
	if f.Effective {
		magic |= ff.effFlag
	}
	le.PutUint32(b[ff.magic:], magic)
	for w := range ff.words[v] {
		e := b[ff.data+w*ff.elem:]
		le.PutUint32(e, uint32(uint64(f.Permitted)>>(32*w)))
		le.PutUint32(e[4:], uint32(uint64(f.Inheritable)>>(32*w)))
	}
	if v == 3 {
		le.PutUint32(b[ff.rootid:], f.RootID)
	}
	return b, nil
}

// Unmarshal decodes the attribute's bytes (versions 1, 2 and 3).
func Unmarshal(t *abi.Table, b []byte) (FileCaps, error) {
	ff, err := formatOf(t)
	if err != nil {
		return FileCaps{}, err
	}
	if len(b) < 4 {
		return FileCaps{}, fmt.Errorf("caps: file capabilities of %d bytes: %w", len(b), api.EINVAL)
	}
	le := binary.LittleEndian
	magic := le.Uint32(b[ff.magic:])
	var f FileCaps
	for v := 1; v <= 3; v++ {
		if magic&ff.revMask == ff.rev[v] {
			f.Version = v
		}
	}
	if f.Version == 0 {
		return FileCaps{}, fmt.Errorf("caps: unknown file capability revision %#x: %w", magic&ff.revMask, api.EINVAL)
	}
	if len(b) != ff.size[f.Version] {
		return FileCaps{}, fmt.Errorf("caps: version %d file capabilities of %d bytes, want %d: %w", f.Version, len(b), ff.size[f.Version], api.EINVAL)
	}
	if extra := magic & ff.flagMask &^ ff.effFlag; extra != 0 {
		return FileCaps{}, fmt.Errorf("caps: unknown file capability flags %#x: %w", extra, api.EINVAL)
	}
	f.Effective = magic&ff.effFlag != 0
	for w := range ff.words[f.Version] {
		e := b[ff.data+w*ff.elem:]
		f.Permitted |= api.CapSet(le.Uint32(e)) << (32 * w)
		f.Inheritable |= api.CapSet(le.Uint32(e[4:])) << (32 * w)
	}
	if f.Version == 3 {
		f.RootID = le.Uint32(b[ff.rootid:])
	}
	return f, nil
}

// attrBuf is big enough for every version of the attribute.
const attrBuf = 64

// GetFile reads the capabilities of the file at path. A file without any
// gives an error wrapping api.ENODATA.
func GetFile(k *api.Kernel, path string) (FileCaps, error) {
	var buf [attrBuf]byte
	n, err := k.Getxattr(path, XattrName, buf[:])
	if err != nil {
		return FileCaps{}, err
	}
	return Unmarshal(k.ABI(), buf[:n])
}

// GetFd reads the capabilities of an open file.
func GetFd(f *api.Fd) (FileCaps, error) {
	var buf [attrBuf]byte
	n, err := f.Getxattr(XattrName, buf[:])
	if err != nil {
		return FileCaps{}, err
	}
	return Unmarshal(f.Kernel().ABI(), buf[:n])
}

// SetFile gives the file at path the capabilities fc (needs CAP_SETFCAP
// over the file). The kernel removes them again when the file is written
// to or changes owner. Written from inside a user namespace, a version 2
// attribute is stored as version 3 with that namespace's root.
func SetFile(k *api.Kernel, path string, fc FileCaps) error {
	b, err := Marshal(k.ABI(), fc)
	if err != nil {
		return err
	}
	return k.Setxattr(path, XattrName, b, 0)
}

// SetFd is SetFile on an open file.
func SetFd(f *api.Fd, fc FileCaps) error {
	b, err := Marshal(f.Kernel().ABI(), fc)
	if err != nil {
		return err
	}
	return f.Setxattr(XattrName, b, 0)
}

// RemoveFile removes the capabilities of the file at path; a file without
// any is not an error.
func RemoveFile(k *api.Kernel, path string) error {
	err := k.Removexattr(path, XattrName)
	if errors.Is(err, api.ENODATA) {
		return nil
	}
	return err
}
