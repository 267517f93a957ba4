//go:build amd64 && !race

#include "textflag.h"

// func storeRelease(seq *atomic.Uint64, v uint64)
TEXT ·storeRelease(SB), NOSPLIT, $0-16
	MOVQ seq+0(FP), AX
	MOVQ v+8(FP), BX
	MOVQ BX, 0(AX)
	RET

// func fullFence()
TEXT ·fullFence(SB), NOSPLIT, $0-0
	LOCK
	ORQ $0, 0(SP)
	RET
