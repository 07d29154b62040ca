package conformance

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// Names in the file system: link, symlink, readlink, rename, unlink, mkdir,
// rmdir, mknod and their *at forms.

func init() {
	Register(
		Case{Family: "files", Call: "link", Run: testLink},
		Case{Family: "files", Call: "linkat", Run: testLinkat},
		Case{Family: "files", Call: "symlink", Run: testSymlink},
		Case{Family: "files", Call: "symlinkat", Run: testSymlinkat},
		Case{Family: "files", Call: "readlink", Run: testReadlink},
		Case{Family: "files", Call: "readlinkat", Run: testReadlinkat},
		Case{Family: "files", Call: "rename", Run: testRename},
		Case{Family: "files", Call: "renameat", Run: testRenameat},
		Case{Family: "files", Call: "renameat2", Run: testRenameat2},
		Case{Family: "files", Call: "unlink", Run: testUnlink},
		Case{Family: "files", Call: "unlinkat", Run: testUnlinkat},
		Case{Family: "files", Call: "mkdir", Run: testMkdir},
		Case{Family: "files", Call: "mkdirat", Run: testMkdirat},
		Case{Family: "files", Call: "rmdir", Run: testRmdir},
		Case{Family: "files", Call: "mknod", Run: testMknod},
		Case{Family: "files", Call: "mknod", Root: true, Run: testMknodDevice},
		Case{Family: "files", Call: "mknodat", Run: testMknodat},
	)
}

// fmReadFile returns the whole content of path.
func fmReadFile(t T, e *Env, path string) string {
	t.Helper()
	f, err := e.K.Open(path, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err, "open %s", path)
	defer f.Close()
	b, err := io.ReadAll(f)
	OK(t, err, "read %s", path)
	return string(b)
}

// fmOpenDir opens dir for the *at calls; it closes at the end of the case.
func fmOpenDir(t T, e *Env, dir string) *api.Fd {
	t.Helper()
	d, err := e.K.Open(dir, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err, "open dir %s", dir)
	t.Cleanup(func() { d.Close() })
	return d
}

// fmClosedFd returns an Fd that is already closed.
func fmClosedFd(t T, e *Env) *api.Fd {
	t.Helper()
	d := fmOpenDir(t, e, e.TempDir(t))
	OK(t, d.Close(), "close")
	return d
}

// fmWantLinkErr checks that err is a *os.LinkError naming both paths.
func fmWantLinkErr(t T, err error, want error, old, new string) {
	t.Helper()
	Want(t, err, want, "%s -> %s", old, new)
	var le *os.LinkError
	True(t, errors.As(err, &le) && le.Old == old && le.New == new, "error names both paths: %v", err)
}

// fmWantNUL checks the error for a path with a NUL byte: EINVAL, naming
// the path.
func fmWantNUL(t T, err error, what string) {
	t.Helper()
	Want(t, err, api.EINVAL, what)
	True(t, strings.Contains(err.Error(), `\x00`), "%s: error names the bad path: %v", what, err)
}

func testLink(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", []byte("data"))
	dir := filepath.Dir(p)
	q := filepath.Join(dir, "g")
	OK(t, k.Link(p, q), "link")
	var st, sq api.Stat
	OK(t, k.Stat(p, &st))
	OK(t, k.Stat(q, &sq))
	Eq(t, sq.Ino, st.Ino, "same inode")
	Eq(t, st.Nlink, uint64(2), "link count")
	Eq(t, fmReadFile(t, e, q), "data", "content through the new name")

	fmWantLinkErr(t, k.Link(p, q), api.EEXIST, p, q)
	missing := filepath.Join(dir, "missing")
	fmWantLinkErr(t, k.Link(missing, filepath.Join(dir, "h")), api.ENOENT, missing, filepath.Join(dir, "h"))
	Want(t, k.Link(dir, filepath.Join(dir, "dirlink")), api.EPERM, "hard link to a directory")
	fmWantNUL(t, k.Link("a\x00b", q), "NUL in the old path")
	fmWantNUL(t, k.Link(p, "c\x00d"), "NUL in the new path")
}

func testLinkat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", []byte("x"))
	dir := filepath.Dir(p)
	d := fmOpenDir(t, e, dir)
	OK(t, k.Linkat(d, "f", d, "g", 0), "linkat relative to a dir fd")
	var st, sg api.Stat
	OK(t, k.Stat(p, &st))
	OK(t, k.Stat(filepath.Join(dir, "g"), &sg))
	Eq(t, sg.Ino, st.Ino, "same inode")

	// A symbolic link: linked as is by default, followed with
	// AT_SYMLINK_FOLLOW.
	OK(t, k.Symlink("f", filepath.Join(dir, "s")))
	OK(t, k.Linkat(d, "s", nil, filepath.Join(dir, "s-nofollow"), 0), "linkat of a symlink")
	var sl api.Stat
	OK(t, k.Lstat(filepath.Join(dir, "s-nofollow"), &sl))
	Eq(t, sl.Mode.Type(), api.S_IFLNK, "the link itself was linked")
	OK(t, k.Linkat(d, "s", d, "s-follow", api.AT_SYMLINK_FOLLOW), "linkat AT_SYMLINK_FOLLOW")
	OK(t, k.Lstat(filepath.Join(dir, "s-follow"), &sl))
	Eq(t, sl.Ino, st.Ino, "AT_SYMLINK_FOLLOW linked the target")

	// AT_EMPTY_PATH links the file an fd is open on: an O_TMPFILE file
	// gets a name. Linux asks for CAP_DAC_READ_SEARCH.
	tf, err := k.Open(dir, api.O_TMPFILE|api.O_RDWR|api.O_CLOEXEC, 0o600)
	if err == nil {
		defer tf.Close()
		_, err = tf.Write([]byte("anonymous"))
		OK(t, err, "write tmpfile")
		err = k.Linkat(tf, "", d, "named", api.AT_EMPTY_PATH)
		if e.Target.Root() {
			OK(t, err, "linkat AT_EMPTY_PATH as root")
			Eq(t, fmReadFile(t, e, filepath.Join(dir, "named")), "anonymous", "the tmpfile's content")
		} else if err != nil {
			Want(t, err, api.ENOENT, "linkat AT_EMPTY_PATH without CAP_DAC_READ_SEARCH")
		}
	} else if !errors.Is(err, api.EOPNOTSUPP) && !errors.Is(err, api.EISDIR) {
		t.Fatalf("O_TMPFILE: %v", err)
	}

	Want(t, k.Linkat(d, "f", d, "h", api.AT_REMOVEDIR), api.EINVAL, "flag that does not apply")
	closed := fmClosedFd(t, e)
	Want(t, k.Linkat(closed, "f", d, "h", 0), api.EBADF, "closed old dir")
	Want(t, k.Linkat(d, "f", closed, "h", 0), api.EBADF, "closed new dir")
	fmWantNUL(t, k.Linkat(d, "f\x00", d, "h", 0), "NUL in the old path")
	fmWantNUL(t, k.Linkat(d, "f", d, "h\x00", 0), "NUL in the new path")
	// The dir fd acquired first is released when the second fails.
	OK(t, k.Linkat(d, "f", d, "h", 0), "dir fd still usable")
}

func testSymlink(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	l := filepath.Join(dir, "l")
	OK(t, k.Symlink("no/such/target", l), "symlink to a missing target")
	var st api.Stat
	OK(t, k.Lstat(l, &st), "lstat")
	Eq(t, st.Mode.Type(), api.S_IFLNK, "file type")
	Eq(t, st.Size, int64(len("no/such/target")), "a link's size is its target's length")
	Want(t, k.Stat(l, &st), api.ENOENT, "stat follows a dangling link")
	got, err := k.Readlink(l)
	OK(t, err)
	Eq(t, got, "no/such/target")
	fmWantLinkErr(t, k.Symlink("x", l), api.EEXIST, "x", l)
	fmWantNUL(t, k.Symlink("a\x00", filepath.Join(dir, "m")), "NUL in the target")
	fmWantNUL(t, k.Symlink("a", filepath.Join(dir, "m\x00")), "NUL in the link name")
	Want(t, k.Symlink("", filepath.Join(dir, "m")), api.ENOENT, "empty target")
}

func testSymlinkat(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	d := fmOpenDir(t, e, dir)
	OK(t, k.Symlinkat("../elsewhere", d, "rel"), "symlinkat")
	got, err := k.Readlink(filepath.Join(dir, "rel"))
	OK(t, err)
	Eq(t, got, "../elsewhere")
	fmWantLinkErr(t, k.Symlinkat("y", d, "rel"), api.EEXIST, "y", "rel")
	Want(t, k.Symlinkat("y", fmClosedFd(t, e), "z"), api.EBADF, "closed dir")
	fmWantNUL(t, k.Symlinkat("y\x00", d, "z"), "NUL in the target")
	fmWantNUL(t, k.Symlinkat("y", d, "z\x00"), "NUL in the link name")
}

func testReadlink(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	dir := filepath.Dir(p)
	// Targets around and beyond the first buffer Readlink tries, up to
	// the kernel's PATH_MAX less the NUL (4095 bytes on Linux, 1023 on
	// NetBSD); one more byte is too long for symlink.
	max := pathMaxOf(e) - 1
	for _, n := range []int{1, 255, 256, 257, 1023, 1024, 3000, 4095} {
		if n > max {
			continue
		}
		target := strings.Repeat("abcdefg/", n/8+1)[:n]
		l := filepath.Join(dir, "l"+strconv.Itoa(n))
		OK(t, k.Symlink(target, l), "symlink with a %d-byte target", n)
		got, err := k.Readlink(l)
		OK(t, err, "readlink of a %d-byte target", n)
		Eq(t, len(got), n, "length")
		Eq(t, got, target, "target of %d bytes", n)
	}
	tooLong := strings.Repeat("abcdefg/", max/8+1)[:max+1]
	Want(t, k.Symlink(tooLong, filepath.Join(dir, "ltoolong")), api.ENAMETOOLONG, "symlink with a target of PATH_MAX bytes")
	_, err := k.Readlink(p)
	Want(t, err, api.EINVAL, "readlink of a regular file")
	_, err = k.Readlink(filepath.Join(dir, "missing"))
	Want(t, err, api.ENOENT, "readlink of a missing file")
	_, err = k.Readlink("l\x00")
	fmWantNUL(t, err, "NUL in the path")
}

func testReadlinkat(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	d := fmOpenDir(t, e, dir)
	OK(t, k.Symlinkat("target", d, "l"))
	got, err := k.Readlinkat(d, "l")
	OK(t, err, "readlinkat")
	Eq(t, got, "target")
	long := strings.Repeat("abcdefgh/", 100)
	OK(t, k.Symlinkat(long, d, "long"))
	got, err = k.Readlinkat(d, "long")
	OK(t, err, "readlinkat of a long target")
	Eq(t, got, long)

	// An empty path reads the link an O_PATH|O_NOFOLLOW fd is open on
	// (Linux's O_PATH).
	if lf, err := k.Openat(d, "l", api.O_PATH|api.O_NOFOLLOW|api.O_CLOEXEC, 0); Has(err) {
		OK(t, err, "open the link itself")
		defer lf.Close()
		got, err = k.Readlinkat(lf, "")
		OK(t, err, "readlinkat with an empty path")
		Eq(t, got, "target")
	}

	_, err = k.Readlinkat(d, ".")
	Want(t, err, api.EINVAL, "readlinkat of a directory")
	_, err = k.Readlinkat(fmClosedFd(t, e), "l")
	Want(t, err, api.EBADF, "closed dir")
}

func testRename(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "a", []byte("A"))
	dir := filepath.Dir(p)
	b := filepath.Join(dir, "b")
	OK(t, k.Rename(p, b), "rename")
	var st api.Stat
	Want(t, k.Stat(p, &st), api.ENOENT, "old name is gone")
	Eq(t, fmReadFile(t, e, b), "A", "content under the new name")

	// Replacing an existing file.
	c := filepath.Join(dir, "c")
	f, err := k.Open(c, api.O_WRONLY|api.O_CREAT|api.O_CLOEXEC, 0o644)
	OK(t, err)
	f.Write([]byte("C"))
	f.Close()
	OK(t, k.Rename(b, c), "rename over an existing file")
	Eq(t, fmReadFile(t, e, c), "A", "replaced content")

	// A directory cannot replace a non-empty one.
	d1, d2 := filepath.Join(dir, "d1"), filepath.Join(dir, "d2")
	OK(t, k.Mkdir(d1, 0o755))
	OK(t, k.Mkdir(d2, 0o755))
	OK(t, k.Mkdir(filepath.Join(d2, "sub"), 0o755))
	err = k.Rename(d1, d2)
	True(t, errors.Is(err, api.ENOTEMPTY) || errors.Is(err, api.EEXIST), "rename onto a non-empty dir: %v", err)
	Want(t, k.Rename(c, d1), api.EISDIR, "file onto a directory")
	fmWantLinkErr(t, k.Rename(filepath.Join(dir, "missing"), d1), api.ENOENT, filepath.Join(dir, "missing"), d1)
	fmWantNUL(t, k.Rename("a\x00", c), "NUL in the old path")
	fmWantNUL(t, k.Rename(c, "b\x00"), "NUL in the new path")
}

func testRenameat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "a", []byte("moved"))
	from := fmOpenDir(t, e, filepath.Dir(p))
	otherDir := e.TempDir(t)
	to := fmOpenDir(t, e, otherDir)
	OK(t, k.Renameat(from, "a", to, "b"), "renameat across dirs")
	Eq(t, fmReadFile(t, e, filepath.Join(otherDir, "b")), "moved")
	Want(t, k.Renameat(from, "a", to, "b"), api.ENOENT, "source gone")
	Want(t, k.Renameat(fmClosedFd(t, e), "a", to, "b"), api.EBADF, "closed old dir")
	Want(t, k.Renameat(to, "b", fmClosedFd(t, e), "c"), api.EBADF, "closed new dir")
	fmWantNUL(t, k.Renameat(to, "b\x00", to, "c"), "NUL in the old path")
	fmWantNUL(t, k.Renameat(to, "b", to, "c\x00"), "NUL in the new path")
	OK(t, k.Renameat(to, "b", nil, filepath.Join(otherDir, "c")), "nil new dir is the cwd")
}

func testRenameat2(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "a", []byte("AAA"))
	dir := filepath.Dir(p)
	d := fmOpenDir(t, e, dir)
	f, err := k.Openat(d, "b", api.O_WRONLY|api.O_CREAT|api.O_CLOEXEC, 0o644)
	OK(t, err)
	f.Write([]byte("B"))
	f.Close()

	err = k.Renameat2(d, "a", d, "b", api.RENAME_NOREPLACE)
	NoSys(t, err)
	fmWantLinkErr(t, err, api.EEXIST, "a", "b")
	Eq(t, fmReadFile(t, e, filepath.Join(dir, "b")), "B", "b untouched")

	OK(t, k.Renameat2(d, "a", d, "b", api.RENAME_EXCHANGE), "RENAME_EXCHANGE")
	Eq(t, fmReadFile(t, e, filepath.Join(dir, "a")), "B", "a after the exchange")
	Eq(t, fmReadFile(t, e, filepath.Join(dir, "b")), "AAA", "b after the exchange")

	OK(t, k.Renameat2(d, "a", d, "c", api.RENAME_NOREPLACE), "NOREPLACE to a free name")
	Eq(t, fmReadFile(t, e, filepath.Join(dir, "c")), "B")
	Want(t, k.Renameat2(d, "c", d, "missing", api.RENAME_EXCHANGE), api.ENOENT, "exchange with a missing name")
	Want(t, k.Renameat2(d, "c", d, "b", api.RENAME_NOREPLACE|api.RENAME_EXCHANGE), api.EINVAL, "NOREPLACE|EXCHANGE")
	Want(t, k.Renameat2(d, "c", d, "b", api.RenameFlags(1<<40)), api.EINVAL, "unknown flag bits")
	OK(t, k.Renameat2(nil, filepath.Join(dir, "c"), nil, filepath.Join(dir, "d"), 0), "no flags, nil dirs")
	_, err = api.ParseRenameFlags("noreplace,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown flag word: %v", err)
	fl, err := api.ParseRenameFlags("exchange")
	OK(t, err)
	Eq(t, fl, api.RENAME_EXCHANGE)
}

func testUnlink(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", []byte("x"))
	// An open file outlives its last name.
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	OK(t, k.Unlink(p), "unlink")
	var st api.Stat
	Want(t, k.Stat(p, &st), api.ENOENT, "name is gone")
	OK(t, f.Stat(&st), "fstat of the open file")
	Eq(t, st.Nlink, uint64(0), "no names left")
	Want(t, k.Unlink(p), api.ENOENT, "second unlink")
	Want(t, k.Unlink(filepath.Dir(p)), api.EISDIR, "unlink of a directory")
	Want(t, k.Unlink("f\x00"), api.EINVAL, "NUL in the path")
}

func testUnlinkat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	dir := filepath.Dir(p)
	d := fmOpenDir(t, e, dir)
	OK(t, k.Mkdirat(d, "sub", 0o755))
	Want(t, k.Unlinkat(d, "f", api.AT_REMOVEDIR), api.ENOTDIR, "AT_REMOVEDIR on a file")
	Want(t, k.Unlinkat(d, "sub", 0), api.EISDIR, "no AT_REMOVEDIR on a dir")
	OK(t, k.Unlinkat(d, "f", 0), "unlinkat of a file")
	OK(t, k.Unlinkat(d, "sub", api.AT_REMOVEDIR), "unlinkat AT_REMOVEDIR")
	var st api.Stat
	Want(t, k.Stat(filepath.Join(dir, "sub"), &st), api.ENOENT, "dir is gone")
	Want(t, k.Stat(p, &st), api.ENOENT, "file is gone")
	Want(t, k.Unlinkat(d, "f", api.AT_SYMLINK_NOFOLLOW), api.EINVAL, "flag that does not apply")
	Want(t, k.Unlinkat(fmClosedFd(t, e), "f", 0), api.EBADF, "closed dir")
}

func testMkdir(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	p := filepath.Join(dir, "d")
	OK(t, k.Mkdir(p, 0o751), "mkdir")
	var st api.Stat
	OK(t, k.Stat(p, &st))
	True(t, st.IsDir(), "a directory: %v", st.Mode)
	Eq(t, st.Mode&0o777, api.Mode(0o751)&^umaskOf(t, e), "permissions less the umask")
	Eq(t, st.Nlink, uint64(2), "links of an empty dir")
	Want(t, k.Mkdir(p, 0o755), api.EEXIST, "mkdir of an existing dir")
	Want(t, k.Mkdir(filepath.Join(dir, "no", "parent"), 0o755), api.ENOENT, "missing parent")
	Want(t, k.Mkdir(filepath.Join(dir, "x"), api.S_IFREG|0o755), api.EINVAL, "type bits in the mode")
	Want(t, k.Mkdir(filepath.Join(dir, "x\x00"), 0o755), api.EINVAL, "NUL in the path")
}

func testMkdirat(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	d := fmOpenDir(t, e, dir)
	OK(t, k.Mkdirat(d, "sub", 0o700), "mkdirat")
	var st api.Stat
	OK(t, k.Stat(filepath.Join(dir, "sub"), &st))
	True(t, st.IsDir(), "a directory")
	Eq(t, st.Mode&0o777, api.Mode(0o700)&^umaskOf(t, e), "permissions")
	Want(t, k.Mkdirat(d, "sub", 0o700), api.EEXIST, "again")
	Want(t, k.Mkdirat(fmClosedFd(t, e), "x", 0o700), api.EBADF, "closed dir")
}

func testRmdir(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	p := filepath.Join(dir, "d")
	OK(t, k.Mkdir(p, 0o755))
	OK(t, k.Mkdir(filepath.Join(p, "inner"), 0o755))
	err := k.Rmdir(p)
	Want(t, err, api.ENOTEMPTY, "rmdir of a non-empty dir")
	OK(t, k.Rmdir(filepath.Join(p, "inner")), "rmdir of an empty dir")
	OK(t, k.Rmdir(p), "rmdir once empty")
	var st api.Stat
	Want(t, k.Stat(p, &st), api.ENOENT, "gone")
	Want(t, k.Rmdir(p), api.ENOENT, "again")
	f := CreateFile(t, e, "file", nil)
	Want(t, k.Rmdir(f), api.ENOTDIR, "rmdir of a file")
	Want(t, k.Rmdir("d\x00"), api.EINVAL, "NUL in the path")
}

func testMknod(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	fifo := filepath.Join(dir, "fifo")
	OK(t, k.Mknod(fifo, api.S_IFIFO|0o600, 0), "mknod of a FIFO")
	var st api.Stat
	OK(t, k.Lstat(fifo, &st))
	Eq(t, st.Mode.Type(), api.S_IFIFO, "file type")
	Eq(t, st.Mode&0o777, api.Mode(0o600)&^umaskOf(t, e), "permissions")
	// A FIFO opened non-blocking for reading succeeds without a writer.
	r, err := k.Open(fifo, api.O_RDONLY|api.O_NONBLOCK|api.O_CLOEXEC, 0)
	OK(t, err, "open the FIFO")
	r.Close()

	reg := filepath.Join(dir, "reg")
	OK(t, k.Mknod(reg, api.S_IFREG|0o644, 0), "mknod of a regular file")
	OK(t, k.Stat(reg, &st))
	True(t, st.IsRegular(), "regular")
	Eq(t, st.Size, int64(0), "empty")
	Want(t, k.Mknod(fifo, api.S_IFIFO|0o600, 0), api.EEXIST, "existing name")
	if e.K.ABI().OS == "linux" {
		// Linux's mknod takes a 32-bit dev_t; NetBSD's is 64 bits.
		Want(t, k.Mknod(filepath.Join(dir, "big"), api.S_IFCHR|0o600, 1<<40), api.EINVAL, "device number beyond 32 bits")
	}
	Want(t, k.Mknod(filepath.Join(dir, "bad"), api.Mode(1<<20)|0o600, 0), api.EINVAL, "unknown mode bits")
	if !e.Target.Root() {
		Want(t, k.Mknod(filepath.Join(dir, "null"), api.S_IFCHR|0o600, api.Mkdev(1, 3)), api.EPERM, "a device node without privilege")
	}

	// Linux's device number encoding.
	for _, mm := range [][2]uint32{{0, 0}, {1, 3}, {8, 17}, {4095, 1<<20 - 1}, {4096, 1 << 20}, {1<<32 - 1, 1<<32 - 1}, {259, 65536}} {
		dev := api.Mkdev(mm[0], mm[1])
		Eq(t, api.Major(dev), mm[0], "major of Mkdev(%d, %d)", mm[0], mm[1])
		Eq(t, api.Minor(dev), mm[1], "minor of Mkdev(%d, %d)", mm[0], mm[1])
	}
	Eq(t, api.Mkdev(1, 3), uint64(0x103), "Mkdev(1, 3)")
	Eq(t, api.Mkdev(8, 0x12345), uint64(0x12300845), "Mkdev(8, 0x12345)")
	var null api.Stat
	if e.K.ABI().OS == "linux" && k.Stat("/dev/null", &null) == nil && null.Mode.Type() == api.S_IFCHR {
		Eq(t, api.Major(null.Rdev), uint32(1), "major of /dev/null")
		Eq(t, api.Minor(null.Rdev), uint32(3), "minor of /dev/null")
	}
}

// testMknodDevice makes a character device, which takes privilege.
func testMknodDevice(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	p := filepath.Join(dir, "null")
	// The null device's number in the kernel's own encoding: its
	// /dev/null's, else Linux's 1:3.
	linux := k.ABI().OS == "linux"
	dev := api.Mkdev(1, 3)
	var null api.Stat
	if k.Stat("/dev/null", &null) == nil && null.Mode.Type() == api.S_IFCHR {
		dev = null.Rdev
	} else if !linux {
		t.Skipf("no /dev/null in this kernel to take the null device's number from")
	}
	err := k.Mknod(p, api.S_IFCHR|0o666, dev)
	if errors.Is(err, api.EPERM) {
		t.Skipf("no CAP_MKNOD here (a user namespace or container): %v", err)
	}
	OK(t, err, "mknod of /dev/null's twin")
	var st api.Stat
	OK(t, k.Lstat(p, &st))
	Eq(t, st.Mode.Type(), api.S_IFCHR, "file type")
	Eq(t, st.Rdev, dev, "device number")
	if linux {
		Eq(t, api.Major(st.Rdev), uint32(1), "major")
		Eq(t, api.Minor(st.Rdev), uint32(3), "minor")
	}
	f, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	if errors.Is(err, api.EACCES) || errors.Is(err, api.EPERM) {
		t.Skipf("devices not usable on this mount (nodev): %v", err)
	}
	OK(t, err, "open the device")
	defer f.Close()
	n, err := f.Write([]byte("discarded"))
	OK(t, err, "write to the null device")
	Eq(t, n, 9)
	_, err = f.Read(make([]byte, 4))
	Want(t, err, io.EOF, "read from the null device")
}

func testMknodat(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	d := fmOpenDir(t, e, dir)
	OK(t, k.Mknodat(d, "fifo", api.S_IFIFO|0o640, 0), "mknodat of a FIFO")
	var st api.Stat
	OK(t, k.Lstat(filepath.Join(dir, "fifo"), &st))
	Eq(t, st.Mode.Type(), api.S_IFIFO, "file type")
	Want(t, k.Mknodat(d, "fifo", api.S_IFIFO|0o640, 0), api.EEXIST, "again")
	Want(t, k.Mknodat(fmClosedFd(t, e), "x", api.S_IFIFO|0o640, 0), api.EBADF, "closed dir")
	Want(t, k.Mknodat(d, "x\x00", api.S_IFIFO|0o640, 0), api.EINVAL, "NUL in the path")
	if e.Target.Root() {
		err := k.Mknodat(d, "zero", api.S_IFCHR|0o600, api.Mkdev(1, 5))
		if !errors.Is(err, api.EPERM) {
			OK(t, err, "mknodat of a char device as root")
			OK(t, k.Lstat(filepath.Join(dir, "zero"), &st))
			Eq(t, st.Rdev, api.Mkdev(1, 5), "device number")
		}
	}
}
