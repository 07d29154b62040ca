package api

import (
	"strconv"
	"unsafe"
)

// Mappings: mmap, munmap, mremap. A mapping is handed out as a []byte over
// memory the Go runtime does not own: the garbage collector neither scans
// nor frees it, so it lives until Munmap, whatever happens to the slice.

var (
	sysMmap   = newCall("mmap")
	sysMmap2  = newCall("mmap2")
	sysMunmap = newCall("munmap")
	sysMremap = newCall("mremap")
)

// maxMapLen bounds lengths so that rounding up to a page cannot overflow.
const maxMapLen = int(^uint(0)>>1) - 1<<20

// mapLen checks a mapping length.
func mapLen(call string, n int) error {
	switch {
	case n < 0:
		return badArg(call, "negative length "+strconv.Itoa(n))
	case n == 0:
		return badArg(call, "zero length")
	case n > maxMapLen:
		return badArg(call, "length "+strconv.Itoa(n)+" overflows the address space")
	}
	return nil
}

// Mmap maps length bytes and returns the mapping as a slice. With
// MAP_ANONYMOUS fd may be nil and off is ignored; otherwise fd is the file
// to map from offset off, which must be a multiple of PageSize. addr is a hint
// (or, with MAP_FIXED, the exact place): placing a mapping over memory the
// Go runtime owns corrupts the process, which is the caller's risk.
//
// The mapping stays valid after fd is closed and until Munmap; the slice
// must not be used after that.
func (k *Kernel) Mmap(addr uintptr, length int, prot Prot, flags MapFlags, fd *Fd, off int64) ([]byte, error) {
	if err := mapLen("mmap", length); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, badArg("mmap", "negative offset "+strconv.FormatInt(off, 10))
	}
	if off%int64(k.mem.pageSize) != 0 {
		return nil, badArg("mmap", "offset "+strconv.FormatInt(off, 10)+" is not a multiple of the page size "+strconv.Itoa(k.mem.pageSize))
	}
	if k.mem.style == mmapNone {
		return nil, callErr("mmap", ENOSYS)
	}
	pr, err := k.flagsToABI(protFamily, uint64(prot))
	if err != nil {
		return nil, wrapCallErr("mmap", err)
	}
	fl, err := k.flagsToABI(mapFlagsFamily, uint64(flags))
	if err != nil {
		return nil, wrapCallErr("mmap", err)
	}
	c, o := sysMmap, uintptr(off)
	if k.mem.style == mmapPages {
		c, o = sysMmap2, uintptr(off/4096)
	}
	n := ^uintptr(0) // -1: no file
	if fd != nil {
		if fd.k != k {
			return nil, callErr("mmap", EBADF)
		}
		var e Errno
		if n, e = fd.acquire(); e != 0 {
			return nil, callErr("mmap", e)
		}
	} else if flags&MAP_ANONYMOUS == 0 {
		return nil, badArg("mmap", "no file to map and no MAP_ANONYMOUS")
	}
	var r uintptr
	var e Errno
	if k.mem.style == mmapBlock {
		args := [6]uintptr{addr, uintptr(length), uintptr(pr), uintptr(fl), n, o}
		r, e = k.syscall(c, uintptr(unsafe.Pointer(&args)), 0, 0, 0, 0, 0)
	} else {
		r, e = k.syscall(c, addr, uintptr(length), uintptr(pr), uintptr(fl), n, o)
	}
	if fd != nil {
		fd.release()
	}
	if e != 0 {
		return nil, callErr("mmap", e)
	}
	return mapped(r, length), nil
}

// mapped makes a slice over length bytes at address r, which the kernel
// just mapped: it is not Go memory, and no Go pointer hides behind it.
func mapped(r uintptr, length int) []byte {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&r))
	return unsafe.Slice((*byte)(p), length)
}

// Munmap removes the mapping b covers (normally a whole slice Mmap or
// Mremap returned; a page-aligned part of one unmaps just that part). The
// memory is gone afterwards: any use of b, or of a slice sharing it, faults.
// Unmapping memory that did not come from Mmap (a Go slice) corrupts the
// process: that is the caller's risk.
func (k *Kernel) Munmap(b []byte) error {
	return errOnly(k.memCall("munmap", sysMunmap, b, true, 0, 0, 0))
}

// Mremap grows or shrinks the mapping old to newLength bytes and returns it;
// its contents are kept up to the smaller length. With MREMAP_MAYMOVE the
// kernel may move it (old is invalid afterwards); without, it fails with
// ENOMEM when it cannot grow in place. newAddr is used only with
// MREMAP_FIXED.
func (k *Kernel) Mremap(old []byte, newLength int, flags MremapFlags, newAddr uintptr) ([]byte, error) {
	if err := mapLen("mremap", newLength); err != nil {
		return nil, err
	}
	if k.mem.style == mmapNone {
		// NetBSD's mremap takes other arguments; api does not speak it yet.
		return nil, callErr("mremap", ENOSYS)
	}
	fl, err := k.flagsToABI(mremapFlagsFamily, uint64(flags))
	if err != nil {
		return nil, wrapCallErr("mremap", err)
	}
	if flags&MREMAP_FIXED == 0 {
		newAddr = 0
	}
	r, err := k.memCall("mremap", sysMremap, old, true, uintptr(newLength), uintptr(fl), newAddr)
	if err != nil {
		return nil, err
	}
	return mapped(r, newLength), nil
}
