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
