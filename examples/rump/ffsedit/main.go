//go:build rump && cgo

// Command ffsedit edits an FFS image in place with NetBSD's FFS code: it
// makes an image with makefs, mounts it read-write in a rump kernel
// through etfs, appends to a file, creates a directory and a file,
// renames one, removes one, unmounts, and then checks the result twice:
// in the image's bytes on the host, and by mounting the image again
// (read-only) and walking it with io/fs (api/kfs).
//
//	RUMP_PREFIX=/opt/rump go run -tags rump ./examples/rump/ffsedit [-image ffs.img]
//
// With -image it edits that image (which must hold /notes.txt).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/kfs"
	"github.com/anykernel/anykernel/backend/rump"
)

const appended = "appended by NetBSD's FFS in a rump kernel\n"

func main() {
	image := flag.String("image", "", "an FFS image holding /notes.txt (default: make one with makefs)")
	flag.Parse()
	if err := run(*image); err != nil {
		fmt.Fprintln(os.Stderr, "ffsedit:", err)
		os.Exit(1)
	}
}

func run(image string) error {
	if image == "" {
		dir, err := os.MkdirTemp("", "ffsedit-*")
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
	if err := k.Mkdir("/mnt", 0o755); err != nil {
		return err
	}
	const dev = "/dev/img"

	// Edit.
	if err := mount(k, image, dev, 0); err != nil {
		return err
	}
	fmt.Printf("mounted %s read-write on /mnt\n", image)
	f, err := k.Open("/mnt/notes.txt", api.O_WRONLY|api.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte(appended)); err != nil {
		return err
	}
	f.Close()
	fmt.Println("appended a line to /mnt/notes.txt")
	if err := k.Mkdir("/mnt/made-in-rump", 0o755); err != nil {
		return err
	}
	f, err = k.Open("/mnt/made-in-rump/hello", api.O_WRONLY|api.O_CREAT|api.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	f.Write([]byte("hello, image\n"))
	f.Close()
	fmt.Println("created /mnt/made-in-rump/hello")
	if err := k.Rename("/mnt/old-name", "/mnt/new-name"); err != nil {
		return err
	}
	fmt.Println("renamed /mnt/old-name to /mnt/new-name")
	if err := k.Unlink("/mnt/obsolete"); err != nil {
		return err
	}
	fmt.Println("removed /mnt/obsolete")
	if err := unmount(k, dev); err != nil {
		return err
	}
	fmt.Println("unmounted: the kernel wrote everything back to the image")

	// Check on the host: FFS keeps a small file's data in one block.
	raw, err := os.ReadFile(image)
	if err != nil {
		return err
	}
	if !bytes.Contains(raw, []byte(appended)) {
		return errors.New("the appended line is not in the image file")
	}
	fmt.Printf("the host's image file (%d bytes) holds the appended line\n", len(raw))

	// Check in the kernel: mount again, read-only, and walk.
	if err := mount(k, image, dev, rump.MountRdonly); err != nil {
		return err
	}
	fsys := kfs.New(k, "/mnt")
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Printf("  %v %6d %s\n", info.Mode(), info.Size(), p)
		return nil
	})
	if err != nil {
		return err
	}
	notes, err := fs.ReadFile(fsys, "notes.txt")
	if err != nil {
		return err
	}
	if !bytes.HasSuffix(notes, []byte(appended)) {
		return fmt.Errorf("notes.txt after remounting: %q", notes)
	}
	for name, want := range map[string]bool{"new-name": true, "old-name": false, "obsolete": false, "made-in-rump/hello": true} {
		if _, err := fs.Stat(fsys, name); (err == nil) != want {
			return fmt.Errorf("%s after remounting: %v", name, err)
		}
	}
	fmt.Println("mounted again read-only: every edit is there")
	return unmount(k, dev)
}

func mount(k *api.Kernel, image, dev string, flags rump.MountFlags) error {
	if err := rump.Register(dev, image, rump.EtfsBlk, 0, rump.SizeToEnd); err != nil {
		return err
	}
	return rump.MountFFS(k, dev, "/mnt", flags)
}

func unmount(k *api.Kernel, dev string) error {
	if err := rump.Unmount(k, "/mnt", 0); err != nil {
		return err
	}
	return rump.Remove(dev)
}

// makeImage runs makefs on a directory with the files the edits expect.
func makeImage(dir string) (string, error) {
	mk, err := exec.LookPath("makefs")
	if err != nil {
		return "", errors.New("makefs not found: apt-get install makefs, or pass -image")
	}
	src := filepath.Join(dir, "src")
	for name, data := range map[string]string{
		"notes.txt": "made by makefs on the host\n",
		"old-name":  "renamed in the rump kernel\n",
		"obsolete":  "removed in the rump kernel\n",
	} {
		if err := os.MkdirAll(src, 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			return "", err
		}
	}
	img := filepath.Join(dir, "ffs.img")
	cmd := exec.Command(mk, "-t", "ffs", "-s", "4m", "-o", "version=2", img, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("makefs: %v\n%s", err, out)
	}
	fmt.Printf("makefs -t ffs -s 4m %s %s\n", img, src)
	return img, nil
}
