package inbox

import (
	"fmt"

	"mvirt-net/reactor/hugepage"
)

// hugeMem is the slot memory of an inbox on huge pages: the whole
// mapping, as hugepage.Alloc returned it.
type hugeMem struct {
	mem []byte
}

// release gives the huge pages back to the pool when the inbox closes. The
// memory stays mapped (on normal pages, from then on) for producers that
// reserved a slot before Close and are still writing to it; it is unmapped
// by unmap once the inbox is unreachable.
func (h *hugeMem) release() error {
	if err := hugepage.Release(h.mem); err != nil {
		return fmt.Errorf("inbox slots: %w", err)
	}
	return nil
}

// unmap is the cleanup of an inbox on huge pages, run once nothing refers
// to the inbox. An unmap that fails leaves the mapping in place: nothing
// to recover, and no one left to tell.
func unmap(mem []byte) { _ = hugepage.Free(mem) }
