package conformance

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/fsutil"
)

// The file utilities of api/fsutil, against the kernel under test and,
// where the kernel is the host's, against Go's os and filepath.

func init() {
	Register(
		Case{Family: "fsutil", Call: "fsutil.MkdirAll", Run: testFsutilMkdirAll},
		Case{Family: "fsutil", Call: "fsutil.RemoveAll", Run: testFsutilRemoveAll},
		Case{Family: "fsutil", Call: "fsutil.RemoveAll.readonly", Run: testFsutilRemoveAllReadOnly},
		Case{Family: "fsutil", Call: "fsutil.WalkDir", Run: testFsutilWalkDir},
		Case{Family: "fsutil", Call: "fsutil.Walk", Run: testFsutilWalk},
		Case{Family: "fsutil", Call: "fsutil.Copy", Run: testFsutilCopy},
		Case{Family: "fsutil", Call: "fsutil.CopyFd", Run: testFsutilCopyFd},
		Case{Family: "fsutil", Call: "fsutil.Touch", Run: testFsutilTouch},
		Case{Family: "fsutil", Call: "fsutil.ReadFile", Run: testFsutilReadFile},
	)
}

// smIsHost reports whether the kernel under test is this process's own, so
// that Go's os package sees the same files.
func smIsHost(e *Env) bool {
	_, ok := e.K.Backend().(api.HostBackend)
	return ok
}

// smTree makes a small tree under dir: files, nested directories, a
// symbolic link to a file and one to a directory.
func smTree(t T, e *Env, dir string) {
	t.Helper()
	k := e.K
	for _, d := range []string{"a", "a/b", "a/b/c", "d"} {
		OK(t, k.Mkdir(dir+"/"+d, 0o755), "mkdir %s", d)
	}
	for _, f := range []string{"a/f1", "a/b/f2", "a/b/c/f3", "d/f4", "z"} {
		OK(t, fsutil.WriteFile(k, dir+"/"+f, []byte("data of "+f), 0o644), "write %s", f)
	}
	OK(t, k.Symlink("f1", dir+"/a/lnk"), "symlink to a file")
	OK(t, k.Symlink("../d", dir+"/a/dlnk"), "symlink to a directory")
}

func testFsutilMkdirAll(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	p := dir + "/x/y/z"
	OK(t, fsutil.MkdirAll(k, p, 0o750), "MkdirAll")
	var st api.Stat
	OK(t, k.Stat(p, &st), "stat the new leaf")
	True(t, st.IsDir(), "leaf is a directory")
	Eq(t, st.Mode&0o777, api.Mode(0o750)&^umaskOf(t, e), "leaf permissions")
	OK(t, k.Stat(dir+"/x", &st), "stat the new parent")
	Eq(t, st.Mode&0o777, api.Mode(0o750)&^umaskOf(t, e), "parent permissions")
	OK(t, fsutil.MkdirAll(k, p, 0o700), "MkdirAll of an existing directory")
	OK(t, fsutil.MkdirAll(k, p+"///", 0o700), "trailing slashes")
	OK(t, fsutil.MkdirAll(k, dir+"/x//y2/./z2", 0o755), "doubled slashes and dots")
	OK(t, k.Stat(dir+"/x/y2/z2", &st), "made through . and //")

	f := CreateFile(t, e, "file", nil)
	err := fsutil.MkdirAll(k, f, 0o755)
	Want(t, err, api.ENOTDIR, "MkdirAll on a file")
	err = fsutil.MkdirAll(k, f+"/sub/dir", 0o755)
	Want(t, err, api.ENOTDIR, "MkdirAll through a file")
	Want(t, fsutil.MkdirAll(k, dir+"/bad\x00name", 0o755), api.EINVAL, "NUL in path")

	// A symbolic link to a directory counts as the directory.
	OK(t, k.Symlink(p, dir+"/ln"), "symlink")
	OK(t, fsutil.MkdirAll(k, dir+"/ln", 0o755), "MkdirAll on a link to a directory")
	OK(t, fsutil.MkdirAll(k, dir+"/ln/deeper", 0o755), "MkdirAll below a link")
	OK(t, k.Stat(p+"/deeper", &st), "made through the link")

	if smIsHost(e) {
		// The same calls through os give the same tree.
		od := filepath.Join(dir, "os")
		OK(t, os.MkdirAll(od+"/x/y/z", 0o750), "os.MkdirAll")
		var ost api.Stat
		OK(t, k.Stat(od+"/x/y/z", &ost), "stat os's leaf")
		OK(t, k.Stat(p, &st))
		Eq(t, st.Mode, ost.Mode, "same mode as os.MkdirAll")
	}
}

func testFsutilRemoveAll(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	root := dir + "/tree"
	OK(t, k.Mkdir(root, 0o755))
	smTree(t, e, root)
	// A link out of the tree, to a directory whose contents must survive.
	outside := dir + "/outside"
	OK(t, k.Mkdir(outside, 0o755))
	OK(t, fsutil.WriteFile(k, outside+"/keep", []byte("keep"), 0o644))
	OK(t, k.Symlink(outside, root+"/a/b/escape"), "symlink out of the tree")
	OK(t, k.Symlink(outside+"/keep", root+"/keeplink"), "symlink to a file out of the tree")

	OK(t, fsutil.RemoveAll(k, root), "RemoveAll")
	var st api.Stat
	Want(t, k.Lstat(root, &st), fs.ErrNotExist, "tree removed")
	b, err := fsutil.ReadFile(k, outside+"/keep")
	OK(t, err, "the file behind the link survived")
	Eq(t, string(b), "keep")

	OK(t, fsutil.RemoveAll(k, root), "RemoveAll of a missing path")
	OK(t, fsutil.RemoveAll(k, ""), "RemoveAll of the empty path")
	OK(t, fsutil.RemoveAll(k, dir+"/missing/below"), "missing parent")
	Want(t, fsutil.RemoveAll(k, dir+"/."), api.EINVAL, "a path ending in /.")
	Want(t, fsutil.RemoveAll(k, "."), api.EINVAL, ".")

	// A symbolic link given as the path goes, its target stays.
	OK(t, k.Symlink(outside, dir+"/link"))
	OK(t, fsutil.RemoveAll(k, dir+"/link"), "RemoveAll of a link to a directory")
	Want(t, k.Lstat(dir+"/link", &st), fs.ErrNotExist, "link removed")
	OK(t, k.Stat(outside+"/keep", &st), "target kept")

	// A single file, and a path with a trailing slash.
	f := CreateFile(t, e, "single", []byte("x"))
	OK(t, fsutil.RemoveAll(k, f), "RemoveAll of a file")
	Want(t, k.Lstat(f, &st), fs.ErrNotExist, "file removed")
	OK(t, fsutil.MkdirAll(k, dir+"/t/u/v", 0o755))
	OK(t, fsutil.RemoveAll(k, dir+"/t/"), "trailing slash")
	Want(t, k.Lstat(dir+"/t", &st), fs.ErrNotExist, "removed with a trailing slash")

	// A wide directory: more entries than one getdents batch.
	OK(t, k.Mkdir(dir+"/wide", 0o755))
	for i := 0; i < 200; i++ {
		OK(t, fsutil.WriteFile(k, dir+"/wide/"+strings.Repeat("n", 40)+strconv.Itoa(i), nil, 0o644))
	}
	OK(t, fsutil.RemoveAll(k, dir+"/wide"), "RemoveAll of a wide directory")
	Want(t, k.Lstat(dir+"/wide", &st), fs.ErrNotExist, "wide directory removed")

	if smIsHost(e) {
		// What os.RemoveAll leaves, RemoveAll leaves: nothing, and the
		// outside intact.
		OK(t, k.Mkdir(root, 0o755))
		smTree(t, e, root)
		OK(t, os.RemoveAll(root), "os.RemoveAll")
		_, err := os.Lstat(root)
		True(t, errors.Is(err, fs.ErrNotExist), "os removed it too")
	}
}

func testFsutilRemoveAllReadOnly(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	root := dir + "/ro"
	OK(t, k.Mkdir(root, 0o755))
	smTree(t, e, root)
	// Read-only directories, as a Go module cache has them.
	for _, d := range []string{"a/b/c", "a/b", "a", "d", ""} {
		OK(t, k.Chmod(root+"/"+d, 0o555), "chmod 0555 %s", d)
	}
	t.Cleanup(func() {
		// Leave a removable tree to the temp-dir cleanup if we fail.
		for _, d := range []string{"", "a", "a/b", "a/b/c", "d"} {
			k.Chmod(root+"/"+d, 0o755)
		}
	})
	OK(t, fsutil.RemoveAll(k, root), "RemoveAll of read-only directories (euid %d)", k.Geteuid())
	var st api.Stat
	Want(t, k.Lstat(root, &st), fs.ErrNotExist, "read-only tree removed")

	// The modes were not changed on anything outside the tree.
	OK(t, k.Stat(dir, &st))
	True(t, st.Mode&0o200 != 0, "the parent is still writable")
}

// smWalkRecord is what one call of a walk function saw.
type smWalkRecord struct {
	path string
	dir  bool
	typ  fs.FileMode
	err  string
}

func testFsutilWalkDir(t T, e *Env) {
	k := e.K
	root := e.TempDir(t) + "/w"
	OK(t, k.Mkdir(root, 0o755))
	smTree(t, e, root)
	record := func(out *[]smWalkRecord, skip string) fs.WalkDirFunc {
		return func(p string, d fs.DirEntry, err error) error {
			r := smWalkRecord{path: p}
			if d != nil {
				r.dir, r.typ = d.IsDir(), d.Type()
			}
			if err != nil {
				r.err = err.Error()
			}
			*out = append(*out, r)
			if skip != "" && d != nil && d.Name() == skip {
				return fs.SkipDir
			}
			return nil
		}
	}
	var got []smWalkRecord
	OK(t, fsutil.WalkDir(k, root, record(&got, "")), "WalkDir")
	var names []string
	for _, r := range got {
		names = append(names, strings.TrimPrefix(r.path, root))
	}
	want := []string{"", "/a", "/a/b", "/a/b/c", "/a/b/c/f3", "/a/b/f2", "/a/dlnk", "/a/f1", "/a/lnk", "/d", "/d/f4", "/z"}
	Eq(t, strings.Join(names, " "), strings.Join(want, " "), "lexical order, links not followed")
	for _, r := range got {
		switch strings.TrimPrefix(r.path, root) {
		case "/a/dlnk", "/a/lnk":
			Eq(t, r.typ, fs.ModeSymlink, "%s is a link", r.path)
		case "/a", "/a/b", "":
			True(t, r.dir, "%s is a directory", r.path)
		case "/z":
			Eq(t, r.typ, fs.FileMode(0), "/z is a regular file")
		}
	}
	// SkipDir on a directory skips its contents, on a file the rest of
	// its directory.
	var skipped []smWalkRecord
	OK(t, fsutil.WalkDir(k, root, record(&skipped, "b")), "WalkDir with SkipDir")
	for _, r := range skipped {
		True(t, !strings.HasPrefix(r.path, root+"/a/b/"), "SkipDir entered %s", r.path)
	}
	var skipFile []smWalkRecord
	OK(t, fsutil.WalkDir(k, root, record(&skipFile, "dlnk")), "SkipDir on a file")
	for _, r := range skipFile {
		True(t, r.path != root+"/a/f1" && r.path != root+"/a/lnk", "SkipDir on a file went on to %s", r.path)
	}
	True(t, len(skipFile) > 0 && skipFile[len(skipFile)-1].path == root+"/z", "walk went on after the skipped directory")
	// SkipAll stops at once; other errors come back.
	n := 0
	OK(t, fsutil.WalkDir(k, root, func(string, fs.DirEntry, error) error {
		n++
		if n == 3 {
			return fs.SkipAll
		}
		return nil
	}), "SkipAll")
	Eq(t, n, 3, "calls before SkipAll")
	boom := errors.New("boom")
	Want(t, fsutil.WalkDir(k, root, func(string, fs.DirEntry, error) error { return boom }), boom, "fn's error")
	// A missing root: fn sees the error with a nil entry.
	var miss []smWalkRecord
	OK(t, fsutil.WalkDir(k, root+"/missing", record(&miss, "")), "WalkDir of a missing root")
	Eq(t, len(miss), 1, "one call for a missing root")
	True(t, miss[0].err != "", "the error is passed: %+v", miss[0])

	if smIsHost(e) {
		var osGot []smWalkRecord
		OK(t, filepath.WalkDir(root, record(&osGot, "")), "filepath.WalkDir")
		Eq(t, len(got), len(osGot), "as many calls as filepath.WalkDir")
		for i := range got {
			Eq(t, got[i], osGot[i], "call %d like filepath.WalkDir", i)
		}
	}
}

func testFsutilWalk(t T, e *Env) {
	k := e.K
	root := e.TempDir(t) + "/w"
	OK(t, k.Mkdir(root, 0o755))
	smTree(t, e, root)
	var paths []string
	for ent, err := range fsutil.Walk(k, root) {
		OK(t, err, "walk %s", ent.Path())
		if ent.Name() == "a" {
			ent.SkipDir()
		}
		paths = append(paths, strings.TrimPrefix(ent.Path(), root))
		if ent.Depth() > 0 {
			True(t, strings.Count(strings.TrimPrefix(ent.Path(), root), "/") == ent.Depth(), "depth of %s", ent.Path())
		}
	}
	Eq(t, strings.Join(paths, " "), " /a /d /d/f4 /z", "Walk with SkipDir on a")
	// Breaking out ends the walk, and Info reads the status.
	n := 0
	for ent, err := range fsutil.Walk(k, root) {
		OK(t, err)
		n++
		if ent.Name() == "z" {
			fi, err := ent.Info()
			OK(t, err, "Info")
			Eq(t, fi.Size(), int64(len("data of z")), "Info size")
			True(t, fi.Mode().IsRegular(), "Info mode")
		}
		if n == 2 {
			break
		}
	}
	Eq(t, n, 2, "break stops the walk")
	// An unreadable directory is yielded twice, the second time with the
	// error (only without root: root reads it anyway).
	if k.Geteuid() != 0 {
		OK(t, k.Chmod(root+"/d", 0o000))
		t.Cleanup(func() { k.Chmod(root+"/d", 0o755) })
		var errs []string
		for ent, err := range fsutil.Walk(k, root) {
			if err != nil {
				errs = append(errs, ent.Path())
				Want(t, err, api.EACCES, "unreadable directory")
			}
		}
		Eq(t, strings.Join(errs, ","), root+"/d", "the unreadable directory comes with its error")
	}
	// A missing root yields once, with the error.
	cnt := 0
	for ent, err := range fsutil.Walk(k, root+"/none") {
		cnt++
		Want(t, err, fs.ErrNotExist, "missing root")
		Eq(t, ent.Path(), root+"/none", "the entry names the root")
	}
	Eq(t, cnt, 1, "one yield for a missing root")
}

func testFsutilCopy(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 70000) // > 1 MiB
	src := dir + "/src"
	OK(t, fsutil.WriteFile(k, src, data, 0o600))
	OK(t, k.Chmod(src, 0o640), "chmod src")
	dst := dir + "/dst"
	OK(t, fsutil.Copy(k, dst, src), "Copy")
	got, err := fsutil.ReadFile(k, dst)
	OK(t, err)
	True(t, bytes.Equal(got, data), "copy has the same %d bytes (got %d)", len(data), len(got))
	var st api.Stat
	OK(t, k.Stat(dst, &st))
	Eq(t, st.Mode&0o7777, api.Mode(0o640), "mode preserved")

	// Onto a longer file: truncated, mode set.
	long := dir + "/long"
	OK(t, fsutil.WriteFile(k, long, bytes.Repeat([]byte("x"), 3<<20), 0o666))
	small := dir + "/small"
	OK(t, fsutil.WriteFile(k, small, []byte("small"), 0o600))
	OK(t, fsutil.Copy(k, long, small), "Copy onto a longer file")
	got, err = fsutil.ReadFile(k, long)
	OK(t, err)
	Eq(t, string(got), "small", "destination truncated")
	OK(t, k.Stat(long, &st))
	Eq(t, st.Mode&0o7777, api.Mode(0o600), "mode of the existing destination set")

	// An empty file.
	empty := CreateFile(t, e, "empty", nil)
	OK(t, fsutil.Copy(k, dir+"/empty2", empty), "Copy of an empty file")
	OK(t, k.Stat(dir+"/empty2", &st))
	Eq(t, st.Size, int64(0), "empty copy")

	// Bad inputs.
	Want(t, fsutil.Copy(k, src, src), api.EINVAL, "Copy onto itself")
	got, err = fsutil.ReadFile(k, src)
	OK(t, err)
	Eq(t, len(got), len(data), "the source survived a copy onto itself")
	OK(t, k.Link(src, dir+"/hard"))
	Want(t, fsutil.Copy(k, dir+"/hard", src), api.EINVAL, "Copy onto a hard link of itself")
	Want(t, fsutil.Copy(k, dir+"/x", dir), api.EISDIR, "Copy of a directory")
	Want(t, fsutil.Copy(k, dir+"/x", dir+"/missing"), fs.ErrNotExist, "Copy of a missing file")
	Want(t, fsutil.Copy(k, dir+"/no/such/dir", src), fs.ErrNotExist, "Copy into a missing directory")

	if smIsHost(e) {
		// A /proc file: copy_file_range sees size 0 there; the fallback
		// must still copy the contents.
		want, err := os.ReadFile("/proc/version")
		OK(t, err)
		OK(t, fsutil.Copy(k, dir+"/version", "/proc/version"), "Copy of /proc/version")
		got, err := os.ReadFile(dir + "/version")
		OK(t, err)
		Eq(t, string(got), string(want), "contents of a /proc file")
		// Across file systems (tmpfs /dev/shm), where copy_file_range
		// may say EXDEV.
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			x, err := os.MkdirTemp("/dev/shm", "anykernel-copy-")
			if err == nil {
				t.Cleanup(func() { os.RemoveAll(x) })
				OK(t, fsutil.Copy(k, x+"/c", src), "Copy to another file system")
				got, err := os.ReadFile(x + "/c")
				OK(t, err)
				True(t, bytes.Equal(got, data), "cross-device copy")
			}
		}
	}
}

func testFsutilCopyFd(t T, e *Env) {
	k := e.K
	src := CreateFile(t, e, "src", []byte("hello, copy"))
	in, err := k.Open(src, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer in.Close()
	// Into a pipe: copy_file_range refuses pipes (EINVAL), the fallback
	// copies.
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err)
	defer r.Close()
	n, err := fsutil.CopyFd(w, in)
	OK(t, err, "CopyFd into a pipe")
	Eq(t, n, int64(len("hello, copy")))
	OK(t, w.Close())
	buf := make([]byte, 64)
	m, err := r.Read(buf)
	OK(t, err)
	Eq(t, string(buf[:m]), "hello, copy", "through the pipe")

	// From the middle: the file offsets are honoured and advanced.
	_, err = in.Lseek(7, api.SEEK_SET)
	OK(t, err)
	outPath := src + ".out"
	out, err := k.Open(outPath, api.O_RDWR|api.O_CREAT|api.O_CLOEXEC, 0o644)
	OK(t, err)
	defer out.Close()
	n, err = fsutil.CopyFd(out, in)
	OK(t, err, "CopyFd file to file")
	Eq(t, n, int64(4))
	off, err := out.Lseek(0, api.SEEK_CUR)
	OK(t, err)
	Eq(t, off, int64(4), "destination offset advanced")
	n, err = fsutil.CopyFd(out, in)
	OK(t, err, "CopyFd at end of input")
	Eq(t, n, int64(0), "nothing left")
	b, err := fsutil.ReadFile(k, outPath)
	OK(t, err)
	Eq(t, string(b), "copy")

	// Appending destinations: copy_file_range says EBADF, the fallback
	// appends.
	app, err := k.Open(outPath, api.O_WRONLY|api.O_APPEND|api.O_CLOEXEC, 0)
	OK(t, err)
	defer app.Close()
	_, err = in.Lseek(0, api.SEEK_SET)
	OK(t, err)
	_, err = fsutil.CopyFd(app, in)
	OK(t, err, "CopyFd to an O_APPEND file")
	b, err = fsutil.ReadFile(k, outPath)
	OK(t, err)
	Eq(t, string(b), "copyhello, copy")

	OK(t, in.Close())
	_, err = fsutil.CopyFd(out, in)
	Want(t, err, api.EBADF, "CopyFd from a closed Fd")
	_, err = fsutil.CopyFd(nil, in)
	Want(t, err, api.EBADF, "CopyFd to nil")
}

func testFsutilTouch(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	p := dir + "/new"
	before := time.Now().Add(-2 * time.Second)
	OK(t, fsutil.Touch(k, p), "Touch creates")
	var st api.Stat
	OK(t, k.Stat(p, &st))
	True(t, st.IsRegular(), "a regular file")
	Eq(t, st.Size, int64(0), "empty")
	Eq(t, st.Mode&0o777, api.Mode(0o666)&^umaskOf(t, e), "mode 0666 less the umask")
	True(t, st.ModTime().After(before), "mtime is now: %v", st.ModTime())

	// Old times, then Touch: both become now; the contents stay.
	OK(t, fsutil.WriteFile(k, p, []byte("keep"), 0o644))
	old := time.Date(2001, 2, 3, 4, 5, 6, 7000, time.UTC)
	OK(t, fsutil.Chtimes(k, p, old, old), "Chtimes")
	OK(t, k.Stat(p, &st))
	True(t, st.Mtim.Time().Equal(old), "mtime set to %v, got %v", old, st.Mtim.Time())
	True(t, st.Atim.Time().Equal(old), "atime set")
	OK(t, fsutil.Touch(k, p), "Touch updates")
	OK(t, k.Stat(p, &st))
	True(t, st.ModTime().After(before), "mtime is now again: %v", st.ModTime())
	True(t, st.Atim.Time().After(before), "atime is now again")
	Eq(t, st.Size, int64(4), "contents kept")

	// Chtimes with a zero time leaves that one alone.
	OK(t, fsutil.Chtimes(k, p, time.Time{}, old), "Chtimes mtime only")
	var st2 api.Stat
	OK(t, k.Stat(p, &st2))
	Eq(t, st2.Atim, st.Atim, "atime unchanged")
	True(t, st2.Mtim.Time().Equal(old), "mtime set")

	// A directory is touched too.
	OK(t, fsutil.Chtimes(k, dir, old, old))
	OK(t, fsutil.Touch(k, dir), "Touch a directory")
	OK(t, k.Stat(dir, &st))
	True(t, st.ModTime().After(before), "directory mtime now")

	Want(t, fsutil.Touch(k, dir+"/no/such"), fs.ErrNotExist, "Touch in a missing directory")
	Want(t, fsutil.Touch(k, dir+"/a\x00b"), api.EINVAL, "NUL in path")

	if smIsHost(e) {
		fi, err := os.Stat(p)
		OK(t, err)
		OK(t, k.Stat(p, &st))
		True(t, fi.ModTime().Equal(st.ModTime()), "os sees the same mtime")
	}
}

func testFsutilReadFile(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	data := bytes.Repeat([]byte("abc"), 5000)
	OK(t, fsutil.WriteFile(k, dir+"/f", data, 0o600), "WriteFile")
	got, err := fsutil.ReadFile(k, dir+"/f")
	OK(t, err, "ReadFile")
	True(t, bytes.Equal(got, data), "same bytes")
	var st api.Stat
	OK(t, k.Stat(dir+"/f", &st))
	Eq(t, st.Mode&0o777, api.Mode(0o600)&^umaskOf(t, e), "WriteFile mode")
	OK(t, fsutil.WriteFile(k, dir+"/f", []byte("short"), 0o600), "WriteFile truncates")
	got, err = fsutil.ReadFile(k, dir+"/f")
	OK(t, err)
	Eq(t, string(got), "short")
	_, err = fsutil.ReadFile(k, dir+"/missing")
	Want(t, err, fs.ErrNotExist, "ReadFile of a missing file")
	_, err = fsutil.ReadFile(k, dir)
	Want(t, err, api.EISDIR, "ReadFile of a directory")
	if smIsHost(e) {
		// A file whose size the kernel does not know.
		want, err := os.ReadFile("/proc/self/mountinfo")
		OK(t, err)
		got, err := fsutil.ReadFile(k, "/proc/self/mountinfo")
		OK(t, err, "ReadFile of /proc/self/mountinfo")
		a, b := strings.Count(string(want), "\n"), strings.Count(string(got), "\n")
		Eq(t, a, b, "as many mounts as os reads")
		True(t, b > 1, "several lines")
	}
}
