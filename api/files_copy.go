package api

import (
	"strconv"
	"unsafe"
)

// Copying inside the kernel: copy_file_range, sendfile, splice, tee and
// vmsplice. Data moves between descriptors without passing through user
// memory (vmsplice moves user memory into a pipe).

var (
	sysCopyFileRange = newCall("copy_file_range")
	sysSendfile      = newCall("sendfile64", "sendfile")
	sysSplice        = newCall("splice")
	sysTee           = newCall("tee")
	sysVmsplice      = newCall("vmsplice")
)

// fmIovec is struct iovec as Go lays it out: holding the base as a pointer
// keeps it valid if the goroutine stack moves before the kernel reads it.
// vmsplice uses it only when the ABI's iovec has exactly this layout.
type fmIovec struct {
	base unsafe.Pointer
	n    uintptr
}

// vmspliceStackIovs is how many buffers vmsplice takes without allocating.
const vmspliceStackIovs = 16

func checkCount(op string, n int) error {
	if n < 0 {
		return badArg(op, "negative length "+strconv.Itoa(n))
	}
	return nil
}

func checkOff(op, what string, off *int64) error {
	if off != nil && *off < 0 {
		return badArg(op, "negative "+what+" "+strconv.FormatInt(*off, 10))
	}
	return nil
}

// CopyFileRange copies up to n bytes from in to out inside the kernel
// (copy_file_range), possibly sharing blocks on file systems that can
// (reflinks). inOff and outOff, when not nil, give the offsets to read and
// write at and are advanced by the count copied, leaving the file offsets
// alone; nil uses and advances the file offset. It returns the count copied,
// 0 at end of input; it may copy less than n.
func (k *Kernel) CopyFileRange(in *Fd, inOff *int64, out *Fd, outOff *int64, n int) (int, error) {
	const op = "copy_file_range"
	if err := checkCount(op, n); err != nil {
		return 0, err
	}
	if err := checkOff(op, "input offset", inOff); err != nil {
		return 0, err
	}
	if err := checkOff(op, "output offset", outOff); err != nil {
		return 0, err
	}
	return k.copyRange(op, sysCopyFileRange, in, inOff, out, outOff, n, 0)
}

// copyRange makes copy_file_range or splice, which take the same arguments:
// c(in, inOff, out, outOff, n, a6). The kernel reads and advances the
// offsets through pointers: it gets copies in this frame, set up before the
// call and copied back after it.
func (k *Kernel) copyRange(op string, c call, in *Fd, inOff *int64, out *Fd, outOff *int64, n int, a6 uintptr) (int, error) {
	var io, oo int64
	var pio, poo unsafe.Pointer
	if inOff != nil {
		io, pio = *inOff, unsafe.Pointer(&io)
	}
	if outOff != nil {
		oo, poo = *outOff, unsafe.Pointer(&oo)
	}
	ni, no, e := k.acquirePair(in, out)
	if e != 0 {
		return 0, callErr(op, e)
	}
	r, e := k.syscall(c, ni, uintptr(pio), no, uintptr(poo), uintptr(n), a6)
	in.release()
	out.release()
	if e != 0 {
		return 0, callErr(op, e)
	}
	if inOff != nil {
		*inOff = io
	}
	if outOff != nil {
		*outOff = oo
	}
	return int(r), nil
}

// Sendfile copies up to n bytes from in to out inside the kernel. in must
// support mmap-like reads (a regular file, a memfd); out may be any file,
// pipe or socket (Linux ≥ 2.6.33; before, only sockets). offset, when not
// nil, gives where to read in in and is advanced, leaving in's file offset
// alone; nil reads at and advances in's file offset. It returns the count
// copied, 0 at end of input.
func (k *Kernel) Sendfile(out, in *Fd, offset *int64, n int) (int, error) {
	const op = "sendfile"
	if err := checkCount(op, n); err != nil {
		return 0, err
	}
	if err := checkOff(op, "offset", offset); err != nil {
		return 0, err
	}
	var off int64
	var poff unsafe.Pointer
	if offset != nil {
		off, poff = *offset, unsafe.Pointer(&off)
	}
	no, ni, e := k.acquirePair(out, in)
	if e != 0 {
		return 0, callErr(op, e)
	}
	r, e := k.syscall(sysSendfile, no, ni, uintptr(poff), uintptr(n), 0, 0)
	out.release()
	in.release()
	if e != 0 {
		return 0, callErr(op, e)
	}
	if offset != nil {
		*offset = off
	}
	return int(r), nil
}

func checkSplice(op string, flags SpliceFlags) error {
	if flags&^(SPLICE_F_MOVE|SPLICE_F_NONBLOCK|SPLICE_F_MORE|SPLICE_F_GIFT) != 0 {
		return badArg(op, "unknown SpliceFlags bits "+flags.String())
	}
	return nil
}

// Splice moves up to n bytes between two descriptors, at least one of them
// a pipe, without copying through user memory. The offsets apply to the
// non-pipe side (a pipe's must be nil) and are advanced as for
// CopyFileRange. SPLICE_F_NONBLOCK makes the pipe side non-blocking
// (EAGAIN). It returns the count moved, 0 at end of input.
func (k *Kernel) Splice(in *Fd, inOff *int64, out *Fd, outOff *int64, n int, flags SpliceFlags) (int, error) {
	const op = "splice"
	if err := checkCount(op, n); err != nil {
		return 0, err
	}
	if err := checkSplice(op, flags); err != nil {
		return 0, err
	}
	if err := checkOff(op, "input offset", inOff); err != nil {
		return 0, err
	}
	if err := checkOff(op, "output offset", outOff); err != nil {
		return 0, err
	}
	fl, err := k.flagsToABI(spliceFlagsFamily, uint64(flags))
	if err != nil {
		return 0, err
	}
	return k.copyRange(op, sysSplice, in, inOff, out, outOff, n, uintptr(fl))
}

// Tee duplicates up to n bytes from the pipe in into the pipe out without
// consuming them from in. It returns the count duplicated.
func (k *Kernel) Tee(in, out *Fd, n int, flags SpliceFlags) (int, error) {
	const op = "tee"
	if err := checkCount(op, n); err != nil {
		return 0, err
	}
	if err := checkSplice(op, flags); err != nil {
		return 0, err
	}
	fl, err := k.flagsToABI(spliceFlagsFamily, uint64(flags))
	if err != nil {
		return 0, err
	}
	ni, no, e := k.acquirePair(in, out)
	if e != 0 {
		return 0, callErr(op, e)
	}
	r, e := k.syscall(sysTee, ni, no, uintptr(n), uintptr(fl), 0, 0)
	in.release()
	out.release()
	if e != 0 {
		return 0, callErr(op, e)
	}
	return int(r), nil
}

// Vmsplice moves user memory and a pipe: into the pipe when f is its write
// end, out of it (a plain copy into bufs) when f is its read end. It returns
// the count moved.
//
// Into a pipe, Linux may queue references to the pages of bufs rather than
// copies (always with SPLICE_F_GIFT), so the buffers must stay unchanged
// and reachable until the data has been read out of the pipe; use heap
// memory, not buffers that may live on a goroutine stack.
func (f *Fd) Vmsplice(bufs [][]byte, flags SpliceFlags) (int, error) {
	const op = "vmsplice"
	if f == nil {
		return 0, callErr(op, EBADF)
	}
	if err := checkSplice(op, flags); err != nil {
		return 0, err
	}
	k := f.k
	s := k.fmeta()
	if !s.iovecGo {
		return 0, callErr(op, ENOSYS)
	}
	if len(bufs) > s.iovMax {
		return 0, badArg(op, strconv.Itoa(len(bufs))+" buffers, more than the kernel's "+strconv.Itoa(s.iovMax))
	}
	fl, err := k.flagsToABI(spliceFlagsFamily, uint64(flags))
	if err != nil {
		return 0, err
	}
	var stack [vmspliceStackIovs]fmIovec
	var iov []fmIovec
	if len(bufs) <= len(stack) {
		iov = stack[:len(bufs)]
	} else {
		iov = make([]fmIovec, len(bufs))
	}
	total := uint64(0)
	for i, b := range bufs {
		iov[i] = fmIovec{base: bufPtr(b), n: uintptr(len(b))}
		total += uint64(len(b))
	}
	if total > 1<<31-1 {
		return 0, badArg(op, "buffers total more than 2 GiB")
	}
	var piov unsafe.Pointer
	if len(iov) > 0 {
		piov = unsafe.Pointer(&iov[0])
	}
	r, err := f.fdBufCall(op, sysVmsplice, piov, uintptr(len(iov)), uintptr(fl))
	return int(r), err
}
