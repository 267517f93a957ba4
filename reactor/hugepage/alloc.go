package hugepage

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Size is the size of one huge page this package maps.
const Size = 2 << 20

// ErrNoPages is wrapped by Alloc's error when the pool has too few free
// pages.
var ErrNoPages = errors.New("not enough free huge pages")

// Pages returns the number of huge pages n bytes take.
func Pages(n int) int { return (n + Size - 1) / Size }

// Alloc maps n bytes, rounded up to whole 2 MiB pages, of private
// anonymous memory backed by huge pages, faulted in now so that a short
// pool fails here and not at a later first touch. The caller owns the
// memory until it gives it to Free, once nothing refers to it any more.
// A pool too small gives an error wrapping ErrNoPages that says how many
// pages are needed and how to reserve them.
func Alloc(n int) ([]byte, error) {
	pages := Pages(n)
	b, err := unix.Mmap(-1, 0, pages*Size, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_HUGETLB|unix.MAP_HUGE_2MB|unix.MAP_POPULATE)
	if errors.Is(err, unix.ENOMEM) {
		advice := "the pool cannot be read"
		if p, perr := ReadPool(); perr == nil {
			advice = p.Advice(pages)
		}
		return nil, fmt.Errorf("%w: %s", ErrNoPages, advice)
	}
	if err != nil {
		return nil, fmt.Errorf("map %d huge pages: %w", pages, err)
	}
	return b, nil
}

// AllocNormal maps n bytes of private anonymous memory on normal pages,
// for the same use as Alloc's (Release and Free take it too) when huge
// pages are off: outside the Go heap, it costs memory only where touched,
// does not count towards the garbage collector's goal, and goes back to
// the system at Release instead of at a later collection.
func AllocNormal(n int) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("map %d bytes: %w", n, err)
	}
	return b, nil
}

// Free unmaps memory returned by Alloc or AllocNormal, whole as it was
// returned.
func Free(b []byte) error {
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("unmap packet memory: %w", err)
	}
	return nil
}
