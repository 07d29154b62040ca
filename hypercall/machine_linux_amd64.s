// The privileged instructions hypercall/ needs, for Go code that runs in
// ring 0 under the anykernel shim. All are leaf functions that never grow
// the stack (NOSPLIT, no frame), so an unsafe.Pointer argument still
// points at its object when the hypervisor reads it.

#include "textflag.h"

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, a+8(FP)
	MOVL	BX, b+12(FP)
	MOVL	CX, c+16(FP)
	MOVL	DX, d+20(FP)
	RET

// func cpl() uint64 returns the current privilege level (CS's low bits);
// reading CS is allowed in any ring.
TEXT ·cpl(SB), NOSPLIT, $0-8
	MOVQ	$0, AX
	MOVW	CS, AX
	ANDQ	$3, AX
	MOVQ	AX, ret+0(FP)
	RET

// func wrmsr(msr uint32, v uint64)
TEXT ·wrmsr(SB), NOSPLIT, $0-16
	MOVL	msr+0(FP), CX
	MOVQ	v+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

// func rdtsc() uint64
TEXT ·rdtsc(SB), NOSPLIT, $0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func readCR3() uint64
TEXT ·readCR3(SB), NOSPLIT, $0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET

// func hcall(entry, cmd uintptr, arg unsafe.Pointer, count uintptr) int64
// calls the hypercall page stub at entry with the x86-64 hypercall
// registers (rdi, rsi, rdx); the result is in rax. ABI0 lets us clobber
// every general register the hypervisor may clobber.
TEXT ·hcall(SB), NOSPLIT, $0-40
	MOVQ	entry+0(FP), AX
	MOVQ	cmd+8(FP), DI
	MOVQ	arg+16(FP), SI
	MOVQ	count+24(FP), DX
	CALL	AX
	MOVQ	AX, ret+32(FP)
	RET
