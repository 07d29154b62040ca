//go:build linux

package api_test

import (
	"testing"

	"github.com/anykernel/anykernel/api"
	"golang.org/x/sys/unix"
)

// TestStatfsAgreesWithXSys reads a file system's counts both ways; on
// 32-bit Linux api takes statfs64 with its own layout from the table, and
// a misplaced field or a wrong size argument would show as a difference.
func TestStatfsAgreesWithXSys(t *testing.T) {
	k := host(t)
	dir := t.TempDir()
	var a api.Statfs
	if err := k.Statfs(dir, &a); err != nil {
		t.Fatal(err)
	}
	var x unix.Statfs_t
	if err := unix.Statfs(dir, &x); err != nil {
		t.Fatal(err)
	}
	if a.Type != int64(x.Type) || a.Bsize != int64(x.Bsize) || a.Blocks != uint64(x.Blocks) ||
		a.Files != uint64(x.Files) || a.Namelen != int64(x.Namelen) || a.Frsize != int64(x.Frsize) {
		t.Fatalf("statfs %s: api %+v, x/sys %+v", dir, a, x)
	}
	f, err := k.Open(dir, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b api.Statfs
	if err := f.Statfs(&b); err != nil {
		t.Fatal(err)
	}
	if b.Type != a.Type || b.Blocks != a.Blocks || b.Files != a.Files || b.Namelen != a.Namelen {
		t.Fatalf("fstatfs %+v differs from statfs %+v", b, a)
	}
}
