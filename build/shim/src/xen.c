/*
 * xen.c: what a PVH domU needs from Xen: the hypercall page, the PV
 * console ring, pvclock and the wall clock from shared_info, event
 * channel upcalls, and SCHEDOP_shutdown. Layouts follow Xen's public
 * headers (xen.h, hvm/params.h, io/console.h, arch-x86/cpuid.h).
 */
#include "shim.h"

#define HYPERVISOR_memory_op 12
#define HYPERVISOR_sched_op 29
#define HYPERVISOR_event_channel_op 32
#define HYPERVISOR_hvm_op 34
#define DOMID_SELF 0x7ff0

static u32 xen_base;
static u8 hcall_page[4096] __attribute__((aligned(4096)));
static int hcall_ready;

struct xencons_interface {
	char in[1024];
	char out[2048];
	u32 in_cons, in_prod, out_cons, out_prod;
};
static volatile struct xencons_interface *ring;
static u32 cons_evtchn;
static volatile u8 *shinfo;
struct xen_info xen_info = { .magic = XEN_INFO_MAGIC, .size = sizeof(struct xen_info) };

int xen_detect(void)
{
	u32 r[4];
	for (u32 base = 0x40000000; base < 0x40010000; base += 0x100) {
		cpuid(base, 0, r);
		if (r[1] == 0x566e6558 && r[2] == 0x65584d4d && r[3] == 0x4d4d566e && r[0] >= base + 2) {
			xen_base = base;
			return 1;
		}
	}
	return 0;
}

static s64 hypercall(int op, u64 a1, u64 a2)
{
	register u64 rdi __asm__("rdi") = a1;
	register u64 rsi __asm__("rsi") = a2;
	s64 ret;
	__asm__ volatile("call *%[entry]"
			 : "=a"(ret), "+r"(rdi), "+r"(rsi)
			 : [entry] "r"(hcall_page + op * 32)
			 : "memory", "rcx", "rdx", "r8", "r10", "r11");
	return ret;
}

static u64 hvm_get_param(u32 idx)
{
	struct { u16 domid, pad; u32 index; u64 value; } p = { DOMID_SELF, 0, idx, 0 };
	if (hypercall(HYPERVISOR_hvm_op, 1 /* HVMOP_get_param */, (u64)&p) < 0)
		return 0;
	return p.value;
}

static s64 hvm_set_param(u32 idx, u64 value)
{
	struct { u16 domid, pad; u32 index; u64 value; } p = { DOMID_SELF, 0, idx, value };
	return hypercall(HYPERVISOR_hvm_op, 0 /* HVMOP_set_param */, (u64)&p);
}

static void notify(void)
{
	u32 port = cons_evtchn;
	hypercall(HYPERVISOR_event_channel_op, 4 /* EVTCHNOP_send */, (u64)&port);
}

static void yield(void)
{
	hypercall(HYPERVISOR_sched_op, 0 /* SCHEDOP_yield */, 0);
}

/* vcpu_info[0] in shared_info (xen.h): the fields the upcall handler uses. */
#define VI_UPCALL_PENDING 0 /* u8 evtchn_upcall_pending */
#define VI_UPCALL_MASK 1    /* u8 evtchn_upcall_mask */
#define VI_PENDING_SEL 8    /* u64 evtchn_pending_sel */

/*
 * upcall_init asks Xen to raise XEN_UPCALL_VEC for events (the IDT already
 * routes every vector to trap(), which calls xen_upcall for this one). An
 * HVM vCPU takes the upcall only with interrupts on, which in the shim is
 * the program's code and the idle hlt, both places that can take it;
 * evtchn_upcall_mask (what PV guests gate on) stays set until the handler
 * is in place, for any Xen that looks at it.
 */
static void upcall_init(void)
{
	shinfo[VI_UPCALL_MASK] = 1;
	s64 r = hvm_set_param(0 /* HVM_PARAM_CALLBACK_IRQ */, (2UL << 56) /* HVM_PARAM_CALLBACK_TYPE_VECTOR */ | XEN_UPCALL_VEC);
	if (r < 0) {
		/* Wait then falls back to SCHEDOP_poll in the program. */
		kprintf("anykernel: no event channel upcalls (HVM_PARAM_CALLBACK_IRQ: %ld)\n", r);
		return;
	}
	xen_info.upcall_vector = XEN_UPCALL_VEC;
	barrier();
	shinfo[VI_UPCALL_MASK] = 0;
}

void xen_init(void)
{
	u32 r[4];
	cpuid(xen_base + 2, 0, r);
	wrmsr(r[1], (u64)hcall_page);
	hcall_ready = 1;
	u64 pfn = hvm_get_param(17); /* HVM_PARAM_CONSOLE_PFN */
	cons_evtchn = hvm_get_param(18);
	if (pfn && pfn < (0x100000000UL >> 12))
		ring = (struct xencons_interface *)(pfn << 12);
	/* Map shared_info over a pool page for pvclock, the wall clock and the
	 * event channel upcalls. */
	u64 page = page_alloc();
	struct { u16 domid, size; u32 space; u64 idx, gpfn; } xatp = { DOMID_SELF, 0, 0 /* shared_info */, 0, page >> 12 };
	if (hypercall(HYPERVISOR_memory_op, 7 /* XENMEM_add_to_physmap */, (u64)&xatp) == 0)
		shinfo = (volatile u8 *)page;
	else
		kprintf("anykernel: cannot map shared_info; using the TSC\n");
	xen_info.cpuid_base = xen_base;
	xen_info.hypercall_page = (u64)hcall_page;
	xen_info.shared_info = (u64)shinfo;
	if (shinfo)
		upcall_init();
}

static char evtchn_key; /* threads in SYS_ANYKERNEL_EVTCHN_WAIT block on this */
int evtchn_waiters;

/* xen_upcall runs with interrupts off, from trap(). */
void xen_upcall(void)
{
	if (!shinfo)
		return;
	shinfo[VI_UPCALL_PENDING] = 0;
	/* Xen raises the upcall only when it sets a selector bit that was
	 * clear: clear them all, so that the next event on any port raises it
	 * again. The ports' own pending bits are the program's to take. */
	__atomic_exchange_n((volatile u64 *)(shinfo + VI_PENDING_SEL), 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&xen_info.upcalls, xen_info.upcalls + 1, __ATOMIC_SEQ_CST);
	wake(&evtchn_key, 1 << 30);
}

s64 xen_evtchn_wait(u64 seq, u64 timeout)
{
	if (!xen_info.upcall_vector)
		return -38; /* ENOSYS */
	/* System calls run with interrupts off: no upcall can slip in between
	 * this check and block(). */
	if (__atomic_load_n(&xen_info.upcalls, __ATOMIC_SEQ_CST) != seq)
		return 0;
	if (timeout == 0)
		return -110; /* ETIMEDOUT */
	u64 now = now_ns();
	u64 deadline = timeout >= INF - now ? INF : now + timeout;
	s64 r = 0;
	xen_info.evtchn_blocks++;
	evtchn_waiters++;
	while (__atomic_load_n(&xen_info.upcalls, __ATOMIC_SEQ_CST) == seq) {
		if (block(&evtchn_key, deadline) < 0) {
			if (__atomic_load_n(&xen_info.upcalls, __ATOMIC_SEQ_CST) == seq)
				r = -110;
			break;
		}
	}
	evtchn_waiters--;
	return r;
}

/* The TSC frequency Xen tells the guest (leaf 4, sub-leaf 0, ECX kHz). */
u64 xen_tsc_khz(void)
{
	u32 r[4];
	cpuid(xen_base + 3, 0, r);
	return r[2];
}

int xen_clock(u64 *mono, u64 *wall)
{
	if (!shinfo)
		return 0;
	volatile u8 *t = shinfo + 32; /* vcpu_info[0].time */
	u32 ver, mul;
	u64 tsc_ts, sys;
	s8 shift;
	do {
		ver = *(volatile u32 *)t;
		__asm__ volatile("lfence" ::: "memory");
		tsc_ts = *(volatile u64 *)(t + 8);
		sys = *(volatile u64 *)(t + 16);
		mul = *(volatile u32 *)(t + 24);
		shift = *(volatile s8 *)(t + 28);
		__asm__ volatile("lfence" ::: "memory");
	} while ((ver & 1) || ver != *(volatile u32 *)t);
	u64 d = rdtsc() - tsc_ts;
	d = shift < 0 ? d >> -shift : d << shift;
	*mono = sys + (u64)(((unsigned __int128)d * mul) >> 32);
	u32 wver, sec, nsec, sechi;
	do {
		wver = *(volatile u32 *)(shinfo + 3072);
		__asm__ volatile("lfence" ::: "memory");
		sec = *(volatile u32 *)(shinfo + 3076);
		nsec = *(volatile u32 *)(shinfo + 3080);
		sechi = *(volatile u32 *)(shinfo + 3084);
		__asm__ volatile("lfence" ::: "memory");
	} while ((wver & 1) || wver != *(volatile u32 *)(shinfo + 3072));
	*wall = (((u64)sechi << 32) | sec) * 1000000000UL + nsec + *mono;
	return 1;
}

void xen_console_write(const char *s, size_t n)
{
	if (!ring || !hcall_ready) {
		for (size_t i = 0; i < n; i++)
			outb(0xe9, s[i]);
		return;
	}
	while (n) {
		u32 cons = ring->out_cons, prod = ring->out_prod;
		mb();
		u32 space = sizeof ring->out - (prod - cons);
		if (!space) {
			/* Full: let xenconsoled in dom0 drain it. */
			notify();
			yield();
			continue;
		}
		while (space && n) {
			ring->out[prod++ & (sizeof ring->out - 1)] = *s++;
			space--;
			n--;
		}
		__asm__ volatile("sfence" ::: "memory");
		ring->out_prod = prod;
	}
	notify();
}

void xen_console_flush(void)
{
	if (!ring || !hcall_ready)
		return;
	notify();
	for (int i = 0; i < 2000 && ring->out_cons != ring->out_prod; i++)
		yield();
}

void xen_shutdown(int reason)
{
	if (hcall_ready) {
		u32 r = reason;
		hypercall(HYPERVISOR_sched_op, 2 /* SCHEDOP_shutdown */, (u64)&r);
	}
	for (;;)
		__asm__ volatile("cli; hlt");
}
