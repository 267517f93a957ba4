//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64

package uring

// pollMask32 returns the poll mask as the kernel reads poll32_events, which
// on little-endian machines is the mask itself.
func pollMask32(mask uint32) uint32 {
	return mask
}
