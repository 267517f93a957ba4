#include "textflag.h"

// func read(p unsafe.Pointer, n int)
TEXT ·read(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX
	ANDQ $~63, AX
readloop:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, CX
	JB readloop
	RET

// func write(p unsafe.Pointer, n int)
TEXT ·write(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX
	ANDQ $~63, AX
writeloop:
	// PREFETCHW (AX), which the Go assembler does not know.
	BYTE $0x0f; BYTE $0x0d; BYTE $0x08
	ADDQ $64, AX
	CMPQ AX, CX
	JB writeloop
	RET
