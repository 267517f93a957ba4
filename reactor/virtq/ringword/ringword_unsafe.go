//go:build amd64 || arm64 || riscv64 || loong64 || ppc64le || mips64le || mipsle || 386 || arm

// Package ringword accesses the 16-bit indices of a virtqueue that a
// driver and a device update concurrently from different CPUs, for the
// device (package virtq) and the simulated driver (tests/vmm) alike.
//
// Go's sync/atomic has no 16-bit operations, so every access goes through
// the naturally aligned 32-bit word that contains the field: a load is an
// atomic load of the word, a store a compare-and-swap loop that replaces
// only the field's half and leaves the other half, which may belong to the
// other side, as it is. A 2-aligned field never straddles an aligned word.
// Package virtq's documentation gives the memory-ordering argument. The
// build constraint lists little-endian architectures only: the shifts
// place the field at the lower address in the low half of the word.
package ringword

import (
	"sync/atomic"
	"unsafe"
)

// HostAddr returns the host virtual address of b's first byte.
func HostAddr(b []byte) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// word returns the aligned 32-bit word of b that contains the 16-bit field
// at b[off:off+2], and the field's shift within it. The field must be
// 2-aligned in host memory and the word must lie inside b, which the
// slice expression checks.
func word(b []byte, off int) (*uint32, uint) {
	lead := int((HostAddr(b) + uintptr(off)) & 3)
	w := b[off-lead : off-lead+4 : off-lead+4]
	return (*uint32)(unsafe.Pointer(unsafe.SliceData(w))), uint(lead) * 8
}

// Load16 atomically loads the little-endian 16-bit field at b[off:].
func Load16(b []byte, off int) uint16 {
	p, shift := word(b, off)
	return uint16(atomic.LoadUint32(p) >> shift)
}

// Store16 atomically stores v into the little-endian 16-bit field at
// b[off:], leaving the other half of its word untouched even if the other
// side writes it concurrently.
func Store16(b []byte, off int, v uint16) {
	p, shift := word(b, off)
	mask := uint32(0xffff) << shift
	for {
		old := atomic.LoadUint32(p)
		if atomic.CompareAndSwapUint32(p, old, old&^mask|uint32(v)<<shift) {
			return
		}
	}
}
