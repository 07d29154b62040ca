// Package kfs presents a directory tree of any api.Kernel as an io/fs
// file system, so that the standard library's tools (fs.WalkDir, fs.Glob,
// http.FileServerFS, template.ParseFS, testing/fstest) read files of the
// host kernel, a rump kernel (a mounted FFS image, its tmpfs), or any
// other backend:
//
//	fsys := kfs.New(k, "/mnt")
//	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error { ... })
//
// The FS implements fs.FS, fs.StatFS, fs.ReadDirFS, fs.ReadFileFS,
// fs.ReadLinkFS and fs.SubFS. Names follow fs.ValidPath (slash-separated,
// unrooted, no "." or ".." elements except the root "."); errors are
// *fs.PathError naming the fs.FS name, wrapping the kernel's errno (so
// errors.Is(err, fs.ErrNotExist) works). As with os.DirFS, symbolic links
// are followed by Open and Stat, even when they lead out of the tree.
package kfs

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
)

// FS is the tree under a directory of a Kernel.
type FS struct {
	k    *api.Kernel
	root string
}

var (
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.ReadLinkFS = (*FS)(nil)
	_ fs.SubFS      = (*FS)(nil)
)

// New returns the tree under root, a directory of k ("/" for all of it;
// a relative root is taken from k's working directory at each call).
func New(k *api.Kernel, root string) *FS {
	if root == "" {
		root = "."
	}
	return &FS{k: k, root: root}
}

// Kernel returns the kernel whose files fsys shows.
func (fsys *FS) Kernel() *api.Kernel { return fsys.k }

// Root returns the kernel path of fsys's root.
func (fsys *FS) Root() string { return fsys.root }

// path converts a valid fs name to a kernel path.
func (fsys *FS) path(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if fsys.k == nil {
		return "", &fs.PathError{Op: op, Path: name, Err: api.EINVAL}
	}
	if name == "." {
		return fsys.root, nil
	}
	if strings.HasSuffix(fsys.root, "/") {
		return fsys.root + name, nil
	}
	return fsys.root + "/" + name, nil
}

// pathErr rewrites an api error to name the fs name, keeping its cause.
func pathErr(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var e api.Errno
	if errors.As(err, &e) {
		err = e
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Open opens the named file (read-only) or directory.
func (fsys *FS) Open(name string) (fs.File, error) {
	p, err := fsys.path("open", name)
	if err != nil {
		return nil, err
	}
	fd, err := fsys.k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	f := &File{fd: fd, name: name, path: p}
	if err := fd.Stat(&f.st); err != nil {
		fd.Close()
		return nil, pathErr("open", name, err)
	}
	return f, nil
}

// Stat returns the named file's information, following symbolic links.
func (fsys *FS) Stat(name string) (fs.FileInfo, error) {
	p, err := fsys.path("stat", name)
	if err != nil {
		return nil, err
	}
	fi := &FileInfo{name: path.Base(name)}
	if err := fsys.k.Stat(p, &fi.st); err != nil {
		return nil, pathErr("stat", name, err)
	}
	return fi, nil
}

// Lstat returns the named file's information without following a final
// symbolic link.
func (fsys *FS) Lstat(name string) (fs.FileInfo, error) {
	p, err := fsys.path("lstat", name)
	if err != nil {
		return nil, err
	}
	fi := &FileInfo{name: path.Base(name)}
	if err := fsys.k.Lstat(p, &fi.st); err != nil {
		return nil, pathErr("lstat", name, err)
	}
	return fi, nil
}

// ReadLink returns the target of the named symbolic link.
func (fsys *FS) ReadLink(name string) (string, error) {
	p, err := fsys.path("readlink", name)
	if err != nil {
		return "", err
	}
	t, err := fsys.k.Readlink(p)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	return t, nil
}

// ReadDir returns the named directory's entries sorted by name.
func (fsys *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := fsys.path("readdir", name)
	if err != nil {
		return nil, err
	}
	fd, err := fsys.k.Open(p, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	defer fd.Close()
	ents, err := readEntries(fsys.k, fd, p)
	if err != nil {
		return ents, pathErr("readdir", name, err)
	}
	return ents, nil
}

// readEntries reads a directory's entries, sorted, typed.
func readEntries(k *api.Kernel, fd *api.Fd, dir string) ([]fs.DirEntry, error) {
	des, err := fd.ReadDir()
	out := make([]fs.DirEntry, 0, len(des))
	for _, de := range des {
		e := &DirEntry{k: k, dir: dir, name: de.Name, typ: de.Type.FileMode(), known: de.Type != api.DT_UNKNOWN}
		if !e.known {
			// The file system does not keep types in its entries: ask.
			if _, ierr := e.Info(); ierr != nil {
				continue // gone meanwhile
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, err
}

// ReadFile returns the named file's contents.
func (fsys *FS) ReadFile(name string) ([]byte, error) {
	p, err := fsys.path("readfile", name)
	if err != nil {
		return nil, err
	}
	fd, err := fsys.k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return nil, pathErr("readfile", name, err)
	}
	defer fd.Close()
	var st api.Stat
	if err := fd.Stat(&st); err != nil {
		return nil, pathErr("readfile", name, err)
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: api.EISDIR}
	}
	size := 512
	if st.Size > 0 && st.Size < 1<<30 {
		size = int(st.Size) + 1 // one more to see the end at once
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := fd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, pathErr("readfile", name, err)
		}
	}
}

// Sub returns the tree under dir, which must be a directory.
func (fsys *FS) Sub(dir string) (fs.FS, error) {
	p, err := fsys.path("sub", dir)
	if err != nil {
		return nil, err
	}
	var st api.Stat
	if err := fsys.k.Stat(p, &st); err != nil {
		return nil, pathErr("sub", dir, err)
	}
	if !st.IsDir() {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: api.ENOTDIR}
	}
	return &FS{k: fsys.k, root: p}, nil
}

// File is an open file or directory of an FS: an fs.File, an
// fs.ReadDirFile for directories, an io.Seeker and an io.ReaderAt.
type File struct {
	fd   *api.Fd
	name string
	path string   // in the kernel
	st   api.Stat // at Open
	ents []fs.DirEntry
	read bool // ents holds the directory's entries
}

var (
	_ fs.ReadDirFile = (*File)(nil)
	_ io.Seeker      = (*File)(nil)
	_ io.ReaderAt    = (*File)(nil)
)

// Fd returns the file's descriptor, for calls this type does not wrap.
func (f *File) Fd() *api.Fd { return f.fd }

// Stat returns the file's current information.
func (f *File) Stat() (fs.FileInfo, error) {
	fi := &FileInfo{name: path.Base(f.name)}
	if err := f.fd.Stat(&fi.st); err != nil {
		return nil, pathErr("stat", f.name, err)
	}
	return fi, nil
}

// Read reads from the file; io.EOF at its end.
func (f *File) Read(p []byte) (int, error) {
	if f.st.IsDir() {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: api.EISDIR}
	}
	n, err := f.fd.Read(p)
	if err != nil && err != io.EOF {
		err = pathErr("read", f.name, err)
	}
	return n, err
}

// ReadAt reads at an offset; io.EOF when fewer than len(p) bytes remain.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.fd.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = pathErr("read", f.name, err)
	}
	return n, err
}

// Seek sets the offset of the next Read (of the next ReadDir, for a
// directory: Seek(0, io.SeekStart) starts over).
func (f *File) Seek(offset int64, whence int) (int64, error) {
	n, err := f.fd.Seek(offset, whence)
	if err != nil {
		return n, pathErr("seek", f.name, err)
	}
	if f.st.IsDir() && offset == 0 && whence == io.SeekStart {
		f.ents, f.read = nil, false
	}
	return n, nil
}

// ReadDir returns up to n of the directory's entries, sorted by name, or
// all of the remaining ones for n <= 0, as fs.ReadDirFile specifies.
func (f *File) ReadDir(n int) ([]fs.DirEntry, error) {
	if !f.st.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: api.ENOTDIR}
	}
	if !f.read {
		ents, err := readEntries(f.fd.Kernel(), f.fd, f.path)
		if err != nil {
			return nil, pathErr("readdir", f.name, err)
		}
		f.ents, f.read = ents, true
	}
	if n <= 0 {
		out := f.ents
		f.ents = nil
		return out, nil
	}
	if len(f.ents) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(f.ents))
	out := f.ents[:n:n]
	f.ents = f.ents[n:]
	return out, nil
}

// Close closes the file.
func (f *File) Close() error {
	if err := f.fd.Close(); err != nil {
		return pathErr("close", f.name, err)
	}
	return nil
}

// DirEntry is a directory entry; Info looks the entry itself up (lstat),
// as fs.DirEntry specifies.
type DirEntry struct {
	k     *api.Kernel
	dir   string // the directory's kernel path
	name  string
	typ   fs.FileMode
	known bool
	info  *FileInfo
}

// Name is the entry's name.
func (e *DirEntry) Name() string { return e.name }

// IsDir reports whether the entry is a directory.
func (e *DirEntry) IsDir() bool { return e.typ&fs.ModeDir != 0 }

// Type is the entry's type bits.
func (e *DirEntry) Type() fs.FileMode { return e.typ }

// Info returns the entry's information, read when first asked.
func (e *DirEntry) Info() (fs.FileInfo, error) {
	if e.info != nil {
		return e.info, nil
	}
	fi := &FileInfo{name: e.name}
	if err := e.k.Lstat(e.dir+"/"+e.name, &fi.st); err != nil {
		return nil, pathErr("lstat", e.name, err)
	}
	e.info = fi
	e.typ = fi.Mode().Type()
	e.known = true
	return fi, nil
}

// String formats the entry as fs.FormatDirEntry does.
func (e *DirEntry) String() string { return fs.FormatDirEntry(e) }

// FileInfo is a file's information; Sys returns its *api.Stat.
type FileInfo struct {
	name string
	st   api.Stat
}

// NewFileInfo returns st, the status of a file called name, as an
// fs.FileInfo (api/fsutil's Stat and Lstat use it too).
func NewFileInfo(name string, st *api.Stat) *FileInfo {
	return &FileInfo{name: name, st: *st}
}

// Name is the file's base name ("." for the root).
func (fi *FileInfo) Name() string { return fi.name }

// Size is the length in bytes.
func (fi *FileInfo) Size() int64 { return fi.st.Size }

// Mode is the type and permission bits.
func (fi *FileInfo) Mode() fs.FileMode { return fi.st.Mode.FileMode() }

// ModTime is the modification time.
func (fi *FileInfo) ModTime() time.Time { return fi.st.ModTime() }

// IsDir reports whether the file is a directory.
func (fi *FileInfo) IsDir() bool { return fi.st.IsDir() }

// Sys returns the kernel's *api.Stat.
func (fi *FileInfo) Sys() any { return &fi.st }

// String formats the information as fs.FormatFileInfo does.
func (fi *FileInfo) String() string { return fs.FormatFileInfo(fi) }
