package memfs

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The expectations of the conformance suite's file and directory families,
// at memfs's level.

type clock struct {
	mu  sync.Mutex
	sec int64
}

func (c *clock) now() Timespec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Timespec{c.sec, 0}
}

func (c *clock) tick() {
	c.mu.Lock()
	c.sec++
	c.mu.Unlock()
}

func newFS(t *testing.T) (*FS, *clock) {
	t.Helper()
	c := &clock{sec: 1_700_000_000}
	return New(Options{Now: c.now, Dev: 42}), c
}

func must(t *testing.T, e Errno, what ...any) {
	t.Helper()
	if e != 0 {
		t.Fatalf("%s: %v", fmt.Sprint(what...), e)
	}
}

func want(t *testing.T, got, want Errno, what ...any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", fmt.Sprint(what...), got, want)
	}
}

func create(t *testing.T, fs *FS, path, content string) {
	t.Helper()
	f, e := fs.Open(Root, nil, path, O_WRONLY|O_CREAT|O_EXCL, 0o644, 0)
	must(t, e, "create ", path)
	defer f.Close()
	if content != "" {
		n, e := f.Write([]byte(content))
		must(t, e, "write")
		if n != len(content) {
			t.Fatalf("wrote %d", n)
		}
	}
}

func readAll(t *testing.T, fs *FS, path string) string {
	t.Helper()
	f, e := fs.Open(Root, nil, path, O_RDONLY, 0, 0)
	must(t, e, "open ", path)
	defer f.Close()
	var b bytes.Buffer
	buf := make([]byte, 7)
	for {
		n, e := f.Read(buf)
		must(t, e, "read")
		if n == 0 {
			return b.String()
		}
		b.Write(buf[:n])
	}
}

func stat(t *testing.T, fs *FS, path string, flags int) Stat {
	t.Helper()
	ino, e := fs.Lookup(Root, nil, path, flags)
	must(t, e, "lookup ", path)
	return ino.Stat()
}

func TestOpenFlags(t *testing.T) {
	fs, _ := newFS(t)
	_, e := fs.Open(Root, nil, "/f", O_RDONLY, 0, 0)
	want(t, e, ENOENT, "missing")
	f, e := fs.Open(Root, nil, "/f", O_RDWR|O_CREAT|O_EXCL, 0o600, 0)
	must(t, e, "create")
	f.Close()
	_, e = fs.Open(Root, nil, "/f", O_RDWR|O_CREAT|O_EXCL, 0o600, 0)
	want(t, e, EEXIST, "O_EXCL")
	_, e = fs.Open(Root, nil, "/f", O_RDONLY|O_DIRECTORY, 0, 0)
	want(t, e, ENOTDIR, "O_DIRECTORY on a file")
	_, e = fs.Open(Root, nil, "/f/", O_RDONLY, 0, 0)
	want(t, e, ENOTDIR, "trailing slash on a file")
	_, e = fs.Open(Root, nil, "/", O_RDWR, 0, 0)
	want(t, e, EISDIR, "directory for writing")
	_, e = fs.Open(Root, nil, "/new/", O_RDWR|O_CREAT, 0o644, 0)
	want(t, e, EISDIR, "O_CREAT with a trailing slash")
	_, e = fs.Open(Root, nil, "/missing/x", O_RDWR|O_CREAT, 0o644, 0)
	want(t, e, ENOENT, "missing parent")
	_, e = fs.Open(Root, nil, "", O_RDONLY, 0, 0)
	want(t, e, ENOENT, "empty path")
	_, e = fs.Open(Root, nil, "/"+strings.Repeat("n", 256), O_RDONLY, 0, 0)
	want(t, e, ENAMETOOLONG, "long name")

	// O_APPEND writes at the end whatever the offset; O_TRUNC empties.
	create(t, fs, "/a", "hello")
	g, e := fs.Open(Root, nil, "/a", O_WRONLY|O_APPEND, 0, 0)
	must(t, e)
	g.Write([]byte(", world"))
	g.WriteAt([]byte("!"), 0)
	g.Close()
	if s := readAll(t, fs, "/a"); s != "hello, world!" {
		t.Fatalf("append: %q", s)
	}
	h, e := fs.Open(Root, nil, "/a", O_RDWR|O_TRUNC, 0, 0)
	must(t, e)
	if h.Inode().Stat().Size != 0 {
		t.Fatal("O_TRUNC did not truncate")
	}
	h.Close()
	r, _ := fs.Open(Root, nil, "/a", O_RDONLY, 0, 0)
	_, e = r.Write([]byte("x"))
	want(t, e, EBADF, "write to a read-only file")
	w, _ := fs.Open(Root, nil, "/a", O_WRONLY, 0, 0)
	_, e = w.Read(make([]byte, 1))
	want(t, e, EBADF, "read from a write-only file")
}

func TestOpenat2Resolve(t *testing.T) {
	fs, _ := newFS(t)
	must(t, fs.Mkdir(Root, nil, "/d", 0o755))
	create(t, fs, "/d/f", "data")
	create(t, fs, "/top", "top")
	d, _ := fs.Lookup(Root, nil, "/d", Follow)
	_, e := fs.Open(Root, d, "../d/f", O_RDONLY, 0, Beneath)
	want(t, e, EXDEV, "BENEATH refuses ..")
	_, e = fs.Open(Root, d, "/d/f", O_RDONLY, 0, Beneath)
	want(t, e, EXDEV, "BENEATH refuses an absolute path")
	f, e := fs.Open(Root, d, "f", O_RDONLY, 0, Beneath)
	must(t, e, "beneath")
	f.Close()
	must(t, fs.Symlink(Root, "f", d, "l"))
	_, e = fs.Open(Root, d, "l", O_RDONLY, 0, NoSymlinks)
	want(t, e, ELOOP, "NO_SYMLINKS")
	// IN_ROOT: "/" and ".." stop at the start directory.
	f, e = fs.Open(Root, d, "/../f", O_RDONLY, 0, InRoot)
	must(t, e, "in root")
	f.Close()
	_, e = fs.Open(Root, d, "/top", O_RDONLY, 0, InRoot)
	want(t, e, ENOENT, "outside the root")
	_, e = ResolveFlags(RESOLVE_BENEATH | RESOLVE_IN_ROOT)
	want(t, e, EINVAL, "BENEATH|IN_ROOT")
	_, e = ResolveFlags(1 << 10)
	want(t, e, EINVAL, "unknown bits")
}

func TestReadWriteSparse(t *testing.T) {
	fs, _ := newFS(t)
	f, _ := fs.Open(Root, nil, "/s", O_RDWR|O_CREAT, 0o644, 0)
	defer f.Close()
	const at = 1 << 20
	_, e := f.WriteAt([]byte("data"), at)
	must(t, e)
	st := f.Inode().Stat()
	if st.Size != at+4 || st.Blocks != 8 {
		t.Fatalf("size %d blocks %d", st.Size, st.Blocks)
	}
	pos, e := f.Lseek(0, SEEK_DATA)
	must(t, e)
	if pos != at {
		t.Fatalf("SEEK_DATA %d", pos)
	}
	pos, _ = f.Lseek(0, SEEK_HOLE)
	if pos != 0 {
		t.Fatalf("SEEK_HOLE %d", pos)
	}
	pos, _ = f.Lseek(at, SEEK_HOLE)
	if pos != at+4 {
		t.Fatalf("SEEK_HOLE after data %d", pos)
	}
	_, e = f.Lseek(at+4, SEEK_DATA)
	want(t, e, ENXIO, "SEEK_DATA at the end")
	_, e = f.Lseek(-1, SEEK_SET)
	want(t, e, EINVAL, "negative")
	_, e = f.Lseek(0, 9)
	want(t, e, EINVAL, "whence")
	b := make([]byte, 8)
	n, _ := f.ReadAt(b, at-4)
	if n != 8 || string(b) != "\x00\x00\x00\x00data" {
		t.Fatalf("read across the hole: %q", b[:n])
	}
	// Punch a hole, keep the size.
	f.WriteAt(bytes.Repeat([]byte{'x'}, 3*4096), 0)
	must(t, f.Fallocate(FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE, 4096, 4096))
	if s := f.Inode().Stat(); s.Size != at+4 || s.Blocks != 3*8 {
		t.Fatalf("after punching: size %d blocks %d", s.Size, s.Blocks)
	}
	want(t, f.Fallocate(FALLOC_FL_PUNCH_HOLE, 0, 1), EOPNOTSUPP, "PUNCH_HOLE without KEEP_SIZE")
	want(t, f.Fallocate(0, 0, 0), EINVAL, "zero length")
	must(t, f.Truncate(5))
	must(t, f.Truncate(8))
	n, _ = f.ReadAt(b, 0)
	if string(b[:n]) != "xxxxx\x00\x00\x00" {
		t.Fatalf("truncated and grown: %q", b[:n])
	}
}

func TestDirectoryIteration(t *testing.T) {
	fs, _ := newFS(t)
	must(t, fs.Mkdir(Root, nil, "/d", 0o755))
	const n = 400
	for i := range n {
		create(t, fs, fmt.Sprintf("/d/f%04d", i), "")
	}
	d, e := fs.Open(Root, nil, "/d", O_RDONLY|O_DIRECTORY, 0, 0)
	must(t, e)
	defer d.Close()
	seen := map[string]int{}
	ahead := map[string]bool{}
	buf := make([]byte, 512)
	next := n - 1
	for {
		k, e := d.Getdents(buf)
		must(t, e)
		if k == 0 {
			break
		}
		for _, ent := range ParseDirents(buf[:k]) {
			seen[ent.Name]++
			if ent.Name == "." || ent.Name == ".." || ahead[ent.Name] {
				continue
			}
			must(t, fs.Unlink(Root, nil, "/d/"+ent.Name, false), "unlink ", ent.Name)
			for next >= 0 {
				victim := fmt.Sprintf("f%04d", next)
				next--
				if seen[victim] == 0 {
					must(t, fs.Unlink(Root, nil, "/d/"+victim, false))
					ahead[victim] = true
					break
				}
			}
		}
	}
	for name, c := range seen {
		if c > 1 {
			t.Errorf("%s seen %d times", name, c)
		}
	}
	for i := range n {
		if name := fmt.Sprintf("f%04d", i); seen[name] == 0 && !ahead[name] {
			t.Errorf("%s neither seen nor removed", name)
		}
	}
	if st := stat(t, fs, "/d", 0); st.Nlink != 2 {
		t.Errorf("nlink %d", st.Nlink)
	}
	if left, _ := d.Getdents(buf); left != 0 {
		t.Errorf("entries left at the end: %d bytes", left)
	}
}

func TestGetdentsOffsets(t *testing.T) {
	fs, _ := newFS(t)
	for _, n := range []string{"a", "b", "c", "d"} {
		create(t, fs, "/"+n, "")
	}
	must(t, fs.Mkdir(Root, nil, "/sub", 0o755))
	must(t, fs.Symlink(Root, "a", nil, "/lnk"))
	d, _ := fs.Open(Root, nil, "/", O_RDONLY|O_DIRECTORY, 0, 0)
	buf := make([]byte, 4096)
	k, e := d.Getdents(buf)
	must(t, e)
	ents := ParseDirents(buf[:k])
	var names []string
	types := map[string]uint8{}
	for _, x := range ents {
		names = append(names, x.Name)
		types[x.Name] = x.Type
	}
	if strings.Join(names, ",") != ".,..,a,b,c,d,sub,lnk" {
		t.Fatalf("entries %v", names)
	}
	if types["sub"] != DT_DIR || types["a"] != DT_REG || types["lnk"] != DT_LNK {
		t.Fatalf("types %v", types)
	}
	// Seeking to an entry's offset resumes right after it.
	_, e = d.Lseek(ents[3].Off, SEEK_SET)
	must(t, e)
	k, _ = d.Getdents(buf)
	if got := ParseDirents(buf[:k]); got[0].Name != "c" {
		t.Fatalf("after seek: %v", got[0])
	}
	_, e = d.Getdents(buf[:10])
	if e != 0 {
		t.Fatalf("at end with a small buffer: %v", e)
	}
	d.Lseek(0, SEEK_SET)
	_, e = d.Getdents(buf[:10])
	want(t, e, EINVAL, "buffer too small for one record")
	f, _ := fs.Open(Root, nil, "/a", O_RDONLY, 0, 0)
	_, e = f.Getdents(buf)
	want(t, e, ENOTDIR, "getdents of a file")
}

func TestRename(t *testing.T) {
	fs, _ := newFS(t)
	create(t, fs, "/a", "A")
	create(t, fs, "/c", "C")
	must(t, fs.Rename(Root, nil, "/a", nil, "/c", 0), "over a file")
	if readAll(t, fs, "/c") != "A" {
		t.Fatal("content")
	}
	_, e := fs.Lookup(Root, nil, "/a", 0)
	want(t, e, ENOENT, "old name")
	must(t, fs.Mkdir(Root, nil, "/d1", 0o755))
	must(t, fs.Mkdir(Root, nil, "/d2", 0o755))
	must(t, fs.Mkdir(Root, nil, "/d3", 0o755))
	must(t, fs.Mkdir(Root, nil, "/d2/sub", 0o755))
	want(t, fs.Rename(Root, nil, "/d1", nil, "/d2", 0), ENOTEMPTY, "onto a non-empty dir")
	want(t, fs.Rename(Root, nil, "/c", nil, "/d1", 0), EISDIR, "file onto a dir")
	want(t, fs.Rename(Root, nil, "/d1", nil, "/c", 0), ENOTDIR, "dir onto a file")
	want(t, fs.Rename(Root, nil, "/d2", nil, "/d2/sub/x", 0), EINVAL, "into itself")
	rootLinks := stat(t, fs, "/", 0).Nlink
	must(t, fs.Rename(Root, nil, "/d1", nil, "/d3", 0), "onto an empty dir")
	if n := stat(t, fs, "/", 0).Nlink; n != rootLinks-1 {
		t.Fatalf("root nlink %d, want %d", n, rootLinks-1)
	}
	must(t, fs.Rename(Root, nil, "/d3", nil, "/d2/moved", 0), "into another dir")
	if n := stat(t, fs, "/d2", 0).Nlink; n != 4 {
		t.Fatalf("d2 nlink %d", n)
	}
	must(t, fs.Mkdir(Root, nil, "/d2/moved/deep", 0o755))
	if p, _ := fs.Path(must1(fs.Lookup(Root, nil, "/d2/moved/deep", 0))); p != "/d2/moved/deep" {
		t.Fatalf("path %q", p)
	}
	create(t, fs, "/x", "X")
	create(t, fs, "/y", "Y")
	want(t, fs.Rename(Root, nil, "/x", nil, "/y", RENAME_NOREPLACE), EEXIST, "NOREPLACE")
	must(t, fs.Rename(Root, nil, "/x", nil, "/y", RENAME_EXCHANGE), "EXCHANGE")
	if readAll(t, fs, "/x") != "Y" || readAll(t, fs, "/y") != "X" {
		t.Fatal("exchange")
	}
	want(t, fs.Rename(Root, nil, "/x", nil, "/nope", RENAME_EXCHANGE), ENOENT, "exchange with a missing name")
	want(t, fs.Rename(Root, nil, "/x", nil, "/y", RENAME_EXCHANGE|RENAME_NOREPLACE), EINVAL, "both")
	// Hard links of one file: nothing happens.
	must(t, fs.Link(Root, nil, "/x", nil, "/x2", 0))
	must(t, fs.Rename(Root, nil, "/x", nil, "/x2", 0))
	if stat(t, fs, "/x", 0).Nlink != 2 {
		t.Fatal("rename between links of one file changed something")
	}
}

func must1(ino *Inode, e Errno) *Inode {
	if e != 0 {
		panic(e)
	}
	return ino
}

func TestLinksAndSymlinks(t *testing.T) {
	fs, _ := newFS(t)
	create(t, fs, "/f", "data")
	must(t, fs.Link(Root, nil, "/f", nil, "/g", 0))
	if a, b := stat(t, fs, "/f", 0), stat(t, fs, "/g", 0); a.Ino != b.Ino || a.Nlink != 2 {
		t.Fatalf("link: %+v %+v", a, b)
	}
	want(t, fs.Link(Root, nil, "/f", nil, "/g", 0), EEXIST, "again")
	want(t, fs.Link(Root, nil, "/", nil, "/dl", 0), EPERM, "a directory")
	must(t, fs.Symlink(Root, "no/such", nil, "/dangling"))
	want(t, fs.Symlink(Root, "", nil, "/empty"), ENOENT, "empty target")
	want(t, fs.Symlink(Root, "x", nil, "/dangling"), EEXIST, "existing")
	if st := stat(t, fs, "/dangling", 0); st.Mode&S_IFMT != S_IFLNK || st.Size != 7 {
		t.Fatalf("lstat %+v", st)
	}
	_, e := fs.Lookup(Root, nil, "/dangling", Follow)
	want(t, e, ENOENT, "follow a dangling link")
	target, e := fs.Readlink(Root, nil, "/dangling", 0)
	must(t, e)
	if target != "no/such" {
		t.Fatal(target)
	}
	_, e = fs.Readlink(Root, nil, "/f", 0)
	want(t, e, EINVAL, "readlink of a file")
	// Loops.
	must(t, fs.Symlink(Root, "/loop2", nil, "/loop1"))
	must(t, fs.Symlink(Root, "/loop1", nil, "/loop2"))
	_, e = fs.Lookup(Root, nil, "/loop1", Follow)
	want(t, e, ELOOP, "a loop")
	_, e = fs.Open(Root, nil, "/loop1", O_RDONLY, 0, 0)
	want(t, e, ELOOP, "open of a loop")
	// A chain of 40 links resolves; 41 do not.
	create(t, fs, "/end", "")
	prev := "/end"
	for i := range 41 {
		name := fmt.Sprintf("/chain%d", i)
		must(t, fs.Symlink(Root, prev, nil, name))
		prev = name
	}
	_, e = fs.Lookup(Root, nil, "/chain39", Follow)
	must(t, e, "40 links")
	_, e = fs.Lookup(Root, nil, "/chain40", Follow)
	want(t, e, ELOOP, "41 links")
	// O_NOFOLLOW; O_PATH|O_NOFOLLOW opens the link; O_CREAT through a
	// dangling link makes its target.
	_, e = fs.Open(Root, nil, "/dangling", O_RDONLY|O_NOFOLLOW, 0, 0)
	want(t, e, ELOOP, "O_NOFOLLOW")
	p, e := fs.Open(Root, nil, "/dangling", O_PATH|O_NOFOLLOW, 0, 0)
	must(t, e)
	if s, _ := fs.Readlink(Root, p.Inode(), "", EmptyPath); s != "no/such" {
		t.Fatal("readlink of an O_PATH link")
	}
	must(t, fs.Mkdir(Root, nil, "/no", 0o755))
	c, e := fs.Open(Root, nil, "/dangling", O_WRONLY|O_CREAT, 0o600, 0)
	must(t, e, "create through a dangling link")
	c.Close()
	stat(t, fs, "/no/such", 0)
	// Unlink keeps an open file.
	o, _ := fs.Open(Root, nil, "/f", O_RDONLY, 0, 0)
	must(t, fs.Unlink(Root, nil, "/f", false))
	must(t, fs.Unlink(Root, nil, "/g", false))
	if st := o.Inode().Stat(); st.Nlink != 0 || st.Size != 4 {
		t.Fatalf("unlinked open file %+v", st)
	}
	b := make([]byte, 4)
	if n, _ := o.Read(b); n != 4 {
		t.Fatal("read of the unlinked file")
	}
	o.Close()
}

func TestUnlinkRmdir(t *testing.T) {
	fs, _ := newFS(t)
	must(t, fs.Mkdir(Root, nil, "/d", 0o755))
	must(t, fs.Mkdir(Root, nil, "/d/in", 0o755))
	create(t, fs, "/f", "")
	want(t, fs.Unlink(Root, nil, "/d", true), ENOTEMPTY, "non-empty")
	want(t, fs.Unlink(Root, nil, "/d", false), EISDIR, "unlink of a dir")
	want(t, fs.Unlink(Root, nil, "/f", true), ENOTDIR, "rmdir of a file")
	want(t, fs.Unlink(Root, nil, "/d/.", true), EINVAL, "rmdir .")
	want(t, fs.Unlink(Root, nil, "/f/", false), ENOTDIR, "file with a slash")
	must(t, fs.Unlink(Root, nil, "/d/in/", true))
	must(t, fs.Unlink(Root, nil, "/d", true))
	want(t, fs.Unlink(Root, nil, "/d", true), ENOENT, "again")
	want(t, fs.Mkdir(Root, nil, "/f", 0o755), EEXIST, "mkdir over a file")
	want(t, fs.Mkdir(Root, nil, "/x/y", 0o755), ENOENT, "missing parent")
	// A removed current directory.
	must(t, fs.Mkdir(Root, nil, "/cwd", 0o755))
	cwd, _ := fs.Lookup(Root, nil, "/cwd", 0)
	must(t, fs.Unlink(Root, nil, "/cwd", true))
	_, e := fs.Path(cwd)
	want(t, e, ENOENT, "path of a removed dir")
	_, e = fs.Open(Root, cwd, "new", O_CREAT|O_WRONLY, 0o644, 0)
	want(t, e, ENOENT, "create in a removed dir")
}

func TestPermissions(t *testing.T) {
	fs, _ := newFS(t)
	user := &Cred{Uid: 1000, Gid: 1000}
	other := &Cred{Uid: 2000, Gid: 2000}
	must(t, fs.Chmod(Root, fs.Root(), 0o1777))
	f, e := fs.Open(user, nil, "/u", O_RDWR|O_CREAT, 0o640, 0)
	must(t, e)
	f.Close()
	ino, _ := fs.Lookup(Root, nil, "/u", 0)
	if st := ino.Stat(); st.Uid != 1000 || st.Mode&0o777 != 0o640 {
		t.Fatalf("owner %+v", st)
	}
	_, e = fs.Open(other, nil, "/u", O_RDONLY, 0, 0)
	want(t, e, EACCES, "other may not read 0640")
	want(t, fs.Access(other, ino, R_OK), EACCES, "access")
	must(t, fs.Access(user, ino, R_OK|W_OK))
	must(t, fs.Access(Root, ino, R_OK|W_OK))
	want(t, fs.Access(Root, ino, X_OK), EACCES, "root needs an x bit")
	want(t, fs.Access(Root, ino, 8), EINVAL, "bad mode")
	want(t, fs.Chmod(other, ino, 0o777), EPERM, "chmod by another user")
	want(t, fs.Chown(user, ino, 2000, -1), EPERM, "giving it away")
	must(t, fs.Chown(user, ino, 1000, 1000), "to itself")
	must(t, fs.Chown(Root, ino, 54321, 54322))
	// Sticky /: only the owner removes.
	create(t, fs, "/rootfile", "")
	want(t, fs.Unlink(user, nil, "/rootfile", false), EPERM, "sticky")
	// Set-id bits go with a change of owner.
	must(t, fs.Chmod(Root, ino, 0o6755))
	must(t, fs.Chown(Root, ino, 0, -1))
	if m := ino.Mode(); m&(S_ISUID|S_ISGID) != 0 {
		t.Fatalf("set-id bits kept across chown: %o", m)
	}
	// A directory without search permission.
	must(t, fs.Mkdir(user, nil, "/private", 0o700))
	create(t, fs, "/private/x", "")
	_, e = fs.Lookup(other, nil, "/private/x", 0)
	want(t, e, EACCES, "search")
	// Set-group-ID directories.
	must(t, fs.Mkdir(Root, nil, "/sg", 0o2775))
	sg, _ := fs.Lookup(Root, nil, "/sg", 0)
	must(t, fs.Chown(Root, sg, -1, 77))
	must(t, fs.Chmod(Root, sg, 0o2775))
	member := &Cred{Uid: 1000, Gid: 1000, Groups: []uint32{77}}
	want(t, fs.Mkdir(user, nil, "/sg/sub", 0o755), EACCES, "not in the group")
	must(t, fs.Mkdir(member, nil, "/sg/sub", 0o755))
	if st := stat(t, fs, "/sg/sub", 0); st.Gid != 77 || st.Mode&S_ISGID == 0 {
		t.Fatalf("inherited group %+v", st)
	}
	// Device nodes need root.
	want(t, fs.Mknod(user, nil, "/dev", S_IFCHR|0o600, 0x103), EPERM, "mknod as a user")
	must(t, fs.Mknod(Root, nil, "/null", S_IFCHR|0o666, 0x103))
	if st := stat(t, fs, "/null", 0); st.Rdev != 0x103 {
		t.Fatalf("rdev %x", st.Rdev)
	}
	want(t, fs.Mknod(Root, nil, "/bad", 0o170000|0o600, 0), EINVAL, "unknown type")
}

func TestTimestamps(t *testing.T) {
	fs, clk := newFS(t)
	must(t, fs.Mkdir(Root, nil, "/d", 0o755))
	clk.tick()
	create(t, fs, "/d/f", "")
	d0, f0 := stat(t, fs, "/d", 0), stat(t, fs, "/d/f", 0)
	if d0.Mtime != f0.Mtime || f0.Btime != f0.Mtime {
		t.Fatalf("creation marks the directory: %+v %+v", d0, f0)
	}
	clk.tick()
	f, _ := fs.Open(Root, nil, "/d/f", O_RDWR, 0, 0)
	f.Write([]byte("x"))
	f1 := stat(t, fs, "/d/f", 0)
	if f1.Mtime == f0.Mtime || f1.Ctime == f0.Ctime || f1.Atime != f0.Atime {
		t.Fatalf("write marks mtime and ctime only: %+v", f1)
	}
	clk.tick()
	f.ReadAt(make([]byte, 1), 0)
	f2 := stat(t, fs, "/d/f", 0)
	if f2.Atime == f1.Atime || f2.Mtime != f1.Mtime {
		t.Fatalf("read marks atime only: %+v", f2)
	}
	f.Close()
	clk.tick()
	ino, _ := fs.Lookup(Root, nil, "/d/f", 0)
	must(t, fs.Chmod(Root, ino, 0o600))
	f3 := stat(t, fs, "/d/f", 0)
	if f3.Ctime == f2.Ctime || f3.Mtime != f2.Mtime {
		t.Fatalf("chmod marks ctime only: %+v", f3)
	}
	at, mt := Timespec{1500000000, 123456789}, Timespec{1600000000, 987654321}
	must(t, fs.Utimens(Root, ino, at, mt))
	if st := ino.Stat(); st.Atime != at || st.Mtime != mt {
		t.Fatalf("utimens %+v", st)
	}
	must(t, fs.Utimens(Root, ino, Timespec{Nsec: UTIME_OMIT}, Timespec{Nsec: UTIME_NOW}))
	if st := ino.Stat(); st.Atime != at || st.Mtime != clk.now() {
		t.Fatalf("omit/now %+v", st)
	}
	want(t, fs.Utimens(Root, ino, Timespec{Nsec: 1e9}, mt), EINVAL, "bad nanoseconds")
	clk.tick()
	must(t, fs.Unlink(Root, nil, "/d/f", false))
	if d := stat(t, fs, "/d", 0); d.Mtime != clk.now() || d.Ctime != clk.now() {
		t.Fatalf("unlink marks the directory: %+v", d)
	}
}

func TestLocks(t *testing.T) {
	fs, _ := newFS(t)
	create(t, fs, "/l", strings.Repeat("x", 100))
	a, _ := fs.Open(Root, nil, "/l", O_RDWR, 0, 0)
	b, _ := fs.Open(Root, nil, "/l", O_RDWR, 0, 0)
	must(t, a.Flock(LOCK_EX))
	want(t, b.Flock(LOCK_SH|LOCK_NB), EWOULDBLOCK, "shared against exclusive")
	must(t, a.Flock(LOCK_UN))
	must(t, b.Flock(LOCK_SH|LOCK_NB))
	must(t, a.Flock(LOCK_SH|LOCK_NB))
	want(t, a.Flock(LOCK_EX|LOCK_NB), EWOULDBLOCK, "upgrade against another shared")
	must(t, a.Flock(LOCK_UN))
	done := make(chan Errno)
	go func() { done <- a.Flock(LOCK_EX) }()
	time.Sleep(10 * time.Millisecond)
	b.Close() // releases b's lock
	select {
	case e := <-done:
		must(t, e, "blocking LOCK_EX")
	case <-time.After(2 * time.Second):
		t.Fatal("LOCK_EX still waiting")
	}
	want(t, a.Flock(0), EINVAL, "no operation")

	// Record locks: one process's locks never conflict with each other;
	// OFD locks of another open file do.
	proc := Owner{Pid: 1}
	c, _ := fs.Open(Root, nil, "/l", O_RDWR, 0, 0)
	must(t, a.SetLock(proc, &Flock{Type: F_WRLCK, Start: 0, Len: 10}, false))
	l := Flock{Type: F_WRLCK, Start: 5, Len: 1}
	must(t, c.GetLock(proc, &l))
	if l.Type != F_UNLCK {
		t.Fatalf("own lock conflicts: %+v", l)
	}
	l = Flock{Type: F_WRLCK, Start: 5, Len: 1}
	must(t, c.GetLock(Owner{OFD: c}, &l))
	if l.Type != F_WRLCK || l.Start != 0 || l.Len != 10 || l.Pid != 1 {
		t.Fatalf("record lock seen from an OFD: %+v", l)
	}
	want(t, c.SetLock(Owner{OFD: c}, &Flock{Type: F_RDLCK, Start: 9, Len: 1}, false), EAGAIN, "conflict")
	must(t, c.SetLock(Owner{OFD: c}, &Flock{Type: F_RDLCK, Start: 10, Len: 5}, false), "just past")
	// Splitting: unlock the middle of the process's lock.
	must(t, a.SetLock(proc, &Flock{Type: F_UNLCK, Start: 3, Len: 2}, false))
	l = Flock{Type: F_WRLCK, Start: 3, Len: 2}
	must(t, c.GetLock(Owner{OFD: c}, &l))
	if l.Type != F_UNLCK {
		t.Fatalf("hole in the lock: %+v", l)
	}
	l = Flock{Type: F_WRLCK, Whence: SEEK_SET, Start: 0, Len: 0}
	must(t, c.GetLock(Owner{OFD: c}, &l))
	if l.Start != 0 || l.Len != 3 {
		t.Fatalf("first piece: %+v", l)
	}
	// A waiter gets the lock when the holder closes its descriptor.
	go func() { done <- c.SetLock(Owner{OFD: c}, &Flock{Type: F_WRLCK, Start: 0, Len: 10}, true) }()
	time.Sleep(10 * time.Millisecond)
	a.ReleaseLocks(1)
	select {
	case e := <-done:
		must(t, e, "F_OFD_SETLKW")
	case <-time.After(2 * time.Second):
		t.Fatal("F_OFD_SETLKW still waiting")
	}
	r, _ := fs.Open(Root, nil, "/l", O_RDONLY, 0, 0)
	want(t, r.SetLock(proc, &Flock{Type: F_WRLCK, Len: 1}, false), EBADF, "write lock on a read-only file")
	want(t, r.SetLock(proc, &Flock{Type: 7, Len: 1}, false), EINVAL, "bad type")
	c.Close()
	must(t, a.SetLock(Owner{OFD: a}, &Flock{Type: F_WRLCK, Len: 10}, false), "free after close")
}

func TestXattrs(t *testing.T) {
	fs, _ := newFS(t)
	create(t, fs, "/f", "")
	must(t, fs.Symlink(Root, "f", nil, "/l"))
	ino, _ := fs.Lookup(Root, nil, "/f", 0)
	lnk, _ := fs.Lookup(Root, nil, "/l", 0)
	must(t, fs.Setxattr(Root, ino, "user.color", []byte("blue"), 0))
	want(t, fs.Setxattr(Root, ino, "user.color", nil, XATTR_CREATE), EEXIST, "create")
	want(t, fs.Setxattr(Root, ino, "user.size", nil, XATTR_REPLACE), ENODATA, "replace")
	want(t, fs.Setxattr(Root, ino, "plain", nil, 0), EOPNOTSUPP, "no namespace")
	want(t, fs.Setxattr(Root, ino, "user.big", make([]byte, XattrSizeMax+1), 0), E2BIG, "too big")
	want(t, fs.Setxattr(Root, lnk, "user.x", nil, 0), EPERM, "user.* on a link")
	must(t, fs.Setxattr(Root, lnk, "trusted.x", []byte("t"), 0), "trusted.* on a link")
	n, e := fs.Getxattr(Root, ino, "user.color", nil)
	must(t, e)
	if n != 4 {
		t.Fatal("size query")
	}
	_, e = fs.Getxattr(Root, ino, "user.color", make([]byte, 3))
	want(t, e, ERANGE, "short buffer")
	must(t, fs.Setxattr(Root, ino, "user.a", nil, 0))
	buf := make([]byte, 100)
	n, _ = fs.Listxattr(Root, ino, buf)
	if got := string(buf[:n]); got != "user.a\x00user.color\x00" {
		t.Fatalf("list %q", got)
	}
	must(t, fs.Removexattr(Root, ino, "user.a"))
	want(t, fs.Removexattr(Root, ino, "user.a"), ENODATA, "again")
}

func TestMemfdSeals(t *testing.T) {
	fs, _ := newFS(t)
	f := fs.Anonymous(Root, 0o600, O_RDWR, true)
	defer f.Close()
	f.Write([]byte("in memory"))
	s, e := f.Seals()
	must(t, e)
	if s != 0 {
		t.Fatal("seals")
	}
	must(t, f.AddSeals(F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW))
	_, e = f.WriteAt([]byte("x"), 0)
	want(t, e, EPERM, "sealed write")
	want(t, f.Truncate(1), EPERM, "sealed shrink")
	must(t, f.AddSeals(F_SEAL_SEAL))
	want(t, f.AddSeals(F_SEAL_FUTURE_WRITE), EPERM, "after F_SEAL_SEAL")
	g := fs.Anonymous(Root, 0o600, O_RDWR, false)
	if s, _ := g.Seals(); s != F_SEAL_SEAL {
		t.Fatal("unsealable")
	}
	create(t, fs, "/plain", "")
	p, _ := fs.Open(Root, nil, "/plain", O_RDWR, 0, 0)
	_, e = p.Seals()
	want(t, e, EINVAL, "seals of a plain file")
}

func TestTmpfileAndCapacity(t *testing.T) {
	c := &clock{sec: 1}
	fs := New(Options{Now: c.now, Capacity: 8 * 4096})
	f, e := fs.Open(Root, nil, "/", O_TMPFILE|O_RDWR, 0o600, 0)
	must(t, e, "O_TMPFILE")
	f.Write([]byte("anonymous"))
	must(t, fs.Link(Root, f.Inode(), "", nil, "/named", EmptyPath))
	if readAll(t, fs, "/named") != "anonymous" {
		t.Fatal("tmpfile content")
	}
	_, e = fs.Open(Root, nil, "/", O_TMPFILE|O_RDONLY, 0o600, 0)
	want(t, e, EINVAL, "O_TMPFILE read-only")
	g, _ := fs.Open(Root, nil, "/big", O_RDWR|O_CREAT, 0o600, 0)
	n, e := g.Write(make([]byte, 10*4096))
	if n != 7*4096 || e != 0 {
		t.Fatalf("write into a full fs: %d %v", n, e)
	}
	_, e = g.Write(make([]byte, 1))
	want(t, e, ENOSPC, "full")
	g.Close()
	must(t, fs.Unlink(Root, nil, "/big", false))
	if st := fs.Statfs(); st.Bfree != 7 || st.Type != TmpfsMagic {
		t.Fatalf("statfs after freeing: %+v", st)
	}
}

func TestConcurrent(t *testing.T) {
	fs, _ := newFS(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := fmt.Sprintf("/g%d", g)
			if e := fs.Mkdir(Root, nil, dir, 0o755); e != 0 {
				t.Error(e)
				return
			}
			for i := range 50 {
				p := fmt.Sprintf("%s/f%d", dir, i)
				f, e := fs.Open(Root, nil, p, O_RDWR|O_CREAT, 0o644, 0)
				if e != 0 {
					t.Error(e)
					return
				}
				f.Write([]byte(p))
				f.Close()
				if i%2 == 0 {
					fs.Unlink(Root, nil, p, false)
				}
			}
		}()
	}
	wg.Wait()
	d, _ := fs.Open(Root, nil, "/g3", O_RDONLY, 0, 0)
	buf := make([]byte, 1<<16)
	n, _ := d.Getdents(buf)
	var names []string
	for _, e := range ParseDirents(buf[:n]) {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	if len(names) != 27 {
		t.Fatalf("%d entries: %v", len(names), names)
	}
}

func TestNotify(t *testing.T) {
	var evs []string
	c := &clock{sec: 1}
	fs := New(Options{Now: c.now, Notify: func(e Event) {
		where := "self"
		if e.Dir != nil {
			where = "dir:" + e.Name
		}
		evs = append(evs, fmt.Sprintf("%s %#x", where, e.Mask))
	}})
	must(t, fs.Mkdir(Root, nil, "/d", 0o755))
	f, e := fs.Open(Root, nil, "/d/f", O_WRONLY|O_CREAT, 0o644, 0)
	must(t, e)
	f.Write([]byte("x"))
	f.Close()
	must(t, fs.Rename(Root, nil, "/d/f", nil, "/d/g", 0))
	must(t, fs.Unlink(Root, nil, "/d/g", false))
	must(t, fs.Unlink(Root, nil, "/d", true))
	want := []string{
		"dir:d 0x40000100",                       // mkdir: IN_CREATE|IN_ISDIR
		"dir:f 0x100",                            // IN_CREATE
		"dir:f 0x20",                             // IN_OPEN
		"dir:f 0x2",                              // IN_MODIFY
		"dir:f 0x8",                              // IN_CLOSE_WRITE
		"dir:f 0x40", "dir:g 0x80", "self 0x800", // IN_MOVED_FROM, IN_MOVED_TO, IN_MOVE_SELF
		"dir:g 0x200", "self 0x400", // IN_DELETE, IN_DELETE_SELF
		"dir:d 0x40000200", "self 0x40000400",
	}
	if strings.Join(evs, "; ") != strings.Join(want, "; ") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(evs, "\n"), strings.Join(want, "\n"))
	}
}

func TestMetadataEdges(t *testing.T) {
	fs, _ := newFS(t)
	must(t, fs.Mkdir(Root, nil, "/d", 0o755))
	create(t, fs, "/d/f", "data")
	d, _ := fs.Lookup(Root, nil, "/d", 0)
	f, _ := fs.Lookup(Root, nil, "/d/f", 0)
	want(t, fs.Truncate(Root, d, 0), EISDIR, "truncate of a directory")
	want(t, fs.Truncate(Root, f, -1), EINVAL, "negative length")
	_, e := fs.Readlink(Root, f, "", EmptyPath)
	want(t, e, ENOENT, "readlink of a non-link by an empty path")
	_, e = fs.Readlink(Root, nil, "/d", 0)
	want(t, e, EINVAL, "readlink of a directory")
	// Times: another user may set "now" only with write permission, and
	// explicit times only as the owner.
	user := &Cred{Uid: 1000, Gid: 1000}
	now := Timespec{Nsec: UTIME_NOW}
	want(t, fs.Utimens(user, f, now, now), EACCES, "UTIME_NOW without write permission")
	want(t, fs.Utimens(user, f, Timespec{Sec: 5}, now), EPERM, "explicit time by another user")
	must(t, fs.Chmod(Root, f, 0o666))
	must(t, fs.Utimens(user, f, now, now), "UTIME_NOW with write permission")
	// security.* holds nothing: reads find no data, writes are refused.
	_, e = fs.Getxattr(Root, f, "security.capability", nil)
	want(t, e, ENODATA, "security.* read")
	want(t, fs.Setxattr(Root, f, "security.capability", []byte("x"), 0), EOPNOTSUPP, "security.* write")
	// Directory link counts follow subdirectories.
	must(t, fs.Mkdir(Root, nil, "/d/a", 0o755))
	must(t, fs.Mkdir(Root, nil, "/d/b", 0o755))
	if st := d.Stat(); st.Nlink != 4 {
		t.Fatalf("nlink with two subdirectories: %d", st.Nlink)
	}
	must(t, fs.Unlink(Root, nil, "/d/a", true))
	if st := d.Stat(); st.Nlink != 3 {
		t.Fatalf("nlink after rmdir: %d", st.Nlink)
	}
	// A trailing slash needs a directory; "." and ".." are not names to
	// make or remove.
	want(t, fs.Mkdir(Root, nil, "/d/.", 0o755), EEXIST, "mkdir .")
	want(t, fs.Rename(Root, nil, "/d/b", nil, "/d/..", 0), EBUSY, "rename onto ..")
	must(t, fs.Mkdir(Root, nil, "/d/c/", 0o755), "mkdir with a trailing slash")
	want(t, fs.Symlink(Root, "x", nil, "/d/l/"), ENOENT, "symlink named with a trailing slash")
	// Hard links share everything; ctime moves on link.
	must(t, fs.Link(Root, nil, "/d/f", nil, "/d/g", 0))
	if a, b := stat(t, fs, "/d/f", 0), stat(t, fs, "/d/g", 0); a != b || a.Nlink != 2 {
		t.Fatalf("links differ: %+v %+v", a, b)
	}
}
