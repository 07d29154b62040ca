// Package shim holds the sources of the unikernel boot shim (C and
// assembly, in src/) and compiles them with gcc on demand.
//
// The shim is a tiny single-CPU kernel: it is entered through the Xen PVH
// note in 32-bit protected mode, switches to long mode, loads nothing
// itself (the image builder places the program's segments in the image)
// and then runs an unmodified static linux/amd64 program in ring 0,
// answering the Linux system calls the Go runtime makes. It depends only
// on the Linux syscall ABI, never on Go internals.
//
// The guest command line (PVH cmdline, e.g. qemu -append or xl's cmdline)
// is split into words (double quotes group). Words starting "shim." are
// the shim's options: shim.stats (memory and counters at exit), shim.debug,
// shim.trace (every system call), shim.prof (program counter samples at
// exit, for go tool addr2line), shim.asyncpreemptoff (set GODEBUG so Go
// never preempts with signals). Leading NAME=VALUE words are the
// environment, up to "--" or the first other word; the rest are argv[1:].
//
// Platform: on Xen (detected by CPUID) output goes to the PV console ring,
// time comes from pvclock and the shared_info wall clock, and exit is
// SCHEDOP_shutdown (poweroff for status 0, crash otherwise), and the shim
// takes event-channel upcalls (HVM_PARAM_CALLBACK_IRQ, vector 0xf3) so that
// package hypercall's Wait can sleep one thread in the shim's own syscall
// SYS_ANYKERNEL_EVTCHN_WAIT (src/shim.h) while the others run; elsewhere
// (QEMU) output goes to COM1, the TSC is calibrated against the LAPIC
// timer, wall time comes from the CMOS RTC, and exit writes the status to
// an isa-debug-exit device at port 0xf4. Either way the last line is
// "anykernel: exit status N" or "anykernel: crash status N", which
// build/xenrun reads.
//
// The compiled shim is cached by the hash of its sources, compiler
// version and flags, so a clean clone needs only gcc and Go.
package shim

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed src/*.c src/*.h src/*.S src/*.ld
var embedded embed.FS

var sources, _ = fs.Sub(embedded, "src")

// CFlags are the flags the shim is compiled with. No SSE in the shim:
// the program's vector registers must survive every syscall and trap.
var CFlags = []string{
	"-O2", "-std=gnu11", "-ffreestanding", "-fno-pic", "-fno-pie",
	"-fno-stack-protector", "-mno-red-zone", "-mgeneral-regs-only",
	"-fno-asynchronous-unwind-tables", "-fcf-protection=none", "-mcmodel=small",
	"-Wall", "-Wextra", "-Wno-unused-parameter",
}

// LDFlags link the shim at 1 MiB with the script in shim.ld.
var LDFlags = []string{
	"-nostdlib", "-static", "-no-pie", "-Wl,-T,shim.ld", "-Wl,--build-id=none",
	"-Wl,--no-warn-rwx-segments",
}

// CacheDir is where compiled shims (and build/xenrun's dom0 files) are
// kept: $ANYKERNEL_CACHE, else the user cache directory (XDG_CACHE_HOME or
// ~/.cache) under "anykernel", else a directory under the system's
// temporary directory.
func CacheDir() (string, error) {
	if d := os.Getenv("ANYKERNEL_CACHE"); d != "" {
		return d, nil
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "anykernel"), nil
	}
	return filepath.Join(os.TempDir(), "anykernel-cache"), nil
}

func sourceNames() ([]string, error) {
	ents, err := fs.ReadDir(sources, ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// Build returns the path of the compiled shim ELF, compiling it with gcc
// unless a cached copy for the same sources, compiler and flags exists.
func Build() (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", errors.New("shim: gcc not found; the boot shim is compiled at build time (apt-get install gcc)")
	}
	ver, err := exec.Command(gcc, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("shim: %s --version: %w", gcc, err)
	}
	names, err := sourceNames()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(ver)
	fmt.Fprintln(h, CFlags, LDFlags)
	for _, n := range names {
		b, _ := fs.ReadFile(sources, n)
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "shim-"+sum+".elf")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("shim: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "shim-build-")
	if err != nil {
		return "", fmt.Errorf("shim: %w", err)
	}
	defer os.RemoveAll(tmp)
	var inputs []string
	for _, n := range names {
		b, _ := fs.ReadFile(sources, n)
		if err := os.WriteFile(filepath.Join(tmp, n), b, 0o644); err != nil {
			return "", fmt.Errorf("shim: %w", err)
		}
		if strings.HasSuffix(n, ".c") || strings.HasSuffix(n, ".S") {
			inputs = append(inputs, n)
		}
	}
	args := append(append(append([]string{}, CFlags...), LDFlags...), "-o", "shim.elf")
	args = append(args, inputs...)
	cmd := exec.Command(gcc, args...)
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("shim: gcc failed: %v\n%s", err, stderr.String())
	}
	if err := os.Rename(filepath.Join(tmp, "shim.elf"), out); err != nil {
		return "", fmt.Errorf("shim: %w", err)
	}
	return out, nil
}
