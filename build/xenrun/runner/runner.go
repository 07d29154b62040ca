// Package runner boots unikernel images (see build/image) and reports
// what the guest printed and the exit status it reported: under QEMU's
// microvm machine, or as a Xen PVH domU on Xen running inside QEMU (a dom0
// kernel and initramfs are assembled from the installed Debian packages).
//
// The guest shim ends every run with a line "anykernel: exit status N" or
// "anykernel: crash status N"; a run is judged by that line, never by how
// the machine ended, since every ending looks alike from outside.
package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Outcome says how a run ended.
type Outcome int

const (
	Exited   Outcome = iota // the guest reported an exit status
	Crashed                 // the guest reported a crash (fault, signal)
	Hung                    // the time limit passed
	NoStatus                // the machine ended without a status line
)

func (o Outcome) String() string {
	return [...]string{"exited", "crashed", "hung", "ended without status"}[o]
}

// Options describe one run.
type Options struct {
	Image   string        // the PVH image
	Args    []string      // guest command line words (shim.*, NAME=VALUE, args)
	MemMiB  int           // guest memory, default 64
	Timeout time.Duration // default 120s
	// Console, when set, receives the guest's console as it arrives.
	Console io.Writer
	// Log, when set, receives everything else (firmware, Xen, dom0).
	Log io.Writer
}

// Result is what a run produced.
type Result struct {
	Outcome Outcome
	Status  int    // the reported status when Outcome is Exited or Crashed
	Console string // the guest's console output
	Wall    time.Duration
	// FirstLine is, on Xen, the time from xl create to the first line of
	// guest console output (0 when there was none).
	FirstLine time.Duration
	// Retried says that the first Xen boot for this guest hung without a
	// byte of output from it, and this is the result of a second boot.
	Retried bool
}

// Err describes a run that did not exit with status 0, or nil.
func (r *Result) Err() error {
	switch r.Outcome {
	case Exited:
		if r.Status == 0 {
			return nil
		}
		return fmt.Errorf("guest exited with status %d", r.Status)
	case Crashed:
		return fmt.Errorf("guest crashed (status %d)", r.Status)
	case Hung:
		return fmt.Errorf("guest hung: no exit within the time limit")
	}
	return errors.New("guest ended without reporting an exit status")
}

// ExitCode maps a result to a process exit status: the guest's own, or
// 124 hung, 125 crashed, 126 ended without status.
func (r *Result) ExitCode() int {
	switch r.Outcome {
	case Exited:
		return r.Status
	case Hung:
		return 124
	case Crashed:
		return 125
	}
	return 126
}

var statusRE = regexp.MustCompile(`anykernel: (exit|crash) status (\d+)`)

// parseStatus finds the last status line in console output.
func parseStatus(console string) (Outcome, int, bool) {
	m := statusRE.FindAllStringSubmatch(console, -1)
	if m == nil {
		return NoStatus, 0, false
	}
	last := m[len(m)-1]
	n, _ := strconv.Atoi(last[2])
	if last[1] == "crash" {
		return Crashed, n, true
	}
	return Exited, n, true
}

// Package names a Debian package a run needs and the file that shows it
// is installed.
type Package struct{ Name, File string }

// Missing returns an error naming the Debian packages that are not
// installed, with the apt-get command that installs them.
func Missing(pkgs []Package) error {
	var miss []string
	for _, p := range pkgs {
		if _, err := os.Stat(p.File); err != nil {
			if _, err := exec.LookPath(p.File); err != nil {
				miss = append(miss, p.Name)
			}
		}
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("missing Debian package(s) %s: apt-get install %s", strings.Join(miss, ", "), strings.Join(miss, " "))
}

// QEMUPackages are what QEMU runs need.
var QEMUPackages = []Package{{"qemu-system-x86", "qemu-system-x86_64"}}

// cmdline joins words for the kernel command line, quoting those with
// spaces (the shim understands double quotes).
func cmdline(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.ContainsAny(w, " \t") {
			b.WriteString(`"` + w + `"`)
		} else {
			b.WriteString(w)
		}
	}
	return b.String()
}

func (o *Options) defaults() {
	if o.MemMiB == 0 {
		o.MemMiB = 64
	}
	if o.Timeout == 0 {
		o.Timeout = 120 * time.Second
	}
}

// QEMUArgs returns the qemu-system-x86_64 arguments for a microvm run.
func QEMUArgs(o Options) []string {
	o.defaults()
	return []string{
		"-M", "microvm,pit=off,pic=off,rtc=on",
		"-accel", "tcg", "-cpu", "max", "-m", strconv.Itoa(o.MemMiB),
		"-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
		"-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
		"-kernel", o.Image, "-append", cmdline(o.Args),
	}
}

// QEMU boots the image under QEMU's microvm machine with a serial console.
func QEMU(ctx context.Context, o Options) (*Result, error) {
	if err := Missing(QEMUPackages); err != nil {
		return nil, err
	}
	o.defaults()
	if _, err := os.Stat(o.Image); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", QEMUArgs(o)...)
	cmd.SysProcAttr = dieWithParent()
	var console bytes.Buffer
	var w io.Writer = &console
	if o.Console != nil {
		w = io.MultiWriter(&console, o.Console)
	}
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	r := &Result{Console: console.String(), Wall: time.Since(start)}
	if ctx.Err() != nil {
		r.Outcome = Hung
		return r, nil
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, fmt.Errorf("qemu: %v: %s", err, stderr.String())
	}
	var ok bool
	r.Outcome, r.Status, ok = parseStatus(r.Console)
	// isa-debug-exit makes QEMU exit with (v<<1)|1; 0 is a reset or a
	// triple fault; anything else is QEMU's own failure.
	code := cmd.ProcessState.ExitCode()
	if code != 0 && code&1 == 0 {
		return r, fmt.Errorf("qemu exited with status %d: %s", code, strings.TrimSpace(stderr.String()))
	}
	if ok && r.Outcome == Exited && code != (r.Status&0x7f)<<1|1 {
		return r, fmt.Errorf("qemu exit code %d does not match the reported status %d", code, r.Status)
	}
	return r, nil
}

func scanLines(r io.Reader, fn func(string)) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		fn(strings.TrimRight(s.Text(), "\r"))
	}
}
