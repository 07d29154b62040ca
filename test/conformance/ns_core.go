package conformance

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/nsexec"
)

// Namespaces: unshare, setns, clone3. Every case that changes a namespace
// does it on a goroutine of its own (nsRun) whose OS thread the runtime
// discards afterwards, so the host's hostname, interfaces and mounts are
// never touched (test/main_test.go checks that they are not).

func init() {
	Register(
		Case{Family: "namespaces", Call: "unshare", Root: true, Run: testUnshare},
		Case{Family: "namespaces", Call: "setns", Root: true, Run: testSetns},
		Case{Family: "namespaces", Call: "clone3", Root: true, Run: testClone3},
	)
	// Children that nsexec.Command started run their entry point here,
	// before the test or matrix binary's main.
	nsexec.Init()
}

// nsTimeout bounds the namespaced part of a case.
const nsTimeout = 10 * time.Second

// nsT is the T of code running on an nsRun goroutine: failures go to the
// case's T (testing.T.Errorf is safe from any goroutine), and Fatalf and
// Skipf end only the namespaced goroutine, which nsRun then reports.
type nsT struct {
	T
	mu      sync.Mutex
	skipped string
}

func (n *nsT) Helper() {}
func (n *nsT) Errorf(f string, a ...any) {
	n.T.Errorf("%s: %s", nsWhere(), fmt.Sprintf(f, a...))
}
func (n *nsT) Fatalf(f string, a ...any) {
	n.Errorf(f, a...)
	runtime.Goexit()
}

// nsWhere returns the file:line of the check that failed inside an nsRun
// body: testing's own attribution stops at nsT, which runs on another
// goroutine than the test.
func nsWhere() string {
	pc := make([]uintptr, 32)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	for {
		f, more := frames.Next()
		base := filepath.Base(f.File)
		if !strings.HasSuffix(f.Function, ".nsWhere") && !strings.Contains(f.Function, ".(*nsT).") && base != "conformance.go" {
			return base + ":" + strconv.Itoa(f.Line)
		}
		if !more {
			return "?"
		}
	}
}
func (n *nsT) Skipf(f string, a ...any) {
	n.mu.Lock()
	n.skipped = fmt.Sprintf(f, a...)
	n.mu.Unlock()
	runtime.Goexit()
}

// nsRun runs f on a new goroutine that entered new namespaces (flags) with
// Unshare; with CLONE_NEWNS it first makes every mount private, so nothing
// mounted there propagates back. The goroutine's thread is locked for good
// and discarded when f returns. The case's checks work inside f with f's
// own T.
func nsRun(t T, e *Env, flags api.CloneFlags, f func(t T)) {
	t.Helper()
	nt := &nsT{T: t}
	nsLocked(t, e, func() {
		err := e.K.Unshare(flags)
		OK(nt, err, "unshare %v", flags)
		if flags&api.CLONE_NEWNS != 0 {
			OK(nt, e.K.Mount("", "/", "", api.MS_REC|api.MS_PRIVATE, ""), "make every mount private")
		}
		f(nt)
	})
	nt.mu.Lock()
	skipped := nt.skipped
	nt.mu.Unlock()
	if skipped != "" {
		t.Skipf("%s", skipped)
	}
	if t.Failed() {
		t.Fatalf("failed inside the namespace")
	}
}

// nsLocked runs f with nsexec.RunLocked (on a thread that is discarded
// afterwards, never the main thread), with a timeout; a panic in f fails
// the case.
func nsLocked(t T, e *Env, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nsexec.RunLocked(e.K, func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("panic in namespace: %v", p)
				}
			}()
			f()
		})
	}()
	select {
	case <-done:
	case <-time.After(nsTimeout):
		t.Fatalf("namespaced part timed out after %v", nsTimeout)
	}
}

// nsIno returns the inode of a namespace file such as /proc/self/ns/uts.
func nsIno(t T, k *api.Kernel, path string) uint64 {
	t.Helper()
	var st api.Stat
	OK(t, k.Stat(path, &st), "stat %s", path)
	return st.Ino
}

// nsHostname returns the host name of the calling thread's UTS namespace.
func nsHostname(t T, k *api.Kernel) string {
	t.Helper()
	var u api.Utsname
	OK(t, k.Uname(&u), "uname")
	return u.Nodename
}

func testUnshare(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	host := nsHostname(t, k)
	outside := map[string]uint64{}
	for _, ns := range []string{"uts", "ipc", "net", "mnt", "cgroup"} {
		outside[ns] = nsIno(t, k, "/proc/thread-self/ns/"+ns)
	}
	hostUts := outside["uts"]
	const name = "anykernel-unshare"
	nsRun(t, e, api.CLONE_NEWUTS|api.CLONE_NEWIPC|api.CLONE_NEWNET|api.CLONE_NEWNS|api.CLONE_NEWCGROUP, func(t T) {
		for _, ns := range []string{"uts", "ipc", "net", "mnt", "cgroup"} {
			in := nsIno(t, k, "/proc/thread-self/ns/"+ns)
			out := outside[ns]
			True(t, in != out, "the thread has its own %s namespace (%d, outside %d)", ns, in, out)
		}
		OK(t, k.Sethostname(name), "sethostname in the new UTS namespace")
		Eq(t, nsHostname(t, k), name, "host name inside")
		// Unsharing again on the same (already locked) thread works and
		// keeps the goroutine where it is.
		before := nsIno(t, k, "/proc/thread-self/ns/uts")
		OK(t, k.Unshare(api.CLONE_NEWUTS), "second unshare")
		True(t, nsIno(t, k, "/proc/thread-self/ns/uts") != before, "a second new UTS namespace")
		Eq(t, nsHostname(t, k), name, "a new UTS namespace starts with a copy of the name")
	})
	Eq(t, nsHostname(t, k), host, "host name outside is unchanged")
	Eq(t, nsIno(t, k, "/proc/thread-self/ns/uts"), hostUts, "the process's UTS namespace is unchanged")

	// A Go program is multithreaded: the kernel refuses a new user
	// namespace, and says so.
	var uerr error
	nsexec.RunLocked(k, func() { uerr = k.Unshare(api.CLONE_NEWUSER) })
	Want(t, uerr, api.EINVAL, "unshare(CLONE_NEWUSER) in a multithreaded process")

	// Bad input.
	Want(t, k.Unshare(api.CLONE_PIDFD), api.EINVAL, "CLONE_PIDFD is not an unshare flag")
	Want(t, k.Unshare(api.CloneFlags(1)<<40), api.EINVAL, "unknown bits")
	fl, err := api.ParseCloneFlags("newns,NEWUTS,clone_newnet,~newnet")
	OK(t, err, "ParseCloneFlags")
	Eq(t, fl, api.CLONE_NEWNS|api.CLONE_NEWUTS, "parsed flags")
	Eq(t, (api.CLONE_NEWNS | api.CLONE_NEWPID).String(), "CLONE_NEWNS|CLONE_NEWPID", "String")
	_, err = api.ParseCloneFlags("newns,newbogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "newbogus", "ParseError names the word: %v", err)
}

func testSetns(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)

	// A fresh network namespace, kept alive by its handle only.
	ns, err := nsexec.NewNetns(k)
	NoSys(t, err)
	OK(t, err, "new network namespace")
	defer ns.Close()
	typ, err := ns.Fd().NsType()
	OK(t, err, "NS_GET_NSTYPE")
	Eq(t, typ, api.CLONE_NEWNET, "namespace type")
	_, nsIno2, err := ns.Ino()
	OK(t, err)
	hostNet := nsIno(t, k, "/proc/thread-self/ns/net")
	True(t, nsIno2 != hostNet, "the new namespace %d is not the host's %d (%v)", nsIno2, hostNet, ns)

	// Setns on a goroutine of our own; its thread is discarded.
	nt := &nsT{T: t}
	nsLocked(t, e, func() {
		Want(nt, k.Setns(ns.Fd(), api.CLONE_NEWUTS), api.EINVAL, "setns with the wrong nstype")
		Eq(nt, nsIno(nt, k, "/proc/thread-self/ns/net"), hostNet, "a failed setns moves nothing")
		OK(nt, k.Setns(ns.Fd(), api.CLONE_NEWNET), "setns into the new netns")
		Eq(nt, nsIno(nt, k, "/proc/thread-self/ns/net"), nsIno2, "thread's netns after setns")
		// A socket made here belongs to the namespace: its only
		// interface is lo.
		ifs, err := readFileK(k, "/proc/thread-self/net/dev")
		OK(nt, err)
		True(nt, strings.Contains(ifs, "lo:") && strings.Count(ifs, ":") == 1, "only lo in the new netns:\n%s", ifs)
	})
	if t.Failed() {
		return
	}
	Eq(t, nsIno(t, k, "/proc/thread-self/ns/net"), hostNet, "this goroutine is still in the host netns")

	// Netns.Do: in and back on the same thread.
	var inside uint64
	OK(t, ns.Do(func() error {
		var st api.Stat
		if err := k.Stat("/proc/thread-self/ns/net", &st); err != nil {
			return err
		}
		inside = st.Ino
		return nil
	}), "Netns.Do")
	Eq(t, inside, nsIno2, "Do ran inside the namespace")
	sentinel := errors.New("sentinel")
	Want(t, ns.Do(func() error { return sentinel }), sentinel, "Do returns f's error")
	cur, err := nsexec.CurrentNetns(k)
	OK(t, err)
	defer cur.Close()
	True(t, !cur.Equal(ns), "Equal tells namespaces apart")
	self, err := nsexec.NetnsOfPid(k, k.Getpid())
	OK(t, err)
	defer self.Close()
	True(t, cur.Equal(self), "the current and the process's netns are the same")

	// Joining a mount namespace: a private tmpfs in another namespace
	// becomes visible.
	dir := e.TempDir(t)
	mnt := make(chan *api.Fd, 1)
	hold := make(chan struct{})
	go nsexec.RunLocked(k, func() {
		defer close(mnt)
		if k.Unshare(api.CLONE_NEWNS) != nil || k.Mount("", "/", "", api.MS_REC|api.MS_PRIVATE, "") != nil ||
			k.Mount("tmpfs", dir, "tmpfs", 0, "size=64k") != nil {
			return
		}
		f, err := k.Open(dir+"/inside", api.O_CREAT|api.O_WRONLY|api.O_CLOEXEC, 0o644)
		if err != nil {
			return
		}
		f.Close()
		m, err := k.Open("/proc/thread-self/ns/mnt", api.O_RDONLY|api.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		mnt <- m
		<-hold
	})
	defer close(hold)
	m := <-mnt
	True(t, m != nil, "a mount namespace with a tmpfs in it")
	defer m.Close()
	var st api.Stat
	Want(t, k.Stat(dir+"/inside", &st), fs.ErrNotExist, "the tmpfs is not visible from the host")
	var seen error
	nsexec.RunLocked(k, func() {
		if seen = k.Setns(m, api.CLONE_NEWNS); seen != nil {
			return
		}
		var st api.Stat
		seen = k.Stat(dir+"/inside", &st)
	})
	OK(t, seen, "setns(CLONE_NEWNS) and the file in the other namespace's tmpfs")

	// Bad input.
	Want(t, k.Setns(nil, api.CLONE_NEWNET), api.EBADF, "nil fd")
	closed, err := k.Open("/proc/thread-self/ns/net", api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	closed.Close()
	Want(t, k.Setns(closed, 0), api.EBADF, "closed fd")
	Want(t, k.Setns(ns.Fd(), api.CLONE_FILES), api.EINVAL, "nstype that is no namespace")
	f, err := k.Open("/proc/self/stat", api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	_, err = f.NsType()
	Want(t, err, api.ENOTTY, "NS_GET_NSTYPE on a file that is no namespace")
}

// readFileK reads a whole file through the kernel under test.
func readFileK(k *api.Kernel, path string) (string, error) {
	f, err := k.Open(path, api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

// nsShell returns a shell to run in children, skipping without one.
func nsShell(t T, k *api.Kernel) string {
	t.Helper()
	for _, sh := range []string{"/bin/sh", "/usr/bin/sh"} {
		var st api.Stat
		if k.Stat(sh, &st) == nil {
			return sh
		}
	}
	t.Skipf("no /bin/sh to start in a child")
	return ""
}

// nsRunChild starts sh -c script with Clone3Exec and returns its output and
// status.
func nsRunChild(t T, k *api.Kernel, a *api.CloneExecArgs, script string) (string, api.WaitStatus) {
	t.Helper()
	sh := nsShell(t, k)
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err)
	defer r.Close()
	a.Stdout, a.Stderr = w, w
	c, err := k.Clone3Exec(a, sh, []string{"sh", "-c", script}, []string{"PATH=/usr/bin:/bin"})
	w.Close()
	NoSys(t, err)
	OK(t, err, "clone3 %v", a.Flags)
	True(t, c.Pid > 0 && c.Pidfd != nil && c.Pidfd.Num() >= 0, "pid %d and a pidfd", c.Pid)
	defer c.Pidfd.Close()
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	var s string
	select {
	case s = <-out:
	case <-time.After(nsTimeout):
		c.Kill()
		t.Fatalf("child timed out")
	}
	ws, err := c.Wait()
	OK(t, err, "wait through the pidfd")
	return s, ws
}

func testClone3(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	host := nsHostname(t, k)

	// New PID, UTS, IPC, network and mount namespaces: the child is pid 1,
	// names its own host, and sees only lo.
	out, ws := nsRunChild(t, k, &api.CloneExecArgs{
		Flags: api.CLONE_NEWPID | api.CLONE_NEWUTS | api.CLONE_NEWIPC | api.CLONE_NEWNET | api.CLONE_NEWNS,
		Dir:   "/proc",
	}, `echo pid=$$; echo anykernel-clone3 > /proc/sys/kernel/hostname; read h < /proc/sys/kernel/hostname; echo host=$h; echo dir=$PWD; exit 7`)
	True(t, ws.Exited(), "child exited: %v", ws)
	Eq(t, ws.ExitStatus(), 7, "exit status (output %q)", out)
	True(t, strings.Contains(out, "pid=1\n"), "child is pid 1 of its namespace: %q", out)
	True(t, strings.Contains(out, "host=anykernel-clone3\n"), "host name set inside: %q", out)
	True(t, strings.Contains(out, "dir=/proc\n"), "working directory: %q", out)
	Eq(t, nsHostname(t, k), host, "host name outside unchanged")

	// A new user namespace, where the kernel allows one: root outside
	// maps to root inside.
	out, ws = func() (string, api.WaitStatus) {
		sh := nsShell(t, k)
		r, w, err := k.Pipe2(api.O_CLOEXEC)
		OK(t, err)
		defer r.Close()
		c, err := k.Clone3Exec(&api.CloneExecArgs{
			Flags:  api.CLONE_NEWUSER | api.CLONE_NEWPID,
			Stdout: w,
			UidMap: []api.IDMap{{Inside: 0, Outside: 0, Count: 1}},
			GidMap: []api.IDMap{{Inside: 0, Outside: 0, Count: 1}},
		}, sh, []string{"sh", "-c", `read a b c < /proc/self/uid_map; echo map=$a,$b,$c; read s < /proc/self/setgroups; echo setgroups=$s`}, nil)
		w.Close()
		if errors.Is(err, api.EPERM) || errors.Is(err, api.ENOSPC) || errors.Is(err, api.EACCES) {
			t.Logf("user namespaces not allowed here: %v", err)
			return "", api.WaitStatus{}
		}
		OK(t, err, "clone3 into a new user namespace")
		defer c.Pidfd.Close()
		b, _ := io.ReadAll(r)
		ws, err := c.Wait()
		OK(t, err)
		return string(b), ws
	}()
	if out != "" {
		Eq(t, ws.ExitStatus(), 0, "user-namespace child")
		True(t, strings.Contains(out, "map=0,0,1\n"), "uid map written before the child ran: %q", out)
		True(t, strings.Contains(out, "setgroups=deny\n"), "setgroups denied by default: %q", out)
	}

	// Signals through the pidfd: SIGKILL reaches even pid 1 of a PID
	// namespace from outside.
	sh := nsShell(t, k)
	pr, pw, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err)
	defer pr.Close()
	defer pw.Close()
	c, err := k.Clone3Exec(&api.CloneExecArgs{Flags: api.CLONE_NEWPID, Stdin: pr}, sh, []string{"sh", "-c", "read x"}, nil)
	OK(t, err, "clone3 a child that waits")
	OK(t, c.Signal(api.SIGKILL), "pidfd_send_signal")
	ws, err = c.Wait()
	OK(t, err)
	True(t, ws.Signaled() && ws.Signal() == api.SIGKILL, "killed by SIGKILL: %v", ws)
	c.Pidfd.Close()

	// Errors come back from the child as the failing step's error.
	_, err = k.Clone3Exec(nil, "/nonexistent/anykernel", []string{"x"}, nil)
	Want(t, err, fs.ErrNotExist, "execve of a missing file")
	var pe *fs.PathError
	True(t, errors.As(err, &pe) && pe.Op == "execve" && pe.Path == "/nonexistent/anykernel", "execve error names the path: %v", err)
	_, err = k.Clone3Exec(&api.CloneExecArgs{Dir: "/nonexistent/dir"}, sh, []string{"sh"}, nil)
	True(t, errors.As(err, &pe) && pe.Op == "chdir" && errors.Is(err, api.ENOENT), "chdir error: %v", err)

	// Bad input.
	_, err = k.Clone3Exec(&api.CloneExecArgs{Flags: api.CLONE_FILES}, sh, []string{"sh"}, nil)
	Want(t, err, api.EINVAL, "CLONE_FILES is not allowed")
	_, err = k.Clone3Exec(&api.CloneExecArgs{UidMap: []api.IDMap{{Inside: 0, Outside: 0, Count: 1}}}, sh, []string{"sh"}, nil)
	Want(t, err, api.EINVAL, "uid map without CLONE_NEWUSER")
	_, err = k.Clone3Exec(&api.CloneExecArgs{Flags: api.CLONE_NEWUSER, UidMap: []api.IDMap{{Inside: 0, Outside: -1, Count: 1}}}, sh, []string{"sh"}, nil)
	Want(t, err, api.EINVAL, "negative id in a map")
	_, err = k.Clone3Exec(nil, sh, []string{"sh", "a\x00b"}, nil)
	Want(t, err, api.EINVAL, "NUL in an argument")
	_, err = k.Clone3Exec(&api.CloneExecArgs{Stdout: pw}, sh+"\x00", []string{"sh"}, nil)
	Want(t, err, api.EINVAL, "NUL in the path")
	closed, err := k.Open("/dev/null", api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	closed.Close()
	_, err = k.Clone3Exec(&api.CloneExecArgs{Stdin: closed}, sh, []string{"sh"}, nil)
	Want(t, err, api.EBADF, "closed Fd as stdin")
}
