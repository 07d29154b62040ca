//go:build xen

package xen

import (
	"sync"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// Errno values answered, Linux's numbers (memfs has the file system's).
const (
	EPERM        = memfs.EPERM
	ENOENT       = memfs.ENOENT
	ESRCH        = memfs.ESRCH
	EINTR        = memfs.EINTR
	ENXIO        = memfs.ENXIO
	EBADF        = memfs.EBADF
	EAGAIN       = memfs.EAGAIN
	ENOMEM       = memfs.ENOMEM
	EACCES       = memfs.EACCES
	EFAULT       = memfs.EFAULT
	EBUSY        = memfs.EBUSY
	EEXIST       = memfs.EEXIST
	ENOTDIR      = memfs.ENOTDIR
	EISDIR       = memfs.EISDIR
	EINVAL       = memfs.EINVAL
	EMFILE       = memfs.EMFILE
	ENOTTY       = memfs.ENOTTY
	ENOSPC       = memfs.ENOSPC
	ESPIPE       = memfs.ESPIPE
	EPIPE        = memfs.EPIPE
	ERANGE       = memfs.ERANGE
	ENAMETOOLONG = memfs.ENAMETOOLONG
	ENOSYS       = memfs.ENOSYS
	ELOOP        = memfs.ELOOP
	EOVERFLOW    = memfs.EOVERFLOW
	EOPNOTSUPP   = memfs.EOPNOTSUPP
)

// Errno is a Linux error number.
type Errno = memfs.Errno

// maxFds bounds the descriptor table (RLIMIT_NOFILE).
const maxFds = 4096

// kernel is the library OS's state: one process.
type kernel struct {
	fs  *memfs.FS
	pid int32 // the platform's (1 inside the image)

	mu    sync.Mutex // the descriptor table, cwd, umask
	fds   []fdSlot
	cwd   *memfs.Inode
	umask uint32

	hub     hub        // wakes waiters when readiness may have changed
	epolls  epollSet   // every epoll instance, to drop closed files
	sig     sigState   // emulated signal masks and pending sets
	inotify inotifySet // every inotify instance
	timers  timerState
	boot    int64 // CLOCK_BOOTTIME at start, for times()
}

// fdSlot is one descriptor: an open file description and its flags.
type fdSlot struct {
	of      *ofile
	cloexec bool
}

// ofile is an open file description: what dup shares.
type ofile struct {
	refs int // descriptors and calls in flight; guarded by kernel.mu
	f    file
}

// file is what a description does. Types also answer the optional
// interfaces below.
type file interface {
	read(k *kernel, p []byte, nonblock bool) (int, Errno)
	write(k *kernel, p []byte, nonblock bool) (int, Errno)
	flags() int // access mode and status flags (O_NONBLOCK, ...)
	setFlags(int)
	stat() memfs.Stat
	poll(k *kernel) uint32 // readiness now: POLLIN, POLLOUT, POLLHUP, ...
	release(k *kernel)     // the last descriptor is gone
}

func newKernel() (*kernel, error) {
	initOps(linuxTable())
	initLayouts()
	initPlatform()
	k := &kernel{umask: 0o022, pid: int32(platformGetpid())}
	k.fs = memfs.New(memfs.Options{Now: wallNow, Dev: 0x1c, Notify: k.onEvent})
	k.cwd = k.fs.Root()
	k.boot = clockNs(clockBoottime)
	if err := k.populate(); err != nil {
		return nil, err
	}
	return k, nil
}

// populate makes the directories a program expects and the console on
// descriptors 0, 1 and 2.
func (k *kernel) populate() error {
	c := memfs.Root
	for _, d := range []struct {
		path string
		mode uint32
	}{{"/tmp", 0o1777}, {"/dev", 0o755}, {"/dev/shm", 0o1777}, {"/var", 0o755}, {"/var/tmp", 0o1777}, {"/etc", 0o755}, {"/root", 0o700}} {
		if e := k.fs.Mkdir(c, nil, d.path, d.mode); e != 0 {
			return e
		}
		ino, _ := k.fs.Lookup(c, nil, d.path, 0)
		k.fs.Chmod(c, ino, d.mode)
	}
	for _, d := range devices {
		if e := k.fs.Mknod(c, nil, d.path, memfs.S_IFCHR|0o666, d.rdev); e != 0 {
			return e
		}
	}
	f, e := k.fs.Open(c, nil, "/dev/console", memfs.O_RDWR, 0, 0)
	if e != 0 {
		return e
	}
	of := &ofile{f: &devFile{mf: f, dev: devConsole}}
	k.fds = make([]fdSlot, 3, 64)
	for i := range k.fds {
		k.fds[i] = fdSlot{of: of}
		of.refs++
	}
	if f, e := k.fs.Open(c, nil, "/etc/hostname", memfs.O_WRONLY|memfs.O_CREAT, 0o644, 0); e == 0 {
		f.Write([]byte(utsNodename + "\n"))
		f.Close()
	}
	return nil
}

// install puts a new description in the lowest free slot at or above min.
func (k *kernel) install(f file, cloexec bool, min int) (uintptr, Errno) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.installLocked(&ofile{f: f}, cloexec, min)
}

func (k *kernel) installLocked(of *ofile, cloexec bool, min int) (uintptr, Errno) {
	if min >= maxFds {
		return 0, EINVAL
	}
	for i := min; i < len(k.fds); i++ {
		if k.fds[i].of == nil {
			k.fds[i] = fdSlot{of, cloexec}
			of.refs++
			return uintptr(i), 0
		}
	}
	n := max(len(k.fds), min)
	if n >= maxFds {
		return 0, EMFILE
	}
	for len(k.fds) < n {
		k.fds = append(k.fds, fdSlot{})
	}
	k.fds = append(k.fds, fdSlot{of, cloexec})
	of.refs++
	return uintptr(n), 0
}

// get returns the description of fd with a reference the caller drops
// with put.
func (k *kernel) get(fd uintptr) (*ofile, Errno) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if int(fd) < 0 || fd >= uintptr(len(k.fds)) || k.fds[fd].of == nil {
		return nil, EBADF
	}
	of := k.fds[fd].of
	of.refs++
	return of, 0
}

// put drops a reference; the last one releases the description.
func (k *kernel) put(of *ofile) {
	k.mu.Lock()
	of.refs--
	last := of.refs == 0
	k.mu.Unlock()
	if last {
		k.epolls.forget(k, of)
		of.f.release(k)
		k.hub.wake()
	}
}

// close removes fd from the table.
func (k *kernel) close(fd uintptr) Errno {
	k.mu.Lock()
	if int(fd) < 0 || fd >= uintptr(len(k.fds)) || k.fds[fd].of == nil {
		k.mu.Unlock()
		return EBADF
	}
	of := k.fds[fd].of
	k.fds[fd] = fdSlot{}
	k.mu.Unlock()
	if ff, ok := of.f.(*fsFile); ok {
		// A process's record locks go with any descriptor of the file.
		ff.mf.ReleaseLocks(k.pid)
	}
	k.put(of)
	return 0
}

// dupTo makes newfd refer to oldfd's description (dup2, dup3).
func (k *kernel) dupTo(oldfd, newfd uintptr, cloexec bool) Errno {
	if newfd >= maxFds {
		return EBADF
	}
	k.mu.Lock()
	if oldfd >= uintptr(len(k.fds)) || k.fds[oldfd].of == nil {
		k.mu.Unlock()
		return EBADF
	}
	of := k.fds[oldfd].of
	for uintptr(len(k.fds)) <= newfd {
		k.fds = append(k.fds, fdSlot{})
	}
	old := k.fds[newfd].of
	k.fds[newfd] = fdSlot{of, cloexec}
	of.refs++
	k.mu.Unlock()
	if old != nil {
		if ff, ok := old.f.(*fsFile); ok {
			ff.mf.ReleaseLocks(k.pid)
		}
		k.put(old)
	}
	return 0
}

// hub wakes every waiter when something they may wait for changed: the
// waiters re-check. One hub for the kernel keeps poll over many kinds of
// file simple; wake-ups are cheap and rare enough.
type hub struct {
	mu sync.Mutex
	ch chan struct{}
}

// watch returns a channel closed at the next wake; take it before
// checking the condition, so no wake-up is lost.
func (h *hub) watch() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch == nil {
		h.ch = make(chan struct{})
	}
	return h.ch
}

func (h *hub) wake() {
	h.mu.Lock()
	if h.ch != nil {
		close(h.ch)
		h.ch = nil
	}
	h.mu.Unlock()
}

// hubWait waits on the hub without a channel when nothing has to wait:
// the first wait only starts watching and returns, so the caller checks
// once more, and only then sleeps.
type hubWait struct {
	ch <-chan struct{}
}

func (w *hubWait) wait(k *kernel) {
	if w.ch == nil {
		w.ch = k.hub.watch()
		return
	}
	<-w.ch
	w.ch = nil
}
