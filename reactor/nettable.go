package reactor

import (
	"errors"
	"fmt"
	"net/netip"

	"mvirt-net/reactor/route"
)

// netTable is a network's RouteTable as the Dataplane keeps it: its
// routes by prefix (masked), so a change of a few routes finds them at
// once, and the tables built from it hold no prefix twice. The
// Dataplane's mutex guards it.
type netTable struct {
	subnets []netip.Prefix
	public  bool
	mtu     int
	routes  map[netip.Prefix]*Port
}

// newNetTable returns the netTable of t, leaving out (and reporting) the
// routes that cannot be added.
func newNetTable(t RouteTable) (*netTable, error) {
	nt := &netTable{
		subnets: t.Subnets, public: t.Public, mtu: t.MTU,
		routes: make(map[netip.Prefix]*Port, len(t.Routes)),
	}
	_, err := nt.add(t.Routes)
	return nt, err
}

// add enters the routes whose prefix is valid and not held yet, and
// returns them (masked) with the errors of the others.
func (t *netTable) add(routes []PortRoute) ([]PortRoute, error) {
	var added []PortRoute
	var errs []error
	for _, r := range routes {
		if !r.Prefix.IsValid() {
			errs = append(errs, fmt.Errorf("port %s: route %v: %w", r.Port.id, r.Prefix, route.ErrInvalidPrefix))
			continue
		}
		p := r.Prefix.Masked()
		if _, dup := t.routes[p]; dup {
			errs = append(errs, fmt.Errorf("port %s: route %v: %w", r.Port.id, p, route.ErrDuplicate))
			continue
		}
		t.routes[p] = r.Port
		added = append(added, PortRoute{Prefix: p, Port: r.Port})
	}
	return added, errors.Join(errs...)
}

// remove takes out each route of routes whose prefix leads to its port,
// and returns their prefixes (masked).
func (t *netTable) remove(routes []PortRoute) []netip.Prefix {
	var removed []netip.Prefix
	for _, r := range routes {
		if !r.Prefix.IsValid() {
			continue
		}
		p := r.Prefix.Masked()
		if t.routes[p] == r.Port {
			delete(t.routes, p)
			removed = append(removed, p)
		}
	}
	return removed
}
