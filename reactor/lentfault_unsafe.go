package reactor

import "unsafe"

// contains reports whether the address addr lies in b.
func contains(b []byte, addr uintptr) bool {
	return addr-uintptr(unsafe.Pointer(unsafe.SliceData(b))) < uintptr(len(b))
}
