package rump

import (
	"debug/elf"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	nb "github.com/anykernel/anykernel/abi/netbsd/amd64"
)

func TestLibraries(t *testing.T) {
	libs, err := libraries([]string{"fs.ffs", "net.netinet"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"librump.so", "librumpvfs.so", "librumpdev.so", "librumpdev_disk.so", "librumpfs_ffs.so",
		"librumpnet.so", "librumpnet_net.so", "librumpnet_netinet.so"}
	if !reflect.DeepEqual(libs, want) {
		t.Errorf("libraries = %v, want %v", libs, want)
	}
	for _, bad := range []string{"bogus", "fs", "fs.a/b"} {
		if _, err := libraries([]string{bad}); err == nil {
			t.Errorf("component %q: no error", bad)
		}
	}
	if libs, _ := libraries(nil); len(libs) < 2 || libs[0] != "librump.so" {
		t.Errorf("default components: %v", libs)
	}
}

func TestUmbrellaELF(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("no umbrella for " + runtime.GOARCH)
	}
	needed := []string{"/opt/x/lib/librumpfs_tmpfs.so", "librump.so"}
	img, err := umbrellaELF(needed)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "u.so")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		t.Errorf("type %v", f.Type)
	}
	// No section headers: read DT_NEEDED through PT_DYNAMIC, as the
	// dynamic loader does.
	var libs []string
	for _, p := range f.Progs {
		if p.Type != elf.PT_DYNAMIC {
			continue
		}
		var strtab uint64
		var offs []uint64
		for d := img[p.Off : p.Off+p.Filesz]; len(d) >= 16; d = d[16:] {
			tag, val := elf.DynTag(f.ByteOrder.Uint64(d)), f.ByteOrder.Uint64(d[8:])
			switch tag {
			case elf.DT_NEEDED:
				offs = append(offs, val)
			case elf.DT_STRTAB:
				strtab = val
			}
		}
		for _, o := range offs {
			s := img[strtab+o:]
			libs = append(libs, string(s[:strings.IndexByte(string(s), 0)]))
		}
	}
	if !reflect.DeepEqual(libs, needed) {
		t.Errorf("DT_NEEDED = %v; want %v", libs, needed)
	}
	var stack bool
	for _, p := range f.Progs {
		if p.Type == elf.PT_GNU_STACK && p.Flags&elf.PF_X == 0 {
			stack = true
		}
	}
	if !stack {
		t.Error("no PT_GNU_STACK without execute permission")
	}
}

func TestExtras(t *testing.T) {
	tb := withExtras(nb.Table)
	for _, name := range []string{"SEEK_CUR", "R_OK", "CLOCK_MONOTONIC", "AT_FDCWD"} {
		if _, ok := tb.Const(name); !ok {
			t.Errorf("merged table lacks %s", name)
		}
	}
	if v, _ := tb.Const("WSTOPPED"); v != 2 {
		t.Errorf("WSTOPPED = %#x, want 2", v)
	}
	if _, ok := nb.Table.Const("CLOCK_MONOTONIC"); ok && len(nb.Table.Consts) == len(tb.Consts) {
		t.Log("the generated table has every extra now")
	}
	var already []string
	for _, x := range netbsdExtras {
		if _, ok := nb.Table.Const(x.Name); ok {
			already = append(already, x.Name)
		}
	}
	if len(already) > 0 {
		t.Logf("extras the generated table now has (remove them): %s", strings.Join(already, " "))
	}
}
