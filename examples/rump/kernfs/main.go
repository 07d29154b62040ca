//go:build rump && cgo

// Command kernfs boots a rump kernel with the kernfs file system, mounts
// it on /kern and reads /kern/version: buildrump.sh's fstest.c in Go.
//
//	RUMP_PREFIX=/opt/rump go run -tags rump ./examples/rump/kernfs
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/rump"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kernfs:", err)
		os.Exit(1)
	}
}

func run() error {
	k, err := rump.New(rump.Options{Components: []string{"vfs", "fs.kernfs"}})
	if err != nil {
		return err
	}
	fmt.Printf("booted a rump kernel: process %d\n", k.Getpid())
	if err := k.Mkdir("/kern", 0o755); err != nil {
		return err
	}
	fmt.Println("mkdir /kern")
	if err := rump.MountKernfs(k, "/kern", 0); err != nil {
		return err
	}
	fmt.Println("mount -t kernfs kernfs /kern")
	f, err := k.Open("/kern/version", api.O_RDONLY, 0)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	fmt.Printf("read /kern/version: kernel version is %s\n", strings.TrimSpace(string(b)))
	if err := rump.Unmount(k, "/kern", 0); err != nil {
		return err
	}
	fmt.Println("umount /kern")
	return nil
}
