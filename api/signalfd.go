package api

import (
	"encoding/binary"
	"iter"
	"strings"
	"unsafe"
)

// Signal sets, per-thread signal masks and signalfd.

var (
	sysSignalfd      = newCall("signalfd")
	sysSignalfd4     = newCall("signalfd4")
	sysRtSigprocmask = newCall("rt_sigprocmask", "__sigprocmask14") // NetBSD ignores the sigset size
	sysRtSigpending  = newCall("rt_sigpending", "__sigpending14")
)

// SigSet is a set of signals in api's neutral numbering, as sigset_t holds
// them; the zero value is empty. It covers signals 1 to 128 (Linux has 64,
// NetBSD and Linux MIPS 128), real-time ones included. It is a value: copy
// it freely, compare it with ==.
//
// Any family that takes a signal mask (ppoll, epoll_pwait, signalfd,
// rt_sigprocmask, rt_sigtimedwait, ...) uses it; Kernel.putSigset and
// Kernel.getSigset convert it to and from the ABI's bytes.
type SigSet struct {
	w [2]uint64 // bit n-1 is signal n
}

// maxSigSetSignal is the highest signal number a SigSet holds.
const maxSigSetSignal = 128

// SigSetOf returns the set of the given signals; numbers outside 1..128
// are left out.
func SigSetOf(sigs ...Signal) SigSet {
	var s SigSet
	for _, sig := range sigs {
		s.Add(sig)
	}
	return s
}

// Add puts sig in the set; numbers outside 1..128 are ignored.
func (s *SigSet) Add(sig Signal) {
	if sig >= 1 && sig <= maxSigSetSignal {
		s.w[(sig-1)/64] |= 1 << ((sig - 1) % 64)
	}
}

// Del takes sig out of the set.
func (s *SigSet) Del(sig Signal) {
	if sig >= 1 && sig <= maxSigSetSignal {
		s.w[(sig-1)/64] &^= 1 << ((sig - 1) % 64)
	}
}

// Has reports whether sig is in the set.
func (s SigSet) Has(sig Signal) bool {
	return sig >= 1 && sig <= maxSigSetSignal && s.w[(sig-1)/64]&(1<<((sig-1)%64)) != 0
}

// IsEmpty reports whether the set holds no signal.
func (s SigSet) IsEmpty() bool { return s.w == [2]uint64{} }

// Union returns the signals in s or in o.
func (s SigSet) Union(o SigSet) SigSet { return SigSet{[2]uint64{s.w[0] | o.w[0], s.w[1] | o.w[1]}} }

// Minus returns the signals in s but not in o.
func (s SigSet) Minus(o SigSet) SigSet { return SigSet{[2]uint64{s.w[0] &^ o.w[0], s.w[1] &^ o.w[1]}} }

// Signals yields the members in increasing order.
func (s SigSet) Signals() iter.Seq[Signal] {
	return func(yield func(Signal) bool) {
		for sig := Signal(1); sig <= maxSigSetSignal; sig++ {
			if s.Has(sig) && !yield(sig) {
				return
			}
		}
	}
}

// String lists the members: "{SIGINT,SIGUSR1}".
func (s SigSet) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for sig := range s.Signals() {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(sig.String())
	}
	b.WriteByte('}')
	return b.String()
}

// sigToABI converts a neutral signal number to the ABI's. Numbers api has
// no name for (the real-time range) pass unchanged.
func (k *Kernel) sigToABI(sig Signal) (uint64, Errno) {
	m := &k.enums[signalFamily.id]
	if m.identity {
		return uint64(sig), 0
	}
	if v, ok := m.toABI[uint64(sig)]; ok {
		return v, 0
	}
	if _, named := signalFamily.lookupValue(uint64(sig)); named {
		return 0, ENOTSUP // a signal this ABI lacks (SIGSTKFLT on NetBSD)
	}
	return uint64(sig), 0
}

// lookupValue reports whether v is a member's value.
func (f *family) lookupValue(v uint64) (int, bool) {
	for i, nv := range f.values {
		if nv == v {
			return i, true
		}
	}
	return 0, false
}

// putSigset writes set into b as the ABI's kernel sigset_t (an array of C
// longs, bit n-1 for signal n). len(b) is the ABI's sigset size; signals
// that do not fit it are EINVAL.
func (k *Kernel) putSigset(b []byte, set *SigSet) Errno {
	clear(b)
	s := &k.ready
	if k.enums[signalFamily.id].identity && !s.be {
		// Little-endian longs of any width lay out like little-endian
		// uint64s: copy.
		var tmp [16]byte
		binary.LittleEndian.PutUint64(tmp[0:], set.w[0])
		binary.LittleEndian.PutUint64(tmp[8:], set.w[1])
		copy(b, tmp[:])
		for i := len(b); i < len(tmp); i++ {
			if tmp[i] != 0 {
				return EINVAL
			}
		}
		return 0
	}
	for sig := Signal(1); sig <= maxSigSetSignal; sig++ {
		if !set.Has(sig) {
			continue
		}
		n, e := k.sigToABI(sig)
		if e != 0 {
			return e
		}
		if n == 0 || n > uint64(len(b))*8 {
			return EINVAL
		}
		setBitLong(b, int(n-1), s.wordSize, s.be)
	}
	return 0
}

// getSigset reads the ABI's kernel sigset_t in b.
func (k *Kernel) getSigset(b []byte) SigSet {
	var set SigSet
	s := &k.ready
	m := &k.enums[signalFamily.id]
	if m.identity && !s.be {
		var tmp [16]byte
		copy(tmp[:], b)
		set.w[0] = binary.LittleEndian.Uint64(tmp[0:])
		set.w[1] = binary.LittleEndian.Uint64(tmp[8:])
		return set
	}
	for i := 0; i < len(b)*8; i++ {
		if bitLong(b, i, s.wordSize, s.be) {
			set.Add(Signal(k.enumFromABI(signalFamily, uint64(i+1))))
		}
	}
	return set
}

// setBitLong sets bit i of an array of C longs of ws bytes (sigset_t,
// fd_set) laid out in b.
func setBitLong(b []byte, i, ws int, be bool) {
	word, bit := i/(ws*8), i%(ws*8)
	idx := word*ws + bit/8
	if be {
		idx = word*ws + ws - 1 - bit/8
	}
	b[idx] |= 1 << (bit % 8)
}

// bitLong reads bit i of an array of C longs.
func bitLong(b []byte, i, ws int, be bool) bool {
	word, bit := i/(ws*8), i%(ws*8)
	idx := word*ws + bit/8
	if be {
		idx = word*ws + ws - 1 - bit/8
	}
	return b[idx]&(1<<(bit%8)) != 0
}

// SigprocmaskThread changes the signal mask of the calling OS thread
// (rt_sigprocmask) and returns the previous one: how is SIG_BLOCK (add set),
// SIG_UNBLOCK (remove set) or SIG_SETMASK (replace by set). SIG_BLOCK with
// an empty set only reads the mask.
//
// A Go goroutine moves between threads, so the mask is only meaningful to
// a goroutine locked to its thread with runtime.LockOSThread, which must
// restore the old mask before it unlocks: otherwise other goroutines run
// with it. Blocking signals the Go runtime relies on (SIGURG for preemption,
// SIGSEGV) on a thread hurts only that thread, but do not block them.
func (k *Kernel) SigprocmaskThread(how SigmaskHow, set SigSet) (old SigSet, err error) {
	s := &k.ready
	if s.sigsetSize == 0 {
		return old, callErr("rt_sigprocmask", ENOSYS)
	}
	h, err := k.enumToABI(sigmaskHowFamily, uint64(how))
	if err != nil {
		return old, sysErr("rt_sigprocmask", err)
	}
	var raw, oraw [maxSigset]byte
	if e := k.putSigset(raw[:s.sigsetSize], &set); e != 0 {
		return old, callErr("rt_sigprocmask", e)
	}
	// Raw: changing the mask never blocks (a signal it unblocks is
	// delivered on the way out, without sleeping).
	_, e := k.rawSyscall(sysRtSigprocmask, uintptr(h), uintptr(unsafe.Pointer(&raw)), uintptr(unsafe.Pointer(&oraw)), uintptr(s.sigsetSize), 0, 0)
	if e != 0 {
		return old, callErr("rt_sigprocmask", e)
	}
	return k.getSigset(oraw[:s.sigsetSize]), nil
}

// SigpendingThread returns the signals pending for the calling thread or
// the process while blocked (rt_sigpending). As with SigprocmaskThread, the
// answer concerns the current OS thread; lock the goroutine to it.
func (k *Kernel) SigpendingThread() (SigSet, error) {
	s := &k.ready
	if s.sigsetSize == 0 {
		return SigSet{}, callErr("rt_sigpending", ENOSYS)
	}
	var raw [maxSigset]byte
	// Raw: reading the pending set never blocks.
	_, e := k.rawSyscall(sysRtSigpending, uintptr(unsafe.Pointer(&raw)), uintptr(s.sigsetSize), 0, 0, 0, 0)
	if e != 0 {
		return SigSet{}, callErr("rt_sigpending", e)
	}
	return k.getSigset(raw[:s.sigsetSize]), nil
}

// Signalfd is a descriptor that reads signals as data (signalfd4).
//
// A signalfd only reports signals that are pending, so they must be blocked
// or they are delivered to a handler first. In a Go program that is harder
// than in C: the runtime has many threads and a process-directed signal
// (kill) goes to any thread that does not block it, usually one of the
// runtime's, which hands it to the Go signal handler (os/signal) instead.
// So a signalfd reliably sees (1) signals directed at a thread (tgkill,
// timers with SIGEV_THREAD_ID) that the thread blocks, read from that very
// thread, and (2) process-directed signals only if every thread blocks them,
// which Go cannot arrange after start-up. Use it from a goroutine locked to
// its thread (runtime.LockOSThread) with the signals blocked by
// SigprocmaskThread; for ordinary signal handling use os/signal.
type Signalfd struct {
	fd *Fd
}

// Signalfd creates a signalfd for the signals in mask; flags may hold
// SFD_CLOEXEC and SFD_NONBLOCK. See the Signalfd type for the Go caveat.
func (k *Kernel) Signalfd(mask SigSet, flags SignalfdFlags) (*Signalfd, error) {
	fl, err := k.flagsToABI(signalfdFlagsFamily, uint64(flags))
	if err != nil {
		return nil, sysErr("signalfd4", err)
	}
	r, err := k.signalfd(sysSignalfd4, "signalfd4", ^uintptr(0), mask, uintptr(fl))
	if err != nil {
		return nil, err
	}
	return &Signalfd{k.newFd(r)}, nil
}

// SignalfdLegacy creates a signalfd with the legacy signalfd call, which
// takes no flags. ABIs without it answer ENOSYS; prefer Signalfd.
func (k *Kernel) SignalfdLegacy(mask SigSet) (*Signalfd, error) {
	r, err := k.signalfd(sysSignalfd, "signalfd", ^uintptr(0), mask, 0)
	if err != nil {
		return nil, err
	}
	return &Signalfd{k.newFd(r)}, nil
}

// SetMask replaces the set of signals the signalfd reports (signalfd4 on
// the existing descriptor).
func (sf *Signalfd) SetMask(mask SigSet) error {
	f := sf.file()
	n, e := f.acquire()
	if e != 0 {
		return callErr("signalfd4", e)
	}
	_, err := f.k.signalfd(sysSignalfd4, "signalfd4", n, mask, 0)
	f.release()
	return err
}

func (k *Kernel) signalfd(c call, name string, fd uintptr, mask SigSet, flags uintptr) (uintptr, error) {
	s := &k.ready
	if s.sigsetSize == 0 || s.ssiSize == 0 {
		return 0, callErr(name, ENOSYS)
	}
	var raw [maxSigset]byte
	if e := k.putSigset(raw[:s.sigsetSize], &mask); e != 0 {
		return 0, callErr(name, e)
	}
	var r uintptr
	var e Errno
	if c == sysSignalfd {
		r, e = k.syscall(c, fd, uintptr(unsafe.Pointer(&raw)), uintptr(s.sigsetSize), 0, 0, 0)
	} else {
		r, e = k.syscall(c, fd, uintptr(unsafe.Pointer(&raw)), uintptr(s.sigsetSize), flags, 0, 0)
	}
	if e != 0 {
		return 0, callErr(name, e)
	}
	return r, nil
}

func (sf *Signalfd) file() *Fd {
	if sf == nil {
		return nil
	}
	return sf.fd
}

// Fd returns the underlying descriptor (for epoll or poll).
func (sf *Signalfd) Fd() *Fd { return sf.file() }

// Close closes the descriptor.
func (sf *Signalfd) Close() error { return sf.file().Close() }

// SignalfdSiginfo is one signal read from a signalfd (struct
// signalfd_siginfo). Which fields mean something depends on the signal and
// on Code (SI_USER from kill, SI_TKILL from tgkill, SI_QUEUE, a timer, a
// child's CLD_* for SIGCHLD, a fault's code).
type SignalfdSiginfo struct {
	Signo    Signal
	Errno    int32
	Code     int32
	Pid      uint32 // sender's pid (kill, tgkill, sigqueue, SIGCHLD)
	Uid      uint32 // sender's real uid
	Fd       int32  // SIGIO
	Tid      uint32 // kernel timer id
	Band     uint32 // SIGIO band event
	Overrun  uint32 // timer overrun count
	Trapno   uint32
	Status   int32 // SIGCHLD: exit status or signal
	Int      int32 // sigqueue's value
	Ptr      uint64
	Utime    uint64 // SIGCHLD
	Stime    uint64
	Addr     uint64 // fault address
	AddrLsb  uint16
	Syscall  int32 // SIGSYS from seccomp
	CallAddr uint64
	Arch     uint32
}

// ssiFields are the places of struct signalfd_siginfo's fields.
type ssiFields struct {
	signo, errno, code, pid, uid, fd, tid, band, overrun, trapno, status, int_ fieldAt
	ptr, utime, stime, addr, addrLsb, syscall, callAddr, arch                  fieldAt
}

func (f *ssiFields) resolve(l layout) error {
	var err error
	// The original fields are required; later additions are optional.
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{
		{&f.signo, "ssi_signo"}, {&f.errno, "ssi_errno"}, {&f.code, "ssi_code"}, {&f.pid, "ssi_pid"},
		{&f.uid, "ssi_uid"}, {&f.fd, "ssi_fd"}, {&f.tid, "ssi_tid"}, {&f.band, "ssi_band"},
		{&f.overrun, "ssi_overrun"}, {&f.trapno, "ssi_trapno"}, {&f.status, "ssi_status"},
		{&f.int_, "ssi_int"}, {&f.ptr, "ssi_ptr"}, {&f.utime, "ssi_utime"}, {&f.stime, "ssi_stime"},
		{&f.addr, "ssi_addr"},
	} {
		if *x.p, err = l.must(x.name); err != nil {
			return err
		}
	}
	f.addrLsb, f.syscall, f.callAddr, f.arch = l.field("ssi_addr_lsb"), l.field("ssi_syscall"), l.field("ssi_call_addr"), l.field("ssi_arch")
	return nil
}

func (k *Kernel) decodeSsi(b []byte, out *SignalfdSiginfo) {
	be, f := k.ready.be, &k.ready.ssi
	*out = SignalfdSiginfo{
		Signo: Signal(k.enumFromABI(signalFamily, f.signo.uint(b, be))),
		Errno: int32(f.errno.int(b, be)), Code: int32(f.code.int(b, be)),
		Pid: uint32(f.pid.uint(b, be)), Uid: uint32(f.uid.uint(b, be)), Fd: int32(f.fd.int(b, be)),
		Tid: uint32(f.tid.uint(b, be)), Band: uint32(f.band.uint(b, be)), Overrun: uint32(f.overrun.uint(b, be)),
		Trapno: uint32(f.trapno.uint(b, be)), Status: int32(f.status.int(b, be)), Int: int32(f.int_.int(b, be)),
		Ptr: f.ptr.uint(b, be), Utime: f.utime.uint(b, be), Stime: f.stime.uint(b, be), Addr: f.addr.uint(b, be),
		AddrLsb: uint16(f.addrLsb.uint(b, be)), Syscall: int32(f.syscall.int(b, be)),
		CallAddr: f.callAddr.uint(b, be), Arch: uint32(f.arch.uint(b, be)),
	}
}

// signalfdBatch bounds the signals one Read takes (its stack scratch).
const signalfdBatch = 8

// Read reads up to len(infos) pending signals (at most 8 per call) and
// returns how many it filled. With none pending it blocks, or fails with
// EAGAIN under SFD_NONBLOCK.
func (sf *Signalfd) Read(infos []SignalfdSiginfo) (int, error) {
	if len(infos) == 0 {
		return 0, badArg("read", "no room for a signalfd_siginfo")
	}
	f := sf.file()
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr("read", e)
	}
	k := f.k
	size := k.ready.ssiSize
	if size == 0 {
		f.release()
		return 0, callErr("read", ENOSYS)
	}
	max := min(len(infos), signalfdBatch)
	var raw [signalfdBatch * maxSsi]byte
	r, e := k.syscall(sysRead, n, uintptr(unsafe.Pointer(&raw)), uintptr(max*size), 0, 0, 0)
	f.release()
	if e != 0 {
		return 0, callErr("read", e)
	}
	got := int(r) / size
	for i := 0; i < got; i++ {
		k.decodeSsi(raw[i*size:(i+1)*size], &infos[i])
	}
	return got, nil
}
