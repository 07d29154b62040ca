package hypercall

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// TestLayoutAgainstC checks every constant and struct layout of abi.go
// (and the errno tables of errors.go) against Xen's public headers as
// Debian's libxen-dev installs them: it generates a C file of
// _Static_asserts from the Go declarations, compiles it with gcc, and runs
// it for the checks C cannot make at compile time (the xsd_errors table).

type cField struct {
	name      string // C member, e.g. "arch.cr2"
	off, size uintptr
}

type cStruct struct {
	name   string // e.g. "struct shared_info"
	size   uintptr
	fields []cField
}

// f describes a Go field by its C name, offset and size.
func f(name string, off, size uintptr) cField { return cField{name, off, size} }

func layouts() []cStruct {
	var (
		hp  hvmParam
		ep  evtchnPort
		au  evtchnAllocUnbound
		bi  evtchnBindInterdomain
		ss  schedShutdown
		sp  schedPoll
		atp addToPhysmap
		qs  gnttabQuerySize
		sv  gnttabSetVersion
		ge  GrantEntryV1
		ti  VcpuTimeInfo
		vi  VcpuInfo
		si  SharedInfo
		ci  ConsoleInterface
		xi  XenstoreInterface
		sm  xsdSockmsg
	)
	return []cStruct{
		{"struct xen_hvm_param", unsafe.Sizeof(hp), []cField{
			f("domid", unsafe.Offsetof(hp.Domid), unsafe.Sizeof(hp.Domid)),
			f("pad", unsafe.Offsetof(hp.Pad), unsafe.Sizeof(hp.Pad)),
			f("index", unsafe.Offsetof(hp.Index), unsafe.Sizeof(hp.Index)),
			f("value", unsafe.Offsetof(hp.Value), unsafe.Sizeof(hp.Value)),
		}},
		{"struct evtchn_send", unsafe.Sizeof(ep), []cField{f("port", unsafe.Offsetof(ep.Port), unsafe.Sizeof(ep.Port))}},
		{"struct evtchn_close", unsafe.Sizeof(ep), []cField{f("port", unsafe.Offsetof(ep.Port), unsafe.Sizeof(ep.Port))}},
		{"struct evtchn_unmask", unsafe.Sizeof(ep), []cField{f("port", unsafe.Offsetof(ep.Port), unsafe.Sizeof(ep.Port))}},
		{"struct evtchn_alloc_unbound", unsafe.Sizeof(au), []cField{
			f("dom", unsafe.Offsetof(au.Dom), unsafe.Sizeof(au.Dom)),
			f("remote_dom", unsafe.Offsetof(au.RemoteDom), unsafe.Sizeof(au.RemoteDom)),
			f("port", unsafe.Offsetof(au.Port), unsafe.Sizeof(au.Port)),
		}},
		{"struct evtchn_bind_interdomain", unsafe.Sizeof(bi), []cField{
			f("remote_dom", unsafe.Offsetof(bi.RemoteDom), unsafe.Sizeof(bi.RemoteDom)),
			f("remote_port", unsafe.Offsetof(bi.RemotePort), unsafe.Sizeof(bi.RemotePort)),
			f("local_port", unsafe.Offsetof(bi.LocalPort), unsafe.Sizeof(bi.LocalPort)),
		}},
		{"struct sched_shutdown", unsafe.Sizeof(ss), []cField{f("reason", unsafe.Offsetof(ss.Reason), unsafe.Sizeof(ss.Reason))}},
		{"struct sched_poll", unsafe.Sizeof(sp), []cField{
			f("ports", unsafe.Offsetof(sp.Ports), unsafe.Sizeof(sp.Ports)),
			f("nr_ports", unsafe.Offsetof(sp.NrPorts), unsafe.Sizeof(sp.NrPorts)),
			f("timeout", unsafe.Offsetof(sp.Timeout), unsafe.Sizeof(sp.Timeout)),
		}},
		{"struct xen_add_to_physmap", unsafe.Sizeof(atp), []cField{
			f("domid", unsafe.Offsetof(atp.Domid), unsafe.Sizeof(atp.Domid)),
			f("size", unsafe.Offsetof(atp.Size), unsafe.Sizeof(atp.Size)),
			f("space", unsafe.Offsetof(atp.Space), unsafe.Sizeof(atp.Space)),
			f("idx", unsafe.Offsetof(atp.Idx), unsafe.Sizeof(atp.Idx)),
			f("gpfn", unsafe.Offsetof(atp.Gpfn), unsafe.Sizeof(atp.Gpfn)),
		}},
		{"struct gnttab_query_size", unsafe.Sizeof(qs), []cField{
			f("dom", unsafe.Offsetof(qs.Dom), unsafe.Sizeof(qs.Dom)),
			f("nr_frames", unsafe.Offsetof(qs.NrFrames), unsafe.Sizeof(qs.NrFrames)),
			f("max_nr_frames", unsafe.Offsetof(qs.MaxNrFrames), unsafe.Sizeof(qs.MaxNrFrames)),
			f("status", unsafe.Offsetof(qs.Status), unsafe.Sizeof(qs.Status)),
		}},
		{"struct gnttab_set_version", unsafe.Sizeof(sv), []cField{f("version", unsafe.Offsetof(sv.Version), unsafe.Sizeof(sv.Version))}},
		{"struct grant_entry_v1", unsafe.Sizeof(ge), []cField{
			f("flags", unsafe.Offsetof(ge.Flags), unsafe.Sizeof(ge.Flags)),
			f("domid", unsafe.Offsetof(ge.Domid), unsafe.Sizeof(ge.Domid)),
			f("frame", unsafe.Offsetof(ge.Frame), unsafe.Sizeof(ge.Frame)),
		}},
		{"struct vcpu_time_info", unsafe.Sizeof(ti), []cField{
			f("version", unsafe.Offsetof(ti.Version), unsafe.Sizeof(ti.Version)),
			f("pad0", unsafe.Offsetof(ti.Pad0), unsafe.Sizeof(ti.Pad0)),
			f("tsc_timestamp", unsafe.Offsetof(ti.TSCTimestamp), unsafe.Sizeof(ti.TSCTimestamp)),
			f("system_time", unsafe.Offsetof(ti.SystemTime), unsafe.Sizeof(ti.SystemTime)),
			f("tsc_to_system_mul", unsafe.Offsetof(ti.TSCToSystemMul), unsafe.Sizeof(ti.TSCToSystemMul)),
			f("tsc_shift", unsafe.Offsetof(ti.TSCShift), unsafe.Sizeof(ti.TSCShift)),
			f("flags", unsafe.Offsetof(ti.Flags), unsafe.Sizeof(ti.Flags)),
			f("pad1", unsafe.Offsetof(ti.Pad1), unsafe.Sizeof(ti.Pad1)),
		}},
		{"struct vcpu_info", unsafe.Sizeof(vi), []cField{
			f("evtchn_upcall_pending", unsafe.Offsetof(vi.EvtchnUpcallPending), unsafe.Sizeof(vi.EvtchnUpcallPending)),
			f("evtchn_upcall_mask", unsafe.Offsetof(vi.EvtchnUpcallMask), unsafe.Sizeof(vi.EvtchnUpcallMask)),
			f("evtchn_pending_sel", unsafe.Offsetof(vi.EvtchnPendingSel), unsafe.Sizeof(vi.EvtchnPendingSel)),
			f("arch.cr2", unsafe.Offsetof(vi.ArchCR2), unsafe.Sizeof(vi.ArchCR2)),
			f("arch.pad", unsafe.Offsetof(vi.ArchPad), unsafe.Sizeof(vi.ArchPad)),
			f("time", unsafe.Offsetof(vi.Time), unsafe.Sizeof(vi.Time)),
		}},
		{"struct shared_info", unsafe.Sizeof(si), []cField{
			f("vcpu_info", unsafe.Offsetof(si.VcpuInfo), unsafe.Sizeof(si.VcpuInfo)),
			f("evtchn_pending", unsafe.Offsetof(si.EvtchnPending), unsafe.Sizeof(si.EvtchnPending)),
			f("evtchn_mask", unsafe.Offsetof(si.EvtchnMask), unsafe.Sizeof(si.EvtchnMask)),
			f("wc_version", unsafe.Offsetof(si.WcVersion), unsafe.Sizeof(si.WcVersion)),
			f("wc_sec", unsafe.Offsetof(si.WcSec), unsafe.Sizeof(si.WcSec)),
			f("wc_nsec", unsafe.Offsetof(si.WcNsec), unsafe.Sizeof(si.WcNsec)),
			f("wc_sec_hi", unsafe.Offsetof(si.WcSecHi), unsafe.Sizeof(si.WcSecHi)),
			f("arch", unsafe.Offsetof(si.Arch), unsafe.Sizeof(si.Arch)),
			f("arch.max_pfn", unsafe.Offsetof(si.Arch)+unsafe.Offsetof(si.Arch.MaxPFN), unsafe.Sizeof(si.Arch.MaxPFN)),
			f("arch.pfn_to_mfn_frame_list_list", unsafe.Offsetof(si.Arch)+unsafe.Offsetof(si.Arch.PFNToMFNFrameListList), unsafe.Sizeof(si.Arch.PFNToMFNFrameListList)),
			f("arch.nmi_reason", unsafe.Offsetof(si.Arch)+unsafe.Offsetof(si.Arch.NMIReason), unsafe.Sizeof(si.Arch.NMIReason)),
			f("arch.p2m_cr3", unsafe.Offsetof(si.Arch)+unsafe.Offsetof(si.Arch.P2MCR3), unsafe.Sizeof(si.Arch.P2MCR3)),
			f("arch.p2m_vaddr", unsafe.Offsetof(si.Arch)+unsafe.Offsetof(si.Arch.P2MVaddr), unsafe.Sizeof(si.Arch.P2MVaddr)),
			f("arch.p2m_generation", unsafe.Offsetof(si.Arch)+unsafe.Offsetof(si.Arch.P2MGeneration), unsafe.Sizeof(si.Arch.P2MGeneration)),
		}},
		{"struct xencons_interface", unsafe.Sizeof(ci), []cField{
			f("in", unsafe.Offsetof(ci.In), unsafe.Sizeof(ci.In)),
			f("out", unsafe.Offsetof(ci.Out), unsafe.Sizeof(ci.Out)),
			f("in_cons", unsafe.Offsetof(ci.InCons), unsafe.Sizeof(ci.InCons)),
			f("in_prod", unsafe.Offsetof(ci.InProd), unsafe.Sizeof(ci.InProd)),
			f("out_cons", unsafe.Offsetof(ci.OutCons), unsafe.Sizeof(ci.OutCons)),
			f("out_prod", unsafe.Offsetof(ci.OutProd), unsafe.Sizeof(ci.OutProd)),
		}},
		{"struct xenstore_domain_interface", unsafe.Sizeof(xi), []cField{
			f("req", unsafe.Offsetof(xi.Req), unsafe.Sizeof(xi.Req)),
			f("rsp", unsafe.Offsetof(xi.Rsp), unsafe.Sizeof(xi.Rsp)),
			f("req_cons", unsafe.Offsetof(xi.ReqCons), unsafe.Sizeof(xi.ReqCons)),
			f("req_prod", unsafe.Offsetof(xi.ReqProd), unsafe.Sizeof(xi.ReqProd)),
			f("rsp_cons", unsafe.Offsetof(xi.RspCons), unsafe.Sizeof(xi.RspCons)),
			f("rsp_prod", unsafe.Offsetof(xi.RspProd), unsafe.Sizeof(xi.RspProd)),
			f("server_features", unsafe.Offsetof(xi.ServerFeatures), unsafe.Sizeof(xi.ServerFeatures)),
			f("connection", unsafe.Offsetof(xi.Connection), unsafe.Sizeof(xi.Connection)),
			f("error", unsafe.Offsetof(xi.Error), unsafe.Sizeof(xi.Error)),
		}},
		{"struct xsd_sockmsg", unsafe.Sizeof(sm), []cField{
			f("type", unsafe.Offsetof(sm.Type), unsafe.Sizeof(sm.Type)),
			f("req_id", unsafe.Offsetof(sm.ReqID), unsafe.Sizeof(sm.ReqID)),
			f("tx_id", unsafe.Offsetof(sm.TxID), unsafe.Sizeof(sm.TxID)),
			f("len", unsafe.Offsetof(sm.Len), unsafe.Sizeof(sm.Len)),
		}},
		{"domid_t", unsafe.Sizeof(DomID(0)), nil},
		{"evtchn_port_t", unsafe.Sizeof(uint32(0)), nil},
		{"xen_extraversion_t", extraversionLen, nil},
	}
}

// constants pairs each C constant with the Go value used for it.
func constants() []struct {
	c string
	v int64
} {
	return []struct {
		c string
		v int64
	}{
		{"__HYPERVISOR_memory_op", hypercallMemoryOp},
		{"__HYPERVISOR_xen_version", hypercallXenVersion},
		{"__HYPERVISOR_grant_table_op", hypercallGrantTableOp},
		{"__HYPERVISOR_sched_op", hypercallSchedOp},
		{"__HYPERVISOR_event_channel_op", hypercallEventChannelOp},
		{"__HYPERVISOR_hvm_op", hypercallHVMOp},
		{"XEN_CPUID_FIRST_LEAF", cpuidFirstLeaf},
		{"XEN_CPUID_SIGNATURE_EBX", cpuidSignatureB},
		{"XEN_CPUID_SIGNATURE_ECX", cpuidSignatureC},
		{"XEN_CPUID_SIGNATURE_EDX", cpuidSignatureD},
		{"XEN_HVM_CPUID_DOMID_PRESENT", cpuidDomIDPresent},
		{"XEN_CPUID_LEAF(4) - XEN_CPUID_FIRST_LEAF", 4}, // the HVM leaf identify reads
		{"XENVER_version", xenverVersion},
		{"XENVER_extraversion", xenverExtraversion},
		{"XEN_EXTRAVERSION_LEN", extraversionLen},
		{"DOMID_SELF", int64(DomIDSelf)},
		{"HVM_PARAM_CALLBACK_IRQ", int64(HVMParamCallbackIRQ)},
		{"HVM_PARAM_STORE_PFN", int64(HVMParamStorePFN)},
		{"HVM_PARAM_STORE_EVTCHN", int64(HVMParamStoreEvtchn)},
		{"HVM_PARAM_CONSOLE_PFN", int64(HVMParamConsolePFN)},
		{"HVM_PARAM_CONSOLE_EVTCHN", int64(HVMParamConsoleEvtch)},
		{"HVMOP_set_param", hvmopSetParam},
		{"HVMOP_get_param", hvmopGetParam},
		{"EVTCHNOP_bind_interdomain", evtchnopBindInterdomain},
		{"EVTCHNOP_close", evtchnopClose},
		{"EVTCHNOP_send", evtchnopSend},
		{"EVTCHNOP_alloc_unbound", evtchnopAllocUnbound},
		{"EVTCHNOP_unmask", evtchnopUnmask},
		{"SCHEDOP_yield", schedopYield},
		{"SCHEDOP_block", schedopBlock},
		{"SCHEDOP_shutdown", schedopShutdown},
		{"SCHEDOP_poll", schedopPoll},
		{"SHUTDOWN_poweroff", int64(ShutdownPoweroff)},
		{"SHUTDOWN_reboot", int64(ShutdownReboot)},
		{"SHUTDOWN_suspend", int64(ShutdownSuspend)},
		{"SHUTDOWN_crash", int64(ShutdownCrash)},
		{"SHUTDOWN_watchdog", int64(ShutdownWatchdog)},
		{"XENMEM_add_to_physmap", xenmemAddToPhysmap},
		{"XENMAPSPACE_shared_info", xenmapspaceSharedInfo},
		{"XENMAPSPACE_grant_table", xenmapspaceGrantTable},
		{"XENMAPIDX_grant_table_status", xenmapidxGrantTableStat},
		{"GNTTABOP_query_size", gnttabopQuerySize},
		{"GNTTABOP_set_version", gnttabopSetVersion},
		{"GTF_permit_access", gtfPermitAccess},
		{"GTF_type_mask", gtfTypeMask},
		{"GTF_readonly", gtfReadonly},
		{"GTF_reading", gtfReading},
		{"GTF_writing", gtfWriting},
		{"GNTTAB_NR_RESERVED_ENTRIES", GrantReservedEntries},
		{"GNTTAB_RESERVED_CONSOLE", GrantRefConsole},
		{"GNTTAB_RESERVED_XENSTORE", GrantRefXenstore},
		{"GNTST_okay", gnttabStatusOkay},
		{"XEN_PVCLOCK_TSC_STABLE_BIT", pvclockTSCStable},
		{"XEN_LEGACY_MAX_VCPUS", legacyMaxVcpus},
		{"sizeof(xen_ulong_t) * 8 * sizeof(xen_ulong_t) * 8", EventChannels},
		{"XENSTORE_RING_SIZE", xenstoreRingSize},
		{"XENSTORE_PAYLOAD_MAX", xenstorePayloadMax},
		{"XENSTORE_ABS_PATH_MAX", xenstoreAbsPathMax},
		{"XENSTORE_REL_PATH_MAX", xenstoreRelPathMax},
		{"XENSTORE_CONNECTED", xenstoreConnected},
		{"XS_CONTROL", xsControl},
		{"XS_DIRECTORY", xsDirectory},
		{"XS_READ", xsRead},
		{"XS_GET_PERMS", xsGetPerms},
		{"XS_WATCH", xsWatch},
		{"XS_UNWATCH", xsUnwatch},
		{"XS_TRANSACTION_START", xsTransactionStart},
		{"XS_TRANSACTION_END", xsTransactionEnd},
		{"XS_INTRODUCE", xsIntroduce},
		{"XS_RELEASE", xsRelease},
		{"XS_GET_DOMAIN_PATH", xsGetDomainPath},
		{"XS_WRITE", xsWrite},
		{"XS_MKDIR", xsMkdir},
		{"XS_RM", xsRm},
		{"XS_SET_PERMS", xsSetPerms},
		{"XS_WATCH_EVENT", xsWatchEvent},
		{"XS_ERROR", xsError},
		{"XS_IS_DOMAIN_INTRODUCED", xsIsDomainIntro},
		{"XS_RESUME", xsResume},
		{"XS_SET_TARGET", xsSetTarget},
		{"XS_RESET_WATCHES", xsResetWatches},
		{"XS_DIRECTORY_PART", xsDirectoryPart},
		{"XS_TYPE_COUNT", xsTypeCount},
		{"PAGE_SIZE_4K", pageSize},
	}
}

func TestLayoutAgainstC(t *testing.T) {
	if _, err := os.Stat("/usr/include/xen/xen.h"); err != nil {
		t.Skip("hypercall: Xen's public headers are not installed (/usr/include/xen/xen.h): apt-get install libxen-dev")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("hypercall: gcc not found: apt-get install gcc")
	}
	var c strings.Builder
	c.WriteString(`/* Generated by hypercall's TestLayoutAgainstC from the Go declarations. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#define __XEN_INTERFACE_VERSION__ 0x00040e00 /* the latest, as a new guest */
#include <xen/xen.h>
#include <xen/version.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/grant_table.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_op.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>
#include <xen/arch-x86/cpuid.h>
#define PAGE_SIZE_4K 4096
#define CHECK(cond, msg) _Static_assert(cond, msg)
`)
	checks := 0
	for _, s := range layouts() {
		fmt.Fprintf(&c, "CHECK(sizeof(%s) == %d, \"sizeof(%s) is %d in Go\");\n", s.name, s.size, s.name, s.size)
		checks++
		for _, fd := range s.fields {
			fmt.Fprintf(&c, "CHECK(offsetof(%s, %s) == %d, \"%s.%s is at %d in Go\");\n", s.name, fd.name, fd.off, s.name, fd.name, fd.off)
			fmt.Fprintf(&c, "CHECK(sizeof(((%s *)0)->%s) == %d, \"%s.%s has %d bytes in Go\");\n", s.name, fd.name, fd.size, s.name, fd.name, fd.size)
			checks += 2
		}
	}
	for _, k := range constants() {
		fmt.Fprintf(&c, "CHECK((%s) == %dLL, \"%s is %d in Go\");\n", k.c, k.v, strings.ReplaceAll(k.c, `"`, `'`), k.v)
		checks++
	}
	// Hypercalls fail with -XEN_E*; Go reads them as api.Errno, whose
	// numbers must be Xen's. errno.h is an X-macro list: include it again
	// with an XEN_ERRNO that asserts each guest-visible entry against the
	// api value of the same name, and counts them.
	for e := api.Errno(1); e < 512; e++ {
		if n := e.Name(); !strings.HasPrefix(n, "errno ") {
			fmt.Fprintf(&c, "#define GO_%s %d\n", n, e)
		}
	}
	fmt.Fprintf(&c, "#define GO_EWOULDBLOCK %d\n#define GO_EDEADLOCK %d\n", api.EWOULDBLOCK, api.EDEADLOCK)
	c.WriteString(`#define XEN_ERRNO(name, value) CHECK((value) == GO_##name, "XEN_" #name " differs from api." #name);
#include <xen/errno.h>
#define XEN_ERRNO(name, value) value,
static const int xen_errnos[] = {
#include <xen/errno.h>
};
`)
	// xsd_errors is a static array: checked at run time, both ways.
	c.WriteString("static const struct { const char *name; int errnum; } go_errors[] = {\n")
	for _, e := range xenstoreErrors {
		fmt.Fprintf(&c, "\t{ %q, %d },\n", e.name, e.errno)
	}
	c.WriteString(`};
int main(void)
{
	int bad = 0;
	if (sizeof xen_errnos / sizeof xen_errnos[0] < 40) {
		printf("only %zu errno values in xen/errno.h\n", sizeof xen_errnos / sizeof xen_errnos[0]);
		bad = 1;
	}
	size_t nc = sizeof xsd_errors / sizeof xsd_errors[0], ng = sizeof go_errors / sizeof go_errors[0];
	if (nc != ng) {
		printf("xsd_errors has %zu entries, Go %zu\n", nc, ng);
		bad = 1;
	}
	for (size_t i = 0; i < nc && i < ng; i++) {
		if (strcmp(xsd_errors[i].errstring, go_errors[i].name) || xsd_errors[i].errnum != go_errors[i].errnum) {
			printf("xsd_errors[%zu] = {%d, %s}, Go {%d, %s}\n", i, xsd_errors[i].errnum,
			       xsd_errors[i].errstring, go_errors[i].errnum, go_errors[i].name);
			bad = 1;
		}
	}
	return bad;
}
`)
	dir := t.TempDir()
	src := filepath.Join(dir, "layout.c")
	if err := os.WriteFile(src, []byte(c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "layout")
	if out, err := exec.Command(gcc, "-std=gnu11", "-Wall", "-Werror", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc rejected the layout checks (the Go declarations differ from /usr/include/xen):\n%s\nsource: %s", out, src)
	}
	if out, err := exec.Command(bin).CombinedOutput(); err != nil {
		t.Fatalf("xenstore error table differs from xsd_errors: %v\n%s", err, out)
	}
	t.Logf("%d compile-time checks and %d xsd_errors entries agree with /usr/include/xen", checks, len(xenstoreErrors))
}

// TestShimXenInfo checks the Go view of the shim's struct xen_info (the
// auxiliary vector entry through which the shim says where shared_info
// is and counts event upcalls) and of its private system call number
// against build/shim/src/shim.h.
func TestShimXenInfo(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("hypercall: gcc not found: apt-get install gcc")
	}
	hdr, err := filepath.Abs("../build/shim/src/shim.h")
	if err != nil {
		t.Fatal(err)
	}
	var si shimXenInfo
	var c strings.Builder
	fmt.Fprintf(&c, "#include %q\n#define offsetof(t, f) __builtin_offsetof(t, f)\n", hdr)
	for _, k := range []struct {
		expr string
		v    uint64
	}{
		{"AT_ANYKERNEL_XEN", atAnykernelXen},
		{"XEN_INFO_MAGIC", xenInfoMagic},
		{"sizeof(struct xen_info)", uint64(unsafe.Sizeof(si))},
		{"offsetof(struct xen_info, magic)", uint64(unsafe.Offsetof(si.Magic))},
		{"offsetof(struct xen_info, size)", uint64(unsafe.Offsetof(si.Size))},
		{"offsetof(struct xen_info, cpuid_base)", uint64(unsafe.Offsetof(si.CPUIDBase))},
		{"offsetof(struct xen_info, hypercall_page)", uint64(unsafe.Offsetof(si.HypercallPage))},
		{"offsetof(struct xen_info, shared_info)", uint64(unsafe.Offsetof(si.SharedInfo))},
		{"offsetof(struct xen_info, upcall_vector)", uint64(unsafe.Offsetof(si.UpcallVector))},
		{"offsetof(struct xen_info, upcall_vector)", shimXenInfoV1Size},
		{"offsetof(struct xen_info, upcalls)", uint64(unsafe.Offsetof(si.Upcalls))},
		{"offsetof(struct xen_info, evtchn_blocks)", uint64(unsafe.Offsetof(si.EvtchnBlocks))},
		{"offsetof(struct xen_info, idle_ns)", uint64(unsafe.Offsetof(si.IdleNs))},
		{"SYS_ANYKERNEL_EVTCHN_WAIT", sysAnykernelEvtchnWait},
	} {
		fmt.Fprintf(&c, "_Static_assert((%s) == %#xUL, \"%s is %#x in Go\");\n", k.expr, k.v, k.expr, k.v)
	}
	src := filepath.Join(t.TempDir(), "xeninfo.c")
	if err := os.WriteFile(src, []byte(c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-std=gnu11", "-ffreestanding", "-fsyntax-only", src).CombinedOutput(); err != nil {
		t.Fatalf("the shim's struct xen_info differs from shimXenInfo:\n%s", out)
	}
}
