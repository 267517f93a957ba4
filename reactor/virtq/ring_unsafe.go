//go:build amd64 || arm64 || riscv64 || loong64 || ppc64le || mips64le || mipsle || 386 || arm

package virtq

import (
	"sync/atomic"
	"unsafe"
)

// This file holds the package's only unsafe code: the atomic 16-bit ring
// index accesses described in the package documentation, and the host
// address of a view, used to check alignment. The build constraint lists
// little-endian architectures only: the shifts below place the field at
// the lower address in the low half of the word.

// hostAddr returns the host virtual address of b's first byte.
func hostAddr(b []byte) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// word returns the aligned 32-bit word of b that contains the 16-bit field
// at b[off:off+2], and the field's shift within it. The field must be
// 2-aligned in host memory; the word must lie inside b, which Setup
// guarantees for ring views, and which the slice expression checks.
func word(b []byte, off int) (*uint32, uint) {
	lead := int((hostAddr(b) + uintptr(off)) & 3)
	w := b[off-lead : off-lead+4 : off-lead+4]
	return (*uint32)(unsafe.Pointer(unsafe.SliceData(w))), uint(lead) * 8
}

// load16 atomically loads the little-endian 16-bit field at b[off:].
func load16(b []byte, off int) uint16 {
	p, shift := word(b, off)
	return uint16(atomic.LoadUint32(p) >> shift)
}

// store16 atomically stores v into the little-endian 16-bit field at
// b[off:], leaving the other half of its word untouched even if the other
// side writes it concurrently.
func store16(b []byte, off int, v uint16) {
	p, shift := word(b, off)
	mask := uint32(0xffff) << shift
	for {
		old := atomic.LoadUint32(p)
		if atomic.CompareAndSwapUint32(p, old, old&^mask|uint32(v)<<shift) {
			return
		}
	}
}
