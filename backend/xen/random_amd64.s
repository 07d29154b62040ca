//go:build xen

#include "textflag.h"

// func rdrand() (v uint64, ok bool)
TEXT ·rdrand(SB), NOSPLIT, $0-9
	// RDRAND RAX
	BYTE $0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0xf0
	SETCS ok+8(FP)
	MOVQ AX, v+0(FP)
	RET

// func rdseed() (v uint64, ok bool)
TEXT ·rdseed(SB), NOSPLIT, $0-9
	// RDSEED RAX
	BYTE $0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0xf8
	SETCS ok+8(FP)
	MOVQ AX, v+0(FP)
	RET
