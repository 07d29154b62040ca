/*
 * mm.c: physical pages, page tables and the program's address space.
 *
 * Physical memory below 4 GiB is identity mapped (2 MiB pages) for the
 * shim, the loaded program and the page pool. The program's mmap()ed
 * memory lives above 4 GiB and is backed on first touch by the page-fault
 * handler; PROT_NONE reservations are never backed; munmap and
 * MADV_DONTNEED give pages back.
 */
#include "shim.h"

#define PTE_P 1UL
#define PTE_W 2UL
#define PTE_PCD 0x10UL
#define PTE_PS 0x80UL
#define ADDR_MASK 0x000ffffffffff000UL
#define USER_MIN 0x100000000UL     /* above the identity map */
#define USER_MAX 0x800000000000UL  /* 47-bit canonical */
#define MMAP_BASE 0x200000000000UL
#define FAULT_AROUND 4

#define ENOMEM 12
#define EINVAL 22
#define ENODEV 19

extern u64 boot_pml4[], boot_pd[];

u64 mm_pages_used, mm_pages_peak, mm_pt_pages, mm_image_bytes;
static u64 pool_next, pool_end, free_list;

void mm_init(u64 lo, u64 hi)
{
	pool_next = lo;
	pool_end = hi;
}

static __attribute__((noreturn)) void oom(void)
{
	kprintf("anykernel: out of memory (%lu pages in use)\n", mm_pages_used);
	machine_exit(12, 1);
}

static void count(long n)
{
	mm_pages_used += n;
	if (mm_pages_used > mm_pages_peak)
		mm_pages_peak = mm_pages_used;
}

/* Zero a page with plain stores: under QEMU's TCG an unrolled loop is
 * several times faster than rep stos, which runs one step at a time. */
static void zero_page(u64 pa)
{
	volatile u64 *p = (u64 *)pa;
	for (int i = 0; i < 512; i += 8) {
		p[i] = 0; p[i + 1] = 0; p[i + 2] = 0; p[i + 3] = 0;
		p[i + 4] = 0; p[i + 5] = 0; p[i + 6] = 0; p[i + 7] = 0;
	}
}

u64 page_alloc(void)
{
	u64 pa;
	if (free_list) {
		pa = free_list;
		free_list = *(u64 *)pa;
	} else {
		if (pool_next + PAGE > pool_end)
			oom();
		pa = pool_next;
		pool_next += PAGE;
	}
	zero_page(pa);
	count(1);
	return pa;
}

u64 pages_alloc_contig(u64 n)
{
	if (pool_next + n * PAGE > pool_end)
		oom();
	u64 pa = pool_next;
	pool_next += n * PAGE;
	for (u64 i = 0; i < n; i++)
		zero_page(pa + i * PAGE);
	count(n);
	return pa;
}

void page_free(u64 pa)
{
	*(u64 *)pa = free_list;
	free_list = pa;
	count(-1);
}

/* Unmap 0..1 MiB (catches nil dereferences) and make the LAPIC uncached. */
void mm_set_nullguard(void)
{
	u64 *pt = (u64 *)page_alloc();
	mm_pt_pages++;
	for (u64 i = 0; i < 512; i++)
		pt[i] = i * PAGE >= 0x100000 ? (i * PAGE) | PTE_P | PTE_W : 0;
	boot_pd[0] = (u64)pt | PTE_P | PTE_W;
	boot_pd[0xfee00000UL >> 21] |= PTE_PCD;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

/* walk returns the 4 KiB PTE for va, creating tables when asked; NULL for
 * addresses inside the identity map's large pages. */
static u64 *walk(u64 va, int create)
{
	u64 *t = boot_pml4;
	for (int shift = 39; shift > 12; shift -= 9) {
		u64 *e = &t[(va >> shift) & 511];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			*e = page_alloc() | PTE_P | PTE_W;
			mm_pt_pages++;
		}
		if (*e & PTE_PS)
			return NULL;
		t = (u64 *)(*e & ADDR_MASK);
	}
	return &t[(va >> 12) & 511];
}

static void unmap_range(u64 s, u64 e)
{
	u64 va = s;
	while (va < e) {
		u64 *t = boot_pml4;
		int shift, skip = 0;
		for (shift = 39; shift > 12; shift -= 9) {
			u64 ent = t[(va >> shift) & 511];
			if (!(ent & PTE_P) || (ent & PTE_PS)) {
				va = ROUNDDOWN(va, 1UL << shift) + (1UL << shift);
				skip = 1;
				break;
			}
			t = (u64 *)(ent & ADDR_MASK);
		}
		if (skip)
			continue;
		u64 *pte = &t[(va >> 12) & 511];
		if (*pte & PTE_P) {
			page_free(*pte & ADDR_MASK);
			*pte = 0;
			__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
		}
		va += PAGE;
	}
}

/* The address space: sorted, non-overlapping ranges with their prot. */
#define MAXVMA 1024
struct vma {
	u64 s, e;
	int prot;
};
static struct vma vmas[MAXVMA], tmp[MAXVMA];
static int nvma;

/* vma_set gives [s,e) the protection prot (-1 removes it). */
static s64 vma_set(u64 s, u64 e, int prot)
{
	int n = 0, inserted = 0;
	if (nvma >= MAXVMA - 4)
		return -ENOMEM;
	for (int i = 0; i < nvma; i++) {
		struct vma v = vmas[i];
		if (v.e <= s || v.s >= e) {
			if (!inserted && prot >= 0 && v.s >= e) {
				tmp[n++] = (struct vma){ s, e, prot };
				inserted = 1;
			}
			tmp[n++] = v;
			continue;
		}
		if (v.s < s)
			tmp[n++] = (struct vma){ v.s, s, v.prot };
		if (!inserted && prot >= 0) {
			tmp[n++] = (struct vma){ s, e, prot };
			inserted = 1;
		}
		if (v.e > e)
			tmp[n++] = (struct vma){ e, v.e, v.prot };
	}
	if (!inserted && prot >= 0)
		tmp[n++] = (struct vma){ s, e, prot };
	/* Merge neighbours with the same protection. */
	nvma = 0;
	for (int i = 0; i < n; i++) {
		if (nvma && vmas[nvma - 1].e == tmp[i].s && vmas[nvma - 1].prot == tmp[i].prot)
			vmas[nvma - 1].e = tmp[i].e;
		else
			vmas[nvma++] = tmp[i];
	}
	return 0;
}

s64 vma_add(u64 start, u64 end, int prot)
{
	return vma_set(start, end, prot);
}

static struct vma *vma_find(u64 a)
{
	int lo = 0, hi = nvma;
	while (lo < hi) {
		int m = (lo + hi) / 2;
		if (vmas[m].e <= a)
			lo = m + 1;
		else if (vmas[m].s > a)
			hi = m;
		else
			return &vmas[m];
	}
	return NULL;
}

static int range_free(u64 s, u64 e)
{
	for (int i = 0; i < nvma; i++)
		if (vmas[i].s < e && vmas[i].e > s)
			return 0;
	return 1;
}

int mm_fault(u64 addr)
{
	struct vma *v = vma_find(addr);
	if (!v || v->prot == 0)
		return -1;
	u64 *pte = walk(addr, 1);
	if (!pte)
		return -1;
	if (*pte & PTE_P)
		return -1; /* present yet faulting: not ours to fix */
	*pte = page_alloc() | PTE_P | PTE_W;
	/* Fault-around: back the next few pages of the same mapping (in the
	 * same page table) too. Go touches memory sequentially, and each
	 * fault costs far more than zeroing a page, above all under TCG. */
	u64 a = ROUNDDOWN(addr, PAGE);
	for (int i = 1; i < FAULT_AROUND; i++) {
		a += PAGE;
		if (a >= v->e || ((a >> 12) & 511) == 0 || (pte[i] & PTE_P))
			break;
		pte[i] = page_alloc() | PTE_P | PTE_W;
	}
	return 0;
}

int touch_range(u64 addr, u64 len)
{
	for (u64 a = ROUNDDOWN(addr, PAGE); a < addr + len; a += PAGE) {
		u64 *pte = walk(a, 0);
		if (pte && (*pte & PTE_P))
			continue;
		if (mm_fault(a) < 0)
			return -1;
	}
	return 0;
}

static u64 mmap_next = MMAP_BASE;

s64 sys_mmap(u64 addr, u64 len, u64 prot, u64 flags, s64 fd, u64 off)
{
	(void)fd;
	(void)off;
	if (!(flags & 0x20)) /* MAP_ANONYMOUS: the Go runtime maps nothing else */
		return -ENODEV;
	len = ROUNDUP(len, PAGE);
	if (!len || len > USER_MAX)
		return -EINVAL;
	if (flags & 0x10) { /* MAP_FIXED */
		if ((addr & (PAGE - 1)) || addr < USER_MIN || addr + len > USER_MAX)
			return -EINVAL;
		unmap_range(addr, addr + len);
	} else if (!(addr && !(addr & (PAGE - 1)) && addr >= USER_MIN && addr + len <= USER_MAX &&
		     range_free(addr, addr + len))) {
		/* Honour hints when the range is free; else take fresh space. */
		addr = mmap_next;
		while (!range_free(addr, addr + len))
			addr += len;
		if (addr + len > USER_MAX)
			return -ENOMEM;
		mmap_next = addr + len;
	}
	if (vma_set(addr, addr + len, prot & 7) < 0)
		return -ENOMEM;
	return addr;
}

s64 sys_munmap(u64 addr, u64 len)
{
	len = ROUNDUP(len, PAGE);
	if ((addr & (PAGE - 1)) || addr < USER_MIN || addr + len > USER_MAX)
		return -EINVAL;
	unmap_range(addr, addr + len);
	return vma_set(addr, addr + len, -1);
}

s64 sys_madvise(u64 addr, u64 len, u64 advice)
{
	len = ROUNDUP(len, PAGE);
	if (advice == 4 || advice == 8) { /* MADV_DONTNEED, MADV_FREE */
		if (addr >= USER_MIN && addr + len <= USER_MAX)
			unmap_range(addr, addr + len);
	}
	return 0;
}

s64 sys_mprotect(u64 addr, u64 len, u64 prot)
{
	len = ROUNDUP(len, PAGE);
	if (addr < USER_MIN || addr + len > USER_MAX)
		return addr + len <= 0x100000000UL ? 0 : -EINVAL;
	/* Pages stay backed; only the fault-time permission changes. */
	for (u64 a = addr; a < addr + len;) {
		struct vma *v = vma_find(a);
		if (!v)
			return -ENOMEM;
		u64 e = v->e < addr + len ? v->e : addr + len;
		if (vma_set(a, e, prot & 7) < 0)
			return -ENOMEM;
		a = e;
	}
	return 0;
}
