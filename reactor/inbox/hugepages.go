package inbox

import (
	"fmt"
	"sync/atomic"

	"mvirt-net/reactor/hugepage"
)

// mapped counts the bytes of slot memory mapped, by every inbox of the
// process, until their cleanup unmaps them.
var mapped atomic.Int64

// MappedBytes returns the bytes of slot memory that the process's inboxes
// have mapped (resident only where touched), closed ones included until
// they are unreachable and unmapped.
func MappedBytes() int64 { return mapped.Load() }

// slotMem is the slot memory of an inbox: the whole mapping, as
// hugepage.Alloc (huge) or hugepage.AllocNormal returned it.
type slotMem struct {
	mem  []byte
	huge bool
}

// allocSlots maps n bytes of slot memory, on huge pages if asked.
func allocSlots(n int, huge bool) (*slotMem, error) {
	alloc := hugepage.AllocNormal
	if huge {
		alloc = hugepage.Alloc
	}
	mem, err := alloc(n)
	if err != nil {
		return nil, fmt.Errorf("inbox slots: %w", err)
	}
	mapped.Add(int64(len(mem)))
	return &slotMem{mem: mem, huge: huge}, nil
}

// release gives the pages back when the inbox closes (huge pages to their
// pool). The memory stays mapped (on fresh normal pages, costing nothing
// until touched) for producers that reserved a slot before Close and are
// still writing to it; it is unmapped by unmap once the inbox is
// unreachable.
func (m *slotMem) release() error {
	if err := hugepage.Release(m.mem); err != nil {
		return fmt.Errorf("inbox slots: %w", err)
	}
	return nil
}

// unmap is the cleanup of an inbox, run once nothing refers to it. An
// unmap that fails leaves the mapping in place: nothing to recover, and
// no one left to tell.
func unmap(mem []byte) {
	if hugepage.Free(mem) == nil {
		mapped.Add(-int64(len(mem)))
	}
}
