//go:build xen

package xen

import (
	"unsafe"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// Reads and writes: plain, positioned, vectored, and the copies between
// descriptors (copy_file_range, sendfile, splice, tee, vmsplice).

// rw reads or writes p on a description; positioned calls (pread,
// pwrite) use off and need a seekable file.
func (k *kernel) rw(of *ofile, p []byte, off int64, write, positioned, nonblock bool) (int, Errno) {
	if positioned {
		switch f := of.f.(type) {
		case *fsFile:
			if f.mf.PathOnly() {
				return 0, EBADF
			}
			if write {
				return f.mf.WriteAt(p, off)
			}
			return f.mf.ReadAt(p, off)
		case *devFile:
			if f.dev == devConsole {
				return 0, ESPIPE
			}
		default:
			return 0, ESPIPE
		}
	}
	if write {
		return of.f.write(k, p, nonblock)
	}
	return of.f.read(k, p, nonblock)
}

func (k *kernel) readWrite(fd uintptr, b unsafe.Pointer, n uintptr, off int64, write, positioned bool) (uintptr, Errno) {
	if positioned && off < 0 {
		return 0, EINVAL
	}
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	p, e := userBuf(b, n)
	if e != 0 {
		return 0, e
	}
	r, e := k.rw(of, p, off, write, positioned, false)
	return uintptr(r), e
}

const iovMax = 1024 // UIO_MAXIOV

// iovec returns vector i of an iovec array: its base as the entry
// converted it, or as the array holds it.
func iovec(iov unsafe.Pointer, i int, x *iovPtrs) ([]byte, Errno) {
	e := unsafe.Add(iov, i*iovSize)
	base := *(*unsafe.Pointer)(unsafe.Add(e, iovBase))
	if x != nil && i < x.n {
		base = x.p[i]
	}
	return userBuf(base, *(*uintptr)(unsafe.Add(e, iovLen)))
}

// RWF flags of preadv2 and pwritev2.
const rwfKnown = 0x1f // HIPRI, DSYNC, SYNC, NOWAIT, APPEND

// vecIO is readv, writev and their positioned forms; off < 0 means the
// file offset.
func (k *kernel) vecIO(fd uintptr, iov unsafe.Pointer, cnt uintptr, x *iovPtrs, off int64, write bool) (uintptr, Errno) {
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	if cnt > iovMax {
		return 0, EINVAL
	}
	if cnt > 0 && iov == nil {
		return 0, EFAULT
	}
	positioned := off >= 0
	if positioned {
		if _, ok := of.f.(*fsFile); !ok {
			if d, ok := of.f.(*devFile); !ok || d.dev == devConsole {
				return 0, ESPIPE
			}
		}
	}
	total := 0
	for i := 0; i < int(cnt); i++ {
		p, e := iovec(iov, i, x)
		if e != 0 {
			if total > 0 {
				break
			}
			return 0, e
		}
		if len(p) == 0 {
			continue
		}
		// Only the first transfer may wait: later ones take what is there.
		n, e := k.rw(of, p, off+int64(total), write, positioned, total > 0)
		if e != 0 {
			if total > 0 {
				break
			}
			return 0, e
		}
		total += n
		if n < len(p) {
			break
		}
	}
	return uintptr(total), 0
}

func (k *kernel) vecCall(o op, a [6]uintptr, p [6]unsafe.Pointer, x *iovPtrs) (uintptr, Errno) {
	write := o == opWritev || o == opPwritev || o == opPwritev2
	switch o {
	case opReadv, opWritev:
		return k.vecIO(a[0], p[1], a[2], x, -1, write)
	case opPreadv, opPwritev:
		if int64(a[3]) < 0 {
			return 0, EINVAL
		}
		return k.vecIO(a[0], p[1], a[2], x, int64(a[3]), write)
	case opPreadv2, opPwritev2:
		if a[5]&^rwfKnown != 0 {
			return 0, EOPNOTSUPP
		}
		off := int64(a[3])
		if off < -1 {
			return 0, EINVAL
		}
		return k.vecIO(a[0], p[1], a[2], x, off, write)
	case opVmsplice:
		return k.vmsplice(a[0], p[1], a[2], a[3], x)
	}
	return 0, ENOSYS
}

// Copies.

const copyChunk = 64 << 10

// regular returns the open regular file behind a description for the
// copy calls.
func regularOf(of *ofile) (*memfs.File, Errno) {
	f, ok := of.f.(*fsFile)
	if !ok {
		return nil, EINVAL
	}
	if f.mf.PathOnly() {
		return nil, EBADF
	}
	switch f.stat().Mode & memfs.S_IFMT {
	case memfs.S_IFREG:
		return f.mf, 0
	case memfs.S_IFDIR:
		return nil, EISDIR
	}
	return nil, EINVAL
}

func readOff(p unsafe.Pointer) (int64, Errno) {
	v := *(*int64)(p)
	if v < 0 {
		return 0, EINVAL
	}
	return v, 0
}

// copyOut reads up to n bytes of src, from off (or from its position when
// off < 0), a chunk at a time, and hands each chunk to put with the count
// copied so far; put returns how much it took. It stops at the end of the
// file, at an error, or when put takes less than it was given, and
// returns the count copied and the last error: the loop of
// copy_file_range and sendfile.
func copyOut(src *memfs.File, off int64, n uintptr, put func(c []byte, done uintptr) (int, Errno)) (uintptr, Errno) {
	chunk := make([]byte, min(n, copyChunk))
	total := uintptr(0)
	var e Errno
	for total < n {
		c := chunk[:min(uintptr(len(chunk)), n-total)]
		var r int
		if off >= 0 {
			r, e = src.ReadAt(c, off+int64(total))
		} else {
			r, e = src.Read(c)
		}
		if e != 0 || r == 0 {
			break
		}
		var w int
		w, e = put(c[:r], total)
		total += uintptr(max(w, 0))
		if e != 0 || w < r {
			break
		}
	}
	return total, e
}

func (k *kernel) copyFileRange(fin uintptr, offin unsafe.Pointer, fout uintptr, offout unsafe.Pointer, n, flags uintptr) (uintptr, Errno) {
	if flags != 0 {
		return 0, EINVAL
	}
	in, e := k.get(fin)
	if e != 0 {
		return 0, e
	}
	defer k.put(in)
	out, e := k.get(fout)
	if e != 0 {
		return 0, e
	}
	defer k.put(out)
	src, e := regularOf(in)
	if e != 0 {
		return 0, e
	}
	dst, e := regularOf(out)
	if e != 0 {
		return 0, e
	}
	if src.Flags()&memfs.O_ACCMODE == memfs.O_WRONLY || dst.Flags()&memfs.O_ACCMODE == memfs.O_RDONLY || dst.Flags()&memfs.O_APPEND != 0 {
		return 0, EBADF
	}
	if int64(n) < 0 {
		return 0, EINVAL
	}
	var ip, op int64 = -1, -1
	if offin != nil {
		if ip, e = readOff(offin); e != 0 {
			return 0, e
		}
	}
	if offout != nil {
		if op, e = readOff(offout); e != 0 {
			return 0, e
		}
	}
	total, e := copyOut(src, ip, n, func(c []byte, done uintptr) (int, Errno) {
		if op >= 0 {
			return dst.WriteAt(c, op+int64(done))
		}
		return dst.Write(c)
	})
	if total == 0 && e != 0 {
		return 0, e
	}
	if offin != nil {
		*(*int64)(offin) = ip + int64(total)
	}
	if offout != nil {
		*(*int64)(offout) = op + int64(total)
	}
	return total, 0
}

func (k *kernel) sendfile(fout, fin uintptr, offp unsafe.Pointer, n uintptr) (uintptr, Errno) {
	in, e := k.get(fin)
	if e != 0 {
		return 0, e
	}
	defer k.put(in)
	out, e := k.get(fout)
	if e != 0 {
		return 0, e
	}
	defer k.put(out)
	src, e := regularOf(in)
	if e != 0 {
		if e == EISDIR {
			e = EINVAL
		}
		return 0, e
	}
	if src.Flags()&memfs.O_ACCMODE == memfs.O_WRONLY || out.f.flags()&memfs.O_ACCMODE == memfs.O_RDONLY {
		return 0, EBADF
	}
	if int64(n) < 0 {
		return 0, EINVAL
	}
	n = min(n, maxRW)
	var off int64 = -1
	if offp != nil {
		if off, e = readOff(offp); e != 0 {
			return 0, e
		}
	}
	total, e := copyOut(src, off, n, func(c []byte, done uintptr) (int, Errno) {
		w, e := out.f.write(k, c, done > 0)
		if w < len(c) && off < 0 {
			// Give back what the destination did not take.
			src.Lseek(int64(max(w, 0)-len(c)), memfs.SEEK_CUR)
		}
		return w, e
	})
	if total == 0 && e != 0 {
		return 0, e
	}
	if offp != nil {
		*(*int64)(offp) = off + int64(total)
	}
	return total, 0
}

// Splice flags.
const (
	spliceMove     = 1
	spliceNonblock = 2
	spliceMore     = 4
	spliceGift     = 8
)

// room waits (unless nonblock) until p has space and returns how much.
func (k *kernel) room(p *pipe, nonblock bool) (int, Errno) {
	var hw hubWait
	for {
		p.mu.Lock()
		r, readers := p.cap-len(p.data), p.readers
		p.mu.Unlock()
		if readers == 0 {
			return 0, EPIPE
		}
		if r > 0 {
			return r, 0
		}
		if nonblock {
			return 0, EAGAIN
		}
		hw.wait(k)
	}
}

// data waits (unless nonblock) until p holds data; false means end of
// file (no writers).
func (k *kernel) data(p *pipe, nonblock bool) (bool, Errno) {
	var hw hubWait
	for {
		p.mu.Lock()
		n, writers := len(p.data), p.writers
		p.mu.Unlock()
		if n > 0 {
			return true, 0
		}
		if writers == 0 {
			return false, 0
		}
		if nonblock {
			return false, EAGAIN
		}
		hw.wait(k)
	}
}

func (k *kernel) splice(fin uintptr, offin unsafe.Pointer, fout uintptr, offout unsafe.Pointer, n, flags uintptr) (uintptr, Errno) {
	if flags&^(spliceMove|spliceNonblock|spliceMore|spliceGift) != 0 {
		return 0, EINVAL
	}
	in, e := k.get(fin)
	if e != 0 {
		return 0, e
	}
	defer k.put(in)
	out, e := k.get(fout)
	if e != 0 {
		return 0, e
	}
	defer k.put(out)
	inP, inR, _ := pipeOf(in.f)
	outP, _, outW := pipeOf(out.f)
	if !inR {
		inP = nil
	}
	if !outW {
		outP = nil
	}
	if inP == nil && outP == nil {
		return 0, EINVAL
	}
	if inP != nil && offin != nil || outP != nil && offout != nil {
		return 0, ESPIPE
	}
	if in.f.flags()&memfs.O_ACCMODE == memfs.O_WRONLY || out.f.flags()&memfs.O_ACCMODE == memfs.O_RDONLY {
		return 0, EBADF
	}
	if int64(n) < 0 {
		return 0, EINVAL
	}
	n = min(n, maxRW)
	if n == 0 {
		return 0, 0
	}
	nb := flags&spliceNonblock != 0
	var ip, op int64 = -1, -1
	if offin != nil {
		if ip, e = readOff(offin); e != 0 {
			return 0, e
		}
	}
	if offout != nil {
		if op, e = readOff(offout); e != 0 {
			return 0, e
		}
	}
	var moved int
	if inP != nil {
		// From a pipe: take what it holds, up to n.
		ok, e := k.data(inP, nb || in.f.flags()&memfs.O_NONBLOCK != 0)
		if e != 0 || !ok {
			return 0, e
		}
		if outP != nil {
			if _, e := k.room(outP, nb); e != 0 {
				return 0, e
			}
		}
		inP.mu.Lock()
		c := make([]byte, min(int(n), len(inP.data)))
		if outP != nil {
			outP.mu.Lock()
			c = c[:min(len(c), outP.cap-len(outP.data))]
			outP.mu.Unlock()
		}
		copy(c, inP.data)
		inP.mu.Unlock()
		var w int
		if outP != nil {
			w, e = outP.put(k, c, true)
		} else if op >= 0 {
			w, e = k.rw(out, c, op, true, true, false)
		} else {
			w, e = out.f.write(k, c, false)
		}
		if w > 0 {
			inP.mu.Lock()
			inP.take(w)
			inP.mu.Unlock()
			k.hub.wake()
		}
		if w == 0 && e != 0 {
			return 0, e
		}
		moved = w
	} else {
		// Into a pipe: as much as it has room for.
		r, e := k.room(outP, nb || out.f.flags()&memfs.O_NONBLOCK != 0)
		if e != 0 {
			return 0, e
		}
		c := make([]byte, min(int(n), r))
		var got int
		if ip >= 0 {
			got, e = k.rw(in, c, ip, false, true, false)
		} else {
			got, e = in.f.read(k, c, false)
		}
		if e != 0 {
			return 0, e
		}
		if got == 0 {
			return 0, 0
		}
		moved, e = outP.put(k, c[:got], true)
		if e != 0 {
			return 0, e
		}
	}
	if offin != nil {
		*(*int64)(offin) = ip + int64(moved)
	}
	if offout != nil {
		*(*int64)(offout) = op + int64(moved)
	}
	return uintptr(moved), 0
}

func (k *kernel) tee(fin, fout, n, flags uintptr) (uintptr, Errno) {
	if flags&^(spliceMove|spliceNonblock|spliceMore|spliceGift) != 0 {
		return 0, EINVAL
	}
	in, e := k.get(fin)
	if e != 0 {
		return 0, e
	}
	defer k.put(in)
	out, e := k.get(fout)
	if e != 0 {
		return 0, e
	}
	defer k.put(out)
	inP, inR, _ := pipeOf(in.f)
	outP, _, outW := pipeOf(out.f)
	if inP == nil || outP == nil || !inR || !outW || inP == outP {
		return 0, EINVAL
	}
	if int64(n) < 0 {
		return 0, EINVAL
	}
	nb := flags&spliceNonblock != 0
	ok, e := k.data(inP, nb)
	if e != 0 || !ok {
		return 0, e
	}
	r, e := k.room(outP, nb)
	if e != 0 {
		return 0, e
	}
	inP.mu.Lock()
	c := append([]byte(nil), inP.data[:min(int(n), len(inP.data), r)]...)
	inP.mu.Unlock()
	w, e := outP.put(k, c, true)
	return uintptr(w), e
}

func (k *kernel) vmsplice(fd uintptr, iov unsafe.Pointer, cnt, flags uintptr, x *iovPtrs) (uintptr, Errno) {
	if flags&^(spliceMove|spliceNonblock|spliceMore|spliceGift) != 0 {
		return 0, EINVAL
	}
	of, e := k.get(fd)
	if e != 0 {
		return 0, e
	}
	defer k.put(of)
	end, ok := of.f.(*pipeEnd)
	if !ok {
		return 0, EBADF
	}
	if cnt > iovMax {
		return 0, EINVAL
	}
	nb := flags&spliceNonblock != 0
	total := 0
	for i := 0; i < int(cnt); i++ {
		p, e := iovec(iov, i, x)
		if e != 0 {
			return 0, e
		}
		if len(p) == 0 {
			continue
		}
		var n int
		if end.wr {
			n, e = end.write(k, p, nb || total > 0)
		} else {
			n, e = end.read(k, p, nb || total > 0)
		}
		if e != 0 {
			if total > 0 {
				break
			}
			return 0, e
		}
		total += n
		if n < len(p) {
			break
		}
	}
	return uintptr(total), 0
}
