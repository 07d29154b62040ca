//go:build rump && cgo

package kfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/rump"
)

// The same checks on a NetBSD rump kernel: an FFS image made by Debian's
// makefs from the tree, registered with etfs and mounted read-only, and a
// tmpfs filled through api calls.

func rumpKernel(t *testing.T) *api.Kernel {
	t.Helper()
	k, err := rump.New(rump.Options{Components: []string{"vfs", "fs.ffs", "fs.tmpfs", "dev.disk"}})
	if err != nil {
		if strings.Contains(err.Error(), "buildrump.sh") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	return k
}

func TestRumpFFS(t *testing.T) {
	k := rumpKernel(t)
	mk, err := exec.LookPath("makefs")
	if err != nil {
		t.Skip("makefs not installed (apt-get install makefs)")
	}
	src := t.TempDir()
	makeTree(t, src)
	img := filepath.Join(t.TempDir(), "ffs.img")
	if out, err := exec.Command(mk, "-t", "ffs", "-s", "4m", "-o", "version=2", img, src).CombinedOutput(); err != nil {
		t.Fatalf("makefs: %v\n%s", err, out)
	}
	// Names of this process's own: each New is a new rump process, and
	// -count=N runs again in the same kernel.
	dev := fmt.Sprintf("/dev/kfsimg%d", k.Getpid())
	mnt := fmt.Sprintf("/ffs%d", k.Getpid())
	if err := rump.Register(dev, img, rump.EtfsBlk, 0, rump.SizeToEnd); err != nil {
		t.Fatal(err)
	}
	defer rump.Remove(dev)
	if err := k.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rump.MountFFS(k, dev, mnt, rump.MountRdonly); err != nil {
		t.Fatal(err)
	}
	defer rump.Unmount(k, mnt, 0)
	fsys := New(k, mnt)
	var all []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		all = append(all, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fs.WalkDir over the FFS image: %q", all)
	for _, want := range append(files(), "link", "dir/sub/deep") {
		if !slices.Contains(all, want) {
			t.Errorf("WalkDir missed %q", want)
		}
	}
	if err := fstest.TestFS(fsys, append(files(), "link")...); err != nil {
		t.Fatal(err)
	}
	checkFS(t, fsys)
	// Read-only: the kernel refuses writes with EROFS.
	if _, err := k.Open(mnt+"/new", api.O_WRONLY|api.O_CREAT, 0o644); !errors.Is(err, api.EROFS) {
		t.Errorf("create on a read-only mount: %v", err)
	}
}

func TestRumpTmpfs(t *testing.T) {
	k := rumpKernel(t)
	mnt := fmt.Sprintf("/tmpfs%d", k.Getpid())
	if err := k.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rump.MountTmpfs(k, mnt, 0, rump.TmpfsArgs{}); err != nil {
		t.Fatal(err)
	}
	defer rump.Unmount(k, mnt, 0)
	for name, data := range tree {
		p := mnt + "/" + name
		mkdirs(t, k, filepath.Dir(p))
		f, err := k.Open(p, api.O_WRONLY|api.O_CREAT|api.O_TRUNC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if err := k.Symlink("dir/a.txt", mnt+"/link"); err != nil {
		t.Fatal(err)
	}
	fsys := New(k, mnt)
	if err := fstest.TestFS(fsys, append(files(), "link")...); err != nil {
		t.Fatal(err)
	}
	checkFS(t, fsys)
}

func mkdirs(t *testing.T, k *api.Kernel, dir string) {
	t.Helper()
	if dir == "/" || dir == "." {
		return
	}
	var st api.Stat
	if k.Stat(dir, &st) == nil {
		return
	}
	mkdirs(t, k, filepath.Dir(dir))
	if err := k.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
