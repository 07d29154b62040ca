package nsexec

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"

	"github.com/anykernel/anykernel/api"
)

// Netns is an open network namespace: a descriptor of one of the files
// /proc/PID/ns/net, /proc/thread-self/ns/net or a bind mount of one (ip
// netns's /run/netns/NAME). The namespace lives at least as long as the
// handle is open.
type Netns struct {
	k  *api.Kernel
	fd *api.Fd
}

// OpenNetns opens the network namespace at path.
func OpenNetns(k *api.Kernel, path string) (*Netns, error) {
	fd, err := k.Open(path, api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	n := &Netns{k: k, fd: fd}
	if t, err := fd.NsType(); err == nil && t != api.CLONE_NEWNET {
		fd.Close()
		return nil, fmt.Errorf("nsexec: %s is a %v namespace, not a network namespace: %w", path, t, api.EINVAL)
	}
	return n, nil
}

// NetnsOfPid opens the network namespace of process pid.
func NetnsOfPid(k *api.Kernel, pid int) (*Netns, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("nsexec: pid %d: %w", pid, api.EINVAL)
	}
	return OpenNetns(k, "/proc/"+strconv.Itoa(pid)+"/ns/net")
}

// CurrentNetns opens the network namespace of the calling thread: the
// process's, unless the calling goroutine locked itself to a thread that
// moved.
func CurrentNetns(k *api.Kernel) (*Netns, error) {
	return OpenNetns(k, "/proc/thread-self/ns/net")
}

// NewNetns creates a new network namespace (with only a loopback interface,
// down) and returns a handle to it. It is created by a thread that the
// runtime then discards; the namespace lives as long as the handle (or
// anything else that refers to it) stays open.
func NewNetns(k *api.Kernel) (*Netns, error) {
	type result struct {
		n   *Netns
		err error
	}
	var r result
	RunLocked(k, func() {
		// The thread ends when f returns.
		if err := k.Unshare(api.CLONE_NEWNET); err != nil {
			r.err = err
			return
		}
		r.n, r.err = CurrentNetns(k)
	})
	return r.n, r.err
}

// Fd returns the namespace's descriptor (for Setns, rtnetlink's
// IFLA_NET_NS_FD, ...). It stays owned by n.
func (n *Netns) Fd() *api.Fd { return n.fd }

// Close closes the handle.
func (n *Netns) Close() error { return n.fd.Close() }

// Ino returns the namespace's inode number: two handles refer to the same
// namespace when their Dev and Ino are equal.
func (n *Netns) Ino() (dev, ino uint64, err error) {
	var st api.Stat
	if err := n.fd.Stat(&st); err != nil {
		return 0, 0, err
	}
	return st.Dev, st.Ino, nil
}

// Equal reports whether n and o refer to the same namespace.
func (n *Netns) Equal(o *Netns) bool {
	d1, i1, err1 := n.Ino()
	d2, i2, err2 := o.Ino()
	return err1 == nil && err2 == nil && d1 == d2 && i1 == i2
}

// String describes the handle: "net:[4026531840]".
func (n *Netns) String() string {
	_, ino, err := n.Ino()
	if err != nil {
		return "net:[?]"
	}
	return "net:[" + strconv.FormatUint(ino, 10) + "]"
}

// Do runs f inside the namespace and returns its error. f runs on a
// goroutine of its own, locked to an OS thread that enters the namespace
// before f and returns to the thread's original namespace after it; if
// returning fails, the goroutine ends still locked and the runtime
// discards the thread, so no other goroutine ever runs in the wrong
// namespace. A panic in f is re-raised in the caller.
//
// Only f's own goroutine is in the namespace: goroutines f starts run on
// other threads, in the process's namespace. Sockets f opens belong to the
// namespace for good, and may be used from anywhere afterwards. Because f
// runs on another goroutine, it must not call testing.T's FailNow (Fatal,
// Skip...): return an error instead.
func (n *Netns) Do(f func() error) error {
	type result struct {
		err   error
		panic any
		ok    bool
	}
	var r result
	RunLocked(n.k, func() {
		// The goroutine leaves every lock in place unless it put the
		// thread back: the runtime then ends the thread with it.
		orig, err := CurrentNetns(n.k)
		if err != nil {
			r.err = err
			runtime.UnlockOSThread()
			return
		}
		defer orig.Close()
		if err := n.k.Setns(n.fd, api.CLONE_NEWNET); err != nil {
			r.err = err
			runtime.UnlockOSThread()
			return
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.panic = p
				}
			}()
			r.err = f()
			r.ok = true
		}()
		if err := n.k.Setns(orig.fd, api.CLONE_NEWNET); err != nil {
			// errors.Join rather than go-multierror: two errors at most,
			// and errors.Is/As see through it; no dependency needed.
			r.err = errors.Join(r.err, fmt.Errorf("nsexec: returning to %v (thread discarded): %w", orig, err))
			return
		}
		// RunLocked's lock and one from each Setns.
		runtime.UnlockOSThread()
		runtime.UnlockOSThread()
		runtime.UnlockOSThread()
	})
	if !r.ok && r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// RunLocked runs f on a new goroutine locked to an OS thread other than the
// process's main thread, and returns when f has returned (or called
// runtime.Goexit). f may change the thread for good (Kernel.Unshare,
// Kernel.Setns, a pivot_root): unless f undoes the lock with
// runtime.UnlockOSThread, the goroutine ends locked and the runtime
// discards the thread.
//
// Why not the main thread: the runtime cannot end it, so it parks it
// instead, for the life of the process, in whatever namespaces it was moved
// to; and the files of /proc/self (ns/*, mountinfo, cwd) describe the main
// thread, so they would then describe that namespace rather than the
// process's. A goroutine that locks its thread may land on the main thread
// by chance; RunLocked steps aside when it does.
func RunLocked(k *api.Kernel, f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if k.Gettid() == k.Getpid() {
			// This goroutine holds the main thread, so the next one
			// cannot get it; it goes back unchanged when we return.
			RunLocked(k, f)
			runtime.UnlockOSThread()
			return
		}
		f()
	}()
	<-done
}
