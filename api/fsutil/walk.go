package fsutil

import (
	"io/fs"
	"iter"
	"path"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/kfs"
)

// Entry is one file met by Walk or WalkDir. It satisfies fs.DirEntry, so
// code written for filepath.WalkDir takes it as it is.
type Entry struct {
	k     *api.Kernel
	path  string
	name  string
	typ   fs.FileMode // type bits only
	depth int
	skip  bool
}

var _ fs.DirEntry = (*Entry)(nil)

// Path is the file's path: the root given to Walk joined with the names
// down to it (path.Join, so cleaned).
func (e *Entry) Path() string { return e.path }

// Name is the file's last name (the root's base name for the root).
func (e *Entry) Name() string { return e.name }

// IsDir reports whether the file is a directory (a symbolic link to one is
// not).
func (e *Entry) IsDir() bool { return e.typ&fs.ModeDir != 0 }

// Type returns the file's type bits (fs.ModeDir, fs.ModeSymlink, ...; 0 for
// a regular file).
func (e *Entry) Type() fs.FileMode { return e.typ }

// Depth is 0 for the root, 1 for its entries, and so on.
func (e *Entry) Depth() int { return e.depth }

// Info returns the file's status (lstat), read now.
func (e *Entry) Info() (fs.FileInfo, error) {
	fi, err := Lstat(e.k, e.path)
	if err != nil {
		return nil, err
	}
	return fi, nil
}

// SkipDir, called while Walk yields e, stops the walk from entering e when
// it is a directory, or from visiting the rest of e's directory when it is
// not: what returning fs.SkipDir from a fs.WalkDirFunc does.
func (e *Entry) SkipDir() { e.skip = true }

// String describes the entry as fs.FormatDirEntry does.
func (e *Entry) String() string { return fs.FormatDirEntry(e) }

// WalkDir walks the tree rooted at root, calling fn for each file or
// directory in lexical order, root first, exactly as filepath.WalkDir does
// (same calls, same order, same meaning of fs.SkipDir and fs.SkipAll and of
// the error argument). It does not follow symbolic links.
func WalkDir(k *api.Kernel, root string, fn fs.WalkDirFunc) error {
	var err error
	var st api.Stat
	if lerr := k.Lstat(root, &st); lerr != nil {
		err = fn(root, nil, lerr)
	} else {
		err = walkDir(k, &Entry{k: k, path: root, name: path.Base(root), typ: st.Mode.FileMode().Type()}, fn)
	}
	if err == fs.SkipDir || err == fs.SkipAll {
		return nil
	}
	return err
}

func walkDir(k *api.Kernel, d *Entry, fn fs.WalkDirFunc) error {
	if err := fn(d.path, d, nil); err != nil || !d.IsDir() {
		if err == fs.SkipDir && d.IsDir() {
			err = nil
		}
		return err
	}
	ents, err := k.ReadDir(d.path)
	if err != nil {
		if err = fn(d.path, d, err); err != nil {
			if err == fs.SkipDir && d.IsDir() {
				err = nil
			}
			return err
		}
	}
	for _, de := range ents {
		c := &Entry{k: k, path: path.Join(d.path, de.Name), name: de.Name, depth: d.depth + 1}
		c.typ = de.Type.FileMode()
		if de.Type == api.DT_UNKNOWN {
			// The file system does not say: ask, as os.ReadDir does.
			var st api.Stat
			if k.Lstat(c.path, &st) == nil {
				c.typ = st.Mode.FileMode().Type()
			}
		}
		if err := walkDir(k, c, fn); err != nil {
			if err == fs.SkipDir {
				break
			}
			return err
		}
	}
	return nil
}

// Walk is WalkDir as an iterator:
//
//	for e, err := range fsutil.Walk(k, root) {
//		if err != nil { ...; continue }
//		if e.Name() == ".git" { e.SkipDir() }
//	}
//
// It yields each file with a nil error, and, when a directory cannot be
// read, that directory a second time with the error (the root with an
// error, when it cannot even be examined). Breaking out of the loop ends the
// walk.
func Walk(k *api.Kernel, root string) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		WalkDir(k, root, func(p string, d fs.DirEntry, err error) error {
			e, _ := d.(*Entry)
			if e == nil {
				e = &Entry{k: k, path: p, name: path.Base(p)}
			}
			e.skip = false
			if !yield(e, err) {
				return fs.SkipAll
			}
			if e.skip {
				return fs.SkipDir
			}
			return nil
		})
	}
}

// FileInfo is a file's status as fs.FileInfo; Sys returns the *api.Stat.
// It is api/kfs's, so that both packages hand out the same type.
type FileInfo = kfs.FileInfo

// Stat returns the status of path as fs.FileInfo, following symbolic links.
func Stat(k *api.Kernel, p string) (*FileInfo, error) {
	var st api.Stat
	if err := k.Stat(p, &st); err != nil {
		return nil, err
	}
	return kfs.NewFileInfo(path.Base(p), &st), nil
}

// Lstat is Stat that does not follow a final symbolic link.
func Lstat(k *api.Kernel, p string) (*FileInfo, error) {
	var st api.Stat
	if err := k.Lstat(p, &st); err != nil {
		return nil, err
	}
	return kfs.NewFileInfo(path.Base(p), &st), nil
}
