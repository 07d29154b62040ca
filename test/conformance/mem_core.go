package conformance

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// The memory family: mappings and the calls on ranges of them. Checks look
// at the kernel's own view (mincore, /proc/self/maps and smaps) rather than
// touching memory that might fault.

func init() {
	Register(
		Case{Family: "mem", Call: "mmap", Run: testMmap},
		Case{Family: "mem", Call: "munmap", Run: testMunmap},
		Case{Family: "mem", Call: "mremap", Run: testMremap},
		Case{Family: "mem", Call: "mprotect", Run: testMprotect},
		Case{Family: "mem", Call: "msync", Run: testMsync},
		Case{Family: "mem", Call: "madvise", Run: testMadvise},
		Case{Family: "mem", Call: "mincore", Run: testMincore},
		Case{Family: "mem", Call: "mlock", Run: testMlock},
		Case{Family: "mem", Call: "mlock2", Run: testMlock2},
		Case{Family: "mem", Call: "munlock", Run: testMunlock},
		Case{Family: "mem", Call: "munlockall", Run: testMunlockall},
		Case{Family: "mem", Call: "mlockall", Root: true, Run: testMlockall},
	)
}

// mapAnon maps n pages of private anonymous read-write memory, unmapped at
// the end of the case.
func mapAnon(t T, e *Env, pages int) []byte {
	t.Helper()
	ps := e.K.PageSize()
	b, err := e.K.Mmap(0, pages*ps, api.PROT_READ|api.PROT_WRITE, api.MAP_PRIVATE|api.MAP_ANONYMOUS, nil, 0)
	OK(t, err, "mmap %d anonymous pages", pages)
	Eq(t, len(b), pages*ps, "mapping length")
	t.Cleanup(func() { e.K.Munmap(b) })
	return b
}

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// hostProc reports whether /proc/self describes the kernel under test (its
// descriptors and memory are the host process's own).
func hostProc(e *Env) bool {
	_, ok := e.K.Backend().(api.HostBackend)
	return ok && e.K.ABI().OS == "linux"
}

// vma is the kernel's description of the mapping holding an address, from
// /proc/self/smaps.
type vma struct {
	start, end uintptr
	perms      string   // "rw-p"
	flags      []string // VmFlags: "rd", "wr", "lo", ...
	lockedKB   int
}

func (v vma) hasFlag(f string) bool {
	for _, x := range v.flags {
		if x == f {
			return true
		}
	}
	return false
}

// vmaOf finds the mapping holding addr in /proc/self/smaps.
func vmaOf(t T, addr uintptr) vma {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	OK(t, err, "read /proc/self/smaps")
	var cur *vma
	var found vma
	ok := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if r := strings.SplitN(f[0], "-", 2); len(r) == 2 && len(f) >= 2 && !strings.HasSuffix(f[0], ":") {
			lo, err1 := strconv.ParseUint(r[0], 16, 64)
			hi, err2 := strconv.ParseUint(r[1], 16, 64)
			if err1 == nil && err2 == nil {
				if ok {
					break
				}
				cur = &vma{start: uintptr(lo), end: uintptr(hi), perms: f[1]}
				if cur.start <= addr && addr < cur.end {
					ok = true
				}
				continue
			}
		}
		if !ok || cur == nil {
			continue
		}
		switch f[0] {
		case "VmFlags:":
			cur.flags = f[1:]
		case "Locked:":
			cur.lockedKB, _ = strconv.Atoi(f[1])
		}
		found = *cur
	}
	True(t, ok, "address %#x is mapped in /proc/self/smaps", addr)
	return found
}

// statusKB reads a "Name:   N kB" line of /proc/self/status.
func statusKB(t T, name string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	OK(t, err, "read /proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name+":" {
			n, err := strconv.Atoi(f[1])
			OK(t, err, "parse %s", line)
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", name)
	return 0
}

func testMmap(t T, e *Env) {
	k := e.K
	ps := k.PageSize()
	True(t, ps >= 4096 && ps&(ps-1) == 0, "page size %d is a power of two", ps)

	// MAP_POPULATE faults the pages in at once; without it they come on
	// first touch.
	pop, err := k.Mmap(0, 2*ps, api.PROT_READ|api.PROT_WRITE, api.MAP_PRIVATE|api.MAP_ANONYMOUS|api.MAP_POPULATE, nil, 0)
	OK(t, err, "mmap MAP_POPULATE")
	vec, err := k.Mincore(pop, nil)
	k.Munmap(pop)
	OK(t, err)
	True(t, vec[0]&1 == 1 && vec[1]&1 == 1, "MAP_POPULATE made the pages resident: %v", vec)

	// Anonymous private memory starts zeroed and is writable.
	b := mapAnon(t, e, 2)
	vec, err = k.Mincore(b, vec)
	OK(t, err)
	Eq(t, vec[0]&1, byte(0), "an untouched page is not resident")
	True(t, b[0] == 0 && b[len(b)-1] == 0, "anonymous memory is zeroed")
	b[0], b[len(b)-1] = 1, 2
	Eq(t, b[0]+b[len(b)-1], byte(3))

	// A shared file mapping: writes through it reach the file.
	content := bytes.Repeat([]byte("abcdefgh"), 2*ps/8)
	p := CreateFile(t, e, "m", content)
	f, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	m, err := k.Mmap(0, 2*ps, api.PROT_READ|api.PROT_WRITE, api.MAP_SHARED, f, 0)
	OK(t, err, "mmap shared file")
	defer k.Munmap(m)
	Eq(t, string(m[:8]), "abcdefgh", "file contents through the mapping")
	copy(m[ps+8:], "MAPPED")
	OK(t, k.Msync(m, api.MS_SYNC), "msync")
	got := make([]byte, 6)
	_, err = f.ReadAt(got, int64(ps+8))
	OK(t, err, "pread")
	Eq(t, string(got), "MAPPED", "pread sees the write through the mapping")

	// An offset maps from there; the mapping outlives the descriptor.
	g, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	m2, err := k.Mmap(0, ps, api.PROT_READ, api.MAP_SHARED, g, int64(ps))
	OK(t, err, "mmap at an offset")
	OK(t, g.Close())
	Eq(t, string(m2[8:14]), "MAPPED", "second page of the file")
	OK(t, k.Munmap(m2))

	// Bad input, caught before the call.
	_, err = k.Mmap(0, 0, api.PROT_READ, api.MAP_PRIVATE|api.MAP_ANONYMOUS, nil, 0)
	Want(t, err, api.EINVAL, "zero length")
	_, err = k.Mmap(0, -ps, api.PROT_READ, api.MAP_PRIVATE|api.MAP_ANONYMOUS, nil, 0)
	Want(t, err, api.EINVAL, "negative length")
	_, err = k.Mmap(0, math.MaxInt, api.PROT_READ, api.MAP_PRIVATE|api.MAP_ANONYMOUS, nil, 0)
	Want(t, err, api.EINVAL, "length that overflows")
	_, err = k.Mmap(0, ps, api.PROT_READ, api.MAP_SHARED, f, 100)
	Want(t, err, api.EINVAL, "unaligned offset")
	True(t, strings.Contains(err.Error(), "page size"), "error names the problem: %v", err)
	_, err = k.Mmap(0, ps, api.PROT_READ, api.MAP_SHARED, f, -int64(ps))
	Want(t, err, api.EINVAL, "negative offset")
	_, err = k.Mmap(0, ps, api.PROT_READ, api.MAP_SHARED, nil, 0)
	Want(t, err, api.EINVAL, "no file and no MAP_ANONYMOUS")
	_, err = k.Mmap(0, ps, api.PROT_READ, api.MAP_SHARED, g, 0)
	Want(t, err, api.EBADF, "closed Fd")

	// Errors from the kernel.
	r, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer r.Close()
	_, err = k.Mmap(0, ps, api.PROT_READ|api.PROT_WRITE, api.MAP_SHARED, r, 0)
	Want(t, err, api.EACCES, "writable shared mapping of a read-only descriptor")
	_, err = k.Mmap(0, ps, api.PROT_READ, api.MAP_ANONYMOUS, nil, 0)
	Want(t, err, api.EINVAL, "neither MAP_SHARED nor MAP_PRIVATE")

	// Flag words.
	fl, err := api.ParseMapFlags("private,anonymous")
	OK(t, err)
	Eq(t, fl, api.MAP_PRIVATE|api.MAP_ANONYMOUS)
	_, err = api.ParseMapFlags("shared,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "bogus", "unknown flag word: %v", err)
	pr, err := api.ParseProt("read|write")
	OK(t, err)
	Eq(t, pr, api.PROT_READ|api.PROT_WRITE)
	Eq(t, pr.String(), "PROT_READ|PROT_WRITE")
}

func testMunmap(t T, e *Env) {
	k := e.K
	ps := k.PageSize()
	b, err := k.Mmap(0, 3*ps, api.PROT_READ|api.PROT_WRITE, api.MAP_PRIVATE|api.MAP_ANONYMOUS, nil, 0)
	OK(t, err, "mmap")
	// Unmap the middle page: its neighbours stay, it is gone (mincore on
	// an unmapped range is ENOMEM).
	OK(t, k.Munmap(b[ps:2*ps]), "munmap one page")
	_, err = k.Mincore(b[:ps], nil)
	OK(t, err, "first page still mapped")
	_, err = k.Mincore(b[ps:2*ps], nil)
	Want(t, err, api.ENOMEM, "mincore of the unmapped page")
	OK(t, k.Munmap(b[:ps]))
	OK(t, k.Munmap(b[2*ps:]))
	_, err = k.Mincore(b[2*ps:], nil)
	Want(t, err, api.ENOMEM, "mincore of the last page after munmap")
	// Unmapping a range with nothing mapped is not an error.
	OK(t, k.Munmap(b), "munmap of an already unmapped range")

	Want(t, k.Munmap(nil), api.EINVAL, "empty slice")
	c := mapAnon(t, e, 1)
	Want(t, k.Munmap(c[1:]), api.EINVAL, "unaligned start")
}

func testMremap(t T, e *Env) {
	k := e.K
	ps := k.PageSize()
	b, err := k.Mmap(0, ps, api.PROT_READ|api.PROT_WRITE, api.MAP_PRIVATE|api.MAP_ANONYMOUS, nil, 0)
	OK(t, err, "mmap")
	for i := range b {
		b[i] = byte(i * 7)
	}
	g, err := k.Mremap(b, 64*ps, api.MREMAP_MAYMOVE, 0)
	if err != nil {
		k.Munmap(b)
	}
	OK(t, err, "mremap grow")
	Eq(t, len(g), 64*ps, "new length")
	for i := 0; i < ps; i++ {
		if g[i] != byte(i*7) {
			k.Munmap(g)
			t.Fatalf("byte %d: got %d, want %d after the move", i, g[i], byte(i*7))
		}
	}
	g[len(g)-1] = 9 // the grown part is usable
	s, err := k.Mremap(g, ps, 0, 0)
	if err != nil {
		k.Munmap(g)
	}
	OK(t, err, "mremap shrink in place")
	Eq(t, addrOf(s), addrOf(g), "shrinking does not move")
	Eq(t, s[ps-1], byte((ps-1)*7))
	_, err = k.Mincore(g[ps:2*ps], nil)
	Want(t, err, api.ENOMEM, "the cut-off pages are unmapped")
	defer k.Munmap(s)

	_, err = k.Mremap(s, 0, api.MREMAP_MAYMOVE, 0)
	Want(t, err, api.EINVAL, "zero new length")
	_, err = k.Mremap(s, -1, api.MREMAP_MAYMOVE, 0)
	Want(t, err, api.EINVAL, "negative new length")
	_, err = k.Mremap(nil, ps, api.MREMAP_MAYMOVE, 0)
	Want(t, err, api.EINVAL, "empty old mapping")
	_, err = k.Mremap(s, 2*ps, api.MREMAP_FIXED, 0)
	Want(t, err, api.EINVAL, "MREMAP_FIXED without MREMAP_MAYMOVE")
}

func testMprotect(t T, e *Env) {
	k := e.K
	ps := k.PageSize()
	b := mapAnon(t, e, 2)
	b[ps] = 42
	OK(t, k.Mprotect(b[ps:], api.PROT_READ), "mprotect second page read-only")
	Eq(t, b[ps], byte(42), "still readable")
	if hostProc(e) {
		v := vmaOf(t, addrOf(b[ps:]))
		Eq(t, v.perms, "r--p", "permissions of the protected page")
		Eq(t, v.start, addrOf(b[ps:]), "the protected range is its own mapping")
		w := vmaOf(t, addrOf(b))
		Eq(t, w.perms, "rw-p", "the first page is unchanged")
	}
	OK(t, k.Mprotect(b, api.PROT_NONE), "PROT_NONE")
	if hostProc(e) {
		Eq(t, vmaOf(t, addrOf(b)).perms, "---p", "PROT_NONE")
	}
	OK(t, k.Mprotect(b, api.PROT_READ|api.PROT_WRITE), "back to read-write")
	b[0] = 1

	Want(t, k.Mprotect(b[1:], api.PROT_READ), api.EINVAL, "unaligned start")
	Want(t, k.Mprotect(nil, api.PROT_READ), api.EINVAL, "empty range")
	Want(t, k.Mprotect(b, api.Prot(0x1000000)), api.EINVAL, "unknown protection bit")
}

func testMsync(t T, e *Env) {
	k := e.K
	ps := k.PageSize()
	p := CreateFile(t, e, "s", make([]byte, ps))
	f, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	m, err := k.Mmap(0, ps, api.PROT_READ|api.PROT_WRITE, api.MAP_SHARED, f, 0)
	OK(t, err, "mmap")
	defer k.Munmap(m)
	copy(m[100:], "synced")
	OK(t, k.Msync(m, api.MS_SYNC), "MS_SYNC")
	got := make([]byte, 6)
	_, err = f.ReadAt(got, 100)
	OK(t, err)
	Eq(t, string(got), "synced")
	copy(m[200:], "async")
	OK(t, k.Msync(m, api.MS_ASYNC), "MS_ASYNC")
	OK(t, k.Msync(m[:1], api.MS_SYNC|api.MS_INVALIDATE), "part of a page")

	Want(t, k.Msync(m, api.MS_SYNC|api.MS_ASYNC), api.EINVAL, "MS_SYNC with MS_ASYNC")
	Want(t, k.Msync(m[1:], api.MS_SYNC), api.EINVAL, "unaligned start")
	Want(t, k.Msync(nil, api.MS_SYNC), api.EINVAL, "empty range")
	fl, err := api.ParseMsyncFlags("sync,invalidate")
	OK(t, err)
	Eq(t, fl, api.MS_SYNC|api.MS_INVALIDATE)
	_, err = api.ParseMsyncFlags("sync,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown word: %v", err)
}

func testMadvise(t T, e *Env) {
	k := e.K
	ps := k.PageSize()
	b := mapAnon(t, e, 2)
	for i := range b {
		b[i] = 0xAA
	}
	OK(t, k.Madvise(b, api.MADV_WILLNEED), "MADV_WILLNEED")
	Eq(t, b[5], byte(0xAA), "advice alone keeps the contents")
	OK(t, k.Madvise(b[:ps], api.MADV_DONTNEED), "MADV_DONTNEED")
	True(t, bytes.Count(b[:ps], []byte{0}) == ps, "MADV_DONTNEED zeroed the private anonymous page")
	Eq(t, b[ps], byte(0xAA), "the other page is untouched")

	// MADV_POPULATE_WRITE (Linux 5.14) faults pages in without touching them.
	c := mapAnon(t, e, 2)
	if err := k.Madvise(c, api.MADV_POPULATE_WRITE); !errors.Is(err, api.EINVAL) {
		OK(t, err, "MADV_POPULATE_WRITE")
		vec, err := k.Mincore(c, nil)
		OK(t, err)
		True(t, vec[0]&1 == 1 && vec[1]&1 == 1, "MADV_POPULATE_WRITE made the pages resident: %v", vec)
	}

	Want(t, k.Madvise(b[1:], api.MADV_NORMAL), api.EINVAL, "unaligned start")
	Want(t, k.Madvise(b, api.Advice(999)), api.EINVAL, "unknown advice")
	a, err := api.ParseAdvice("dontneed")
	OK(t, err)
	Eq(t, a, api.MADV_DONTNEED)
	Eq(t, a.String(), "MADV_DONTNEED")
	_, err = api.ParseAdvice("bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown word: %v", err)
}

func testMincore(t T, e *Env) {
	k := e.K
	ps := k.PageSize()
	b := mapAnon(t, e, 4)
	buf := make([]byte, 0, 16)
	vec, err := k.Mincore(b, buf)
	OK(t, err, "mincore")
	Eq(t, len(vec), 4, "one byte per page")
	Eq(t, &vec[0], &buf[:1][0], "the caller's buffer is reused")
	for i, v := range vec {
		Eq(t, v&1, byte(0), "page %d resident before any touch", i)
	}
	b[2*ps] = 1
	vec, err = k.Mincore(b, vec)
	OK(t, err)
	Eq(t, vec[2]&1, byte(1), "touched page is resident")
	Eq(t, vec[0]&1, byte(0), "untouched page is not")
	vec, err = k.Mincore(b[2*ps:2*ps+1], nil)
	OK(t, err, "a one-byte range")
	Eq(t, len(vec), 1)
	Eq(t, vec[0]&1, byte(1))

	_, err = k.Mincore(b[1:], nil)
	Want(t, err, api.EINVAL, "unaligned start")
	_, err = k.Mincore(nil, nil)
	Want(t, err, api.EINVAL, "empty range")
}

// memlockLimit is RLIMIT_MEMLOCK's soft limit on the host.
func memlockLimit() uint64 {
	var r syscall.Rlimit
	if syscall.Getrlimit(8 /* RLIMIT_MEMLOCK */, &r) != nil {
		return math.MaxUint64
	}
	return r.Cur
}

// lockErr checks the outcome of locking one page: success, or, for a
// process without root whose RLIMIT_MEMLOCK is below a page, the error
// that limit calls for. It reports whether the page is locked.
func lockErr(t T, e *Env, err error, what string) bool {
	t.Helper()
	if err == nil {
		return true
	}
	NoSys(t, err)
	if hostProc(e) && !IsRoot() {
		lim := memlockLimit()
		if lim == 0 {
			Want(t, err, api.EPERM, "%s with RLIMIT_MEMLOCK 0", what)
			return false
		}
		if lim < uint64(e.K.PageSize()) {
			Want(t, err, api.ENOMEM, "%s with RLIMIT_MEMLOCK %d", what, lim)
			return false
		}
	}
	t.Fatalf("%s: %v", what, err)
	return false
}

func testMlock(t T, e *Env) {
	k := e.K
	b := mapAnon(t, e, 1)
	vec, err := k.Mincore(b, nil)
	OK(t, err)
	Eq(t, vec[0]&1, byte(0), "not resident before mlock")
	if !lockErr(t, e, k.Mlock(b), "mlock") {
		return
	}
	defer k.Munlock(b)
	vec, err = k.Mincore(b, vec)
	OK(t, err)
	Eq(t, vec[0]&1, byte(1), "mlock populated the page")
	if hostProc(e) {
		v := vmaOf(t, addrOf(b))
		True(t, v.hasFlag("lo"), "VmFlags %v has lo", v.flags)
		Eq(t, v.lockedKB, k.PageSize()/1024, "Locked in smaps")
	}
	Want(t, k.Mlock(nil), api.EINVAL, "empty range")
}

func testMlock2(t T, e *Env) {
	k := e.K
	ps := k.PageSize()
	b := mapAnon(t, e, 2)
	if !lockErr(t, e, k.Mlock2(b[:ps], api.MLOCK_ONFAULT), "mlock2 MLOCK_ONFAULT") {
		return
	}
	defer k.Munlock(b)
	vec, err := k.Mincore(b, nil)
	OK(t, err)
	Eq(t, vec[0]&1, byte(0), "MLOCK_ONFAULT does not populate")
	b[0] = 1
	vec, err = k.Mincore(b, vec)
	OK(t, err)
	Eq(t, vec[0]&1, byte(1), "faulted-in page")
	if hostProc(e) {
		v := vmaOf(t, addrOf(b))
		True(t, v.hasFlag("lo"), "VmFlags %v has lo", v.flags)
		Eq(t, v.end, addrOf(b[ps:]), "only the first page is locked")
		Eq(t, v.lockedKB, ps/1024, "the faulted page is locked")
		True(t, !vmaOf(t, addrOf(b[ps:])).hasFlag("lo"), "second page not locked")
	}
	OK(t, k.Mlock2(b[ps:], 0), "mlock2 without flags locks like mlock")
	vec, err = k.Mincore(b, vec)
	OK(t, err)
	Eq(t, vec[1]&1, byte(1), "mlock2 without flags populates")

	Want(t, k.Mlock2(b, api.MlockFlags(0x80)), api.EINVAL, "unknown flag")
	Want(t, k.Mlock2(nil, 0), api.EINVAL, "empty range")
	fl, err := api.ParseMlockFlags("onfault")
	OK(t, err)
	Eq(t, fl, api.MLOCK_ONFAULT)
}

func testMunlock(t T, e *Env) {
	k := e.K
	b := mapAnon(t, e, 1)
	if !lockErr(t, e, k.Mlock(b), "mlock") {
		return
	}
	OK(t, k.Munlock(b), "munlock")
	if hostProc(e) {
		v := vmaOf(t, addrOf(b))
		True(t, !v.hasFlag("lo"), "VmFlags %v has no lo after munlock", v.flags)
		Eq(t, v.lockedKB, 0, "Locked in smaps")
	}
	OK(t, k.Munlock(b), "munlock of unlocked memory")
	Want(t, k.Munlock(nil), api.EINVAL, "empty range")
}

func testMunlockall(t T, e *Env) {
	k := e.K
	b := mapAnon(t, e, 1)
	if !lockErr(t, e, k.Mlock(b), "mlock") {
		return
	}
	if hostProc(e) {
		True(t, statusKB(t, "VmLck") >= k.PageSize()/1024, "VmLck counts the locked page")
	}
	OK(t, k.Munlockall(), "munlockall")
	if hostProc(e) {
		Eq(t, statusKB(t, "VmLck"), 0, "VmLck after munlockall")
		True(t, !vmaOf(t, addrOf(b)).hasFlag("lo"), "page unlocked")
	}
}

// testMlockall locks what is resident now, without populating the rest:
// MCL_CURRENT alone would fault in and pin every page the Go runtime has
// reserved. Everything is unlocked right after.
func testMlockall(t T, e *Env) {
	k := e.K
	b := mapAnon(t, e, 2)
	b[0] = 1
	err := k.Mlockall(api.MCL_CURRENT | api.MCL_ONFAULT)
	OK(t, err, "mlockall(MCL_CURRENT|MCL_ONFAULT)")
	var v vma
	var lck int
	if hostProc(e) {
		v = vmaOf(t, addrOf(b))
		lck = statusKB(t, "VmLck")
	}
	vec, merr := k.Mincore(b, nil)
	OK(t, k.Munlockall(), "munlockall")
	OK(t, merr)
	Eq(t, vec[1]&1, byte(0), "MCL_ONFAULT did not populate")
	if hostProc(e) {
		True(t, v.hasFlag("lo"), "VmFlags %v has lo under mlockall", v.flags)
		True(t, lck > 0, "VmLck %d kB under mlockall", lck)
		Eq(t, statusKB(t, "VmLck"), 0, "VmLck after munlockall")
	}

	Want(t, k.Mlockall(0), api.EINVAL, "no flags")
	Want(t, k.Mlockall(api.MCL_ONFAULT), api.EINVAL, "MCL_ONFAULT alone")
	fl, err := api.ParseMlockallFlags("current,onfault")
	OK(t, err)
	Eq(t, fl, api.MCL_CURRENT|api.MCL_ONFAULT)
	_, err = api.ParseMlockallFlags("current,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown word: %v", err)
}
