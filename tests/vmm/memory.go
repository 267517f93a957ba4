package vmm

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// DefaultGuestBase is the guest-physical address where NewGuestMemory
// places its memory. It is not 0 so that a confusion of guest-physical
// addresses with offsets shows up in tests.
const DefaultGuestBase = 0x4000_0000

// GuestMemory is the RAM of a simulated guest: a memfd mapped shared into
// this process, which the back-end maps too, as QEMU's
// memory-backend-memfd,share=on does. A bump allocator hands out pieces of
// it for rings and buffers.
//
// GuestMemory owns the memfd and the mapping until Close. Views returned
// by Bytes borrow the mapping and die with it. It is used from one
// goroutine at a time; its memory may be shared with any.
type GuestMemory struct {
	fd   int
	mem  []byte
	base uint64 // guest-physical address of mem[0]
	next uint64 // offset of the first unallocated byte
}

// NewGuestMemory returns size bytes of zeroed guest memory at
// DefaultGuestBase. size is rounded up to whole pages.
func NewGuestMemory(size int) (*GuestMemory, error) {
	return NewGuestMemoryAt(DefaultGuestBase, size)
}

// NewGuestMemoryAt is NewGuestMemory with the memory at guest-physical
// address gpa, which must be page-aligned; use it for guests with several
// regions.
func NewGuestMemoryAt(gpa uint64, size int) (*GuestMemory, error) {
	page := os.Getpagesize()
	if size <= 0 || gpa%uint64(page) != 0 {
		return nil, fmt.Errorf("vmm: guest memory: bad size %d or unaligned address %#x", size, gpa)
	}
	size = (size + page - 1) &^ (page - 1)
	fd, err := unix.MemfdCreate("vmm-guest-ram", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("vmm: guest memory: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vmm: guest memory: ftruncate %d: %w", size, err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vmm: guest memory: mmap %d: %w", size, err)
	}
	return &GuestMemory{fd: fd, mem: mem, base: gpa}, nil
}

// Base returns the guest-physical address of the first byte.
func (m *GuestMemory) Base() uint64 { return m.base }

// Size returns the size in bytes.
func (m *GuestMemory) Size() uint64 { return uint64(len(m.mem)) }

// Fd returns the memfd, which stays owned by m: the front-end sends a copy.
func (m *GuestMemory) Fd() int { return m.fd }

// Alloc reserves size bytes aligned to align (a power of 2) and returns
// their guest-physical address. Memory is never freed. Running out is a
// bug in the test and panics.
func (m *GuestMemory) Alloc(size, align uint64) uint64 {
	if align == 0 || align&(align-1) != 0 {
		panic(fmt.Sprintf("vmm: Alloc: alignment %d is not a power of 2", align))
	}
	start := (m.base + m.next + align - 1) &^ (align - 1)
	off := start - m.base
	if size > uint64(len(m.mem)) || off > uint64(len(m.mem))-size {
		panic(fmt.Sprintf("vmm: Alloc: %d bytes do not fit in guest memory (%d of %d used)", size, m.next, len(m.mem)))
	}
	m.next = off + size
	return start
}

// Bytes returns the view of n bytes at guest-physical address gpa. A range
// outside the memory is a bug in the test and panics.
func (m *GuestMemory) Bytes(gpa uint64, n int) []byte {
	off := gpa - m.base
	if gpa < m.base || n < 0 || off > uint64(len(m.mem)) || uint64(n) > uint64(len(m.mem))-off {
		panic(fmt.Sprintf("vmm: Bytes: %d bytes at %#x outside guest memory [%#x, %#x)", n, gpa, m.base, m.base+m.Size()))
	}
	return m.mem[off : off+uint64(n) : off+uint64(n)]
}

// Contains reports whether the n bytes at gpa are guest memory.
func (m *GuestMemory) Contains(gpa, n uint64) bool {
	off := gpa - m.base
	return gpa >= m.base && off <= uint64(len(m.mem)) && n <= uint64(len(m.mem))-off
}

// UserAddr returns the address of guest-physical gpa in this process,
// which plays the VMM: what vhost-user calls a front-end virtual address.
func (m *GuestMemory) UserAddr(gpa uint64) uint64 {
	return m.userBase() + (gpa - m.base)
}

// Region describes the memory for SET_MEM_TABLE or ADD_MEM_REG the way
// QEMU does: the userspace address is where this process mapped it, the
// fd is m's (still owned by m).
func (m *GuestMemory) Region() MemRegion {
	return MemRegion{
		GuestPhysAddr: m.base,
		Size:          m.Size(),
		UserspaceAddr: m.userBase(),
		MmapOffset:    0,
		Fd:            m.fd,
	}
}

// Truncate shrinks the memfd so that guest memory from gpa (page-aligned)
// on no longer exists, as a VMM that truncates its memory file under a
// running device does: the back-end's accesses there fault, and so would
// this process's, so views of it must not be used any more. Memory
// allocated after the truncation is gone too.
func (m *GuestMemory) Truncate(gpa uint64) error {
	if !m.Contains(gpa, 0) || gpa%uint64(os.Getpagesize()) != 0 {
		return fmt.Errorf("vmm: truncate guest memory at %#x: not a page boundary inside it", gpa)
	}
	if err := unix.Ftruncate(m.fd, int64(gpa-m.base)); err != nil {
		return fmt.Errorf("vmm: truncate guest memory at %#x: %w", gpa, err)
	}
	return nil
}

// Close unmaps the memory and closes the memfd.
func (m *GuestMemory) Close() error {
	err := unix.Munmap(m.mem)
	cerr := unix.Close(m.fd)
	m.mem, m.fd = nil, -1
	if err != nil {
		return fmt.Errorf("vmm: guest memory: munmap: %w", err)
	}
	if cerr != nil {
		return fmt.Errorf("vmm: guest memory: close memfd: %w", cerr)
	}
	return nil
}
