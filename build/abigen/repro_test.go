package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReproducible regenerates every target into a temporary tree and
// requires the committed files to be byte-identical: the tables must be
// a pure function of the headers, and nobody may edit them by hand.
func TestReproducible(t *testing.T) {
	needCC(t, targets[0])
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	xsysDir, err := xsysSource(root)
	if err != nil {
		t.Skip(err)
	}
	tmp := t.TempDir()
	if err := run(tmp, "", xsysDir, false); err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		dir := filepath.FromSlash(tg.Dir)
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
				t.Errorf("%s/%s: %v (run go run ./build/abigen)", tg.Dir, e.Name(), err)
				continue
			}
			if !bytes.Equal(fresh, committed) {
				t.Errorf("%s/%s differs from a fresh generation (run go run ./build/abigen): %s",
					tg.Dir, e.Name(), firstDiff(committed, fresh))
			}
		}
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
