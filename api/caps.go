package api

import (
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// Capabilities: the effective, permitted and inheritable sets of a thread
// (capget, capset), its bounding and ambient sets and its securebits
// (prctl). File capabilities, the security.capability attribute, are in
// package api/caps.
//
// On Linux every one of these belongs to a thread, not to the process. As
// with user ids (see ids.go), the setters act on every thread of the host
// process through syscall.AllThreadsSyscall, so that the goroutine that
// asked and all the others see the same privileges. AllThreadsSyscall
// refuses with ENOTSUP in programs linked with cgo (it cannot reach the
// threads C code started, and neither the C library nor the kernel offers
// an all-thread capset): such programs get ENOTSUP from the process-wide
// setters and must use the *Thread variants, which change the calling
// thread only and lock the goroutine to it. api itself does not link cgo,
// but a program that imports net (or os/user) with cgo enabled does:
// build it with CGO_ENABLED=0, or -tags netgo,osusergo, to keep the
// process-wide setters. Other backends make one call to their kernel.

var sysCapget = newCall("capget")
var sysCapset = newCall("capset")

// CapSet is a set of capabilities: bit n stands for capability number n
// (api's numbering, Linux's). The kernel's sets are 64 bits wide.
type CapSet uint64

// CapSetOf returns the set of the given capabilities; numbers outside 0..63
// are ignored.
func CapSetOf(caps ...Capability) CapSet {
	var s CapSet
	return s.Add(caps...)
}

// Has reports whether c is in s.
func (s CapSet) Has(c Capability) bool {
	return c >= 0 && c < 64 && s&(1<<uint(c)) != 0
}

// Add returns s with caps added.
func (s CapSet) Add(caps ...Capability) CapSet {
	for _, c := range caps {
		if c >= 0 && c < 64 {
			s |= 1 << uint(c)
		}
	}
	return s
}

// Del returns s without caps.
func (s CapSet) Del(caps ...Capability) CapSet {
	for _, c := range caps {
		if c >= 0 && c < 64 {
			s &^= 1 << uint(c)
		}
	}
	return s
}

// List returns the capabilities in s in ascending order.
func (s CapSet) List() []Capability {
	var out []Capability
	for c := Capability(0); c < 64; c++ {
		if s.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// String returns the members' C names joined by "|" ("CAP_CHOWN|CAP_KILL");
// numbers api has no name for print as CAP_<n>, the empty set as "0".
func (s CapSet) String() string {
	if s == 0 {
		return "0"
	}
	var b strings.Builder
	for _, c := range s.List() {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(capName(c))
	}
	return b.String()
}

// capName returns the C name of c, or CAP_<n> for one api does not know.
func capName(c Capability) string {
	for _, v := range capabilityFamily.values {
		if v == uint64(c) {
			return c.String()
		}
	}
	return "CAP_" + strconv.Itoa(int(c))
}

// ParseCapSet parses a list of capability names such as "chown,net_raw" or
// "CAP_KILL|CAP_SETUID" (case-insensitive, CAP_ optional; "~name" removes
// one, "all" stands for every capability api knows, a bare number for
// capability n). An unknown word is a *ParseError naming it.
func ParseCapSet(s string) (CapSet, error) {
	var set CapSet
	for _, w := range splitWords(s) {
		clear := strings.HasPrefix(w, "~")
		name := strings.TrimPrefix(w, "~")
		var add CapSet
		if strings.EqualFold(name, "all") {
			for _, v := range capabilityFamily.values {
				add |= 1 << v
			}
		} else if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < 64 {
			add = 1 << uint(n)
		} else {
			i, ok := capabilityFamily.lookup(name)
			if !ok {
				return 0, &ParseError{Family: "CapSet", Word: w, Input: s}
			}
			add = 1 << capabilityFamily.values[i]
		}
		if clear {
			set &^= add
		} else {
			set |= add
		}
	}
	return set, nil
}

// Caps are the three capability sets of a thread that capget and capset
// move.
type Caps struct {
	Effective   CapSet // what the thread may do now
	Permitted   CapSet // the limit of Effective (and of Inheritable without CAP_SETPCAP)
	Inheritable CapSet // what survives execve (with the file's inheritable set or the ambient set)
}

// capState is the capability part of secState.
type capState struct {
	version  uint64 // _LINUX_CAPABILITY_VERSION_3; 0 when the ABI has none
	words    int    // _LINUX_CAPABILITY_U32S_3
	hdr      layout // struct __user_cap_header_struct (cap_user_header)
	hVersion fieldAt
	hPid     fieldAt
	data     layout // one struct __user_cap_data_struct (cap_user_data)
	dEff     fieldAt
	dPrm     fieldAt
	dInh     fieldAt

	// prctl options; secNoConst when the ABI lacks one.
	capbsetRead, capbsetDrop                      uint64
	ambient, ambIsSet, ambRaise, ambLower, ambAll uint64
	getSecurebits, setSecurebits                  uint64
}

// secNoConst marks a constant the ABI lacks; the call answers ENOSYS.
const secNoConst = ^uint64(0)

// Scratch sizes for the capget/capset structs; init refuses an ABI whose
// structs are larger.
const (
	capHdrBuf  = 16
	capDataBuf = 64
)

func (s *capState) init(k *Kernel) error {
	for _, c := range []struct {
		p    *uint64
		name string
	}{
		{&s.capbsetRead, "PR_CAPBSET_READ"}, {&s.capbsetDrop, "PR_CAPBSET_DROP"},
		{&s.ambient, "PR_CAP_AMBIENT"}, {&s.ambIsSet, "PR_CAP_AMBIENT_IS_SET"},
		{&s.ambRaise, "PR_CAP_AMBIENT_RAISE"}, {&s.ambLower, "PR_CAP_AMBIENT_LOWER"},
		{&s.ambAll, "PR_CAP_AMBIENT_CLEAR_ALL"},
		{&s.getSecurebits, "PR_GET_SECUREBITS"}, {&s.setSecurebits, "PR_SET_SECUREBITS"},
	} {
		v, ok := k.table.Const(c.name)
		if !ok {
			v = secNoConst
		}
		*c.p = v
	}
	// capget and capset: optional (other systems have no capabilities).
	v, ok := k.table.Const("_LINUX_CAPABILITY_VERSION_3")
	w, okw := k.table.Const("_LINUX_CAPABILITY_U32S_3")
	hdr, errh := k.layoutOf("cap_user_header")
	data, errd := k.layoutOf("cap_user_data")
	if !ok || !okw || errh != nil || errd != nil {
		return nil
	}
	if hdr.size > capHdrBuf || int(w)*data.size > capDataBuf || w == 0 {
		return errMissing("capability structs that fit their buffers")
	}
	var err error
	for _, f := range []struct {
		l    layout
		p    *fieldAt
		name string
	}{
		{hdr, &s.hVersion, "version"}, {hdr, &s.hPid, "pid"},
		{data, &s.dEff, "effective"}, {data, &s.dPrm, "permitted"}, {data, &s.dInh, "inheritable"},
	} {
		if *f.p, err = f.l.must(f.name); err != nil {
			return err
		}
	}
	s.version, s.words, s.hdr, s.data = v, int(w), hdr, data
	return nil
}

// capsToABI converts a neutral set to the ABI's bit positions (the same on
// every Linux ABI, so this is the identity there).
func (k *Kernel) capsToABI(s CapSet) (uint64, error) {
	if k.enums[capabilityFamily.id].identity {
		return uint64(s), nil
	}
	var out uint64
	for _, c := range s.List() {
		v, err := k.enumToABI(capabilityFamily, uint64(c))
		if err != nil {
			return 0, err
		}
		if v < 64 {
			out |= 1 << v
		}
	}
	return out, nil
}

func (k *Kernel) capsFromABI(v uint64) CapSet {
	if k.enums[capabilityFamily.id].identity {
		return CapSet(v)
	}
	var out CapSet
	for i := uint64(0); i < 64; i++ {
		if v&(1<<i) != 0 {
			if n := k.enumFromABI(capabilityFamily, i); n < 64 {
				out |= 1 << n
			}
		}
	}
	return out
}

// putHdr writes the capget/capset header for thread tid.
func (s *capState) putHdr(b []byte, tid int) {
	be := s.hdr.be
	s.hVersion.put(b, be, s.version)
	s.hPid.put(b, be, uint64(uint32(int32(tid))))
}

// decode reads the data array capget filled in.
func (s *capState) decode(k *Kernel, b []byte) Caps {
	var e, p, i uint64
	be := s.data.be
	for w := 0; w < s.words && w < 2; w++ {
		d := b[w*s.data.size:]
		e |= s.dEff.uint(d, be) << (32 * w)
		p |= s.dPrm.uint(d, be) << (32 * w)
		i |= s.dInh.uint(d, be) << (32 * w)
	}
	return Caps{Effective: k.capsFromABI(e), Permitted: k.capsFromABI(p), Inheritable: k.capsFromABI(i)}
}

// encode writes c into the data array for capset.
func (s *capState) encode(k *Kernel, b []byte, c Caps) error {
	e, err := k.capsToABI(c.Effective)
	if err != nil {
		return err
	}
	p, err := k.capsToABI(c.Permitted)
	if err != nil {
		return err
	}
	i, err := k.capsToABI(c.Inheritable)
	if err != nil {
		return err
	}
	be := s.data.be
	for w := 0; w < s.words; w++ {
		d := b[w*s.data.size:]
		if w >= 2 {
			break
		}
		s.dEff.put(d, be, uint64(uint32(e>>(32*w))))
		s.dPrm.put(d, be, uint64(uint32(p>>(32*w))))
		s.dInh.put(d, be, uint64(uint32(i>>(32*w))))
	}
	if s.words < 2 && (e|p|i)>>32 != 0 {
		return badArg("capset", "capability above 31 on an ABI with 32-bit sets")
	}
	return nil
}

// Capget returns the capability sets of thread tid; 0 means the calling
// thread. The thread of a goroutine is whichever runs it: when threads'
// sets differ (after a *Thread setter), lock the goroutine first
// (runtime.LockOSThread). A tid that does not exist gives ESRCH.
func (k *Kernel) Capget(tid int) (Caps, error) {
	s := &k.sec.caps
	if s.version == 0 {
		return Caps{}, callErr("capget", ENOSYS)
	}
	if tid < 0 || tid > 1<<31-1 {
		return Caps{}, badArg("capget", "thread id "+strconv.Itoa(tid)+" out of range")
	}
	var hdr [capHdrBuf]byte
	var data [capDataBuf]byte
	s.putHdr(hdr[:], tid)
	_, e := k.syscall(sysCapget, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data)), 0, 0, 0, 0)
	if e != 0 {
		return Caps{}, callErr("capget", e)
	}
	return s.decode(k, data[:]), nil
}

// Capset sets the capability sets of every thread of the process (see the
// note on threads above: ENOTSUP in cgo programs on the host kernel). The
// kernel's rules: Effective must be within Permitted, Permitted may only
// shrink, and Inheritable may only grow within Permitted unless the thread
// has CAP_SETPCAP, and never beyond the bounding set.
func (k *Kernel) Capset(c Caps) error {
	return k.capset(c, false)
}

// CapsetThread is Capset for the calling OS thread only. So that the
// changed privileges cannot leak to other goroutines, it locks the calling
// goroutine to its thread (runtime.LockOSThread) and leaves it locked, also
// when it fails: restore the sets and call runtime.UnlockOSThread, or let
// the goroutine exit locked, and Go discards the thread. While one thread's
// sets differ from the others', do not call the process-wide setters:
// AllThreadsSyscall ends the program when threads answer differently.
func (k *Kernel) CapsetThread(c Caps) error {
	runtime.LockOSThread()
	return k.capset(c, true)
}

func (k *Kernel) capset(c Caps, thread bool) error {
	s := &k.sec.caps
	if s.version == 0 {
		return callErr("capset", ENOSYS)
	}
	if thread || !k.procs.host {
		var hdr [capHdrBuf]byte
		var data [capDataBuf]byte
		s.putHdr(hdr[:], 0)
		if err := s.encode(k, data[:], c); err != nil {
			return err
		}
		if _, e := k.syscall(sysCapset, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data)), 0, 0, 0, 0); e != 0 {
			return callErr("capset", e)
		}
		return nil
	}
	// AllThreadsSyscall is ordinary Go code that may grow the stack while
	// other threads use the structs: they live on the heap, which does
	// not move.
	hdr := new([capHdrBuf]byte)
	data := new([capDataBuf]byte)
	s.putHdr(hdr[:], 0)
	if err := s.encode(k, data[:], c); err != nil {
		return err
	}
	_, e := k.allThreads(sysCapset, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)), 0)
	runtime.KeepAlive(hdr)
	runtime.KeepAlive(data)
	if e != 0 {
		return callErr("capset", e)
	}
	return nil
}

// capPrctl makes prctl(opt, a2, a3, 0, 0): on the calling thread, or on
// every thread of the host process when all is set (elsewhere one call).
func (k *Kernel) capPrctl(op string, opt uint64, a2, a3 uintptr, all bool) (uintptr, error) {
	if opt == secNoConst {
		return 0, callErr(op, ENOSYS)
	}
	var r uintptr
	var e Errno
	if all && k.procs.host {
		r, e = k.allThreads(sysPrctl, uintptr(opt), a2, a3)
	} else {
		r, e = k.syscall(sysPrctl, uintptr(opt), a2, a3, 0, 0, 0)
	}
	if e != 0 {
		return 0, callErr(op, e)
	}
	return r, nil
}

// capArg checks a capability number and converts it for the ABI.
func (k *Kernel) capArg(op string, c Capability) (uintptr, error) {
	if c < 0 || c > 63 {
		return 0, badArg(op, "capability "+strconv.Itoa(int(c))+" out of range 0..63")
	}
	if k.enums[capabilityFamily.id].identity {
		return uintptr(c), nil
	}
	v, err := k.enumToABI(capabilityFamily, uint64(c))
	if err != nil {
		return 0, &argErr{op, err.Error()}
	}
	return uintptr(v), nil
}

// CapbsetRead reports whether c is in the calling thread's bounding set,
// the limit of what execve can grant (PR_CAPBSET_READ). A capability the
// kernel does not know gives EINVAL.
func (k *Kernel) CapbsetRead(c Capability) (bool, error) {
	a, err := k.capArg("prctl_capbset_read", c)
	if err != nil {
		return false, err
	}
	r, err := k.capPrctl("prctl_capbset_read", k.sec.caps.capbsetRead, a, 0, false)
	return r == 1, err
}

// CapbsetDrop removes c from the bounding set of every thread
// (PR_CAPBSET_DROP; needs CAP_SETPCAP; ENOTSUP in cgo programs, see above).
// It cannot be put back.
func (k *Kernel) CapbsetDrop(c Capability) error {
	return k.capbsetDrop(c, true)
}

// CapbsetDropThread is CapbsetDrop for the calling OS thread only; it locks
// the goroutine to its thread as CapsetThread does.
func (k *Kernel) CapbsetDropThread(c Capability) error {
	runtime.LockOSThread()
	return k.capbsetDrop(c, false)
}

func (k *Kernel) capbsetDrop(c Capability, all bool) error {
	a, err := k.capArg("prctl_capbset_drop", c)
	if err != nil {
		return err
	}
	_, err = k.capPrctl("prctl_capbset_drop", k.sec.caps.capbsetDrop, a, 0, all)
	return err
}

// CapAmbientIsSet reports whether c is in the calling thread's ambient set
// (PR_CAP_AMBIENT_IS_SET): capabilities kept across execve of a program
// without file capabilities.
func (k *Kernel) CapAmbientIsSet(c Capability) (bool, error) {
	a, err := k.capArg("prctl_cap_ambient_is_set", c)
	if err != nil {
		return false, err
	}
	r, err := k.ambient("prctl_cap_ambient_is_set", k.sec.caps.ambIsSet, a, false)
	return r == 1, err
}

// CapAmbientRaise adds c to the ambient set of every thread
// (PR_CAP_AMBIENT_RAISE). c must be in the thread's permitted and
// inheritable sets (EPERM otherwise) and SECBIT_NO_CAP_AMBIENT_RAISE unset.
func (k *Kernel) CapAmbientRaise(c Capability) error {
	return k.ambientCap("prctl_cap_ambient_raise", k.sec.caps.ambRaise, c, true)
}

// CapAmbientRaiseThread is CapAmbientRaise for the calling OS thread only;
// it locks the goroutine to its thread as CapsetThread does.
func (k *Kernel) CapAmbientRaiseThread(c Capability) error {
	runtime.LockOSThread()
	return k.ambientCap("prctl_cap_ambient_raise", k.sec.caps.ambRaise, c, false)
}

// CapAmbientLower removes c from the ambient set of every thread
// (PR_CAP_AMBIENT_LOWER).
func (k *Kernel) CapAmbientLower(c Capability) error {
	return k.ambientCap("prctl_cap_ambient_lower", k.sec.caps.ambLower, c, true)
}

// CapAmbientLowerThread is CapAmbientLower for the calling OS thread only;
// it locks the goroutine to its thread as CapsetThread does.
func (k *Kernel) CapAmbientLowerThread(c Capability) error {
	runtime.LockOSThread()
	return k.ambientCap("prctl_cap_ambient_lower", k.sec.caps.ambLower, c, false)
}

// CapAmbientClearAll empties the ambient set of every thread
// (PR_CAP_AMBIENT_CLEAR_ALL).
func (k *Kernel) CapAmbientClearAll() error {
	_, err := k.ambient("prctl_cap_ambient_clear_all", k.sec.caps.ambAll, 0, true)
	return err
}

// CapAmbientClearAllThread is CapAmbientClearAll for the calling OS thread
// only; it locks the goroutine to its thread as CapsetThread does.
func (k *Kernel) CapAmbientClearAllThread() error {
	runtime.LockOSThread()
	_, err := k.ambient("prctl_cap_ambient_clear_all", k.sec.caps.ambAll, 0, false)
	return err
}

func (k *Kernel) ambientCap(op string, sub uint64, c Capability, all bool) error {
	a, err := k.capArg(op, c)
	if err != nil {
		return err
	}
	_, err = k.ambient(op, sub, a, all)
	return err
}

// ambient makes prctl(PR_CAP_AMBIENT, sub, a, 0, 0).
func (k *Kernel) ambient(op string, sub uint64, a uintptr, all bool) (uintptr, error) {
	if sub == secNoConst {
		return 0, callErr(op, ENOSYS)
	}
	return k.capPrctl(op, k.sec.caps.ambient, uintptr(sub), a, all)
}

// GetSecurebits returns the calling thread's securebits
// (PR_GET_SECUREBITS): the flags that turn off root's special treatment
// (SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP), keep capabilities across
// setuid (SECBIT_KEEP_CAPS), forbid ambient raises, and the *_LOCKED bits
// that freeze them.
func (k *Kernel) GetSecurebits() (Securebits, error) {
	r, err := k.capPrctl("prctl_get_securebits", k.sec.caps.getSecurebits, 0, 0, false)
	if err != nil {
		return 0, err
	}
	return Securebits(k.flagsFromABI(securebitsFamily, uint64(r))), nil
}

// SetSecurebits sets the securebits of every thread (PR_SET_SECUREBITS;
// needs CAP_SETPCAP; ENOTSUP in cgo programs, see above). Locked bits
// cannot change again (EPERM).
func (k *Kernel) SetSecurebits(b Securebits) error {
	return k.setSecurebits(b, true)
}

// SetSecurebitsThread is SetSecurebits for the calling OS thread only; it
// locks the goroutine to its thread as CapsetThread does.
func (k *Kernel) SetSecurebitsThread(b Securebits) error {
	runtime.LockOSThread()
	return k.setSecurebits(b, false)
}

func (k *Kernel) setSecurebits(b Securebits, all bool) error {
	v, err := k.flagsToABI(securebitsFamily, uint64(b))
	if err != nil {
		return &argErr{"prctl_set_securebits", err.Error()}
	}
	_, err = k.capPrctl("prctl_set_securebits", k.sec.caps.setSecurebits, uintptr(v), 0, all)
	return err
}
