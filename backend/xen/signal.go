//go:build xen

package xen

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// Emulated signals. The Go runtime's own signals go to the shim; these are
// the signals of api's calls: per-thread masks (threads are the platform's,
// by gettid), pending sets, tgkill and kill, sigpending, signalfd, and the
// masks of ppoll, pselect6 and epoll_pwait. Delivery is emulated as Go's
// runtime would handle a signal nobody asked for: an unblocked pending
// signal is taken (and discarded) when a thread returns from a call, and a
// wait that unblocks one answers EINTR. There are no handlers to run.

const (
	sigKill = 9
	sigStop = 19
	sigAlrm = 14
	nsig    = 64

	siUser  = 0
	siTimer = -2
	siTkill = -6

	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2

	sigsetSize = 8
)

func sigbit(sig int) uint64 { return 1 << (sig - 1) }

const unblockable = 1<<(sigKill-1) | 1<<(sigStop-1)

type pendingSig struct {
	tid  int32 // 0: sent to the process
	sig  int
	code int32
	pid  int32
	val  uint64
}

type sigState struct {
	mu   sync.Mutex
	mask map[int32]uint64
	pend []pendingSig
	any  atomic.Bool // something is pending: calls check on return
}

func (s *sigState) maskOf(tid int32) uint64 {
	return s.mask[tid]
}

// send queues sig: standard signals once per target, real-time ones each
// time.
func (k *kernel) send(tid int32, sig int, code int32, val uint64) {
	s := &k.sig
	s.mu.Lock()
	if sig < 32 {
		for _, p := range s.pend {
			if p.tid == tid && p.sig == sig {
				s.mu.Unlock()
				return
			}
		}
	}
	s.pend = append(s.pend, pendingSig{tid: tid, sig: sig, code: code, pid: k.pid, val: val})
	s.any.Store(true)
	s.mu.Unlock()
	k.hub.wake()
}

// take removes and returns the first signal pending for tid (or the
// process) within set.
func (s *sigState) take(tid int32, set uint64) (pendingSig, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.pend {
		if (p.tid == tid || p.tid == 0) && set&sigbit(p.sig) != 0 {
			s.pend = append(s.pend[:i], s.pend[i+1:]...)
			s.any.Store(len(s.pend) > 0)
			return p, true
		}
	}
	return pendingSig{}, false
}

func (s *sigState) pending(tid int32) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var set uint64
	for _, p := range s.pend {
		if p.tid == tid || p.tid == 0 {
			set |= sigbit(p.sig)
		}
	}
	return set
}

// deliver takes the calling thread's pending signals that its mask does
// not block, as a return to user space would.
func (k *kernel) deliver() {
	if !k.sig.any.Load() {
		return
	}
	tid := platformGettid()
	k.sig.mu.Lock()
	m := k.sig.maskOf(tid)
	k.sig.mu.Unlock()
	for {
		if _, ok := k.sig.take(tid, ^m); !ok {
			return
		}
	}
}

// interrupted reports whether a wait under mask m on thread tid is
// interrupted by a pending signal (which it takes).
func (k *kernel) interrupted(tid int32, m uint64) bool {
	if !k.sig.any.Load() {
		return false
	}
	_, ok := k.sig.take(tid, ^m)
	return ok
}

func readSigset(p unsafe.Pointer, size uintptr) (uint64, Errno) {
	if size != sigsetSize {
		return 0, EINVAL
	}
	return *(*uint64)(p), 0
}

func (k *kernel) rtSigprocmask(how uintptr, set, oset unsafe.Pointer, size uintptr) (uintptr, Errno) {
	if size != sigsetSize {
		return 0, EINVAL
	}
	tid := platformGettid()
	s := &k.sig
	s.mu.Lock()
	old := s.maskOf(tid)
	if set != nil {
		v := *(*uint64)(set)
		var m uint64
		switch how {
		case sigBlock:
			m = old | v
		case sigUnblock:
			m = old &^ v
		case sigSetmask:
			m = v
		default:
			s.mu.Unlock()
			return 0, EINVAL
		}
		if s.mask == nil {
			s.mask = map[int32]uint64{}
		}
		s.mask[tid] = m &^ unblockable
	}
	s.mu.Unlock()
	if oset != nil {
		*(*uint64)(oset) = old
	}
	return 0, 0
}

func (k *kernel) rtSigpending(set unsafe.Pointer, size uintptr) (uintptr, Errno) {
	if size > sigsetSize {
		return 0, EINVAL
	}
	if set == nil {
		return 0, EFAULT
	}
	v := k.sig.pending(platformGettid())
	b := unsafe.Slice((*byte)(set), size)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return 0, 0
}

func (k *kernel) tgkill(tgid, tid int64, sig int64) (uintptr, Errno) {
	if sig < 0 || sig > nsig || tid <= 0 || tgid <= 0 && tgid != -1 {
		return 0, EINVAL
	}
	if tgid != -1 && tgid != int64(k.pid) {
		return 0, ESRCH
	}
	if sig == 0 {
		return 0, 0
	}
	if sig == sigKill {
		platformExit(128 + sigKill)
	}
	k.send(int32(tid), int(sig), siTkill, 0)
	return 0, 0
}

func (k *kernel) kill(pid int64, sig int64) (uintptr, Errno) {
	if sig < 0 || sig > nsig {
		return 0, EINVAL
	}
	if pid != int64(k.pid) && pid != 0 && pid != -1 && pid != -int64(k.pid) {
		return 0, ESRCH
	}
	if sig == 0 {
		return 0, 0
	}
	if sig == sigKill {
		platformExit(128 + sigKill)
	}
	k.send(0, int(sig), siUser, 0)
	return 0, 0
}

// signalFD reads the pending signals of its mask.
type signalFD struct {
	mask atomic.Uint64
	fl   atomic.Int64
	ino  uint64
}

const (
	sfdCloexec  = memfs.O_CLOEXEC
	sfdNonblock = memfs.O_NONBLOCK
	ssiSize     = 128
)

func (f *signalFD) flags() int { return int(f.fl.Load()) }
func (f *signalFD) setFlags(fl int) {
	f.fl.Store(int64(memfs.O_RDWR | fl&memfs.StatusFlags))
}
func (f *signalFD) stat() memfs.Stat {
	return memfs.Stat{Dev: 0xe, Ino: f.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}
}
func (f *signalFD) release(*kernel)                          {}
func (f *signalFD) write(*kernel, []byte, bool) (int, Errno) { return 0, EINVAL }
func (f *signalFD) poll(k *kernel) uint32 {
	if k.sig.pending(platformGettid())&f.mask.Load() != 0 {
		return pollIn | pollRdnorm
	}
	return 0
}

func (f *signalFD) read(k *kernel, b []byte, nonblock bool) (int, Errno) {
	if len(b) < ssiSize {
		return 0, EINVAL
	}
	nonblock = nonblock || f.flags()&memfs.O_NONBLOCK != 0
	tid := platformGettid()
	var hw hubWait
	for {
		n := 0
		for n+ssiSize <= len(b) {
			p, ok := k.sig.take(tid, f.mask.Load())
			if !ok {
				break
			}
			o := newOut(unsafe.Pointer(&b[n]), "signalfd_siginfo")
			o.put("ssi_signo", uint64(p.sig))
			o.put("ssi_code", uint64(uint32(p.code)))
			o.put("ssi_pid", uint64(p.pid))
			o.put("ssi_uid", 0)
			o.put("ssi_int", p.val)
			o.put("ssi_ptr", p.val)
			n += ssiSize
		}
		if n > 0 {
			return n, 0
		}
		if nonblock {
			return 0, EAGAIN
		}
		hw.wait(k)
	}
}

func (k *kernel) signalfd(fd int64, mask unsafe.Pointer, size uintptr, flags uintptr) (uintptr, Errno) {
	if flags&^(sfdCloexec|sfdNonblock) != 0 {
		return 0, EINVAL
	}
	m, e := readSigset(mask, size)
	if e != 0 {
		return 0, e
	}
	m &^= unblockable
	if fd != -1 {
		of, e := k.get(uintptr(fd))
		if e != 0 {
			return 0, e
		}
		defer k.put(of)
		sf, ok := of.f.(*signalFD)
		if !ok {
			return 0, EINVAL
		}
		sf.mask.Store(m)
		k.hub.wake()
		return uintptr(fd), 0
	}
	sf := &signalFD{ino: anonIno.Add(1)}
	sf.mask.Store(m)
	sf.fl.Store(int64(memfs.O_RDWR | int(flags)&sfdNonblock))
	return k.install(sf, flags&sfdCloexec != 0, 0)
}
