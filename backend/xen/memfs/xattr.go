package memfs

import (
	"sort"
	"strings"
)

// Extended attributes: the user.* namespace on regular files and
// directories, trusted.* for root on any file. There are no security
// modules and nothing executes, so security.* (file capabilities, labels)
// holds nothing: reads find no data, writes are EOPNOTSUPP.

func (i *Inode) xattrCheck(c *Cred, name string, write bool) Errno {
	if name == "" || len(name) > XattrNameMax {
		return ERANGE
	}
	switch {
	case strings.HasPrefix(name, "user."):
		if !i.isReg() && !i.isDir() {
			if write {
				return EPERM
			}
			return ENODATA
		}
		want := uint32(R_OK)
		if write {
			want = W_OK
		}
		if !i.may(c, want) {
			return EACCES
		}
	case strings.HasPrefix(name, "trusted."):
		if c.Uid != 0 {
			if write {
				return EPERM
			}
			return ENODATA
		}
	case strings.HasPrefix(name, "security."):
		if write {
			return EOPNOTSUPP
		}
		return ENODATA
	default:
		return EOPNOTSUPP
	}
	return 0
}

// Setxattr sets attribute name of ino; flags is 0, XATTR_CREATE or
// XATTR_REPLACE.
func (fs *FS) Setxattr(c *Cred, ino *Inode, name string, value []byte, flags int) Errno {
	if flags&^(XATTR_CREATE|XATTR_REPLACE) != 0 {
		return EINVAL
	}
	if len(value) > XattrSizeMax {
		return E2BIG
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if e := ino.xattrCheck(c, name, true); e != 0 {
		return e
	}
	_, ok := ino.xattrs[name]
	if ok && flags&XATTR_CREATE != 0 {
		return EEXIST
	}
	if !ok && flags&XATTR_REPLACE != 0 {
		return ENODATA
	}
	if ino.xattrs == nil {
		ino.xattrs = map[string][]byte{}
	}
	ino.xattrs[name] = append([]byte{}, value...)
	ino.touch(tC)
	fs.notify(nil, "", ino, IN_ATTRIB, 0)
	return 0
}

// Getxattr copies attribute name into buf and returns its length; an empty
// buf asks for the length only, a short one is ERANGE.
func (fs *FS) Getxattr(c *Cred, ino *Inode, name string, buf []byte) (int, Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if e := ino.xattrCheck(c, name, false); e != 0 {
		return 0, e
	}
	v, ok := ino.xattrs[name]
	if !ok {
		return 0, ENODATA
	}
	if len(buf) == 0 {
		return len(v), 0
	}
	if len(buf) < len(v) {
		return 0, ERANGE
	}
	return copy(buf, v), 0
}

// Listxattr writes the NUL-terminated names c may see into buf and returns
// their length, with the same size rules as Getxattr.
func (fs *FS) Listxattr(c *Cred, ino *Inode, buf []byte) (int, Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var names []string
	for n := range ino.xattrs {
		if strings.HasPrefix(n, "trusted.") && c.Uid != 0 {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	size := 0
	for _, n := range names {
		size += len(n) + 1
	}
	if len(buf) == 0 {
		return size, 0
	}
	if len(buf) < size {
		return 0, ERANGE
	}
	off := 0
	for _, n := range names {
		off += copy(buf[off:], n)
		buf[off] = 0
		off++
	}
	return size, 0
}

// Removexattr removes attribute name.
func (fs *FS) Removexattr(c *Cred, ino *Inode, name string) Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if e := ino.xattrCheck(c, name, true); e != 0 {
		return e
	}
	if _, ok := ino.xattrs[name]; !ok {
		return ENODATA
	}
	delete(ino.xattrs, name)
	ino.touch(tC)
	fs.notify(nil, "", ino, IN_ATTRIB, 0)
	return 0
}
