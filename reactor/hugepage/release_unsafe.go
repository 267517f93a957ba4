package hugepage

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Release gives the pages under b (memory from Alloc or AllocNormal) back
// now, huge pages to their pool, while b stays valid: a private anonymous mapping of normal
// pages replaces them at the same addresses (MAP_FIXED, atomic for anyone
// touching b meanwhile), zero-filled and costing memory only where
// touched again. Free still unmaps b at the end.
func Release(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED)
	if err != nil {
		return fmt.Errorf("release %d huge pages: %w", Pages(len(b)), err)
	}
	return nil
}
