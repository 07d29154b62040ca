package api

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// Fd is an open file descriptor of a Kernel. It closes itself when it
// becomes unreachable (unless NoGC was called), and Close is idempotent and
// safe to call concurrently with other operations: the number is released to
// the kernel only once every operation that was using it has returned, so an
// Fd can never act on a number the kernel has since handed to another open.
//
// An Fd satisfies io.Reader, io.Writer, io.ReaderAt, io.WriterAt and
// io.Closer.
type Fd struct {
	k   *Kernel
	num int32
	// state holds fdClosed and the count of operations in flight.
	state   atomic.Uint64
	cleanup runtime.Cleanup
	managed bool // a cleanup is registered
}

const fdClosed = 1 << 63

var (
	_ io.ReadWriteCloser = (*Fd)(nil)
	_ io.ReaderAt        = (*Fd)(nil)
	_ io.WriterAt        = (*Fd)(nil)
)

var sysClose = newCall("close")

// fdCloser is what a cleanup needs to close a lost Fd's number; it must not
// reference the Fd itself.
type fdCloser struct {
	k   *Kernel
	num int32
}

func closeLost(c fdCloser) {
	c.k.syscall(sysClose, uintptr(c.num), 0, 0, 0, 0, 0)
}

// newFd wraps a descriptor number the kernel just returned.
func (k *Kernel) newFd(num uintptr) *Fd {
	f := &Fd{k: k, num: int32(num)}
	f.cleanup = runtime.AddCleanup(f, closeLost, fdCloser{k, int32(num)})
	f.managed = true
	return f
}

// NewFd adopts a descriptor number of k (one inherited, or passed by another
// library). The Fd owns it from now on.
func (k *Kernel) NewFd(num int) (*Fd, error) {
	if num < 0 || num > int(^uint32(0)>>1) {
		return nil, badArg("NewFd", "descriptor number "+strconv.Itoa(num)+" out of range")
	}
	return k.newFd(uintptr(num)), nil
}

// Kernel returns the kernel this descriptor belongs to.
func (f *Fd) Kernel() *Kernel { return f.k }

// Num returns the descriptor number, or -1 once f is closed. The number is
// only meaningful while f is open and reachable (see runtime.KeepAlive).
func (f *Fd) Num() int {
	if f == nil || f.state.Load()&fdClosed != 0 {
		return -1
	}
	return int(f.num)
}

// NoGC stops f from closing itself when unreachable: the caller takes over
// the duty to Close it (or to hand the number to code that will).
func (f *Fd) NoGC() *Fd {
	if f.managed {
		f.cleanup.Stop()
		f.managed = false
	}
	return f
}

// acquire marks an operation in flight and returns the number to use. It
// fails with EBADF on a nil or closed Fd.
func (f *Fd) acquire() (uintptr, Errno) {
	if f == nil {
		return 0, EBADF
	}
	for {
		s := f.state.Load()
		if s&fdClosed != 0 {
			return 0, EBADF
		}
		if f.state.CompareAndSwap(s, s+1) {
			return uintptr(f.num), 0
		}
	}
}

// release ends an operation; the last one out after Close closes the number.
func (f *Fd) release() {
	if f.state.Add(^uint64(0)) == fdClosed {
		f.closeDeferred()
	}
}

// closeDeferred is release's slow path, kept out of line so that release
// inlines into every call.
func (f *Fd) closeDeferred() {
	f.k.syscall(sysClose, uintptr(f.num), 0, 0, 0, 0, 0)
}

// Close releases the descriptor. Closing twice, or concurrently, is not an
// error: only the first call closes. If other goroutines are still inside a
// call on f, the number is released when the last of them returns, and
// Close reports success.
func (f *Fd) Close() error {
	if f == nil {
		return callErr("close", EBADF)
	}
	for {
		s := f.state.Load()
		if s&fdClosed != 0 {
			return nil
		}
		if f.state.CompareAndSwap(s, s|fdClosed) {
			if f.managed {
				f.cleanup.Stop()
				f.managed = false
			}
			if s != 0 {
				return nil
			}
			if _, e := f.k.syscall(sysClose, uintptr(f.num), 0, 0, 0, 0, 0); e != 0 && e != EINTR {
				// EINTR still released the number on Linux; reporting it
				// would invite a retry that closes someone else's file.
				return callErr("close", e)
			}
			return nil
		}
	}
}

// Release gives up ownership without closing: it returns the number and
// leaves f closed, as os.File.Fd plus forgetting it would.
func (f *Fd) Release() (int, error) {
	if f == nil {
		return -1, callErr("release", EBADF)
	}
	for {
		s := f.state.Load()
		if s&fdClosed != 0 {
			return -1, callErr("release", EBADF)
		}
		if s != 0 {
			return -1, callErr("release", EBUSY)
		}
		if f.state.CompareAndSwap(0, fdClosed) {
			if f.managed {
				f.cleanup.Stop()
				f.managed = false
			}
			return int(f.num), nil
		}
	}
}

// File returns an *os.File for a duplicate of f, for code that wants Go's
// own I/O types. Only backends whose descriptors are the host's support it;
// others return ENOTSUP.
func (f *Fd) File() (*os.File, error) {
	if f == nil {
		return nil, callErr("file", EBADF)
	}
	if _, ok := f.k.b.(HostBackend); !ok {
		return nil, callErr("file", ENOTSUP)
	}
	d, err := f.DupCloexec()
	if err != nil {
		return nil, err
	}
	n, _ := d.Release()
	return os.NewFile(uintptr(n), "fd "+strconv.Itoa(int(f.num))), nil
}

// String describes f for logs: "fd 3 (native)".
func (f *Fd) String() string {
	if f == nil {
		return "fd <nil>"
	}
	if f.state.Load()&fdClosed != 0 {
		return "fd closed (" + f.k.name + ")"
	}
	return "fd " + strconv.Itoa(int(f.num)) + " (" + f.k.name + ")"
}

// bufPtr returns the address of p's first byte, or 0 for an empty slice.
//
//go:nosplit
func bufPtr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(p))
}
