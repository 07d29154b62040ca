package conformance

import (
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

func init() {
	Register(
		Case{Family: "ready", Call: "inotify_init1", Run: testInotifyInit1},
		Case{Family: "ready", Call: "inotify_init", Run: testInotifyInit},
		Case{Family: "ready", Call: "inotify_add_watch", Run: testInotifyAddWatch},
		Case{Family: "ready", Call: "inotify_rm_watch", Run: testInotifyRmWatch},
	)
}

// readyInotifyCollect reads events from in until want of them arrived or a
// second passed.
func readyInotifyCollect(t T, e *Env, in *api.Inotify, want int) []api.InotifyEvent {
	t.Helper()
	var out []api.InotifyEvent
	buf := make([]byte, 4096)
	deadline := time.Now().Add(time.Second)
	for len(out) < want {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		fds := []api.PollFd{{Fd: in.Fd(), Events: api.POLLIN}}
		n, err := readyRetry(func() (int, error) { return e.K.Poll(fds, int(left/time.Millisecond)+1) })
		OK(t, err, "poll inotify")
		if n == 0 {
			break
		}
		for ev, err := range in.Events(buf) {
			OK(t, err, "read events")
			out = append(out, ev)
		}
	}
	return out
}

// readyCreate creates an empty file at path.
func readyCreate(t T, e *Env, path string) {
	t.Helper()
	f, err := e.K.Open(path, api.O_WRONLY|api.O_CREAT|api.O_EXCL|api.O_CLOEXEC, 0o644)
	OK(t, err, "create %s", path)
	OK(t, f.Close())
}

// readyMkdir makes a directory with a raw mkdirat (heap memory, as
// Kernel.Syscall requires).
func readyMkdir(t T, e *Env, path string) {
	t.Helper()
	at, ok := e.K.Const("AT_FDCWD")
	True(t, ok, "AT_FDCWD in the ABI table")
	p := make([]byte, len(path)+1)
	copy(p, path)
	_, err := e.K.Syscall("mkdirat", uintptr(at), uintptr(unsafe.Pointer(&p[0])), 0o755)
	runtime.KeepAlive(p)
	OK(t, err, "mkdirat %s", path)
}

func testInotifyInit1(t T, e *Env) {
	in, err := e.K.InotifyInit1(api.IN_CLOEXEC | api.IN_NONBLOCK)
	OK(t, err, "inotify_init1")
	defer in.Close()
	True(t, readyCloexec(t, e, in.Fd()), "IN_CLOEXEC set")
	_, err = in.Read(make([]byte, api.InotifyBufSize))
	Want(t, err, api.EAGAIN, "non-blocking read with nothing queued")
	for _, err := range in.Events(nil) {
		t.Fatalf("no events expected, got error %v", err)
	}
	in2, err := e.K.InotifyInit1(0)
	OK(t, err, "inotify_init1(0)")
	True(t, !readyCloexec(t, e, in2.Fd()), "no IN_CLOEXEC without asking")
	OK(t, in2.Close())
	Want(t, in2.RmWatch(1), api.EBADF, "closed instance")
	_, err = in2.AddWatch(e.TempDir(t), api.IN_CREATE)
	Want(t, err, api.EBADF, "add watch on a closed instance")
	_, err = api.ParseInotifyFlags("nonblock,cloexec,zzz")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "zzz", "unknown flag word: %v", err)
	m, err := api.ParseInotifyMask("create,delete,~delete,moved_to")
	OK(t, err)
	Eq(t, m, api.IN_CREATE|api.IN_MOVED_TO)
}

func testInotifyInit(t T, e *Env) {
	in, err := e.K.InotifyInit()
	OK(t, err, "inotify_init")
	defer in.Close()
	True(t, !readyCloexec(t, e, in.Fd()), "the legacy call sets no flags")
	dir := e.TempDir(t)
	_, err = in.AddWatch(dir, api.IN_CREATE)
	OK(t, err, "watch")
	readyCreate(t, e, filepath.Join(dir, "new"))
	evs := readyInotifyCollect(t, e, in, 1)
	True(t, len(evs) >= 1, "an event within 1s")
	Eq(t, evs[0].Name, "new")
	True(t, evs[0].Mask&api.IN_CREATE != 0, "IN_CREATE: %v", evs[0].Mask)
}

func testInotifyAddWatch(t T, e *Env) {
	k := e.K
	in, err := k.InotifyInit1(api.IN_CLOEXEC | api.IN_NONBLOCK)
	OK(t, err)
	defer in.Close()
	dir := e.TempDir(t)
	wd, err := in.AddWatch(dir, api.IN_CREATE|api.IN_MODIFY|api.IN_DELETE)
	OK(t, err, "inotify_add_watch")
	True(t, wd >= 1, "watch number %d", wd)
	wd2, err := in.AddWatch(dir, api.IN_CREATE|api.IN_MODIFY|api.IN_DELETE)
	OK(t, err, "watch the same path again")
	Eq(t, wd2, wd, "same watch for the same path")

	p := filepath.Join(dir, "watched")
	f, err := k.Open(p, api.O_WRONLY|api.O_CREAT|api.O_EXCL|api.O_CLOEXEC, 0o644)
	OK(t, err, "create")
	_, err = f.Write([]byte("data"))
	OK(t, err, "write")
	OK(t, f.Close())
	readyUnlink(t, e, p)

	evs := readyInotifyCollect(t, e, in, 3)
	Eq(t, len(evs), 3, "three events: %v", evs)
	for i, want := range []api.InotifyMask{api.IN_CREATE, api.IN_MODIFY, api.IN_DELETE} {
		Eq(t, evs[i].Mask, want, "event %d", i)
		Eq(t, evs[i].Name, "watched", "event %d name", i)
		Eq(t, evs[i].Wd, wd, "event %d watch", i)
	}

	// A subdirectory's creation carries IN_ISDIR.
	sub := filepath.Join(dir, "sub")
	readyMkdir(t, e, sub)
	evs = readyInotifyCollect(t, e, in, 1)
	Eq(t, len(evs), 1, "one event: %v", evs)
	Eq(t, evs[0], api.InotifyEvent{Wd: wd, Mask: api.IN_CREATE | api.IN_ISDIR, Name: "sub"})
	wd3, err := in.AddWatch(sub, api.IN_DELETE_SELF|api.IN_ONLYDIR)
	OK(t, err, "IN_ONLYDIR on a directory")
	True(t, wd3 != wd, "a new watch")

	_, err = in.AddWatch(filepath.Join(dir, "missing"), api.IN_CREATE)
	Want(t, err, fs.ErrNotExist, "watch of a missing path")
	var pe *fs.PathError
	True(t, errors.As(err, &pe) && pe.Op == "inotify_add_watch", "a PathError naming the call: %v", err)
	file := CreateFile(t, e, "plain", nil)
	_, err = in.AddWatch(file, api.IN_MODIFY|api.IN_ONLYDIR)
	Want(t, err, api.ENOTDIR, "IN_ONLYDIR on a file")
	_, err = in.AddWatch(dir, 0)
	Want(t, err, api.EINVAL, "empty mask")
	_, err = in.AddWatch("bad\x00path", api.IN_CREATE)
	Want(t, err, api.EINVAL, "NUL in path")
}

func testInotifyRmWatch(t T, e *Env) {
	in, err := e.K.InotifyInit1(api.IN_CLOEXEC | api.IN_NONBLOCK)
	OK(t, err)
	defer in.Close()
	dir := e.TempDir(t)
	wd, err := in.AddWatch(dir, api.IN_CREATE)
	OK(t, err)
	OK(t, in.RmWatch(wd), "inotify_rm_watch")
	evs := readyInotifyCollect(t, e, in, 1)
	Eq(t, len(evs), 1, "one event: %v", evs)
	Eq(t, evs[0].Wd, wd, "for the removed watch")
	True(t, evs[0].Mask&api.IN_IGNORED != 0, "IN_IGNORED: %v", evs[0].Mask)
	Want(t, in.RmWatch(wd), api.EINVAL, "remove twice")
	Want(t, in.RmWatch(-1), api.EINVAL, "negative watch number")
	// No more events for the directory.
	readyCreate(t, e, filepath.Join(dir, "after"))
	for ev, err := range in.Events(nil) {
		t.Fatalf("unexpected event %v %v after rm_watch", ev, err)
	}
}
