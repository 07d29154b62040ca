package conformance

import (
	"runtime"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The aio family: Linux native AIO, with eventfd notification.

func init() {
	Register(
		Case{Family: "aio", Call: "io_setup", Run: testIoSetup},
		Case{Family: "aio", Call: "io_submit", Run: testIoSubmit},
		Case{Family: "aio", Call: "io_getevents", Run: testIoGetevents},
		Case{Family: "aio", Call: "io_cancel", Run: testIoCancel},
		Case{Family: "aio", Call: "io_destroy", Run: testIoDestroy},
	)
}

func aioSetup(t T, e *Env, nr int) *api.AioContext {
	t.Helper()
	ctx, err := e.K.IoSetup(nr)
	NoSys(t, err)
	OK(t, err, "io_setup")
	t.Cleanup(func() { ctx.Destroy() })
	return ctx
}

// aioWait reaps n events within 2 s.
func aioWait(t T, ctx *api.AioContext, n int) []api.AioEvent {
	t.Helper()
	evs := make([]api.AioEvent, 8)
	var got []api.AioEvent
	deadline := time.Now().Add(2 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		m, err := ctx.GetEvents(1, evs, time.Until(deadline))
		OK(t, err, "io_getevents")
		got = append(got, evs[:m]...)
	}
	Eq(t, len(got), n, "events reaped")
	return got
}

func testIoSetup(t T, e *Env) {
	ctx := aioSetup(t, e, 8)
	True(t, ctx.ID() != 0, "a context id")
	ctx2 := aioSetup(t, e, 8)
	True(t, ctx2.ID() != ctx.ID(), "two contexts, two ids")
	_, err := e.K.IoSetup(0)
	Want(t, err, api.EINVAL, "nr 0")
	_, err = e.K.IoSetup(-1)
	Want(t, err, api.EINVAL, "negative nr")
}

// testIoSubmit writes then reads a file with AIO, an eventfd counting the
// completions.
func testIoSubmit(t T, e *Env) {
	k := e.K
	ctx := aioSetup(t, e, 8)
	p := CreateFile(t, e, "aio", nil)
	f, err := k.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	efd, err := k.Eventfd(0, api.EFD_CLOEXEC|api.EFD_NONBLOCK)
	OK(t, err, "eventfd")
	defer efd.Close()

	w1 := &api.AioRequest{Op: api.IOCB_CMD_PWRITE, Fd: f, Buf: []byte("hello, "), Offset: 0, Resfd: efd, Data: 1}
	w2 := &api.AioRequest{Op: api.IOCB_CMD_PWRITE, Fd: f, Buf: []byte("aio"), Offset: 7, Resfd: efd, Data: 2}
	n, err := ctx.Submit(w1, w2)
	OK(t, err, "io_submit writes")
	Eq(t, n, 2, "both accepted")
	Want(t, func() error { _, err := ctx.Submit(w1); return err }(), api.EINVAL, "a request in flight cannot be submitted again")
	evs := aioWait(t, ctx, 2)
	for _, ev := range evs {
		OK(t, ev.Err, "write result")
		Eq(t, ev.Res, int64(len(ev.Req.Buf)), "bytes written by request %d", ev.Req.Data)
	}
	cnt, err := efd.EventfdRead()
	OK(t, err, "eventfd read")
	Eq(t, cnt, uint64(2), "the eventfd counted two completions")

	fs := &api.AioRequest{Op: api.IOCB_CMD_FSYNC, Fd: f, Resfd: efd}
	rbuf := make([]byte, 32)
	rd := &api.AioRequest{Op: api.IOCB_CMD_PREAD, Fd: f, Buf: rbuf, Offset: 0, Resfd: efd}
	a, b := make([]byte, 5), make([]byte, 5)
	rv := &api.AioRequest{Op: api.IOCB_CMD_PREADV, Fd: f, Bufs: [][]byte{a, b}, Offset: 0}
	n, err = ctx.Submit(fs, rd, rv)
	OK(t, err, "io_submit fsync, read, readv")
	Eq(t, n, 3)
	runtime.GC() // the buffers stay alive while the kernel has them
	for _, ev := range aioWait(t, ctx, 3) {
		OK(t, ev.Err, "result of %v", ev.Req.Op)
		switch ev.Req {
		case fs:
			Eq(t, ev.Res, int64(0), "fsync")
		case rd:
			Eq(t, string(rbuf[:ev.Res]), "hello, aio", "read back")
		case rv:
			Eq(t, ev.Res, int64(10), "readv")
			Eq(t, string(a)+string(b), "hello, aio", "readv buffers")
		default:
			t.Fatalf("event for an unknown request %+v", ev)
		}
	}
	cnt, err = efd.EventfdRead()
	OK(t, err)
	Eq(t, cnt, uint64(2), "two of the three had the eventfd")
	// A request is reusable once reaped.
	rd.Offset = 7
	_, err = ctx.Submit(rd)
	OK(t, err, "resubmit a reaped request")
	ev := aioWait(t, ctx, 1)[0]
	Eq(t, string(rbuf[:ev.Res]), "aio")

	// Bad requests.
	_, err = ctx.Submit(&api.AioRequest{Op: api.IOCB_CMD_PREAD, Buf: rbuf})
	Want(t, err, api.EBADF, "no descriptor")
	_, err = ctx.Submit(&api.AioRequest{Op: api.IOCB_CMD_PREAD, Fd: f, Buf: rbuf, Offset: -1})
	Want(t, err, api.EINVAL, "negative offset")
	_, err = ctx.Submit(nil)
	Want(t, err, api.EINVAL, "nil request")
	_, err = ctx.Submit(&api.AioRequest{Op: api.IOCB_CMD_PREAD, Fd: f, Buf: rbuf, Resfd: f})
	Want(t, err, api.EINVAL, "a Resfd that is not an eventfd")
	ro, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer ro.Close()
	_, err = ctx.Submit(&api.AioRequest{Op: api.IOCB_CMD_PWRITE, Fd: ro, Buf: []byte("x")})
	Want(t, err, api.EBADF, "write on a read-only descriptor")
	closed, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	closed.Close()
	_, err = ctx.Submit(&api.AioRequest{Op: api.IOCB_CMD_PREAD, Fd: closed, Buf: rbuf})
	Want(t, err, api.EBADF, "closed descriptor")
	_, err = ctx.Submit(&api.AioRequest{Op: api.IOCB_CMD_PREAD, Fd: f, Buf: rbuf, RwFlags: 1 << 31})
	Want(t, err, api.EOPNOTSUPP, "unknown per-request flags")
	n, err = ctx.Submit()
	OK(t, err, "nothing to submit")
	Eq(t, n, 0)
}

func testIoGetevents(t T, e *Env) {
	k := e.K
	ctx := aioSetup(t, e, 4)
	evs := make([]api.AioEvent, 4)
	start := time.Now()
	n, err := ctx.GetEvents(1, evs, 50*time.Millisecond)
	OK(t, err, "io_getevents with nothing in flight")
	Eq(t, n, 0, "no events")
	True(t, time.Since(start) >= 40*time.Millisecond, "waited for the timeout")
	n, err = ctx.GetEvents(0, evs, 0)
	OK(t, err, "poll for events")
	Eq(t, n, 0)
	// POLL requests complete when the pipe becomes readable.
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err)
	defer r.Close()
	defer w.Close()
	pr := &api.AioRequest{Op: api.IOCB_CMD_POLL, Fd: r, Events: api.POLLIN, Data: 42}
	_, err = ctx.Submit(pr)
	OK(t, err, "submit poll")
	n, err = ctx.GetEvents(0, evs, 0)
	OK(t, err)
	Eq(t, n, 0, "not readable yet")
	go func() {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("!"))
	}()
	ev := aioWait(t, ctx, 1)[0]
	Eq(t, ev.Req, pr, "the event points to its request")
	Eq(t, ev.Req.Data, uint64(42))
	True(t, ev.Revents&api.POLLIN != 0, "POLLIN reported: %v", ev.Revents)
	_, err = ctx.GetEvents(5, evs, 0)
	Want(t, err, api.EINVAL, "minNr above len(evs)")
	_, err = ctx.GetEvents(-1, evs, 0)
	Want(t, err, api.EINVAL, "negative minNr")
}

func testIoCancel(t T, e *Env) {
	k := e.K
	ctx := aioSetup(t, e, 4)
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err)
	defer r.Close()
	defer w.Close()
	pr := &api.AioRequest{Op: api.IOCB_CMD_POLL, Fd: r, Events: api.POLLIN}
	_, err = ctx.Submit(pr)
	OK(t, err)
	OK(t, ctx.Cancel(pr), "io_cancel of a pending poll")
	ev := aioWait(t, ctx, 1)[0]
	Eq(t, ev.Req, pr, "the cancelled request completes")
	Eq(t, ev.Revents, api.PollEvents(0), "with no events")
	Want(t, ctx.Cancel(pr), api.EINVAL, "cancel of a reaped request")
	Want(t, ctx.Cancel(nil), api.EINVAL, "cancel nil")
	// A file read completes at once and cannot be cancelled any more.
	p := CreateFile(t, e, "c", []byte("data"))
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	rd := &api.AioRequest{Op: api.IOCB_CMD_PREAD, Fd: f, Buf: make([]byte, 8)}
	_, err = ctx.Submit(rd)
	OK(t, err)
	aioWait(t, ctx, 1)
	Want(t, ctx.Cancel(rd), api.EINVAL, "cancel of a completed read")
}

func testIoDestroy(t T, e *Env) {
	k := e.K
	ctx, err := k.IoSetup(4)
	NoSys(t, err)
	OK(t, err)
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err)
	defer w.Close()
	pr := &api.AioRequest{Op: api.IOCB_CMD_POLL, Fd: r, Events: api.POLLIN}
	_, err = ctx.Submit(pr)
	OK(t, err)
	// The pending request holds r open: Close defers the real close.
	OK(t, r.Close())
	_, err = w.Write([]byte("x"))
	OK(t, err, "the pipe still has a reader while the poll is pending")
	OK(t, ctx.Destroy(), "io_destroy with a request pending")
	OK(t, ctx.Destroy(), "second destroy is a no-op")
	// Destroy cancelled the poll and let go of r: the pipe has no reader.
	_, err = w.Write([]byte("x"))
	Want(t, err, api.EPIPE, "write after the last reader went")
	evs := make([]api.AioEvent, 1)
	_, err = ctx.GetEvents(0, evs, 0)
	Want(t, err, api.EINVAL, "io_getevents after destroy")
	_, err = ctx.Submit(pr)
	Want(t, err, api.EINVAL, "io_submit after destroy")
	var nilCtx *api.AioContext
	Want(t, nilCtx.Destroy(), api.EINVAL, "destroy nil")
}
