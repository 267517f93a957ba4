package vhostuser

import (
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// setMemTable replaces the whole memory table. A table equal to the
// current one (QEMU sends it again on every start) changes nothing.
func (s *Session) setMemTable(m *Message) error {
	if err := s.table.UnmarshalBinary(m.Payload); err != nil {
		return err
	}
	regions := s.table.Regions
	if len(m.Fds) != len(regions) {
		return fmt.Errorf("%d regions with %d descriptors: %w", len(regions), len(m.Fds), ErrBadFds)
	}
	for i, r := range regions {
		if err := checkRegion(r); err != nil {
			return err
		}
		for _, o := range regions[:i] {
			if overlap(r, o) {
				return fmt.Errorf("regions at %#x and %#x overlap: %w", r.GuestPhysAddr, o.GuestPhysAddr, ErrBadValue)
			}
		}
	}
	if s.sameTable(regions) {
		return nil
	}
	s.stopAll()
	s.removeAllRegions()
	for i, r := range regions {
		if err := s.addRegion(Region{MemoryRegion: r, Fd: m.TakeFd(i)}); err != nil {
			s.removeAllRegions()
			return err
		}
	}
	return nil
}

func (s *Session) sameTable(regions []MemoryRegion) bool {
	if len(regions) != len(s.regions) {
		return false
	}
	for i := range regions {
		if regions[i] != s.regions[i].MemoryRegion {
			return false
		}
	}
	return true
}

func (s *Session) addMemReg(m *Message) error {
	var msg MemRegMsg
	if err := msg.UnmarshalBinary(m.Payload); err != nil {
		return err
	}
	r := msg.Region
	if err := checkRegion(r); err != nil {
		return err
	}
	if len(s.regions) >= MaxMemSlots {
		return fmt.Errorf("all %d memory slots in use: %w", MaxMemSlots, ErrBadValue)
	}
	for _, o := range s.regions {
		if overlap(r, o.MemoryRegion) {
			return fmt.Errorf("region at %#x overlaps the one at %#x: %w", r.GuestPhysAddr, o.GuestPhysAddr, ErrBadValue)
		}
	}
	return s.addRegion(Region{MemoryRegion: r, Fd: m.TakeFd(0)})
}

// remMemReg removes the region with the same guest address, size and
// user address; a descriptor sent along (older front-ends do) is closed.
func (s *Session) remMemReg(m *Message) error {
	var msg MemRegMsg
	if err := msg.UnmarshalBinary(m.Payload); err != nil {
		return err
	}
	r := msg.Region
	for i, o := range s.regions {
		if o.GuestPhysAddr == r.GuestPhysAddr && o.Size == r.Size && o.UserspaceAddr == r.UserspaceAddr {
			s.stopAll()
			s.dev.RemoveRegion(o)
			_ = unix.Close(o.Fd)
			s.regions = append(s.regions[:i], s.regions[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("no region at %#x of %#x bytes: %w", r.GuestPhysAddr, r.Size, ErrBadValue)
}

// addRegion hands r to the Device and keeps it, or closes its descriptor.
func (s *Session) addRegion(r Region) error {
	if err := s.dev.AddRegion(r); err != nil {
		_ = unix.Close(r.Fd)
		return fmt.Errorf("region at %#x: %w", r.GuestPhysAddr, err)
	}
	s.regions = append(s.regions, r)
	for q := range s.rings {
		s.rings[q].failed = false
	}
	return nil
}

// removeAllRegions withdraws every region; no ring may run.
func (s *Session) removeAllRegions() {
	for _, r := range s.regions {
		s.dev.RemoveRegion(r)
		_ = unix.Close(r.Fd)
	}
	s.regions = s.regions[:0]
}

func checkRegion(r MemoryRegion) error {
	if r.Size == 0 ||
		r.GuestPhysAddr > math.MaxUint64-r.Size ||
		r.UserspaceAddr > math.MaxUint64-r.Size ||
		r.MmapOffset > math.MaxUint64-r.Size {
		return fmt.Errorf("region at %#x of %#x bytes (user %#x, offset %#x): %w",
			r.GuestPhysAddr, r.Size, r.UserspaceAddr, r.MmapOffset, ErrBadValue)
	}
	return nil
}

func overlap(a, b MemoryRegion) bool {
	return a.GuestPhysAddr < b.GuestPhysAddr+b.Size && b.GuestPhysAddr < a.GuestPhysAddr+a.Size
}
