package conformance

import (
	"errors"
	"io/fs"
	"testing/fstest"

	"github.com/anykernel/anykernel/api/fsutil"
	"github.com/anykernel/anykernel/api/kfs"
)

// io/fs over the kernel under test (api/kfs): the standard library's own
// checker of an fs.FS, and fs.WalkDir, on a tree made through the kernel.

func init() {
	Register(
		Case{Family: "kfs", Call: "kfs.fstest", Run: testKfsFstest},
		Case{Family: "kfs", Call: "kfs.WalkDir", Run: testKfsWalkDir},
	)
}

// kfsTree makes the tree both cases read: files at three depths, an empty
// directory and a symbolic link.
func kfsTree(t T, e *Env) (string, map[string]string) {
	dir := e.TempDir(t)
	files := map[string]string{"top": "t", "a/one": "1", "a/b/two": "22", "a/b/c/three": "333"}
	for _, d := range []string{"a", "a/b", "a/b/c", "empty"} {
		OK(t, e.K.Mkdir(dir+"/"+d, 0o755), "mkdir %s", d)
	}
	for name, data := range files {
		OK(t, fsutil.WriteFile(e.K, dir+"/"+name, []byte(data), 0o644), "write %s", name)
	}
	OK(t, e.K.Symlink("b/two", dir+"/a/link"), "symlink")
	return dir, files
}

func testKfsFstest(t T, e *Env) {
	dir, files := kfsTree(t, e)
	want := []string{"a/link", "empty"}
	for name := range files {
		want = append(want, name)
	}
	// fstest.TestFS opens, reads, seeks, stats and lists every file and
	// directory and compares the answers of every interface FS offers.
	OK(t, fstest.TestFS(kfs.New(e.K, dir), want...), "fstest.TestFS")
}

func testKfsWalkDir(t T, e *Env) {
	dir, files := kfsTree(t, e)
	fsys := kfs.New(e.K, dir)
	seen := map[string]bool{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		seen[p] = true
		if want, ok := files[p]; ok {
			got, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			Eq(t, string(got), want, "contents of %s", p)
			True(t, d.Type().IsRegular(), "%s is a regular file", p)
		}
		if p == "a/link" {
			True(t, d.Type()&fs.ModeSymlink != 0, "a/link is a symbolic link: %v", d.Type())
		}
		return nil
	})
	OK(t, err, "fs.WalkDir")
	for _, p := range []string{".", "a", "a/b", "a/b/c", "a/b/c/three", "a/b/two", "a/link", "a/one", "empty", "top"} {
		True(t, seen[p], "WalkDir visited %s", p)
	}
	Eq(t, len(seen), 10, "entries visited")
	_, err = fs.Stat(fsys, "a/missing")
	True(t, errors.Is(err, fs.ErrNotExist), "Stat of a missing name: %v", err)
	_, err = fsys.Open("../escape")
	True(t, errors.Is(err, fs.ErrInvalid), "Open of an invalid name: %v", err)
}
