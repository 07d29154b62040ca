/*
 * sched.c: threads on one CPU, time and the LAPIC timer.
 *
 * Threads are the program's clone()d threads. Each has a kernel stack on
 * which its trap frame and, when it is not running, its switched-out
 * kernel context live. Scheduling is round robin with a time slice
 * enforced by the LAPIC timer (one-shot, programmed for the earliest of
 * the next sleeper's deadline and the end of the slice), so a thread that
 * spins without system calls cannot starve the others.
 */
#include "shim.h"

#define MAXTHREADS 64
#define KSTACK_PAGES 4
#define SLICE_NS 10000000UL
#define TIMER_VEC 0x20
#define LAPIC 0xfee00000UL

enum { T_FREE, T_RUNNABLE, T_BLOCKED, T_DEAD };

struct thread {
	u8 fpu[512] __attribute__((aligned(16)));
	int state, tid, timedout;
	u64 ksp, kstack_top, fsbase;
	void *key;
	u64 deadline;
	struct sigstate sig;
};

static struct thread threads[MAXTHREADS];
static struct thread *cur;
u64 cur_kstack_top;
u64 stat_idle_ns;
static int next_tid = 1;
static u64 slice_end, armed = INF;

extern void swtch(u64 *save, u64 sp);
extern void return_to_user(void);

/* ---- time ---- */

static u64 tsc0, tsc_mult; /* ns = (tsc - tsc0) * tsc_mult >> 32 */
static u64 boot_wall;      /* wall-clock ns at now_ns() == 0 (QEMU) */
static u64 lapic_hz = 1000000000UL; /* timer input clock at divide-by-1 */
static u64 xen_boot_ns;    /* Xen system time at boot: now_ns() counts from boot */
static u64 last_ns;        /* now_ns() never steps back, whatever the source does */

static inline u32 lapic_read(u32 reg) { return *(volatile u32 *)(LAPIC + reg); }
static inline void lapic_write(u32 reg, u32 v) { *(volatile u32 *)(LAPIC + reg) = v; }

void lapic_eoi(void) { lapic_write(0xb0, 0); }

u64 now_ns(void)
{
	u64 mono, wall, t;
	if (on_xen && xen_clock(&mono, &wall))
		t = mono - xen_boot_ns;
	else
		t = (u64)(((unsigned __int128)(rdtsc() - tsc0) * tsc_mult) >> 32);
	if ((s64)(t - last_ns) < 0)
		t = last_ns;
	return last_ns = t;
}

u64 wall_ns(void)
{
	u64 mono, wall;
	if (on_xen && xen_clock(&mono, &wall))
		return wall;
	return boot_wall + now_ns();
}

static u8 cmos(u8 reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static u64 days_from_civil(u64 y, u64 m, u64 d)
{
	y -= m <= 2;
	u64 era = y / 400, yoe = y - era * 400;
	u64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	u64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The CMOS RTC, as QEMU emulates it; 0 when there is none. */
static u64 rtc_wall_ns(void)
{
	for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
		;
	u8 sec = cmos(0), min = cmos(2), hour = cmos(4), day = cmos(7), mon = cmos(8), year = cmos(9), cent = cmos(0x32);
	u8 b = cmos(0x0b);
	if (sec == 0xff && min == 0xff)
		return 0;
	int pm = hour & 0x80;
	hour &= 0x7f;
#define BCD(x) (((x) & 15) + ((x) >> 4) * 10)
	if (!(b & 4)) {
		sec = BCD(sec); min = BCD(min); hour = BCD(hour); day = BCD(day); mon = BCD(mon); year = BCD(year); cent = BCD(cent);
	}
	if (!(b & 2) && pm)
		hour = (hour % 12) + 12;
	u64 y = (cent >= 19 && cent <= 30 ? cent : 20) * 100 + year;
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	return ((days_from_civil(y, mon, day) * 86400) + hour * 3600 + min * 60 + sec) * 1000000000UL;
}

void time_init(void)
{
	u64 base = rdmsr(0x1b);
	if (!(base & (1 << 11)))
		wrmsr(0x1b, base | (1 << 11));
	lapic_write(0xf0, 0x1ff);          /* enable, spurious vector 0xff */
	lapic_write(0x320, 1 << 16);       /* timer masked while calibrating */
	u64 mono, wall;
	if (on_xen && xen_clock(&mono, &wall)) {
		xen_boot_ns = mono;
		last_ns = 0;
		/* Measure the LAPIC timer against pvclock over ~5 ms. Xen
		 * emulates it at 100 MHz; each access is a VM exit, slow when
		 * nested, so snap a measurement close to that. */
		lapic_write(0x3e0, 0xb);
		lapic_write(0x380, 0xffffffff);
		u32 c0 = lapic_read(0x390);
		u64 t0 = now_ns(), t1;
		while ((t1 = now_ns()) - t0 < 5000000)
			;
		u32 c1 = lapic_read(0x390);
		u64 hz = (u64)(c0 - c1) * 1000000000UL / (t1 - t0);
		if (hz > 80000000 && hz < 120000000)
			hz = 100000000;
		if (hz > 1000000)
			lapic_hz = hz;
		if (opt_debug)
			kprintf("anykernel: LAPIC timer %lu kHz\n", lapic_hz / 1000);
	} else {
		/* Mask the legacy PICs: their vectors would look like exceptions. */
		outb(0x21, 0xff);
		outb(0xa1, 0xff);
		/* Calibrate the TSC against the LAPIC timer, which QEMU runs
		 * at 1 GHz (divide by 1) off its virtual clock. */
		lapic_write(0x3e0, 0xb);
		lapic_write(0x380, 0xffffffff);
		u32 c0 = lapic_read(0x390);
		u64 t0 = rdtsc();
		u32 c1;
		do
			c1 = lapic_read(0x390);
		while (c0 - c1 < 1000000);
		u64 t1 = rdtsc();
		u64 hz = (t1 - t0) * 1000000000UL / (c0 - c1);
		if (hz < 1000000)
			hz = 1000000000;
		tsc_mult = (1000000000UL << 32) / hz;
		tsc0 = rdtsc();
		last_ns = 0;
		boot_wall = rtc_wall_ns();
		if (opt_debug)
			kprintf("anykernel: tsc %lu kHz, wall %lu s\n", hz / 1000, boot_wall / 1000000000UL);
	}
	lapic_write(0x380, 0);
	lapic_write(0x3e0, 0x3);           /* divide by 16: 62.5 MHz */
	lapic_write(0x320, TIMER_VEC);     /* one-shot */
}

static void lapic_arm(u64 deadline, u64 now)
{
	u64 d = deadline > now ? deadline - now : 0;
	if (d < 20000)
		d = 20000;
	if (d > 60000000000UL)
		d = 60000000000UL; /* keeps d * rate within 64 bits */
	u64 ticks = d * (lapic_hz / 16 / 1000) / 1000000UL;
	if (ticks > 0xffffffffUL)
		ticks = 0xffffffffUL;
	lapic_write(0x380, ticks);
	armed = now + d;
}

static int nrunnable(void)
{
	int n = 0;
	for (int i = 0; i < MAXTHREADS; i++)
		n += threads[i].state == T_RUNNABLE;
	return n;
}

/* Make sure an interrupt comes by the next deadline or the slice end. */
static void timer_update(u64 now)
{
	u64 want = INF;
	for (int i = 0; i < MAXTHREADS; i++)
		if (threads[i].state == T_BLOCKED && threads[i].deadline < want)
			want = threads[i].deadline;
	if (nrunnable() > 1 && slice_end < want)
		want = slice_end;
	if (opt_prof && now + 100000 < want)
		want = now + 100000;
	if (want == INF)
		return;
	if (armed != INF && armed > now && armed <= want)
		return;
	lapic_arm(want, now);
}

static void wake_expired(u64 now)
{
	for (int i = 0; i < MAXTHREADS; i++) {
		struct thread *t = &threads[i];
		if (t->state == T_BLOCKED && t->deadline <= now) {
			t->state = T_RUNNABLE;
			t->timedout = 1;
			t->key = NULL;
		}
	}
}

/* ---- threads ---- */

static struct thread *pick(struct thread *prev)
{
	int base = prev - threads;
	for (int i = 1; i <= MAXTHREADS; i++) {
		struct thread *t = &threads[(base + i) % MAXTHREADS];
		if (t->state == T_RUNNABLE)
			return t;
	}
	return NULL;
}

void set_fsbase(u64 v)
{
	cur->fsbase = v;
	wrmsr(0xC0000100, v);
}

int cur_tid(void) { return cur->tid; }

struct sigstate *cur_sig(void) { return &cur->sig; }

struct sigstate *tid_sig(int tid)
{
	for (int i = 0; i < MAXTHREADS; i++)
		if (threads[i].tid == tid && (threads[i].state == T_RUNNABLE || threads[i].state == T_BLOCKED))
			return &threads[i].sig;
	return NULL;
}

/* schedule runs another runnable thread (or idles until one exists). The
 * caller has set cur->state; interrupts are off in the shim. */
void schedule(void)
{
	struct thread *prev = cur, *next;
	u64 now;
	for (;;) {
		now = now_ns();
		wake_expired(now);
		next = pick(prev);
		if (next)
			break;
		timer_update(now);
		if (armed == INF && !evtchn_waiters) {
			/* Nothing runnable, no deadline, and no event that could
			 * wake us: this can only be a deadlock. Say so rather than
			 * hang. (A thread waiting for an event channel may wait
			 * forever: an upcall wakes it.) */
			kprintf("\nanykernel: deadlock: every thread is blocked with no timeout\n");
			machine_exit(2, 1);
		}
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		stat_idle_ns += now_ns() - now;
		xen_info.idle_ns = stat_idle_ns; /* for the program's eyes */
	}
	if (next == prev)
		return;
	slice_end = now + SLICE_NS;
	timer_update(now);
	__asm__ volatile("fxsave64 %0" : "=m"(prev->fpu));
	cur = next;
	cur_kstack_top = next->kstack_top;
	if (next->fsbase != prev->fsbase)
		wrmsr(0xC0000100, next->fsbase);
	__asm__ volatile("fxrstor64 %0" ::"m"(next->fpu));
	swtch(&prev->ksp, next->ksp);
}

int block(void *key, u64 deadline)
{
	cur->state = T_BLOCKED;
	cur->key = key;
	cur->deadline = deadline;
	cur->timedout = 0;
	schedule();
	return cur->timedout ? -1 : 0;
}

int wake(void *key, int n)
{
	int woken = 0;
	for (int i = 0; i < MAXTHREADS && woken < n; i++) {
		struct thread *t = &threads[i];
		if (t->state == T_BLOCKED && t->key == key) {
			t->state = T_RUNNABLE;
			t->key = NULL;
			t->deadline = INF;
			woken++;
		}
	}
	if (woken)
		timer_update(now_ns());
	return woken;
}

void sys_yield(void)
{
	schedule();
}

void timer_irq(int from_user)
{
	lapic_eoi();
	armed = INF;
	u64 now = now_ns();
	wake_expired(now);
	if (from_user && now >= slice_end && nrunnable() > 1)
		schedule();
	timer_update(now_ns());
}

static struct thread *thread_alloc(void)
{
	for (int i = 0; i < MAXTHREADS; i++) {
		struct thread *t = &threads[i];
		if (t->state == T_FREE || (t->state == T_DEAD && t != cur)) {
			if (!t->kstack_top)
				t->kstack_top = pages_alloc_contig(KSTACK_PAGES) + KSTACK_PAGES * PAGE;
			t->tid = next_tid++;
			t->deadline = INF;
			t->key = NULL;
			return t;
		}
	}
	return NULL;
}

s64 sys_clone(struct frame *f, u64 flags, u64 sp, u64 tls)
{
	if (!(flags & 0x100) || !(flags & 0x10000)) /* CLONE_VM, CLONE_THREAD */
		return -38;
	struct thread *t = thread_alloc();
	if (!t)
		return -11;
	struct frame *cf = (struct frame *)(t->kstack_top - sizeof *cf);
	*cf = *f;
	cf->rax = 0;
	cf->rsp = sp;
	t->fsbase = (flags & 0x80000) ? tls : cur->fsbase; /* CLONE_SETTLS */
	/* Like Linux: the mask is inherited, the alternate stack is not. */
	t->sig = (struct sigstate){ .mask = cur->sig.mask };
	__asm__ volatile("fxsave64 %0" : "=m"(t->fpu));
	u64 *k = (u64 *)cf;
	*--k = (u64)return_to_user;
	for (int i = 0; i < 6; i++)
		*--k = 0; /* rbp rbx r12..r15 for swtch */
	t->ksp = (u64)k;
	t->state = T_RUNNABLE;
	timer_update(now_ns());
	return t->tid;
}

void sys_exit_thread(int status)
{
	cur->state = T_DEAD;
	int live = 0;
	for (int i = 0; i < MAXTHREADS; i++)
		live += threads[i].state == T_RUNNABLE || threads[i].state == T_BLOCKED;
	if (!live)
		machine_exit(status, 0);
	schedule();
	for (;;)
		;
}

/* sched_init makes the first thread and enters the program. */
void sched_init(u64 entry, u64 sp)
{
	struct thread *t = thread_alloc();
	struct frame *f = (struct frame *)(t->kstack_top - sizeof *f);
	memset(f, 0, sizeof *f);
	f->rip = entry;
	f->cs = 0x08;
	f->rflags = 0x202;
	f->rsp = sp;
	f->ss = 0x10;
	t->state = T_RUNNABLE;
	cur = t;
	cur_kstack_top = t->kstack_top;
	slice_end = now_ns() + SLICE_NS;
	__asm__ volatile("mov %0, %%rsp; jmp return_to_user" ::"r"(f) : "memory");
	__builtin_unreachable();
}
