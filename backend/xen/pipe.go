//go:build xen

package xen

import (
	"sync"
	"sync/atomic"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// Pipes and FIFOs.

const (
	pipeBuf     = 4096      // PIPE_BUF: writes up to this size are atomic
	pipeDefault = 16 * 4096 // the default capacity, as Linux
	pipeMax     = 1 << 20   // /proc/sys/fs/pipe-max-size
)

// anonIno numbers the inodes of pipes and other anonymous files.
var anonIno atomic.Uint64

func init() { anonIno.Store(1 << 32) }

type pipe struct {
	mu               sync.Mutex
	data             []byte
	cap              int
	readers, writers int
	ropens, wopens   uint64 // opens of each end so far: a FIFO's waiters
	ino              uint64
	ctime            memfs.Timespec
}

func newPipe() *pipe {
	return &pipe{cap: pipeDefault, ino: anonIno.Add(1), ctime: wallNow()}
}

// pipeEnd is one end of a pipe: an open file description.
type pipeEnd struct {
	p  *pipe
	wr bool         // the write end
	fl atomic.Int64 // access mode and status flags
	mf *memfs.File  // a FIFO's file, nil for an anonymous pipe
}

func (e *pipeEnd) flags() int { return int(e.fl.Load()) }
func (e *pipeEnd) setFlags(fl int) {
	for {
		old := e.fl.Load()
		if e.fl.CompareAndSwap(old, old&^memfs.StatusFlags|int64(fl&memfs.StatusFlags)) {
			return
		}
	}
}

func (e *pipeEnd) stat() memfs.Stat {
	if e.mf != nil {
		return e.mf.Inode().Stat()
	}
	return memfs.Stat{Dev: 0xd, Ino: e.p.ino, Mode: memfs.S_IFIFO | 0o600, Nlink: 1, Blksize: 4096,
		Atime: e.p.ctime, Mtime: e.p.ctime, Ctime: e.p.ctime}
}

func (e *pipeEnd) read(k *kernel, b []byte, nonblock bool) (int, Errno) {
	if e.wr {
		return 0, EBADF
	}
	if len(b) == 0 {
		return 0, 0
	}
	nonblock = nonblock || e.flags()&memfs.O_NONBLOCK != 0
	p := e.p
	var hw hubWait
	for {
		p.mu.Lock()
		if len(p.data) > 0 {
			n := copy(b, p.data)
			p.take(n)
			p.mu.Unlock()
			k.hub.wake()
			return n, 0
		}
		if p.writers == 0 {
			p.mu.Unlock()
			return 0, 0
		}
		p.mu.Unlock()
		if nonblock {
			return 0, EAGAIN
		}
		hw.wait(k)
	}
}

// take drops n bytes from the front; the caller holds the mutex.
func (p *pipe) take(n int) {
	p.data = p.data[n:]
	if len(p.data) == 0 {
		p.data = nil
	}
}

func (e *pipeEnd) write(k *kernel, b []byte, nonblock bool) (int, Errno) {
	if !e.wr {
		return 0, EBADF
	}
	if len(b) == 0 {
		return 0, 0
	}
	nonblock = nonblock || e.flags()&memfs.O_NONBLOCK != 0
	return e.p.put(k, b, nonblock)
}

// put writes b into the pipe, waiting for room unless nonblock.
func (p *pipe) put(k *kernel, b []byte, nonblock bool) (int, Errno) {
	done := 0
	var hw hubWait
	for {
		p.mu.Lock()
		if p.readers == 0 {
			p.mu.Unlock()
			if done > 0 {
				return done, 0
			}
			return 0, EPIPE
		}
		room := p.cap - len(p.data)
		need := 1
		if len(b)-done <= pipeBuf {
			need = len(b) - done // small writes are all or nothing
		}
		if room >= need {
			n := min(room, len(b)-done)
			p.data = append(p.data, b[done:done+n]...)
			done += n
			p.mu.Unlock()
			k.hub.wake()
			if done == len(b) {
				return done, 0
			}
			continue
		}
		p.mu.Unlock()
		if nonblock {
			if done > 0 {
				return done, 0
			}
			return 0, EAGAIN
		}
		hw.wait(k)
	}
}

func (e *pipeEnd) poll(*kernel) uint32 {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ev uint32
	if e.wr {
		if p.cap-len(p.data) > 0 {
			ev |= pollOut | pollWrnorm
		}
		if p.readers == 0 {
			ev |= pollErr
		}
	} else {
		if len(p.data) > 0 {
			ev |= pollIn | pollRdnorm
		}
		if p.writers == 0 {
			ev |= pollHup
		}
	}
	return ev
}

func (e *pipeEnd) release(k *kernel) {
	p := e.p
	p.mu.Lock()
	if e.wr {
		p.writers--
	} else {
		p.readers--
	}
	if p.readers == 0 && p.writers == 0 {
		p.data = nil // a FIFO keeps nothing once nobody has it open
	}
	p.mu.Unlock()
	if e.mf != nil {
		e.mf.Close()
	}
	k.hub.wake()
}

// newPipeEnds makes an anonymous pipe.
func newPipeEnds(nonblock int) (r, w *pipeEnd) {
	p := newPipe()
	p.readers, p.writers = 1, 1
	r = &pipeEnd{p: p}
	r.fl.Store(int64(memfs.O_RDONLY | nonblock))
	w = &pipeEnd{p: p, wr: true}
	w.fl.Store(int64(memfs.O_WRONLY | nonblock))
	return r, w
}

// openFifo opens the FIFO mf is open on: reading waits for a writer and
// writing for a reader, unless O_NONBLOCK (then a writer without a reader
// is ENXIO); O_RDWR waits for nothing.
func (k *kernel) openFifo(mf *memfs.File) (file, Errno) {
	ino := mf.Inode()
	fs := ino.FS()
	fs.Lock()
	p, _ := ino.Aux.(*pipe)
	if p == nil {
		p = newPipe()
		ino.Aux = p
	}
	fs.Unlock()
	fl := mf.Flags()
	acc := fl & memfs.O_ACCMODE
	nonblock := fl&memfs.O_NONBLOCK != 0
	p.mu.Lock()
	// A blocking open waits for the other end to be opened, even if it
	// is closed again before this open sees it (Linux's r/w counters).
	ropens, wopens := p.ropens, p.wopens
	switch acc {
	case memfs.O_RDONLY:
		p.readers++
		p.ropens++
	case memfs.O_WRONLY:
		if nonblock && p.readers == 0 {
			p.mu.Unlock()
			mf.Close()
			return nil, ENXIO
		}
		p.writers++
		p.wopens++
	default:
		p.readers++
		p.writers++
		p.ropens++
		p.wopens++
	}
	p.mu.Unlock()
	k.hub.wake()
	end := &pipeEnd{p: p, wr: acc == memfs.O_WRONLY, mf: mf}
	end.fl.Store(int64(fl))
	if acc == memfs.O_RDWR {
		return &fifoRW{r: end, w: &pipeEnd{p: p, wr: true}}, 0
	}
	if !nonblock {
		var hw hubWait
		for {
			p.mu.Lock()
			ok := acc == memfs.O_RDONLY && (p.writers > 0 || p.wopens != wopens) ||
				acc == memfs.O_WRONLY && (p.readers > 0 || p.ropens != ropens)
			p.mu.Unlock()
			if ok {
				break
			}
			hw.wait(k)
		}
	}
	return end, 0
}

// fifoRW is a FIFO opened for both reading and writing.
type fifoRW struct {
	r, w *pipeEnd
}

func (f *fifoRW) read(k *kernel, b []byte, nb bool) (int, Errno) { return f.r.read(k, b, nb) }
func (f *fifoRW) write(k *kernel, b []byte, nb bool) (int, Errno) {
	nb = nb || f.r.flags()&memfs.O_NONBLOCK != 0
	return f.r.p.put(k, b, nb)
}
func (f *fifoRW) flags() int            { return f.r.flags() }
func (f *fifoRW) setFlags(fl int)       { f.r.setFlags(fl) }
func (f *fifoRW) stat() memfs.Stat      { return f.r.stat() }
func (f *fifoRW) poll(k *kernel) uint32 { return f.r.poll(k) | f.w.poll(k) }
func (f *fifoRW) release(k *kernel) {
	f.w.p.mu.Lock()
	f.w.p.writers--
	f.w.p.mu.Unlock()
	f.r.release(k)
}

// pipeOf returns the pipe behind a description, if it is one.
func pipeOf(f file) (*pipe, bool, bool) {
	switch e := f.(type) {
	case *pipeEnd:
		return e.p, !e.wr, e.wr
	case *fifoRW:
		return e.r.p, true, true
	}
	return nil, false, false
}

// setSize changes a pipe's capacity (F_SETPIPE_SZ): rounded up to a power
// of two pages, refused below the data it holds.
func (p *pipe) setSize(n int64) (int, Errno) {
	if n < 0 || n > 1<<31 {
		return 0, EINVAL
	}
	size := 4096
	for int64(size) < n {
		size <<= 1
	}
	if size > pipeMax*16 {
		return 0, EPERM
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.data) > size {
		return 0, EBUSY
	}
	p.cap = size
	return size, 0
}

// eventFD is an eventfd counter.
type eventFD struct {
	mu    sync.Mutex
	count uint64
	sem   bool
	fl    atomic.Int64
	ino   uint64
}

const eventfdMax = ^uint64(0) - 1

func (f *eventFD) flags() int { return int(f.fl.Load()) }
func (f *eventFD) setFlags(fl int) {
	f.fl.Store(int64(memfs.O_RDWR | fl&memfs.StatusFlags))
}
func (f *eventFD) stat() memfs.Stat {
	return memfs.Stat{Dev: 0xe, Ino: f.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}
}
func (f *eventFD) release(*kernel) {}

func (f *eventFD) read(k *kernel, b []byte, nonblock bool) (int, Errno) {
	if len(b) < 8 {
		return 0, EINVAL
	}
	nonblock = nonblock || f.flags()&memfs.O_NONBLOCK != 0
	var hw hubWait
	for {
		f.mu.Lock()
		if f.count > 0 {
			v := f.count
			if f.sem {
				v = 1
			}
			f.count -= v
			f.mu.Unlock()
			putU64(b, v)
			k.hub.wake()
			return 8, 0
		}
		f.mu.Unlock()
		if nonblock {
			return 0, EAGAIN
		}
		hw.wait(k)
	}
}

func (f *eventFD) write(k *kernel, b []byte, nonblock bool) (int, Errno) {
	if len(b) < 8 {
		return 0, EINVAL
	}
	v := getU64(b)
	if v == ^uint64(0) {
		return 0, EINVAL
	}
	nonblock = nonblock || f.flags()&memfs.O_NONBLOCK != 0
	var hw hubWait
	for {
		f.mu.Lock()
		if f.count <= eventfdMax-v {
			f.count += v
			f.mu.Unlock()
			k.hub.wake()
			return 8, 0
		}
		f.mu.Unlock()
		if nonblock {
			return 0, EAGAIN
		}
		hw.wait(k)
	}
}

func (f *eventFD) poll(*kernel) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ev uint32
	if f.count > 0 {
		ev |= pollIn | pollRdnorm
	}
	if f.count < eventfdMax {
		ev |= pollOut | pollWrnorm
	}
	return ev
}

func putU64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

func getU64(b []byte) uint64 {
	var v uint64
	for i := range 8 {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}
