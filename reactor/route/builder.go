package route

import (
	"errors"
	"fmt"
	"net/netip"
)

// Errors a Builder reports.
var (
	// ErrInvalidPrefix: the zero Prefix (netip.Prefix holds no zone).
	ErrInvalidPrefix = errors.New("invalid prefix")
	// ErrDuplicate: the same prefix added twice, which would make two
	// destinations claim one address.
	ErrDuplicate = errors.New("prefix already routed")
)

// Builder collects the routes of one network into a Table. It is used by
// one goroutine (the network's owner) at a time. A new Builder starts
// empty; Edit starts one from a published Table, for a change of a few
// routes in a large table.
type Builder[D any] struct {
	t *Table[D]
	// shared is set while t's nodes are shared with a published Table:
	// then every change copies the nodes on its path instead of writing
	// them, so that the published Table stays unchanged for its readers.
	shared bool
}

// NewBuilder returns an empty Builder.
func NewBuilder[D any]() *Builder[D] {
	return &Builder[D]{t: newTable[D]()}
}

// Edit returns a Builder holding t's routes and subnets (none for a nil
// t). t itself never changes: the Builder shares its nodes and copies
// only those on the path of each Add or Remove, so a change costs the
// depth of the trie, not the size of the table.
func Edit[D any](t *Table[D]) *Builder[D] {
	if t == nil {
		return NewBuilder[D]()
	}
	return &Builder[D]{t: &Table[D]{fib: t.fib, subnet4: t.subnet4, prefix6: t.prefix6}, shared: true}
}

// SetSubnet sets the network's IPv4 subnet or IPv6 prefix, by the family of
// p, for Table.InNetwork. Host bits of p are ignored.
func (b *Builder[D]) SetSubnet(p netip.Prefix) error {
	if err := check(p); err != nil {
		return fmt.Errorf("network subnet: %w", err)
	}
	if p.Addr().Is4() {
		b.t.subnet4 = p.Masked()
	} else {
		b.t.prefix6 = p.Masked()
	}
	return nil
}

// Add routes every address in p to dest: a NIC's own /32 or /128, or a
// prefix routed through it. Host bits of p are ignored. A longer prefix
// wins over a shorter one that contains it, whatever the order of Adds.
func (b *Builder[D]) Add(p netip.Prefix, dest D) error {
	if err := check(p); err != nil {
		return fmt.Errorf("route %v: %w", p, err)
	}
	p = p.Masked()
	if _, dup := b.t.fib.Get(p); dup {
		return fmt.Errorf("route %v: %w", p, ErrDuplicate)
	}
	if b.shared {
		b.t.fib = b.t.fib.InsertPersist(p, dest)
	} else {
		b.t.fib.Insert(p, dest)
	}
	return nil
}

// Remove takes the route of exactly p (host bits ignored) out, and
// reports whether there was one.
func (b *Builder[D]) Remove(p netip.Prefix) bool {
	if check(p) != nil {
		return false
	}
	p = p.Masked()
	if _, ok := b.t.fib.Get(p); !ok {
		return false
	}
	if b.shared {
		b.t.fib = b.t.fib.DeletePersist(p)
	} else {
		b.t.fib.Delete(p)
	}
	return true
}

// Build returns the Table of everything added so far and resets the
// Builder to empty. The Table is never modified afterwards.
func (b *Builder[D]) Build() *Table[D] {
	t := b.t
	b.t, b.shared = newTable[D](), false
	return t
}

// check rejects prefixes the table cannot hold.
func check(p netip.Prefix) error {
	if !p.IsValid() {
		return ErrInvalidPrefix
	}
	return nil
}
