package conformance

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Extended attributes in the user.* namespace: set, get, list and remove,
// each on a path, on a link itself (l*) and on an open file (f*).

func init() {
	Register(
		Case{Family: "files", Call: "setxattr", Run: testSetxattr},
		Case{Family: "files", Call: "lsetxattr", Run: testLsetxattr},
		Case{Family: "files", Call: "fsetxattr", Run: testFsetxattr},
		Case{Family: "files", Call: "getxattr", Run: testGetxattr},
		Case{Family: "files", Call: "lgetxattr", Run: testLgetxattr},
		Case{Family: "files", Call: "fgetxattr", Run: testFgetxattr},
		Case{Family: "files", Call: "listxattr", Run: testListxattr},
		Case{Family: "files", Call: "llistxattr", Run: testLlistxattr},
		Case{Family: "files", Call: "flistxattr", Run: testFlistxattr},
		Case{Family: "files", Call: "removexattr", Run: testRemovexattr},
		Case{Family: "files", Call: "lremovexattr", Run: testLremovexattr},
		Case{Family: "files", Call: "fremovexattr", Run: testFremovexattr},
	)
}

// fmXattrNames are the names fmXattrFile's cleanup removes from a directory
// outside the test's own temp dir.
var fmXattrNames = []string{"f", "l", "g"}

// fmXattrFile returns a fresh empty file "f" in a directory whose file
// system takes user.* attributes: the case's temp dir, else one made under
// /dev/shm or /var/tmp (tmpfs has user xattrs only since Linux 6.6). It
// skips the case, naming the file systems tried, if none does.
func fmXattrFile(t T, e *Env) string {
	t.Helper()
	k := e.K
	var tried []string
	probe := func(dir string) bool {
		p := filepath.Join(dir, "f")
		f, err := k.Open(p, api.O_RDWR|api.O_CREAT|api.O_EXCL|api.O_CLOEXEC, 0o644)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", dir, err))
			return false
		}
		defer f.Close()
		err = f.Setxattr("user.anykernel.probe", []byte("1"), 0)
		if err == nil {
			OK(t, f.Removexattr("user.anykernel.probe"), "remove the probe attribute")
			return true
		}
		NoSys(t, err)
		if !errors.Is(err, api.EOPNOTSUPP) {
			t.Fatalf("fsetxattr probe in %s: %v", dir, err)
		}
		tried = append(tried, fmt.Sprintf("%s (%s: %v)", dir, fmFsType(t, e, dir), err))
		k.Unlink(p)
		return false
	}
	if dir := e.TempDir(t); probe(dir) {
		return filepath.Join(dir, "f")
	}
	for _, base := range []string{"/dev/shm", "/var/tmp"} {
		dir := filepath.Join(base, "anykernel-xattr-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		if err := k.Mkdir(dir, 0o700); err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", base, err))
			continue
		}
		t.Cleanup(func() {
			for _, n := range fmXattrNames {
				k.Unlink(filepath.Join(dir, n))
			}
			k.Rmdir(dir)
		})
		if probe(dir) {
			return filepath.Join(dir, "f")
		}
	}
	t.Skipf("no file system here takes user.* extended attributes: %s", strings.Join(tried, "; "))
	return ""
}

// fmFsType names the file system of dir for skip messages, from
// /proc/self/mounts when the kernel has one.
func fmFsType(t T, e *Env, dir string) string {
	f, err := e.K.Open("/proc/self/mounts", api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return "file system unknown"
	}
	defer f.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err != nil || n == 0 {
			break
		}
	}
	best, fstype := "", "file system unknown"
	for _, line := range strings.Split(b.String(), "\n") {
		w := strings.Fields(line)
		if len(w) < 3 {
			continue
		}
		mp := w[1]
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, fstype = mp, w[2]
		}
	}
	return fstype
}

// fmGetx reads an attribute's value through a path.
func fmGetx(t T, e *Env, path, name string) string {
	t.Helper()
	b := make([]byte, 256)
	n, err := e.K.Getxattr(path, name, b)
	OK(t, err, "getxattr %s %s", path, name)
	return string(b[:n])
}

// fmXattrBadNames checks the names rejected before any call: empty, NUL,
// longer than XATTR_NAME_MAX.
func fmXattrBadNames(t T, e *Env, call func(name string) error) {
	t.Helper()
	Want(t, call(""), api.EINVAL, "empty name")
	Want(t, call("user.a\x00b"), api.EINVAL, "NUL in the name")
	max := 255
	if v, ok := e.K.Const("XATTR_NAME_MAX"); ok {
		max = int(v)
	}
	long := "user." + strings.Repeat("n", max-5+1)
	err := call(long)
	Want(t, err, api.EINVAL, "name longer than XATTR_NAME_MAX")
	True(t, strings.Contains(err.Error(), "XATTR_NAME_MAX"), "error says why: %v", err)
}

func testSetxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	OK(t, k.Setxattr(p, "user.color", []byte("blue"), 0), "setxattr")
	Eq(t, fmGetx(t, e, p, "user.color"), "blue")
	Want(t, k.Setxattr(p, "user.color", []byte("red"), api.XATTR_CREATE), api.EEXIST, "XATTR_CREATE on an existing attribute")
	Want(t, k.Setxattr(p, "user.size", []byte("1"), api.XATTR_REPLACE), api.ENODATA, "XATTR_REPLACE on a missing attribute")
	OK(t, k.Setxattr(p, "user.color", []byte("green"), api.XATTR_REPLACE), "XATTR_REPLACE")
	Eq(t, fmGetx(t, e, p, "user.color"), "green")
	OK(t, k.Setxattr(p, "user.empty", nil, api.XATTR_CREATE), "an empty value")
	Eq(t, fmGetx(t, e, p, "user.empty"), "")
	// setxattr follows symbolic links.
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	OK(t, k.Setxattr(l, "user.via-link", []byte("x"), 0), "setxattr through a link")
	Eq(t, fmGetx(t, e, p, "user.via-link"), "x", "set on the target")

	Want(t, k.Setxattr(p, "nonamespace", []byte("x"), 0), api.EOPNOTSUPP, "a name without a namespace")
	Want(t, k.Setxattr(p, "user.big", make([]byte, 1<<16+1), 0), api.E2BIG, "a value over XATTR_SIZE_MAX")
	Want(t, k.Setxattr(p, "user.x", nil, api.XattrFlags(4)), api.EINVAL, "unknown flag bits")
	Want(t, k.Setxattr(filepath.Join(filepath.Dir(p), "missing"), "user.x", nil, 0), api.ENOENT, "missing file")
	Want(t, k.Setxattr(p+"\x00", "user.x", nil, 0), api.EINVAL, "NUL in the path")
	fmXattrBadNames(t, e, func(name string) error { return k.Setxattr(p, name, []byte("v"), 0) })
	fl, err := api.ParseXattrFlags("create")
	OK(t, err)
	Eq(t, fl, api.XATTR_CREATE)
}

func testLsetxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	OK(t, k.Lsetxattr(p, "user.plain", []byte("v"), 0), "lsetxattr on a regular file")
	Eq(t, fmGetx(t, e, p, "user.plain"), "v")
	// On a link itself: Linux allows no user.* attributes on links, which
	// shows the call did not follow it.
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	Want(t, k.Lsetxattr(l, "user.onlink", []byte("v"), 0), api.EPERM, "user.* on a symbolic link")
	_, err := k.Getxattr(p, "user.onlink", nil)
	Want(t, err, api.ENODATA, "the target got nothing")
	if e.Target.Root() {
		// trusted.* may sit on links; only root sees it.
		err := k.Lsetxattr(l, "trusted.anykernel", []byte("t"), 0)
		if !errors.Is(err, api.EOPNOTSUPP) {
			OK(t, err, "trusted.* on a link as root")
			b := make([]byte, 8)
			n, err := k.Lgetxattr(l, "trusted.anykernel", b)
			OK(t, err)
			Eq(t, string(b[:n]), "t", "the link's attribute")
		}
	}
	fmXattrBadNames(t, e, func(name string) error { return k.Lsetxattr(p, name, nil, 0) })
}

func testFsetxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	OK(t, f.Setxattr("user.fd", []byte("through the fd"), 0), "fsetxattr on a read-only fd")
	Eq(t, fmGetx(t, e, p, "user.fd"), "through the fd")
	Want(t, f.Setxattr("user.fd", []byte("x"), api.XATTR_CREATE), api.EEXIST, "XATTR_CREATE on an existing attribute")
	Want(t, f.Setxattr("user.x", nil, api.XattrFlags(8)), api.EINVAL, "unknown flag bits")
	fmXattrBadNames(t, e, func(name string) error { return f.Setxattr(name, nil, 0) })
	OK(t, f.Close())
	Want(t, f.Setxattr("user.fd", nil, 0), api.EBADF, "closed fd")
	var nilFd *api.Fd
	Want(t, nilFd.Setxattr("user.fd", nil, 0), api.EBADF, "nil fd")
}

func testGetxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	val := "a value of 24 bytes long"
	OK(t, k.Setxattr(p, "user.v", []byte(val), 0))
	n, err := k.Getxattr(p, "user.v", nil)
	OK(t, err, "size query with a nil buffer")
	Eq(t, n, len(val), "size")
	b := make([]byte, n)
	n, err = k.Getxattr(p, "user.v", b)
	OK(t, err, "getxattr with an exact buffer")
	Eq(t, string(b[:n]), val)
	_, err = k.Getxattr(p, "user.v", make([]byte, 3))
	Want(t, err, api.ERANGE, "a buffer too small")
	_, err = k.Getxattr(p, "user.missing", b)
	Want(t, err, api.ENODATA, "a missing attribute")
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	Eq(t, fmGetx(t, e, l, "user.v"), val, "getxattr follows links")
	_, err = k.Getxattr(filepath.Join(filepath.Dir(p), "missing"), "user.v", b)
	Want(t, err, api.ENOENT, "missing file")
	fmXattrBadNames(t, e, func(name string) error { _, err := k.Getxattr(p, name, b); return err })
}

func testLgetxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	OK(t, k.Setxattr(p, "user.v", []byte("target's"), 0))
	b := make([]byte, 64)
	n, err := k.Lgetxattr(p, "user.v", b)
	OK(t, err, "lgetxattr on a regular file")
	Eq(t, string(b[:n]), "target's")
	n, err = k.Lgetxattr(p, "user.v", nil)
	OK(t, err, "size query")
	Eq(t, n, 8)
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	_, err = k.Lgetxattr(l, "user.v", b)
	Want(t, err, api.ENODATA, "lgetxattr does not follow the link")
	fmXattrBadNames(t, e, func(name string) error { _, err := k.Lgetxattr(p, name, b); return err })
}

func testFgetxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	OK(t, k.Setxattr(p, "user.v", []byte("0123456789"), 0))
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	n, err := f.Getxattr("user.v", nil)
	OK(t, err, "fgetxattr size query")
	Eq(t, n, 10)
	b := make([]byte, 10)
	n, err = f.Getxattr("user.v", b)
	OK(t, err, "fgetxattr")
	Eq(t, string(b[:n]), "0123456789")
	_, err = f.Getxattr("user.v", b[:9])
	Want(t, err, api.ERANGE, "a buffer one byte short")
	_, err = f.Getxattr("user.none", b)
	Want(t, err, api.ENODATA, "missing attribute")
	fmXattrBadNames(t, e, func(name string) error { _, err := f.Getxattr(name, b); return err })
	OK(t, f.Close())
	_, err = f.Getxattr("user.v", b)
	Want(t, err, api.EBADF, "closed fd")
	var nilFd *api.Fd
	_, err = nilFd.Getxattr("user.v", b)
	Want(t, err, api.EBADF, "nil fd")
}

// fmUserNames keeps the user.* names of a list (file systems may add
// security.* ones of their own).
func fmUserNames(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, "user.") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// fmSetMany sets n attributes with long names, so that the list outgrows
// the first buffer api tries.
func fmSetMany(t T, e *Env, set func(name string, v []byte) error, n int) []string {
	t.Helper()
	var names []string
	for i := range n {
		name := fmt.Sprintf("user.attribute-with-a-rather-long-name-%03d", i)
		OK(t, set(name, []byte{byte(i)}), "set %s", name)
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func testListxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	names, err := k.Listxattr(p)
	OK(t, err, "listxattr of a fresh file")
	Eq(t, len(fmUserNames(names)), 0, "no user attributes yet")
	True(t, names != nil, "an empty list is not nil")
	OK(t, k.Setxattr(p, "user.a", []byte("1"), 0))
	OK(t, k.Setxattr(p, "user.bb", nil, 0))
	names, err = k.Listxattr(p)
	OK(t, err)
	Eq(t, strings.Join(fmUserNames(names), ","), "user.a,user.bb", "names")
	want := fmSetMany(t, e, func(n string, v []byte) error { return k.Setxattr(p, n, v, 0) }, 40)
	want = append(want, "user.a", "user.bb")
	slices.Sort(want)
	names, err = k.Listxattr(p)
	OK(t, err, "listxattr of a list over 1 KiB")
	Eq(t, strings.Join(fmUserNames(names), ","), strings.Join(want, ","), "all names")
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	names, err = k.Listxattr(l)
	OK(t, err, "listxattr through a link")
	Eq(t, len(fmUserNames(names)), len(want), "the target's list")
	_, err = k.Listxattr(filepath.Join(filepath.Dir(p), "missing"))
	Want(t, err, api.ENOENT, "missing file")
	_, err = k.Listxattr("x\x00")
	Want(t, err, api.EINVAL, "NUL in the path")
}

func testLlistxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	OK(t, k.Setxattr(p, "user.on-target", []byte("1"), 0))
	names, err := k.Llistxattr(p)
	OK(t, err, "llistxattr of a regular file")
	Eq(t, strings.Join(fmUserNames(names), ","), "user.on-target")
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	names, err = k.Llistxattr(l)
	OK(t, err, "llistxattr of a link")
	Eq(t, len(fmUserNames(names)), 0, "the link's own list has no user.* names")
	_, err = k.Llistxattr(filepath.Join(filepath.Dir(p), "missing"))
	Want(t, err, api.ENOENT, "missing file")
}

func testFlistxattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	want := fmSetMany(t, e, func(n string, v []byte) error { return f.Setxattr(n, v, 0) }, 30)
	names, err := f.Listxattr()
	OK(t, err, "flistxattr")
	Eq(t, strings.Join(fmUserNames(names), ","), strings.Join(want, ","))
	OK(t, f.Close())
	_, err = f.Listxattr()
	Want(t, err, api.EBADF, "closed fd")
	var nilFd *api.Fd
	_, err = nilFd.Listxattr()
	Want(t, err, api.EBADF, "nil fd")
}

func testRemovexattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	OK(t, k.Setxattr(p, "user.gone", []byte("soon"), 0))
	OK(t, k.Setxattr(p, "user.stays", []byte("yes"), 0))
	OK(t, k.Removexattr(p, "user.gone"), "removexattr")
	_, err := k.Getxattr(p, "user.gone", nil)
	Want(t, err, api.ENODATA, "removed")
	Eq(t, fmGetx(t, e, p, "user.stays"), "yes", "the other attribute stays")
	Want(t, k.Removexattr(p, "user.gone"), api.ENODATA, "removing again")
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	OK(t, k.Removexattr(l, "user.stays"), "removexattr through a link")
	_, err = k.Getxattr(p, "user.stays", nil)
	Want(t, err, api.ENODATA, "removed from the target")
	Want(t, k.Removexattr(p+"\x00", "user.x"), api.EINVAL, "NUL in the path")
	fmXattrBadNames(t, e, func(name string) error { return k.Removexattr(p, name) })
}

func testLremovexattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	OK(t, k.Setxattr(p, "user.x", []byte("1"), 0))
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	err := k.Lremovexattr(l, "user.x")
	True(t, errors.Is(err, api.EPERM) || errors.Is(err, api.ENODATA), "lremovexattr on the link does not reach the target: %v", err)
	Eq(t, fmGetx(t, e, p, "user.x"), "1", "the target keeps it")
	OK(t, k.Lremovexattr(p, "user.x"), "lremovexattr on a regular file")
	_, err = k.Getxattr(p, "user.x", nil)
	Want(t, err, api.ENODATA, "removed")
	fmXattrBadNames(t, e, func(name string) error { return k.Lremovexattr(p, name) })
}

func testFremovexattr(t T, e *Env) {
	k := e.K
	p := fmXattrFile(t, e)
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	OK(t, f.Setxattr("user.x", []byte("1"), 0))
	OK(t, f.Removexattr("user.x"), "fremovexattr")
	_, err = f.Getxattr("user.x", nil)
	Want(t, err, api.ENODATA, "removed")
	Want(t, f.Removexattr("user.x"), api.ENODATA, "again")
	fmXattrBadNames(t, e, func(name string) error { return f.Removexattr(name) })
	OK(t, f.Close())
	Want(t, f.Removexattr("user.x"), api.EBADF, "closed fd")
	var nilFd *api.Fd
	Want(t, nilFd.Removexattr("user.x"), api.EBADF, "nil fd")
}
