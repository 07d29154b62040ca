// Package fsutil holds the file utilities programs expect beside the system
// calls: MkdirAll, RemoveAll, a directory walker, Copy, Touch, ReadFile and
// WriteFile. They are built only on *api.Kernel calls, so they work the same
// on every backend (the host kernel, a rump kernel, a unikernel).
//
// Paths are slash-separated, as every kernel api serves spells them.
package fsutil

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/anykernel/anykernel/api"
)

// MkdirAll creates the directory path and any missing parents, with
// permission bits perm (before the umask), as os.MkdirAll does. A path that
// already is a directory is not an error; one that exists as something else
// is ENOTDIR.
func MkdirAll(k *api.Kernel, path string, perm api.Mode) error {
	var st api.Stat
	if err := k.Stat(path, &st); err == nil {
		if st.IsDir() {
			return nil
		}
		return &fs.PathError{Op: "mkdir", Path: path, Err: api.ENOTDIR}
	}
	// Make the parent first: strip trailing slashes, then the last name.
	i := len(path)
	for i > 0 && path[i-1] == '/' {
		i--
	}
	j := i
	for j > 0 && path[j-1] != '/' {
		j--
	}
	if j > 1 {
		if err := MkdirAll(k, path[:j-1], perm); err != nil {
			return err
		}
	}
	if err := k.Mkdir(path, perm); err != nil {
		// Someone else may have made it meanwhile, or path ends in "..".
		var st api.Stat
		if k.Lstat(path, &st) == nil && st.IsDir() {
			return nil
		}
		return err
	}
	return nil
}

// Touch sets the access and modification times of path to now, creating an
// empty file (mode 0666 before the umask) when there is none, as touch(1)
// does.
func Touch(k *api.Kernel, path string) error {
	err := k.Utimensat(nil, path, api.UTIME_NOW, api.UTIME_NOW, 0)
	if err == nil || !errors.Is(err, api.ENOENT) {
		return err
	}
	f, err := k.Open(path, api.O_WRONLY|api.O_CREAT|api.O_NOCTTY|api.O_NONBLOCK|api.O_CLOEXEC, 0o666)
	if err != nil {
		return err
	}
	// Another process may have created it between the two calls: set the
	// times through the descriptor, so that they are now either way.
	err = f.Utimes(api.UTIME_NOW, api.UTIME_NOW)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Chtimes sets the access and modification times of path, following
// symbolic links, as os.Chtimes does: a zero time.Time leaves that time
// unchanged.
func Chtimes(k *api.Kernel, path string, atime, mtime time.Time) error {
	a, m := api.UTIME_OMIT, api.UTIME_OMIT
	if !atime.IsZero() {
		a = api.TimeToTimespec(atime)
	}
	if !mtime.IsZero() {
		m = api.TimeToTimespec(mtime)
	}
	return k.Utimensat(nil, path, a, m, 0)
}

// ReadFile returns the contents of the file at path. It reads until end of
// file, so it also serves files whose size the kernel does not know (/proc,
// /sys).
func ReadFile(k *api.Kernel, path string) ([]byte, error) {
	f, err := k.Open(path, api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := 512
	var st api.Stat
	if f.Stat(&st) == nil && st.IsRegular() && st.Size > 0 && st.Size < 1<<30 {
		size = int(st.Size) + 1 // one more, to see the end without a second read
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, withPath(err, path)
		}
	}
}

// WriteFile writes data to the file at path, creating it with permission
// bits perm (before the umask) or truncating it, as os.WriteFile does.
func WriteFile(k *api.Kernel, path string, data []byte, perm api.Mode) error {
	f, err := k.Open(path, api.O_WRONLY|api.O_CREAT|api.O_TRUNC|api.O_CLOEXEC, perm)
	if err != nil {
		return err
	}
	_, err = writeAll(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return withPath(err, path)
}

// writeAll writes all of p, going on after short writes.
func writeAll(f *api.Fd, p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		n, err := f.Write(p)
		total += n
		p = p[n:]
		if err != nil && err != io.ErrShortWrite {
			return total, err
		}
		if n == 0 && err == io.ErrShortWrite {
			return total, err
		}
	}
	return total, nil
}

// withPath replaces the path of a *fs.PathError (the name relative to a
// directory descriptor) with the full one; other errors get one.
func withPath(err error, path string) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return &fs.PathError{Op: se.Syscall, Path: path, Err: se.Err}
	}
	return &fs.PathError{Op: "io", Path: path, Err: err}
}
