//go:build armbe || arm64be || mips || mips64 || ppc64 || s390x || sparc64

package uring

// pollMask32 returns the poll mask as the kernel reads poll32_events: with
// its 16-bit halves swapped on big-endian machines, like liburing does.
func pollMask32(mask uint32) uint32 {
	return mask<<16 | mask>>16
}
