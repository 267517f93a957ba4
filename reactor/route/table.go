package route

import (
	"net/netip"

	"github.com/gaissmai/bart"
)

// Table is one immutable snapshot of a network's routes. Every method is
// safe for concurrent use, and a nil *Table is an empty table (a reactor
// that has not received its first snapshot routes nothing).
type Table[D any] struct {
	// fib is never modified after Build; a Table edited from this one
	// shares its unchanged nodes (see Edit). bart.Fast is the library's
	// lookup-optimised variant (more memory per node than bart.Table for
	// faster levels), the right trade for a read-mostly forwarding table.
	fib     *bart.Fast[D]
	subnet4 netip.Prefix
	prefix6 netip.Prefix
}

// newTable returns an empty Table.
func newTable[D any]() *Table[D] { return &Table[D]{fib: new(bart.Fast[D])} }

// Lookup returns the destination of the longest prefix containing addr. It
// never allocates or blocks. Build one addr from header bytes with
// netip.AddrFrom4 or netip.AddrFrom16, which do not allocate either; an
// IPv4-mapped IPv6 address is matched as IPv6, and a zone is ignored.
func (t *Table[D]) Lookup(addr netip.Addr) (dest D, ok bool) {
	if t == nil {
		return dest, false
	}
	return t.fib.Lookup(addr)
}

// InNetwork reports whether addr lies in the network's IPv4 subnet or IPv6
// prefix. A reactor uses it to tell an address of the network that no NIC
// holds (answered with ICMP destination unreachable) from one outside the
// network.
func (t *Table[D]) InNetwork(addr netip.Addr) bool {
	if t == nil {
		return false
	}
	return t.subnet4.Contains(addr) || t.prefix6.Contains(addr)
}

// Subnet4 returns the network's IPv4 subnet; the zero Prefix if it has none.
func (t *Table[D]) Subnet4() netip.Prefix {
	if t == nil {
		return netip.Prefix{}
	}
	return t.subnet4
}

// Prefix6 returns the network's IPv6 prefix; the zero Prefix if it has none.
func (t *Table[D]) Prefix6() netip.Prefix {
	if t == nil {
		return netip.Prefix{}
	}
	return t.prefix6
}

// Len returns the number of routes in the table.
func (t *Table[D]) Len() int {
	if t == nil {
		return 0
	}
	return t.fib.Size()
}
