package kfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// tree is the file set both the native and the rump tests build.
var tree = map[string]string{
	"README":             "Is that a small file system in your pocket or aren't you happy to see me?\n",
	"empty":              "",
	"dir/a.txt":          "alpha\n",
	"dir/sub/b.txt":      strings.Repeat("bravo ", 2000), // several blocks
	"dir/sub/deep/c.txt": "charlie\n",
	"other/d":            "delta",
}

// files lists tree's files and directories for fstest.TestFS.
func files() []string {
	var out []string
	for name := range tree {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// makeTree writes tree under dir on the host, plus a symbolic link
// "link" to dir/a.txt.
func makeTree(t testing.TB, dir string) {
	t.Helper()
	for name, data := range tree {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("dir/a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
}

func TestNative(t *testing.T) {
	k, err := native.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	makeTree(t, dir)
	fsys := New(k, dir)
	if err := fstest.TestFS(fsys, append(files(), "link")...); err != nil {
		t.Fatal(err)
	}
	checkFS(t, fsys)
	// The same answers as os.DirFS.
	for _, name := range []string{".", "dir", "dir/sub"} {
		a, err1 := fs.ReadDir(fsys, name)
		b, err2 := fs.ReadDir(os.DirFS(dir), name)
		if err1 != nil || err2 != nil || len(a) != len(b) {
			t.Fatalf("ReadDir(%q): %v %v, %d vs %d entries", name, err1, err2, len(a), len(b))
		}
		for i := range a {
			if a[i].Name() != b[i].Name() || a[i].Type() != b[i].Type() {
				t.Errorf("ReadDir(%q)[%d]: %v, os.DirFS %v", name, i, a[i], b[i])
			}
		}
	}
}

// checkFS covers what fstest does not: the walk, error shapes, symbolic
// links, Sub, a closed file.
func checkFS(t *testing.T, fsys *FS) {
	t.Helper()
	var walked []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			walked = append(walked, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := append(files(), "link")
	slices.Sort(want)
	slices.Sort(walked)
	if !slices.Equal(walked, want) {
		t.Errorf("WalkDir found %q, want %q", walked, want)
	}
	for name, data := range tree {
		got, err := fs.ReadFile(fsys, name)
		if err != nil || string(got) != data {
			t.Errorf("ReadFile(%q): %d bytes, %v", name, len(got), err)
		}
	}
	for _, bad := range []string{"/README", "../x", "dir/../README", "dir/", "", "a//b"} {
		_, err := fsys.Open(bad)
		var pe *fs.PathError
		if !errors.Is(err, fs.ErrInvalid) || !errors.As(err, &pe) || pe.Path != bad {
			t.Errorf("Open(%q): %v, want fs.ErrInvalid naming the path", bad, err)
		}
	}
	_, err = fsys.Stat("dir/missing")
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != "dir/missing" || pe.Op != "stat" {
		t.Errorf("Stat of a missing file: %v", err)
	}
	if _, err := fsys.ReadFile("dir"); !errors.Is(err, api.EISDIR) {
		t.Errorf("ReadFile of a directory: %v", err)
	}
	if _, err := fs.ReadDir(fsys, "README"); !errors.Is(err, api.ENOTDIR) {
		t.Errorf("ReadDir of a file: %v", err)
	}
	if l, err := fsys.ReadLink("link"); err != nil || l != "dir/a.txt" {
		t.Errorf("ReadLink: %q %v", l, err)
	}
	if fi, err := fsys.Lstat("link"); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("Lstat(link): %v %v", fi, err)
	}
	if fi, err := fsys.Stat("link"); err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(tree["dir/a.txt"])) {
		t.Errorf("Stat(link) follows it: %v %v", fi, err)
	}
	if fi, err := fsys.Stat("."); err != nil || !fi.IsDir() || fi.Name() != "." {
		t.Errorf("Stat(.): %v %v", fi, err)
	}
	if st, ok := mustStat(t, fsys, "README").Sys().(*api.Stat); !ok || st.Size != int64(len(tree["README"])) {
		t.Errorf("Sys() is not the *api.Stat")
	}
	sub, err := fs.Sub(fsys, "dir/sub")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(sub, "b.txt", "deep/c.txt"); err != nil {
		t.Error(err)
	}
	if _, err := fs.Sub(fsys, "README"); !errors.Is(err, api.ENOTDIR) {
		t.Errorf("Sub of a file: %v", err)
	}
	f, err := fsys.Open("dir")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, api.EISDIR) {
		t.Errorf("Read of a directory: %v", err)
	}
	f.Close()
	f, err = fsys.Open("README")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.(fs.ReadDirFile).ReadDir(-1); !errors.Is(err, api.ENOTDIR) {
		t.Errorf("ReadDir of a file: %v", err)
	}
	f.Close()
	if _, err := f.Read(make([]byte, 1)); err == nil || err == io.EOF {
		t.Errorf("Read after Close: %v", err)
	}
	if (New(nil, "/")).Kernel() != nil {
		t.Error("Kernel of a nil-kernel FS")
	}
	if _, err := New(nil, "/").Open("x"); !errors.Is(err, api.EINVAL) {
		t.Errorf("Open on a nil Kernel: %v", err)
	}
}

func mustStat(t *testing.T, fsys fs.FS, name string) fs.FileInfo {
	t.Helper()
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
