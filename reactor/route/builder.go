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
// one goroutine (the network's owner) at a time; it is cheap, so the owner
// makes a new one for every change rather than editing a published Table.
type Builder[D any] struct {
	t *Table[D]
}

// NewBuilder returns an empty Builder.
func NewBuilder[D any]() *Builder[D] {
	return &Builder[D]{t: new(Table[D])}
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
	b.t.fib.Insert(p, dest)
	return nil
}

// Build returns the Table of everything added so far and resets the
// Builder to empty. The Table is never modified afterwards.
func (b *Builder[D]) Build() *Table[D] {
	t := b.t
	b.t = new(Table[D])
	return t
}

// check rejects prefixes the table cannot hold.
func check(p netip.Prefix) error {
	if !p.IsValid() {
		return ErrInvalidPrefix
	}
	return nil
}
