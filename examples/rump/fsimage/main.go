//go:build rump && cgo

// Command fsimage mounts a file-system image in a rump kernel: it makes
// an FFS image with makefs (Debian's makefs package), registers it with
// etfs as the block device /de-vice, mounts it read-only on /mnt and
// reads its README: buildrump.sh's fstest2.c in Go, with FFS for sysvbfs.
//
//	RUMP_PREFIX=/opt/rump go run -tags rump ./examples/rump/fsimage [-image ffs.img]
//
// With -image it mounts that FFS image instead and reads its /README.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/rump"
)

const readme = "Is that a small file system in your pocket or aren't you happy to see me?\n"

func main() {
	image := flag.String("image", "", "an FFS image with a /README (default: make one with makefs)")
	flag.Parse()
	if err := run(*image); err != nil {
		fmt.Fprintln(os.Stderr, "fsimage:", err)
		os.Exit(1)
	}
}

func run(image string) error {
	if image == "" {
		dir, err := os.MkdirTemp("", "fsimage-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if image, err = makeImage(dir); err != nil {
			return err
		}
	}
	k, err := rump.New(rump.Options{Components: []string{"vfs", "fs.ffs", "dev.disk"}})
	if err != nil {
		return err
	}
	const dev = "/de-vice"
	if err := rump.Register(dev, image, rump.EtfsBlk, 0, rump.SizeToEnd); err != nil {
		return err
	}
	defer rump.Remove(dev)
	var st api.Stat
	if err := k.Stat(dev, &st); err != nil {
		return err
	}
	fmt.Printf("etfs: host file %s is block device %s (mode %v) in the rump kernel\n", image, dev, st.Mode.FileMode())
	if err := k.Mkdir("/mnt", 0o755); err != nil {
		return err
	}
	if err := rump.MountFFS(k, dev, "/mnt", rump.MountRdonly); err != nil {
		return err
	}
	fmt.Printf("mount -t ffs -o rdonly %s /mnt\n", dev)
	f, err := k.Open("/mnt/README", api.O_RDONLY, 0)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	fmt.Printf("read /mnt/README: %q\n", b)
	if _, err := k.Open("/mnt/new", api.O_WRONLY|api.O_CREAT, 0o644); !errors.Is(err, api.EROFS) {
		return fmt.Errorf("creating a file on the read-only mount: %v, want EROFS", err)
	}
	fmt.Println("creating /mnt/new fails: read-only file system, as mounted")
	if err := rump.Unmount(k, "/mnt", 0); err != nil {
		return err
	}
	fmt.Println("umount /mnt")
	return nil
}

// makeImage runs makefs on a directory holding README.
func makeImage(dir string) (string, error) {
	mk, err := exec.LookPath("makefs")
	if err != nil {
		return "", errors.New("makefs not found: apt-get install makefs, or pass -image")
	}
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "README"), []byte(readme), 0o644); err != nil {
		return "", err
	}
	img := filepath.Join(dir, "ffs.img")
	cmd := exec.Command(mk, "-t", "ffs", "-s", "2m", "-o", "version=2", img, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("makefs: %v\n%s", err, out)
	}
	fmt.Printf("makefs -t ffs -s 2m %s %s\n", img, src)
	return img, nil
}
