package memfs

import "strings"

// Path resolution.

// Resolve flags, memfs's own (the RESOLVE_* values of openat2 are mapped
// onto them by ResolveFlags).
const (
	Follow     = 1 << iota // follow a final symbolic link
	EmptyPath              // an empty path names the start inode itself
	Beneath                // RESOLVE_BENEATH: never leave the start directory (EXDEV)
	InRoot                 // RESOLVE_IN_ROOT: the start directory is "/"
	NoSymlinks             // RESOLVE_NO_SYMLINKS: any symbolic link is ELOOP
)

// walker is one path resolution.
type walker struct {
	fs    *FS
	c     *Cred
	root  *Inode // what "/" and ".." at the top mean
	base  *Inode // the start directory, for Beneath
	flags int
	links int
}

func (fs *FS) walker(c *Cred, start *Inode, flags int) *walker {
	w := &walker{fs: fs, c: c, root: fs.root, base: start, flags: flags}
	if flags&InRoot != 0 {
		w.root = start
	}
	return w
}

// parent resolves every component of path but the last. It returns the
// directory holding the last one, its name ("." for "/" or a path of only
// slashes), and whether path ended in a slash.
func (w *walker) parent(start *Inode, path string) (*Inode, string, bool, Errno) {
	if path == "" {
		return nil, "", false, ENOENT
	}
	if len(path) >= PathMax {
		return nil, "", false, ENAMETOOLONG
	}
	cur := start
	if path[0] == '/' {
		if w.flags&Beneath != 0 {
			return nil, "", false, EXDEV
		}
		cur = w.root
	}
	comps, slash := splitPath(path)
	if len(comps) == 0 {
		return cur, ".", true, 0
	}
	for _, c := range comps[:len(comps)-1] {
		next, e := w.step(cur, c, true)
		if e != 0 {
			return nil, "", false, e
		}
		if !next.isDir() {
			return nil, "", false, ENOTDIR
		}
		cur = next
	}
	last := comps[len(comps)-1]
	if e := checkName(last); e != 0 {
		return nil, "", false, e
	}
	if !cur.isDir() {
		return nil, "", false, ENOTDIR
	}
	return cur, last, slash, 0
}

// step looks name up in dir, following it if it is a symbolic link and
// follow is set.
func (w *walker) step(dir *Inode, name string, follow bool) (*Inode, Errno) {
	if !dir.isDir() {
		return nil, ENOTDIR
	}
	if !dir.may(w.c, X_OK) {
		return nil, EACCES
	}
	if e := checkName(name); e != 0 {
		return nil, e
	}
	switch name {
	case ".":
		return dir, 0
	case "..":
		if dir == w.root {
			return dir, 0
		}
		if dir == w.base && w.flags&Beneath != 0 {
			return nil, EXDEV
		}
		if dir.parent == nil {
			return nil, ENOENT // a removed directory
		}
		return dir.parent, 0
	}
	if dir.dir == nil {
		return nil, ENOENT
	}
	child := dir.dir.lookup(name)
	if child == nil {
		return nil, ENOENT
	}
	if child.isLink() && follow {
		return w.follow(dir, child)
	}
	return child, 0
}

// follow resolves a symbolic link found in dir.
func (w *walker) follow(dir, link *Inode) (*Inode, Errno) {
	if w.flags&NoSymlinks != 0 {
		return nil, ELOOP
	}
	if w.links++; w.links > MaxSymlinks {
		return nil, ELOOP
	}
	link.touch(tA)
	return w.resolve(dir, link.target, true)
}

// resolve resolves a whole path from start.
func (w *walker) resolve(start *Inode, path string, followLast bool) (*Inode, Errno) {
	if path == "" && w.flags&EmptyPath != 0 {
		return start, 0
	}
	dir, name, slash, e := w.parent(start, path)
	if e != 0 {
		return nil, e
	}
	ino, e := w.step(dir, name, followLast || slash)
	if e != 0 {
		return nil, e
	}
	if slash && !ino.isDir() {
		return nil, ENOTDIR
	}
	return ino, 0
}

// Lookup resolves path from start (nil: the root) with flags (Follow,
// EmptyPath, Beneath, InRoot, NoSymlinks).
func (fs *FS) Lookup(c *Cred, start *Inode, path string, flags int) (*Inode, Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.lookup(c, start, path, flags)
}

func (fs *FS) lookup(c *Cred, start *Inode, path string, flags int) (*Inode, Errno) {
	if start == nil {
		start = fs.root
	}
	return fs.walker(c, start, flags).resolve(start, path, flags&Follow != 0)
}

// ResolveFlags maps openat2's RESOLVE_* bits onto memfs's flags. Unknown
// bits are EINVAL; RESOLVE_NO_XDEV and RESOLVE_NO_MAGICLINKS hold by
// themselves in one file system without magic links.
func ResolveFlags(resolve uint64) (int, Errno) {
	const known = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED
	if resolve&^known != 0 {
		return 0, EINVAL
	}
	if resolve&RESOLVE_BENEATH != 0 && resolve&RESOLVE_IN_ROOT != 0 {
		return 0, EINVAL
	}
	fl := 0
	if resolve&RESOLVE_NO_SYMLINKS != 0 {
		fl |= NoSymlinks
	}
	if resolve&RESOLVE_BENEATH != 0 {
		fl |= Beneath
	}
	if resolve&RESOLVE_IN_ROOT != 0 {
		fl |= InRoot
	}
	return fl, 0
}

// Path returns the absolute path of a directory, for getcwd. A directory
// that was removed answers ENOENT.
func (fs *FS) Path(dir *Inode) (string, Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !dir.isDir() {
		return "", ENOTDIR
	}
	var parts []string
	for d := dir; d != fs.root; {
		p := d.parent
		if p == nil || p.dir == nil {
			return "", ENOENT
		}
		name := ""
		for n, e := range p.dir.byName {
			if e.ino == d {
				name = n
				break
			}
		}
		if name == "" {
			return "", ENOENT
		}
		parts = append(parts, name)
		d = p
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	if b.Len() == 0 {
		return "/", 0
	}
	return b.String(), 0
}
