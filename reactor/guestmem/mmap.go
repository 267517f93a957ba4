package guestmem

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapping is one mapped region. mem is the whole mmap (it starts at the
// page holding MmapOffset); data is the region itself inside mem.
type mapping struct {
	Region
	mem  []byte
	data []byte
}

// mapRegion maps r from fd, shared and read-write. It refuses a file that
// is too short for the region, since touching pages past its end would
// raise SIGBUS. The fd is not closed here.
func mapRegion(r Region, fd int) (mapping, error) {
	if err := r.validate(); err != nil {
		return mapping{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return mapping{}, fmt.Errorf("fstat region fd: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return mapping{}, fmt.Errorf("region fd is not a regular file (mode %#o)", st.Mode)
	}
	if st.Size < 0 || uint64(st.Size) < r.MmapOffset+r.Size {
		return mapping{}, fmt.Errorf("region ends at file offset %#x past the file size %#x", r.MmapOffset+r.Size, st.Size)
	}
	align := mapAlign(st.Blksize)
	lead := r.MmapOffset % align
	length := (lead + r.Size + align - 1) &^ (align - 1)
	mem, err := unix.Mmap(fd, int64(r.MmapOffset-lead), int(length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return mapping{}, fmt.Errorf("mmap %d bytes at file offset %#x: %w", length, r.MmapOffset-lead, err)
	}
	// Guest memory has no place in a core dump of the daemon: it is large
	// and it is the guest's data.
	if err := unix.Madvise(mem, unix.MADV_DONTDUMP); err != nil {
		return mapping{}, unmapAfter(fmt.Errorf("madvise DONTDUMP: %w", err), mem)
	}
	end := lead + r.Size
	return mapping{Region: r, mem: mem, data: mem[lead:end:end]}, nil
}

// mapAlign returns the alignment for mmap offsets and lengths on a file:
// its block size when that is a power of two of at least a page (huge
// pages on hugetlbfs), else the page size.
func mapAlign(blksize int64) uint64 {
	page := uint64(os.Getpagesize())
	b := uint64(blksize)
	if blksize > 0 && b >= page && b&(b-1) == 0 {
		return b
	}
	return page
}

// unmap releases the mapping.
func (m *mapping) unmap() error {
	if err := unix.Munmap(m.mem); err != nil {
		return fmt.Errorf("munmap region %v: %w", m.Region, err)
	}
	return nil
}

// unmapAfter unmaps mem after a failure and returns err together with
// any unmap error.
func unmapAfter(err error, mem []byte) error {
	if uerr := unix.Munmap(mem); uerr != nil {
		return fmt.Errorf("%w (and munmap: %w)", err, uerr)
	}
	return err
}
