package hypercall

import "unsafe"

// Xen's public ABI (xen/include/public, Debian's libxen-dev installs it in
// /usr/include/xen) for an x86-64 guest. Every number and every struct
// layout here is checked against those headers by TestLayoutAgainstC,
// which compiles _Static_asserts generated from these declarations; the C
// name of each is in its comment.

// Hypercall numbers (__HYPERVISOR_*, xen.h): the offset of a call's
// 32-byte stub in the hypercall page is number*32.
const (
	hypercallMemoryOp       = 12 // __HYPERVISOR_memory_op
	hypercallXenVersion     = 17 // __HYPERVISOR_xen_version
	hypercallGrantTableOp   = 20 // __HYPERVISOR_grant_table_op
	hypercallSchedOp        = 29 // __HYPERVISOR_sched_op
	hypercallEventChannelOp = 32 // __HYPERVISOR_event_channel_op
	hypercallHVMOp          = 34 // __HYPERVISOR_hvm_op
)

// CPUID (arch-x86/cpuid.h): Xen's leaves start at 0x40000000 or, when
// Xen also offers Viridian (Hyper-V) leaves there, at a later multiple of
// 0x100.
const (
	cpuidFirstLeaf    = 0x40000000 // XEN_CPUID_FIRST_LEAF
	cpuidSignatureB   = 0x566e6558 // XEN_CPUID_SIGNATURE_EBX "XenV"
	cpuidSignatureC   = 0x65584d4d // XEN_CPUID_SIGNATURE_ECX "MMXe"
	cpuidSignatureD   = 0x4d4d566e // XEN_CPUID_SIGNATURE_EDX "nVMM"
	cpuidDomIDPresent = 1 << 4     // XEN_HVM_CPUID_DOMID_PRESENT (EAX of Xen's leaf 4)
)

// XENVER_* (version.h).
const (
	xenverVersion      = 0  // XENVER_version
	xenverExtraversion = 1  // XENVER_extraversion
	extraversionLen    = 16 // XEN_EXTRAVERSION_LEN
)

// DomID is a Xen domain id (domid_t).
type DomID uint16

// DomIDSelf names the calling domain in hypercalls (DOMID_SELF).
const DomIDSelf DomID = 0x7ff0

// HVMParam indexes the HVM parameters (hvm/params.h) a guest reads with
// Xen.HVMParam.
type HVMParam uint32

// The HVM parameters a PVH guest uses.
const (
	HVMParamCallbackIRQ  HVMParam = 0  // HVM_PARAM_CALLBACK_IRQ
	HVMParamStorePFN     HVMParam = 1  // HVM_PARAM_STORE_PFN: the xenstore ring's frame
	HVMParamStoreEvtchn  HVMParam = 2  // HVM_PARAM_STORE_EVTCHN
	HVMParamConsolePFN   HVMParam = 17 // HVM_PARAM_CONSOLE_PFN: the PV console ring's frame
	HVMParamConsoleEvtch HVMParam = 18 // HVM_PARAM_CONSOLE_EVTCHN
)

const (
	hvmopSetParam = 0 // HVMOP_set_param
	hvmopGetParam = 1 // HVMOP_get_param
)

// hvmParam is struct xen_hvm_param (hvm/hvm_op.h).
type hvmParam struct {
	Domid DomID  // domid
	Pad   uint16 // pad
	Index uint32 // index
	Value uint64 // value
}

// Event channel operations (event_channel.h).
const (
	evtchnopBindInterdomain = 0 // EVTCHNOP_bind_interdomain
	evtchnopClose           = 3 // EVTCHNOP_close
	evtchnopSend            = 4 // EVTCHNOP_send
	evtchnopAllocUnbound    = 6 // EVTCHNOP_alloc_unbound
	evtchnopUnmask          = 9 // EVTCHNOP_unmask
)

// evtchnPort is the argument of EVTCHNOP_send, _close and _unmask (struct
// evtchn_send, evtchn_close, evtchn_unmask: one evtchn_port_t).
type evtchnPort struct {
	Port uint32 // port
}

// evtchnAllocUnbound is struct evtchn_alloc_unbound.
type evtchnAllocUnbound struct {
	Dom       DomID  // dom
	RemoteDom DomID  // remote_dom
	Port      uint32 // port
}

// evtchnBindInterdomain is struct evtchn_bind_interdomain.
type evtchnBindInterdomain struct {
	RemoteDom  DomID  // remote_dom
	_          uint16 // (padding)
	RemotePort uint32 // remote_port
	LocalPort  uint32 // local_port
}

// Scheduler operations (sched.h).
const (
	schedopYield    = 0 // SCHEDOP_yield
	schedopBlock    = 1 // SCHEDOP_block
	schedopShutdown = 2 // SCHEDOP_shutdown
	schedopPoll     = 3 // SCHEDOP_poll
)

// ShutdownReason tells the toolstack why a domain shut down (SHUTDOWN_*,
// sched.h); xl applies on_poweroff, on_reboot or on_crash accordingly.
type ShutdownReason uint32

// Shutdown reasons.
const (
	ShutdownPoweroff ShutdownReason = 0 // SHUTDOWN_poweroff
	ShutdownReboot   ShutdownReason = 1 // SHUTDOWN_reboot
	ShutdownSuspend  ShutdownReason = 2 // SHUTDOWN_suspend
	ShutdownCrash    ShutdownReason = 3 // SHUTDOWN_crash
	ShutdownWatchdog ShutdownReason = 4 // SHUTDOWN_watchdog
)

// schedShutdown is struct sched_shutdown.
type schedShutdown struct {
	Reason uint32 // reason
}

// schedPoll is struct sched_poll. Ports is a guest handle (a pointer to
// an array of evtchn_port_t); it is an unsafe.Pointer so that the
// garbage collector and stack copying see it.
type schedPoll struct {
	Ports   unsafe.Pointer // ports
	NrPorts uint32         // nr_ports
	_       uint32         // (padding)
	Timeout uint64         // timeout: absolute Xen system time in ns, 0 for none
}

// Memory operations (memory.h).
const (
	xenmemAddToPhysmap      = 7 // XENMEM_add_to_physmap
	xenmapspaceSharedInfo   = 0 // XENMAPSPACE_shared_info
	xenmapspaceGrantTable   = 1 // XENMAPSPACE_grant_table
	xenmapidxGrantTableStat = 0x80000000
)

// addToPhysmap is struct xen_add_to_physmap.
type addToPhysmap struct {
	Domid DomID  // domid
	Size  uint16 // size
	Space uint32 // space
	Idx   uint64 // idx
	Gpfn  uint64 // gpfn
}

// Grant table operations and flags (grant_table.h), version 1.
const (
	gnttabopQuerySize  = 6 // GNTTABOP_query_size
	gnttabopSetVersion = 8 // GNTTABOP_set_version

	gtfPermitAccess = 1 << 0 // GTF_permit_access
	gtfTypeMask     = 3 << 0 // GTF_type_mask
	gtfReadonly     = 1 << 2 // GTF_readonly
	gtfReading      = 1 << 3 // GTF_reading
	gtfWriting      = 1 << 4 // GTF_writing

	// GrantReservedEntries is how many grant references at the start of
	// the table belong to the toolstack (GNTTAB_NR_RESERVED_ENTRIES).
	GrantReservedEntries = 8
	// GrantRefConsole and GrantRefXenstore are the reserved references
	// through which the console and xenstore backends map the rings
	// (GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE).
	GrantRefConsole  = 0
	GrantRefXenstore = 1

	gnttabStatusOkay = 0 // GNTST_okay
)

// gnttabQuerySize is struct gnttab_query_size.
type gnttabQuerySize struct {
	Dom         DomID  // dom
	_           uint16 // (padding)
	NrFrames    uint32 // nr_frames
	MaxNrFrames uint32 // max_nr_frames
	Status      int16  // status
	_           uint16 // (padding)
}

// gnttabSetVersion is struct gnttab_set_version.
type gnttabSetVersion struct {
	Version uint32 // version
}

// GrantEntryV1 is one entry of a version 1 grant table (struct
// grant_entry_v1): the guest writes Domid and Frame, then Flags.
type GrantEntryV1 struct {
	Flags uint16 // flags: GTF_*
	Domid DomID  // domid: who may map the frame
	Frame uint32 // frame: the guest frame number granted
}

// grantEntriesPerPage is how many version 1 entries fill a page.
const grantEntriesPerPage = pageSize / int(unsafe.Sizeof(GrantEntryV1{}))

const pageSize = 4096

// VcpuTimeInfo is the pvclock record Xen keeps per vCPU (struct
// vcpu_time_info): system time (ns since Xen booted) is
// SystemTime + ((tsc - TSCTimestamp) << TSCShift) * TSCToSystemMul >> 32,
// valid while Version is even and unchanged.
type VcpuTimeInfo struct {
	Version        uint32   // version
	Pad0           uint32   // pad0
	TSCTimestamp   uint64   // tsc_timestamp
	SystemTime     uint64   // system_time
	TSCToSystemMul uint32   // tsc_to_system_mul
	TSCShift       int8     // tsc_shift
	Flags          uint8    // flags: XEN_PVCLOCK_*
	Pad1           [2]uint8 // pad1
}

const pvclockTSCStable = 1 << 0 // XEN_PVCLOCK_TSC_STABLE_BIT

// VcpuInfo is struct vcpu_info with x86-64's struct arch_vcpu_info.
type VcpuInfo struct {
	EvtchnUpcallPending uint8        // evtchn_upcall_pending
	EvtchnUpcallMask    uint8        // evtchn_upcall_mask
	_                   [6]uint8     // (padding)
	EvtchnPendingSel    uint64       // evtchn_pending_sel
	ArchCR2             uint64       // arch.cr2
	ArchPad             uint64       // arch.pad
	Time                VcpuTimeInfo // time
}

// legacyMaxVcpus is XEN_LEGACY_MAX_VCPUS for x86.
const legacyMaxVcpus = 32

// EventChannels is how many event channels the 2-level ABI has on a
// 64-bit guest: one bit per port in EvtchnPending and EvtchnMask.
const EventChannels = 64 * 64

// SharedInfo is the page Xen shares with the guest (struct shared_info,
// x86-64): per-vCPU pvclock and event state, the event channel bitmaps
// and the wall clock at system time 0.
type SharedInfo struct {
	VcpuInfo      [legacyMaxVcpus]VcpuInfo // vcpu_info
	EvtchnPending [64]uint64               // evtchn_pending
	EvtchnMask    [64]uint64               // evtchn_mask
	WcVersion     uint32                   // wc_version
	WcSec         uint32                   // wc_sec
	WcNsec        uint32                   // wc_nsec
	WcSecHi       uint32                   // wc_sec_hi
	// Arch is struct arch_shared_info; PV guests use it, PVH guests not.
	Arch struct {
		MaxPFN                uint64 // max_pfn
		PFNToMFNFrameListList uint64 // pfn_to_mfn_frame_list_list
		NMIReason             uint64 // nmi_reason
		P2MCR3                uint64 // p2m_cr3
		P2MVaddr              uint64 // p2m_vaddr
		P2MGeneration         uint64 // p2m_generation
	}
}

// ConsoleInterface is the PV console's shared page (struct
// xencons_interface, io/console.h): the guest produces into Out and
// consumes from In.
type ConsoleInterface struct {
	In      [1024]byte // in
	Out     [2048]byte // out
	InCons  uint32     // in_cons
	InProd  uint32     // in_prod
	OutCons uint32     // out_cons
	OutProd uint32     // out_prod
}

// XenstoreInterface is xenstore's shared page (struct
// xenstore_domain_interface, io/xs_wire.h): the guest produces requests
// into Req and consumes replies and watch events from Rsp.
type XenstoreInterface struct {
	Req            [xenstoreRingSize]byte // req
	Rsp            [xenstoreRingSize]byte // rsp
	ReqCons        uint32                 // req_cons
	ReqProd        uint32                 // req_prod
	RspCons        uint32                 // rsp_cons
	RspProd        uint32                 // rsp_prod
	ServerFeatures uint32                 // server_features
	Connection     uint32                 // connection
	Error          uint32                 // error
}

// Xenstore wire protocol (io/xs_wire.h).
const (
	xenstoreRingSize    = 1024 // XENSTORE_RING_SIZE
	xenstorePayloadMax  = 4096 // XENSTORE_PAYLOAD_MAX
	xenstoreAbsPathMax  = 3072 // XENSTORE_ABS_PATH_MAX
	xenstoreRelPathMax  = 2048 // XENSTORE_REL_PATH_MAX
	xenstoreConnected   = 0    // XENSTORE_CONNECTED
	xenstoreHeaderBytes = int(unsafe.Sizeof(xsdSockmsg{}))
)

// xsdSockmsg is the header of every xenstore message (struct xsd_sockmsg).
type xsdSockmsg struct {
	Type  uint32 // type: XS_*
	ReqID uint32 // req_id: echoed in the reply
	TxID  uint32 // tx_id: the transaction, 0 for none
	Len   uint32 // len: payload bytes that follow
}

// Xenstore message types (enum xsd_sockmsg_type).
const (
	xsControl          = 0  // XS_CONTROL
	xsDirectory        = 1  // XS_DIRECTORY
	xsRead             = 2  // XS_READ
	xsGetPerms         = 3  // XS_GET_PERMS
	xsWatch            = 4  // XS_WATCH
	xsUnwatch          = 5  // XS_UNWATCH
	xsTransactionStart = 6  // XS_TRANSACTION_START
	xsTransactionEnd   = 7  // XS_TRANSACTION_END
	xsIntroduce        = 8  // XS_INTRODUCE
	xsRelease          = 9  // XS_RELEASE
	xsGetDomainPath    = 10 // XS_GET_DOMAIN_PATH
	xsWrite            = 11 // XS_WRITE
	xsMkdir            = 12 // XS_MKDIR
	xsRm               = 13 // XS_RM
	xsSetPerms         = 14 // XS_SET_PERMS
	xsWatchEvent       = 15 // XS_WATCH_EVENT
	xsError            = 16 // XS_ERROR
	xsIsDomainIntro    = 17 // XS_IS_DOMAIN_INTRODUCED
	xsResume           = 18 // XS_RESUME
	xsSetTarget        = 19 // XS_SET_TARGET
	xsResetWatches     = 21 // XS_RESET_WATCHES
	xsDirectoryPart    = 22 // XS_DIRECTORY_PART
	xsTypeCount        = 23 // XS_TYPE_COUNT
)
