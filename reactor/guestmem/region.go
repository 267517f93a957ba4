package guestmem

import (
	"errors"
	"fmt"
	"math"
)

// Region describes one guest memory region as a vhost-user frontend sends
// it: the guest-physical range, where the frontend itself mapped it, and
// where it starts inside the file descriptor that accompanies it.
type Region struct {
	GuestPhysAddr uint64 // first guest-physical address of the region
	Size          uint64 // length in bytes
	UserspaceAddr uint64 // frontend's virtual address of the region start
	MmapOffset    uint64 // offset of the region start in its fd
}

// errEmptyRegion reports a region of size zero.
var errEmptyRegion = errors.New("region has size 0")

// validate checks that every range the region spans fits in 64 bits and
// that the mapping fits in an int.
func (r Region) validate() error {
	if r.Size == 0 {
		return errEmptyRegion
	}
	last := r.Size - 1
	switch {
	case r.GuestPhysAddr > math.MaxUint64-last:
		return fmt.Errorf("guest-physical range %#x+%#x wraps", r.GuestPhysAddr, r.Size)
	case r.UserspaceAddr > math.MaxUint64-last:
		return fmt.Errorf("userspace range %#x+%#x wraps", r.UserspaceAddr, r.Size)
	case r.MmapOffset > math.MaxInt64-last:
		return fmt.Errorf("mmap range %#x+%#x exceeds the file offset range", r.MmapOffset, r.Size)
	case r.Size > math.MaxInt/2:
		return fmt.Errorf("region size %#x too large to map", r.Size)
	}
	return nil
}

// overlaps reports whether r and o share any guest-physical address.
func (r Region) overlaps(o Region) bool {
	return r.GuestPhysAddr <= o.GuestPhysAddr+(o.Size-1) && o.GuestPhysAddr <= r.GuestPhysAddr+(r.Size-1)
}

// String formats the region for log lines and errors.
func (r Region) String() string {
	return fmt.Sprintf("gpa %#x size %#x uva %#x off %#x", r.GuestPhysAddr, r.Size, r.UserspaceAddr, r.MmapOffset)
}
