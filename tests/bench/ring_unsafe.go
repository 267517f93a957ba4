package bench

import (
	"sync/atomic"
	"unsafe"
)

// The ring indexes the driver and the device exchange are 16-bit fields,
// read and written here as whole aligned 32-bit words through sync/atomic
// (see newRing for the layout that makes every such word belong to one
// side only). Little-endian hosts only: the field at offset 2 of a word is
// its high half.

// word returns the aligned 32-bit word at b[off:].
func word(b []byte, off int) *uint32 {
	return (*uint32)(unsafe.Pointer(&b[off : off+4 : off+4][0]))
}

// loadLow16 atomically loads the 16-bit field at b[off:] (a word start).
func loadLow16(b []byte, off int) uint16 { return uint16(atomic.LoadUint32(word(b, off))) }

// loadHigh16 atomically loads the 16-bit field at b[off+2:].
func loadHigh16(b []byte, off int) uint16 { return uint16(atomic.LoadUint32(word(b, off)) >> 16) }

// storeWord atomically stores the word at b[off:], two 16-bit fields
// written by the same side.
func storeWord(b []byte, off int, low, high uint16) {
	atomic.StoreUint32(word(b, off), uint32(low)|uint32(high)<<16)
}
