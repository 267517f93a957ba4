package reactor

import (
	"sync"

	"mvirt-net/reactor/filter"
)

// The security-group part of the facade: the control plane compiles a
// port's rules with CompileFilter and publishes the matcher with
// Dataplane.PublishFilter; the port's reactor loads it once per batch.

// FilterRule is one allow rule of a security group (see filter.Rule).
type FilterRule = filter.Rule

// FilterMatcher is a port's compiled rule set (see filter.Matcher).
type FilterMatcher = filter.Matcher

// FilterDirection and FilterProtocol say what a rule is about.
type (
	FilterDirection = filter.Direction
	FilterProtocol  = filter.Protocol
)

// Directions and protocols of rules.
const (
	FilterIngress = filter.Ingress
	FilterEgress  = filter.Egress
	FilterAll     = filter.ProtoAll
	FilterTCP     = filter.ProtoTCP
	FilterUDP     = filter.ProtoUDP
	FilterICMP    = filter.ProtoICMP
	FilterICMPv6  = filter.ProtoICMPv6
)

// CompileFilter compiles the union of rules into a port's matcher.
func CompileFilter(rules []FilterRule) *FilterMatcher { return filter.Compile(rules) }

// filterSlots holds every port's published matcher by port id. A slot
// outlives the port's reactors and its owner's restarts, so a restarted
// reactor filters from its first frame, and it may be published before
// the port exists (at start, before the networks load).
type filterSlots struct {
	mu    sync.Mutex
	slots map[string]*Filter
}

// slot returns the port's slot, creating an empty one (no filtering).
func (f *filterSlots) slot(id string) *Filter {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.slots == nil {
		f.slots = map[string]*Filter{}
	}
	s := f.slots[id]
	if s == nil {
		s = &Filter{}
		f.slots[id] = s
	}
	return s
}

// PublishFilter publishes the matcher of the port with id portID (nil: no
// security group, everything passes); its reactor uses it from its next
// batch on, for new connections.
func (d *Dataplane) PublishFilter(portID string, m *FilterMatcher) {
	d.filters.slot(portID).Store(m)
}

// DropFilter forgets the matcher of a deleted port.
func (d *Dataplane) DropFilter(portID string) {
	d.filters.mu.Lock()
	defer d.filters.mu.Unlock()
	delete(d.filters.slots, portID)
}
