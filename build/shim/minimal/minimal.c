/*
 * minimal.c: the smallest useful PVH image in C, the baseline the Go
 * image's boot time is compared with. Entered in the 32-bit PVH state, it
 * prints one line on COM1 and leaves QEMU through isa-debug-exit (iobase
 * 0xf4). examples/xen/hello's BenchmarkBootQEMU builds it with:
 *
 *   gcc -m32 -O2 -ffreestanding -fno-pic -fno-stack-protector -nostdlib
 *       -static -no-pie -Wl,-Ttext-segment=0x100000 -Wl,-e,start
 *       -Wl,--build-id=none -o minimal.elf minimal.c
 */

/* XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit entry point. */
__asm__(".pushsection .note.Xen, \"a\", @note\n"
	".align 4\n"
	".long 4, 4, 18\n"
	".asciz \"Xen\"\n"
	".long start\n"
	".popsection\n"
	".text\n"
	".globl start\n"
	"start:\n"
	"	mov $stack_top, %esp\n"
	"	call cmain\n"
	"1:	hlt\n"
	"	jmp 1b\n");

static unsigned char stack[4096] __attribute__((aligned(16), used));
__asm__(".set stack_top, stack + 4096");

static inline void outb(unsigned short port, unsigned char v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(unsigned short port, unsigned v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }

__attribute__((used)) void cmain(void)
{
	for (const char *p = "hello from a minimal C PVH image\n"; *p; p++)
		outb(0x3f8, *p);
	outl(0xf4, 0); /* QEMU exits with status (0 << 1) | 1 */
}
