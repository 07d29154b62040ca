package conformance

import (
	"io"
	"runtime"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// Copying inside the kernel: copy_file_range, sendfile, splice, tee,
// vmsplice.

func init() {
	Register(
		Case{Family: "files", Call: "copy_file_range", Run: testCopyFileRange},
		Case{Family: "files", Call: "sendfile", Run: testSendfile},
		Case{Family: "files", Call: "splice", Run: testSplice},
		Case{Family: "files", Call: "tee", Run: testTee},
		Case{Family: "files", Call: "vmsplice", Run: testVmsplice},
	)
}

// fmPipe makes a pipe with a raw pipe2 call, so that these cases do not
// depend on the ready family's API. The two ints live in pinned heap
// memory, as Kernel.Syscall requires.
func fmPipe(t T, e *Env) (r, w *api.Fd) {
	t.Helper()
	fds := new([2]int32)
	var pin runtime.Pinner
	pin.Pin(fds)
	defer pin.Unpin()
	cloexec, ok := e.K.Const("O_CLOEXEC")
	True(t, ok, "O_CLOEXEC in the ABI table")
	_, err := e.K.Syscall("pipe2", uintptr(unsafe.Pointer(fds)), uintptr(cloexec))
	OK(t, err, "pipe2")
	r, err = e.K.NewFd(int(fds[0]))
	OK(t, err)
	w, err = e.K.NewFd(int(fds[1]))
	OK(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// fmReadN reads exactly n bytes from f.
func fmReadN(t T, f *api.Fd, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := io.ReadFull(f, b)
	OK(t, err, "read %d bytes", n)
	return string(b)
}

// fmOpenRW creates a file with content and opens it read-write.
func fmOpenRW(t T, e *Env, name, content string) (*api.Fd, string) {
	t.Helper()
	p := CreateFile(t, e, name, []byte(content))
	f, err := e.K.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err, "open %s", p)
	t.Cleanup(func() { f.Close() })
	return f, p
}

func testCopyFileRange(t T, e *Env) {
	k := e.K
	src, _ := fmOpenRW(t, e, "src", "0123456789abcdef")
	dst, dp := fmOpenRW(t, e, "dst", "")

	// With offsets: the file offsets stay, the offsets advance.
	in, out := int64(4), int64(2)
	n, err := k.CopyFileRange(src, &in, dst, &out, 6)
	NoSys(t, err)
	OK(t, err, "copy_file_range with offsets")
	Eq(t, n, 6, "count")
	Eq(t, in, int64(10), "input offset advanced")
	Eq(t, out, int64(8), "output offset advanced")
	Eq(t, fmReadFile(t, e, dp), "\x00\x00456789", "destination")
	Eq(t, fmReadN(t, src, 2), "01", "source file offset untouched")

	// Without offsets: the file offsets are used and advanced.
	n, err = k.CopyFileRange(src, nil, dst, nil, 3)
	OK(t, err, "copy_file_range at the file offsets")
	Eq(t, n, 3)
	Eq(t, fmReadFile(t, e, dp), "23456789", "written at dst's offset 0")
	Eq(t, fmReadN(t, src, 1), "5", "source offset advanced by 3")

	// At end of input: 0.
	in = 16
	n, err = k.CopyFileRange(src, &in, dst, nil, 10)
	OK(t, err)
	Eq(t, n, 0, "count at end of input")

	_, err = k.CopyFileRange(src, nil, dst, nil, -1)
	Want(t, err, api.EINVAL, "negative length")
	in = -3
	_, err = k.CopyFileRange(src, &in, dst, nil, 1)
	Want(t, err, api.EINVAL, "negative offset")
	_, err = k.CopyFileRange(src, nil, nil, nil, 1)
	Want(t, err, api.EBADF, "nil output")
	closed := fmClosedFd(t, e)
	_, err = k.CopyFileRange(closed, nil, dst, nil, 1)
	Want(t, err, api.EBADF, "closed input")
	_, err = k.CopyFileRange(src, nil, closed, nil, 1)
	Want(t, err, api.EBADF, "closed output")
	// The input acquired first was released: it still works.
	in = 0
	n, err = k.CopyFileRange(src, &in, dst, nil, 1)
	OK(t, err)
	Eq(t, n, 1)
}

func testSendfile(t T, e *Env) {
	k := e.K
	src, _ := fmOpenRW(t, e, "src", "hello, sendfile")
	dst, dp := fmOpenRW(t, e, "dst", "")

	// File to file (Linux ≥ 2.6.33), from an offset.
	off := int64(7)
	n, err := k.Sendfile(dst, src, &off, 100)
	NoSys(t, err)
	OK(t, err, "sendfile file to file")
	Eq(t, n, 8, "count up to end of file")
	Eq(t, off, int64(15), "offset advanced")
	Eq(t, fmReadFile(t, e, dp), "sendfile")
	Eq(t, fmReadN(t, src, 5), "hello", "source file offset untouched")

	// File to pipe, at the file offset.
	r, w := fmPipe(t, e)
	n, err = k.Sendfile(w, src, nil, 2)
	OK(t, err, "sendfile file to pipe")
	Eq(t, n, 2)
	Eq(t, fmReadN(t, r, 2), ", ", "through the pipe")
	Eq(t, fmReadN(t, src, 1), "s", "source file offset advanced")

	off = 15
	n, err = k.Sendfile(dst, src, &off, 4)
	OK(t, err)
	Eq(t, n, 0, "count at end of file")
	_, err = k.Sendfile(dst, src, nil, -1)
	Want(t, err, api.EINVAL, "negative count")
	off = -1
	_, err = k.Sendfile(dst, src, &off, 1)
	Want(t, err, api.EINVAL, "negative offset")
	_, err = k.Sendfile(dst, fmClosedFd(t, e), nil, 1)
	Want(t, err, api.EBADF, "closed input")
	_, err = k.Sendfile(nil, src, nil, 1)
	Want(t, err, api.EBADF, "nil output")
}

func testSplice(t T, e *Env) {
	k := e.K
	src, _ := fmOpenRW(t, e, "src", "splice me, please")
	dst, dp := fmOpenRW(t, e, "dst", "")
	r, w := fmPipe(t, e)

	// File to pipe, from an offset.
	in := int64(7)
	n, err := k.Splice(src, &in, w, nil, 6, 0)
	NoSys(t, err)
	OK(t, err, "splice file to pipe")
	Eq(t, n, 6)
	Eq(t, in, int64(13), "input offset advanced")

	// Pipe to file, at an offset.
	out := int64(3)
	n, err = k.Splice(r, nil, dst, &out, 6, api.SPLICE_F_MOVE)
	OK(t, err, "splice pipe to file")
	Eq(t, n, 6)
	Eq(t, out, int64(9), "output offset advanced")
	Eq(t, fmReadFile(t, e, dp), "\x00\x00\x00me, pl")

	// An offset on the pipe side is ESPIPE; an empty pipe with
	// SPLICE_F_NONBLOCK is EAGAIN.
	off := int64(0)
	_, err = k.Splice(r, &off, dst, nil, 1, 0)
	Want(t, err, api.ESPIPE, "offset for a pipe")
	_, err = k.Splice(r, nil, dst, nil, 1, api.SPLICE_F_NONBLOCK)
	Want(t, err, api.EAGAIN, "empty pipe, SPLICE_F_NONBLOCK")
	// Neither side a pipe.
	_, err = k.Splice(src, nil, dst, nil, 1, 0)
	Want(t, err, api.EINVAL, "no pipe")
	_, err = k.Splice(src, nil, w, nil, -1, 0)
	Want(t, err, api.EINVAL, "negative length")
	_, err = k.Splice(src, nil, w, nil, 1, api.SpliceFlags(1<<9))
	Want(t, err, api.EINVAL, "unknown flag bits")
	_, err = k.Splice(src, nil, fmClosedFd(t, e), nil, 1, 0)
	Want(t, err, api.EBADF, "closed output")
	fl, err := api.ParseSpliceFlags("move,more")
	OK(t, err)
	Eq(t, fl, api.SPLICE_F_MOVE|api.SPLICE_F_MORE)
}

func testTee(t T, e *Env) {
	k := e.K
	r1, w1 := fmPipe(t, e)
	r2, w2 := fmPipe(t, e)
	_, err := w1.Write([]byte("duplicate"))
	OK(t, err)
	n, err := k.Tee(r1, w2, 100, 0)
	NoSys(t, err)
	OK(t, err, "tee")
	Eq(t, n, 9, "count")
	Eq(t, fmReadN(t, r2, 9), "duplicate", "copy in the second pipe")
	Eq(t, fmReadN(t, r1, 9), "duplicate", "the first pipe still holds it")

	_, err = k.Tee(r1, w2, 10, api.SPLICE_F_NONBLOCK)
	Want(t, err, api.EAGAIN, "empty pipe, SPLICE_F_NONBLOCK")
	p := CreateFile(t, e, "f", []byte("x"))
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	_, err = k.Tee(f, w2, 1, 0)
	Want(t, err, api.EINVAL, "tee from a file")
	_, err = k.Tee(r1, w2, -1, 0)
	Want(t, err, api.EINVAL, "negative length")
	_, err = k.Tee(r1, fmClosedFd(t, e), 1, 0)
	Want(t, err, api.EBADF, "closed output")
	_, err = k.Tee(nil, w2, 1, 0)
	Want(t, err, api.EBADF, "nil input")
	w1.Close()
	n, err = k.Tee(r1, w2, 1, 0)
	OK(t, err, "tee at end of input")
	Eq(t, n, 0)
}

func testVmsplice(t T, e *Env) {
	r, w := fmPipe(t, e)
	// Heap buffers: the pipe may keep references to their pages until read.
	bufs := [][]byte{[]byte("gather "), []byte("these "), {}, []byte("pieces")}
	n, err := w.Vmsplice(bufs, 0)
	NoSys(t, err)
	OK(t, err, "vmsplice into a pipe")
	Eq(t, n, 19, "count")
	Eq(t, fmReadN(t, r, 19), "gather these pieces", "what the pipe holds")

	// From the read end, vmsplice copies out of the pipe (scatter).
	_, err = w.Write([]byte("scatterread"))
	OK(t, err)
	a, b := make([]byte, 7), make([]byte, 10)
	n, err = r.Vmsplice([][]byte{a, b}, 0)
	OK(t, err, "vmsplice out of a pipe")
	Eq(t, n, 11)
	Eq(t, string(a)+string(b[:4]), "scatterread")

	// More buffers than fit the stack array. Into a pipe, each buffer
	// takes one of the pipe's (by default 16) slots, so scatter out of it.
	_, err = w.Write([]byte("abcdefghijklmnopqrstuvwxyzabcdefghijklmn"))
	OK(t, err)
	many := make([][]byte, 40)
	for i := range many {
		many[i] = make([]byte, 1)
	}
	n, err = r.Vmsplice(many, 0)
	OK(t, err, "vmsplice into 40 buffers")
	Eq(t, n, 40)
	Eq(t, string(many[0])+string(many[1])+string(many[25])+string(many[26])+string(many[39]), "abzan", "order kept")

	n, err = w.Vmsplice(nil, 0)
	OK(t, err, "no buffers")
	Eq(t, n, 0)
	_, err = r.Vmsplice([][]byte{make([]byte, 4)}, api.SPLICE_F_NONBLOCK)
	Want(t, err, api.EAGAIN, "empty pipe, SPLICE_F_NONBLOCK")
	_, err = w.Vmsplice(bufs, api.SpliceFlags(1<<9))
	Want(t, err, api.EINVAL, "unknown flag bits")
	_, err = w.Vmsplice(make([][]byte, 5000), 0)
	Want(t, err, api.EINVAL, "more buffers than IOV_MAX")
	p := CreateFile(t, e, "f", nil)
	f, err := e.K.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	_, err = f.Vmsplice(bufs, 0)
	Want(t, err, api.EBADF, "vmsplice on a regular file")
	OK(t, f.Close())
	_, err = f.Vmsplice(bufs, 0)
	Want(t, err, api.EBADF, "closed fd")
	var nilFd *api.Fd
	_, err = nilFd.Vmsplice(bufs, 0)
	Want(t, err, api.EBADF, "nil fd")
}
