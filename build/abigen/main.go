// Command abigen generates the ABI tables in abi/: syscall numbers,
// errnos (with the C library's messages), integer constants and struct
// layouts. Linux tables come from Debian's C headers as the C compiler
// sees them (gcc for linux/amd64, clang --target for the others, read
// from object files so nothing built for the target runs); tables for
// systems without headers on Debian (NetBSD, FreeBSD, OpenBSD, macOS,
// linux/loong64) come from golang.org/x/sys/unix's generated files, laid
// out with go/types.
//
// Usage, from anywhere in the module:
//
//	go run ./build/abigen -all            # every target (the default)
//	go run ./build/abigen -target linux/arm64 [-target ...] [-v]
//
// For each target it writes <Dir>/doc.go, <Dir>/ztable.go and, where
// golang.org/x/sys/unix supports the target, <Dir>/zxsys_test.go, which
// compares the table with x/sys as compiled on that GOOS/GOARCH. With
// every target it also writes abi/all/zall.go. The configuration
// (targets, headers, constant prefixes, structs) is all in
// build/abigen/gen/config*.go; the checks are go run ./build/abicheck.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/anykernel/anykernel/build/abigen/gen"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	root := flag.String("root", "", "module root (default: found from the current directory)")
	var only list
	flag.Var(&only, "target", "generate only this GOOS/GOARCH (repeatable)")
	all := flag.Bool("all", false, "generate every target (the default without -target)")
	xsys := flag.String("xsys", "", "golang.org/x/sys source directory (default: from go list -m)")
	verbose := flag.Bool("v", false, "log constants where units disagree and skipped members")
	flag.Parse()
	if err := run(*root, only, *all, *xsys, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "abigen:", err)
		os.Exit(1)
	}
}

func run(root string, only []string, all bool, xsys string, verbose bool) error {
	var err error
	if root == "" {
		if root, err = gen.ModuleRoot(); err != nil {
			return err
		}
	}
	if xsys == "" {
		if xsys, err = gen.XSysSource(root); err != nil {
			return err
		}
	}
	if all && len(only) > 0 {
		return fmt.Errorf("-all and -target exclude each other")
	}
	return gen.Generate(root, xsys, only, verbose, os.Stderr)
}
