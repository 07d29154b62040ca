package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/build/abigen/gen"
)

func matchPath(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// TestReproducible regenerates every target into a temporary tree and
// requires the committed files to be byte-identical: the tables must be a
// pure function of the headers and x/sys, and nobody may edit them by
// hand. Targets whose headers are not installed skip.
func TestReproducible(t *testing.T) {
	root, err := gen.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	xsysDir, err := gen.XSysSource(root)
	if err != nil {
		t.Skip(err)
	}
	var names, skipped []string
	for _, n := range gen.Targets() {
		if m := gen.Missing(n); m != "" {
			skipped = append(skipped, m)
			continue
		}
		names = append(names, n)
	}
	tmp := t.TempDir()
	if err := gen.Generate(tmp, xsysDir, names, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		dir := filepath.FromSlash(gen.Dir(n))
		entries, err := os.ReadDir(filepath.Join(tmp, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			fresh, err := os.ReadFile(filepath.Join(tmp, dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			committed, err := os.ReadFile(filepath.Join(root, dir, e.Name()))
			if err != nil {
				t.Errorf("%s/%s: %v (run go run ./build/abigen -all)", dir, e.Name(), err)
				continue
			}
			if !bytes.Equal(fresh, committed) {
				t.Errorf("%s/%s differs from a fresh generation (run go run ./build/abigen -all): %s",
					dir, e.Name(), firstDiff(committed, fresh))
			}
		}
	}
	if all, err := os.ReadFile(filepath.Join(root, "abi", "all", "zall.go")); err != nil || !bytes.Equal(all, gen.AllSource()) {
		t.Errorf("abi/all/zall.go differs from a fresh generation (run go run ./build/abigen -all)")
	}
	if len(skipped) > 0 {
		t.Skipf("compared %d targets; skipped:\n%s", len(names), strings.Join(skipped, "\n"))
	}
}

// firstDiff describes the first line where a and b differ.
func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: committed %q, generated %q", i+1, x, y)
		}
	}
	return "same lines, different bytes"
}
