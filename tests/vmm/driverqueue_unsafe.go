package vmm

import (
	"sync/atomic"
	"unsafe"
)

// The driver side synchronises with the device the way the back-end does
// (see package mvirt-net/reactor/virtq): 16-bit ring indices are accessed
// through sync/atomic operations on the aligned 32-bit word that holds
// them, and a store is a compare-and-swap loop that leaves the other half
// of the word alone. Ring views are padded to whole words, so the word
// always lies inside the view. Little-endian hosts only.

// ringWord returns the aligned word of b holding the 16-bit field at
// b[off:] and the field's shift in it.
func ringWord(b []byte, off int) (*uint32, uint) {
	lead := int((uintptr(unsafe.Pointer(unsafe.SliceData(b))) + uintptr(off)) & 3)
	w := b[off-lead : off-lead+4 : off-lead+4]
	return (*uint32)(unsafe.Pointer(unsafe.SliceData(w))), uint(lead) * 8
}

// ringLoad16 atomically loads the 16-bit field at b[off:].
func ringLoad16(b []byte, off int) uint16 {
	p, shift := ringWord(b, off)
	return uint16(atomic.LoadUint32(p) >> shift)
}

// ringStore16 atomically stores v into the 16-bit field at b[off:].
func ringStore16(b []byte, off int, v uint16) {
	p, shift := ringWord(b, off)
	mask := uint32(0xffff) << shift
	for {
		old := atomic.LoadUint32(p)
		if atomic.CompareAndSwapUint32(p, old, old&^mask|uint32(v)<<shift) {
			return
		}
	}
}
