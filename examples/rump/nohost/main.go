//go:build rump && cgo

// Command nohost is the kernfs demo once more, linking no host API: no
// native backend, no golang.org/x/sys, no os/exec. Every system call it
// makes goes to the rump kernel, which reaches the host only through its
// hypercalls (ljsyscall's fstest3.lua, "to check for accidental
// leakage"); go test ./examples/rump checks the program's imports. Only
// the Go runtime's standard output and exit status remain the host's.
//
//	RUMP_PREFIX=/opt/rump go run -tags rump ./examples/rump/nohost
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
	k, err := rump.New(rump.Options{Components: []string{"vfs", "fs.kernfs", "fs.tmpfs"}})
	check(err)
	fmt.Println("init")
	check(k.Mkdir("/kern", 0o700))
	fmt.Println("mkdir /kern")
	check(rump.MountKernfs(k, "/kern", 0))
	fmt.Println("mount kernfs /kern")
	f, err := k.Open("/kern/version", api.O_RDONLY, 0)
	check(err)
	fmt.Println("open /kern/version")
	b, err := io.ReadAll(f)
	check(err)
	f.Close()
	fmt.Printf("kernel version is %s\n", strings.TrimSpace(string(b)))
	// Somewhere to write, inside the kernel too.
	check(k.Mkdir("/scratch", 0o1777))
	check(rump.MountTmpfs(k, "/scratch", 0, rump.TmpfsArgs{}))
	w, err := k.Open("/scratch/version", api.O_WRONLY|api.O_CREAT|api.O_EXCL, 0o644)
	check(err)
	_, err = w.Write(b)
	check(err)
	w.Close()
	var st api.Stat
	check(k.Stat("/scratch/version", &st))
	fmt.Printf("copied it to a tmpfs in the rump kernel: /scratch/version, %d bytes, mode %v\n", st.Size, st.Mode.FileMode())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "nohost:", err)
		os.Exit(1)
	}
}
