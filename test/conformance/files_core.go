package conformance

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/anykernel/anykernel/api"
)

// The core of the files family: open, read, write, close, stat.

func init() {
	Register(
		Case{Family: "files", Call: "openat", Run: testOpenat},
		Case{Family: "files", Call: "read", Run: testReadWrite},
		Case{Family: "files", Call: "write", Run: testReadWrite},
		Case{Family: "files", Call: "close", Run: testClose},
		Case{Family: "files", Call: "pread64", Run: testPreadPwrite},
		Case{Family: "files", Call: "pwrite64", Run: testPreadPwrite},
		Case{Family: "files", Call: "fstat", Run: testFstat},
		Case{Family: "files", Call: "newfstatat", Run: testFstatat},
		Case{Family: "files", Call: "creat", Run: testCreat},
		Case{Family: "files", Call: "openat2", Run: testOpenat2},
		Case{Family: "files", Call: "umask", Run: testUmask},
		Case{Family: "files", Call: "statx", Run: testStatx},
		Case{Family: "files", Call: "statfs", Run: testStatfs},
		Case{Family: "files", Call: "fstatfs", Run: testFstatfs},
	)
}

// CreateFile makes a file with content in a fresh directory and returns its
// path; other family files use it too.
func CreateFile(t T, e *Env, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(e.TempDir(t), name)
	f, err := e.K.Open(p, api.O_WRONLY|api.O_CREAT|api.O_EXCL|api.O_CLOEXEC, 0o644)
	OK(t, err, "create %s", p)
	defer f.Close()
	if len(content) > 0 {
		n, err := f.Write(content)
		OK(t, err, "write")
		Eq(t, n, len(content), "bytes written")
	}
	return p
}

func testOpenat(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	p := filepath.Join(dir, "f")
	_, err := k.Open(p, api.O_RDONLY, 0)
	Want(t, err, fs.ErrNotExist, "open of a missing file")
	Want(t, err, api.ENOENT, "open of a missing file")
	var pe *fs.PathError
	True(t, errors.As(err, &pe) && pe.Path == p, "error names the path: %v", err)

	f, err := k.Open(p, api.O_RDWR|api.O_CREAT|api.O_EXCL, 0o600)
	OK(t, err, "create")
	OK(t, f.Close(), "close")
	_, err = k.Open(p, api.O_RDWR|api.O_CREAT|api.O_EXCL, 0o600)
	Want(t, err, fs.ErrExist, "O_EXCL on an existing file")

	d, err := k.Open(dir, api.O_RDONLY|api.O_DIRECTORY, 0)
	OK(t, err, "open dir")
	defer d.Close()
	g, err := k.Openat(d, "f", api.O_RDONLY, 0)
	OK(t, err, "openat relative to dir")
	OK(t, g.Close())
	_, err = k.Openat(d, "f", api.O_RDONLY|api.O_DIRECTORY, 0)
	Want(t, err, api.ENOTDIR, "O_DIRECTORY on a file")

	_, err = k.Open("a\x00b", api.O_RDONLY, 0)
	Want(t, err, api.EINVAL, "NUL in path")

	// Flags from words, as configs and CLIs give them.
	fl, err := api.ParseOpenFlags("rdwr,creat,~creat,cloexec")
	OK(t, err, "parse open flags")
	Eq(t, fl, api.O_RDWR|api.O_CLOEXEC, "parsed flags")
	_, err = api.ParseOpenFlags("rdonly,bogus")
	var perr *api.ParseError
	True(t, errors.As(err, &perr), "unknown word gives *api.ParseError: %v", err)
	Eq(t, perr.Word, "bogus", "the error names the word")
	Want(t, err, api.EINVAL, "parse errors are EINVAL too")
}

func testReadWrite(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "rw", nil)
	f, err := k.Open(p, api.O_RDWR, 0)
	OK(t, err)
	defer f.Close()
	msg := []byte("hello, kernel")
	n, err := f.Write(msg)
	OK(t, err, "write")
	Eq(t, n, len(msg))
	g, err := k.Open(p, api.O_RDONLY, 0)
	OK(t, err)
	defer g.Close()
	b, err := io.ReadAll(g)
	OK(t, err, "read all")
	Eq(t, string(b), string(msg))
	n, err = g.Read(make([]byte, 4))
	Eq(t, n, 0)
	Want(t, err, io.EOF, "read at end")
	n, err = g.Read(nil)
	OK(t, err, "zero-length read")
	Eq(t, n, 0)
	_, err = g.Write([]byte("x"))
	Want(t, err, api.EBADF, "write to a read-only fd")
}

func testClose(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "c", []byte("x"))
	f, err := k.Open(p, api.O_RDONLY, 0)
	OK(t, err)
	OK(t, f.Close(), "first close")
	OK(t, f.Close(), "second close is a no-op")
	_, err = f.Read(make([]byte, 1))
	Want(t, err, api.EBADF, "read after close")
	Eq(t, f.Num(), -1, "Num after close")
	var nilFd *api.Fd
	_, err = nilFd.Read(make([]byte, 1))
	Want(t, err, api.EBADF, "read on a nil Fd")

	// Closing f must not close the number a later open reused.
	g, err := k.Open(p, api.O_RDONLY, 0)
	OK(t, err)
	defer g.Close()
	OK(t, f.Close(), "close again after the number was reused")
	b := make([]byte, 1)
	n, err := g.Read(b)
	OK(t, err, "read on the reused number")
	Eq(t, n, 1)
}

func testPreadPwrite(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "p", []byte("0123456789"))
	f, err := k.Open(p, api.O_RDWR, 0)
	OK(t, err)
	defer f.Close()
	n, err := f.WriteAt([]byte("ab"), 4)
	OK(t, err, "pwrite")
	Eq(t, n, 2)
	b := make([]byte, 4)
	n, err = f.ReadAt(b, 3)
	OK(t, err, "pread")
	Eq(t, string(b[:n]), "3ab6")
	n, err = f.ReadAt(b, 8)
	Eq(t, n, 2, "short pread")
	Want(t, err, io.EOF, "short pread")
	_, err = f.ReadAt(b, -1)
	Want(t, err, api.EINVAL, "negative offset")
	// The file offset did not move.
	n, err = f.Read(b)
	OK(t, err)
	Eq(t, string(b[:n]), "0123")
}

func testFstat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "s", []byte("12345"))
	f, err := k.Open(p, api.O_RDONLY, 0)
	OK(t, err)
	defer f.Close()
	var st api.Stat
	OK(t, f.Stat(&st), "fstat")
	Eq(t, st.Size, int64(5), "size")
	True(t, st.IsRegular(), "regular file: mode %v", st.Mode)
	Eq(t, st.Mode&0o777, api.Mode(0o644)&^umaskOf(t, e), "permissions")
	Eq(t, st.Nlink, uint64(1), "nlink")
	True(t, st.Mtim.Sec > 1600000000, "mtime is recent: %v", st.Mtim)
	OK(t, f.Close())
	Want(t, f.Stat(&st), api.EBADF, "fstat after close")
}

func testFstatat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "s", []byte("abc"))
	var st, lst api.Stat
	OK(t, k.Stat(p, &st), "stat")
	Eq(t, st.Size, int64(3))
	OK(t, k.Lstat(p, &lst), "lstat")
	Eq(t, lst.Ino, st.Ino, "same inode")
	var dst api.Stat
	OK(t, k.Stat(filepath.Dir(p), &dst), "stat dir")
	True(t, dst.IsDir(), "directory")
	Want(t, k.Stat(p+"/nope", &st), api.ENOTDIR, "stat through a file")
	Want(t, k.Stat(filepath.Join(filepath.Dir(p), "missing"), &st), fs.ErrNotExist, "stat missing")
}

// umaskOf reads the current umask without changing it for long.
func umaskOf(t T, e *Env) api.Mode {
	t.Helper()
	old := e.K.Umask(0o022)
	e.K.Umask(old)
	return old
}

// fcReadAll reads the whole file at p through the kernel under test.
func fcReadAll(t T, e *Env, p string) string {
	t.Helper()
	f, err := e.K.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err, "open %s", p)
	defer f.Close()
	b, err := io.ReadAll(f)
	OK(t, err, "read %s", p)
	return string(b)
}

func testCreat(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	p := filepath.Join(dir, "c")
	f, err := k.Creat(p, 0o600)
	OK(t, err, "creat")
	defer f.Close()
	fl, err := f.GetStatusFlags()
	OK(t, err, "F_GETFL")
	Eq(t, fl&(api.O_WRONLY|api.O_RDWR), api.O_WRONLY, "creat opens write-only")
	_, err = f.Write([]byte("hello"))
	OK(t, err, "write")
	_, err = f.Read(make([]byte, 1))
	Want(t, err, api.EBADF, "read from the creat descriptor")
	var st api.Stat
	OK(t, f.Stat(&st))
	True(t, st.IsRegular(), "regular file")
	Eq(t, st.Mode&0o777, api.Mode(0o600)&^umaskOf(t, e), "permissions")
	OK(t, f.Close())
	Eq(t, fcReadAll(t, e, p), "hello", "content")

	// creat of an existing file truncates it.
	g, err := k.Creat(p, 0o600)
	OK(t, err, "creat over an existing file")
	OK(t, g.Stat(&st))
	Eq(t, st.Size, int64(0), "size after creat")
	OK(t, g.Close())

	_, err = k.Creat(filepath.Join(dir, "missing", "x"), 0o600)
	Want(t, err, api.ENOENT, "creat in a missing directory")
	_, err = k.Creat(dir, 0o600)
	Want(t, err, api.EISDIR, "creat of a directory")
	_, err = k.Creat("a\x00b", 0o600)
	Want(t, err, api.EINVAL, "NUL in path")
}

func testOpenat2(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	p := filepath.Join(dir, "f")
	fcCreateAt(t, e, p, []byte("data"))
	d, err := k.Open(dir, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err, "open dir")
	defer d.Close()

	f, err := k.Openat2(d, "f", &api.OpenHow{Flags: api.O_RDONLY | api.O_CLOEXEC, Resolve: api.RESOLVE_BENEATH})
	OK(t, err, "openat2 beneath")
	b := make([]byte, 8)
	n, err := f.Read(b)
	OK(t, err)
	Eq(t, string(b[:n]), "data")
	OK(t, f.Close())

	escape := "../" + filepath.Base(dir) + "/f"
	_, err = k.Openat2(d, escape, &api.OpenHow{Flags: api.O_RDONLY, Resolve: api.RESOLVE_BENEATH})
	Want(t, err, api.EXDEV, "RESOLVE_BENEATH refuses ..")
	_, err = k.Openat2(d, p, &api.OpenHow{Flags: api.O_RDONLY, Resolve: api.RESOLVE_BENEATH})
	Want(t, err, api.EXDEV, "RESOLVE_BENEATH refuses an absolute path")
	g, err := k.Openat2(d, escape, &api.OpenHow{Flags: api.O_RDONLY | api.O_CLOEXEC})
	OK(t, err, "the same path without RESOLVE_BENEATH")
	OK(t, g.Close())

	OK(t, k.Symlink("f", filepath.Join(dir, "l")), "symlink")
	_, err = k.Openat2(d, "l", &api.OpenHow{Flags: api.O_RDONLY, Resolve: api.RESOLVE_NO_SYMLINKS})
	Want(t, err, api.ELOOP, "RESOLVE_NO_SYMLINKS refuses a symlink")
	g, err = k.Openat2(d, "l", &api.OpenHow{Flags: api.O_RDONLY | api.O_CLOEXEC})
	OK(t, err, "follow the symlink without RESOLVE_NO_SYMLINKS")
	OK(t, g.Close())

	// Creation with a mode; a mode without O_CREAT is an error, unlike openat.
	c, err := k.Openat2(d, "new", &api.OpenHow{Flags: api.O_WRONLY | api.O_CREAT | api.O_EXCL | api.O_CLOEXEC, Mode: 0o640})
	OK(t, err, "openat2 O_CREAT")
	var st api.Stat
	OK(t, c.Stat(&st))
	Eq(t, st.Mode&0o777, api.Mode(0o640)&^umaskOf(t, e), "created mode")
	OK(t, c.Close())
	_, err = k.Openat2(d, "f", &api.OpenHow{Flags: api.O_RDONLY, Mode: 0o644})
	Want(t, err, api.EINVAL, "mode without O_CREAT")
	_, err = k.Openat2(d, "f", nil)
	Want(t, err, api.EINVAL, "nil OpenHow")
	_, err = k.Openat2(d, "a\x00b", &api.OpenHow{})
	Want(t, err, api.EINVAL, "NUL in path")
	OK(t, d.Close())
	_, err = k.Openat2(d, "f", &api.OpenHow{})
	Want(t, err, api.EBADF, "closed directory Fd")
}

// fcCreateAt is CreateFile at a path of the caller's choosing.
func fcCreateAt(t T, e *Env, p string, content []byte) {
	t.Helper()
	f, err := e.K.Open(p, api.O_WRONLY|api.O_CREAT|api.O_EXCL|api.O_CLOEXEC, 0o644)
	OK(t, err, "create %s", p)
	defer f.Close()
	if len(content) > 0 {
		_, err = f.Write(content)
		OK(t, err, "write %s", p)
	}
}

func testUmask(t T, e *Env) {
	k := e.K
	old := k.Umask(0o027)
	t.Cleanup(func() { k.Umask(old) })
	p := filepath.Join(e.TempDir(t), "u")
	f, err := k.Open(p, api.O_RDWR|api.O_CREAT|api.O_EXCL|api.O_CLOEXEC, 0o666)
	OK(t, err, "create")
	var st api.Stat
	OK(t, f.Stat(&st))
	OK(t, f.Close())
	Eq(t, st.Mode&0o777, api.Mode(0o640), "mode 0666 under umask 027")
	Eq(t, k.Umask(0o077), api.Mode(0o027), "Umask returns the previous mask")
	Eq(t, k.Umask(0o7777), api.Mode(0o077), "Umask returns the previous mask")
	Eq(t, k.Umask(old), api.Mode(0o777), "only permission bits are kept")
}

// fcDevMajor and fcDevMinor split a Linux dev_t as glibc's macros do.
func fcDevMajor(d uint64) uint32 { return uint32((d>>8)&0xfff | (d>>32)&^0xfff) }
func fcDevMinor(d uint64) uint32 { return uint32(d&0xff | (d>>12)&^0xff) }

func testStatx(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "x", []byte("12345"))
	dir := filepath.Dir(p)
	var st api.Stat
	OK(t, k.Stat(p, &st), "stat")
	var sx api.Statx
	OK(t, k.Statx(nil, p, 0, api.STATX_BASIC_STATS|api.STATX_BTIME|api.STATX_MNT_ID, &sx), "statx")
	want := api.STATX_TYPE | api.STATX_MODE | api.STATX_INO | api.STATX_SIZE | api.STATX_NLINK | api.STATX_MTIME
	Eq(t, sx.Mask&want, want, "basic fields reported in the mask (%v)", sx.Mask)
	True(t, sx.IsRegular(), "regular file: %v", sx.Mode)
	Eq(t, sx.Size, int64(5), "size")
	Eq(t, sx.Ino, st.Ino, "ino as stat")
	Eq(t, sx.Mode, st.Mode, "mode as stat")
	Eq(t, sx.Nlink, uint32(st.Nlink), "nlink as stat")
	Eq(t, sx.Uid, st.Uid, "uid as stat")
	Eq(t, sx.Mtime, st.Mtim, "mtime as stat")
	Eq(t, sx.Ctime, st.Ctim, "ctime as stat")
	Eq(t, sx.Blocks, st.Blocks, "blocks as stat")
	Eq(t, sx.DevMajor, fcDevMajor(st.Dev), "device major as stat")
	Eq(t, sx.DevMinor, fcDevMinor(st.Dev), "device minor as stat")
	if sx.Mask&api.STATX_BTIME != 0 {
		True(t, sx.Btime.Sec > 1600000000 && sx.Btime.Sec <= sx.Mtime.Sec, "birth time %v before mtime %v", sx.Btime, sx.Mtime)
	} else {
		t.Logf("file system reports no birth time")
	}
	if sx.Mask&api.STATX_MNT_ID != 0 {
		True(t, sx.MntID > 0, "mount id")
	}
	True(t, sx.Mtime.Nsec >= 0 && sx.Mtime.Nsec < 1e9, "nanoseconds in range")

	// From an open file, through AT_EMPTY_PATH.
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	var fx api.Statx
	OK(t, f.Statx(api.STATX_INO|api.STATX_SIZE, &fx), "statx of an Fd")
	Eq(t, fx.Ino, sx.Ino, "same inode")
	Eq(t, fx.Size, int64(5))
	d, err := k.Open(dir, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer d.Close()
	OK(t, k.Statx(d, "", api.AT_EMPTY_PATH, api.STATX_TYPE, &fx), "AT_EMPTY_PATH on a directory")
	True(t, fx.IsDir(), "directory: %v", fx.Mode)
	OK(t, k.Statx(d, "x", 0, api.STATX_INO, &fx), "relative to a directory Fd")
	Eq(t, fx.Ino, sx.Ino, "same inode relative to dir")

	OK(t, k.Symlink("x", filepath.Join(dir, "l")), "symlink")
	OK(t, k.Statx(d, "l", api.AT_SYMLINK_NOFOLLOW, api.STATX_TYPE, &fx), "statx nofollow")
	Eq(t, fx.Mode.Type(), api.S_IFLNK, "the link itself")
	OK(t, k.Statx(d, "l", 0, api.STATX_TYPE|api.STATX_INO, &fx), "statx follow")
	Eq(t, fx.Ino, sx.Ino, "the target")

	Want(t, k.Statx(nil, filepath.Join(dir, "missing"), 0, api.STATX_BASIC_STATS, &fx), api.ENOENT, "missing file")
	Want(t, k.Statx(nil, p, 0, api.STATX_BASIC_STATS, nil), api.EINVAL, "nil *Statx")
	Want(t, k.Statx(nil, "a\x00b", 0, api.STATX_BASIC_STATS, &fx), api.EINVAL, "NUL in path")
	OK(t, f.Close())
	Want(t, f.Statx(api.STATX_BASIC_STATS, &fx), api.EBADF, "closed Fd")
	_, err = api.ParseStatxMask("basic_stats,btime,nope")
	var perr *api.ParseError
	True(t, errors.As(err, &perr) && perr.Word == "nope", "bad StatxMask word: %v", err)
}

func testStatfs(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	var s api.Statfs
	OK(t, k.Statfs(dir, &s), "statfs")
	True(t, s.Bsize > 0, "block size %d", s.Bsize)
	True(t, s.Blocks >= s.Bfree && s.Bfree >= s.Bavail, "blocks %d >= free %d >= available %d", s.Blocks, s.Bfree, s.Bavail)
	True(t, s.Files >= s.Ffree, "inodes %d >= free %d", s.Files, s.Ffree)
	True(t, s.Namelen >= 14, "name length %d", s.Namelen)
	True(t, s.Type != 0 || s.Fstype != "", "file system type: magic %#x or name %q", s.Type, s.Fstype)
	Eq(t, s.Flags&api.ST_RDONLY, api.StatfsFlags(0), "a temporary directory is writable")
	if e.Target.Name == "native" {
		var ps api.Statfs
		if err := k.Statfs("/proc", &ps); err == nil {
			Eq(t, ps.Type, int64(0x9fa0), "/proc is PROC_SUPER_MAGIC")
		}
	}
	Want(t, k.Statfs(filepath.Join(dir, "missing"), &s), api.ENOENT, "missing path")
	Want(t, k.Statfs("a\x00b", &s), api.EINVAL, "NUL in path")
	Want(t, k.Statfs(dir, nil), api.EINVAL, "nil *Statfs")
}

func testFstatfs(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "fs", nil)
	var s, fsx api.Statfs
	OK(t, k.Statfs(p, &s), "statfs")
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	OK(t, f.Statfs(&fsx), "fstatfs")
	Eq(t, fsx.Type, s.Type, "same file system type")
	Eq(t, fsx.Fstype, s.Fstype, "same file system type name")
	Eq(t, fsx.Fsid, s.Fsid, "same file system id")
	Eq(t, fsx.Bsize, s.Bsize, "same block size")
	Eq(t, fsx.Blocks, s.Blocks, "same size")
	Eq(t, fsx.Namelen, s.Namelen, "same name length")
	Want(t, f.Statfs(nil), api.EINVAL, "nil *Statfs")
	OK(t, f.Close())
	Want(t, f.Statfs(&fsx), api.EBADF, "closed Fd")
}
