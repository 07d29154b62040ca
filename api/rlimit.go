package api

import "unsafe"

// Resource limits: getrlimit, setrlimit, prlimit64.

var (
	sysGetrlimit = newCall("ugetrlimit", "getrlimit") // 32-bit Linux's getrlimit clamps
	sysSetrlimit = newCall("setrlimit")
	sysPrlimit   = newCall("prlimit64")
)

// procRlimitBufSize bounds struct rlimit and rlimit64 in every ABI.
const procRlimitBufSize = 32

// RLIM_INFINITY is the limit value meaning "no limit", in api's numbering;
// each Kernel translates it to its ABI's (NetBSD's is 2^63-1).
const RLIM_INFINITY = ^uint64(0)

// Rlimit is a soft (Cur) and hard (Max) limit on one resource. The soft
// limit is what the kernel enforces; an unprivileged process may set it
// anywhere up to the hard limit and may lower, never raise, the hard one.
type Rlimit struct {
	Cur uint64
	Max uint64
}

// limToABI converts one limit for an ABI whose infinity is inf; values it
// cannot represent become its infinity, as the kernel's own compat paths do.
func limToABI(v, inf uint64) uint64 {
	if v >= inf {
		return inf
	}
	return v
}

func limFromABI(v, inf uint64) uint64 {
	if v == inf {
		return RLIM_INFINITY
	}
	return v
}

// Getrlimit reads the calling process's limits on res.
func (k *Kernel) Getrlimit(res Resource, rl *Rlimit) error {
	r, err := k.rlimitArgs("getrlimit", res, rl)
	if err != nil {
		return err
	}
	s := &k.procs
	var raw [procRlimitBufSize]byte
	// Raw syscall: getrlimit only reads the limits and never blocks.
	_, e := k.rawSyscall(sysGetrlimit, uintptr(r), uintptr(unsafe.Pointer(&raw[0])), 0, 0, 0, 0)
	if e != 0 {
		return callErr("getrlimit", e)
	}
	be := s.rlimit.be
	rl.Cur = limFromABI(s.rlimCur.uint(raw[:], be), s.rlimInf)
	rl.Max = limFromABI(s.rlimMax.uint(raw[:], be), s.rlimInf)
	return nil
}

// Setrlimit sets the calling process's limits on res.
//
// On the host kernel, Go's os/exec gives children the RLIMIT_NOFILE soft
// limit the program started with (Go raises its own at start-up) unless
// the limit was changed through the syscall package; a change made here is
// not seen by that logic.
func (k *Kernel) Setrlimit(res Resource, rl *Rlimit) error {
	r, err := k.rlimitArgs("setrlimit", res, rl)
	if err != nil {
		return err
	}
	s := &k.procs
	var raw [procRlimitBufSize]byte
	be := s.rlimit.be
	s.rlimCur.put(raw[:], be, limToABI(rl.Cur, s.rlimInf))
	s.rlimMax.put(raw[:], be, limToABI(rl.Max, s.rlimInf))
	if _, e := k.syscall(sysSetrlimit, uintptr(r), uintptr(unsafe.Pointer(&raw[0])), 0, 0, 0, 0); e != 0 {
		return callErr("setrlimit", e)
	}
	return nil
}

// rlimitArgs checks what Getrlimit and Setrlimit share and translates res.
func (k *Kernel) rlimitArgs(op string, res Resource, rl *Rlimit) (uint64, error) {
	if rl == nil {
		return 0, badArg(op, "nil *Rlimit")
	}
	r, err := k.enumToABI(resourceFamily, uint64(res))
	if err != nil {
		return 0, badArg(op, err.Error())
	}
	if k.procs.rlimit.s == nil {
		return 0, callErr(op, ENOSYS)
	}
	return r, nil
}

// Prlimit reads and/or sets the limits on res of process pid (0: the
// caller): it stores the old limits in oldLim when that is not nil, then
// sets newLim when that is not nil. Both may be nil (a permission check).
func (k *Kernel) Prlimit(pid int, res Resource, newLim, oldLim *Rlimit) error {
	if err := procCheckID("prlimit64", pid); err != nil {
		return err
	}
	r, err := k.enumToABI(resourceFamily, uint64(res))
	if err != nil {
		return badArg("prlimit64", err.Error())
	}
	s := &k.procs
	if s.rlimit64.s == nil {
		return callErr("prlimit64", ENOSYS)
	}
	// struct rlimit64's infinity is all ones on every ABI that has it.
	const inf64 = ^uint64(0)
	be := s.rlimit64.be
	var nraw, oraw [procRlimitBufSize]byte
	np, op := unsafe.Pointer(nil), unsafe.Pointer(nil)
	if newLim != nil {
		s.rl64Cur.put(nraw[:], be, limToABI(newLim.Cur, inf64))
		s.rl64Max.put(nraw[:], be, limToABI(newLim.Max, inf64))
		np = unsafe.Pointer(&nraw[0])
	}
	if oldLim != nil {
		op = unsafe.Pointer(&oraw[0])
	}
	if _, e := k.syscall(sysPrlimit, uintptr(pid), uintptr(r), uintptr(np), uintptr(op), 0, 0); e != 0 {
		return callErr("prlimit64", e)
	}
	if oldLim != nil {
		oldLim.Cur = limFromABI(s.rl64Cur.uint(oraw[:], be), inf64)
		oldLim.Max = limFromABI(s.rl64Max.uint(oraw[:], be), inf64)
	}
	return nil
}
