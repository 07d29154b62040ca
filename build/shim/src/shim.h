/*
 * shim.h: shared declarations of the boot shim. The shim is a tiny
 * single-CPU kernel that runs one static Linux/amd64 program (a stock Go
 * binary) in ring 0 and answers the Linux system calls it makes.
 */
#ifndef SHIM_H
#define SHIM_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long s64;
typedef int s32;
typedef signed char s8;
typedef unsigned long size_t;

#define NULL ((void *)0)
#define PAGE 4096UL
#define ROUNDUP(x, a) (((x) + (a) - 1) & ~((u64)(a) - 1))
#define ROUNDDOWN(x, a) ((x) & ~((u64)(a) - 1))
#define INF (~0UL)

/* Trap frame, see boot.S. vec is -1 for a system call. */
struct frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vec, err, rip, cs, rflags, rsp, ss;
};

/* Written by the image builder into the shim's data (see build/image). */
#define PAYLOAD_MAGIC 0x64616f6c79617041UL /* "Apayload" */
#define MAX_SEGS 8
struct payload {
	u64 magic;
	u64 entry;     /* program entry point */
	u64 image_end; /* end of the highest loaded byte */
	u64 nsegs;
	struct { u64 vaddr, memsz; } seg[MAX_SEGS];
};
extern struct payload shim_payload;

/* util */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }
static inline u64 rdmsr(u32 msr) { u32 lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((u64)hi << 32) | lo; }
static inline void wrmsr(u32 msr, u64 v) { __asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32))); }
static inline void cpuid(u32 leaf, u32 sub, u32 r[4]) { __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub)); }
static inline void mb(void) { __asm__ volatile("mfence" ::: "memory"); }
#define barrier() __asm__ volatile("" ::: "memory")

/* console.c */
void console_write(const char *s, size_t n);
void kprintf(const char *fmt, ...);
void console_flush(void);
__attribute__((noreturn)) void machine_exit(int status, int crashed);
extern int on_xen;
extern int opt_stats, opt_debug, opt_trace, opt_prof;

/* xen.c */
/*
 * What Go code in the image needs to speak to Xen itself (the Go package
 * hypercall): the shim maps shared_info for its clock, and Xen lets a
 * domain map it at one place only, so the shim says where. Passed to the
 * program as the auxiliary vector entry AT_ANYKERNEL_XEN (a value Linux
 * does not use), only on Xen. Addresses are physical == virtual. Fields
 * are only ever appended; size says how many there are.
 */
#define AT_ANYKERNEL_XEN 0x414e594bUL /* "KYNA" in memory */
#define XEN_INFO_MAGIC 0x666e696e65784b41UL /* "AKxeninf" in memory */
struct xen_info {
	u64 magic;
	u64 size;           /* sizeof(struct xen_info) */
	u64 cpuid_base;     /* Xen's first CPUID leaf */
	u64 hypercall_page; /* the shim's hypercall page */
	u64 shared_info;    /* where shared_info is mapped, 0 when it is not */
	/* Event channel upcalls (since size 72). */
	u64 upcall_vector;  /* the vector Xen raises, 0 when the shim takes no upcalls */
	u64 upcalls;        /* upcalls taken: what SYS_ANYKERNEL_EVTCHN_WAIT waits on */
	u64 evtchn_blocks;  /* SYS_ANYKERNEL_EVTCHN_WAIT calls that blocked their thread */
	u64 idle_ns;        /* time the vCPU idled in the shim's scheduler (hlt) */
};
extern struct xen_info xen_info;
int xen_detect(void);
void xen_init(void);

/*
 * Event channel upcalls. Xen marks vcpu_info.evtchn_upcall_pending when an
 * event arrives on an unmasked port and raises XEN_UPCALL_VEC
 * (HVM_PARAM_CALLBACK_IRQ, vector type); xen_upcall acknowledges it and
 * wakes the threads in SYS_ANYKERNEL_EVTCHN_WAIT. Which port fired is for
 * the program to find out from the pending bitmap: the shim never clears
 * a port's pending bit.
 *
 * SYS_ANYKERNEL_EVTCHN_WAIT(seq, timeout_ns), a shim-private system call:
 * block the calling thread until xen_info.upcalls differs from seq (read
 * by the caller before it last looked at the pending bits, so no wake-up
 * is lost) or timeout_ns passes (~0: never). Returns 0 when the counter
 * moved, -ETIMEDOUT, or -ENOSYS when the shim takes no upcalls. Only this
 * thread sleeps; the vCPU runs the others or idles in hlt.
 */
#define XEN_UPCALL_VEC 0xf3
#define SYS_ANYKERNEL_EVTCHN_WAIT 0x414b0001UL
void xen_upcall(void);
s64 xen_evtchn_wait(u64 seq, u64 timeout_ns);
extern int evtchn_waiters; /* threads in SYS_ANYKERNEL_EVTCHN_WAIT */
void xen_console_write(const char *s, size_t n);
void xen_console_flush(void);
__attribute__((noreturn)) void xen_shutdown(int reason);
int xen_clock(u64 *mono_ns, u64 *wall_ns); /* 0 when pvclock is not set up */
u64 xen_tsc_khz(void);

/* mm.c */
void mm_init(u64 lo, u64 hi);
u64 page_alloc(void);        /* zeroed page, physical == virtual */
u64 pages_alloc_contig(u64 n); /* zeroed, from the bump region only */
void page_free(u64 pa);
int mm_fault(u64 addr);      /* 0 when the fault was a demand-paging fault */
void mm_set_nullguard(void);
int touch_range(u64 addr, u64 len);
s64 sys_mmap(u64 addr, u64 len, u64 prot, u64 flags, s64 fd, u64 off);
s64 sys_munmap(u64 addr, u64 len);
s64 sys_madvise(u64 addr, u64 len, u64 advice);
s64 sys_mprotect(u64 addr, u64 len, u64 prot);
s64 vma_add(u64 start, u64 end, int prot);
extern u64 mm_pages_used, mm_pages_peak, mm_pt_pages, mm_image_bytes;

/* Per-thread signal state (signal.c); lives in struct thread. */
struct sigstate {
	u64 mask, pending;
	u64 ss_sp, ss_size; /* sigaltstack; ss_size 0 when disabled */
};

/* signal.c */
s64 sys_rt_sigaction(u64 sig, const u64 *act, u64 *oact, u64 size);
s64 sys_rt_sigprocmask(u64 how, const u64 *set, u64 *oset, u64 size);
s64 sys_sigaltstack(const u64 *ss, u64 *oss, u64 sp);
s64 sys_tgkill(u64 tid, u64 sig);
s64 sys_rt_sigreturn(struct frame *f);
void signal_deliver(struct frame *f);

/* sched.c */
struct thread;
struct sigstate *cur_sig(void);
struct sigstate *tid_sig(int tid); /* NULL when no live thread has it */
void sched_init(u64 entry, u64 sp);
void time_init(void);
u64 now_ns(void);
u64 wall_ns(void);
void schedule(void);
int block(void *key, u64 deadline); /* 0 when woken, -1 on timeout */
int wake(void *key, int n);
s64 sys_clone(struct frame *f, u64 flags, u64 sp, u64 tls);
__attribute__((noreturn)) void sys_exit_thread(int status);
void sys_yield(void);
void set_fsbase(u64 v);
int cur_tid(void);
void timer_irq(int from_user);
void lapic_eoi(void);
extern u64 cur_kstack_top;

/* sys.c */
void syscall_handler(struct frame *f);
#define MAXPROF 8192
extern u64 prof[MAXPROF], nprof, stat_tsc_emulated;
extern u64 stat_syscalls, stat_faults, stat_irqs, stat_idle_ns;

/* traps */
void trap(struct frame *f, int from_user);
void dump_frame(struct frame *f);

#endif
