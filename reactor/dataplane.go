package reactor

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/route"
)

// Dataplane is the data plane as the control plane sees it: networks,
// the ports in them, and the route tables that join them. The actors talk
// to it alone; it builds the inboxes, route tables and reactor configs
// behind them. Its methods may be called from any goroutine.
type Dataplane struct {
	cfg     DataplaneConfig
	filters filterSlots

	mu sync.Mutex
	// tables holds every network's routes as its owner last stated them:
	// the public ones are joined into the uplink's table, and all are
	// rebuilt when the uplink comes or goes.
	tables map[*Network]*netTable
	uplink *Uplink
}

// DataplaneConfig is what every reactor of a Dataplane shares.
type DataplaneConfig struct {
	// Log is the reactors' logger.
	Log *slog.Logger
	// CPUs pins every reactor thread to these CPUs; empty leaves them
	// unpinned.
	CPUs []int
	// BusyPoll and BusyPollBatch are each reactor's (see Config).
	BusyPoll      time.Duration
	BusyPollBatch int
	// PublicChanged, if set, is called after a public network's table
	// changed or a network stopped being public (the kernel's routes to
	// the uplink may have to follow). It must not block.
	PublicChanged func()
	// Offloads is each port's (see Config).
	Offloads bool
	// ConntrackSize is each port's connection table size (see Config).
	ConntrackSize int
	// Hugepages says whether the ports' inboxes are on huge pages (see
	// hugepages.go).
	Hugepages HugepageMode
}

// NewDataplane returns an empty data plane.
func NewDataplane(cfg DataplaneConfig) *Dataplane {
	return &Dataplane{cfg: cfg, tables: map[*Network]*netTable{}}
}

// GatewayConfig is a NIC as its gateway sees it: MAC, /32 and /128.
type GatewayConfig = gateway.Config

// Network is one network's part of the data plane: its route table, read
// by the reactors of its ports. Its owner (the NetworkActor) publishes a
// new table whenever the network's addresses or prefixes change.
type Network struct {
	dp     *Dataplane
	id     string
	routes Routes
}

// NewNetwork adds a network with an empty route table.
func (d *Dataplane) NewNetwork(id string) *Network {
	return &Network{dp: d, id: id}
}

// RouteTable is a network's routes as its owner states them: the
// network's own subnets (for telling host from network unreachable) and
// the prefixes routed to each port. A public network's table also sends
// every outside destination to the uplink, while there is one, and the
// uplink sends its subnets and prefixes to its ports.
type RouteTable struct {
	Subnets []netip.Prefix
	Routes  []PortRoute
	Public  bool
	// MTU is the network's IP MTU, the largest packet routed to its
	// ports (larger ones are answered fragmentation needed / packet too
	// big); 0 means DefaultMTU.
	MTU int
}

// PortRoute routes every address in Prefix to Port.
type PortRoute struct {
	Prefix netip.Prefix
	Port   *Port
}

// PublishRoutes replaces the network's route table; reactors pick it up at
// their next lookup. Routes that cannot be added (a duplicate prefix, an
// invalid one) are left out and reported together; the rest is published.
// It costs the size of the table: for a change of a few routes, use
// ChangeRoutes.
func (n *Network) PublishRoutes(t RouteTable) error {
	d := n.dp
	d.mu.Lock()
	was := d.tables[n]
	nt, err := newNetTable(t)
	d.tables[n] = nt
	err = errors.Join(err, n.build(nt, d.uplink))
	public := nt.public || (was != nil && was.public)
	if public {
		err = errors.Join(err, d.buildUplink())
	}
	d.mu.Unlock()
	if public {
		d.publicChanged()
	}
	return err
}

// ChangeRoutes takes the routes of del out of the network's table and
// then adds those of add, publishing one new table. A route of del is
// taken out only if it leads to the port given with it, so a prefix
// another port holds stays; a route of add whose prefix is held already,
// or invalid, is left out and reported, as by PublishRoutes. A private
// network's new table shares what did not change with the last one, so
// the change costs the routes changed, not the routes held; a public
// network's tables (its own and the uplink's) are built anew.
func (n *Network) ChangeRoutes(add, del []PortRoute) error {
	d := n.dp
	d.mu.Lock()
	nt := d.tables[n]
	if nt == nil {
		nt = &netTable{routes: map[netip.Prefix]*Port{}}
		d.tables[n] = nt
	}
	removed := nt.remove(del)
	added, err := nt.add(add)
	if nt.public {
		err = errors.Join(err, n.build(nt, d.uplink), d.buildUplink())
		d.mu.Unlock()
		d.publicChanged()
		return err
	}
	b := route.Edit(n.routes.Load())
	for _, p := range removed {
		b.Remove(p)
	}
	for _, r := range added {
		// Not a duplicate: nt held none of them.
		_ = b.Add(r.Prefix, r.Port.destFor(nt.mtu))
	}
	n.routes.Store(b.Build())
	d.mu.Unlock()
	return err
}

// Remove takes the network out of the data plane (and the uplink's
// table); its ports' reactors must have stopped.
func (n *Network) Remove() error {
	d := n.dp
	d.mu.Lock()
	t, ok := d.tables[n]
	delete(d.tables, n)
	n.routes.Store(nil)
	var err error
	public := ok && t.public
	if public {
		err = d.buildUplink()
	}
	d.mu.Unlock()
	if public {
		d.publicChanged()
	}
	return err
}

func (d *Dataplane) publicChanged() {
	if d.cfg.PublicChanged != nil {
		d.cfg.PublicChanged()
	}
}

// build publishes the table of t, with default routes to up if the
// network is public and up is not nil: then an address of the network's
// own subnets that no port holds is answered unreachable rather than sent
// out, since the kernel would send it straight back. d.mu is held.
func (n *Network) build(t *netTable, up *Uplink) error {
	b := route.NewBuilder[*Dest]()
	var errs []error
	for _, p := range t.subnets {
		if err := b.SetSubnet(p); err != nil {
			errs = append(errs, err)
		}
	}
	for p, port := range t.routes {
		if err := b.Add(p, port.destFor(t.mtu)); err != nil {
			errs = append(errs, fmt.Errorf("port %s: %w", port.id, err))
		}
	}
	if t.public && up != nil {
		unreachable := &Dest{}
		for _, p := range t.subnets {
			if err := b.Add(p, unreachable); err != nil && !errors.Is(err, route.ErrDuplicate) {
				errs = append(errs, err)
			}
		}
		for _, p := range []netip.Prefix{netip.PrefixFrom(netip.IPv4Unspecified(), 0), netip.PrefixFrom(netip.IPv6Unspecified(), 0)} {
			if err := b.Add(p, up.dest); err != nil && !errors.Is(err, route.ErrDuplicate) {
				errs = append(errs, err)
			}
		}
	}
	n.routes.Store(b.Build())
	return errors.Join(errs...)
}

// rebuildAll publishes every network's table again, after the uplink came
// or went. d.mu is held.
func (d *Dataplane) rebuildAll() error {
	var errs []error
	for n, t := range d.tables {
		errs = append(errs, n.build(t, d.uplink))
	}
	return errors.Join(append(errs, d.buildUplink())...)
}
