package actors

import (
	"sync"

	"mvirt-net/reactor"
)

// filterBoard holds every NIC's published security-group matcher, by NIC
// id. The NetManager, which owns security groups, stores matchers into it;
// a NetworkActor hands a NIC's slot to its NicActor, whose reactor loads
// it. Slots outlive NetworkActor and NicActor restarts, so a restarted
// reactor filters from its first frame.
type filterBoard struct {
	mu    sync.Mutex
	slots map[string]*reactor.Filter
}

func newFilterBoard() *filterBoard { return &filterBoard{slots: map[string]*reactor.Filter{}} }

// slot returns the NIC's slot, creating an empty one (no filtering).
func (b *filterBoard) slot(nicID string) *reactor.Filter {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.slots[nicID]
	if s == nil {
		s = &reactor.Filter{}
		b.slots[nicID] = s
	}
	return s
}

// drop forgets a deleted NIC's slot.
func (b *filterBoard) drop(nicID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.slots, nicID)
}
