package fsutil

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// RemoveAll removes path and everything below it, as os.RemoveAll does: a
// path that does not exist is not an error, and the first error met is
// returned after removing all it could.
//
// It works through directory descriptors (unlinkat and openat with
// O_NOFOLLOW relative to the directory being emptied), never through longer
// and longer paths, so a symbolic link inside the tree is removed, never
// followed, even if the tree changes while RemoveAll runs; a final symbolic
// link in path itself is removed too, not its target.
//
// A directory that is not writable (a read-only copy of a module cache, a
// 0555 build tree) stops os.RemoveAll for users other than root; RemoveAll
// adds the owner's write and search bits to such a directory through its
// open descriptor, then goes on. Root needs no such help: the kernel lets it
// remove entries of read-only directories.
func RemoveAll(k *api.Kernel, path string) error {
	if path == "" {
		return nil // as os.RemoveAll
	}
	if endsWithDot(path) {
		return &fs.PathError{Op: "RemoveAll", Path: path, Err: api.EINVAL}
	}
	// The simple case: a file, a symbolic link, a missing name.
	err := k.Unlink(path)
	if err == nil || errors.Is(err, api.ENOENT) {
		return nil
	}
	parentPath, base := splitPath(path)
	if base == "" {
		// "/" (or "//"): never empty the whole file system by accident.
		return &fs.PathError{Op: "RemoveAll", Path: path, Err: api.EINVAL}
	}
	parent, err := k.Open(parentPath, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	if errors.Is(err, api.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer parent.Close()
	return removeAt(k, parent, base, path, 0)
}

// maxRemoveDepth bounds the nesting RemoveAll follows, one descriptor per
// level: a deeper tree is reported rather than exhausting descriptors.
const maxRemoveDepth = 4096

// removeAt removes name inside the directory parent; full is its whole path
// for errors.
func removeAt(k *api.Kernel, parent *api.Fd, name, full string, depth int) error {
	uerr := k.Unlinkat(parent, name, 0)
	if uerr == nil || errors.Is(uerr, api.ENOENT) {
		return nil
	}
	// Linux says EISDIR for a directory, POSIX EPERM; EACCES may be a
	// read-only parent, which the caller fixes.
	if !errors.Is(uerr, api.EISDIR) && !errors.Is(uerr, api.EPERM) {
		return withPath(uerr, full)
	}
	if depth >= maxRemoveDepth {
		return &fs.PathError{Op: "RemoveAll", Path: full, Err: api.ENAMETOOLONG}
	}
	dir, err := k.Openat(parent, name, api.O_RDONLY|api.O_DIRECTORY|api.O_NOFOLLOW|api.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, api.ENOENT) {
			return nil
		}
		if errors.Is(err, api.ENOTDIR) || errors.Is(err, api.ELOOP) {
			return withPath(uerr, full) // not a directory after all
		}
		return withPath(err, full)
	}
	defer dir.Close()
	for round := 0; ; round++ {
		names, err := readNames(dir)
		if err != nil {
			return withPath(err, full)
		}
		var first error
		fixed := false
		for _, n := range names {
			err := removeAt(k, dir, n, full+"/"+n, depth+1)
			if err != nil && !fixed && errors.Is(err, api.EACCES) {
				// dir is not writable: make it so, once, and retry.
				fixed = true
				if makeWritable(dir) {
					err = removeAt(k, dir, n, full+"/"+n, depth+1)
				}
			}
			if err != nil && first == nil {
				first = err
			}
		}
		err = k.Unlinkat(parent, name, api.AT_REMOVEDIR)
		if err == nil || errors.Is(err, api.ENOENT) {
			return nil
		}
		if first != nil {
			return first
		}
		// Entries created meanwhile: empty it again, a few times.
		if errors.Is(err, api.ENOTEMPTY) && round < 3 {
			if _, serr := dir.Lseek(0, api.SEEK_SET); serr == nil {
				continue
			}
		}
		return withPath(err, full)
	}
}

// readNames returns the names in dir, "." and ".." left out.
func readNames(dir *api.Fd) ([]string, error) {
	var names []string
	for de, err := range dir.Entries() {
		if err != nil {
			return names, err
		}
		if de.Name == "." || de.Name == ".." {
			continue
		}
		names = append(names, de.Name)
	}
	return names, nil
}

// makeWritable adds the owner's write and search bits to the open
// directory dir; it reports whether anything changed.
func makeWritable(dir *api.Fd) bool {
	var st api.Stat
	if dir.Stat(&st) != nil {
		return false
	}
	want := st.Mode&0o7777 | 0o300
	if want == st.Mode&0o7777 {
		return false
	}
	return dir.Chmod(want) == nil
}

// endsWithDot reports whether the last name of path is ".", which
// os.RemoveAll refuses too (removing "." from inside itself).
func endsWithDot(path string) bool {
	if path == "." {
		return true
	}
	return len(path) >= 2 && path[len(path)-1] == '.' && path[len(path)-2] == '/'
}

// splitPath splits path into its directory and last name, trailing slashes
// ignored: "a/b/" -> ("a", "b"), "b" -> (".", "b"), "/b" -> ("/", "b").
func splitPath(path string) (string, string) {
	for len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return ".", path
	}
	dir := path[:i]
	for len(dir) > 1 && dir[len(dir)-1] == '/' {
		dir = dir[:len(dir)-1]
	}
	if dir == "" {
		dir = "/"
	}
	return dir, path[i+1:]
}
