package memfs

// Open files (open file descriptions) and their I/O.

// File is an open file description: an inode, the flags it was opened with
// and an offset. Descriptors that dup it share it. Close it once, when the
// last descriptor goes.
type File struct {
	fs     *FS
	ino    *Inode
	flags  int
	off    int64
	closed bool
	// dir and name: where the file was opened, for change notification.
	dir  *Inode
	name string
}

func (fs *FS) newFile(ino *Inode, flags int) *File {
	ino.opens++
	return &File{fs: fs, ino: ino, flags: flags &^ (O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC)}
}

// Inode returns the file's inode.
func (f *File) Inode() *Inode { return f.ino }

// Flags returns the access mode and status flags (O_PATH for a path-only
// file).
func (f *File) Flags() int {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.flags
}

// SetFlags changes the status flags F_SETFL may change.
func (f *File) SetFlags(fl int) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.flags = f.flags&^StatusFlags | fl&StatusFlags
}

// PathOnly reports whether the file was opened with O_PATH.
func (f *File) PathOnly() bool { return f.flags&O_PATH != 0 }

func (f *File) readable() bool {
	return f.flags&O_PATH == 0 && f.flags&O_ACCMODE != O_WRONLY
}

func (f *File) writable() bool {
	return f.flags&O_PATH == 0 && f.flags&O_ACCMODE != O_RDONLY
}

// Close releases the file: its flock lock, its OFD locks, and the inode's
// data if it has no names left.
func (f *File) Close() {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	if f.flags&O_PATH == 0 {
		if f.writable() {
			f.event(IN_CLOSE_WRITE)
		} else {
			f.event(IN_CLOSE_NOWRITE)
		}
	}
	f.ino.flockRelease(f)
	f.ino.releaseLocks(f)
	f.ino.opens--
	f.ino.maybeFree()
}

// Read reads at the file offset and advances it.
func (f *File) Read(p []byte) (int, Errno) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if !f.readable() {
		return 0, EBADF
	}
	if f.ino.isDir() {
		return 0, EISDIR
	}
	n, e := f.ino.readAt(p, f.off, f.flags)
	f.off += int64(n)
	if n > 0 {
		f.event(IN_ACCESS)
	}
	return n, e
}

// ReadAt reads at off without moving the offset (pread).
func (f *File) ReadAt(p []byte, off int64) (int, Errno) {
	if off < 0 {
		return 0, EINVAL
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if !f.readable() {
		return 0, EBADF
	}
	if f.ino.isDir() {
		return 0, EISDIR
	}
	n, e := f.ino.readAt(p, off, f.flags)
	if n > 0 {
		f.event(IN_ACCESS)
	}
	return n, e
}

// Write writes at the file offset (at the end with O_APPEND) and advances
// it.
func (f *File) Write(p []byte) (int, Errno) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if !f.writable() {
		return 0, EBADF
	}
	off := f.off
	if f.flags&O_APPEND != 0 {
		off = f.ino.size
	}
	n, e := f.ino.writeAt(p, off)
	f.off = off + int64(n)
	if n > 0 {
		f.event(IN_MODIFY)
	}
	return n, e
}

// WriteAt writes at off without moving the offset (pwrite). Like Linux, a
// file opened with O_APPEND appends whatever off says.
func (f *File) WriteAt(p []byte, off int64) (int, Errno) {
	if off < 0 {
		return 0, EINVAL
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if !f.writable() {
		return 0, EBADF
	}
	if f.flags&O_APPEND != 0 {
		off = f.ino.size
	}
	n, e := f.ino.writeAt(p, off)
	if n > 0 {
		f.event(IN_MODIFY)
	}
	return n, e
}

func (i *Inode) readAt(p []byte, off int64, flags int) (int, Errno) {
	if !i.isReg() {
		return 0, EINVAL
	}
	if off >= i.size || len(p) == 0 {
		return 0, 0
	}
	n := int64(len(p))
	if n > i.size-off {
		n = i.size - off
	}
	for done := int64(0); done < n; {
		pg, in := (off+done)/pageSize, (off+done)%pageSize
		chunk := min(pageSize-in, n-done)
		if d := i.data[pg]; d != nil {
			copy(p[done:done+chunk], d[in:in+chunk])
		} else {
			clear(p[done : done+chunk])
		}
		done += chunk
	}
	if flags&O_NOATIME == 0 {
		i.touch(tA)
	}
	return int(n), 0
}

func (i *Inode) writeAt(p []byte, off int64) (int, Errno) {
	if !i.isReg() {
		return 0, EINVAL
	}
	if len(p) == 0 {
		return 0, 0
	}
	if i.seals&(F_SEAL_WRITE|F_SEAL_FUTURE_WRITE) != 0 {
		return 0, EPERM
	}
	if off > MaxFileSize-int64(len(p)) {
		return 0, EFBIG
	}
	end := off + int64(len(p))
	if end > i.size && i.seals&F_SEAL_GROW != 0 {
		return 0, EPERM
	}
	n := int64(len(p))
	for done := int64(0); done < n; {
		pg, in := (off+done)/pageSize, (off+done)%pageSize
		chunk := min(pageSize-in, n-done)
		d, e := i.page(pg)
		if e != 0 {
			if done == 0 {
				return 0, e
			}
			n = done
			break
		}
		copy(d[in:in+chunk], p[done:done+chunk])
		done += chunk
	}
	if off+n > i.size {
		i.size = off + n
	}
	i.touch(tM | tC)
	return int(n), 0
}

// page returns data page pg, allocating it.
func (i *Inode) page(pg int64) (*[pageSize]byte, Errno) {
	if d := i.data[pg]; d != nil {
		return d, 0
	}
	if i.fs.pages >= i.fs.cap/pageSize {
		return nil, ENOSPC
	}
	if i.data == nil {
		i.data = map[int64]*[pageSize]byte{}
	}
	d := new([pageSize]byte)
	i.data[pg] = d
	i.fs.pages++
	return d, 0
}

// Lseek moves the offset (lseek): SEEK_SET, SEEK_CUR, SEEK_END, and on
// regular files SEEK_DATA and SEEK_HOLE, which see holes page by page. On
// a directory the offset is an entry's d_off.
func (f *File) Lseek(off int64, whence int) (int64, Errno) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.flags&O_PATH != 0 {
		return 0, EBADF
	}
	i := f.ino
	var pos int64
	switch whence {
	case SEEK_SET:
		pos = off
	case SEEK_CUR:
		if off > 0 && f.off > MaxFileSize-off {
			return 0, EOVERFLOW
		}
		pos = f.off + off
	case SEEK_END:
		if i.isDir() {
			return 0, EINVAL
		}
		size := i.size
		if !i.isReg() {
			size = 0
		}
		if off > 0 && size > MaxFileSize-off {
			return 0, EOVERFLOW
		}
		pos = size + off
	case SEEK_DATA, SEEK_HOLE:
		if !i.isReg() {
			return 0, EINVAL
		}
		if off < 0 || off >= i.size {
			return 0, ENXIO
		}
		pos = i.seekData(off, whence == SEEK_DATA)
		if pos < 0 {
			return 0, ENXIO
		}
	default:
		return 0, EINVAL
	}
	if pos < 0 {
		return 0, EINVAL
	}
	f.off = pos
	return pos, 0
}

// seekData finds the next data (or hole) at or after off; the end of the
// file counts as a hole. It returns -1 when there is no more data.
func (i *Inode) seekData(off int64, data bool) int64 {
	last := (i.size - 1) / pageSize
	for pg := off / pageSize; pg <= last; pg++ {
		if (i.data[pg] != nil) == data {
			if pg == off/pageSize {
				return off
			}
			return pg * pageSize
		}
	}
	if data {
		return -1
	}
	return i.size
}

// Offset returns the file offset.
func (f *File) Offset() int64 {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.off
}

// Truncate sets the size of the file (ftruncate): it must be open for
// writing.
func (f *File) Truncate(size int64) Errno {
	if size < 0 {
		return EINVAL
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.flags&O_PATH != 0 {
		return EBADF
	}
	if !f.ino.isReg() || !f.writable() {
		return EINVAL
	}
	if e := f.ino.truncate(size); e != 0 {
		return e
	}
	f.event(IN_MODIFY)
	return 0
}

// Fallocate allocates (mode 0 or FALLOC_FL_KEEP_SIZE), punches holes
// (FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE) or zeroes ranges
// (FALLOC_FL_ZERO_RANGE).
func (f *File) Fallocate(mode int, off, length int64) Errno {
	if off < 0 || length <= 0 {
		return EINVAL
	}
	if off > MaxFileSize-length {
		return EFBIG
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if !f.writable() {
		return EBADF
	}
	i := f.ino
	if i.isDir() {
		return EISDIR
	}
	if !i.isReg() {
		return ENODEV
	}
	end := off + length
	switch mode &^ FALLOC_FL_KEEP_SIZE {
	case 0:
		if end > i.size && mode&FALLOC_FL_KEEP_SIZE == 0 && i.seals&F_SEAL_GROW != 0 {
			return EPERM
		}
		for pg := off / pageSize; pg*pageSize < end; pg++ {
			if _, e := i.page(pg); e != 0 {
				return e
			}
		}
		if end > i.size && mode&FALLOC_FL_KEEP_SIZE == 0 {
			i.size = end
		}
	case FALLOC_FL_PUNCH_HOLE:
		if mode&FALLOC_FL_KEEP_SIZE == 0 {
			return EOPNOTSUPP
		}
		if i.seals&F_SEAL_WRITE != 0 {
			return EPERM
		}
		i.zero(off, end, true)
	case FALLOC_FL_ZERO_RANGE:
		if i.seals&F_SEAL_WRITE != 0 {
			return EPERM
		}
		i.zero(off, end, false)
		if end > i.size && mode&FALLOC_FL_KEEP_SIZE == 0 {
			i.size = end
		}
	default:
		return EOPNOTSUPP
	}
	i.touch(tM | tC)
	f.event(IN_MODIFY)
	return 0
}

// zero clears [off, end): whole pages are freed when punch is set.
func (i *Inode) zero(off, end int64, punch bool) {
	if end > i.size && punch {
		end = i.size
	}
	for pos := off; pos < end; {
		pg, in := pos/pageSize, pos%pageSize
		chunk := min(pageSize-in, end-pos)
		if d := i.data[pg]; d != nil {
			if chunk == pageSize && punch {
				delete(i.data, pg)
				i.fs.pages--
			} else {
				clear(d[in : in+chunk])
			}
		}
		pos += chunk
	}
}

// Getdents reads linux_dirent64 records of a directory into buf.
func (f *File) Getdents(buf []byte) (int, Errno) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.flags&O_PATH != 0 {
		return 0, EBADF
	}
	if !f.ino.isDir() {
		return 0, ENOTDIR
	}
	return f.getdents(buf)
}

// Seals returns the seals of a memfd (F_GET_SEALS); other files answer
// EINVAL.
func (f *File) Seals() (uint32, Errno) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if !f.ino.memfd {
		return 0, EINVAL
	}
	return f.ino.seals, 0
}

// AddSeals adds seals to a memfd (F_ADD_SEALS). F_SEAL_WRITE needs the
// file not to be mapped writable, which memfs files never are.
func (f *File) AddSeals(s uint32) Errno {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if s&^sealAll != 0 {
		return EINVAL
	}
	if !f.ino.memfd {
		return EINVAL
	}
	if !f.writable() {
		return EPERM
	}
	if f.ino.seals&F_SEAL_SEAL != 0 {
		return EPERM
	}
	f.ino.seals |= s
	return 0
}
