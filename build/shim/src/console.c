/*
 * console.c: output (COM1 on QEMU, the Xen PV console ring on Xen), a
 * small printf, and machine exit with a status the host can see.
 */
#include "shim.h"
#include <stdarg.h>

int on_xen;
int opt_stats, opt_debug, opt_trace, opt_prof;

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4 /* -device isa-debug-exit,iobase=0xf4,iosize=4 */

/* Word-sized string ops first: QEMU's TCG runs rep stos/movs one
 * iteration at a time, so bytes would cost eight times as much. */
void *memset(void *d, int c, size_t n)
{
	void *r = d;
	u64 q = n / 8, v = 0x0101010101010101UL * (u8)c;
	n %= 8;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
	return r;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *r = d;
	u64 q = n / 8;
	n %= 8;
	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return r;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

static void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* Wait for the transmit holding register: QEMU drops bytes
		 * written while its backend is busy. Bounded, in case there is
		 * no UART at all (reads then return 0xff). */
		for (int spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
			__asm__ volatile("pause");
		outb(COM1, s[i]);
	}
}

/* Port 0xE9: Xen prints it on its own serial log as "(dN) ...". Slow under
 * nested virtualisation (one exit per byte): only for the last words. */
static void e9_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		outb(0xe9, s[i]);
}

void console_write(const char *s, size_t n)
{
	if (on_xen)
		xen_console_write(s, n);
	else
		serial_write(s, n);
}

void console_flush(void)
{
	if (on_xen)
		xen_console_flush();
}

static char kbuf[512];
static size_t klen;

static void kput(char c)
{
	if (klen == sizeof kbuf) {
		console_write(kbuf, klen);
		klen = 0;
	}
	kbuf[klen++] = c;
}

static void kputs(const char *s)
{
	while (*s)
		kput(*s++);
}

static void kputu(u64 v, int base, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		kput(tmp[--n]);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			kput(*fmt);
			continue;
		}
		fmt++;
		int lng = 0, width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			kputs(s ? s : "(null)");
			break;
		}
		case 'd': {
			s64 v = lng ? va_arg(ap, s64) : va_arg(ap, int);
			if (v < 0) {
				kput('-');
				v = -v;
			}
			kputu(v, 10, width);
			break;
		}
		case 'u':
			kputu(lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, width);
			break;
		case 'x':
			kputu(lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, width);
			break;
		case 'p':
			kputs("0x");
			kputu(va_arg(ap, u64), 16, 16);
			break;
		case 'c':
			kput(va_arg(ap, int));
			break;
		default:
			kput('%');
			kput(*fmt);
		}
	}
	va_end(ap);
	console_write(kbuf, klen);
	klen = 0;
}

static void print_status(int status, int crashed)
{
	char line[48];
	const char *p = crashed ? "anykernel: crash status " : "anykernel: exit status ";
	size_t n = 0;
	line[n++] = '\n';
	while (*p)
		line[n++] = *p++;
	char tmp[12];
	int k = 0;
	u32 v = (u32)status;
	do {
		tmp[k++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (k)
		line[n++] = tmp[--k];
	line[n++] = '\n';
	/* The leading newline keeps the line parseable after partial output. */
	console_write(line, n);
	if (on_xen)
		e9_write(line + 1, n - 1);
}

/*
 * machine_exit ends the machine: on Xen SCHEDOP_shutdown (poweroff for
 * status 0, crash otherwise), on QEMU the isa-debug-exit port, and as a
 * last resort a triple fault (QEMU -no-reboot then exits).
 */
void machine_exit(int status, int crashed)
{
	__asm__ volatile("cli");
	if (opt_stats) {
		u64 pool = mm_pages_used * PAGE;
		kprintf("anykernel: stats: backed %lu KiB (image %lu KiB, pool pages %lu KiB, peak %lu KiB, page tables %lu KiB) uptime %lu us, %lu syscalls, %lu page faults, %lu timer interrupts, idle %lu us, %lu rdtsc(p) emulated\n",
			(mm_image_bytes + pool) >> 10, mm_image_bytes >> 10, pool >> 10,
			(mm_pages_peak * PAGE) >> 10, (mm_pt_pages * PAGE) >> 10, now_ns() / 1000,
			stat_syscalls, stat_faults, stat_irqs, stat_idle_ns / 1000, stat_tsc_emulated);
		if (on_xen)
			kprintf("anykernel: stats: %lu event channel upcalls, %lu event waits blocked\n",
				xen_info.upcalls, xen_info.evtchn_blocks);
	}
	if (opt_prof) {
		/* Sampled instruction pointers: map them with go tool addr2line. */
		for (u64 i = 0; i < nprof; i++)
			kprintf("anykernel: prof %lx\n", prof[i]);
	}
	print_status(status, crashed);
	console_flush();
	if (on_xen)
		xen_shutdown(crashed || status != 0 ? 3 /* crash */ : 0 /* poweroff */);
	outl(DEBUG_EXIT_PORT, crashed ? 0x7f : (u32)status & 0x7f);
	/* Triple fault: empty IDT, then any exception. */
	static struct { u16 lim; u64 base; } __attribute__((packed)) nullidt;
	__asm__ volatile("lidt %0; int3" ::"m"(nullidt));
	for (;;)
		__asm__ volatile("hlt");
}
