//go:build rump && cgo

// Command tmpfs mounts a tmpfs in a rump kernel with typed arguments
// (struct tmpfs_args, laid out from the ABI table) and shows that the
// kernel enforces them: ljsyscall's fstest4.lua in Go.
//
//	RUMP_PREFIX=/opt/rump go run -tags rump ./examples/rump/tmpfs
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/rump"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tmpfs:", err)
		os.Exit(1)
	}
}

func run() error {
	k, err := rump.New(rump.Options{Components: []string{"vfs", "fs.tmpfs"}})
	if err != nil {
		return err
	}
	fmt.Println("init")
	if err := k.Mkdir("/data", 0o700); err != nil {
		return err
	}
	fmt.Println("mkdir /data")
	args := rump.TmpfsArgs{NodesMax: 100, SizeMax: 1 << 20, RootMode: 0o700}
	if err := rump.MountTmpfs(k, "/data", 0, args); err != nil {
		return err
	}
	fmt.Printf("mount tmpfs /data: ta_nodes_max=%d ta_size_max=%d ta_root_mode=%#o\n", args.NodesMax, args.SizeMax, args.RootMode)
	if err := k.Chdir("/data"); err != nil {
		return err
	}
	fmt.Println("chdir /data")
	var st api.Stat
	if err := k.Stat(".", &st); err != nil {
		return err
	}
	fmt.Printf("the root of the tmpfs has mode %v (ta_root_mode)\n", st.Mode.FileMode())
	// ta_nodes_max: the file system runs out of nodes.
	n := 0
	for ; n < 200; n++ {
		f, err := k.Open("f"+strconv.Itoa(n), api.O_WRONLY|api.O_CREAT, 0o644)
		if errors.Is(err, api.ENOSPC) {
			break
		}
		if err != nil {
			return err
		}
		f.Close()
	}
	if n == 200 {
		return errors.New("ta_nodes_max=100 did not limit the nodes")
	}
	fmt.Printf("created %d files, then: no space left on device (ta_nodes_max)\n", n)
	for i := 0; i < n; i++ {
		if err := k.Unlink("f" + strconv.Itoa(i)); err != nil {
			return err
		}
	}
	// ta_size_max: the file system runs out of space.
	f, err := k.Open("big", api.O_WRONLY|api.O_CREAT, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	total := 0
	for total < 4<<20 {
		m, err := f.Write(buf)
		total += m
		if errors.Is(err, api.ENOSPC) {
			break
		}
		if err != nil {
			return err
		}
	}
	f.Close()
	if total >= 4<<20 {
		return errors.New("ta_size_max=1MiB did not limit the size")
	}
	fmt.Printf("wrote %d KiB into one file, then: no space left on device (ta_size_max)\n", total>>10)
	if err := k.Chdir("/"); err != nil {
		return err
	}
	if err := rump.Unmount(k, "/data", 0); err != nil {
		return err
	}
	fmt.Println("umount /data")
	return nil
}
