package guestmem

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// MaxRegions is how many regions a Table holds at most; a vhost-user
// backend reports it in GET_MAX_MEM_SLOTS.
const MaxRegions = 64

// Table is the memory map of one VM: its regions, mapped into the daemon.
//
// The zero Table is empty and ready to use. A Table belongs to one
// goroutine (the reactor serving the VM); it is not safe for concurrent
// use, not even for concurrent translations, which update a lookup cache.
//
// File descriptors passed to Add and SetAll are consumed: the Table closes
// each one before returning, whether it succeeded or not, because a shared
// mapping stays valid after its fd is closed. The mappings themselves
// belong to the Table until Remove or Close unmaps them.
type Table struct {
	regs []mapping
	last int // index of the region that satisfied the last translation
}

// Len returns the number of mapped regions.
func (t *Table) Len() int { return len(t.regs) }

// Add maps one more region (vhost-user ADD_MEM_REG) and closes fd. A
// region overlapping an existing one in guest-physical space is refused.
func (t *Table) Add(r Region, fd int) error {
	m, err := mapChecked(r, fd, t.regs)
	if err != nil {
		return fmt.Errorf("add region %v: %w", r, err)
	}
	t.regs = append(t.regs, m)
	return nil
}

// SetAll replaces every region (vhost-user SET_MEM_TABLE) and closes all
// fds. On failure the old regions stay mapped and in use.
func (t *Table) SetAll(regions []Region, fds []int) error {
	if len(regions) != len(fds) {
		closeAll(fds)
		return fmt.Errorf("set memory table: %d regions but %d fds", len(regions), len(fds))
	}
	next := make([]mapping, 0, len(regions))
	for i, r := range regions {
		m, err := mapChecked(r, fds[i], next)
		if err != nil {
			closeAll(fds[i+1:])
			return errors.Join(fmt.Errorf("set memory table: region %d (%v): %w", i, r, err), unmapAll(next))
		}
		next = append(next, m)
	}
	old := t.regs
	t.regs, t.last = next, 0
	if err := unmapAll(old); err != nil {
		return fmt.Errorf("set memory table: %w", err)
	}
	return nil
}

// Remove unmaps the region with r's guest-physical address and size
// (vhost-user REM_MEM_REG). Views into it must no longer be in use.
func (t *Table) Remove(r Region) error {
	for i := range t.regs {
		m := &t.regs[i]
		if m.GuestPhysAddr != r.GuestPhysAddr || m.Size != r.Size {
			continue
		}
		err := m.unmap()
		t.regs = slices.Delete(t.regs, i, i+1)
		t.last = 0
		if err != nil {
			return fmt.Errorf("remove region: %w", err)
		}
		return nil
	}
	return fmt.Errorf("remove region %v: no such region", r)
}

// Close unmaps every region. Views into them must no longer be in use.
func (t *Table) Close() error {
	err := unmapAll(t.regs)
	t.regs, t.last = nil, 0
	if err != nil {
		return fmt.Errorf("close memory table: %w", err)
	}
	return nil
}

// mapChecked maps r after checking it against the regions in have, and
// closes fd in every case.
func mapChecked(r Region, fd int, have []mapping) (mapping, error) {
	defer unix.Close(fd)
	if len(have) >= MaxRegions {
		return mapping{}, fmt.Errorf("table full (%d regions)", MaxRegions)
	}
	if err := r.validate(); err != nil {
		return mapping{}, err
	}
	for i := range have {
		if have[i].overlaps(r) {
			return mapping{}, fmt.Errorf("overlaps region %v", have[i].Region)
		}
	}
	return mapRegion(r, fd)
}

// unmapAll unmaps every mapping in ms and joins the errors.
func unmapAll(ms []mapping) error {
	var errs []error
	for i := range ms {
		if err := ms[i].unmap(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// closeAll closes fds that will not be mapped.
func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
