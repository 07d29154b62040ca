/*
 * sys.c: the Linux system calls a static Go program makes, and the trap
 * handler. Anything else answers ENOSYS (reported once with shim.debug).
 * Signals are in signal.c.
 */
#include "shim.h"

#define EPERM 1
#define ENOENT 2
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EINVAL 22
#define EMFILE 24
#define ENOTTY 25
#define ENOSYS 38
#define ETIMEDOUT 110

u64 shim_random(void);

/* ---- file descriptors: the console, epoll instances, eventfds ---- */

enum { F_NONE, F_CONSOLE, F_EPOLL, F_EVENTFD };
#define MAXFD 64
#define MAXREG 16
struct file {
	int type, nonblock;
	u64 count; /* eventfd */
	int nreg;  /* epoll */
	struct { int fd; u32 events; u64 data; } reg[MAXREG];
};
static struct file files[MAXFD];
static char epoll_key; /* threads in epoll_wait block on this */

static struct file *getf(s64 fd)
{
	if (!files[0].type) /* first use: 0-2 are the console */
		files[0].type = files[1].type = files[2].type = F_CONSOLE;
	if (fd < 0 || fd >= MAXFD || files[fd].type == F_NONE)
		return NULL;
	return &files[fd];
}

static s64 newfd(int type)
{
	for (int i = 3; i < MAXFD; i++)
		if (files[i].type == F_NONE) {
			memset(&files[i], 0, sizeof files[i]);
			files[i].type = type;
			return i;
		}
	return -EMFILE;
}

struct epoll_event {
	u32 events;
	u64 data;
} __attribute__((packed));

static int epoll_collect(struct file *ep, struct epoll_event *out, int max)
{
	int n = 0;
	for (int i = 0; i < ep->nreg && n < max; i++) {
		struct file *f = getf(ep->reg[i].fd);
		u32 ev = 0;
		if (f && f->type == F_EVENTFD) {
			if (f->count)
				ev |= 1; /* EPOLLIN */
			ev |= 4;         /* EPOLLOUT */
		}
		ev &= ep->reg[i].events | 0x18;
		if (ev) {
			out[n].events = ev;
			out[n].data = ep->reg[i].data;
			n++;
		}
	}
	return n;
}

static s64 sys_epoll_wait(s64 epfd, struct epoll_event *evs, s64 max, s64 timeout_ms)
{
	struct file *ep = getf(epfd);
	if (!ep || ep->type != F_EPOLL)
		return -EBADF;
	if (max <= 0)
		return -EINVAL;
	u64 deadline = timeout_ms < 0 ? INF : now_ns() + (u64)timeout_ms * 1000000UL;
	for (;;) {
		int n = epoll_collect(ep, evs, max);
		if (n || timeout_ms == 0)
			return n;
		if (block(&epoll_key, deadline) < 0)
			return epoll_collect(ep, evs, max);
	}
}

static s64 sys_epoll_ctl(s64 epfd, s64 op, s64 fd, struct epoll_event *ev)
{
	struct file *ep = getf(epfd), *f = getf(fd);
	if (!ep || ep->type != F_EPOLL || !f)
		return -EBADF;
	if (f->type != F_EVENTFD)
		return -EPERM; /* like a regular file on Linux */
	int i;
	for (i = 0; i < ep->nreg && ep->reg[i].fd != fd; i++)
		;
	switch (op) {
	case 1: /* ADD */
		if (i < ep->nreg)
			return -17; /* EEXIST */
		if (ep->nreg == MAXREG)
			return -ENOMEM;
		ep->nreg++;
		/* fallthrough */
	case 3: /* MOD */
		if (i == ep->nreg)
			return -ENOENT;
		ep->reg[i].fd = fd;
		ep->reg[i].events = ev->events;
		ep->reg[i].data = ev->data;
		break;
	case 2: /* DEL */
		if (i == ep->nreg)
			return -ENOENT;
		ep->reg[i] = ep->reg[--ep->nreg];
		break;
	default:
		return -EINVAL;
	}
	wake(&epoll_key, MAXFD);
	return 0;
}

static s64 eventfd_read(struct file *f, u64 *buf, u64 n)
{
	if (n < 8)
		return -EINVAL;
	while (!f->count) {
		if (f->nonblock)
			return -EAGAIN;
		block(f, INF);
	}
	*buf = f->count;
	f->count = 0;
	return 8;
}

static s64 eventfd_write(struct file *f, u64 *buf, u64 n)
{
	if (n < 8)
		return -EINVAL;
	f->count += *buf;
	wake(f, MAXFD);
	wake(&epoll_key, MAXFD);
	return 8;
}

/* ---- time helpers ---- */

struct timespec {
	s64 sec, nsec;
};

static u64 ts_ns(const struct timespec *ts)
{
	if (ts->sec < 0)
		return 0;
	return (u64)ts->sec * 1000000000UL + (u64)ts->nsec;
}

static void ns_ts(u64 ns, struct timespec *ts)
{
	ts->sec = ns / 1000000000UL;
	ts->nsec = ns % 1000000000UL;
}

static u64 clock_ns(s64 clk)
{
	/* REALTIME, REALTIME_COARSE, TAI; the rest count from boot. */
	return (clk == 0 || clk == 5 || clk == 11) ? wall_ns() : now_ns();
}

static s64 sleep_until(u64 deadline)
{
	static char sleep_key;
	while (now_ns() < deadline)
		block(&sleep_key, deadline);
	return 0;
}

static s64 futex(u32 *uaddr, s64 op, u32 val, const struct timespec *ts)
{
	switch (op & 0x7f) {
	case 0: { /* FUTEX_WAIT */
		if (*uaddr != val)
			return -EAGAIN;
		u64 deadline = ts ? now_ns() + ts_ns(ts) : INF;
		if (block(uaddr, deadline) < 0)
			return -ETIMEDOUT;
		return 0;
	}
	case 1: /* FUTEX_WAKE */
		return wake(uaddr, val > 0x7fffffff ? 0x7fffffff : (int)val);
	}
	return -ENOSYS;
}

static s64 console_writev(const u64 *iov, s64 cnt)
{
	s64 total = 0;
	for (s64 i = 0; i < cnt; i++) {
		console_write((const char *)iov[2 * i], iov[2 * i + 1]);
		total += iov[2 * i + 1];
	}
	return total;
}

static void copy_str(char *dst, const char *s)
{
	size_t n = strlen(s) + 1;
	memcpy(dst, s, n);
}

static u8 reported[512];
u64 stat_syscalls, stat_faults, stat_irqs;
u64 prof[MAXPROF], nprof, stat_tsc_emulated;

static s64 dispatch(struct frame *f)
{
	u64 a0 = f->rdi, a1 = f->rsi, a2 = f->rdx, a3 = f->r10, a4 = f->r8;
	struct file *fl;
	switch (f->rax) {
	case 0: /* read */
		fl = getf(a0);
		if (!fl)
			return -EBADF;
		if (fl->type == F_EVENTFD)
			return eventfd_read(fl, (u64 *)a1, a2);
		if (fl->type == F_CONSOLE)
			return 0; /* no input: end of file */
		return -EINVAL;
	case 1: /* write */
		fl = getf(a0);
		if (!fl)
			return -EBADF;
		if (fl->type == F_EVENTFD)
			return eventfd_write(fl, (u64 *)a1, a2);
		if (fl->type == F_CONSOLE) {
			console_write((const char *)a1, a2);
			return a2;
		}
		return -EINVAL;
	case 20: /* writev */
		fl = getf(a0);
		if (!fl || fl->type != F_CONSOLE)
			return -EBADF;
		return console_writev((const u64 *)a1, a2);
	case 2:   /* open */
	case 257: /* openat: there is no file system */
		return -ENOENT;
	case 3: /* close */
		fl = getf(a0);
		if (!fl)
			return -EBADF;
		if (a0 > 2)
			fl->type = F_NONE;
		return 0;
	case 5: /* fstat */
		fl = getf(a0);
		if (!fl)
			return -EBADF;
		memset((void *)a1, 0, 144);
		*(u32 *)(a1 + 24) = fl->type == F_CONSOLE ? 0020620 : 0000600;
		return 0;
	case 16: /* ioctl */
		return getf(a0) ? -ENOTTY : -EBADF;
	case 72: /* fcntl */
		fl = getf(a0);
		if (!fl)
			return -EBADF;
		if (a1 == 3) /* F_GETFL */
			return fl->type == F_CONSOLE ? 2 : 2 | (fl->nonblock ? 0x800 : 0);
		if (a1 == 4 && fl->type != F_CONSOLE) /* F_SETFL */
			fl->nonblock = !!(a2 & 0x800);
		return 0;
	case 9:
		return sys_mmap(a0, a1, a2, a3, a4, f->r9);
	case 10:
		return sys_mprotect(a0, a1, a2);
	case 11:
		return sys_munmap(a0, a1);
	case 28:
		return sys_madvise(a0, a1, a2);
	case 12: /* brk: none; Go does not need it */
		return 0;
	case 13:
		return sys_rt_sigaction(a0, (const u64 *)a1, (u64 *)a2, a3);
	case 14:
		return sys_rt_sigprocmask(a0, (const u64 *)a1, (u64 *)a2, a3);
	case 131:
		return sys_sigaltstack((const u64 *)a0, (u64 *)a1, f->rsp);
	case 15:
		return sys_rt_sigreturn(f);
	case 24: /* sched_yield */
		sys_yield();
		return 0;
	case 35: /* nanosleep */
		return sleep_until(now_ns() + ts_ns((struct timespec *)a0));
	case 230: { /* clock_nanosleep */
		u64 d = ts_ns((struct timespec *)a2);
		if (a1 & 1) { /* TIMER_ABSTIME */
			u64 now = clock_ns(a0);
			d = d > now ? d - now : 0;
		}
		return -sleep_until(now_ns() + d);
	}
	case 228: /* clock_gettime */
		ns_ts(clock_ns(a0), (struct timespec *)a1);
		return 0;
	case 229: /* clock_getres */
		if (a1)
			ns_ts(1, (struct timespec *)a1);
		return 0;
	case 96: { /* gettimeofday */
		u64 ns = wall_ns();
		if (a0) {
			((s64 *)a0)[0] = ns / 1000000000UL;
			((s64 *)a0)[1] = ns % 1000000000UL / 1000;
		}
		return 0;
	}
	case 201: /* time */
		if (a0)
			*(s64 *)a0 = wall_ns() / 1000000000UL;
		return wall_ns() / 1000000000UL;
	case 202:
		return futex((u32 *)a0, a1, a2, (const struct timespec *)a3);
	case 56:
		return sys_clone(f, a0, a1, a4);
	case 60:
		sys_exit_thread(a0);
	case 231: /* exit_group */
		machine_exit(a0 & 0xff, 0);
	case 158: /* arch_prctl */
		if (a0 == 0x1002) { /* ARCH_SET_FS */
			set_fsbase(a1);
			return 0;
		}
		if (a0 == 0x1003) {
			*(u64 *)a1 = rdmsr(0xC0000100);
			return 0;
		}
		return -EINVAL;
	case 186: /* gettid */
		return cur_tid();
	case 218: /* set_tid_address */
		return cur_tid();
	case 39: /* getpid */
		return 1;
	case 110: /* getppid */
		return 0;
	case 102: case 104: case 107: case 108: /* get[e]uid, get[e]gid */
		return 0;
	case 62: /* kill: the process is the program */
		return sys_tgkill(cur_tid(), a1);
	case 200: /* tkill */
		return sys_tgkill(a0, a1);
	case 234: /* tgkill */
		return sys_tgkill(a1, a2);
	case 204: /* sched_getaffinity: one CPU */
		if (a1 < 8)
			return -EINVAL;
		memset((void *)a2, 0, 8);
		*(u8 *)a2 = 1;
		return 8;
	case 203: /* sched_setaffinity */
		return 0;
	case 97:  /* getrlimit */
	case 302: { /* prlimit64 */
		u64 res = f->rax == 97 ? a0 : a1;
		u64 *old = (u64 *)(f->rax == 97 ? a1 : a3);
		if (old) {
			old[0] = old[1] = INF;
			if (res == 7) { /* RLIMIT_NOFILE */
				old[0] = old[1] = MAXFD;
			} else if (res == 3) { /* RLIMIT_STACK */
				old[0] = 8UL << 20;
			}
		}
		return 0;
	}
	case 318: { /* getrandom */
		u8 *p = (u8 *)a0;
		for (u64 i = 0; i < a1; i += 8) {
			u64 r = shim_random();
			memcpy(p + i, &r, a1 - i < 8 ? a1 - i : 8);
		}
		return a1;
	}
	case 63: { /* uname */
		char *u = (char *)a0;
		memset(u, 0, 6 * 65);
		copy_str(u, "Linux");
		copy_str(u + 65, "anykernel");
		copy_str(u + 130, "6.1.0-anykernel");
		copy_str(u + 195, "#1");
		copy_str(u + 260, "x86_64");
		return 0;
	}
	case 79: /* getcwd */
		if (a1 < 2)
			return -34; /* ERANGE */
		copy_str((char *)a0, "/");
		return 2;
	case 213: /* epoll_create */
	case 291: /* epoll_create1 */
		return newfd(F_EPOLL);
	case 233:
		return sys_epoll_ctl(a0, a1, a2, (struct epoll_event *)a3);
	case 232: /* epoll_wait */
	case 281: /* epoll_pwait */
		return sys_epoll_wait(a0, (struct epoll_event *)a1, a2, (s32)a3);
	case 441: { /* epoll_pwait2 */
		s64 ms = a3 ? (s64)(ts_ns((struct timespec *)a3) / 1000000) : -1;
		return sys_epoll_wait(a0, (struct epoll_event *)a1, a2, ms);
	}
	case 284: /* eventfd */
	case 290: { /* eventfd2 */
		s64 fd = newfd(F_EVENTFD);
		if (fd >= 0) {
			files[fd].count = a0;
			files[fd].nonblock = f->rax == 290 && (a1 & 0x800);
		}
		return fd;
	}
	case SYS_ANYKERNEL_EVTCHN_WAIT:
		return xen_evtchn_wait(a0, a1);
	case 334: /* rseq */
	case 435: /* clone3: Go falls back to clone */
		return -ENOSYS;
	}
	if (f->rax < sizeof reported * 8 && !(reported[f->rax / 8] & (1 << (f->rax % 8)))) {
		reported[f->rax / 8] |= 1 << (f->rax % 8);
		if (opt_debug)
			kprintf("anykernel: unimplemented syscall %lu\n", f->rax);
	}
	return -ENOSYS;
}

void syscall_handler(struct frame *f)
{
	u64 nr = f->rax;
	stat_syscalls++;
	if (opt_trace)
		kprintf("[%lu us] tid %d: syscall %lu (%lx, %lx, %lx)\n", now_ns() / 1000, cur_tid(), nr, f->rdi, f->rsi, f->rdx);
	f->rax = dispatch(f);
	signal_deliver(f);
	if (opt_trace)
		kprintf("[%lu us] tid %d: syscall %lu = %ld\n", now_ns() / 1000, cur_tid(), nr, (s64)f->rax);
}

/* ---- traps ---- */

static const char *const vecnames[] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 error", "alignment check", "machine check", "SIMD error",
};

void dump_frame(struct frame *f)
{
	u64 cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	kprintf("  rip %p  rsp %p  rflags %p\n", f->rip, f->rsp, f->rflags);
	kprintf("  err %p  cr2 %p  cs %lx ss %lx\n", f->err, cr2, f->cs, f->ss);
	kprintf("  rax %p  rbx %p  rcx %p  rdx %p\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("  rsi %p  rdi %p  rbp %p  r8  %p\n", f->rsi, f->rdi, f->rbp, f->r8);
	kprintf("  r9  %p  r10 %p  r11 %p  r12 %p\n", f->r9, f->r10, f->r11, f->r12);
	kprintf("  r13 %p  r14 %p  r15 %p  fs  %p\n", f->r13, f->r14, f->r15, rdmsr(0xC0000100));
}

/*
 * Xen emulates RDTSC and RDTSCP when it virtualises the TSC, and when
 * nested (Xen under QEMU) the emulation sometimes fails and injects #GP
 * (or #UD for RDTSCP) instead. Go's runtime.cputicks uses RDTSCP: do it
 * here with RDTSC, which the shim itself uses.
 */
static int emulate_tsc(struct frame *f)
{
	const u8 *ip = (const u8 *)f->rip;
	u64 t;
	if (f->rip < 0x100000 || ip[0] != 0x0f)
		return 0;
	if (ip[1] == 0x31) { /* rdtsc */
		t = rdtsc();
		f->rip += 2;
	} else if (ip[1] == 0x01 && ip[2] == 0xf9) { /* rdtscp */
		t = rdtsc();
		f->rcx = 0; /* TSC_AUX: CPU 0 */
		f->rip += 3;
	} else {
		return 0;
	}
	f->rax = (u32)t;
	f->rdx = t >> 32;
	stat_tsc_emulated++;
	return 1;
}

void trap(struct frame *f, int from_user)
{
	u64 v = f->vec;
	if (v == 14) {
		u64 cr2;
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		if (mm_fault(cr2) == 0) {
			stat_faults++;
			return;
		}
	} else if (v == 0x20) {
		stat_irqs++;
		if (opt_prof && nprof < MAXPROF)
			prof[nprof++] = f->rip;
		timer_irq(from_user);
		if (from_user)
			signal_deliver(f);
		return;
	} else if (v == XEN_UPCALL_VEC && on_xen) {
		xen_upcall();
		return;
	} else if (v == 0xff || (v >= 0x21 && v < 0x100)) {
		return; /* spurious or stray: nothing to acknowledge */
	} else if ((v == 6 || v == 13) && emulate_tsc(f)) {
		return;
	}
	kprintf("\nanykernel: fault: vector %lu (%s) in %s, thread %d\n", v,
		v < sizeof vecnames / sizeof vecnames[0] ? vecnames[v] : "?",
		from_user ? "program" : "shim", cur_tid());
	dump_frame(f);
	machine_exit(2, 1);
}
