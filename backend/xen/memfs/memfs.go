// Package memfs is an in-memory file system with POSIX semantics, the file
// system of the xen backend's library OS. It is plain Go with no build
// constraint, tested on any host.
//
// It speaks Linux's numbers: flags, modes and errors (Errno) have Linux's
// values, directory entries are read as linux_dirent64 records, so that a
// backend serving the Linux ABI passes them through. Calls return an Errno,
// 0 on success, rather than an error interface, because the backend hands
// it to its caller as a number.
//
// One FS holds a tree of inodes: regular files (sparse, in pages), directories
// (entries in insertion order with stable offsets, so that iterating while
// modifying neither skips nor repeats an entry that stays), symbolic links,
// FIFOs and device nodes (whose behaviour belongs to the backend: an inode
// carries an Aux value for it). Path resolution handles ".", "..", symbolic
// links (ELOOP after 40), trailing slashes and openat2's RESOLVE_* rules.
// Permissions follow the owner/group/other bits for a Cred; uid 0 passes
// every check but execute, which needs some execute bit. Timestamps change
// as POSIX says: reads mark atime, writes mtime and ctime, metadata changes
// ctime, and directory changes the directory's mtime and ctime. Files take
// advisory locks (flock, POSIX record locks and OFD locks), extended
// attributes (user.*, trusted.*), memfd seals, and O_TMPFILE. An FS made
// with Options.Notify reports changes as inotify events.
//
// An FS is safe for concurrent use: one mutex guards it, and the calls that
// wait (flock, F_SETLKW) wait on a condition of that mutex.
package memfs

import (
	"strings"
	"sync"
	"time"
)

// Timespec is a time in seconds and nanoseconds since the Unix epoch.
type Timespec struct {
	Sec, Nsec int64
}

// Cred is who makes a call. Uid 0 is root: it passes every permission check
// except that executing needs some execute bit.
type Cred struct {
	Uid, Gid uint32
	Groups   []uint32
}

// Root is the credential of the unikernel's only user.
var Root = &Cred{}

func (c *Cred) inGroup(g uint32) bool {
	if c.Gid == g {
		return true
	}
	for _, x := range c.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// Options configure an FS.
type Options struct {
	// Now is the clock of timestamps; nil means time.Now.
	Now func() Timespec
	// Dev is the device number st_dev reports.
	Dev uint64
	// Capacity is the size statfs reports and writes may fill, in bytes;
	// 0 means 1 GiB.
	Capacity int64
	// MaxInodes bounds the inodes; 0 means 1<<20.
	MaxInodes int64
	// Notify, when set, receives every change (see Event). It is called
	// with the FS's mutex held: it must not call the FS.
	Notify func(Event)
}

// FS is one in-memory file system.
type FS struct {
	mu   sync.Mutex
	cond *sync.Cond // lock waiters (flock, F_SETLKW)

	root    *Inode
	nextIno uint64
	now     func() Timespec
	dev     uint64
	cap     int64
	maxIno  int64
	pages   int64 // data pages in use
	inodes  int64 // live inodes
	onEvent func(Event)
	cookie  uint32 // the last rename's
}

// New returns an empty file system whose root directory has mode 0755 and
// belongs to root.
func New(o Options) *FS {
	fs := &FS{now: o.Now, dev: o.Dev, cap: o.Capacity, maxIno: o.MaxInodes, onEvent: o.Notify}
	if fs.now == nil {
		fs.now = func() Timespec {
			t := time.Now()
			return Timespec{t.Unix(), int64(t.Nanosecond())}
		}
	}
	if fs.cap <= 0 {
		fs.cap = 1 << 30
	}
	if fs.maxIno <= 0 {
		fs.maxIno = 1 << 20
	}
	fs.cond = sync.NewCond(&fs.mu)
	fs.nextIno = 1
	fs.root = fs.newInode(Root, S_IFDIR|0o755, nil)
	fs.root.nlink = 2
	fs.root.parent = fs.root
	return fs
}

// Root returns the root directory.
func (fs *FS) Root() *Inode { return fs.root }

// Inode is one file. Its fields are guarded by the FS's mutex; read them
// through the FS's methods.
type Inode struct {
	fs    *FS
	ino   uint64
	mode  uint32
	uid   uint32
	gid   uint32
	nlink uint32
	rdev  uint64

	atime, mtime, ctime, btime Timespec

	// Regular files: sparse data in pages.
	size  int64
	data  map[int64]*[pageSize]byte
	seals uint32 // memfd seals; F_SEAL_SEAL alone for files that take none
	memfd bool

	// Directories.
	dir    *dirData
	parent *Inode // nil once removed

	// Symbolic links.
	target string

	xattrs map[string][]byte

	// Locks.
	flocks []*File  // holders of flock locks
	flockX bool     // the holder's lock is exclusive
	plocks []*rlock // POSIX and OFD record locks

	linkable bool // an O_TMPFILE file linkat may give a name
	opens    int  // open files
	freed    bool // no names and no opens left: the data is gone

	// Aux is the backend's: the pipe of a FIFO, for instance.
	Aux any
}

func (fs *FS) newInode(c *Cred, mode uint32, dir *Inode) *Inode {
	now := fs.now()
	ino := &Inode{fs: fs, ino: fs.nextIno, mode: mode, uid: c.Uid, gid: c.Gid, nlink: 1,
		atime: now, mtime: now, ctime: now, btime: now}
	fs.nextIno++
	fs.inodes++
	if dir != nil && dir.mode&S_ISGID != 0 {
		// A set-group-ID directory gives its group to what is made in it,
		// and its flag to subdirectories.
		ino.gid = dir.gid
		if mode&S_IFMT == S_IFDIR {
			ino.mode |= S_ISGID
		}
	}
	switch mode & S_IFMT {
	case S_IFDIR:
		ino.dir = newDirData()
		ino.parent = dir
	case S_IFREG:
		ino.seals = F_SEAL_SEAL
	}
	return ino
}

func (i *Inode) isDir() bool  { return i.mode&S_IFMT == S_IFDIR }
func (i *Inode) isLink() bool { return i.mode&S_IFMT == S_IFLNK }
func (i *Inode) isReg() bool  { return i.mode&S_IFMT == S_IFREG }

// Ino returns the inode number.
func (i *Inode) Ino() uint64 { return i.ino }

// Mode returns the type and permission bits.
func (i *Inode) Mode() uint32 {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.mode
}

// Rdev returns the device number of a device node.
func (i *Inode) Rdev() uint64 {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.rdev
}

// FS returns the file system the inode belongs to.
func (i *Inode) FS() *FS { return i.fs }

// Lock and Unlock give a backend the FS's mutex, to keep its Aux state
// consistent with the inode's.
func (fs *FS) Lock()   { fs.mu.Lock() }
func (fs *FS) Unlock() { fs.mu.Unlock() }

// touch marks times for update.
const (
	tA = 1 << iota
	tM
	tC
)

func (i *Inode) touch(what int) {
	now := i.fs.now()
	if what&tA != 0 {
		i.atime = now
	}
	if what&tM != 0 {
		i.mtime = now
	}
	if what&tC != 0 {
		i.ctime = now
	}
}

// maybeFree releases an inode's data once it has neither names nor opens.
func (i *Inode) maybeFree() {
	if i.nlink == 0 && i.opens == 0 && !i.freed {
		i.freed = true
		i.fs.pages -= int64(len(i.data))
		i.data = nil
		i.xattrs = nil
		i.fs.inodes--
	}
}

// may reports whether c has the access want (R_OK|W_OK|X_OK bits) to i.
func (i *Inode) may(c *Cred, want uint32) bool {
	if want == 0 {
		return true
	}
	if c.Uid == 0 {
		// Root: everything, but execution of a non-directory needs some
		// execute bit.
		if want&X_OK != 0 && !i.isDir() && i.mode&0o111 == 0 {
			return false
		}
		return true
	}
	var bits uint32
	switch {
	case c.Uid == i.uid:
		bits = i.mode >> 6
	case c.inGroup(i.gid):
		bits = i.mode >> 3
	default:
		bits = i.mode
	}
	return bits&want&7 == want
}

// owns reports whether c may change i's metadata as its owner.
func (i *Inode) owns(c *Cred) bool { return c.Uid == 0 || c.Uid == i.uid }

// Stat is the status of an inode.
type Stat struct {
	Dev, Ino     uint64
	Mode         uint32
	Nlink        uint32
	Uid, Gid     uint32
	Rdev         uint64
	Size         int64
	Blksize      int64
	Blocks       int64
	Atime, Mtime Timespec
	Ctime, Btime Timespec
}

// Stat returns the status of i.
func (i *Inode) Stat() Stat {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.stat()
}

func (i *Inode) stat() Stat {
	st := Stat{Dev: i.fs.dev, Ino: i.ino, Mode: i.mode, Nlink: i.nlink, Uid: i.uid, Gid: i.gid,
		Rdev: i.rdev, Size: i.size, Blksize: pageSize, Atime: i.atime, Mtime: i.mtime,
		Ctime: i.ctime, Btime: i.btime}
	switch {
	case i.isReg():
		st.Blocks = int64(len(i.data)) * (pageSize / blockSize)
	case i.isDir():
		st.Size = pageSize
		st.Blocks = 0
	case i.isLink():
		st.Size = int64(len(i.target))
	}
	return st
}

// Statfs is the status of the file system.
type Statfs struct {
	Type, Bsize, Frsize   int64
	Blocks, Bfree, Bavail uint64
	Files, Ffree          uint64
	Fsid                  [2]int32
	Namelen               int64
}

// Statfs returns the file system's status.
func (fs *FS) Statfs() Statfs {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	total := uint64(fs.cap / pageSize)
	used := uint64(fs.pages)
	free := uint64(0)
	if used < total {
		free = total - used
	}
	return Statfs{Type: TmpfsMagic, Bsize: pageSize, Frsize: pageSize, Blocks: total, Bfree: free,
		Bavail: free, Files: uint64(fs.maxIno), Ffree: uint64(fs.maxIno - fs.inodes),
		Fsid: [2]int32{int32(fs.dev), int32(fs.dev >> 32)}, Namelen: NameMax}
}

// checkName rejects path components memfs cannot store.
func checkName(name string) Errno {
	if len(name) > NameMax {
		return ENAMETOOLONG
	}
	return 0
}

// splitPath returns the components of p and whether it ends in a slash.
func splitPath(p string) (comps []string, slash bool) {
	slash = strings.HasSuffix(p, "/")
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			comps = append(comps, c)
		}
	}
	return comps, slash
}
