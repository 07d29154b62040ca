package compare

import (
	"strings"
	"testing"

	"github.com/anykernel/anykernel/abi"
)

func TestCompare(t *testing.T) {
	tbl := &abi.Table{
		OS: "linux", Arch: "test",
		Syscalls: []abi.Syscall{{Name: "read", Nr: 0}},
		Consts:   []abi.Const{{Name: "AT_FDCWD", Value: S(-100)}, {Name: "O_LARGEFILE", Value: 0x8000}},
		Structs: []abi.Struct{{Name: "timespec", Size: 16, Align: 8, Fields: []abi.Field{
			{Name: "tv_sec", Offset: 0, Size: 8}, {Name: "tv_nsec", Offset: 8, Size: 8}}}},
	}
	f := &Facts{
		Source:   "other",
		Syscalls: []Value{{Name: "read", Value: 1}},
		Consts:   []Value{{Name: "AT_FDCWD", Value: 0xffffffffffffff9c}, {Name: "O_LARGEFILE", Value: 0}, {Name: "NOPE", Value: 1}},
		Structs: []Struct{{Name: "timespec", GoType: "T", Size: 16, Align: 8, Fields: []Field{
			{Name: "tv_sec", GoName: "Sec", Offset: 0, Size: 8}, {Name: "tv_nsec", GoName: "Nsec", Offset: 8, Size: 4}}}},
	}
	allow := Allow{"const O_LARGEFILE": "test", "const STALE": "test"}
	diffs, unused := Compare(tbl, f, allow)
	want := []string{
		"linux/test syscall read: table has 0, other has 1",
		"linux/test const NOPE: in other facts but not in the table",
		"linux/test field timespec.tv_nsec size: table has 8, other has 4 (T.Nsec)",
	}
	if len(diffs) != len(want) {
		t.Fatalf("got %d diffs, want %d:\n%s", len(diffs), len(want), strings.Join(diffs, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(diffs[i], want[i]) {
			t.Errorf("diff %d = %q, want prefix %q", i, diffs[i], want[i])
		}
	}
	if len(unused) != 1 || unused[0] != "const STALE" {
		t.Errorf("unused = %q, want [const STALE]", unused)
	}
}
