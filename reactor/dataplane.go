package reactor

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
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
	// ConntrackSize is each port's connection table size (see Config).
	ConntrackSize int
	// Hugepages says whether the ports' inboxes are on huge pages (see
	// hugepages.go).
	Hugepages HugepageMode
}

// NewDataplane returns an empty data plane.
func NewDataplane(cfg DataplaneConfig) *Dataplane {
	return &Dataplane{cfg: cfg}
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
// the prefixes routed to each port.
type RouteTable struct {
	Subnets []netip.Prefix
	Routes  []PortRoute
}

// PortRoute routes every address in Prefix to Port.
type PortRoute struct {
	Prefix netip.Prefix
	Port   *Port
}

// PublishRoutes replaces the network's route table; reactors pick it up at
// their next lookup. Routes that cannot be added (a duplicate prefix, an
// invalid one) are left out and reported together; the rest is published.
func (n *Network) PublishRoutes(t RouteTable) error {
	b := route.NewBuilder[*Dest]()
	var errs []error
	for _, p := range t.Subnets {
		if err := b.SetSubnet(p); err != nil {
			errs = append(errs, err)
		}
	}
	for _, r := range t.Routes {
		if err := b.Add(r.Prefix, r.Port.dest); err != nil {
			errs = append(errs, fmt.Errorf("port %s: %w", r.Port.id, err))
		}
	}
	n.routes.Store(b.Build())
	return errors.Join(errs...)
}
