package api_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/anykernel/anykernel/api"
)

// Offsets above 4 GiB with both 32-bit halves nonzero: on a 32-bit target
// a split that drops, swaps or misplaces a word lands the I/O somewhere
// else, which these tests see through the os package's own calls.
const (
	bigOff  int64 = 5<<30 + 4096*3 + 123 // 0x1_4000_307b
	bigPage int64 = 5<<30 + 4096*2       // page-aligned, for mmap
)

// bigFile is an empty file in a fresh directory, opened read-write.
func bigFile(t *testing.T, k *api.Kernel) (*api.Fd, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sparse")
	f, err := k.Open(p, api.O_RDWR|api.O_CREAT|api.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, p
}

func TestPreadPwriteAbove4GiB(t *testing.T) {
	k := host(t)
	f, p := bigFile(t, k)
	if n, err := f.WriteAt([]byte("far out"), bigOff); err != nil || n != 7 {
		t.Fatalf("pwrite64 at %#x: %d, %v", bigOff, n, err)
	}
	var st api.Stat
	if err := f.Stat(&st); err != nil {
		t.Fatal(err)
	}
	if st.Size != bigOff+7 {
		t.Fatalf("size after pwrite64 at %#x is %#x, want %#x", bigOff, st.Size, bigOff+7)
	}
	of, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	got := make([]byte, 7)
	if _, err := of.ReadAt(got, bigOff); err != nil || string(got) != "far out" {
		t.Fatalf("os reads %q, %v at %#x", got, err, bigOff)
	}
	if _, err := of.WriteAt([]byte("written by os"), bigOff+100); err != nil {
		t.Fatal(err)
	}
	got = make([]byte, 13)
	if n, err := f.ReadAt(got, bigOff+100); err != nil || string(got[:n]) != "written by os" {
		t.Fatalf("pread64 at %#x: %q, %v", bigOff+100, got[:n], err)
	}

	// The vectored forms take the offset as two longs, low first.
	a, b := make([]byte, 3), make([]byte, 4)
	if n, err := f.Preadv([][]byte{a, b}, bigOff); err != nil || n != 7 || string(a)+string(b) != "far out" {
		t.Fatalf("preadv at %#x: %d, %v, %q %q", bigOff, n, err, a, b)
	}
	if n, err := f.Pwritev([][]byte{[]byte("ve"), []byte("ctor")}, bigOff+200); err != nil || n != 6 {
		t.Fatalf("pwritev at %#x: %d, %v", bigOff+200, n, err)
	}
	got = make([]byte, 6)
	if _, err := of.ReadAt(got, bigOff+200); err != nil || string(got) != "vector" {
		t.Fatalf("os reads %q, %v where pwritev wrote", got, err)
	}
}

func TestLseekAbove4GiB(t *testing.T) {
	k := host(t)
	f, _ := bigFile(t, k)
	if _, err := f.WriteAt([]byte("here"), bigOff); err != nil {
		t.Fatal(err)
	}
	if off, err := f.Lseek(bigOff, api.SEEK_SET); err != nil || off != bigOff {
		t.Fatalf("lseek to %#x: %#x, %v", bigOff, off, err)
	}
	if off, err := f.Lseek(0, api.SEEK_CUR); err != nil || off != bigOff {
		t.Fatalf("lseek SEEK_CUR: %#x, %v, want %#x", off, err, int64(bigOff))
	}
	got := make([]byte, 4)
	if n, err := f.Read(got); err != nil || string(got[:n]) != "here" {
		t.Fatalf("read after lseek: %q, %v", got[:n], err)
	}
	if off, err := f.Lseek(-4, api.SEEK_END); err != nil || off != bigOff {
		t.Fatalf("lseek -4 from the end: %#x, %v", off, err)
	}
	if _, err := f.Lseek(-1, api.SEEK_SET); !errors.Is(err, api.EINVAL) {
		t.Fatalf("lseek to -1: %v, want EINVAL", err)
	}
}

func TestTruncateFallocateAbove4GiB(t *testing.T) {
	k := host(t)
	f, p := bigFile(t, k)
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if err := f.Truncate(bigOff); err != nil {
		t.Fatalf("ftruncate to %#x: %v", bigOff, err)
	}
	if s := size(); s != bigOff {
		t.Fatalf("size after ftruncate: %#x, want %#x", s, bigOff)
	}
	if err := k.Truncate(p, bigOff+1<<32); err != nil {
		t.Fatalf("truncate to %#x: %v", int64(bigOff+1<<32), err)
	}
	if s := size(); s != bigOff+1<<32 {
		t.Fatalf("size after truncate: %#x, want %#x", s, int64(bigOff+1<<32))
	}
	// fallocate takes two 64-bit values: offset and length.
	err := f.Fallocate(0, 7<<30+5, 1<<32+3)
	if errors.Is(err, api.EOPNOTSUPP) {
		t.Skipf("fallocate: the file system of %s does not allocate: %v", p, err)
	}
	if err != nil {
		t.Fatalf("fallocate: %v", err)
	}
	if s := size(); s != 7<<30+5+1<<32+3 {
		t.Fatalf("size after fallocate: %#x, want %#x", s, int64(7<<30+5+1<<32+3))
	}
}

func TestMmapPageOffsetAbove4GiB(t *testing.T) {
	k := host(t)
	f, p := bigFile(t, k)
	ps := k.PageSize()
	if bigPage%int64(ps) != 0 {
		t.Skipf("page size %d does not divide %#x", ps, bigPage)
	}
	page := bytes.Repeat([]byte("page two "), ps/9+1)[:ps]
	if _, err := f.WriteAt([]byte("page one"), bigPage-int64(ps)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(page, bigPage); err != nil {
		t.Fatal(err)
	}
	m, err := k.Mmap(0, ps, api.PROT_READ, api.MAP_SHARED, f, bigPage)
	if err != nil {
		t.Fatalf("mmap at %#x: %v", bigPage, err)
	}
	defer k.Munmap(m)
	if !bytes.Equal(m, page) {
		t.Fatalf("mmap at %#x of %s shows %q..., want %q...", bigPage, p, m[:16], page[:16])
	}
	// A small nonzero offset too: page 1 of the file.
	if _, err := f.WriteAt([]byte("second page"), int64(ps)); err != nil {
		t.Fatal(err)
	}
	m1, err := k.Mmap(0, ps, api.PROT_READ, api.MAP_SHARED, f, int64(ps))
	if err != nil {
		t.Fatalf("mmap at page 1: %v", err)
	}
	defer k.Munmap(m1)
	if string(m1[:11]) != "second page" {
		t.Fatalf("mmap at page 1 shows %q", m1[:11])
	}
}

func TestOFDLockAbove4GiB(t *testing.T) {
	k := host(t)
	f, p := bigFile(t, k)
	g, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	lk := &api.Flock{Type: api.F_WRLCK, Whence: api.SEEK_SET, Start: bigOff, Len: 1 << 33}
	if err := f.OFDSetLock(lk); err != nil {
		t.Fatalf("F_OFD_SETLK at %#x: %v", bigOff, err)
	}
	q := &api.Flock{Type: api.F_RDLCK, Whence: api.SEEK_SET, Start: bigOff + 1<<32, Len: 1}
	if err := g.OFDGetLock(q); err != nil {
		t.Fatal(err)
	}
	if q.Type != api.F_WRLCK || q.Start != bigOff || q.Len != 1<<33 {
		t.Fatalf("F_OFD_GETLK reports %+v, want the write lock at %#x for %#x", *q, bigOff, int64(1<<33))
	}
	q = &api.Flock{Type: api.F_RDLCK, Whence: api.SEEK_SET, Start: bigOff & 0xffffffff, Len: 1}
	if err := g.OFDGetLock(q); err != nil || q.Type != api.F_UNLCK {
		t.Fatalf("the low word's offset %#x is locked too: %+v, %v", int64(bigOff&0xffffffff), *q, err)
	}
}
