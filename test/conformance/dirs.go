package conformance

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// Directories: the current directory and reading entries.

func init() {
	Register(
		Case{Family: "files", Call: "chdir", Run: testChdir},
		Case{Family: "files", Call: "fchdir", Run: testFchdir},
		Case{Family: "files", Call: "getcwd", Run: testGetcwd},
		Case{Family: "files", Call: "getdents64", Run: testGetdents},
		Case{Family: "files", Call: "getdents64", Run: testGetdentsWhileDeleting},
	)
}

// fcKeepCwd returns the current directory and restores it when the case
// ends: the current directory is the whole process's.
func fcKeepCwd(t T, e *Env) string {
	t.Helper()
	cwd, err := e.K.Getcwd()
	OK(t, err, "getcwd")
	t.Cleanup(func() {
		if err := e.K.Chdir(cwd); err != nil {
			t.Errorf("restoring the current directory %s: %v", cwd, err)
		}
	})
	return cwd
}

// fcSameFile fails unless a and b name the same inode.
func fcSameFile(t T, e *Env, a, b string) {
	t.Helper()
	var sa, sb api.Stat
	OK(t, e.K.Stat(a, &sa), "stat %s", a)
	OK(t, e.K.Stat(b, &sb), "stat %s", b)
	True(t, sa.Ino == sb.Ino && sa.Dev == sb.Dev, "%s and %s are the same file", a, b)
}

func testChdir(t T, e *Env) {
	k := e.K
	cwd := fcKeepCwd(t, e)
	dir := e.TempDir(t)
	OK(t, k.Chdir(dir), "chdir")
	fcSameFile(t, e, ".", dir)
	f, err := k.Creat("rel", 0o600)
	OK(t, err, "create relative to the new directory")
	OK(t, f.Close())
	var st api.Stat
	OK(t, k.Stat(filepath.Join(dir, "rel"), &st), "the file is in the new directory")
	p := CreateFile(t, e, "file", nil)
	Want(t, k.Chdir(p), api.ENOTDIR, "chdir to a file")
	Want(t, k.Chdir(filepath.Join(dir, "missing")), api.ENOENT, "chdir to a missing directory")
	Want(t, k.Chdir("a\x00b"), api.EINVAL, "NUL in path")
	fcSameFile(t, e, ".", dir)
	OK(t, k.Chdir(cwd), "chdir back")
	fcSameFile(t, e, ".", cwd)
}

func testFchdir(t T, e *Env) {
	k := e.K
	fcKeepCwd(t, e)
	dir := e.TempDir(t)
	d, err := k.Open(dir, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer d.Close()
	OK(t, d.Chdir(), "fchdir")
	fcSameFile(t, e, ".", dir)
	got, err := k.Getcwd()
	OK(t, err, "getcwd")
	fcSameFile(t, e, got, dir)
	p := CreateFile(t, e, "file", nil)
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	Want(t, f.Chdir(), api.ENOTDIR, "fchdir to a file")
	OK(t, d.Close())
	Want(t, d.Chdir(), api.EBADF, "fchdir of a closed Fd")
	fcSameFile(t, e, ".", dir)
}

func testGetcwd(t T, e *Env) {
	k := e.K
	cwd := fcKeepCwd(t, e)
	True(t, strings.HasPrefix(cwd, "/"), "absolute: %q", cwd)
	fcSameFile(t, e, cwd, ".")

	// A path longer than a first small buffer: Getcwd must grow it. It
	// stays within the kernel's PATH_MAX (4096 on Linux, 1024 on NetBSD),
	// so that mkdir and chdir take it too.
	dir := e.TempDir(t)
	long := dir
	seg := strings.Repeat("d", 100)
	n := min(12, (pathMaxOf(e)-len(dir)-1)/(len(seg)+3))
	for i := 0; i < n; i++ {
		long = filepath.Join(long, fmt.Sprintf("%s%02d", seg, i))
		OK(t, k.Mkdir(long, 0o755), "mkdir")
	}
	True(t, len(long) > 256, "a path of %d bytes outgrows Getcwd's first buffer", len(long))
	OK(t, k.Chdir(long), "chdir into a deep directory")
	got, err := k.Getcwd()
	OK(t, err, "getcwd of a %d-byte path", len(long))
	True(t, len(got) >= n*102, "long path: %d bytes", len(got))
	True(t, strings.HasSuffix(got, long[len(dir):]), "getcwd %q ends in the path made", got)
	fcSameFile(t, e, got, long)

	// A removed current directory is reported as such, not as an error.
	OK(t, k.Rmdir(long), "rmdir the current directory")
	got, err = k.Getcwd()
	if err == nil {
		True(t, strings.Contains(got, "(deleted)") || strings.HasPrefix(got, "/"), "getcwd of a removed directory: %q", got)
	} else {
		Want(t, err, api.ENOENT, "getcwd of a removed directory")
	}
}

// pathMaxOf is the kernel's PATH_MAX, the longest path its calls take
// with the terminating NUL.
func pathMaxOf(e *Env) int {
	if v, ok := e.K.Const("PATH_MAX"); ok {
		return int(v)
	}
	return 4096
}

// fcEntries reads every entry of d from its current offset.
func fcEntries(t T, d *api.Fd) []api.Dirent {
	t.Helper()
	var out []api.Dirent
	for de, err := range d.Entries() {
		OK(t, err, "getdents64")
		out = append(out, de)
	}
	return out
}

func testGetdents(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	const n = 300 // names of 30 bytes: a few 8 KiB batches
	want := map[string]api.DirentType{".": api.DT_DIR, "..": api.DT_DIR}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("file-%04d-%s", i, strings.Repeat("n", 20))
		fcCreateAt(t, e, filepath.Join(dir, name), nil)
		want[name] = api.DT_REG
	}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("sub%d", i)
		OK(t, k.Mkdir(filepath.Join(dir, name), 0o755), "mkdir")
		want[name] = api.DT_DIR
	}
	OK(t, k.Symlink("file-0000", filepath.Join(dir, "link")), "symlink")
	want["link"] = api.DT_LNK

	d, err := k.Open(dir, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer d.Close()
	all := fcEntries(t, d)
	seen := map[string]int{}
	for i, de := range all {
		seen[de.Name]++
		typ, ok := want[de.Name]
		True(t, ok, "unexpected entry %q", de.Name)
		Eq(t, seen[de.Name], 1, "entry %q seen once", de.Name)
		if de.Type != api.DT_UNKNOWN {
			Eq(t, de.Type, typ, "type of %q", de.Name)
		}
		if de.Name != ".." && (i%50 == 0 || typ != api.DT_REG) {
			var st api.Stat
			OK(t, k.Lstat(filepath.Join(dir, de.Name), &st))
			Eq(t, de.Ino, st.Ino, "inode of %q", de.Name)
		}
	}
	Eq(t, len(all), len(want), "every entry")

	// Seeking to an entry's Off resumes right after it.
	if all[100].Off != 0 {
		_, err = d.Lseek(all[100].Off, api.SEEK_SET)
		OK(t, err, "lseek to an entry's offset")
		for de, err := range d.Entries() {
			OK(t, err)
			Eq(t, de.Name, all[101].Name, "the entry after the offset")
			break
		}
	}

	// Rewinding starts over; breaking out of a loop is fine; iterating
	// does not allocate per entry.
	_, err = d.Seek(0, io.SeekStart)
	OK(t, err, "rewind")
	count := 0
	for range d.Entries() {
		if count++; count == 5 {
			break
		}
	}
	_, err = d.Seek(0, io.SeekStart)
	OK(t, err)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.Mallocs
	count = 0
	for _, err := range d.Entries() {
		if err != nil {
			break
		}
		count++
	}
	runtime.ReadMemStats(&ms)
	allocs := ms.Mallocs - before
	Eq(t, count, len(want), "entries after rewinding")
	True(t, allocs < n/4, "%d allocations for %d entries", allocs, count)

	names, err := k.ReadDir(dir)
	OK(t, err, "ReadDir")
	Eq(t, len(names), len(want)-2, "ReadDir leaves out . and ..")
	True(t, slices.IsSortedFunc(names, func(a, b api.Dirent) int { return strings.Compare(a.Name, b.Name) }), "sorted")
	Eq(t, names[0].Name, "file-0000-"+strings.Repeat("n", 20))
	Eq(t, names[len(names)-1].Name, "sub2")

	// An empty directory has only . and ..
	empty, err := k.ReadDir(filepath.Join(dir, "sub0"))
	OK(t, err)
	Eq(t, len(empty), 0, "empty directory")
	s, err := k.Open(filepath.Join(dir, "sub0"), api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer s.Close()
	Eq(t, len(fcEntries(t, s)), 2, "empty directory entries")

	_, err = k.ReadDir(filepath.Join(dir, "missing"))
	Want(t, err, api.ENOENT, "ReadDir of a missing directory")
	f, err := k.Open(filepath.Join(dir, "file-0001-"+strings.Repeat("n", 20)), api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	_, err = f.ReadDir()
	Want(t, err, api.ENOTDIR, "entries of a regular file")
	OK(t, d.Close())
	for _, err := range d.Entries() {
		Want(t, err, api.EBADF, "entries of a closed Fd")
	}
	typ, err := api.ParseDirentType("lnk")
	OK(t, err)
	Eq(t, typ, api.DT_LNK, "ParseDirentType")
}

func testGetdentsWhileDeleting(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	const n = 400
	var files []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("del-%04d-%s", i, strings.Repeat("x", 24))
		fcCreateAt(t, e, filepath.Join(dir, name), nil)
		files = append(files, name)
	}
	d, err := k.Open(dir, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer d.Close()
	seen := map[string]bool{}
	removedAhead := map[string]bool{}
	next := 0 // files are removed ahead of the iteration from the end
	for de, err := range d.Entries() {
		OK(t, err, "getdents64 while deleting")
		True(t, !seen[de.Name], "%q yielded twice", de.Name)
		seen[de.Name] = true
		if de.Name == "." || de.Name == ".." {
			continue
		}
		True(t, strings.HasPrefix(de.Name, "del-"), "%q is one of the files", de.Name)
		if removedAhead[de.Name] {
			// Removed after its batch was read: like readdir(3), the
			// iterator may still yield it, once.
			continue
		}
		OK(t, k.Unlink(filepath.Join(dir, de.Name)), "unlink the entry just read")
		// And one more, from the other end, unless already seen.
		for next < n {
			victim := files[n-1-next]
			next++
			if !seen[victim] {
				OK(t, k.Unlink(filepath.Join(dir, victim)), "unlink ahead")
				removedAhead[victim] = true
				break
			}
		}
	}
	for _, name := range files {
		True(t, seen[name] || removedAhead[name], "%q neither removed nor seen", name)
	}
	True(t, seen["."] && seen[".."], ". and .. seen")
	left, err := k.ReadDir(dir)
	OK(t, err)
	Eq(t, len(left), 0, "every file removed")
}
