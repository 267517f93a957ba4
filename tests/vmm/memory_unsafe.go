package vmm

import "unsafe"

// userBase returns the address of m's mapping in this process.
func (m *GuestMemory) userBase() uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(m.mem))))
}
