package main

import (
	"strings"
	"testing"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/abi/all"
	"github.com/anykernel/anykernel/build/abicheck/compare"
	"github.com/anykernel/anykernel/build/abigen/gen"
)

// committed returns the committed tables by target name, failing for
// configured targets that have none.
func committed(t *testing.T) map[string]*abi.Table {
	t.Helper()
	m := map[string]*abi.Table{}
	for i, n := range all.Names {
		m[n] = all.Tables[i]
	}
	for _, n := range gen.Targets() {
		if m[n] == nil {
			t.Errorf("%s: no committed table in abi/all (run go run ./build/abigen -all)", n)
		}
	}
	return m
}

func subtest(n string) string { return strings.ReplaceAll(n, "/", "_") }

// TestCHeaders restates every table entry as a C _Static_assert and
// compiles it for the target with clang --target against the headers the
// generator read (gen.CheckC). Targets whose headers are not installed
// skip, naming the Debian packages; targets without headers on Debian
// skip with the reason.
func TestCHeaders(t *testing.T) {
	tables := committed(t)
	for _, n := range gen.Targets() {
		tbl := tables[n]
		if tbl == nil {
			continue
		}
		t.Run(subtest(n), func(t *testing.T) {
			t.Parallel()
			r, err := gen.CheckC(n, tbl)
			if err != nil {
				t.Fatal(err)
			}
			if r.Unavailable != "" {
				t.Skipf("%s: C check unavailable: %s", n, r.Unavailable)
			}
			if r.Skipped != "" {
				t.Skip(r.Skipped)
			}
			for _, m := range r.Mismatches {
				t.Error(m)
			}
			t.Logf("%s: %d assertions compiled", n, r.Assertions)
			if r.Note != "" {
				t.Log(r.Note)
			}
		})
	}
}

// TestXSys compares every table with golang.org/x/sys/unix for its
// GOOS/GOARCH, computed with go/types (gen.CheckXSys), so it runs on any
// host; the zxsys_test.go files make the same comparison compiled, on
// their own GOOS/GOARCH. Allow-list entries that excuse nothing on any
// target fail.
func TestXSys(t *testing.T) {
	root, err := gen.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	xsys, err := gen.XSysSource(root)
	if err != nil {
		t.Skip(err)
	}
	tables := committed(t)
	used := map[[2]string]bool{}
	for _, n := range gen.Targets() {
		tbl := tables[n]
		if tbl == nil {
			continue
		}
		r, err := gen.CheckXSys(n, tbl, xsys)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, d := range r.Diffs {
			t.Error(d)
		}
		for _, item := range r.Used {
			for _, e := range compare.List {
				if e.Item == item && match(e.Target, n) {
					used[[2]string{e.Target, e.Item}] = true
				}
			}
		}
	}
	for _, e := range compare.List {
		if !used[[2]string{e.Target, e.Item}] {
			t.Errorf("allow-list entry %s %q excuses no difference on any target; remove it", e.Target, e.Item)
		}
	}
}

func match(pattern, target string) bool { return matchPath(pattern, target) }
