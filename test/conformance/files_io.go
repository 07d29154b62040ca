package conformance

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Descriptors and their I/O: vectored calls, lseek, dup, fcntl, truncate,
// fallocate and the sync calls.

func init() {
	Register(
		Case{Family: "files", Call: "readv", Run: testReadv},
		Case{Family: "files", Call: "writev", Run: testWritev},
		Case{Family: "files", Call: "preadv", Run: testPreadvPwritev},
		Case{Family: "files", Call: "pwritev", Run: testPreadvPwritev},
		Case{Family: "files", Call: "preadv2", Run: testPreadv2Pwritev2},
		Case{Family: "files", Call: "pwritev2", Run: testPreadv2Pwritev2},
		Case{Family: "files", Call: "lseek", Run: testLseek},
		Case{Family: "files", Call: "dup", Run: testDup},
		Case{Family: "files", Call: "dup2", Run: testDup2},
		Case{Family: "files", Call: "dup3", Run: testDup3},
		Case{Family: "files", Call: "fcntl", Run: testFcntlFlags},
		Case{Family: "files", Call: "fcntl", Run: testFcntlLocks},
		Case{Family: "files", Call: "fcntl", Run: testFcntlOFDLocks},
		Case{Family: "files", Call: "fcntl", Run: testFcntlPipeSize},
		Case{Family: "files", Call: "truncate", Run: testTruncate},
		Case{Family: "files", Call: "ftruncate", Run: testFtruncate},
		Case{Family: "files", Call: "fallocate", Run: testFallocate},
		Case{Family: "files", Call: "fsync", Run: testFsync},
		Case{Family: "files", Call: "fdatasync", Run: testFdatasync},
		Case{Family: "files", Call: "syncfs", Run: testSyncfs},
		Case{Family: "files", Call: "sync", Run: testSync},
	)
}

// fcOpen opens a fresh file holding content for reading and writing.
func fcOpen(t T, e *Env, content string) (*api.Fd, string) {
	t.Helper()
	p := CreateFile(t, e, "io", []byte(content))
	f, err := e.K.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err, "open %s", p)
	t.Cleanup(func() { f.Close() })
	return f, p
}

// fcOffset returns the file offset of f.
func fcOffset(t T, f *api.Fd) int64 {
	t.Helper()
	off, err := f.Seek(0, io.SeekCurrent)
	OK(t, err, "lseek SEEK_CUR")
	return off
}

// fcClosed returns a closed Fd of e's kernel.
func fcClosed(t T, e *Env) *api.Fd {
	t.Helper()
	f, _ := fcOpen(t, e, "")
	OK(t, f.Close())
	return f
}

// fcBufs makes n one-byte buffers.
func fcBufs(n int) [][]byte {
	b := make([][]byte, n)
	for i := range b {
		b[i] = make([]byte, 1)
	}
	return b
}

func testReadv(t T, e *Env) {
	f, _ := fcOpen(t, e, "abcdefghijklmnopqrstuvwxyz")
	a, b, c := make([]byte, 3), make([]byte, 0), make([]byte, 5)
	n, err := f.Readv([][]byte{a, b, c})
	OK(t, err, "readv")
	Eq(t, n, 8)
	Eq(t, string(a)+"|"+string(c), "abc|defgh", "buffers filled in order")
	Eq(t, fcOffset(t, f), int64(8), "offset advanced")

	// More buffers than fit on the stack.
	many := fcBufs(20)
	n, err = f.Readv(many)
	OK(t, err, "readv of 20 buffers")
	Eq(t, n, 18, "the rest of the file")
	var got strings.Builder
	for _, x := range many[:18] {
		got.Write(x)
	}
	Eq(t, got.String(), "ijklmnopqrstuvwxyz")
	n, err = f.Readv([][]byte{a})
	Eq(t, n, 0)
	Want(t, err, io.EOF, "readv at end of file")
	n, err = f.Readv(nil)
	OK(t, err, "readv of no buffers")
	Eq(t, n, 0)

	max := 1024
	if v, ok := e.K.Const("IOV_MAX"); ok {
		max = int(v)
	}
	_, err = f.Readv(fcBufs(max + 1))
	Want(t, err, api.EINVAL, "more than IOV_MAX buffers")
	_, err = f.Seek(0, io.SeekStart)
	OK(t, err)
	n, err = f.Readv(fcBufs(max))
	OK(t, err, "exactly IOV_MAX buffers")
	Eq(t, n, 26, "the whole file")
	_, err = fcClosed(t, e).Readv([][]byte{a})
	Want(t, err, api.EBADF, "closed Fd")
	var nilFd *api.Fd
	_, err = nilFd.Readv([][]byte{a})
	Want(t, err, api.EBADF, "nil Fd")
}

func testWritev(t T, e *Env) {
	f, p := fcOpen(t, e, "")
	n, err := f.Writev([][]byte{[]byte("hello"), nil, []byte(", "), []byte("world")})
	OK(t, err, "writev")
	Eq(t, n, 12)
	var bufs [][]byte
	for i := 0; i < 30; i++ {
		bufs = append(bufs, []byte{'0' + byte(i%10)})
	}
	n, err = f.Writev(bufs)
	OK(t, err, "writev of 30 buffers")
	Eq(t, n, 30)
	Eq(t, fcReadAll(t, e, p), "hello, world"+strings.Repeat("0123456789", 3), "content")

	r, err := e.K.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer r.Close()
	_, err = r.Writev([][]byte{[]byte("x")})
	Want(t, err, api.EBADF, "writev to a read-only Fd")
	_, err = f.Writev(fcBufs(100000))
	Want(t, err, api.EINVAL, "more than IOV_MAX buffers")
	_, err = fcClosed(t, e).Writev([][]byte{[]byte("x")})
	Want(t, err, api.EBADF, "closed Fd")
}

func testPreadvPwritev(t T, e *Env) {
	f, p := fcOpen(t, e, "0123456789")
	n, err := f.Pwritev([][]byte{[]byte("ab"), []byte("cd")}, 3)
	OK(t, err, "pwritev")
	Eq(t, n, 4)
	Eq(t, fcOffset(t, f), int64(0), "pwritev leaves the offset")
	a, b := make([]byte, 2), make([]byte, 3)
	n, err = f.Preadv([][]byte{a, b}, 2)
	OK(t, err, "preadv")
	Eq(t, n, 5)
	Eq(t, string(a)+"|"+string(b), "2a|bcd")
	Eq(t, fcOffset(t, f), int64(0), "preadv leaves the offset")
	n, err = f.Preadv([][]byte{a, b}, 8)
	OK(t, err, "short preadv")
	Eq(t, n, 2, "short preadv")
	n, err = f.Preadv([][]byte{a}, 10)
	Eq(t, n, 0)
	Want(t, err, io.EOF, "preadv at end of file")
	many := fcBufs(12)
	n, err = f.Preadv(many, 0)
	OK(t, err, "preadv of 12 buffers")
	Eq(t, n, 10)
	Eq(t, string(bytes.Join(many[:10], nil)), "012abcd789")
	Eq(t, fcReadAll(t, e, p), "012abcd789")

	_, err = f.Preadv([][]byte{a}, -1)
	Want(t, err, api.EINVAL, "negative offset")
	_, err = f.Pwritev([][]byte{a}, -5)
	Want(t, err, api.EINVAL, "negative offset")
	_, err = fcClosed(t, e).Pwritev([][]byte{a}, 0)
	Want(t, err, api.EBADF, "closed Fd")
}

func testPreadv2Pwritev2(t T, e *Env) {
	f, p := fcOpen(t, e, "0123456789")
	a := make([]byte, 3)
	n, err := f.Preadv2([][]byte{a}, 4, 0)
	OK(t, err, "preadv2 at an offset")
	Eq(t, string(a[:n]), "456")
	Eq(t, fcOffset(t, f), int64(0), "an explicit offset leaves the file offset")
	n, err = f.Preadv2([][]byte{a}, -1, 0)
	OK(t, err, "preadv2 at the current offset")
	Eq(t, string(a[:n]), "012")
	Eq(t, fcOffset(t, f), int64(3), "offset -1 advances the file offset")
	n, err = f.Pwritev2([][]byte{[]byte("xy")}, -1, 0)
	OK(t, err, "pwritev2 at the current offset")
	Eq(t, n, 2)
	Eq(t, fcOffset(t, f), int64(5))
	_, err = f.Pwritev2([][]byte{[]byte("Z")}, 9, 0)
	OK(t, err, "pwritev2 at an offset")
	Eq(t, fcOffset(t, f), int64(5))
	Eq(t, fcReadAll(t, e, p), "012xy5678Z")

	// Flag bits the kernel does not know are refused.
	_, err = f.Preadv2([][]byte{a}, 0, 1<<30)
	Want(t, err, api.EOPNOTSUPP, "unknown RWF flag")
	_, err = f.Preadv2([][]byte{a}, -2, 0)
	Want(t, err, api.EINVAL, "offset below -1")
	_, err = f.Pwritev2([][]byte{a}, -3, 0)
	Want(t, err, api.EINVAL, "offset below -1")
	_, err = fcClosed(t, e).Preadv2([][]byte{a}, 0, 0)
	Want(t, err, api.EBADF, "closed Fd")
}

func testLseek(t T, e *Env) {
	f, _ := fcOpen(t, e, "0123456789")
	var s io.Seeker = f
	off, err := s.Seek(4, io.SeekStart)
	OK(t, err, "SEEK_SET")
	Eq(t, off, int64(4))
	b := make([]byte, 2)
	_, err = f.Read(b)
	OK(t, err)
	Eq(t, string(b), "45", "read at the new offset")
	off, err = f.Seek(-3, io.SeekCurrent)
	OK(t, err, "SEEK_CUR")
	Eq(t, off, int64(3))
	off, err = f.Lseek(-1, api.SEEK_END)
	OK(t, err, "SEEK_END")
	Eq(t, off, int64(9))
	_, err = f.Seek(-20, io.SeekCurrent)
	Want(t, err, api.EINVAL, "seek before the start")
	_, err = f.Lseek(0, api.Whence(77))
	Want(t, err, api.EINVAL, "unknown whence")
	_, err = fcClosed(t, e).Seek(0, io.SeekStart)
	Want(t, err, api.EBADF, "closed Fd")

	// A sparse file: 1 MiB of hole, then data (SEEK_DATA and SEEK_HOLE
	// are Linux's and Solaris's; NetBSD has neither).
	const at = 1 << 20
	OK(t, f.Truncate(0), "ftruncate")
	_, err = f.WriteAt([]byte("data"), at)
	OK(t, err, "pwrite past the end")
	size := int64(at + 4)
	if data, err := f.Lseek(0, api.SEEK_DATA); Has(err) {
		OK(t, err, "SEEK_DATA")
		hole, err := f.Lseek(0, api.SEEK_HOLE)
		OK(t, err, "SEEK_HOLE")
		if hole == size {
			// A file system without holes reports all data.
			Eq(t, data, int64(0), "SEEK_DATA without hole support")
			t.Logf("file system does not report holes")
		} else {
			Eq(t, hole, int64(0), "the hole starts at 0")
			True(t, data > 0 && data <= at, "data at %d, within the page of offset %d", data, at)
			hole, err = f.Lseek(data, api.SEEK_HOLE)
			OK(t, err, "SEEK_HOLE after data")
			Eq(t, hole, size, "the implicit hole at end of file")
		}
		_, err = f.Lseek(size, api.SEEK_DATA)
		Want(t, err, api.ENXIO, "SEEK_DATA at end of file")
	}
	off, err = f.Lseek(0, api.SEEK_END)
	OK(t, err, "SEEK_END of the sparse file")
	Eq(t, off, size, "size of the sparse file")
	w, err := api.ParseWhence("hole")
	OK(t, err)
	Eq(t, w, api.SEEK_HOLE, "ParseWhence")
}

func testDup(t T, e *Env) {
	f, _ := fcOpen(t, e, "abcdef")
	g, err := f.Dup()
	OK(t, err, "dup")
	defer g.Close()
	True(t, g.Num() != f.Num() && g.Num() >= 0, "a new number: %d vs %d", g.Num(), f.Num())
	b := make([]byte, 2)
	_, err = f.Read(b)
	OK(t, err)
	Eq(t, fcOffset(t, g), int64(2), "the duplicate shares the file offset")
	fl, err := g.GetFdFlags()
	OK(t, err)
	Eq(t, fl&api.FD_CLOEXEC, api.FdFlags(0), "dup clears close-on-exec")
	OK(t, f.Close())
	_, err = g.Read(b)
	OK(t, err, "the duplicate outlives the original")
	Eq(t, string(b), "cd")
	_, err = f.Dup()
	Want(t, err, api.EBADF, "dup of a closed Fd")

	h, err := g.DupCloexec()
	OK(t, err, "dup with close-on-exec")
	defer h.Close()
	fl, err = h.GetFdFlags()
	OK(t, err)
	Eq(t, fl, api.FD_CLOEXEC, "DupCloexec sets close-on-exec")
}

func testDup2(t T, e *Env) {
	k := e.K
	a, _ := fcOpen(t, e, "AAAA")
	pb := CreateFile(t, e, "b", []byte("BBBB"))
	b, err := k.Open(pb, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer b.Close()
	num := b.Num()
	OK(t, a.Dup2(b), "dup2")
	Eq(t, b.Num(), num, "to keeps its number")
	buf := make([]byte, 4)
	n, err := b.Read(buf)
	OK(t, err, "read through to")
	Eq(t, string(buf[:n]), "AAAA", "to now refers to a's file")
	Eq(t, fcOffset(t, a), int64(4), "and shares its offset")
	fl, err := b.GetFdFlags()
	OK(t, err)
	Eq(t, fl&api.FD_CLOEXEC, api.FdFlags(0), "dup2 clears close-on-exec")
	OK(t, a.Close())
	_, err = b.Seek(0, io.SeekStart)
	OK(t, err, "to outlives a")
	n, err = b.Read(buf)
	OK(t, err)
	Eq(t, string(buf[:n]), "AAAA")

	OK(t, b.Dup2(b), "dup2 onto itself does nothing")
	Want(t, a.Dup2(b), api.EBADF, "dup2 from a closed Fd")
	Want(t, b.Dup2(a), api.EBADF, "dup2 onto a closed Fd")
	Want(t, b.Dup2(nil), api.EBADF, "dup2 onto nil")
}

func testDup3(t T, e *Env) {
	k := e.K
	a, _ := fcOpen(t, e, "AAAA")
	pb := CreateFile(t, e, "b", []byte("BBBB"))
	b, err := k.Open(pb, api.O_RDONLY, 0)
	OK(t, err)
	defer b.Close()
	OK(t, a.Dup3(b, api.O_CLOEXEC), "dup3 O_CLOEXEC")
	fl, err := b.GetFdFlags()
	OK(t, err)
	Eq(t, fl, api.FD_CLOEXEC, "dup3 sets close-on-exec")
	buf := make([]byte, 4)
	_, err = b.Read(buf)
	OK(t, err)
	Eq(t, string(buf), "AAAA", "to now refers to a's file")
	OK(t, a.Dup3(b, 0), "dup3 without flags")
	fl, err = b.GetFdFlags()
	OK(t, err)
	Eq(t, fl, api.FdFlags(0), "dup3 without O_CLOEXEC clears it")

	Want(t, b.Dup3(b, 0), api.EINVAL, "dup3 onto itself")
	Want(t, a.Dup3(b, api.O_APPEND), api.EINVAL, "flags other than O_CLOEXEC")
	Want(t, a.Dup3(fcClosed(t, e), 0), api.EBADF, "dup3 onto a closed Fd")
}

func testFcntlFlags(t T, e *Env) {
	k := e.K
	f, p := fcOpen(t, e, "x")
	fl, err := f.GetFdFlags()
	OK(t, err, "F_GETFD")
	Eq(t, fl, api.FD_CLOEXEC, "opened with O_CLOEXEC")
	OK(t, f.SetFdFlags(0), "F_SETFD 0")
	fl, err = f.GetFdFlags()
	OK(t, err)
	Eq(t, fl, api.FdFlags(0), "close-on-exec cleared")

	g, err := k.Open(p, api.O_WRONLY|api.O_APPEND|api.O_CLOEXEC, 0)
	OK(t, err)
	defer g.Close()
	st, err := g.GetStatusFlags()
	OK(t, err, "F_GETFL")
	Eq(t, st&(api.O_WRONLY|api.O_RDWR), api.O_WRONLY, "access mode: %v", st)
	Eq(t, st&api.O_APPEND, api.O_APPEND, "O_APPEND: %v", st)
	Eq(t, st&api.O_NONBLOCK, api.OpenFlags(0), "not O_NONBLOCK: %v", st)
	OK(t, g.SetNonblock(true), "set O_NONBLOCK")
	st, err = g.GetStatusFlags()
	OK(t, err)
	Eq(t, st&(api.O_APPEND|api.O_NONBLOCK), api.O_APPEND|api.O_NONBLOCK, "both now: %v", st)
	OK(t, g.SetStatusFlags(st&^api.O_APPEND), "F_SETFL without O_APPEND")
	d, err := g.Dup()
	OK(t, err)
	defer d.Close()
	st, err = d.GetStatusFlags()
	OK(t, err)
	Eq(t, st&(api.O_APPEND|api.O_NONBLOCK), api.O_NONBLOCK, "status flags are shared by duplicates: %v", st)

	h, err := f.DupMin(100, api.FD_CLOEXEC)
	OK(t, err, "F_DUPFD_CLOEXEC")
	defer h.Close()
	True(t, h.Num() >= 100, "number at least 100: %d", h.Num())
	fl, err = h.GetFdFlags()
	OK(t, err)
	Eq(t, fl, api.FD_CLOEXEC)
	h2, err := f.DupMin(50, 0)
	OK(t, err, "F_DUPFD")
	defer h2.Close()
	True(t, h2.Num() >= 50, "number at least 50: %d", h2.Num())
	fl, err = h2.GetFdFlags()
	OK(t, err)
	Eq(t, fl, api.FdFlags(0))
	_, err = f.DupMin(-1, 0)
	Want(t, err, api.EINVAL, "negative minimum")
	_, err = f.DupMin(0, api.FdFlags(0x100))
	Want(t, err, api.EINVAL, "unknown FdFlags")
	_, err = api.ParseFdFlags("cloexec,sticky")
	var perr *api.ParseError
	True(t, errors.As(err, &perr) && perr.Word == "sticky", "bad FdFlags word: %v", err)

	c := fcClosed(t, e)
	_, err = c.GetFdFlags()
	Want(t, err, api.EBADF, "F_GETFD on a closed Fd")
	Want(t, c.SetStatusFlags(0), api.EBADF, "F_SETFL on a closed Fd")
}

// fcLock is a lock of [start, start+n) of the given type.
func fcLock(typ api.LockType, start, n int64) *api.Flock {
	return &api.Flock{Type: typ, Whence: api.SEEK_SET, Start: start, Len: n}
}

func testFcntlLocks(t T, e *Env) {
	k := e.K
	f, p := fcOpen(t, e, strings.Repeat("x", 100))
	OK(t, f.SetLock(fcLock(api.F_WRLCK, 0, 10)), "F_SETLK write lock")
	// The process's own locks never conflict with it.
	lk := fcLock(api.F_WRLCK, 0, 10)
	OK(t, f.GetLock(lk), "F_GETLK")
	Eq(t, lk.Type, api.F_UNLCK, "own lock does not conflict")
	OK(t, f.SetLockWait(fcLock(api.F_RDLCK, 0, 10)), "F_SETLKW converts to a read lock")

	// An OFD lock through another open file description sees the process's
	// record lock as a conflict, held by this process.
	g, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	defer g.Close()
	lk = fcLock(api.F_WRLCK, 5, 1)
	err = g.OFDGetLock(lk)
	NoSys(t, err)
	OK(t, err, "F_OFD_GETLK")
	Eq(t, lk.Type, api.F_RDLCK, "the record lock is reported")
	Eq(t, lk.Start, int64(0))
	Eq(t, lk.Len, int64(10))
	True(t, lk.Pid > 0, "held by a process: pid %d", lk.Pid)
	OK(t, f.SetLock(fcLock(api.F_UNLCK, 0, 0)), "unlock")
	lk = fcLock(api.F_WRLCK, 5, 1)
	OK(t, g.OFDGetLock(lk))
	Eq(t, lk.Type, api.F_UNLCK, "nothing left after F_UNLCK")

	Want(t, f.SetLock(nil), api.EINVAL, "nil *Flock")
	Want(t, f.SetLock(&api.Flock{Type: api.LockType(42)}), api.EINVAL, "bad lock type")
	r, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer r.Close()
	Want(t, r.SetLock(fcLock(api.F_WRLCK, 0, 1)), api.EBADF, "write lock on a read-only Fd")
	Want(t, fcClosed(t, e).SetLock(fcLock(api.F_RDLCK, 0, 1)), api.EBADF, "closed Fd")
	typ, err := api.ParseLockType("wrlck")
	OK(t, err)
	Eq(t, typ, api.F_WRLCK, "ParseLockType")
}

func testFcntlOFDLocks(t T, e *Env) {
	k := e.K
	f, p := fcOpen(t, e, strings.Repeat("x", 100))
	g, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	defer g.Close()
	err = f.OFDSetLock(fcLock(api.F_WRLCK, 0, 10))
	NoSys(t, err)
	OK(t, err, "F_OFD_SETLK")
	// A second open file description conflicts, even in this process.
	Want(t, g.OFDSetLock(fcLock(api.F_WRLCK, 5, 10)), api.EAGAIN, "conflicting OFD lock")
	Want(t, g.OFDSetLock(fcLock(api.F_RDLCK, 9, 1)), api.EAGAIN, "conflicting read lock")
	OK(t, g.OFDSetLock(fcLock(api.F_RDLCK, 10, 5)), "a lock just past the range")
	lk := fcLock(api.F_RDLCK, 3, 1)
	OK(t, g.OFDGetLock(lk), "F_OFD_GETLK")
	Eq(t, lk.Type, api.F_WRLCK, "reports the conflicting lock")
	Eq(t, lk.Start, int64(0))
	Eq(t, lk.Len, int64(10))
	Eq(t, lk.Pid, int32(-1), "OFD locks have no pid")
	// F_GETLK (process locks) sees the OFD lock too.
	lk = fcLock(api.F_WRLCK, 0, 1)
	OK(t, g.GetLock(lk), "F_GETLK")
	Eq(t, lk.Type, api.F_WRLCK, "F_GETLK reports the OFD lock")
	Eq(t, lk.Pid, int32(-1))
	Want(t, g.SetLock(fcLock(api.F_WRLCK, 0, 1)), api.EAGAIN, "a record lock conflicts too")

	// Duplicates share the description's locks.
	d, err := f.Dup()
	OK(t, err)
	defer d.Close()
	OK(t, d.OFDSetLock(fcLock(api.F_WRLCK, 0, 10)), "the duplicate holds the same lock")

	// A waiter gets the lock once the holder lets go.
	done := make(chan error, 1)
	go func() { done <- g.OFDSetLockWait(fcLock(api.F_WRLCK, 0, 10)) }()
	select {
	case err := <-done:
		t.Fatalf("F_OFD_SETLKW returned before the holder let go: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	OK(t, f.OFDSetLock(fcLock(api.F_UNLCK, 0, 0)), "release")
	select {
	case err := <-done:
		OK(t, err, "F_OFD_SETLKW")
	case <-time.After(2 * time.Second):
		t.Fatalf("F_OFD_SETLKW still waiting after the lock was released")
	}
	Want(t, f.OFDSetLock(fcLock(api.F_RDLCK, 0, 1)), api.EAGAIN, "now the other description holds it")
	// Closing the last descriptor of the description releases its locks.
	OK(t, g.Close())
	OK(t, f.OFDSetLock(fcLock(api.F_WRLCK, 0, 10)), "lock free after close")
	Want(t, f.OFDSetLock(nil), api.EINVAL, "nil *Flock")
}

func testFcntlPipeSize(t T, e *Env) {
	r, w, err := e.K.Pipe2(api.O_CLOEXEC)
	OK(t, err, "pipe2")
	defer r.Close()
	defer w.Close()
	n, err := r.PipeSize()
	NoSys(t, err)
	OK(t, err, "F_GETPIPE_SZ")
	True(t, n >= 4096, "pipe size %d", n)
	got, err := w.SetPipeSize(3 * 4096)
	OK(t, err, "F_SETPIPE_SZ")
	True(t, got >= 3*4096, "at least what was asked: %d", got)
	n, err = r.PipeSize()
	OK(t, err)
	Eq(t, n, got, "both ends see the new size")
	_, err = w.SetPipeSize(-1)
	Want(t, err, api.EINVAL, "negative size")
	f, _ := fcOpen(t, e, "")
	_, err = f.PipeSize()
	Want(t, err, api.EBADF, "F_GETPIPE_SZ on a regular file")
}

func testTruncate(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "t", []byte("0123456789"))
	var st api.Stat
	OK(t, k.Truncate(p, 4), "truncate shorter")
	OK(t, k.Stat(p, &st))
	Eq(t, st.Size, int64(4))
	Eq(t, fcReadAll(t, e, p), "0123")
	OK(t, k.Truncate(p, 8), "truncate longer")
	Eq(t, fcReadAll(t, e, p), "0123\x00\x00\x00\x00", "extended with zeros")
	Want(t, k.Truncate(p, -1), api.EINVAL, "negative length")
	dir := e.TempDir(t)
	Want(t, k.Truncate(dir, 0), api.EISDIR, "truncate a directory")
	Want(t, k.Truncate(dir+"/missing", 0), api.ENOENT, "missing file")
	Want(t, k.Truncate("a\x00b", 0), api.EINVAL, "NUL in path")
}

func testFtruncate(t T, e *Env) {
	k := e.K
	f, p := fcOpen(t, e, "0123456789")
	OK(t, f.Truncate(3), "ftruncate")
	var st api.Stat
	OK(t, f.Stat(&st))
	Eq(t, st.Size, int64(3))
	OK(t, f.Truncate(5), "ftruncate longer")
	Eq(t, fcReadAll(t, e, p), "012\x00\x00")
	Want(t, f.Truncate(-1), api.EINVAL, "negative length")
	r, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer r.Close()
	err = r.Truncate(0)
	True(t, errors.Is(err, api.EINVAL) || errors.Is(err, api.EBADF), "ftruncate of a read-only Fd: %v", err)
	Want(t, fcClosed(t, e).Truncate(0), api.EBADF, "closed Fd")
}

func testFallocate(t T, e *Env) {
	f, _ := fcOpen(t, e, "")
	const size = 64 << 10
	err := f.Fallocate(0, 0, size)
	NoSys(t, err)
	if errors.Is(err, api.EOPNOTSUPP) {
		t.Skipf("the file system of the temporary directory does not support fallocate: %v", err)
	}
	OK(t, err, "fallocate")
	var st api.Stat
	OK(t, f.Stat(&st))
	Eq(t, st.Size, int64(size), "the file grew")
	True(t, st.Blocks*512 >= size, "blocks allocated: %d", st.Blocks)
	OK(t, f.Fallocate(api.FALLOC_FL_KEEP_SIZE, size, size), "fallocate KEEP_SIZE")
	OK(t, f.Stat(&st))
	Eq(t, st.Size, int64(size), "KEEP_SIZE keeps the size")

	_, err = f.WriteAt(bytes.Repeat([]byte{'x'}, 3*4096), 0)
	OK(t, err)
	before := st.Blocks
	err = f.Fallocate(api.FALLOC_FL_PUNCH_HOLE|api.FALLOC_FL_KEEP_SIZE, 4096, 4096)
	if errors.Is(err, api.EOPNOTSUPP) {
		t.Logf("no hole punching here: %v", err)
	} else {
		OK(t, err, "punch a hole")
		OK(t, f.Stat(&st))
		Eq(t, st.Size, int64(size), "punching keeps the size")
		True(t, st.Blocks < before, "blocks freed: %d -> %d", before, st.Blocks)
		b := make([]byte, 3*4096)
		_, err = f.ReadAt(b, 0)
		OK(t, err)
		Eq(t, string(b[4096:8192]), string(make([]byte, 4096)), "the hole reads as zeros")
		Eq(t, string(b[:4096]), strings.Repeat("x", 4096), "data before the hole stays")
		Eq(t, string(b[8192:]), strings.Repeat("x", 4096), "data after the hole stays")
	}
	Want(t, f.Fallocate(api.FALLOC_FL_PUNCH_HOLE, 0, 4096), api.EOPNOTSUPP, "PUNCH_HOLE needs KEEP_SIZE")
	Want(t, f.Fallocate(0, -1, 10), api.EINVAL, "negative offset")
	Want(t, f.Fallocate(0, 0, 0), api.EINVAL, "zero length")
	Want(t, f.Fallocate(0, 1<<62, 1<<62), api.EINVAL, "overflowing range")
	r, err := e.K.Open(e.TempDir(t), api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer r.Close()
	Want(t, r.Fallocate(0, 0, 10), api.EBADF, "fallocate on a read-only Fd")
	Want(t, fcClosed(t, e).Fallocate(0, 0, 10), api.EBADF, "closed Fd")
	_, err = api.ParseFallocFlags("punch_hole,keep_size,shrink")
	Want(t, err, api.EINVAL, "unknown FallocFlags word")
}

// fcSyncCase checks one of the per-file sync calls: it succeeds on a file
// and a directory, fails with EINVAL on a pipe and with EBADF once closed.
func fcSyncCase(t T, e *Env, sync func(*api.Fd) error, pipeErr error) {
	f, p := fcOpen(t, e, "")
	_, err := f.Write([]byte("durable"))
	OK(t, err)
	err = sync(f)
	NoSys(t, err)
	OK(t, err, "sync a file")
	Eq(t, fcReadAll(t, e, p), "durable")
	d, err := e.K.Open(e.TempDir(t), api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer d.Close()
	OK(t, sync(d), "sync a directory")
	r, w, err := e.K.Pipe2(api.O_CLOEXEC)
	OK(t, err, "pipe2")
	defer r.Close()
	defer w.Close()
	if pipeErr != nil {
		Want(t, sync(w), pipeErr, "sync a pipe")
	}
	OK(t, f.Close())
	Want(t, sync(f), api.EBADF, "sync a closed Fd")
	var nilFd *api.Fd
	Want(t, sync(nilFd), api.EBADF, "sync a nil Fd")
}

func testFsync(t T, e *Env) {
	fcSyncCase(t, e, (*api.Fd).Sync, api.EINVAL)
}

func testFdatasync(t T, e *Env) {
	fcSyncCase(t, e, (*api.Fd).Datasync, api.EINVAL)
}

func testSyncfs(t T, e *Env) {
	// syncfs of a pipe syncs the pipe file system: nothing to refuse.
	fcSyncCase(t, e, (*api.Fd).Syncfs, nil)
}

func testSync(t T, e *Env) {
	f, p := fcOpen(t, e, "")
	_, err := f.Write([]byte("flushed"))
	OK(t, err)
	start := time.Now()
	OK(t, e.K.Sync(), "sync")
	t.Logf("sync took %v", time.Since(start))
	Eq(t, fcReadAll(t, e, p), "flushed")
}
