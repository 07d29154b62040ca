/*
 * main.c: from the PVH start to the program's entry point: copy what the
 * loader left us (hvm_start_info, command line, memory map), set up the
 * descriptor tables and syscall MSRs, find the memory pool, build the
 * Linux initial stack and enter the program.
 */
#include "shim.h"

#define START_INFO_MAGIC 0x336ec578

/* Patched by the image builder; kept in .data so it is in the file. */
__attribute__((section(".data"))) struct payload shim_payload = { .magic = PAYLOAD_MAGIC };

struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};
struct memmap_entry {
	u64 addr, size;
	u32 type, reserved;
};

static char cmdline[4096];
#define MAXMAP 128
static struct memmap_entry memmap[MAXMAP];
static u32 nmemmap;

extern char __shim_start[], __shim_end[];
extern u64 boot_pml4[];
extern char vector_stubs[];
extern u64 gdt[];
extern void syscall_entry(void);
extern void return_to_user(void);

struct idt_gate {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, zero;
} __attribute__((packed));
static struct idt_gate idt[256] __attribute__((aligned(16)));

struct tss {
	u32 res0;
	u64 rsp[3];
	u64 res1;
	u64 ist[7];
	u64 res2;
	u16 res3, iomap;
} __attribute__((packed));
static struct tss tss __attribute__((aligned(16)));
static u8 ist1_stack[16384] __attribute__((aligned(16)));
static u8 ist2_stack[8192] __attribute__((aligned(16)));

static void copy_start_info(u32 si_addr)
{
	struct hvm_start_info *si = (struct hvm_start_info *)(u64)si_addr;
	if (!si || si->magic != START_INFO_MAGIC)
		return;
	if (si->cmdline_paddr) {
		const char *c = (const char *)si->cmdline_paddr;
		size_t i = 0;
		for (; i < sizeof cmdline - 1 && c[i]; i++)
			cmdline[i] = c[i];
		cmdline[i] = 0;
	}
	if (si->version >= 1 && si->memmap_paddr) {
		struct memmap_entry *m = (struct memmap_entry *)si->memmap_paddr;
		for (u32 i = 0; i < si->memmap_entries && i < MAXMAP; i++)
			memmap[nmemmap++] = m[i];
	}
}

static void cpu_init(void)
{
	u64 stubs = (u64)vector_stubs;
	for (int v = 0; v < 256; v++) {
		u64 a = stubs + 16 * v;
		idt[v].off_lo = a;
		idt[v].sel = 0x08;
		/* NMI, double fault and machine check get their own stack. */
		idt[v].ist = (v == 2 || v == 8 || v == 18) ? 2 : 1;
		idt[v].type = 0x8e;
		idt[v].off_mid = a >> 16;
		idt[v].off_hi = a >> 32;
		idt[v].zero = 0;
	}
	tss.ist[0] = (u64)ist1_stack + sizeof ist1_stack;
	tss.ist[1] = (u64)ist2_stack + sizeof ist2_stack;
	tss.iomap = sizeof tss;
	u64 base = (u64)&tss, lim = sizeof tss - 1;
	gdt[3] = (lim & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
		 (((lim >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;
	struct { u16 lim; u64 base; } __attribute__((packed)) d = { sizeof idt - 1, (u64)idt };
	__asm__ volatile("lidt %0" ::"m"(d));
	__asm__ volatile("ltr %w0" ::"r"(0x18));

	wrmsr(0xC0000081, 0x08UL << 32);              /* STAR: CS/SS for syscall */
	wrmsr(0xC0000082, (u64)syscall_entry);       /* LSTAR */
	wrmsr(0xC0000084, 0x47700);                  /* FMASK: TF IF DF IOPL AC NT */
	u32 mxcsr = 0x1f80;
	__asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
}

/* Pick the pool: the largest RAM range above the image, below 4 GiB (the
 * identity map). Without a memory map, assume 64 MiB. */
static void pool_init(void)
{
	u64 lo = ROUNDUP(shim_payload.image_end, PAGE), best_lo = 0, best_hi = 0;
	if ((u64)__shim_end > lo)
		lo = (u64)__shim_end;
	for (u32 i = 0; i < nmemmap; i++) {
		if (memmap[i].type != 1)
			continue;
		u64 s = memmap[i].addr, e = s + memmap[i].size;
		if (s < lo)
			s = lo;
		if (e > 0x100000000UL)
			e = 0x100000000UL;
		s = ROUNDUP(s, PAGE);
		e = ROUNDDOWN(e, PAGE);
		if (e > s && e - s > best_hi - best_lo) {
			best_lo = s;
			best_hi = e;
		}
	}
	if (!best_hi) {
		best_lo = lo;
		best_hi = 64UL << 20;
	}
	if (best_hi <= best_lo + (1UL << 20)) {
		kprintf("anykernel: not enough memory above the image (%lx)\n", lo);
		machine_exit(1, 1);
	}
	mm_init(best_lo, best_hi);
	/* What the loader backed: the shim and the program's segments. */
	mm_image_bytes = (u64)__shim_end - (u64)__shim_start;
	for (u64 i = 0; i < shim_payload.nsegs && i < MAX_SEGS; i++)
		mm_image_bytes += ROUNDUP(shim_payload.seg[i].memsz + (shim_payload.seg[i].vaddr & (PAGE - 1)), PAGE);
}

/* Command line: "shim.*" words are ours; leading NAME=VALUE words become
 * the environment (until "--" or the first other word); the rest are
 * argv[1:]. Double quotes group words. */
#define MAXARGS 64
static char *argv[MAXARGS + 2], *envp[MAXARGS + 2];
static int argc, envc;
static char godebug[256] = "GODEBUG=asyncpreemptoff=1";
static int no_async_preempt;

static int is_env(const char *w)
{
	if (!((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') || *w == '_'))
		return 0;
	for (; *w && *w != '='; w++)
		if (!((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9') || *w == '_'))
			return 0;
	return *w == '=';
}

static void parse_cmdline(void)
{
	static char words[sizeof cmdline];
	char *out = words, *p = cmdline;
	int envmode = 1;
	char *user_godebug = NULL;
	argv[argc++] = "app";
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		char *w = out;
		int q = 0;
		for (; *p && (q || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			if (*p == '"') {
				q = !q;
				continue;
			}
			*out++ = *p;
		}
		*out++ = 0;
		if (!strncmp(w, "shim.", 5)) {
			if (!strncmp(w, "shim.stats", 11))
				opt_stats = 1;
			else if (!strncmp(w, "shim.debug", 11))
				opt_debug = 1;
			else if (!strncmp(w, "shim.prof", 10))
				opt_prof = 1; /* sample the program counter every 100 us */
			else if (!strncmp(w, "shim.asyncpreemptoff", 21))
				no_async_preempt = 1; /* Go then preempts only at calls */
			else if (!strncmp(w, "shim.trace", 11))
				opt_trace = 1; /* every system call, with times */
			continue;
		}
		if (envmode && !strncmp(w, "--", 3)) {
			envmode = 0;
			continue;
		}
		if (envmode && is_env(w)) {
			if (!strncmp(w, "GODEBUG=", 8))
				user_godebug = w; /* merged with ours below */
			else if (envc < MAXARGS)
				envp[envc++] = w;
			continue;
		}
		envmode = 0;
		if (argc < MAXARGS)
			argv[argc++] = w;
	}
	if (no_async_preempt) {
		/* The user's settings come last, so they win. */
		size_t n = strlen(godebug), m = user_godebug ? strlen(user_godebug + 8) : 0;
		if (m && n + 1 + m < sizeof godebug) {
			godebug[n] = ',';
			memcpy(godebug + n + 1, user_godebug + 8, m + 1);
		}
		envp[envc++] = godebug;
	} else if (user_godebug) {
		envp[envc++] = user_godebug;
	}
}

static u64 rand64(void)
{
	static u64 s;
	s += rdtsc() * 0x9e3779b97f4a7c15UL + 0x632be59bd9b4e019UL;
	u64 z = s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
	return z ^ (z >> 31);
}

/* A fresh-boot random source good enough for AT_RANDOM and getrandom:
 * RDRAND when the CPU has it, mixed with the TSC. */
u64 shim_random(void)
{
	u32 r[4];
	cpuid(1, 0, r);
	u64 v = rand64();
	if (r[2] & (1u << 30)) {
		u64 x;
		u8 ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(x), "=qm"(ok));
		if (ok)
			v ^= x;
	}
	return v;
}

#define STACK_TOP 0x7ffffffff000UL
#define STACK_SIZE (8UL << 20)

static u64 build_stack(void)
{
	u64 sp = STACK_TOP;
	vma_add(STACK_TOP - STACK_SIZE, STACK_TOP, 3);
	touch_range(STACK_TOP - 4 * PAGE, 4 * PAGE);
	char *uargv[MAXARGS + 2], *uenvp[MAXARGS + 2];
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		sp -= n;
		memcpy((void *)sp, argv[i], n);
		uargv[i] = (char *)sp;
	}
	for (int i = 0; i < envc; i++) {
		size_t n = strlen(envp[i]) + 1;
		sp -= n;
		memcpy((void *)sp, envp[i], n);
		uenvp[i] = (char *)sp;
	}
	sp -= 16;
	u64 rnd = sp;
	((u64 *)rnd)[0] = shim_random();
	((u64 *)rnd)[1] = shim_random();
	sp &= ~15UL;
	u64 aux[] = { 6, PAGE, 25, rnd, 16, 0, 23, 0, 0, 0, 0, 0 }; /* PAGESZ RANDOM HWCAP SECURE (XEN) NULL */
	if (on_xen) {
		aux[8] = AT_ANYKERNEL_XEN;
		aux[9] = (u64)&xen_info;
	}
	u64 nwords = 1 + argc + 1 + envc + 1 + sizeof aux / 8;
	if (nwords & 1)
		sp -= 8;
	sp -= nwords * 8;
	u64 *w = (u64 *)sp;
	*w++ = argc;
	for (int i = 0; i < argc; i++)
		*w++ = (u64)uargv[i];
	*w++ = 0;
	for (int i = 0; i < envc; i++)
		*w++ = (u64)uenvp[i];
	*w++ = 0;
	for (u64 i = 0; i < sizeof aux / 8; i++)
		*w++ = aux[i];
	return sp;
}

void shim_main(u32 start_info)
{
	/* On Xen start_info sits just past the image, in what becomes the
	 * pool: copy it before anything is allocated. */
	copy_start_info(start_info);
	on_xen = xen_detect();
	cpu_init();
	if (shim_payload.magic != PAYLOAD_MAGIC || !shim_payload.entry) {
		kprintf("anykernel: no program in this image (build it with build/image)\n");
		machine_exit(1, 1);
	}
	pool_init();
	mm_set_nullguard();
	if (on_xen)
		xen_init();
	parse_cmdline();
	time_init();
	if (opt_debug)
		kprintf("anykernel: shim up, xen=%d, %u memory map entries, cmdline \"%s\"\n", on_xen, nmemmap, cmdline);
	u64 sp = build_stack();
	sched_init(shim_payload.entry, sp);
}
