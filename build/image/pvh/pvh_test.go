package pvh

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/build/shim"
)

func loadShim(t *testing.T) *Shim {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed: apt-get install gcc")
	}
	p, err := shim.Build()
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadShim(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func goBinary(t *testing.T, env ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hi\") }\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n\ngo 1.22\n"), 0o644)
	out := filepath.Join(dir, "prog")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"), env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuildGo(t *testing.T) {
	s := loadShim(t)
	prog := goBinary(t)
	img, err := Build(s, prog)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("image is not an ELF: %v", err)
	}
	note := f.Progs[0]
	if note.Type != elf.PT_NOTE || note.Align != 4 {
		t.Fatalf("first program header %v align %d, want PT_NOTE align 4", note.Type, note.Align)
	}
	b := make([]byte, note.Filesz)
	note.ReadAt(b, 0)
	if typ := binary.LittleEndian.Uint32(b[8:]); typ != 18 || string(b[12:15]) != "Xen" {
		t.Fatalf("note type %d name %q, want XEN_ELFNOTE_PHYS32_ENTRY", typ, b[12:15])
	}
	if entry := binary.LittleEndian.Uint32(b[16:]); uint64(entry) != s.Entry32 {
		t.Fatalf("note entry %#x, want %#x", entry, s.Entry32)
	}
	var loads int
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads++
			if p.Off%4096 != p.Vaddr%4096 {
				t.Errorf("segment %#x: offset %#x not congruent", p.Vaddr, p.Off)
			}
		}
	}
	if loads < 3 {
		t.Errorf("%d PT_LOADs, want the shim's and the program's", loads)
	}
	if over := len(img) - len(prog); over > 64<<10 {
		t.Errorf("image is %d bytes larger than the program", over)
	}
}

func TestRefuse(t *testing.T) {
	s := loadShim(t)
	cases := map[string]struct {
		prog []byte
		want string
	}{
		"not ELF":   {[]byte("#!/bin/sh\necho hi\n"), "not an ELF"},
		"empty":     {nil, "not an ELF"},
		"arm64":     {goBinary(t, "GOARCH=arm64"), "not a linux/amd64 ELF"},
		"freebsd":   {goBinary(t, "GOOS=freebsd"), "not a Linux ELF"},
		"pie":       {goBinary(t, "GOFLAGS=-buildmode=pie"), "non-PIE"},
		"collision": {goBinary(t, "GOFLAGS=-ldflags=-T=0x101000"), "collides with the shim"},
	}
	if ls, err := os.ReadFile("/bin/ls"); err == nil {
		cases["dynamic"] = struct {
			prog []byte
			want string
		}{ls, "static"}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Build(s, c.prog)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
