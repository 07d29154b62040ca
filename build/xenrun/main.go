// Command xenrun boots a unikernel image (see build/image) and exits with
// the status the guest reported.
//
//	go run ./build/xenrun [-timeout 120s] [-mem 64] app.elf [args...]   # Xen PVH domU on Xen-under-QEMU
//	go run ./build/xenrun -qemu app.elf [args...]                        # QEMU microvm
//
// Guest arguments go on the guest command line: leading NAME=VALUE words
// become the environment, "--" ends them, "shim.stats" makes the shim
// report memory use at exit (see build/shim for the other shim.* words).
// Build it (go build -o xenrun ./build/xenrun) to get the exact status:
// go run reports every failure as 1. The guest console goes to stdout, everything
// else (firmware, Xen, dom0) to stderr with -v. Exit status: the guest's,
// or 124 when it hung past the time limit, 125 when it crashed, 126 when
// it ended without reporting a status.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/anykernel/anykernel/build/xenrun/runner"
)

func main() {
	qemu := flag.Bool("qemu", false, "boot under QEMU microvm instead of Xen")
	timeout := flag.Duration("timeout", 120*time.Second, "time limit for the whole run")
	mem := flag.Int("mem", 64, "guest memory in MiB")
	verbose := flag.Bool("v", false, "show firmware, hypervisor and dom0 output on stderr")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: xenrun [-qemu] [-timeout d] [-mem MiB] [-v] image [guest args...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	o := runner.Options{
		Image: flag.Arg(0), Args: flag.Args()[1:], MemMiB: *mem, Timeout: *timeout,
		Console: os.Stdout, Log: io.Discard,
	}
	if *verbose {
		o.Log = os.Stderr
	}
	run := runner.Xen
	if *qemu {
		run = runner.QEMU
	}
	r, err := run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "xenrun:", err)
		if r == nil {
			os.Exit(2)
		}
	}
	if r.FirstLine > 0 {
		fmt.Fprintf(os.Stderr, "xenrun: first console line %.2fs after xl create\n", r.FirstLine.Seconds())
	}
	if e := r.Err(); e != nil {
		fmt.Fprintf(os.Stderr, "xenrun: %v (after %.2fs)\n", e, r.Wall.Seconds())
	}
	os.Exit(r.ExitCode())
}
