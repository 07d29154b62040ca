// Command cat copies files to standard output through anykernel's API on
// the host kernel: open, read, write, and errors that name the file.
//
//	go run ./examples/cat /etc/hostname
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

func main() {
	k, err := native.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cat:", err)
		os.Exit(1)
	}
	stdout, err := k.NewFd(1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cat:", err)
		os.Exit(1)
	}
	stdout.NoGC() // standard output outlives this program's use of it
	status := 0
	for _, name := range os.Args[1:] {
		if err := cat(k, stdout, name); err != nil {
			fmt.Fprintln(os.Stderr, "cat:", err)
			if errors.Is(err, fs.ErrNotExist) {
				status = 2
			} else if status == 0 {
				status = 1
			}
		}
	}
	os.Exit(status)
}

func cat(k *api.Kernel, out io.Writer, name string) error {
	f, err := k.Open(name, api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(out, f)
	return err
}
