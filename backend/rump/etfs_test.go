//go:build rump && cgo

package rump

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/api"
)

// File-system images made by Debian's makefs (apt-get install makefs),
// registered with etfs and mounted in the rump kernel.

func makefs(t *testing.T, args ...string) {
	t.Helper()
	mk, err := exec.LookPath("makefs")
	if err != nil {
		t.Skip("makefs not installed (apt-get install makefs)")
	}
	if out, err := exec.Command(mk, args...).CombinedOutput(); err != nil {
		t.Fatalf("makefs %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// imageTree writes the directory the images are made from.
func imageTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "data.bin"), bytes.Repeat([]byte("0123456789abcdef"), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readAll(t *testing.T, k *api.Kernel, p string) string {
	t.Helper()
	f, err := k.Open(p, api.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mkdirAll(t *testing.T, k *api.Kernel, p string) {
	t.Helper()
	if err := k.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		t.Fatal(err)
	}
}

func TestFFSImage(t *testing.T) {
	k := kernel(t)
	img := filepath.Join(t.TempDir(), "ffs.img")
	makefs(t, "-t", "ffs", "-s", "8m", "-o", "version=2", img, imageTree(t))

	key := fmt.Sprintf("/dev/ffs%d", k.Getpid())
	if err := Register(key, img, EtfsBlk, 0, SizeToEnd); err != nil {
		t.Fatal(err)
	}
	defer Remove(key)
	mnt := fmt.Sprintf("/tmp/ffs%d", k.Getpid())
	mkdirAll(t, k, mnt)
	if err := MountFFS(k, key, mnt, 0); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, k, mnt+"/hello.txt"); got != "hello from the host\n" {
		t.Errorf("hello.txt: %q", got)
	}
	if got := readAll(t, k, mnt+"/sub/data.bin"); got != strings.Repeat("0123456789abcdef", 1024) {
		t.Errorf("sub/data.bin: %d bytes differ", len(got))
	}
	ents, err := k.ReadDir(mnt)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "hello.txt") {
		t.Errorf("entries: %v", names)
	}

	// Write through the rump kernel's FFS.
	msg := "written inside NetBSD's FFS " + strings.Repeat("!", 40)
	f, err := k.Open(mnt+"/new.txt", api.O_WRONLY|api.O_CREAT|api.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := k.Unlink(mnt + "/hello.txt"); err != nil {
		t.Fatal(err)
	}
	if err := Unmount(k, mnt, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(mnt+"/new.txt", api.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after unmount the file is still there: %v", err)
	}

	// The image on the host holds the write...
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(msg)) {
		t.Error("the host image does not hold what was written")
	}
	// ...and mounts again, read-only now, with the changes.
	if err := MountFFS(k, key, mnt, MountRdonly); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, k, mnt+"/new.txt"); got != msg {
		t.Errorf("new.txt after remount: %q", got)
	}
	if _, err := k.Open(mnt+"/hello.txt", api.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the unlinked file came back: %v", err)
	}
	if _, err := k.Open(mnt+"/x", api.O_WRONLY|api.O_CREAT, 0o644); !errors.Is(err, api.EROFS) {
		t.Errorf("create on a read-only mount: %v", err)
	}
	if err := Unmount(k, mnt, 0); err != nil {
		t.Fatal(err)
	}
}

func TestCD9660Image(t *testing.T) {
	k := kernel(t)
	img := filepath.Join(t.TempDir(), "img.iso")
	makefs(t, "-t", "cd9660", "-o", "rockridge", img, imageTree(t))

	key := fmt.Sprintf("/dev/cd%d", k.Getpid())
	if err := Register(key, img, EtfsBlk, 0, SizeToEnd); err != nil {
		t.Fatal(err)
	}
	defer Remove(key)
	mnt := fmt.Sprintf("/tmp/iso%d", k.Getpid())
	mkdirAll(t, k, mnt)
	if err := MountCD9660(k, key, mnt, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, k, mnt+"/hello.txt"); got != "hello from the host\n" {
		t.Errorf("hello.txt: %q", got)
	}
	if got := readAll(t, k, mnt+"/sub/data.bin"); len(got) != 16384 {
		t.Errorf("sub/data.bin: %d bytes", len(got))
	}
	var st api.Stat
	if err := k.Stat(mnt+"/sub/data.bin", &st); err != nil || st.Mode&0o777 != 0o600 {
		t.Errorf("Rock Ridge mode: %v %v", st.Mode, err)
	}
	if _, err := k.Open(mnt+"/x", api.O_WRONLY|api.O_CREAT, 0o644); !errors.Is(err, api.EROFS) {
		t.Errorf("create on ISO 9660: %v", err)
	}
	if err := Unmount(k, mnt, 0); err != nil {
		t.Fatal(err)
	}
	// Mount again with Rock Ridge ignored: plain ISO 9660 names.
	if err := MountCD9660(k, key, mnt, 0, ISONoRRIP); err != nil {
		t.Fatal(err)
	}
	if err := k.Stat(mnt+"/hello.txt", &st); err != nil {
		t.Errorf("ISO name without Rock Ridge: %v", err)
	}
	if err := Unmount(k, mnt, 0); err != nil {
		t.Fatal(err)
	}
}

func TestEtfsRegularFileAndErrors(t *testing.T) {
	k := kernel(t)
	host := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(host, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("/blob%d", k.Getpid())
	if err := Register(key, host, EtfsReg, 2, 5); err != nil {
		t.Fatal(err)
	}
	// The window starts at the offset; rump bounds only block devices
	// by size, a regular file reads to the host file's end.
	if got := readAll(t, k, key); !strings.HasPrefix(got, "23456") {
		t.Errorf("etfs window: %q", got)
	}
	if err := Register(key, host, EtfsReg, 0, SizeToEnd); !errors.Is(err, api.EEXIST) {
		t.Errorf("registering a key twice: %v", err)
	}
	if err := Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := Remove(key); !errors.Is(err, api.ENOENT) {
		t.Errorf("removing a key twice: %v", err)
	}
	if err := Register("/x", host, EtfsType(42), 0, SizeToEnd); !errors.Is(err, api.EINVAL) {
		t.Errorf("bad type: %v", err)
	}
	if err := Register("/missing", "/nonexistent/host/file", EtfsReg, 0, SizeToEnd); err == nil {
		t.Error("registering a missing host file: no error")
	}
}

func TestKernfsAndPtyfs(t *testing.T) {
	k := kernel(t)
	mnt := fmt.Sprintf("/tmp/kern%d", k.Getpid())
	mkdirAll(t, k, mnt)
	if err := MountKernfs(k, mnt, 0); err != nil {
		t.Fatal(err)
	}
	v := readAll(t, k, mnt+"/version")
	if !strings.Contains(v, "NetBSD") {
		t.Errorf("kernfs version: %q", v)
	}
	if err := Unmount(k, mnt, 0); err != nil {
		t.Fatal(err)
	}
	pts := fmt.Sprintf("/tmp/pts%d", k.Getpid())
	mkdirAll(t, k, pts)
	if err := MountPtyfs(k, pts, 0, PtyfsArgs{Mode: 0o620}); err != nil {
		t.Fatal(err)
	}
	if err := Unmount(k, pts, 0); err != nil {
		t.Fatal(err)
	}
	if err := MountTmpfs(k, mnt, MountFlags(1<<30), TmpfsArgs{}); !errors.Is(err, api.EINVAL) {
		t.Errorf("unknown mount flags: %v", err)
	}
	if err := MountTmpfs(k, mnt, 0, TmpfsArgs{SizeMax: 1 << 20, RootMode: 0o700}); err != nil {
		t.Fatal(err)
	}
	var st api.Stat
	if err := k.Stat(mnt, &st); err != nil || st.Mode&0o777 != 0o700 {
		t.Errorf("tmpfs root mode: %v %v", st.Mode, err)
	}
	if err := Unmount(k, mnt, 0); err != nil {
		t.Fatal(err)
	}
	if err := Unmount(k, mnt, 0); err == nil {
		t.Error("unmounting what is not mounted: no error")
	}
}
