// Command abicheck verifies every ABI table in abi/ two independent ways
// and prints one line per target:
//
//	linux/arm64: 308 syscalls, 1540 constants, 45 structs — C ok, x/sys ok
//
// against C (every syscall number, errno, constant, struct size,
// alignment, member offset and size restated as a _Static_assert and
// compiled for the target by clang --target against Debian's headers)
// and against golang.org/x/sys/unix (the same names, laid out with
// go/types for the target's GOOS/GOARCH). It ends with
//
//	abi: N targets verified, M mismatches
//
// and exits non-zero on any mismatch, including an allow-list entry
// (build/abicheck/compare) that excuses nothing. Targets whose headers
// are not installed are reported as skipped, with the apt-get command.
//
// Usage: go run ./build/abicheck [-v] [-target linux/arm64]
package main

import (
	"flag"
	"fmt"
	"os"
	"path"
	"runtime"
	"sync"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/abi/all"
	"github.com/anykernel/anykernel/build/abicheck/compare"
	"github.com/anykernel/anykernel/build/abigen/gen"
)

func main() {
	verbose := flag.Bool("v", false, "print what each check covered")
	only := flag.String("target", "", "check only this GOOS/GOARCH")
	xsysFlag := flag.String("xsys", "", "golang.org/x/sys source directory (default: from go list -m)")
	flag.Parse()
	n, err := run(*only, *xsysFlag, *verbose)
	if err != nil {
		fmt.Fprintln(os.Stderr, "abicheck:", err)
		os.Exit(2)
	}
	if n > 0 {
		os.Exit(1)
	}
}

type outcome struct {
	c   *gen.CResult
	x   *gen.XResult
	err error
}

func run(only, xsys string, verbose bool) (int, error) {
	root, err := gen.ModuleRoot()
	if err != nil {
		return 0, err
	}
	if xsys == "" {
		if xsys, err = gen.XSysSource(root); err != nil {
			return 0, err
		}
	}
	tables := map[string]*abi.Table{}
	for i, n := range all.Names {
		tables[n] = all.Tables[i]
	}
	var names []string
	mismatches := 0
	for _, n := range gen.Targets() {
		if only != "" && n != only {
			continue
		}
		if tables[n] == nil {
			fmt.Printf("%s: no table in abi/all (run go run ./build/abigen -all)\n", n)
			mismatches++
			continue
		}
		names = append(names, n)
	}
	if len(names) == 0 && mismatches == 0 {
		return 0, fmt.Errorf("unknown target %q", only)
	}
	// x/sys is loaded before the workers start, then only read.
	for _, n := range names {
		if _, err := gen.CheckXSys(n, tables[n], xsys); err != nil {
			return 0, fmt.Errorf("%s: %w", n, err)
		}
	}
	outs := make([]outcome, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := gen.CheckC(n, tables[n])
			if err != nil {
				outs[i].err = err
				return
			}
			x, err := gen.CheckXSys(n, tables[n], xsys)
			outs[i] = outcome{c, x, err}
		}()
	}
	wg.Wait()

	used := map[[2]string]bool{} // allow-list entry (target pattern, item) -> excused something
	verified := 0
	for i, n := range names {
		o := outs[i]
		t := tables[n]
		if o.err != nil {
			fmt.Printf("%s: error: %v\n", n, o.err)
			mismatches++
			continue
		}
		var cs, xs string
		switch {
		case o.c.Unavailable != "":
			cs = "C unavailable (" + o.c.Unavailable + ")"
		case o.c.Skipped != "":
			cs = "C skipped (" + o.c.Skipped + ")"
		case len(o.c.Mismatches) > 0:
			cs = fmt.Sprintf("C %d mismatches", len(o.c.Mismatches))
		default:
			cs = "C ok"
		}
		switch {
		case o.x.Unavailable != "":
			xs = "x/sys unavailable (" + o.x.Unavailable + ")"
		case len(o.x.Diffs) > 0:
			xs = fmt.Sprintf("x/sys %d mismatches", len(o.x.Diffs))
		default:
			xs = "x/sys ok"
		}
		fmt.Printf("%s: %d syscalls, %d constants, %d structs — %s, %s\n", n, len(t.Syscalls), len(t.Consts), len(t.Structs), cs, xs)
		for _, m := range o.c.Mismatches {
			fmt.Println("  C:", m)
		}
		for _, d := range o.x.Diffs {
			fmt.Println("  x/sys:", d)
		}
		if verbose {
			if o.c.Assertions > 0 {
				fmt.Printf("  C: %d assertions compiled\n", o.c.Assertions)
			}
			if o.c.Note != "" {
				fmt.Printf("  C: %s\n", o.c.Note)
			}
			fmt.Printf("  x/sys: %d facts compared, %d allow-list items used\n", o.x.Compared, len(o.x.Used))
		}
		mismatches += len(o.c.Mismatches) + len(o.x.Diffs)
		if len(o.c.Mismatches) == 0 && len(o.x.Diffs) == 0 {
			verified++
		}
		for _, item := range o.x.Used {
			for _, e := range compare.List {
				if ok, _ := path.Match(e.Target, n); ok && e.Item == item {
					used[[2]string{e.Target, e.Item}] = true
				}
			}
		}
	}
	if only == "" {
		for _, e := range compare.List {
			if !used[[2]string{e.Target, e.Item}] {
				fmt.Printf("allow-list: %s %q excuses no difference; remove it\n", e.Target, e.Item)
				mismatches++
			}
		}
	}
	fmt.Printf("abi: %d targets verified, %d mismatches\n", verified, mismatches)
	return mismatches, nil
}
