package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anykernel/anykernel/build/image/pvh"
	"github.com/anykernel/anykernel/build/xenrun/runner"
	"github.com/anykernel/anykernel/test/conformance"
)

// Image columns: the suite runs inside a unikernel image (the guest in
// test/matrix/guest, built with -tags xen) against the library OS, booted
// under QEMU's microvm machine (xen-qemu) or as a Xen PVH domU on
// Xen-under-QEMU (xen). The guest prints one line per case on its console.

const guestPkg = "github.com/anykernel/anykernel/test/matrix/guest"

// imageBackend is one way of booting the guest image.
type imageBackend struct {
	name    string
	missing func() error
	boot    func(context.Context, runner.Options) (*runner.Result, error)
	timeout time.Duration
}

var imageBackends = []*imageBackend{
	// A whole run takes ~5 s under QEMU and ~20 s on Xen-under-QEMU on
	// this 2-core machine; the limits leave room for a loaded one.
	{"xen-qemu", func() error { return runner.Missing(runner.QEMUPackages) }, runner.QEMU, 3 * time.Minute},
	{"xen", runner.XenMissing, runner.Xen, 4 * time.Minute},
}

// guestMem is the guest's memory: the suite's binary and its files.
const guestMem = 128

// guestImage builds the image once per matrix run.
var guestImage struct {
	once sync.Once
	dir  string
	path string
	took time.Duration
	err  error
}

func buildGuest() (string, error) {
	g := &guestImage
	g.once.Do(func() {
		start := time.Now()
		if g.dir, g.err = os.MkdirTemp("", "anykernel-matrix-guest-"); g.err != nil {
			return
		}
		g.path = filepath.Join(g.dir, "guest.elf")
		g.err = pvh.BuildPackage("", guestPkg, g.path, "-tags", "xen")
		g.took = time.Since(start)
	})
	return g.path, g.err
}

func removeGuest() {
	if guestImage.dir != "" {
		os.RemoveAll(guestImage.dir)
	}
}

// guestResult is what a guest reported.
type guestResult struct {
	cells map[string]cell
	rows  []row
	ended bool // the guest reported MATRIX-END
}

// parseGuest reads the guest's MATRIX lines from its console.
func parseGuest(console string) (*guestResult, error) {
	g := &guestResult{cells: map[string]cell{}}
	s := bufio.NewScanner(strings.NewReader(console))
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := strings.TrimRight(s.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "MATRIX-ERROR "):
			return g, fmt.Errorf("guest: %s", strings.TrimPrefix(line, "MATRIX-ERROR "))
		case strings.HasPrefix(line, "MATRIX-END"):
			g.ended = true
		case strings.HasPrefix(line, "MATRIX\t"):
			f := strings.SplitN(line, "\t", 6)
			if len(f) != 6 {
				return g, fmt.Errorf("guest: malformed line %q", line)
			}
			st, ok := statusOf[f[3]]
			if !ok {
				return g, fmt.Errorf("guest: unknown status in %q", line)
			}
			msg, err := strconv.Unquote(f[5])
			if err != nil {
				msg = f[5]
			}
			key := f[1] + "/" + f[2]
			nc := cell{st, msg}
			if old, ok := g.cells[key]; ok {
				nc = merge(old, nc)
			} else {
				g.rows = append(g.rows, row{f[1], f[2]})
			}
			g.cells[key] = nc
		}
	}
	return g, nil
}

var statusOf = map[string]conformance.Status{}

func init() {
	for _, s := range []conformance.Status{conformance.Pass, conformance.Fail, conformance.Skip, conformance.NoSysStatus} {
		statusOf[s.String()] = s
	}
}

// runImage fills col by booting the guest with ib. An error means the
// column could not run at all (missing packages, build failure); a guest
// that crashed or hung is reported in col.broken.
func runImage(col *column, ib *imageBackend, families string, verbose bool) error {
	if err := ib.missing(); err != nil {
		return err
	}
	img, err := buildGuest()
	if err != nil {
		return fmt.Errorf("building the guest image: %w", err)
	}
	var args []string
	if families != "" {
		args = append(args, "--", "-family", families)
	}
	o := runner.Options{Image: img, Args: args, MemMiB: guestMem, Timeout: ib.timeout, Log: io.Discard}
	retried := ""
	if verbose {
		o.Log = os.Stderr
	}
	r, err := ib.boot(context.Background(), o)
	if r != nil && r.Retried {
		retried = " after one hung boot" // runner.XenBatch booted once more
	} else if r != nil && r.Outcome == runner.Hung {
		// Xen nested in QEMU's emulation has hung at boot, rarely and
		// without a trace (dom0 idle, no guest output): one more boot
		// tells that apart from a guest that really hangs, and the note
		// says it happened.
		fmt.Fprintf(os.Stderr, "matrix: %s: the run hung after %v; booting once more\n", ib.name, r.Wall.Round(time.Second))
		r, err = ib.boot(context.Background(), o)
		if r != nil {
			retried = " after one hung boot"
		}
	}
	if r == nil {
		return err
	}
	g, perr := parseGuest(r.Console)
	col.cells = g.cells
	col.rows = g.rows
	col.note = fmt.Sprintf("%s: image built in %.1fs, guest ran %d rows in %.1fs (%v%s)",
		ib.name, guestImage.took.Seconds(), len(g.rows), r.Wall.Seconds(), r.Outcome, retried)
	switch {
	case perr != nil:
		col.broken = perr
	case err != nil:
		col.broken = err
	case !g.ended:
		col.broken = fmt.Errorf("guest %v (status %d) before reporting every case: %v", r.Outcome, r.Status, tail(r.Console, 5))
	case r.Outcome != runner.Exited:
		col.broken = fmt.Errorf("guest %v", r.Outcome)
	}
	return nil
}

// tail returns the last n lines of s, for error messages.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
