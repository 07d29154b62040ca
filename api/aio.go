package api

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Linux native AIO (io_setup, io_submit, io_getevents, io_cancel,
// io_destroy): requests the kernel performs while the caller goes on, each
// completion reported once as an event, optionally also as a count on an
// eventfd.
//
// The kernel reads and writes a request's buffers after io_submit has
// returned, until the request completes. An AioContext therefore keeps
// every submitted request, its buffers and its descriptors (which stay
// open, as if in use) referenced until GetEvents has reaped its event or
// Destroy has waited for it; requests are plain Go heap memory, which does
// not move. A context that becomes unreachable is destroyed by the garbage
// collector, after the kernel has finished with all its requests.

var (
	sysIoSetup     = newCall("io_setup")
	sysIoDestroy   = newCall("io_destroy")
	sysIoSubmit    = newCall("io_submit")
	sysIoCancel    = newCall("io_cancel")
	sysIoGetevents = newCall("io_getevents")
)

const (
	// aioEventSize bounds struct io_event (Linux: 32 bytes).
	aioEventSize = 32
	// aioBatch is how many requests one io_submit, and events one
	// io_getevents, handles; the scratch arrays are on the stack.
	aioBatch = 64
	// aioMaxIocb bounds struct iocb (Linux: 64 bytes).
	aioMaxIocb = 128
)

// aioState is AIO's per-Kernel state.
type aioState struct {
	ok bool // iocb and io_event layouts and IOCB_FLAG_RESFD known

	iocb                                      layout
	data, opcode, fildes, buf, nbytes, offset fieldAt
	flags, resfd, rwFlags                     fieldAt
	ev                                        layout
	evData, evObj, evRes, evRes2              fieldAt
	flagResfd                                 uint64
	iov                                       layout // struct iovec, for PREADV and PWRITEV
	iovBase, iovLen                           fieldAt
}

func (s *aioState) init(k *Kernel) error {
	s.iocb = k.optLayout("iocb")
	s.ev = k.optLayout("io_event")
	if s.iocb.s == nil || s.ev.s == nil || s.iocb.size > aioMaxIocb || s.ev.size > aioEventSize {
		return nil
	}
	if fieldsOf(s.iocb, aioMaxIocb, &s.data, "aio_data", &s.opcode, "aio_lio_opcode",
		&s.fildes, "aio_fildes", &s.buf, "aio_buf", &s.nbytes, "aio_nbytes", &s.offset, "aio_offset",
		&s.flags, "aio_flags", &s.resfd, "aio_resfd") != nil {
		return nil
	}
	s.rwFlags = s.iocb.field("aio_rw_flags")
	if fieldsOf(s.ev, aioEventSize, &s.evData, "data", &s.evObj, "obj", &s.evRes, "res", &s.evRes2, "res2") != nil {
		return nil
	}
	v, ok := k.table.Const("IOCB_FLAG_RESFD")
	if !ok {
		return nil
	}
	s.flagResfd = v
	if l := k.optLayout("iovec"); l.s != nil && fieldsOf(l, 64, &s.iovBase, "iov_base", &s.iovLen, "iov_len") == nil {
		s.iov = l
	}
	s.ok = true
	return nil
}

// AioRequest is one asynchronous operation. Fill in the public fields and
// give it to AioContext.Submit; it belongs to the context until its event
// has been reaped, and must not be changed or submitted again meanwhile.
// After that it may be reused.
type AioRequest struct {
	Op     AioOp      // IOCB_CMD_PREAD, PWRITE, PREADV, PWRITEV, FSYNC, FDSYNC, POLL, NOOP
	Fd     *Fd        // the file the operation is on
	Buf    []byte     // PREAD, PWRITE: the data
	Bufs   [][]byte   // PREADV, PWRITEV: the data
	Offset int64      // PREAD, PWRITE, PREADV, PWRITEV: file offset
	Events PollEvents // POLL: the events to wait for
	// RwFlags are the per-request flags of PREAD, PWRITE, PREADV and
	// PWRITEV, as preadv2 and pwritev2 take them (Linux 4.13).
	RwFlags RWFlags
	// Resfd is an eventfd the kernel adds 1 to when the request completes
	// (IOCB_FLAG_RESFD), or nil.
	Resfd *Fd
	// Data is the caller's, untouched: it identifies the request in its
	// event (the event also points back to the request).
	Data uint64

	ctx  *aioCore // set while in flight
	key  uint64
	raw  []uint64 // the struct iocb: the kernel reads it at io_submit and io_cancel
	iov  []uint64 // the struct iovec array of PREADV, PWRITEV
	held [2]*Fd   // descriptors acquired while in flight
}

// AioEvent is the completion of one request.
type AioEvent struct {
	Req *AioRequest
	// Res is the result: bytes transferred, 0 for FSYNC, FDSYNC and NOOP,
	// the ABI's poll bits for POLL (see Revents); negative is an error
	// (see Err).
	Res     int64
	Res2    int64
	Revents PollEvents // POLL: the events that happened
	Err     error      // the error a negative Res stands for, or nil
}

// AioContext is an AIO context (aio_context_t): a queue of requests in
// flight and of their completion events. It is safe for concurrent use.
type AioContext struct {
	c       *aioCore
	cleanup runtime.Cleanup
}

// aioCore is the context proper; the cleanup of a lost AioContext holds
// it, so that requests in flight stay referenced until io_destroy.
type aioCore struct {
	k  *Kernel
	id uintptr
	// state holds aioClosed and the count of calls in flight.
	state     atomic.Uint64
	destroyed sync.Once
	derr      error

	mu      sync.Mutex
	pending map[uint64]*AioRequest
	next    uint64
}

const aioClosed = 1 << 63

// IoSetup creates an AIO context for up to nr requests in flight.
func (k *Kernel) IoSetup(nr int) (*AioContext, error) {
	const op = "io_setup"
	if nr <= 0 || nr > 1<<31-1 {
		return nil, badArg(op, "nr "+strconv.Itoa(nr)+" out of range 1..2^31-1")
	}
	if !k.misc.aio.ok {
		return nil, callErr(op, ENOSYS)
	}
	var id uintptr // aio_context_t, which must be 0 on entry
	_, e := k.syscall(sysIoSetup, uintptr(nr), uintptr(unsafe.Pointer(&id)), 0, 0, 0, 0)
	if e != 0 {
		return nil, callErr(op, e)
	}
	c := &aioCore{k: k, id: id, pending: map[uint64]*AioRequest{}}
	ctx := &AioContext{c: c}
	ctx.cleanup = runtime.AddCleanup(ctx, destroyLostAio, c)
	return ctx, nil
}

func destroyLostAio(c *aioCore) {
	for {
		s := c.state.Load()
		if s&aioClosed != 0 {
			return
		}
		if c.state.CompareAndSwap(s, s|aioClosed) {
			if s == 0 {
				c.destroy()
			}
			return
		}
	}
}

// ID returns the kernel's number for the context (aio_context_t).
func (ctx *AioContext) ID() uintptr { return ctx.c.id }

func (c *aioCore) acquire() bool {
	for {
		s := c.state.Load()
		if s&aioClosed != 0 {
			return false
		}
		if c.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

func (c *aioCore) release() {
	if c.state.Add(^uint64(0)) == aioClosed {
		c.destroy()
	}
}

// destroy makes io_destroy, which cancels what it can and waits for the
// rest, and then lets go of every request still pending.
func (c *aioCore) destroy() {
	c.destroyed.Do(func() {
		if _, e := c.k.syscall(sysIoDestroy, c.id, 0, 0, 0, 0, 0); e != 0 {
			c.derr = callErr("io_destroy", e)
		}
		c.mu.Lock()
		for key, r := range c.pending {
			delete(c.pending, key)
			r.done()
		}
		c.mu.Unlock()
	})
}

// Destroy cancels the requests in flight that can be cancelled, waits for
// the others and frees the context; their events are lost. Destroying
// twice is not an error. A call on the context still running in another
// goroutine (a GetEvents waiting) delays the io_destroy until it returns.
func (ctx *AioContext) Destroy() error {
	if ctx == nil {
		return callErr("io_destroy", EINVAL)
	}
	c := ctx.c
	for {
		s := c.state.Load()
		if s&aioClosed != 0 {
			return nil
		}
		if c.state.CompareAndSwap(s, s|aioClosed) {
			ctx.cleanup.Stop()
			if s != 0 {
				return nil
			}
			c.destroy()
			return c.derr
		}
	}
}

// done releases what a request held while in flight.
func (r *AioRequest) done() {
	for i, f := range r.held {
		if f != nil {
			f.release()
			r.held[i] = nil
		}
	}
	r.ctx = nil
}

// prepare encodes r as a struct iocb and acquires its descriptors.
func (c *aioCore) prepare(op string, r *AioRequest) error {
	k := c.k
	s := &k.misc.aio
	if r == nil {
		return badArg(op, "nil *AioRequest")
	}
	if r.ctx != nil {
		return badArg(op, "request already in flight")
	}
	if r.Fd != nil && r.Fd.k != k || r.Resfd != nil && r.Resfd.k != k {
		return callErr(op, EBADF)
	}
	opc, err := k.enumToABI(aioOpFamily, uint64(r.Op))
	if err != nil {
		return miscErr(op, err)
	}
	var buf, nbytes uint64
	switch r.Op {
	case IOCB_CMD_PREAD, IOCB_CMD_PWRITE:
		if r.Offset < 0 {
			return badArg(op, "negative offset")
		}
		buf, nbytes = uint64(uintptr(bufPtr(r.Buf))), uint64(len(r.Buf))
	case IOCB_CMD_PREADV, IOCB_CMD_PWRITEV:
		if r.Offset < 0 {
			return badArg(op, "negative offset")
		}
		if s.iov.s == nil {
			return callErr(op, ENOSYS)
		}
		if len(r.Bufs) > 1<<20 {
			return badArg(op, strconv.Itoa(len(r.Bufs))+" buffers, more than 2^20")
		}
		words := (s.iov.size*len(r.Bufs) + 7) / 8
		if cap(r.iov) < words || words == 0 {
			r.iov = make([]uint64, max(words, 1))
		}
		r.iov = r.iov[:max(words, 1)]
		ib := unsafe.Slice((*byte)(unsafe.Pointer(&r.iov[0])), len(r.iov)*8)
		for i, b := range r.Bufs {
			e := ib[i*s.iov.size:]
			s.iovBase.put(e, s.iov.be, uint64(uintptr(bufPtr(b))))
			s.iovLen.put(e, s.iov.be, uint64(len(b)))
		}
		buf, nbytes = uint64(uintptr(unsafe.Pointer(&r.iov[0]))), uint64(len(r.Bufs))
	case IOCB_CMD_POLL:
		ev, err := k.flagsToABI(pollEventsFamily, uint64(r.Events))
		if err != nil {
			return miscErr(op, err)
		}
		buf = ev
	}
	words := (s.iocb.size + 7) / 8
	if cap(r.raw) < words {
		r.raw = make([]uint64, words)
	}
	r.raw = r.raw[:words]
	clear(r.raw)
	b, be := unsafe.Slice((*byte)(unsafe.Pointer(&r.raw[0])), words*8), s.iocb.be
	if r.RwFlags != 0 && !s.rwFlags.ok() {
		return callErr(op, ENOTSUP)
	}
	n, e := r.Fd.acquire()
	if e != 0 {
		return callErr(op, e)
	}
	r.held[0] = r.Fd
	if r.Resfd != nil {
		rn, e := r.Resfd.acquire()
		if e != 0 {
			r.done()
			return callErr(op, e)
		}
		r.held[1] = r.Resfd
		s.flags.put(b, be, s.flagResfd)
		s.resfd.put(b, be, uint64(rn))
	}
	s.opcode.put(b, be, opc)
	s.fildes.put(b, be, uint64(n))
	s.buf.put(b, be, buf)
	s.nbytes.put(b, be, nbytes)
	s.offset.put(b, be, uint64(r.Offset))
	s.rwFlags.put(b, be, uint64(r.RwFlags))
	c.mu.Lock()
	c.next++
	r.key = c.next
	r.ctx = c
	c.pending[r.key] = r
	c.mu.Unlock()
	s.data.put(b, be, r.key)
	return nil
}

// unpend takes back a request the kernel did not accept, or whose event
// has arrived.
func (c *aioCore) unpend(key uint64) *AioRequest {
	c.mu.Lock()
	r := c.pending[key]
	delete(c.pending, key)
	c.mu.Unlock()
	if r != nil {
		r.done()
	}
	return r
}

// Submit starts the requests and returns how many the kernel accepted, in
// order; an error comes with the count of those before the one refused.
func (ctx *AioContext) Submit(reqs ...*AioRequest) (int, error) {
	const op = "io_submit"
	if ctx == nil {
		return 0, callErr(op, EINVAL)
	}
	c := ctx.c
	if !c.acquire() {
		return 0, callErr(op, EINVAL)
	}
	defer c.release()
	total := 0
	for len(reqs) > 0 {
		batch := reqs[:min(len(reqs), aioBatch)]
		var ptrs [aioBatch]uintptr
		for i, r := range batch {
			if err := c.prepare(op, r); err != nil {
				for _, p := range batch[:i] {
					c.unpend(p.key)
				}
				return total, err
			}
			// A heap address: it does not move, and r.raw keeps it alive.
			ptrs[i] = uintptr(unsafe.Pointer(&r.raw[0]))
		}
		n, e := c.k.syscall(sysIoSubmit, c.id, uintptr(len(batch)), uintptr(unsafe.Pointer(&ptrs)), 0, 0, 0)
		if e != 0 {
			n = 0
		}
		for _, p := range batch[n:] {
			c.unpend(p.key)
		}
		total += int(n)
		if e != 0 {
			return total, callErr(op, e)
		}
		if int(n) < len(batch) {
			return total, nil
		}
		reqs = reqs[len(batch):]
	}
	return total, nil
}

// GetEvents waits until at least minNr requests have completed, or timeout
// has passed (negative: no limit), and fills evs with up to len(evs)
// events, at most 64 per call; it returns how many. A signal that
// interrupts the wait does not end it early.
func (ctx *AioContext) GetEvents(minNr int, evs []AioEvent, timeout time.Duration) (int, error) {
	const op = "io_getevents"
	if ctx == nil {
		return 0, callErr(op, EINVAL)
	}
	nr := len(evs)
	if nr > aioBatch {
		nr = aioBatch
	}
	if minNr < 0 || minNr > nr {
		return 0, badArg(op, "minNr "+strconv.Itoa(minNr)+" out of range 0.."+strconv.Itoa(nr))
	}
	c := ctx.c
	if !c.acquire() {
		return 0, callErr(op, EINVAL)
	}
	defer c.release()
	k := c.k
	s := &k.misc.aio
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	var raw [aioBatch * aioEventSize]byte
	var r uintptr
	for {
		var ts [timespecBufSize]byte
		tp := unsafe.Pointer(nil)
		if timeout >= 0 {
			left := max(time.Until(deadline), 0)
			k.timers.putTimespec(ts[:], DurationToTimespec(left))
			tp = unsafe.Pointer(&ts)
		}
		var e Errno
		r, e = k.syscall(sysIoGetevents, c.id, uintptr(minNr), uintptr(nr), uintptr(unsafe.Pointer(&raw)), uintptr(tp), 0)
		if e == EINTR {
			continue
		}
		if e != 0 {
			return 0, callErr(op, e)
		}
		break
	}
	be := s.ev.be
	for i := 0; i < int(r); i++ {
		b := raw[i*s.ev.size:]
		req := c.unpend(s.evData.uint(b, be))
		res := s.evRes.int(b, be)
		ev := AioEvent{Req: req, Res: res, Res2: s.evRes2.int(b, be)}
		if res < 0 {
			ev.Err = callErr("aio", k.errno(uintptr(-res)))
		} else if req != nil && req.Op == IOCB_CMD_POLL {
			ev.Revents = PollEvents(k.flagsFromABI(pollEventsFamily, uint64(res)))
		}
		evs[i] = ev
	}
	return int(r), nil
}

// Cancel asks the kernel to cancel a request in flight. On success the
// request completes (its event, usually with a result of ECANCELED, or 0
// for POLL, still arrives through GetEvents); a request that has completed
// already, or that cannot be cancelled (reads and writes of regular files
// usually cannot), is EINVAL or EAGAIN.
func (ctx *AioContext) Cancel(r *AioRequest) error {
	const op = "io_cancel"
	if ctx == nil || r == nil {
		return callErr(op, EINVAL)
	}
	c := ctx.c
	if !c.acquire() {
		return callErr(op, EINVAL)
	}
	defer c.release()
	c.mu.Lock()
	mine := r.ctx == c && c.pending[r.key] == r
	var p unsafe.Pointer
	if mine {
		p = unsafe.Pointer(&r.raw[0])
	}
	c.mu.Unlock()
	if !mine {
		return callErr(op, EINVAL)
	}
	var res [aioEventSize]byte
	_, e := c.k.syscall(sysIoCancel, c.id, uintptr(p), uintptr(unsafe.Pointer(&res)), 0, 0, 0)
	switch e {
	case EINPROGRESS:
		return nil // the event comes through the ring
	case 0:
		// Kernels before 4.19 could hand the result back here instead.
		c.unpend(r.key)
		return nil
	}
	return callErr(op, e)
}
