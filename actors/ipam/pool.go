// Package ipam hands out the addresses of one network's subnet: the lowest
// free address unless one is requested, never the IPv4 network or broadcast
// address, never an address inside a prefix routed to some NIC.
//
// A Pool is owned by its NetworkActor and is not safe for concurrent use.
package ipam

import (
	"errors"
	"fmt"
	"net/netip"
)

// Errors a Pool returns; callers map them to API error codes.
var (
	ErrOutside  = errors.New("address outside the subnet")
	ErrReserved = errors.New("address reserved")
	ErrInUse    = errors.New("address already in use")
	ErrFull     = errors.New("no free address left")
)

// Pool tracks which addresses of a subnet are taken.
type Pool struct {
	prefix netip.Prefix
	first  netip.Addr
	last   netip.Addr
	used   map[netip.Addr]struct{}
	// low is where Lowest starts: every address of the pool below it is
	// used, so allocating from a pool of n used addresses does not cost n
	// lookups.
	low netip.Addr
}

// NewPool returns an empty pool over prefix, which must be canonical.
// For IPv4 the network and broadcast addresses are excluded; for IPv6 the
// subnet-router anycast address (the all-zero host) is.
func NewPool(prefix netip.Prefix) (*Pool, error) {
	if !prefix.IsValid() || prefix.Masked() != prefix {
		return nil, fmt.Errorf("pool prefix %s is not canonical", prefix)
	}
	first := prefix.Addr().Next()
	last := lastAddr(prefix)
	if prefix.Addr().Is4() {
		last = last.Prev()
	}
	if !first.IsValid() || !last.IsValid() || last.Less(first) {
		return nil, fmt.Errorf("prefix %s holds no assignable address", prefix)
	}
	return &Pool{prefix: prefix, first: first, last: last, used: map[netip.Addr]struct{}{}, low: first}, nil
}

// Prefix is the subnet the pool covers.
func (p *Pool) Prefix() netip.Prefix { return p.prefix }

// Check reports why a could not be taken, or nil if it is free.
func (p *Pool) Check(a netip.Addr) error {
	if !p.prefix.Contains(a) {
		return fmt.Errorf("%s: %w %s", a, ErrOutside, p.prefix)
	}
	if a.Less(p.first) || p.last.Less(a) {
		return fmt.Errorf("%s is the network or broadcast address of %s: %w", a, p.prefix, ErrReserved)
	}
	if _, ok := p.used[a]; ok {
		return fmt.Errorf("%s: %w", a, ErrInUse)
	}
	return nil
}

// Take marks a as used.
func (p *Pool) Take(a netip.Addr) error {
	if err := p.Check(a); err != nil {
		return err
	}
	p.used[a] = struct{}{}
	return nil
}

// Lowest returns the lowest free address for which skip returns false,
// without taking it.
func (p *Pool) Lowest(skip func(netip.Addr) bool) (netip.Addr, error) {
	usedBelow := true
	for a := p.low; a.IsValid() && !p.last.Less(a); a = a.Next() {
		if _, ok := p.used[a]; ok {
			if usedBelow {
				p.low = a.Next()
			}
			continue
		}
		usedBelow = false
		if skip(a) {
			continue
		}
		return a, nil
	}
	return netip.Addr{}, fmt.Errorf("subnet %s: %w", p.prefix, ErrFull)
}

// Release frees a; releasing a free address does nothing.
func (p *Pool) Release(a netip.Addr) {
	delete(p.used, a)
	if p.first.Compare(a) <= 0 && !p.last.Less(a) && (a.Less(p.low) || !p.low.IsValid()) {
		p.low = a
	}
}

// Used is the number of addresses taken.
func (p *Pool) Used() int { return len(p.used) }

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
