package fsutil

import (
	"errors"
	"io"
	"io/fs"

	"github.com/anykernel/anykernel/api"
)

// Copy copies the regular file src to dst, creating dst or truncating it,
// and gives dst src's permission bits (mode & 07777, whatever the umask).
// The data moves inside the kernel with copy_file_range where it can (and
// shares blocks on file systems with reflinks); where it cannot (another
// file system: EXDEV; a kernel without the call: ENOSYS; a file it does not
// serve: EINVAL, EOPNOTSUPP) Copy reads and writes instead.
//
// Copying a file onto itself is EINVAL, before anything is truncated.
func Copy(k *api.Kernel, dst, src string) error {
	in, err := k.Open(src, api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	var sst api.Stat
	if err := in.Stat(&sst); err != nil {
		return withPath(err, src)
	}
	if sst.IsDir() {
		return &fs.PathError{Op: "copy", Path: src, Err: api.EISDIR}
	}
	perm := sst.Mode & 0o7777
	out, err := k.Open(dst, api.O_WRONLY|api.O_CREAT|api.O_CLOEXEC, perm)
	if err != nil {
		return err
	}
	defer out.Close()
	var dst1 api.Stat
	if err := out.Stat(&dst1); err != nil {
		return withPath(err, dst)
	}
	if dst1.Dev == sst.Dev && dst1.Ino == sst.Ino {
		return &fs.PathError{Op: "copy", Path: dst, Err: api.EINVAL}
	}
	if dst1.IsRegular() {
		if err := out.Truncate(0); err != nil {
			return withPath(err, dst)
		}
	}
	if _, err := CopyFd(out, in); err != nil {
		return withPath(err, dst)
	}
	if dst1.IsRegular() && dst1.Mode&0o7777 != perm {
		if err := out.Chmod(perm); err != nil {
			return withPath(err, dst)
		}
	}
	return withPath(out.Close(), dst)
}

// copyChunk is how much one copy_file_range call is asked to move.
const copyChunk = 1 << 30

// CopyFd copies from src's file offset to its end into dst at dst's offset,
// both descriptors of the same kernel, and returns the count copied. It uses
// copy_file_range, falling back to read and write as Copy does; the
// fallback also covers descriptors copy_file_range never serves (pipes,
// sockets, /proc files whose size the kernel does not know).
func CopyFd(dst, src *api.Fd) (int64, error) {
	if dst == nil || src == nil || dst.Kernel() != src.Kernel() {
		return 0, &fs.PathError{Op: "copy", Path: src.String(), Err: api.EBADF}
	}
	k := src.Kernel()
	var total int64
	for {
		n, err := k.CopyFileRange(src, nil, dst, nil, copyChunk)
		if err != nil {
			if total == 0 && fallbackErr(err) {
				break
			}
			return total, err
		}
		if n == 0 {
			if total == 0 {
				// Pseudo-files may claim to be empty here: make sure
				// by reading.
				break
			}
			return total, nil
		}
		total += int64(n)
	}
	n, err := copyReadWrite(dst, src)
	return total + n, err
}

// fallbackErr reports whether copy_file_range's error says "not here"
// rather than a failure of the copy itself.
func fallbackErr(err error) bool {
	for _, e := range []api.Errno{api.EXDEV, api.ENOSYS, api.EINVAL, api.EOPNOTSUPP, api.EPERM, api.EBADF, api.EIO} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// copyReadWrite is the fallback: read and write through a buffer.
func copyReadWrite(dst, src *api.Fd) (int64, error) {
	buf := make([]byte, 128<<10)
	var total int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			w, werr := writeAll(dst, buf[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
