package hypercall

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// The privileged layer: this file talks to the real hypervisor, from Go
// code that runs in ring 0 under the anykernel shim (build/shim) on Xen,
// through the instructions in machine_linux_amd64.s. Physical memory below
// 4 GiB is identity mapped there, so a frame number from Xen is also an
// address. Hosted unit tests never get here: Open refuses to run outside
// ring 0 (and on other platforms, where machine_other.go stands in).

// atAnykernelXen is the auxiliary vector entry through which the shim
// passes a struct xen_info (build/shim/src/shim.h).
const (
	atAnykernelXen = 0x414e594b
	xenInfoMagic   = 0x666e696e65784b41 // "AKxeninf"
)

// shimXenInfo is the shim's struct xen_info. The shim only ever appends
// fields; Size says how many it has.
type shimXenInfo struct {
	Magic         uint64
	Size          uint64
	CPUIDBase     uint64
	HypercallPage uint64
	SharedInfo    uint64
	// Since size 72: event channel upcalls (build/shim/src/shim.h).
	UpcallVector uint64 // 0 when the shim takes no upcalls
	Upcalls      uint64 // upcalls taken; evtchnWait waits for it to move
	EvtchnBlocks uint64 // evtchnWait calls that blocked their thread
	IdleNs       uint64 // time the vCPU idled in the shim's scheduler
}

// sysAnykernelEvtchnWait is the shim's private system call
// SYS_ANYKERNEL_EVTCHN_WAIT(seq, timeout_ns) (build/shim/src/shim.h): it
// blocks the calling thread until the shim's upcall counter differs from
// seq or timeout_ns passes (^0: never).
const sysAnykernelEvtchnWait = 0x414b0001

// shimXenInfoV1Size is the size of the first struct xen_info, without
// the upcall fields.
const shimXenInfoV1Size = 40

// hasUpcalls reports whether the shim takes event channel upcalls and
// serves SYS_ANYKERNEL_EVTCHN_WAIT.
func (i *shimXenInfo) hasUpcalls() bool {
	return i.Size >= uint64(unsafe.Sizeof(shimXenInfo{})) && atomic.LoadUint64(&i.UpcallVector) != 0
}

// identityLimit is the end of the shim's identity map.
const identityLimit = 1 << 32

// physPtr returns a pointer to physical address pa, which must be in the
// identity map.
func physPtr(pa uint64) unsafe.Pointer {
	p := uintptr(pa)
	return *(*unsafe.Pointer)(unsafe.Pointer(&p))
}

// hypercallArea holds our hypercall page, which Xen fills when we write
// its frame number to the hypercall MSR; grantArea holds the grant table
// frames Xen maps for us. Both are globals so that they stay put and
// stay alive; each has a page of slack for alignment.
var (
	hypercallArea [2 * pageSize]byte
	grantArea     [(grantFrames + 1) * pageSize]byte
)

// grantFrames is how many grant table frames GrantTable maps: 1024
// version 1 entries.
const grantFrames = 2

func alignPage(b []byte) unsafe.Pointer {
	a := uintptr(unsafe.Pointer(&b[0]))
	off := (pageSize - a%pageSize) % pageSize
	return unsafe.Pointer(&b[off])
}

// Xen is the running hypervisor, as seen from a PVH domain: CPUID
// identity, hypercalls through our own hypercall page, the shared_info
// page, and the services built on them (xenstore, the console, grants).
// It implements Events.
type Xen struct {
	id     Identity
	page   uintptr // our hypercall page
	shinfo *SharedInfo
	info   *shimXenInfo
	last   atomic.Uint64 // latest SystemTime, to keep it monotonic

	storeOnce sync.Once
	store     *Xenstore
	storeErr  error
	consOnce  sync.Once
	cons      *Console
	consErr   error
	gntOnce   sync.Once
	gnt       *GrantTable
	gntErr    error
}

var (
	openOnce sync.Once
	theXen   *Xen
	openErr  error
)

// Open returns the hypervisor the program runs on. It fails with an
// error wrapping ErrNoXen (and api.ENOSYS) on plain QEMU, on bare metal
// and in a host process, where it touches nothing privileged: it checks
// the privilege level and CPUID first.
func Open() (*Xen, error) {
	openOnce.Do(func() { theXen, openErr = open() })
	return theXen, openErr
}

func open() (*Xen, error) {
	if cpl() != 0 {
		return nil, fmt.Errorf("hypercall: %w: not in ring 0 (not an anykernel image)", ErrNoXen)
	}
	id, ok := identify(cpuid)
	if !ok {
		return nil, fmt.Errorf("hypercall: %w: no Xen signature in CPUID", ErrNoXen)
	}
	info, err := shimInfo()
	if err != nil {
		return nil, err
	}
	if info.SharedInfo == 0 || info.SharedInfo+pageSize > identityLimit {
		return nil, fmt.Errorf("hypercall: the shim has no shared_info mapping (%#x)", info.SharedInfo)
	}
	x := &Xen{id: id, shinfo: (*SharedInfo)(physPtr(info.SharedInfo)), info: info}
	// Our own hypercall page: Xen writes the stubs into the frame we
	// name, whatever pages it filled before (the shim has its own).
	page := alignPage(hypercallArea[:])
	pa, err := virtToPhys(uintptr(page))
	if err != nil {
		return nil, fmt.Errorf("hypercall: hypercall page: %w", err)
	}
	wrmsr(id.HypercallMSR, pa)
	x.page = uintptr(page)
	// A page Xen did not fill starts with zeros; a stub starts with
	// "mov $nr, %eax" (0xb8).
	if *(*byte)(page) != 0xb8 {
		return nil, fmt.Errorf("hypercall: Xen did not fill the hypercall page at %#x", pa)
	}
	return x, nil
}

// shimInfo finds the shim's struct xen_info through the auxiliary
// vector.
func shimInfo() (*shimXenInfo, error) {
	addr, ok := auxv(atAnykernelXen)
	if !ok {
		return nil, fmt.Errorf("hypercall: the shim passed no Xen information (AT_ANYKERNEL_XEN): rebuild the image with the current build/shim")
	}
	if addr == 0 || uint64(addr)+uint64(unsafe.Sizeof(shimXenInfo{})) > identityLimit {
		return nil, fmt.Errorf("hypercall: the shim's Xen information at %#x is outside the identity map", addr)
	}
	info := (*shimXenInfo)(physPtr(uint64(addr)))
	if info.Magic != xenInfoMagic || info.Size < shimXenInfoV1Size {
		return nil, fmt.Errorf("hypercall: the shim's Xen information at %#x is not recognised", addr)
	}
	return info, nil
}

// virtToPhys walks the page tables (which the shim keeps in identity-mapped
// memory) to translate a virtual address.
func virtToPhys(va uintptr) (uint64, error) {
	const addrMask = 0x000ffffffffff000
	t := readCR3() & addrMask
	for shift := 39; ; shift -= 9 {
		if t >= identityLimit {
			return 0, fmt.Errorf("page table at %#x outside the identity map: %w", t, api.EFAULT)
		}
		e := atomic.LoadUint64((*uint64)(physPtr(t + uint64(va>>shift&511)*8)))
		if e&1 == 0 {
			return 0, fmt.Errorf("address %#x not mapped (touch it first): %w", va, api.EFAULT)
		}
		if shift == 12 || (e&0x80 != 0 && (shift == 21 || shift == 30)) {
			size := uint64(1) << shift
			return e&addrMask&^(size-1) | uint64(va)&(size-1), nil
		}
		t = e & addrMask
	}
}

// Identity returns what CPUID says about Xen and this domain.
func (x *Xen) Identity() Identity { return x.id }

// SharedInfo returns the shared_info page.
func (x *Xen) SharedInfo() *SharedInfo { return x.shinfo }

func (x *Xen) call(op int, cmd uintptr, arg unsafe.Pointer, count uintptr) int64 {
	return hcall(x.page+uintptr(op)*32, cmd, arg, count)
}

// Version returns the hypervisor's version (XENVER_version) and its extra
// version string (XENVER_extraversion, e.g. ".7-13-g2445b30a44").
func (x *Xen) Version() (major, minor int, extra string) {
	v := x.call(hypercallXenVersion, xenverVersion, nil, 0)
	var buf [extraversionLen]byte
	if x.call(hypercallXenVersion, xenverExtraversion, unsafe.Pointer(&buf), 0) >= 0 {
		extra, _ = cstring(append(buf[:], 0))
	}
	return int(v >> 16), int(v & 0xffff), extra
}

// Frame returns the guest frame number of the page that holds p, for
// granting it to another domain. The page must be backed (written to at
// least once) and stay alive and in place while granted.
func (x *Xen) Frame(p unsafe.Pointer) (uint64, error) {
	pa, err := virtToPhys(uintptr(p))
	if err != nil {
		return 0, err
	}
	return pa >> 12, nil
}

// HVMParam reads an HVM parameter of this domain (HVMOP_get_param).
func (x *Xen) HVMParam(i HVMParam) (uint64, error) {
	p := hvmParam{Domid: DomIDSelf, Index: uint32(i)}
	if r := x.call(hypercallHVMOp, hvmopGetParam, unsafe.Pointer(&p), 0); r < 0 {
		return 0, hypercallErr("HVMOP_get_param", r)
	}
	return p.Value, nil
}

// SetHVMParam sets an HVM parameter of this domain (HVMOP_set_param);
// Xen lets a guest set only some (HVM_PARAM_CALLBACK_IRQ, for one).
func (x *Xen) SetHVMParam(i HVMParam, v uint64) error {
	p := hvmParam{Domid: DomIDSelf, Index: uint32(i), Value: v}
	return hypercallErr("HVMOP_set_param", x.call(hypercallHVMOp, hvmopSetParam, unsafe.Pointer(&p), 0))
}

// Notify signals the other end of event channel port (EVTCHNOP_send).
func (x *Xen) Notify(port uint32) error {
	p := evtchnPort{Port: port}
	return hypercallErr("EVTCHNOP_send", x.call(hypercallEventChannelOp, evtchnopSend, unsafe.Pointer(&p), 0))
}

// Unmask unmasks port (EVTCHNOP_unmask); Xen raises the upcall again
// if an event is pending.
func (x *Xen) Unmask(port uint32) error {
	p := evtchnPort{Port: port}
	return hypercallErr("EVTCHNOP_unmask", x.call(hypercallEventChannelOp, evtchnopUnmask, unsafe.Pointer(&p), 0))
}

// CloseChannel closes event channel port (EVTCHNOP_close).
func (x *Xen) CloseChannel(port uint32) error {
	p := evtchnPort{Port: port}
	return hypercallErr("EVTCHNOP_close", x.call(hypercallEventChannelOp, evtchnopClose, unsafe.Pointer(&p), 0))
}

// AllocUnbound allocates a port that domain remote may bind to
// (EVTCHNOP_alloc_unbound).
func (x *Xen) AllocUnbound(remote DomID) (uint32, error) {
	p := evtchnAllocUnbound{Dom: DomIDSelf, RemoteDom: remote}
	if r := x.call(hypercallEventChannelOp, evtchnopAllocUnbound, unsafe.Pointer(&p), 0); r < 0 {
		return 0, hypercallErr("EVTCHNOP_alloc_unbound", r)
	}
	return p.Port, nil
}

// BindInterdomain connects a new local port to remotePort of domain remote
// (EVTCHNOP_bind_interdomain), which must have been allocated for us.
func (x *Xen) BindInterdomain(remote DomID, remotePort uint32) (uint32, error) {
	p := evtchnBindInterdomain{RemoteDom: remote, RemotePort: remotePort}
	if r := x.call(hypercallEventChannelOp, evtchnopBindInterdomain, unsafe.Pointer(&p), 0); r < 0 {
		return 0, hypercallErr("EVTCHNOP_bind_interdomain", r)
	}
	return p.LocalPort, nil
}

// Poll blocks this vCPU until an event is pending on one of ports or
// timeout passes (SCHEDOP_poll); timeout <= 0 only looks. It returns
// without clearing anything: check SharedInfo().TakePending. Interrupts
// (the shim's timer) end it early too. It works on masked ports as well,
// but it sleeps the whole vCPU, every goroutine with it: Wait sleeps only
// its thread.
func (x *Xen) Poll(ports []uint32, timeout time.Duration) error {
	if len(ports) == 0 || len(ports) > 128 {
		return hypercallErr("SCHEDOP_poll", -int64(api.EINVAL))
	}
	p := schedPoll{Ports: unsafe.Pointer(&ports[0]), NrPorts: uint32(len(ports)), Timeout: x.SystemTime() + uint64(max(timeout, 0))}
	return hypercallErr("SCHEDOP_poll", x.call(hypercallSchedOp, schedopPoll, unsafe.Pointer(&p), 0))
}

// Wait implements Events: it returns when port's pending bit is set
// (which it clears) or, with api.ETIMEDOUT, when deadline passes.
//
// It sleeps only the calling thread: it unmasks port (Xen raises upcalls
// only for unmasked ports), then blocks in the shim's
// SYS_ANYKERNEL_EVTCHN_WAIT until the shim's upcall counter moves past
// the value read before the pending bit was checked, so an event that
// arrives in between is never missed. The call goes through the runtime's
// blocking system call path, which hands the P to another thread: the
// program's other goroutines run meanwhile, and the vCPU idles in the
// shim when none has work. Each Wait in progress holds an OS thread (the
// shim has 64); the ring clients here have at most one per port. Under a
// shim without upcalls it falls back to polling (see Poll) in slices of
// at most 10ms, between which the other goroutines run.
func (x *Xen) Wait(port uint32, deadline time.Time) error {
	if port >= EventChannels {
		return fmt.Errorf("hypercall: Wait: port %d out of range (%d event channels): %w", port, EventChannels, api.EINVAL)
	}
	if !x.info.hasUpcalls() {
		return x.pollWait(port, deadline)
	}
	if x.shinfo.Masked(port) {
		if err := x.Unmask(port); err != nil {
			return err
		}
	}
	for {
		seq := atomic.LoadUint64(&x.info.Upcalls)
		if x.shinfo.TakePending(port) {
			return nil
		}
		timeout := ^uint64(0)
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return api.ETIMEDOUT
			}
			timeout = uint64(left)
		}
		// On ETIMEDOUT, look once more: the deadline and the pending bit
		// decide, not the shim's clock.
		if e := evtchnWait(seq, timeout); e != 0 && e != api.ETIMEDOUT {
			return os.NewSyscallError("SYS_ANYKERNEL_EVTCHN_WAIT", e)
		}
	}
}

// pollWait is Wait under a shim without upcalls: SCHEDOP_poll in slices
// of at most 10ms, during which the whole vCPU sleeps in Xen.
func (x *Xen) pollWait(port uint32, deadline time.Time) error {
	ports := [1]uint32{port}
	for {
		if x.shinfo.TakePending(port) {
			return nil
		}
		slice := 10 * time.Millisecond
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return api.ETIMEDOUT
			}
			slice = min(slice, left)
		}
		if err := x.Poll(ports[:], slice); err != nil {
			return err
		}
		if !x.shinfo.Pending(port) {
			runtime.Gosched()
		}
	}
}

// ShimStats are the shim's event channel counters, for seeing where a
// program waits.
type ShimStats struct {
	// UpcallVector is the vector Xen raises for events, 0 when the shim
	// takes no upcalls (Wait then polls).
	UpcallVector uint8
	// Upcalls counts the upcalls the shim took.
	Upcalls uint64
	// EventBlocks counts the waits (Wait) that blocked their thread in
	// the shim.
	EventBlocks uint64
	// Idle is how long the vCPU idled in the shim's scheduler (hlt), with
	// every thread blocked; time spent in SCHEDOP_poll is not in it.
	Idle time.Duration
}

// ShimStats returns the shim's event channel counters (zero under a shim
// without upcalls).
func (x *Xen) ShimStats() ShimStats {
	if x.info.Size < uint64(unsafe.Sizeof(shimXenInfo{})) {
		return ShimStats{}
	}
	return ShimStats{
		UpcallVector: uint8(atomic.LoadUint64(&x.info.UpcallVector)),
		Upcalls:      atomic.LoadUint64(&x.info.Upcalls),
		EventBlocks:  atomic.LoadUint64(&x.info.EvtchnBlocks),
		Idle:         time.Duration(atomic.LoadUint64(&x.info.IdleNs)),
	}
}

// Yield gives the physical CPU to other domains (SCHEDOP_yield).
func (x *Xen) Yield() error {
	return hypercallErr("SCHEDOP_yield", x.call(hypercallSchedOp, schedopYield, nil, 0))
}

// Block blocks this vCPU until an interrupt is due (the shim's timer) or
// an event upcall is raised (SCHEDOP_block).
func (x *Xen) Block() error {
	return hypercallErr("SCHEDOP_block", x.call(hypercallSchedOp, schedopBlock, nil, 0))
}

// Shutdown ends the domain at once (SCHEDOP_shutdown), without the
// shim's exit line: a program that wants its exit status seen calls
// os.Exit instead. It returns only on failure.
func (x *Xen) Shutdown(reason ShutdownReason) error {
	p := schedShutdown{Reason: uint32(reason)}
	return hypercallErr("SCHEDOP_shutdown", x.call(hypercallSchedOp, schedopShutdown, unsafe.Pointer(&p), 0))
}

// SystemTime returns Xen system time in ns (since Xen booted) from vCPU
// 0's pvclock, never less than a value it returned before.
func (x *Xen) SystemTime() uint64 {
	t := x.shinfo.VcpuInfo[0].Time.Snapshot().Nanos(rdtsc())
	for {
		last := x.last.Load()
		if t <= last {
			return last
		}
		if x.last.CompareAndSwap(last, t) {
			return t
		}
	}
}

// WallClock returns the current time from shared_info's wall clock and
// pvclock.
func (x *Xen) WallClock() time.Time {
	return x.shinfo.WallClock().Add(time.Duration(x.SystemTime()))
}

func (x *Xen) ringParams(pfnParam, portParam HVMParam) (unsafe.Pointer, uint32, error) {
	pfn, err := x.HVMParam(pfnParam)
	if err != nil {
		return nil, 0, err
	}
	port, err := x.HVMParam(portParam)
	if err != nil {
		return nil, 0, err
	}
	if pfn == 0 || (pfn+1)<<12 > identityLimit || port == 0 || port >= EventChannels {
		return nil, 0, fmt.Errorf("hypercall: no ring (frame %#x, port %d): %w", pfn, port, api.ENODEV)
	}
	return physPtr(pfn << 12), uint32(port), nil
}

// Xenstore returns the client of this domain's xenstore ring (one per
// program: the ring has room for one).
func (x *Xen) Xenstore() (*Xenstore, error) {
	x.storeOnce.Do(func() {
		p, port, err := x.ringParams(HVMParamStorePFN, HVMParamStoreEvtchn)
		if err != nil {
			x.storeErr = err
			return
		}
		x.store = NewXenstore((*XenstoreInterface)(p), x, port)
	})
	return x.store, x.storeErr
}

// Console returns the guest end of the PV console ring (see Console for
// who may write to it).
func (x *Xen) Console() (*Console, error) {
	x.consOnce.Do(func() {
		p, port, err := x.ringParams(HVMParamConsolePFN, HVMParamConsoleEvtch)
		if err != nil {
			x.consErr = err
			return
		}
		x.cons = NewConsole((*ConsoleInterface)(p), x, port)
	})
	return x.cons, x.consErr
}

// GrantTable selects grant table version 1 and maps its first frames
// (up to 1024 entries) into the program; references 0 and 1 then show the
// toolstack's grants of the console and xenstore rings.
func (x *Xen) GrantTable() (*GrantTable, error) {
	x.gntOnce.Do(func() { x.gnt, x.gntErr = x.setupGrants() })
	return x.gnt, x.gntErr
}

func (x *Xen) setupGrants() (*GrantTable, error) {
	v := gnttabSetVersion{Version: 1}
	if r := x.call(hypercallGrantTableOp, gnttabopSetVersion, unsafe.Pointer(&v), 1); r < 0 {
		return nil, hypercallErr("GNTTABOP_set_version", r)
	}
	q := gnttabQuerySize{Dom: DomIDSelf}
	if r := x.call(hypercallGrantTableOp, gnttabopQuerySize, unsafe.Pointer(&q), 1); r < 0 || q.Status != gnttabStatusOkay {
		if r >= 0 {
			r = -int64(api.EINVAL)
		}
		return nil, hypercallErr("GNTTABOP_query_size", r)
	}
	n := min(grantFrames, int(q.MaxNrFrames))
	if n == 0 {
		return nil, hypercallErr("GNTTABOP_query_size", -int64(api.ENOSPC))
	}
	base := alignPage(grantArea[:])
	for i := 0; i < n; i++ {
		pa, err := virtToPhys(uintptr(base) + uintptr(i*pageSize))
		if err != nil {
			return nil, err
		}
		m := addToPhysmap{Domid: DomIDSelf, Space: xenmapspaceGrantTable, Idx: uint64(i), Gpfn: pa >> 12}
		if r := x.call(hypercallMemoryOp, xenmemAddToPhysmap, unsafe.Pointer(&m), 0); r < 0 {
			return nil, hypercallErr("XENMEM_add_to_physmap", r)
		}
	}
	return NewGrantTable(unsafe.Slice((*GrantEntryV1)(base), n*grantEntriesPerPage)), nil
}
