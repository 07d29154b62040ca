package api

import (
	"errors"
	"io/fs"
	"iter"
	"slices"
	"strings"
	"unsafe"
)

// Directories: the current directory (chdir, fchdir, getcwd) and reading
// entries (getdents64).

var (
	sysChdir    = newCall("chdir")
	sysFchdir   = newCall("fchdir")
	sysGetcwd   = newCall("getcwd", "__getcwd")
	sysGetdents = newCall("getdents64", "__getdents30")
)

// dirState is the per-Kernel state of the directory calls: where the ABI's
// directory entry keeps its fields.
type dirState struct {
	dirent layout // size 0: the ABI has no entry layout api knows, getdents answers ENOSYS
	// off and namlen are optional: Linux has d_off but no d_namlen, NetBSD
	// the reverse.
	ino, off, reclen, typ, namlen fieldAt
	nameOff                       int
}

func (s *dirState) init(k *Kernel) error {
	l := k.optLayout("linux_dirent64")
	if l.size == 0 {
		l = k.optLayout("dirent")
	}
	if l.size == 0 {
		return nil
	}
	var err error
	s.ino = l.field("d_ino")
	if !s.ino.ok() {
		if s.ino, err = l.must("d_fileno"); err != nil {
			return err
		}
	}
	if s.reclen, err = l.must("d_reclen"); err != nil {
		return err
	}
	if s.typ, err = l.must("d_type"); err != nil {
		return err
	}
	name, err := l.must("d_name")
	if err != nil {
		return err
	}
	s.off = l.field("d_off")
	s.namlen = l.field("d_namlen")
	s.nameOff = int(name.off)
	for _, f := range []fieldAt{s.ino, s.off, s.reclen, s.typ, s.namlen} {
		if int(f.off)+int(f.size) > s.nameOff {
			return errMissing("a directory entry whose name comes last")
		}
	}
	s.dirent = l
	return nil
}

// Chdir changes the current directory of the process (chdir). Every thread
// and goroutine shares it, so libraries should prefer *at calls with a
// directory Fd.
func (k *Kernel) Chdir(path string) error {
	return errOnly(k.pathCall("chdir", sysChdir, path, 0, 0))
}

// Chdir makes the open directory the current directory of the process
// (fchdir).
func (f *Fd) Chdir() error { return errOnly(f.fdCall("fchdir", sysFchdir, 0, 0, 0)) }

// dirGetcwdMax bounds the buffer Getcwd grows to.
const dirGetcwdMax = 1 << 20

// Getcwd returns the absolute path of the current directory (getcwd). It
// grows its buffer while the kernel answers ERANGE, so paths longer than
// PATH_MAX work where the kernel allows them. A current directory outside
// the process's root answers ENOENT.
func (k *Kernel) Getcwd() (string, error) {
	var sb [256]byte
	_, e := k.syscall(sysGetcwd, uintptr(unsafe.Pointer(&sb)), uintptr(len(sb)), 0, 0, 0, 0)
	if e == 0 {
		return dirCwdString(sb[:])
	}
	for size := k.meta.pathMax; e == ERANGE && size <= dirGetcwdMax; size *= 4 {
		b := make([]byte, size)
		_, e = k.syscall(sysGetcwd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0, 0)
		if e == 0 {
			return dirCwdString(b)
		}
	}
	return "", callErr("getcwd", e)
}

func dirCwdString(b []byte) (string, error) {
	s := goString(b)
	if !strings.HasPrefix(s, "/") {
		// Linux's "(unreachable)/..." for a directory outside our root.
		return "", callErr("getcwd", ENOENT)
	}
	return s, nil
}

// Dirent is one directory entry.
type Dirent struct {
	Ino  uint64
	Off  int64      // the position after this entry, for Lseek (Linux; 0 elsewhere)
	Type DirentType // DT_REG, DT_DIR, ...; DT_UNKNOWN where the file system does not say: use Lstat
	Name string
}

// direntBatch is the size of the buffer Entries reads each batch into.
const direntBatch = 8 << 10

// getdents reads a batch of raw entries into buf.
func (f *Fd) getdents(buf []byte) (int, error) {
	c := sysGetdents
	if f.k.files.dir.dirent.size == 0 {
		c = sysNone // ENOSYS, but a closed f is EBADF first
	}
	r, err := f.fdBufCall("getdents64", c, bufPtr(buf), uintptr(len(buf)), 0)
	if errors.Is(err, EINVAL) && f.k.table.OS == "netbsd" {
		// NetBSD answers EINVAL for a descriptor that is not a
		// directory, Linux ENOTDIR.
		var st Stat
		if f.Stat(&st) == nil && !st.IsDir() {
			err = callErr("getdents64", ENOTDIR)
		}
	}
	return int(r), err
}

// decode reads the entry at the start of b and returns it with its length.
// The name aliases b, which the caller never writes again.
func (s *dirState) decode(k *Kernel, b []byte) (Dirent, int, bool) {
	be := s.dirent.be
	if len(b) < s.nameOff {
		return Dirent{}, 0, false
	}
	rl := int(s.reclen.uint(b, be))
	if rl < s.nameOff || rl > len(b) {
		return Dirent{}, 0, false
	}
	var nl int
	if s.namlen.ok() {
		nl = int(s.namlen.uint(b, be))
		if s.nameOff+nl > rl {
			return Dirent{}, 0, false
		}
	} else if rl > s.nameOff {
		nl = strings.IndexByte(unsafe.String(&b[s.nameOff], rl-s.nameOff), 0)
		if nl < 0 {
			nl = rl - s.nameOff
		}
	}
	var name string
	if nl > 0 {
		name = unsafe.String(&b[s.nameOff], nl)
	}
	return Dirent{
		Ino:  s.ino.uint(b, be),
		Off:  s.off.int(b, be),
		Type: DirentType(k.enumFromABI(direntTypeFamily, s.typ.uint(b, be))),
		Name: name,
	}, rl, true
}

// Entries iterates over the directory's entries from the current offset
// (getdents64), "." and ".." included, in the kernel's order:
//
//	for de, err := range dir.Entries() {
//		if err != nil { ... }
//		fmt.Println(de.Name, de.Type)
//	}
//
// It allocates nothing per entry: it reads entries in batches into an 8 KiB
// buffer of its own, and each Name points into its batch's buffer, which is
// never written again (so names stay valid, and keep the batch alive; clone
// a few names to keep from a huge directory with strings.Clone). An error
// ends the iteration after it is yielded. Entries added or removed while
// iterating may or may not be seen, as with readdir(3); none is yielded
// twice. Lseek(0, SEEK_SET) starts over.
func (f *Fd) Entries() iter.Seq2[Dirent, error] {
	return func(yield func(Dirent, error) bool) {
		if f == nil {
			yield(Dirent{}, callErr("getdents64", EBADF))
			return
		}
		s := &f.k.files.dir
		for {
			buf := make([]byte, direntBatch)
			n, err := f.getdents(buf)
			if err != nil {
				yield(Dirent{}, err)
				return
			}
			if n == 0 {
				return
			}
			for off := 0; off < n; {
				de, rl, ok := s.decode(f.k, buf[off:n])
				if !ok {
					yield(Dirent{}, callErr("getdents64", EIO))
					return
				}
				off += rl
				if !yield(de, nil) {
					return
				}
			}
		}
	}
}

// ReadDir returns the directory's remaining entries without "." and "..",
// sorted by name.
func (f *Fd) ReadDir() ([]Dirent, error) {
	var out []Dirent
	for de, err := range f.Entries() {
		if err != nil {
			return out, err
		}
		if de.Name == "." || de.Name == ".." {
			continue
		}
		out = append(out, de)
	}
	slices.SortFunc(out, func(a, b Dirent) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ReadDir returns the entries of the directory at path without "." and "..",
// sorted by name.
func (k *Kernel) ReadDir(path string) ([]Dirent, error) {
	f, err := k.Open(path, O_RDONLY|O_DIRECTORY|O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir()
}

// FileMode returns the type bits of fs.FileMode for a directory entry's
// type; DT_REG and DT_UNKNOWN give 0.
func (t DirentType) FileMode() fs.FileMode {
	switch t {
	case DT_DIR:
		return fs.ModeDir
	case DT_LNK:
		return fs.ModeSymlink
	case DT_FIFO:
		return fs.ModeNamedPipe
	case DT_SOCK:
		return fs.ModeSocket
	case DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case DT_BLK:
		return fs.ModeDevice
	}
	return 0
}
