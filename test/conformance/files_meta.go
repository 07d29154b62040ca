package conformance

import (
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
)

// File metadata: chmod, chown, utimensat, access, flock, memfd_create.

func init() {
	Register(
		Case{Family: "files", Call: "chmod", Run: testChmod},
		Case{Family: "files", Call: "fchmod", Run: testFchmod},
		Case{Family: "files", Call: "fchmodat", Run: testFchmodat},
		Case{Family: "files", Call: "chown", Run: testChown},
		Case{Family: "files", Call: "chown", Root: true, Run: testChownRoot},
		Case{Family: "files", Call: "fchown", Run: testFchown},
		Case{Family: "files", Call: "lchown", Run: testLchown},
		Case{Family: "files", Call: "fchownat", Run: testFchownat},
		Case{Family: "files", Call: "fchownat", Root: true, Run: testFchownatRoot},
		Case{Family: "files", Call: "utimensat", Run: testUtimensat},
		Case{Family: "files", Call: "access", Run: testAccess},
		Case{Family: "files", Call: "faccessat", Run: testFaccessat},
		Case{Family: "files", Call: "faccessat2", Run: testFaccessat2},
		Case{Family: "files", Call: "flock", Run: testFlock},
		Case{Family: "files", Call: "memfd_create", Run: testMemfdCreate},
	)
}

func fmPerm(t T, e *Env, path string) api.Mode {
	t.Helper()
	var st api.Stat
	OK(t, e.K.Stat(path, &st), "stat %s", path)
	return st.Mode & 0o7777
}

func testChmod(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	OK(t, k.Chmod(p, 0o600), "chmod 0600")
	Eq(t, fmPerm(t, e, p), api.Mode(0o600))
	OK(t, k.Chmod(p, 0o1751), "chmod with the sticky bit")
	Eq(t, fmPerm(t, e, p), api.Mode(0o1751))
	// chmod follows symbolic links.
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	OK(t, k.Chmod(l, 0o640), "chmod through a link")
	Eq(t, fmPerm(t, e, p), api.Mode(0o640), "the target changed")
	Want(t, k.Chmod(p, api.S_IFREG|0o644), api.EINVAL, "type bits in the mode")
	Want(t, k.Chmod(filepath.Join(filepath.Dir(p), "missing"), 0o644), api.ENOENT, "missing file")
	Want(t, k.Chmod(p+"\x00", 0o644), api.EINVAL, "NUL in the path")
}

func testFchmod(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	OK(t, f.Chmod(0o604), "fchmod")
	var st api.Stat
	OK(t, f.Stat(&st))
	Eq(t, st.Mode&0o7777, api.Mode(0o604))
	Want(t, f.Chmod(0o10000), api.EINVAL, "bits beyond 07777")
	OK(t, f.Close())
	Want(t, f.Chmod(0o644), api.EBADF, "closed fd")
	var nilFd *api.Fd
	Want(t, nilFd.Chmod(0o644), api.EBADF, "nil fd")
}

func testFchmodat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	d := fmOpenDir(t, e, filepath.Dir(p))
	OK(t, k.Fchmodat(d, "f", 0o2710), "fchmodat")
	Eq(t, fmPerm(t, e, p)&^api.S_ISGID, api.Mode(0o710))
	OK(t, k.Fchmodat(nil, p, 0o444), "fchmodat with a nil dir")
	Eq(t, fmPerm(t, e, p), api.Mode(0o444))
	Want(t, k.Fchmodat(d, "missing", 0o644), api.ENOENT, "missing")
	Want(t, k.Fchmodat(fmClosedFd(t, e), "f", 0o644), api.EBADF, "closed dir")
}

// fmOwner returns path's owner and group, not following links.
func fmOwner(t T, e *Env, path string) (int, int) {
	t.Helper()
	var st api.Stat
	OK(t, e.K.Lstat(path, &st), "lstat %s", path)
	return int(st.Uid), int(st.Gid)
}

// Ids that are nobody's in a test; only root can give files to them.
const (
	fmOtherUID = 54321
	fmOtherGID = 54322
)

func testChown(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	uid, gid := fmOwner(t, e, p)
	// Anyone may "change" a file they own to their own ids.
	OK(t, k.Chown(p, uid, gid), "chown to the current owner")
	OK(t, k.Chown(p, -1, -1), "chown leaving both unchanged")
	u, g := fmOwner(t, e, p)
	Eq(t, u, uid, "uid")
	Eq(t, g, gid, "gid")
	if !e.Target.Root() {
		Want(t, k.Chown(p, fmOtherUID, -1), api.EPERM, "giving a file away without privilege")
	}
	Want(t, k.Chown(p, -2, -1), api.EINVAL, "uid -2")
	if big, ok := Wide(32); ok {
		Want(t, k.Chown(p, -1, big), api.EINVAL, "gid beyond 32 bits")
	}
	Want(t, k.Chown(filepath.Join(filepath.Dir(p), "missing"), uid, gid), api.ENOENT, "missing")
	Want(t, k.Chown(p+"\x00", uid, gid), api.EINVAL, "NUL in the path")
}

func testChownRoot(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	_, gid := fmOwner(t, e, p)
	OK(t, k.Chown(p, fmOtherUID, -1), "chown to another uid as root")
	u, g := fmOwner(t, e, p)
	Eq(t, u, fmOtherUID, "new uid")
	Eq(t, g, gid, "gid unchanged")
	OK(t, k.Chown(p, -1, fmOtherGID), "chgrp as root")
	u, g = fmOwner(t, e, p)
	Eq(t, u, fmOtherUID, "uid unchanged")
	Eq(t, g, fmOtherGID, "new gid")
	// chown follows links; lchown does not.
	l := filepath.Join(filepath.Dir(p), "l")
	OK(t, k.Symlink("f", l))
	OK(t, k.Chown(l, 0, 0), "chown through a link")
	u, _ = fmOwner(t, e, p)
	Eq(t, u, 0, "the target changed")
	OK(t, k.Lchown(l, fmOtherUID, fmOtherGID), "lchown as root")
	u, g = fmOwner(t, e, l)
	Eq(t, u, fmOtherUID, "link's uid")
	Eq(t, g, fmOtherGID, "link's gid")
	u, _ = fmOwner(t, e, p)
	Eq(t, u, 0, "the target did not change")
}

func testFchown(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	uid, gid := fmOwner(t, e, p)
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	OK(t, f.Chown(uid, gid), "fchown to the current owner")
	if e.Target.Root() {
		OK(t, f.Chown(fmOtherUID, fmOtherGID), "fchown to other ids as root")
		var st api.Stat
		OK(t, f.Stat(&st))
		Eq(t, st.Uid, uint32(fmOtherUID), "uid")
		Eq(t, st.Gid, uint32(fmOtherGID), "gid")
	} else {
		Want(t, f.Chown(fmOtherUID, -1), api.EPERM, "giving a file away without privilege")
	}
	Want(t, f.Chown(-5, -1), api.EINVAL, "bad uid")
	OK(t, f.Close())
	Want(t, f.Chown(uid, gid), api.EBADF, "closed fd")
}

func testLchown(t T, e *Env) {
	k := e.K
	dir := e.TempDir(t)
	l := filepath.Join(dir, "l")
	OK(t, k.Symlink("dangling", l))
	uid, gid := fmOwner(t, e, l)
	// lchown works on a dangling link; chown would not find its target.
	OK(t, k.Lchown(l, uid, gid), "lchown of a dangling link")
	Want(t, k.Chown(l, uid, gid), api.ENOENT, "chown follows the dangling link")
	if e.Target.Root() {
		OK(t, k.Lchown(l, fmOtherUID, -1), "lchown to another uid as root")
		u, g := fmOwner(t, e, l)
		Eq(t, u, fmOtherUID, "uid")
		Eq(t, g, gid, "gid unchanged")
	}
	Want(t, k.Lchown(l+"\x00", uid, gid), api.EINVAL, "NUL in the path")
}

func testFchownat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	dir := filepath.Dir(p)
	d := fmOpenDir(t, e, dir)
	uid, gid := fmOwner(t, e, p)
	OK(t, k.Fchownat(d, "f", uid, gid, 0), "fchownat")
	OK(t, k.Symlinkat("gone", d, "l"))
	OK(t, k.Fchownat(d, "l", uid, gid, api.AT_SYMLINK_NOFOLLOW), "fchownat AT_SYMLINK_NOFOLLOW on a dangling link")
	Want(t, k.Fchownat(d, "l", uid, gid, 0), api.ENOENT, "following a dangling link")
	f, err := k.Open(p, api.O_PATH|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	OK(t, k.Fchownat(f, "", -1, gid, api.AT_EMPTY_PATH), "fchownat AT_EMPTY_PATH")
	Want(t, k.Fchownat(d, "f", uid, gid, api.AT_REMOVEDIR), api.EINVAL, "flag that does not apply")
	Want(t, k.Fchownat(fmClosedFd(t, e), "f", uid, gid, 0), api.EBADF, "closed dir")
}

func testFchownatRoot(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	dir := filepath.Dir(p)
	d := fmOpenDir(t, e, dir)
	OK(t, k.Symlinkat("f", d, "l"))
	OK(t, k.Fchownat(d, "l", fmOtherUID, fmOtherGID, api.AT_SYMLINK_NOFOLLOW), "fchownat the link as root")
	u, g := fmOwner(t, e, filepath.Join(dir, "l"))
	Eq(t, u, fmOtherUID, "link uid")
	Eq(t, g, fmOtherGID, "link gid")
	u, _ = fmOwner(t, e, p)
	Eq(t, u, 0, "target untouched")
	OK(t, k.Fchownat(d, "l", fmOtherUID, -1, 0), "fchownat through the link")
	u, _ = fmOwner(t, e, p)
	Eq(t, u, fmOtherUID, "target uid")
}

func testUtimensat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	dir := filepath.Dir(p)
	d := fmOpenDir(t, e, dir)
	at := api.Timespec{Sec: 1500000000, Nsec: 123456789}
	mt := api.Timespec{Sec: 1600000000, Nsec: 987654321}
	OK(t, k.Utimensat(d, "f", at, mt, 0), "utimensat")
	var st api.Stat
	OK(t, k.Stat(p, &st))
	Eq(t, st.Atim, at, "atime with nanoseconds")
	Eq(t, st.Mtim, mt, "mtime with nanoseconds")

	// UTIME_OMIT keeps a time, UTIME_NOW sets it to now.
	before := time.Now().Add(-2 * time.Second)
	OK(t, k.Utimensat(nil, p, api.UTIME_OMIT, api.UTIME_NOW, 0), "UTIME_OMIT, UTIME_NOW")
	OK(t, k.Stat(p, &st))
	Eq(t, st.Atim, at, "atime omitted")
	True(t, st.Mtim.Time().After(before) && st.Mtim.Time().Before(time.Now().Add(2*time.Second)), "mtime is now: %v", st.Mtim.Time())

	// AT_SYMLINK_NOFOLLOW changes the link's times, not the target's.
	OK(t, k.Symlinkat("f", d, "l"))
	lt := api.Timespec{Sec: 1000000000, Nsec: 5}
	OK(t, k.Utimensat(d, "l", lt, lt, api.AT_SYMLINK_NOFOLLOW), "utimensat AT_SYMLINK_NOFOLLOW")
	var sl api.Stat
	OK(t, k.Lstat(filepath.Join(dir, "l"), &sl))
	Eq(t, sl.Mtim, lt, "link mtime")
	OK(t, k.Stat(p, &st))
	Eq(t, st.Atim, at, "target atime untouched")

	// futimens: utimensat with a null path on an open file.
	f, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	ft := api.Timespec{Sec: 1234567890, Nsec: 1}
	OK(t, f.Utimes(ft, api.UTIME_OMIT), "futimens")
	OK(t, f.Stat(&st))
	Eq(t, st.Atim, ft, "atime via the fd")
	True(t, st.Mtim != ft, "mtime omitted")
	Want(t, f.Utimes(api.Timespec{Nsec: 1e9}, ft), api.EINVAL, "nanoseconds out of range")
	Want(t, f.Utimes(api.Timespec{Nsec: -1}, ft), api.EINVAL, "negative nanoseconds")
	OK(t, f.Close())
	Want(t, f.Utimes(ft, ft), api.EBADF, "closed fd")
	var nilFd *api.Fd
	Want(t, nilFd.Utimes(ft, ft), api.EBADF, "nil fd")

	Want(t, k.Utimensat(d, "f", at, mt, api.AT_REMOVEDIR), api.EINVAL, "flag that does not apply")
	Want(t, k.Utimensat(d, "missing", at, mt, 0), api.ENOENT, "missing")
	Want(t, k.Utimensat(fmClosedFd(t, e), "f", at, mt, 0), api.EBADF, "closed dir")
	Want(t, k.Utimensat(d, "f\x00", at, mt, 0), api.EINVAL, "NUL in the path")
}

// fmEuidRoot tells whether permission checks pass for everything: the
// kernel under test runs us as root.
func fmEuidRoot(e *Env) bool { return e.Target.Root() }

func testAccess(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	OK(t, k.Access(p, api.F_OK), "F_OK on an existing file")
	OK(t, k.Access(p, api.R_OK|api.W_OK), "R_OK|W_OK on a 0644 file we own")
	Want(t, k.Access(filepath.Join(filepath.Dir(p), "missing"), api.F_OK), api.ENOENT, "missing file")
	OK(t, k.Chmod(p, 0o444))
	err := k.Access(p, api.W_OK)
	if fmEuidRoot(e) {
		OK(t, err, "W_OK on a 0444 file as root")
	} else {
		Want(t, err, api.EACCES, "W_OK on a 0444 file")
	}
	// X_OK needs an execute bit even for root.
	Want(t, k.Access(p, api.X_OK), api.EACCES, "X_OK on a 0444 file")
	OK(t, k.Chmod(p, 0o544))
	OK(t, k.Access(p, api.X_OK), "X_OK on a 0544 file")
	Want(t, k.Access(p, api.AccessMode(8)), api.EINVAL, "unknown mode bits")
	Want(t, k.Access(p+"\x00", api.F_OK), api.EINVAL, "NUL in the path")
	m, err := api.ParseAccessMode("r_ok,w_ok")
	OK(t, err)
	Eq(t, m, api.R_OK|api.W_OK)
}

func testFaccessat(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	d := fmOpenDir(t, e, filepath.Dir(p))
	OK(t, k.Faccessat(d, "f", api.R_OK, 0), "faccessat")
	Want(t, k.Faccessat(d, "missing", api.F_OK, 0), api.ENOENT, "missing")
	OK(t, k.Chmod(p, 0o400))
	Want(t, k.Faccessat(d, "f", api.X_OK, 0), api.EACCES, "X_OK on 0400")
	Want(t, k.Faccessat(fmClosedFd(t, e), "f", api.F_OK, 0), api.EBADF, "closed dir")
	Want(t, k.Faccessat(d, "f", api.F_OK, api.AT_SYMLINK_FOLLOW), api.EINVAL, "a flag that does not apply")
}

func testFaccessat2(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "f", nil)
	dir := filepath.Dir(p)
	d := fmOpenDir(t, e, dir)
	err := k.Faccessat(d, "f", api.R_OK, api.AT_EACCESS)
	NoSys(t, err)
	OK(t, err, "faccessat2 AT_EACCESS")
	OK(t, k.Chmod(p, 0o444))
	err = k.Faccessat(d, "f", api.W_OK, api.AT_EACCESS)
	if fmEuidRoot(e) {
		OK(t, err, "W_OK with AT_EACCESS on a 0444 file as root")
	} else {
		Want(t, err, api.EACCES, "W_OK with AT_EACCESS on a 0444 file")
	}
	// AT_SYMLINK_NOFOLLOW checks the link itself: a dangling one exists.
	OK(t, k.Symlinkat("gone", d, "l"))
	OK(t, k.Faccessat(d, "l", api.F_OK, api.AT_SYMLINK_NOFOLLOW), "F_OK on a dangling link, not followed")
	Want(t, k.Faccessat(d, "l", api.F_OK, api.AT_EACCESS), api.ENOENT, "F_OK through a dangling link")
	// AT_EMPTY_PATH checks the file an fd is open on.
	f, err := k.Open(p, api.O_PATH|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	OK(t, k.Faccessat(f, "", api.R_OK, api.AT_EMPTY_PATH), "AT_EMPTY_PATH")
	Want(t, k.Faccessat(f, "", api.X_OK, api.AT_EMPTY_PATH|api.AT_EACCESS), api.EACCES, "X_OK on 0444 via AT_EMPTY_PATH")
}

func testFlock(t T, e *Env) {
	k := e.K
	p := CreateFile(t, e, "lock", nil)
	a, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	defer a.Close()
	b, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	defer b.Close()

	OK(t, a.Flock(api.LOCK_EX), "LOCK_EX")
	err = b.Flock(api.LOCK_EX | api.LOCK_NB)
	Want(t, err, api.EWOULDBLOCK, "LOCK_EX|LOCK_NB from another open file description")
	Want(t, err, api.EAGAIN, "EWOULDBLOCK is EAGAIN")
	Want(t, b.Flock(api.LOCK_SH|api.LOCK_NB), api.EWOULDBLOCK, "LOCK_SH|LOCK_NB against an exclusive lock")
	// A duplicate shares the open file description, and so the lock.
	dup, err := a.DupCloexec()
	OK(t, err)
	OK(t, dup.Flock(api.LOCK_EX|api.LOCK_NB), "the lock holder's duplicate")
	dup.Close()
	OK(t, a.Flock(api.LOCK_UN), "LOCK_UN")
	OK(t, b.Flock(api.LOCK_SH|api.LOCK_NB), "LOCK_SH after unlock")
	OK(t, a.Flock(api.LOCK_SH|api.LOCK_NB), "shared locks coexist")
	Want(t, a.Flock(api.LOCK_EX|api.LOCK_NB), api.EWOULDBLOCK, "upgrade while another holds LOCK_SH")

	// A blocked LOCK_EX proceeds once the holder lets go.
	OK(t, a.Flock(api.LOCK_UN))
	done := make(chan error, 1)
	go func() { done <- a.Flock(api.LOCK_EX) }()
	time.Sleep(20 * time.Millisecond)
	OK(t, b.Flock(api.LOCK_UN), "release the shared lock")
	select {
	case err := <-done:
		OK(t, err, "blocking LOCK_EX")
	case <-time.After(5 * time.Second):
		t.Fatalf("blocking LOCK_EX did not return after unlock")
	}

	Want(t, a.Flock(api.LOCK_SH|api.LOCK_EX), api.EINVAL, "LOCK_SH|LOCK_EX")
	Want(t, a.Flock(0), api.EINVAL, "no operation")
	Want(t, a.Flock(api.LockOp(64)), api.EINVAL, "unknown bits")
	OK(t, a.Close())
	Want(t, a.Flock(api.LOCK_UN), api.EBADF, "closed fd")
	op, err := api.ParseLockOp("ex,nb")
	OK(t, err)
	Eq(t, op, api.LOCK_EX|api.LOCK_NB)
}

func testMemfdCreate(t T, e *Env) {
	k := e.K
	f, err := k.MemfdCreate("anykernel-test", api.MFD_CLOEXEC|api.MFD_ALLOW_SEALING)
	NoSys(t, err)
	OK(t, err, "memfd_create")
	defer f.Close()
	msg := []byte("in memory")
	n, err := f.Write(msg)
	OK(t, err, "write")
	Eq(t, n, len(msg))
	b := make([]byte, 32)
	n, _ = f.ReadAt(b, 0)
	Eq(t, string(b[:n]), string(msg), "read back")
	var st api.Stat
	OK(t, f.Stat(&st))
	Eq(t, st.Size, int64(len(msg)), "size")
	True(t, st.IsRegular(), "a memfd is a regular file")

	seals, err := f.Seals()
	OK(t, err, "F_GET_SEALS")
	Eq(t, seals, api.SealFlags(0), "no seals yet")
	OK(t, f.AddSeals(api.F_SEAL_WRITE|api.F_SEAL_SHRINK|api.F_SEAL_GROW), "F_ADD_SEALS")
	seals, err = f.Seals()
	OK(t, err)
	Eq(t, seals, api.F_SEAL_WRITE|api.F_SEAL_SHRINK|api.F_SEAL_GROW, "seals")
	_, err = f.WriteAt([]byte("x"), 0)
	Want(t, err, api.EPERM, "write to a write-sealed memfd")
	OK(t, f.AddSeals(api.F_SEAL_SEAL), "F_SEAL_SEAL")
	Want(t, f.AddSeals(api.F_SEAL_FUTURE_WRITE), api.EPERM, "sealing after F_SEAL_SEAL")
	Want(t, f.AddSeals(api.SealFlags(1<<20)), api.EINVAL, "unknown seal bits")
	s, err := api.ParseSealFlags("write,grow")
	OK(t, err)
	Eq(t, s, api.F_SEAL_WRITE|api.F_SEAL_GROW)

	// Without MFD_ALLOW_SEALING the memfd is sealed against sealing.
	g, err := k.MemfdCreate("", api.MFD_CLOEXEC)
	OK(t, err, "memfd_create with an empty name")
	defer g.Close()
	seals, err = g.Seals()
	OK(t, err)
	Eq(t, seals, api.F_SEAL_SEAL, "unsealable memfd")
	Want(t, g.AddSeals(api.F_SEAL_WRITE), api.EPERM, "sealing without MFD_ALLOW_SEALING")

	// Seals on a file that is not a memfd.
	p := CreateFile(t, e, "f", nil)
	h, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer h.Close()
	_, err = h.Seals()
	True(t, errors.Is(err, api.EINVAL) || err == nil, "F_GET_SEALS on a plain file: %v", err)

	_, err = k.MemfdCreate(strings.Repeat("n", 300), 0)
	Want(t, err, api.EINVAL, "name longer than 249 bytes")
	_, err = k.MemfdCreate("a\x00b", 0)
	Want(t, err, api.EINVAL, "NUL in the name")
	_, err = k.MemfdCreate("x", api.MemfdFlags(1<<10))
	Want(t, err, api.EINVAL, "unknown flag bits")
	OK(t, f.Close())
	_, err = f.Seals()
	Want(t, err, api.EBADF, "closed fd")
}
