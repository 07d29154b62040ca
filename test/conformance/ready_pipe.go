package conformance

import (
	"errors"
	"io"
	"math"
	"runtime"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// The pipes-and-readiness family: pipes and eventfd here, the rest in the
// other ready_*.go files.

func init() {
	Register(
		Case{Family: "ready", Call: "pipe2", Run: testPipe2},
		Case{Family: "ready", Call: "pipe", Run: testPipe},
		Case{Family: "ready", Call: "eventfd2", Run: testEventfd2},
		Case{Family: "ready", Call: "eventfd", Run: testEventfd},
	)
}

// readyCloexec reports whether f has close-on-exec set, asked with a raw
// fcntl(F_GETFD) so the check does not depend on another family's API.
func readyCloexec(t T, e *Env, f *api.Fd) bool {
	t.Helper()
	getfd, ok1 := e.K.Const("F_GETFD")
	cloexec, ok2 := e.K.Const("FD_CLOEXEC")
	True(t, ok1 && ok2, "F_GETFD and FD_CLOEXEC in the ABI table")
	r, err := e.K.Syscall("fcntl", uintptr(f.Num()), uintptr(getfd))
	runtime.KeepAlive(f)
	OK(t, err, "fcntl F_GETFD")
	return uint64(r)&cloexec != 0
}

// readyUnlink removes path with a raw unlinkat (heap memory, as
// Kernel.Syscall requires).
func readyUnlink(t T, e *Env, path string) {
	t.Helper()
	at, ok := e.K.Const("AT_FDCWD")
	True(t, ok, "AT_FDCWD in the ABI table")
	p := make([]byte, len(path)+1)
	copy(p, path)
	_, err := e.K.Syscall("unlinkat", uintptr(at), uintptr(unsafe.Pointer(&p[0])), 0)
	runtime.KeepAlive(p)
	OK(t, err, "unlinkat %s", path)
}

// readyRetry calls a wait again while it fails with EINTR. Waits such as
// poll and epoll_wait are never restarted after a signal handler ran, and a
// Go program's threads take the runtime's own signals (SIGURG preemption
// requests can land while the thread is already in the kernel), so a test
// that is not about EINTR must not fail on one. The retry waits the full
// timeout again, which only lengthens a wait.
func readyRetry(wait func() (int, error)) (int, error) {
	for i := 0; ; i++ {
		n, err := wait()
		if !errors.Is(err, api.EINTR) || i == 100 {
			return n, err
		}
	}
}

// readyWaitReadable polls f for POLLIN for at most a second, so that no
// test blocks forever on a read.
func readyWaitReadable(t T, e *Env, f *api.Fd, what string) {
	t.Helper()
	fds := []api.PollFd{{Fd: f, Events: api.POLLIN}}
	n, err := readyRetry(func() (int, error) { return e.K.Poll(fds, 1000) })
	OK(t, err, "poll %s", what)
	True(t, n == 1 && fds[0].Revents&api.POLLIN != 0, "%s readable within 1s (revents %v)", what, fds[0].Revents)
}

// readyPipe makes a pipe closed at the end of the test.
func readyPipe(t T, e *Env, flags api.OpenFlags) (r, w *api.Fd) {
	t.Helper()
	r, w, err := e.K.Pipe2(flags)
	OK(t, err, "pipe2")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func testPipe2(t T, e *Env) {
	k := e.K
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err, "pipe2(O_CLOEXEC)")
	defer r.Close()
	defer w.Close()
	True(t, r.Num() >= 0 && w.Num() >= 0 && r.Num() != w.Num(), "two descriptors: %v %v", r, w)
	True(t, readyCloexec(t, e, r) && readyCloexec(t, e, w), "O_CLOEXEC set on both ends")

	msg := []byte("through the pipe")
	n, err := w.Write(msg)
	OK(t, err, "write")
	Eq(t, n, len(msg))
	buf := make([]byte, 64)
	n, err = r.Read(buf)
	OK(t, err, "read")
	Eq(t, string(buf[:n]), string(msg), "data read back")
	_, err = r.Write([]byte("x"))
	Want(t, err, api.EBADF, "write to the read end")

	// O_NONBLOCK: an empty pipe answers EAGAIN instead of blocking.
	nr, nw, err := k.Pipe2(api.O_NONBLOCK)
	OK(t, err, "pipe2(O_NONBLOCK)")
	defer nr.Close()
	defer nw.Close()
	True(t, !readyCloexec(t, e, nr), "no O_CLOEXEC without asking")
	_, err = nr.Read(buf)
	Want(t, err, api.EAGAIN, "read of an empty non-blocking pipe")
	True(t, errors.Is(err, api.EWOULDBLOCK), "EAGAIN is EWOULDBLOCK")
	// The write end closed: end of file.
	OK(t, nw.Close())
	_, err = nr.Read(buf)
	Want(t, err, io.EOF, "read after the write end closed")

	// The read end closed: EPIPE (the SIGPIPE that comes with it is
	// ignored by the Go runtime for descriptors other than 1 and 2).
	OK(t, r.Close())
	_, err = w.Write([]byte("x"))
	Want(t, err, api.EPIPE, "write with no reader")

	_, _, err = k.Pipe2(api.O_CREAT)
	Want(t, err, api.EINVAL, "pipe2 with a flag it does not take")
	_, err = api.ParseOpenFlags("cloexec,nonblok")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "nonblok", "misspelt flag names the word: %v", err)
}

func testPipe(t T, e *Env) {
	r, w, err := e.K.Pipe()
	OK(t, err, "pipe")
	defer r.Close()
	defer w.Close()
	True(t, !readyCloexec(t, e, r) && !readyCloexec(t, e, w), "the legacy call sets no flags")
	n, err := w.Write([]byte("legacy"))
	OK(t, err, "write")
	Eq(t, n, 6)
	readyWaitReadable(t, e, r, "pipe")
	buf := make([]byte, 16)
	n, err = r.Read(buf)
	OK(t, err, "read")
	Eq(t, string(buf[:n]), "legacy")
	OK(t, w.Close())
	_, err = w.Write([]byte("x"))
	Want(t, err, api.EBADF, "write after close")
}

func testEventfd2(t T, e *Env) {
	k := e.K
	// Counter semantics: a read takes the whole count.
	f, err := k.Eventfd(5, api.EFD_NONBLOCK|api.EFD_CLOEXEC)
	OK(t, err, "eventfd2")
	defer f.Close()
	True(t, readyCloexec(t, e, f), "EFD_CLOEXEC set")
	OK(t, f.EventfdWrite(7), "add 7")
	v, err := f.EventfdRead()
	OK(t, err, "read counter")
	Eq(t, v, uint64(12), "5 + 7")
	_, err = f.EventfdRead()
	Want(t, err, api.EAGAIN, "read of a zero counter")
	Want(t, f.EventfdWrite(math.MaxUint64), api.EINVAL, "write of 2^64-1")
	OK(t, f.EventfdWrite(math.MaxUint64-1), "write up to the maximum")
	Want(t, f.EventfdWrite(1), api.EAGAIN, "write past the maximum")
	v, err = f.EventfdRead()
	OK(t, err)
	Eq(t, v, uint64(math.MaxUint64-1), "maximum count")
	// A short buffer is not an eventfd read.
	_, err = f.Read(make([]byte, 4))
	Want(t, err, api.EINVAL, "read of fewer than 8 bytes")

	// EFD_SEMAPHORE: each read takes 1.
	s, err := k.Eventfd(3, api.EFD_SEMAPHORE|api.EFD_NONBLOCK)
	OK(t, err, "eventfd2(EFD_SEMAPHORE)")
	defer s.Close()
	True(t, !readyCloexec(t, e, s), "no EFD_CLOEXEC without asking")
	for i := range 3 {
		v, err := s.EventfdRead()
		OK(t, err, "semaphore read %d", i)
		Eq(t, v, uint64(1), "semaphore read gives 1")
	}
	_, err = s.EventfdRead()
	Want(t, err, api.EAGAIN, "semaphore exhausted")
	OK(t, s.EventfdWrite(2))
	for range 2 {
		v, err := s.EventfdRead()
		OK(t, err)
		Eq(t, v, uint64(1))
	}
	_, err = s.EventfdRead()
	Want(t, err, api.EAGAIN, "semaphore exhausted again")

	// A blocking eventfd wakes a reader that another goroutine feeds.
	b, err := k.Eventfd(0, 0)
	OK(t, err, "eventfd2 blocking")
	defer b.Close()
	go func() {
		time.Sleep(10 * time.Millisecond)
		b.EventfdWrite(4)
	}()
	readyWaitReadable(t, e, b, "eventfd")
	v, err = b.EventfdRead()
	OK(t, err, "blocking read")
	Eq(t, v, uint64(4))

	big := uint(math.MaxUint32)
	if big+1 != 0 { // 64-bit uint
		_, err = k.Eventfd(big+1, 0)
		Want(t, err, api.EINVAL, "initial value over 32 bits")
	}
	_, err = api.ParseEventfdFlags("semaphore,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown flag word is a *ParseError: %v", err)
	OK(t, f.Close())
	_, err = f.EventfdRead()
	Want(t, err, api.EBADF, "read after close")
	Want(t, f.EventfdWrite(1), api.EBADF, "write after close")
}

func testEventfd(t T, e *Env) {
	f, err := e.K.EventfdLegacy(2)
	OK(t, err, "eventfd")
	defer f.Close()
	True(t, !readyCloexec(t, e, f), "the legacy call sets no flags")
	OK(t, f.EventfdWrite(40))
	readyWaitReadable(t, e, f, "eventfd")
	v, err := f.EventfdRead()
	OK(t, err, "read counter")
	Eq(t, v, uint64(42))
	fds := []api.PollFd{{Fd: f, Events: api.POLLIN | api.POLLOUT}}
	n, err := readyRetry(func() (int, error) { return e.K.Poll(fds, 0) })
	OK(t, err, "poll")
	Eq(t, n, 1)
	Eq(t, fds[0].Revents, api.POLLOUT, "a drained counter is writable, not readable")
}
