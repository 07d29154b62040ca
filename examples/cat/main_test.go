package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/anykernel/anykernel/backend/native"
)

func TestCat(t *testing.T) {
	k, err := native.New()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "f")
	want := bytes.Repeat([]byte("anykernel "), 10000) // several reads' worth
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := cat(k, &out, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("cat copied %d bytes, want %d", out.Len(), len(want))
	}
	err = cat(k, &out, p+".missing")
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != p+".missing" {
		t.Fatalf("missing file: %v, want a not-exist error naming the path", err)
	}
}
