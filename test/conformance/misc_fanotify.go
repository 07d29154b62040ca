package conformance

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The fanotify family: file access notification and permission decisions.
// fanotify_init needs CAP_SYS_ADMIN.

func init() {
	Register(
		Case{Family: "fanotify", Call: "fanotify_init", Root: true, Run: testFanotifyInit},
		Case{Family: "fanotify", Call: "fanotify_mark", Root: true, Run: testFanotifyMark},
		Case{Family: "fanotify", Call: "fanotify_read", Root: true, Run: testFanotifyRead},
		Case{Family: "fanotify", Call: "fanotify_response", Root: true, Run: testFanotifyResponse},
	)
}

func fanInit(t T, e *Env, flags api.FanInitFlags) *api.Fd {
	t.Helper()
	g, err := e.K.FanotifyInit(flags|api.FAN_CLOEXEC|api.FAN_NONBLOCK, api.O_RDONLY|api.O_CLOEXEC|api.O_LARGEFILE)
	NoSys(t, err)
	OK(t, err, "fanotify_init")
	t.Cleanup(func() { g.Close() })
	return g
}

// fanCollect reads events from g until want returns true for one of them,
// or 2 s pass; the events' descriptors are closed.
func fanCollect(t T, e *Env, g *api.Fd, want func(ev api.FanotifyEvent, path string) bool) bool {
	t.Helper()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		fds := []api.PollFd{{Fd: g, Events: api.POLLIN}}
		n, err := e.K.Poll(fds, int(time.Until(deadline)/time.Millisecond)+1)
		if errors.Is(err, api.EINTR) {
			continue
		}
		OK(t, err, "poll")
		if n == 0 {
			return false
		}
		evs, err := g.FanotifyRead(buf, nil)
		if errors.Is(err, api.EAGAIN) {
			continue
		}
		OK(t, err, "fanotify read")
		found := false
		for _, ev := range evs {
			path := ""
			if ev.Fd != nil {
				path, _ = os.Readlink("/proc/self/fd/" + strconv.Itoa(ev.Fd.Num()))
				ev.Fd.Close()
			}
			if want(ev, path) {
				found = true
			}
		}
		if found {
			return true
		}
	}
	return false
}

func testFanotifyInit(t T, e *Env) {
	k := e.K
	g := fanInit(t, e, api.FAN_CLASS_NOTIF)
	var st api.Stat
	OK(t, g.Stat(&st), "fstat of the group")
	_, err := g.FanotifyRead(make([]byte, 4096), nil)
	Want(t, err, api.EAGAIN, "no events yet (FAN_NONBLOCK)")
	_, err = g.FanotifyRead(make([]byte, 4), nil)
	Want(t, err, api.EINVAL, "buffer smaller than an event")
	_, err = k.FanotifyInit(api.FanInitFlags(1<<40), api.O_RDONLY)
	True(t, err != nil, "unknown init flags")
	_, err = k.FanotifyInit(api.FAN_CLASS_CONTENT|api.FAN_CLASS_PRE_CONTENT, api.O_RDONLY)
	Want(t, err, api.EINVAL, "two classes")
	fl, err := api.ParseFanInitFlags("class_content,cloexec")
	OK(t, err)
	Eq(t, fl, api.FAN_CLASS_CONTENT|api.FAN_CLOEXEC)
}

func testFanotifyMark(t T, e *Env) {
	k := e.K
	g := fanInit(t, e, api.FAN_CLASS_NOTIF)
	dir := e.TempDir(t)
	OK(t, g.FanotifyMark(api.FAN_MARK_ADD, api.FAN_OPEN|api.FAN_EVENT_ON_CHILD, nil, dir), "mark a directory")
	OK(t, g.FanotifyMark(api.FAN_MARK_ADD, api.FAN_CLOSE_WRITE, nil, dir), "add to the mark")
	// Relative to a directory descriptor, and the descriptor itself.
	d, err := k.Open(dir, api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer d.Close()
	OK(t, g.FanotifyMark(api.FAN_MARK_ADD|api.FAN_MARK_ONLYDIR, api.FAN_MODIFY|api.FAN_EVENT_ON_CHILD, d, ""), "mark dir by descriptor")
	p := CreateFile(t, e, "f", nil)
	OK(t, g.FanotifyMark(api.FAN_MARK_ADD, api.FAN_ACCESS, nil, p), "mark a file")
	Want(t, g.FanotifyMark(api.FAN_MARK_ADD|api.FAN_MARK_ONLYDIR, api.FAN_OPEN, nil, p), api.ENOTDIR, "ONLYDIR on a file")
	OK(t, g.FanotifyMark(api.FAN_MARK_REMOVE, api.FAN_ACCESS, nil, p), "remove the file's mark")
	Want(t, g.FanotifyMark(api.FAN_MARK_REMOVE, api.FAN_ACCESS, nil, p), api.ENOENT, "remove it again")
	Want(t, g.FanotifyMark(api.FAN_MARK_ADD, api.FAN_OPEN, nil, filepath.Join(dir, "missing")), os.ErrNotExist, "missing path")
	Want(t, g.FanotifyMark(api.FAN_MARK_ADD, api.FAN_OPEN, nil, "a\x00b"), api.EINVAL, "NUL in path")
	Want(t, g.FanotifyMark(api.FanMarkFlags(0), api.FAN_OPEN, nil, dir), api.EINVAL, "no action")
	OK(t, g.FanotifyMark(api.FAN_MARK_FLUSH, 0, nil, ""), "flush the inode marks")
	// Permission events need a content class.
	Want(t, g.FanotifyMark(api.FAN_MARK_ADD, api.FAN_OPEN_PERM, nil, dir), api.EINVAL, "permission event in a notification group")
	// Mount marks.
	OK(t, g.FanotifyMark(api.FAN_MARK_ADD|api.FAN_MARK_MOUNT, api.FAN_OPEN, nil, dir), "mark the mount")
	OK(t, g.FanotifyMark(api.FAN_MARK_REMOVE|api.FAN_MARK_MOUNT, api.FAN_OPEN, nil, dir), "unmark the mount")
	var nilFd *api.Fd
	Want(t, nilFd.FanotifyMark(api.FAN_MARK_ADD, api.FAN_OPEN, nil, dir), api.EBADF, "nil group")
	Want(t, d.FanotifyMark(api.FAN_MARK_ADD, api.FAN_OPEN, nil, dir), api.EINVAL, "not a group")
}

// testFanotifyRead opens and modifies a file in a marked directory and
// reads the events, with this process's pid and a descriptor of the file.
func testFanotifyRead(t T, e *Env) {
	k := e.K
	g := fanInit(t, e, api.FAN_CLASS_NOTIF)
	dir := e.TempDir(t)
	OK(t, g.FanotifyMark(api.FAN_MARK_ADD, api.FAN_OPEN|api.FAN_MODIFY|api.FAN_CLOSE_WRITE|api.FAN_EVENT_ON_CHILD, nil, dir))
	p := filepath.Join(dir, "watched")
	f, err := k.Open(p, api.O_RDWR|api.O_CREAT|api.O_CLOEXEC, 0o644)
	OK(t, err)
	_, err = f.Write([]byte("changed"))
	OK(t, err)
	OK(t, f.Close())
	var seen api.FanEvents
	pid := k.Getpid()
	ok := fanCollect(t, e, g, func(ev api.FanotifyEvent, path string) bool {
		if path != p {
			return false
		}
		if ev.Pid != pid {
			t.Fatalf("event %v on %s from pid %d, want %d", ev.Mask, path, ev.Pid, pid)
		}
		seen |= ev.Mask
		return seen&(api.FAN_OPEN|api.FAN_MODIFY|api.FAN_CLOSE_WRITE) == api.FAN_OPEN|api.FAN_MODIFY|api.FAN_CLOSE_WRITE
	})
	True(t, ok, "saw open, modify and close-write on %s: %v", p, seen)
	True(t, seen.String() != "", "mask prints")
	// The event's descriptor reads the file.
	f, err = k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	f.Close()
	buf := make([]byte, 4096)
	var evs []api.FanotifyEvent
	deadline := time.Now().Add(2 * time.Second)
	for len(evs) == 0 && time.Now().Before(deadline) {
		k.Poll([]api.PollFd{{Fd: g, Events: api.POLLIN}}, 100)
		evs, err = g.FanotifyRead(buf, evs)
		if errors.Is(err, api.EAGAIN) {
			continue
		}
		OK(t, err)
	}
	True(t, len(evs) > 0, "an open event")
	ev := evs[0]
	True(t, ev.Fd != nil, "the event carries a descriptor")
	defer ev.Fd.Close()
	b := make([]byte, 16)
	n, err := ev.Fd.ReadAt(b, 0)
	if err != nil && n == 0 {
		OK(t, err, "read through the event's descriptor")
	}
	Eq(t, string(b[:n]), "changed", "the event's descriptor is the file")
	OK(t, g.Close())
	_, err = g.FanotifyRead(buf, nil)
	Want(t, err, api.EBADF, "read after close")
}

// testFanotifyResponse answers permission events: FAN_DENY makes the open
// fail with EPERM, FAN_ALLOW lets it through. The opens run in goroutines;
// closing the group releases them if the case fails half-way.
func testFanotifyResponse(t T, e *Env) {
	k := e.K
	g := fanInit(t, e, api.FAN_CLASS_CONTENT)
	p := CreateFile(t, e, "guarded", []byte("secret"))
	OK(t, g.FanotifyMark(api.FAN_MARK_ADD, api.FAN_OPEN_PERM, nil, p), "mark FAN_OPEN_PERM")
	t.Cleanup(func() { g.Close() })
	for _, c := range []struct {
		resp api.FanResponse
		want error
	}{{api.FAN_DENY, api.EPERM}, {api.FAN_ALLOW, nil}} {
		res := make(chan error, 1)
		go func() {
			f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
			if err == nil {
				f.Close()
			}
			res <- err
		}()
		answered := fanCollectPerm(t, e, g, p, c.resp)
		True(t, answered, "a permission event for %s", p)
		select {
		case err := <-res:
			if c.want == nil {
				OK(t, err, "open allowed")
			} else {
				Want(t, err, c.want, "open denied")
			}
		case <-time.After(2 * time.Second):
			g.Close()
			t.Fatalf("the open did not return after %v", c.resp)
		}
	}
	Want(t, g.FanotifyRespond(nil, api.FAN_ALLOW), api.EBADF, "respond without a descriptor")
	f := termNotTTY(t, e)
	Want(t, g.FanotifyRespond(f, api.FAN_ALLOW), api.ENOENT, "respond to no event")
}

// fanCollectPerm answers the first permission event on path with resp.
func fanCollectPerm(t T, e *Env, g *api.Fd, path string, resp api.FanResponse) bool {
	t.Helper()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		fds := []api.PollFd{{Fd: g, Events: api.POLLIN}}
		if _, err := e.K.Poll(fds, 100); err != nil && !errors.Is(err, api.EINTR) {
			OK(t, err)
		}
		evs, err := g.FanotifyRead(buf, nil)
		if errors.Is(err, api.EAGAIN) {
			continue
		}
		OK(t, err)
		done := false
		for _, ev := range evs {
			if ev.Fd == nil {
				continue
			}
			p, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(ev.Fd.Num()))
			r := api.FAN_ALLOW
			if ev.Mask&api.FAN_OPEN_PERM != 0 && p == path && !done {
				if ev.Pid != e.K.Getpid() {
					t.Errorf("permission event from pid %d, want %d", ev.Pid, e.K.Getpid())
				}
				r, done = resp, true
			}
			OK(t, g.FanotifyRespond(ev.Fd, r), "respond %v", r)
			ev.Fd.Close()
		}
		if done {
			return true
		}
	}
	return false
}
