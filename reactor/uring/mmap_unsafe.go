package uring

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapRings maps the SQ ring, the CQ ring (the same mapping when the kernel
// has FeatSingleMMap) and the SQE array, and points r.sq and r.cq into them.
// On failure it unmaps what it mapped.
func (r *Ring) mapRings(p *params) error {
	sqSize := int(p.sqOff.array) + int(p.sqEntries)*int(unsafe.Sizeof(uint32(0)))
	cqSize := int(p.cqOff.cqes) + int(p.cqEntries)*int(unsafe.Sizeof(CompletionQueueEvent{}))
	single := r.features&FeatSingleMMap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	if r.ringMem, err = r.mmap(offSQRing, sqSize); err != nil {
		return fmt.Errorf("io_uring mmap SQ ring: %w", err)
	}
	cqMem := r.ringMem
	if !single {
		if r.cqMem, err = r.mmap(offCQRing, cqSize); err != nil {
			return errors.Join(fmt.Errorf("io_uring mmap CQ ring: %w", err), r.unmapRings())
		}
		cqMem = r.cqMem
	}
	sqeSize := int(p.sqEntries) * int(unsafe.Sizeof(SubmissionQueueEntry{}))
	if r.sqeMem, err = r.mmap(offSQEs, sqeSize); err != nil {
		return errors.Join(fmt.Errorf("io_uring mmap SQEs: %w", err), r.unmapRings())
	}

	r.sq = submissionQueue{
		head:    word(r.ringMem, p.sqOff.head),
		tail:    word(r.ringMem, p.sqOff.tail),
		flags:   word(r.ringMem, p.sqOff.flags),
		mask:    *word(r.ringMem, p.sqOff.ringMask),
		entries: *word(r.ringMem, p.sqOff.ringEntries),
		sqes:    unsafe.Slice((*SubmissionQueueEntry)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries),
	}
	// Slot i of the SQ array always names SQE i, as in liburing, so that
	// publishing entries only moves the tail.
	array := unsafe.Slice(word(r.ringMem, p.sqOff.array), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.cq = completionQueue{
		head: word(cqMem, p.cqOff.head),
		tail: word(cqMem, p.cqOff.tail),
		mask: *word(cqMem, p.cqOff.ringMask),
		cqes: unsafe.Slice((*CompletionQueueEvent)(unsafe.Pointer(&cqMem[p.cqOff.cqes])), p.cqEntries),
	}
	return nil
}

// word points at the 32-bit ring field at offset off of mem.
func word(mem []byte, off uint32) *uint32 {
	_ = mem[off+3]
	return (*uint32)(unsafe.Pointer(&mem[off]))
}

func (r *Ring) mmap(offset int64, size int) ([]byte, error) {
	return unix.Mmap(r.fd, offset, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
}

// unmapRings unmaps whatever mapRings mapped.
func (r *Ring) unmapRings() error {
	var errs []error
	for _, m := range []*[]byte{&r.sqeMem, &r.cqMem, &r.ringMem} {
		if *m == nil {
			continue
		}
		if err := unix.Munmap(*m); err != nil {
			errs = append(errs, fmt.Errorf("io_uring munmap: %w", err))
		}
		*m = nil
	}
	return errors.Join(errs...)
}
