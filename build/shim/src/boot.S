/*
 * boot.S: PVH entry (32-bit protected mode, paging off), the switch to long
 * mode, and the low-level entry points: syscall, interrupts and the
 * thread switch. Everything runs in ring 0; the Go program's "syscall"
 * instruction lands in syscall_entry because MSR_LSTAR points there.
 *
 * Trap frame layout (low to high), shared with struct frame in shim.h:
 *   r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax vec err
 *   rip cs rflags rsp ss
 */
#define KCODE 0x08
#define KDATA 0x10
#define FRAME_QWORDS 22

	.section .text.boot, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
	cld
	mov	%ebx, %esi		/* hvm_start_info, kept for C */

	/* .bss (page tables, stacks) is already zero: PVH loaders (Xen's
	 * libelf, QEMU's ELF loader) clear a segment's memsz past its
	 * filesz. Clearing it again here cost ~8 ms under QEMU's TCG, which
	 * runs rep stos one step at a time. */

	/* Identity map 0..4 GiB with 2 MiB pages: pml4[0] -> pdpt -> 4 PDs. */
	mov	$boot_pdpt, %eax
	or	$3, %eax
	mov	%eax, boot_pml4
	mov	$boot_pd, %eax
	or	$3, %eax
	mov	$boot_pdpt, %edi
	mov	$4, %ecx
1:	mov	%eax, (%edi)
	add	$4096, %eax
	add	$8, %edi
	loop	1b
	mov	$boot_pd, %edi
	mov	$0x83, %eax		/* present, writable, 2 MiB */
	xor	%edx, %edx
	mov	$2048, %ecx
2:	mov	%eax, (%edi)
	mov	%edx, 4(%edi)
	add	$0x200000, %eax
	adc	$0, %edx
	add	$8, %edi
	loop	2b

	lgdt	gdt_desc
	mov	%cr4, %eax
	or	$(1<<5 | 1<<9 | 1<<10), %eax	/* PAE, OSFXSR, OSXMMEXCPT */
	mov	%eax, %cr4
	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	$0xC0000080, %ecx		/* EFER: LME | SCE */
	rdmsr
	or	$(1<<8 | 1<<0), %eax
	wrmsr
	mov	%cr0, %eax
	and	$~(1<<2 | 1<<3), %eax		/* clear EM, TS */
	or	$(1<<31 | 1<<16 | 1<<1 | 1<<0), %eax	/* PG, WP, MP, PE */
	mov	%eax, %cr0
	ljmp	$KCODE, $long_entry

	.code64
long_entry:
	mov	$KDATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%eax, %eax
	mov	%ax, %fs
	mov	%ax, %gs
	lea	boot_stack_top(%rip), %rsp
	fninit
	mov	%esi, %edi
	call	shim_main
3:	hlt
	jmp	3b

	.section .data
	.align 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0, 0			/* 0x18: TSS, filled in by C */
gdt_end:
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.text
/*
 * syscall_entry: the CPU saved rip in rcx and rflags in r11 and cleared IF
 * (MSR_FMASK), but stayed on the caller's stack, which may be a small Go
 * stack: switch to the current thread's kernel stack first.
 */
	.globl syscall_entry
syscall_entry:
	mov	%rsp, user_rsp_tmp(%rip)
	mov	cur_kstack_top(%rip), %rsp
	pushq	$KDATA
	pushq	user_rsp_tmp(%rip)
	pushq	%r11
	pushq	$KCODE
	pushq	%rcx
	pushq	$0
	pushq	$-1
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	movl	$1, kmode(%rip)
	mov	%rsp, %rdi
	call	syscall_handler
	/* fall through */

/* return_to_user: %rsp points at a trap frame on the kernel stack. */
	.globl return_to_user
return_to_user:
	cli
	movl	$0, kmode(%rip)
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp
	iretq

/*
 * All vectors arrive on an IST stack (a fault on a not yet backed Go stack
 * page could not push its frame otherwise). A trap from Go code is copied
 * to the thread's kernel stack, where the handler may switch threads; a
 * trap in the shim itself (idle hlt, a user buffer touched by a syscall)
 * is handled on the IST stack and never switches.
 */
int_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	cld
	cmpl	$0, kmode(%rip)
	jne	1f
	mov	cur_kstack_top(%rip), %rdi
	sub	$(FRAME_QWORDS*8), %rdi
	mov	%rdi, %rax
	mov	%rsp, %rsi
	mov	$FRAME_QWORDS, %ecx
	rep movsq
	mov	%rax, %rsp
	movl	$1, kmode(%rip)
	mov	%rsp, %rdi
	mov	$1, %esi
	call	trap
	jmp	return_to_user
1:
	mov	%rsp, %rdi
	xor	%esi, %esi
	call	trap
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp
	iretq

/* Vector stubs, 16 bytes apart so C can compute their addresses. */
	.altmacro
	.macro vecstub n
	.align 16
	.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushq	$0
	.endif
	pushq	$\n
	jmp	int_common
	.endm
	.align 16
	.globl vector_stubs
vector_stubs:
	.set i, 0
	.rept 256
	vecstub %i
	.set i, i+1
	.endr

/* swtch(uint64_t *save_sp, uint64_t new_sp): callee-saved switch. */
	.globl swtch
swtch:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, (%rdi)
	mov	%rsi, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret

	.bss
	.align 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4*4096
	.align 16
boot_stack:	.skip 16384
boot_stack_top:
user_rsp_tmp:	.skip 8
	.globl kmode
kmode:		.skip 8
	.section .note.GNU-stack, "", @progbits
