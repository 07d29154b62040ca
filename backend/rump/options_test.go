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
	libs, err := Libraries([]string{"fs.ffs", "net.netinet"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"librump.so", "librumpvfs.so", "librumpdev.so", "librumpdev_disk.so", "librumpfs_ffs.so",
		"librumpnet.so", "librumpnet_net.so", "librumpnet_netinet.so"}
	if !reflect.DeepEqual(libs, want) {
		t.Errorf("libraries = %v, want %v", libs, want)
	}
	for _, bad := range []string{"bogus", "fs", "fs.a/b"} {
		if _, err := Libraries([]string{bad}); err == nil {
			t.Errorf("component %q: no error", bad)
		}
	}
	if libs, _ := Libraries(nil); len(libs) < 2 || libs[0] != "librump.so" {
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

// TestTable checks that the generated NetBSD table carries what the
// backend and api take from it and the x/sys tables lack (build/abigen
// hand-describes them from NetBSD's headers).
func TestTable(t *testing.T) {
	tb := nb.Table
	if runtime.GOARCH == "amd64" && table != tb {
		t.Errorf("the backend's table is not abi/netbsd/amd64's")
	}
	for _, name := range []string{"SEEK_CUR", "R_OK", "CLOCK_MONOTONIC", "AT_FDCWD", "SIG_SETMASK", "P_PID",
		"WEXITED", "TCSANOW", "PATH_MAX", "TMPFS_ARGS_VERSION", "PTYFS_ARGSVERSION", "ISOFSMNT_NORRIP"} {
		if _, ok := tb.Const(name); !ok {
			t.Errorf("the NetBSD table lacks %s", name)
		}
	}
	if v, _ := tb.Const("WSTOPPED"); v != 2 {
		t.Errorf("WSTOPPED = %#x, want 2 (the wait option, WUNTRACED)", v)
	}
	for _, name := range []string{"kernel_sigset", "iso_args", "tmpfs_args", "ptyfs_args", "ufs_args"} {
		if _, ok := tb.Struct(name); !ok {
			t.Errorf("the NetBSD table lacks struct %s", name)
		}
	}
}

// TestSigModel checks the numbers New passes to rump_boot_setsigmodel
// against rump.h's enum rump_sigmodel (PANIC, IGNORE, _HOST_NOTANYMORE,
// RAISE, RECORD).
func TestSigModel(t *testing.T) {
	for m, want := range map[SigModel]int{SigPanic: 0, SigIgnore: 1, SigRaise: 3, SigRecord: 4} {
		if got := m.rump(); got != want {
			t.Errorf("SigModel %d: rump_sigmodel %d, want %d", m, got, want)
		}
	}
}

// TestPrefix checks where New looks for the kernel: Options.Prefix, else
// RUMP_PREFIX.
func TestPrefix(t *testing.T) {
	t.Setenv("RUMP_PREFIX", "/from/env")
	if got := (&Options{}).prefix(); got != "/from/env" {
		t.Errorf("prefix without Options.Prefix = %q, want RUMP_PREFIX's", got)
	}
	if got := (&Options{Prefix: "/opt/rump"}).prefix(); got != "/opt/rump" {
		t.Errorf("prefix = %q, want Options.Prefix", got)
	}
}
