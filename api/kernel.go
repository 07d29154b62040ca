package api

import (
	"fmt"

	"github.com/anykernel/anykernel/abi"
)

// Kernel is one kernel reached through a Backend: the host kernel, a rump
// kernel, or the library OS of a unikernel. Every call is a method on it or
// on an *Fd it returned. A Kernel is safe for concurrent use.
type Kernel struct {
	b     Backend
	table *abi.Table
	name  string

	nr []uintptr // by call id; noSyscall where the ABI lacks the call

	// errnoIdentity is true when the ABI numbers errors as api does, so
	// that the hot path converts nothing.
	errnoIdentity bool
	errnoFromABI  []Errno
	errnoToABI    map[Errno]uintptr

	bits  []bitMap  // by family id (flags.go)
	enums []enumMap // by family id

	clock ClockBackend // nil when the backend has no fast clock

	// time64: a 32-bit Linux ABI with the *_time64 calls (Linux 5.1+).
	// api makes those (time64Calls), and its "timespec" and "itimerspec"
	// layouts are the kernel's 64-bit ones, so Timespec reaches past 2038
	// on every target.
	time64 bool

	// Per-family state, each defined and filled in by its own file.
	files  fileState
	socks  sockState
	procs  procState
	timers timeState
	ready  readyState
	mem    memState
	meta   *fmetaState // names, metadata, copying, xattrs (files_path.go)
	ns     nsState     // namespaces and mounts (ns.go)
	sec    secState    // seccomp and capabilities (security.go)
	misc   miscState   // terminals, message queues, AIO, fanotify, ptrace (misc.go)
	bpf    bpfState    // BPF and perf events (bpf.go)
}

// noSyscall marks a call the ABI does not have; api answers ENOSYS itself.
const noSyscall = ^uintptr(0)

// syscallPads lists, per OS, the syscalls whose argument list has an unused
// PAD slot before a 64-bit argument (NetBSD's syscalls.master: "int PAD"),
// by the ABI's name: the slot's 1-based position. api's wrappers pass the
// C interface's arguments; the Kernel inserts the slot. (mmap's PAD makes 7
// arguments, more than a Backend carries; rump kernels have no mmap.)
var syscallPads = map[string]map[string]int{
	"netbsd": {
		"pread": 4, "pwrite": 4, "preadv": 4, "pwritev": 4, "lseek": 2,
		"truncate": 2, "ftruncate": 2, "__posix_fadvise50": 2,
		"posix_fallocate": 2, "fdiscard": 2, "mknodat": 4,
		"paccept": 4, // accept4's flags after a NULL sigmask
	},
}

// A resolved number at or above padMark carries its PAD slot's position
// in the bits from padShift up (noSyscall is above it too). On 32-bit
// targets the position sits in the top byte: the largest syscall numbers
// there (arm's private calls at 0xf0000) stay below bit 24.
const (
	padShift = 24 + 32*(^uintptr(0)>>63)
	padMark  = uintptr(1) << padShift
)

// padded makes a call whose ABI wants a PAD slot at position nr>>padShift.
//
//go:nosplit
func (k *Kernel) padded(raw bool, nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, uintptr) {
	a := [7]uintptr{a1, a2, a3, a4, a5, a6}
	p := int(nr>>padShift) - 1
	for i := 6; i > p; i-- {
		a[i] = a[i-1]
	}
	a[p] = 0
	nr &= padMark - 1
	if raw {
		return k.b.RawSyscall(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	}
	return k.b.Syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5])
}

// linux32Calls names, for 32-bit Linux, the calls that replace api's
// choice there: the plain ones take a 32-bit off_t (truncate) or fill the
// old struct stat, while the table's "stat" layout is struct stat64. (The
// 64-bit tables of other systems have some of these names with other
// meanings, darwin's fstat64, so alternates in newCall will not do.)
var linux32Calls = map[call]string{
	sysFstat: "fstat64", sysFstatat: "fstatat64",
	sysTruncate: "truncate64", sysFtruncate: "ftruncate64",
	sysFcntl:  "fcntl64",    // record locks with struct flock64 (fileState)
	sysSelect: "_newselect", // 386's select takes one pointer to its arguments
}

// time64Calls are the 32-bit Linux calls that take struct
// __kernel_timespec where their plain forms take a 32-bit time_t.
// nanosleep has no such form and keeps the 32-bit struct (timeState);
// io_pgetevents with no signal mask is io_getevents.
var time64Calls = map[call]string{
	sysClockGettime: "clock_gettime64", sysClockGetres: "clock_getres_time64",
	sysClockSettime: "clock_settime64", sysClockNanosleep: "clock_nanosleep_time64",
	sysUtimensat: "utimensat_time64", sysPpoll: "ppoll_time64", sysPselect6: "pselect6_time64",
	sysTimerfdSettime: "timerfd_settime64", sysTimerfdGettime: "timerfd_gettime64",
	sysTimerSettime: "timer_settime64", sysTimerGettime: "timer_gettime64",
	sysMqTimedsend: "mq_timedsend_time64", sysMqTimedreceive: "mq_timedreceive_time64",
	sysIoGetevents: "io_pgetevents_time64", sysRecvmmsg: "recvmmsg_time64",
}

// call is api's dense index of a syscall name; the Kernel resolves it to the
// ABI's number once, at New.
type call int

var callNames [][]string

// newCall declares a syscall api uses; package-level vars call it at init.
// Alternative names cover ABIs that spell the same call differently
// (NetBSD's versioned "__fstat50" for "fstat"); the first one the ABI has
// wins.
func newCall(names ...string) call {
	callNames = append(callNames, names)
	return call(len(callNames) - 1)
}

// New returns a Kernel on top of b. It resolves every syscall, constant and
// layout api needs from b's ABI table, so later calls do no lookups.
func New(b Backend) (*Kernel, error) {
	t := b.ABI()
	if t == nil {
		return nil, fmt.Errorf("api: backend %s has no ABI table", b.Name())
	}
	k := &Kernel{b: b, table: t, name: b.Name()}
	k.nr = make([]uintptr, len(callNames))
	pads := syscallPads[t.OS]
	for i, names := range callNames {
		k.nr[i] = noSyscall
		for _, n := range names {
			if nr, ok := t.Syscall(n); ok {
				k.nr[i] = nr | uintptr(pads[n])<<padShift
				break
			}
		}
	}
	if t.OS == "linux" && t.PtrSize == 4 {
		for c, n := range linux32Calls {
			if nr, ok := t.Syscall(n); ok {
				k.nr[c] = nr
			}
		}
	}
	if _, ok := t.Struct("kernel_timespec"); ok && t.OS == "linux" && t.PtrSize == 4 {
		_, k.time64 = t.Syscall("clock_gettime64")
	}
	if k.time64 {
		for c, n := range time64Calls {
			if nr, ok := t.Syscall(n); ok {
				k.nr[c] = nr
			}
		}
	}
	k.initErrnos()
	if err := k.initFlags(); err != nil {
		return nil, err
	}
	k.meta = newFmetaState(k)
	if cb, ok := b.(ClockBackend); ok {
		k.clock = cb
	}
	for _, f := range []func(*Kernel) error{
		k.files.init, k.socks.init, k.procs.init, k.timers.init, k.ready.init, k.mem.init,
		k.ns.init, k.sec.init, k.misc.init, k.bpf.init,
	} {
		if err := f(k); err != nil {
			return nil, fmt.Errorf("api: %s/%s: %w", t.OS, t.Arch, err)
		}
	}
	return k, nil
}

// Name is the backend's name ("native", "rump", ...).
func (k *Kernel) Name() string { return k.name }

// ABI returns the table of the ABI this kernel speaks.
func (k *Kernel) ABI() *abi.Table { return k.table }

// Backend returns the backend k was built on.
func (k *Kernel) Backend() Backend { return k.b }

// Has reports whether the kernel's ABI has the named syscall at all.
func (k *Kernel) Has(syscall string) bool {
	_, ok := k.table.Syscall(syscall)
	return ok
}

func (k *Kernel) initErrnos() {
	t := k.table
	max := uintptr(0)
	identity := true
	for _, e := range t.Errnos {
		if e.Nr > max {
			max = e.Nr
		}
		if n, ok := errnoByName[e.Name]; !ok || uintptr(n) != e.Nr {
			identity = false
		}
	}
	k.errnoIdentity = identity
	k.errnoFromABI = make([]Errno, max+1)
	k.errnoToABI = make(map[Errno]uintptr, len(t.Errnos))
	for _, e := range t.Errnos {
		if n, ok := errnoByName[e.Name]; ok {
			k.errnoFromABI[e.Nr] = n
			k.errnoToABI[n] = e.Nr
		} else if n, ok := errnoByName[errnoAliases[e.Name]]; ok {
			k.errnoFromABI[e.Nr] = n
		} else {
			// An errno Linux does not have (NetBSD's EFTYPE): keep its
			// number above api's range so it still prints and compares.
			k.errnoFromABI[e.Nr] = Errno(foreignErrnoBase + e.Nr)
		}
	}
}

// errnoAliases names the Linux errno that means the same as another ABI's
// own: BSD's ENOATTR is what Linux calls ENODATA for extended attributes,
// and BSD's ENOTSUP is Linux's EOPNOTSUPP (one number there).
var errnoAliases = map[string]string{"ENOATTR": "ENODATA", "ENOTSUP": "EOPNOTSUPP"}

// foreignErrnoBase offsets errnos api has no name for.
const foreignErrnoBase = 1 << 16

// errno converts a raw ABI errno to api's numbering.
//
//go:nosplit
func (k *Kernel) errno(e uintptr) Errno {
	if k.errnoIdentity {
		return Errno(e)
	}
	if e < uintptr(len(k.errnoFromABI)) && k.errnoFromABI[e] != 0 {
		return k.errnoFromABI[e]
	}
	return Errno(foreignErrnoBase + e)
}

// ErrnoToABI returns the ABI's number for e, for code that builds raw
// replies (seccomp ERRNO actions, a served backend).
func (k *Kernel) ErrnoToABI(e Errno) (uintptr, bool) {
	if k.errnoIdentity {
		return uintptr(e), true
	}
	n, ok := k.errnoToABI[e]
	return n, ok
}

// syscall performs call c, letting the scheduler run meanwhile.
//
// It is nosplit, and so are the backends' transports, so that address
// arguments into the caller's stack stay valid until the kernel has used
// them. Callers must compute every argument before the call and pass
// uintptr(unsafe.Pointer(...)) conversions directly in the argument list,
// with no function call among the arguments.
//
//go:nosplit
func (k *Kernel) syscall(c call, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, Errno) {
	nr := k.nr[c]
	var r, e uintptr
	if nr < padMark {
		r, _, e = k.b.Syscall(nr, a1, a2, a3, a4, a5, a6)
	} else if nr == noSyscall {
		return 0, ENOSYS
	} else {
		r, _, e = k.padded(false, nr, a1, a2, a3, a4, a5, a6)
	}
	if e != 0 {
		return r, k.errno(e)
	}
	return r, 0
}

// rawSyscall is syscall for calls that can never block (see Backend).
//
//go:nosplit
func (k *Kernel) rawSyscall(c call, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, Errno) {
	nr := k.nr[c]
	var r, e uintptr
	if nr < padMark {
		r, _, e = k.b.RawSyscall(nr, a1, a2, a3, a4, a5, a6)
	} else if nr == noSyscall {
		return 0, ENOSYS
	} else {
		r, _, e = k.padded(true, nr, a1, a2, a3, a4, a5, a6)
	}
	if e != 0 {
		return r, k.errno(e)
	}
	return r, 0
}

// syscall2 is syscall for the few calls that return a second value (pipe on
// some ABIs, getppid on NetBSD's getpid).
//
//go:nosplit
func (k *Kernel) syscall2(c call, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, Errno) {
	nr := k.nr[c]
	var r1, r2, e uintptr
	if nr < padMark {
		r1, r2, e = k.b.Syscall(nr, a1, a2, a3, a4, a5, a6)
	} else if nr == noSyscall {
		return 0, 0, ENOSYS
	} else {
		r1, r2, e = k.padded(false, nr, a1, a2, a3, a4, a5, a6)
	}
	if e != 0 {
		return r1, r2, k.errno(e)
	}
	return r1, r2, 0
}

// Syscall makes a raw call by the ABI's name with raw arguments, for calls
// api does not wrap yet. Address arguments must point to memory that does not
// move (heap memory kept alive by the caller, not a goroutine stack).
func (k *Kernel) Syscall(name string, args ...uintptr) (uintptr, error) {
	nr, ok := k.table.Syscall(name)
	if !ok {
		return 0, callErr(name, ENOSYS)
	}
	if len(args) > 6 {
		return 0, badArg(name, "more than 6 arguments")
	}
	var a [6]uintptr
	copy(a[:], args)
	r, _, e := k.b.Syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	if e != 0 {
		return r, callErr(name, k.errno(e))
	}
	return r, nil
}

// Const returns the ABI's value for a C constant by name, e.g. "O_CREAT".
func (k *Kernel) Const(name string) (uint64, bool) { return k.table.Const(name) }
