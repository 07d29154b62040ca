package api

import (
	"os"
	"unsafe"
)

// The memory family: mappings (mmap.go) and the calls that act on a range
// of them (protection, advice, locking, residency), here.

var (
	sysMprotect   = newCall("mprotect")
	sysMsync      = newCall("msync", "__msync13")
	sysMadvise    = newCall("madvise")
	sysMlock      = newCall("mlock")
	sysMlock2     = newCall("mlock2")
	sysMunlock    = newCall("munlock")
	sysMlockall   = newCall("mlockall")
	sysMunlockall = newCall("munlockall")
	sysMincore    = newCall("mincore")
)

// mmapStyle says how the ABI's mmap takes its file offset.
type mmapStyle uint8

const (
	mmapBytes mmapStyle = iota // mmap(addr, len, prot, flags, fd, off): 64-bit Linux
	mmapPages                  // mmap2: the offset in 4096-byte units (32-bit Linux)
	mmapNone                   // no call api can make with six arguments (NetBSD's padded mmap)
	mmapBlock                  // mmap(&args): one pointer to the six (Linux s390x's old_mmap)
)

// memState is the memory family's per-Kernel state, filled in at New.
type memState struct {
	pageSize int // the kernel's page size; offsets and addresses align to it
	style    mmapStyle
}

func (s *memState) init(k *Kernel) error {
	// The table has no page size (it is a property of the machine, and on
	// some architectures of the kernel's configuration); the backends api
	// serves share the host's.
	s.pageSize = os.Getpagesize()
	switch {
	case k.table.OS != "linux":
		s.style = mmapNone
	case k.table.Arch == "s390x" && k.Has("mmap"):
		s.style = mmapBlock
	case k.table.PtrSize == 4 && k.Has("mmap2"):
		s.style = mmapPages
	case k.Has("mmap"):
		s.style = mmapBytes
	default:
		s.style = mmapNone
	}
	return nil
}

// PageSize returns the page size of k: mapping offsets and the addresses of
// the range calls (Mprotect, Msync, Madvise, Mincore) must be multiples of it.
func (k *Kernel) PageSize() int { return k.mem.pageSize }

// memRange checks a range argument of the range calls and returns its start
// and length. b must be a range of a mapping: its length positive and,
// where aligned asks, its start on a page boundary (all but the locking
// calls, which round the start down themselves, want it).
func (k *Kernel) memRange(call string, b []byte, aligned bool) (unsafe.Pointer, uintptr, error) {
	if len(b) == 0 {
		return nil, 0, badArg(call, "empty range")
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if aligned && uintptr(p)%uintptr(k.mem.pageSize) != 0 {
		return nil, 0, badArg(call, "range does not start on a page boundary")
	}
	return p, uintptr(len(b)), nil
}

// memCall makes call c on the range b (see memRange): c(start, length, a3,
// a4, a5).
func (k *Kernel) memCall(op string, c call, b []byte, aligned bool, a3, a4, a5 uintptr) (uintptr, error) {
	p, n, err := k.memRange(op, b, aligned)
	if err != nil {
		return 0, err
	}
	r, e := k.syscall(c, uintptr(p), n, a3, a4, a5, 0)
	if e != 0 {
		return 0, callErr(op, e)
	}
	return r, nil
}

// Mprotect sets the protection of the pages b spans. b must start on a page
// boundary; it is usually (part of) a slice Mmap returned. Protecting memory
// the Go runtime owns (the heap, a goroutine stack) crashes the process:
// that is the caller's risk.
func (k *Kernel) Mprotect(b []byte, prot Prot) error {
	pr, err := k.flagsToABI(protFamily, uint64(prot))
	if err != nil {
		return wrapCallErr("mprotect", err)
	}
	return errOnly(k.memCall("mprotect", sysMprotect, b, true, uintptr(pr), 0, 0))
}

// Msync writes the modified pages of a shared file mapping back to the file
// (MS_SYNC waits for it, MS_ASYNC schedules it).
func (k *Kernel) Msync(b []byte, flags MsyncFlags) error {
	fl, err := k.flagsToABI(msyncFlagsFamily, uint64(flags))
	if err != nil {
		return wrapCallErr("msync", err)
	}
	return errOnly(k.memCall("msync", sysMsync, b, true, uintptr(fl), 0, 0))
}

// Madvise gives the kernel advice about the use of the pages b spans.
// MADV_DONTNEED on a private anonymous mapping discards its contents: the
// pages read as zeros afterwards.
func (k *Kernel) Madvise(b []byte, advice Advice) error {
	a, err := k.enumToABI(adviceFamily, uint64(advice))
	if err != nil {
		return wrapCallErr("madvise", err)
	}
	return errOnly(k.memCall("madvise", sysMadvise, b, true, uintptr(a), 0, 0))
}

// Mlock locks the pages b spans into memory. Without CAP_IPC_LOCK the
// total a process may lock is bounded by RLIMIT_MEMLOCK (ENOMEM beyond it,
// EPERM when that limit is 0).
func (k *Kernel) Mlock(b []byte) error {
	return errOnly(k.memCall("mlock", sysMlock, b, false, 0, 0, 0))
}

// Mlock2 is Mlock with flags: MLOCK_ONFAULT locks pages as they are
// faulted in instead of populating them all now.
func (k *Kernel) Mlock2(b []byte, flags MlockFlags) error {
	fl, err := k.flagsToABI(mlockFlagsFamily, uint64(flags))
	if err != nil {
		return wrapCallErr("mlock2", err)
	}
	return errOnly(k.memCall("mlock2", sysMlock2, b, false, uintptr(fl), 0, 0))
}

// Munlock unlocks the pages b spans.
func (k *Kernel) Munlock(b []byte) error {
	return errOnly(k.memCall("munlock", sysMunlock, b, false, 0, 0, 0))
}

// Mlockall locks the whole address space. A Go process reserves far more
// memory than it touches: MCL_CURRENT without MCL_ONFAULT populates and pins
// all of it, which can exhaust the machine's memory.
func (k *Kernel) Mlockall(flags MlockallFlags) error {
	if flags == 0 {
		return badArg("mlockall", "no MCL_ flag given")
	}
	fl, err := k.flagsToABI(mlockallFlagsFamily, uint64(flags))
	if err != nil {
		return wrapCallErr("mlockall", err)
	}
	return errOnly(k.intCall("mlockall", sysMlockall, uintptr(fl), 0, 0))
}

// Munlockall unlocks the whole address space and cancels MCL_FUTURE.
func (k *Kernel) Munlockall() error {
	return errOnly(k.intCall("munlockall", sysMunlockall, 0, 0, 0))
}

// Mincore reports which pages of b are resident in memory: one byte per
// page, bit 0 set when the page is resident. The result reuses vec's
// storage when it is large enough (pass nil to allocate). b must start on a
// page boundary.
func (k *Kernel) Mincore(b []byte, vec []byte) ([]byte, error) {
	p, n, err := k.memRange("mincore", b, true)
	if err != nil {
		return nil, err
	}
	pages := (len(b)-1)/k.mem.pageSize + 1
	if cap(vec) < pages {
		vec = make([]byte, pages)
	}
	vec = vec[:pages]
	v := unsafe.Pointer(unsafe.SliceData(vec))
	_, e := k.syscall(sysMincore, uintptr(p), n, uintptr(v), 0, 0, 0)
	if e != 0 {
		return nil, callErr("mincore", e)
	}
	return vec, nil
}

// wrapCallErr wraps an error from flag translation with the call's name.
func wrapCallErr(call string, err error) error {
	return &os.SyscallError{Syscall: call, Err: err}
}
