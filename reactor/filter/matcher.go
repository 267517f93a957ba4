package filter

import (
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/gaissmai/bart"
)

// Matcher is the compiled, immutable rule set of one NIC. Its methods are
// safe for concurrent use; a nil *Matcher allows everything.
type Matcher struct {
	dirs [numDirections][2]famTable
	// egress says whether any rule is an egress rule: without one, all
	// egress is allowed.
	egress bool
	rules  int
}

// famTable is one direction's rules of one address family.
type famTable struct {
	tcp, udp ports
	// icmp is ICMP in IPv4, ICMPv6 in IPv6; other is every protocol but
	// TCP, UDP and that one.
	icmp, other *addrSet
}

// ports maps a destination port to the addresses allowed to use it: port
// p lies in interval i when bounds[i] <= p < bounds[i+1]; sets[i] is nil
// when no rule covers the interval. whole is the set of the rules for
// every port, for packets whose port is not known.
type ports struct {
	bounds []uint16
	sets   []*addrSet
	whole  *addrSet
}

// addrSet is a set of CIDRs; any short-cuts a set holding a /0.
type addrSet struct {
	any  bool
	cidr bart.Lite
}

func (s *addrSet) contains(a netip.Addr) bool {
	if s == nil {
		return false
	}
	return s.any || s.cidr.Lookup(a)
}

func (p *ports) lookup(port uint16) *addrSet {
	if len(p.bounds) == 0 {
		return nil
	}
	i, found := slices.BinarySearch(p.bounds, port)
	if !found {
		i--
	}
	return p.sets[i]
}

// Allows reports whether rules let a new connection of IP protocol proto
// to destination port port (ignored but for TCP and UDP) start in
// direction d with the remote address remote (the source for ingress, the
// destination for egress). ported says whether port is known: a non-first
// fragment's is not, and only rules for the protocol's whole port range
// allow it. It never allocates.
func (m *Matcher) Allows(d Direction, proto uint8, port uint16, ported bool, remote netip.Addr) bool {
	if m == nil || (d == Egress && !m.egress) {
		return true
	}
	fam := 0
	if !remote.Is4() {
		fam = 1
	}
	t := &m.dirs[d][fam]
	icmp := uint8(IPProtoICMP)
	if fam == 1 {
		icmp = IPProtoICMPv6
	}
	var s *addrSet
	switch proto {
	case IPProtoTCP:
		s = t.tcp.pick(port, ported)
	case IPProtoUDP:
		s = t.udp.pick(port, ported)
	case icmp:
		s = t.icmp
	default:
		s = t.other
	}
	return s.contains(remote)
}

// pick returns the set for port, or for an unknown port the set of the
// rules for every port.
func (p *ports) pick(port uint16, ported bool) *addrSet {
	if ported {
		return p.lookup(port)
	}
	return p.whole
}

// HasEgressRules reports whether egress is restricted to what rules allow.
func (m *Matcher) HasEgressRules() bool { return m != nil && m.egress }

// Len returns the number of rules m was compiled from.
func (m *Matcher) Len() int {
	if m == nil {
		return 0
	}
	return m.rules
}

// Published holds a NIC's current Matcher. The owner Stores a new one when
// the NIC's groups or their rules change; the reactor Loads it without a
// lock (once per batch). The zero value holds nil: everything passes.
type Published struct {
	p atomic.Pointer[Matcher]
}

// Load returns the current Matcher (nil: no group attached).
func (p *Published) Load() *Matcher { return p.p.Load() }

// Store publishes m; a reactor uses it from its next batch on.
func (p *Published) Store(m *Matcher) { p.p.Store(m) }
