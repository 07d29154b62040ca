package memfs

// Calls that change the name space: open (with O_CREAT), mkdir, mknod,
// symlink, link, unlink, rmdir, rename.

const maxLinks = 65000

// Open opens path relative to start (nil: the root) with Linux open flags.
// perm is the mode of a file O_CREAT makes, the umask already applied;
// resolve holds memfs's resolve flags (Beneath, InRoot, NoSymlinks).
// FIFOs and device nodes open like any file: what their reads and writes
// do is the backend's business.
func (fs *FS) Open(c *Cred, start *Inode, path string, flags int, perm uint32, resolve int) (*File, Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if start == nil {
		start = fs.root
	}
	acc := flags & O_ACCMODE
	if acc == O_ACCMODE && flags&O_PATH == 0 {
		return nil, EINVAL
	}
	w := fs.walker(c, start, resolve)
	if flags&oTmpfileBit != 0 {
		return fs.openTmpfile(c, w, start, path, flags, perm)
	}
	if flags&O_PATH != 0 {
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
	}
	var ino, odir *Inode
	var oname string
	created := false
	for cur := start; ; {
		dir, name, slash, e := w.parent(cur, path)
		if e != 0 {
			return nil, e
		}
		if name == "." || name == ".." {
			if flags&O_CREAT != 0 {
				return nil, EISDIR
			}
			if ino, e = w.step(dir, name, true); e != 0 {
				return nil, e
			}
			break
		}
		if !dir.may(c, X_OK) {
			return nil, EACCES
		}
		child := dir.dir.lookupSafe(name)
		if child == nil {
			if flags&O_CREAT == 0 {
				return nil, ENOENT
			}
			if slash {
				return nil, EISDIR
			}
			if dir.dir == nil || dir.nlink == 0 {
				return nil, ENOENT
			}
			if !dir.may(c, W_OK|X_OK) {
				return nil, EACCES
			}
			if fs.inodes >= fs.maxIno {
				return nil, ENOSPC
			}
			ino = fs.newInode(c, S_IFREG|perm&0o7777, dir)
			dir.dir.add(name, ino)
			dir.touch(tM | tC)
			fs.notify(dir, name, ino, IN_CREATE, 0)
			created = true
			odir, oname = dir, name
			break
		}
		if flags&(O_CREAT|O_EXCL) == O_CREAT|O_EXCL {
			return nil, EEXIST
		}
		if child.isLink() && !slash {
			if flags&O_NOFOLLOW != 0 {
				if flags&O_PATH != 0 {
					ino = child
					break
				}
				return nil, ELOOP
			}
			if w.flags&NoSymlinks != 0 {
				return nil, ELOOP
			}
			if w.links++; w.links > MaxSymlinks {
				return nil, ELOOP
			}
			// Go on with the target, O_CREAT included: creating through a
			// dangling link makes its target.
			cur, path = dir, child.target
			continue
		}
		if ino, e = w.step(dir, name, true); e != 0 {
			return nil, e
		}
		if slash && !ino.isDir() {
			return nil, ENOTDIR
		}
		odir, oname = dir, name
		break
	}
	if flags&O_DIRECTORY != 0 && !ino.isDir() {
		return nil, ENOTDIR
	}
	if flags&O_PATH == 0 {
		if ino.isDir() && (acc != O_RDONLY || flags&O_CREAT != 0 || flags&O_TRUNC != 0) {
			return nil, EISDIR
		}
		if ino.isLink() {
			return nil, ELOOP
		}
		if !created {
			var want uint32
			if acc == O_RDONLY || acc == O_RDWR {
				want |= R_OK
			}
			if acc == O_WRONLY || acc == O_RDWR || flags&O_TRUNC != 0 {
				want |= W_OK
			}
			if !ino.may(c, want) {
				return nil, EACCES
			}
		}
		if flags&O_TRUNC != 0 && ino.isReg() && !created && acc != O_RDONLY {
			if e := ino.truncate(0); e != 0 {
				return nil, e
			}
			fs.notify(odir, oname, ino, IN_MODIFY, 0)
		}
	}
	f := fs.newFile(ino, flags)
	f.dir, f.name = odir, oname
	if flags&O_PATH == 0 {
		f.event(IN_OPEN)
	}
	return f, 0
}

// lookupSafe is lookup on a directory that may have been removed.
func (d *dirData) lookupSafe(name string) *Inode {
	if d == nil {
		return nil
	}
	return d.lookup(name)
}

func (fs *FS) openTmpfile(c *Cred, w *walker, start *Inode, path string, flags int, perm uint32) (*File, Errno) {
	if flags&O_ACCMODE == O_RDONLY || flags&O_CREAT != 0 || flags&O_PATH != 0 {
		return nil, EINVAL
	}
	dir, e := w.resolve(start, path, true)
	if e != 0 {
		return nil, e
	}
	if !dir.isDir() {
		return nil, ENOTDIR
	}
	if dir.dir == nil {
		return nil, ENOENT
	}
	if !dir.may(c, W_OK|X_OK) {
		return nil, EACCES
	}
	ino := fs.newInode(c, S_IFREG|perm&0o7777, dir)
	ino.nlink = 0
	ino.linkable = flags&O_EXCL == 0
	return fs.newFile(ino, flags&^(O_DIRECTORY|oTmpfileBit)), 0
}

// Anonymous returns an open file of a new regular file with no name: a
// memfd. sealable says whether F_ADD_SEALS may add seals.
func (fs *FS) Anonymous(c *Cred, perm uint32, flags int, sealable bool) *File {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	ino := fs.newInode(c, S_IFREG|perm&0o7777, nil)
	ino.nlink = 0
	ino.memfd = true
	if sealable {
		ino.seals = 0
	}
	return fs.newFile(ino, flags)
}

// create makes a new name for a new inode; the caller holds the lock.
func (fs *FS) create(c *Cred, start *Inode, path string, mode uint32, resolve int) (*Inode, *Inode, Errno) {
	if start == nil {
		start = fs.root
	}
	w := fs.walker(c, start, resolve)
	dir, name, slash, e := w.parent(start, path)
	if e != 0 {
		return nil, nil, e
	}
	if name == "." || name == ".." {
		return nil, nil, EEXIST
	}
	if !dir.may(c, X_OK) {
		return nil, nil, EACCES
	}
	if dir.dir.lookupSafe(name) != nil {
		return nil, nil, EEXIST
	}
	if slash && mode&S_IFMT != S_IFDIR {
		return nil, nil, ENOENT
	}
	if dir.dir == nil || dir.nlink == 0 {
		return nil, nil, ENOENT
	}
	if !dir.may(c, W_OK|X_OK) {
		return nil, nil, EACCES
	}
	if fs.inodes >= fs.maxIno {
		return nil, nil, ENOSPC
	}
	if mode&S_IFMT == S_IFDIR && dir.nlink >= maxLinks {
		return nil, nil, EMLINK
	}
	ino := fs.newInode(c, mode, dir)
	dir.dir.add(name, ino)
	dir.touch(tM | tC)
	fs.notify(dir, name, ino, IN_CREATE, 0)
	return dir, ino, 0
}

// Mkdir makes a directory; perm has the umask applied.
func (fs *FS) Mkdir(c *Cred, start *Inode, path string, perm uint32) Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, ino, e := fs.create(c, start, path, S_IFDIR|perm&0o1777, 0)
	if e != 0 {
		return e
	}
	ino.nlink = 2
	dir.nlink++
	return 0
}

// Mknod makes a regular file, FIFO, socket or (for root) device node;
// mode holds the type and the permissions, the umask applied.
func (fs *FS) Mknod(c *Cred, start *Inode, path string, mode uint32, rdev uint64) Errno {
	switch mode & S_IFMT {
	case 0:
		mode |= S_IFREG
	case S_IFREG, S_IFIFO, S_IFSOCK:
	case S_IFCHR, S_IFBLK:
		if c.Uid != 0 {
			return EPERM
		}
	case S_IFDIR:
		return EPERM
	default:
		return EINVAL
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	_, ino, e := fs.create(c, start, path, mode&(S_IFMT|0o7777), 0)
	if e != 0 {
		return e
	}
	if t := mode & S_IFMT; t == S_IFCHR || t == S_IFBLK {
		ino.rdev = rdev
	}
	return 0
}

// Symlink makes a symbolic link at path holding target.
func (fs *FS) Symlink(c *Cred, target string, start *Inode, path string) Errno {
	if target == "" {
		return ENOENT
	}
	if len(target) > SymlinkMax {
		return ENAMETOOLONG
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	_, ino, e := fs.create(c, start, path, S_IFLNK|0o777, 0)
	if e != 0 {
		return e
	}
	ino.target = target
	return 0
}

// Link gives the file at opath (resolved with flags Follow and EmptyPath)
// the new name npath.
func (fs *FS) Link(c *Cred, ostart *Inode, opath string, nstart *Inode, npath string, flags int) Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	old, e := fs.lookup(c, ostart, opath, flags&(Follow|EmptyPath))
	if e != 0 {
		return e
	}
	if old.isDir() {
		return EPERM
	}
	if old.nlink == 0 && !old.linkable {
		return ENOENT
	}
	if old.nlink >= maxLinks {
		return EMLINK
	}
	if nstart == nil {
		nstart = fs.root
	}
	w := fs.walker(c, nstart, 0)
	dir, name, slash, e := w.parent(nstart, npath)
	if e != 0 {
		return e
	}
	if name == "." || name == ".." || dir.dir.lookupSafe(name) != nil {
		return EEXIST
	}
	if slash {
		return ENOENT
	}
	if dir.dir == nil || dir.nlink == 0 {
		return ENOENT
	}
	if !dir.may(c, W_OK|X_OK) {
		return EACCES
	}
	old.nlink++
	old.linkable = false
	old.touch(tC)
	dir.dir.add(name, old)
	dir.touch(tM | tC)
	fs.notify(nil, "", old, IN_ATTRIB, 0)
	fs.notify(dir, name, old, IN_CREATE, 0)
	return 0
}

// sticky reports whether c may remove or replace victim in dir.
func sticky(c *Cred, dir, victim *Inode) bool {
	return dir.mode&S_ISVTX == 0 || c.Uid == 0 || c.Uid == dir.uid || c.Uid == victim.uid
}

// Unlink removes a name: a non-directory, or with rmdir an empty
// directory.
func (fs *FS) Unlink(c *Cred, start *Inode, path string, rmdir bool) Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if start == nil {
		start = fs.root
	}
	w := fs.walker(c, start, 0)
	dir, name, slash, e := w.parent(start, path)
	if e != 0 {
		return e
	}
	switch name {
	case ".":
		if rmdir {
			return EINVAL
		}
		return EISDIR
	case "..":
		if rmdir {
			return ENOTEMPTY
		}
		return EISDIR
	}
	if !dir.may(c, X_OK) {
		return EACCES
	}
	victim := dir.dir.lookupSafe(name)
	if victim == nil {
		return ENOENT
	}
	if rmdir {
		if !victim.isDir() {
			return ENOTDIR
		}
		if victim == fs.root {
			return EBUSY
		}
		if !victim.dir.empty() {
			return ENOTEMPTY
		}
	} else {
		if victim.isDir() {
			return EISDIR
		}
		if slash {
			return ENOTDIR
		}
	}
	if !dir.may(c, W_OK|X_OK) {
		return EACCES
	}
	if !sticky(c, dir, victim) {
		return EPERM
	}
	fs.unlinkEntry(dir, name, victim)
	return 0
}

// unlinkEntry removes name (naming victim) from dir.
func (fs *FS) unlinkEntry(dir *Inode, name string, victim *Inode) {
	dir.dir.remove(name)
	dir.touch(tM | tC)
	fs.notify(dir, name, victim, IN_DELETE, 0)
	fs.dropLink(dir, victim)
}

// dropLink takes one name away from victim, which dir held.
func (fs *FS) dropLink(dir, victim *Inode) {
	victim.touch(tC)
	if victim.isDir() {
		victim.nlink = 0
		victim.parent = nil
		victim.dir = nil
		dir.nlink--
	} else {
		victim.nlink--
	}
	if victim.nlink == 0 {
		fs.notify(nil, "", victim, IN_DELETE_SELF, 0)
	} else {
		fs.notify(nil, "", victim, IN_ATTRIB, 0)
	}
	victim.maybeFree()
}

// Rename renames opath to npath with renameat2's flags.
func (fs *FS) Rename(c *Cred, ostart *Inode, opath string, nstart *Inode, npath string, flags int) Errno {
	if flags&^(RENAME_NOREPLACE|RENAME_EXCHANGE) != 0 {
		return EINVAL
	}
	if flags == RENAME_NOREPLACE|RENAME_EXCHANGE {
		return EINVAL
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if ostart == nil {
		ostart = fs.root
	}
	if nstart == nil {
		nstart = fs.root
	}
	odir, oname, oslash, e := fs.walker(c, ostart, 0).parent(ostart, opath)
	if e != 0 {
		return e
	}
	ndir, nname, nslash, e := fs.walker(c, nstart, 0).parent(nstart, npath)
	if e != 0 {
		return e
	}
	if oname == "." || oname == ".." || nname == "." || nname == ".." {
		return EBUSY
	}
	if !odir.may(c, X_OK) || !ndir.may(c, X_OK) {
		return EACCES
	}
	src := odir.dir.lookupSafe(oname)
	if src == nil {
		return ENOENT
	}
	dst := ndir.dir.lookupSafe(nname)
	if (oslash || nslash) && !src.isDir() {
		return ENOTDIR
	}
	if ndir.dir == nil {
		return ENOENT
	}
	if flags&RENAME_EXCHANGE != 0 && dst == nil {
		return ENOENT
	}
	if dst != nil && flags&RENAME_NOREPLACE != 0 {
		return EEXIST
	}
	if src == dst {
		return 0 // two names of one file: nothing to do
	}
	if !odir.may(c, W_OK|X_OK) || !ndir.may(c, W_OK|X_OK) {
		return EACCES
	}
	if !sticky(c, odir, src) || (dst != nil && !sticky(c, ndir, dst)) {
		return EPERM
	}
	// A directory cannot move under itself.
	if src.isDir() && odir != ndir {
		for d := ndir; d != nil && d != fs.root; d = d.parent {
			if d == src {
				return EINVAL
			}
		}
	}
	if flags&RENAME_EXCHANGE != 0 {
		if dst.isDir() && odir != ndir {
			for d := odir; d != nil && d != fs.root; d = d.parent {
				if d == dst {
					return EINVAL
				}
			}
		}
		odir.dir.replace(oname, dst)
		ndir.dir.replace(nname, src)
		if src.isDir() != dst.isDir() && odir != ndir {
			if src.isDir() {
				odir.nlink--
				ndir.nlink++
			} else {
				odir.nlink++
				ndir.nlink--
			}
		}
		if src.isDir() {
			src.parent = ndir
		}
		if dst.isDir() {
			dst.parent = odir
		}
		src.touch(tC)
		dst.touch(tC)
		odir.touch(tM | tC)
		ndir.touch(tM | tC)
		fs.renamed(odir, oname, ndir, nname, src)
		fs.renamed(ndir, nname, odir, oname, dst)
		return 0
	}
	if dst != nil {
		switch {
		case src.isDir() && !dst.isDir():
			return ENOTDIR
		case !src.isDir() && dst.isDir():
			return EISDIR
		case dst.isDir() && !dst.dir.empty():
			return ENOTEMPTY
		case dst == fs.root:
			return EBUSY
		}
	}
	if src.isDir() && dst == nil && odir != ndir && ndir.nlink >= maxLinks {
		return EMLINK
	}
	odir.dir.remove(oname)
	if dst != nil {
		ndir.dir.replace(nname, src)
		fs.dropLink(ndir, dst)
	} else {
		ndir.dir.add(nname, src)
	}
	if src.isDir() {
		src.parent = ndir
		if odir != ndir {
			odir.nlink--
			ndir.nlink++
		}
	}
	src.touch(tC)
	odir.touch(tM | tC)
	ndir.touch(tM | tC)
	fs.renamed(odir, oname, ndir, nname, src)
	return 0
}

// renamed reports a move of ino from odir/oname to ndir/nname.
func (fs *FS) renamed(odir *Inode, oname string, ndir *Inode, nname string, ino *Inode) {
	if fs.onEvent == nil {
		return
	}
	fs.cookie++
	fs.notify(odir, oname, ino, IN_MOVED_FROM, fs.cookie)
	fs.notify(ndir, nname, ino, IN_MOVED_TO, fs.cookie)
	fs.notify(nil, "", ino, IN_MOVE_SELF, 0)
}

// Readlink returns the target of the symbolic link at path (not followed;
// with EmptyPath an empty path means start itself).
func (fs *FS) Readlink(c *Cred, start *Inode, path string, flags int) (string, Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	ino, e := fs.lookup(c, start, path, flags&EmptyPath)
	if e != 0 {
		return "", e
	}
	if !ino.isLink() {
		if path == "" {
			return "", ENOENT
		}
		return "", EINVAL
	}
	ino.touch(tA)
	return ino.target, 0
}
