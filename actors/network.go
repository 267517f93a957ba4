package actors

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gaissmai/bart"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/actors/ipam"
	"mvirt-net/persistence"
	"mvirt-net/reactor"
	"mvirt-net/rpc/netpb"
)

// network is a NetworkActor: it owns one network's record, its address
// pools, its NICs' records and routed prefixes, and supervises their
// NicActors. It rebuilds all of it from the store whenever it starts.
type network struct {
	*deps
	probe *probe
	id    string
	rec   *persistence.NetworkRecord
	pool4 *ipam.Pool
	pool6 *ipam.Pool
	nics  map[string]*nicEntry
	// plane is the network's part of the data plane: its route table.
	plane *reactor.Network
	// claims holds every address (as a host prefix) and routed prefix of
	// the NICs in nics, with its owner's id: the overlap checks of a
	// create look there instead of building it anew.
	claims *bart.Table[string]
	// macs maps the MAC (as a string of its bytes) of every NIC in nics
	// to its id.
	macs map[string]string
	// writes are the NICs being created whose record is being written, by
	// id; answers are the creates that are stored and wait for the next
	// route table (see network_writes.go).
	writes  map[string]*nicEntry
	answers []answer
	// afterWrites run once no write is in flight: forced deletes of the
	// network, which must see every NIC's record.
	afterWrites []func()
	// deleting is set while a DeleteNetwork waits for its NICs to stop;
	// closing while a forced one waits for the writes in flight.
	deleting, closing bool
}

type nicEntry struct {
	rec   *persistence.NicRecord
	port  *reactor.Port
	pid   *actor.PID
	state netpb.NicState
	// stored is set once rec is in the store; until then the NIC is being
	// created and the NetManager does not know it.
	stored bool
	// routed is set while the network's route table holds the NIC's
	// addresses and routed prefixes (those of rec).
	routed bool
}

// addrs are the NIC's addresses, of each enabled family.
func (e *nicEntry) addrs() []netip.Addr {
	var out []netip.Addr
	for _, a := range []netip.Addr{e.rec.IPv4Address, e.rec.IPv6Address} {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

// routes are the NIC's routed prefixes of both families.
func (e *nicEntry) routes() []netip.Prefix {
	return slices.Concat(e.rec.RoutedIPv4Prefixes, e.rec.RoutedIPv6Prefixes)
}

func newNetwork(d *deps, p *probe, id string) *network {
	return &network{deps: d, probe: p, id: id}
}

func newPool(p netip.Prefix) (*ipam.Pool, error) {
	if !p.IsValid() {
		return nil, nil
	}
	return ipam.NewPool(p)
}

func (n *network) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		n.reg.add(ctx.Self(), ctx.Parent(), n.probe)
		n.load(ctx)
	case *actor.Restarting:
		n.probe.restarts.Add(1)
		n.removePlane()
	case *actor.Stopped:
		n.reg.remove(ctx.Self())
		n.forget()
	case awaitReady:
		ctx.Respond(ready{})
	case nicState:
		n.setState(ctx, msg)
	case nicLease:
		n.recordLease(msg)
	case InjectReactorPanic:
		n.forwardToNic(ctx, msg.NicID)
	case nicConnections:
		n.forwardToNic(ctx, msg.nicID)
	case *netpb.UpdateNetworkRequest:
		if err := n.update(ctx, msg); err != nil {
			ctx.Respond(err)
		}
	case *netpb.DeleteNetworkRequest:
		n.delete(ctx, msg, ctx.Sender())
	case createNic:
		switch {
		case n.deleting:
			ctx.Respond(networkNotFound(msg.req.GetNetworkId()))
		case n.closing:
			ctx.Respond(status.Errorf(codes.Unavailable, "network %q is being deleted", n.rec.Name))
		default:
			n.createNic(ctx, msg)
		}
	case nicWritten:
		n.nicWritten(ctx, msg)
	case publishCreated:
		n.publishCreated(ctx)
	case *netpb.UpdateNicRequest:
		if err := n.updateNic(ctx, msg); err != nil {
			ctx.Respond(err)
		}
	case *netpb.DeleteNicRequest:
		n.deleteNic(ctx, msg)
	}
}

// forwardToNic forwards the message to the NicActor of NIC id; a NIC
// without one (see loadNic) answers FailedPrecondition.
func (n *network) forwardToNic(ctx actor.Context, id string) {
	switch e := n.nics[id]; {
	case e == nil:
		ctx.Respond(nicNotFound(id))
	case e.pid == nil:
		ctx.Respond(status.Errorf(codes.FailedPrecondition, "nic %q has no data plane (see the daemon log); restart the daemon once the cause is fixed", id))
	default:
		ctx.Forward(e.pid)
	}
}

// load reads the network and its NICs from the store, rebuilds the pools,
// and starts a NicActor (with a listening socket) per NIC.
func (n *network) load(ctx actor.Context) {
	rec, nics, err := n.Store.LoadNetwork(n.id)
	if errors.Is(err, persistence.ErrNotFound) {
		ctx.Stop(ctx.Self())
		return
	}
	if err != nil {
		panic(err)
	}
	n.rec = rec
	n.nics = map[string]*nicEntry{}
	n.claims, n.macs = &bart.Table[string]{}, map[string]string{}
	n.writes = map[string]*nicEntry{}
	n.answers, n.afterWrites, n.closing = nil, nil, false
	n.plane = n.dp.NewNetwork(n.id)
	// The store loads only canonical subnets with assignable addresses
	// (persistence.NetworkRecord's check), and a store it cannot read
	// is worth a restart: these are invariants.
	if n.pool4, err = newPool(rec.IPv4Subnet); err != nil {
		panic(err)
	}
	if n.pool6, err = newPool(rec.IPv6Prefix); err != nil {
		panic(err)
	}
	for _, nic := range nics {
		n.serveStored(ctx, nic)
	}
	n.rebuildRoutes()
}

// serveStored takes a stored NIC into the network and starts its NicActor,
// which makes its socket listen; the caller rebuilds the routes. It
// returns the NIC's entry, or nil for one that conflicts with the
// network's other NICs. A NIC whose port cannot be made (its inbox finds
// no huge page with huge pages required, say) is kept in state ERROR
// without a port or an actor: its addresses stay its own, DeleteNic
// removes it, and the next start of the daemon tries again.
func (n *network) serveStored(ctx actor.Context, nic *persistence.NicRecord) *nicEntry {
	port, portErr := n.plane.AddNIC(nicSpec(nic, n.SocketGroup))
	e, err := n.adopt(nic, port)
	if err != nil {
		n.Log.Error("stored nic conflicts with its network; leaving it out", "nic", nic.ID, "err", err)
		if portErr != nil {
			return nil
		}
		if err := port.Close(); err != nil {
			n.Log.Warn("close nic port", "nic", nic.ID, "err", err)
		}
		return nil
	}
	e.stored = true
	if portErr != nil {
		n.Log.Error("nic without a data plane, in state ERROR until the daemon restarts with the cause fixed: "+portErr.Error(),
			"nic", nic.ID, "network", n.id)
		e.state = netpb.NicState_NIC_STATE_ERROR
		ctx.Send(ctx.Parent(), nicChanged{view: nicView(nic, e.state)})
		return e
	}
	// Spawning fails only while an actor of the same name runs, and a
	// restarting NetworkActor's NicActors have all stopped: an invariant.
	if e.pid, err = n.spawnNic(ctx, e); err != nil {
		panic(err)
	}
	ctx.Send(ctx.Parent(), nicChanged{view: nicView(nic, e.state)})
	return e
}

// adopt takes a stored NIC's addresses, and its data-plane port, into the
// network's state.
func (n *network) adopt(nic *persistence.NicRecord, port *reactor.Port) (*nicEntry, error) {
	e := &nicEntry{rec: nic, port: port, state: netpb.NicState_NIC_STATE_CREATED}
	for _, take := range []struct {
		a    netip.Addr
		pool *ipam.Pool
	}{{nic.IPv4Address, n.pool4}, {nic.IPv6Address, n.pool6}} {
		if !take.a.IsValid() {
			continue
		}
		if take.pool == nil {
			return nil, errors.New("address of a disabled family")
		}
		if err := take.pool.Take(take.a); err != nil {
			return nil, err
		}
	}
	n.nics[nic.ID] = e
	n.claim(e)
	return e, nil
}

// claim enters the NIC's addresses (as host prefixes) and routed prefixes
// into the network's claims, and its MAC into macs.
func (n *network) claim(e *nicEntry) {
	n.macs[string(e.rec.MAC)] = e.rec.ID
	for _, p := range e.routes() {
		n.claims.Insert(p, e.rec.ID)
	}
	for _, a := range e.addrs() {
		n.claims.Insert(netip.PrefixFrom(a, a.BitLen()), e.rec.ID)
	}
}

// unclaim takes what claim entered for the NIC out again.
func (n *network) unclaim(e *nicEntry) {
	delete(n.macs, string(e.rec.MAC))
	for _, p := range e.routes() {
		n.claims.Delete(p)
	}
	for _, a := range e.addrs() {
		n.claims.Delete(netip.PrefixFrom(a, a.BitLen()))
	}
}

// portRoutes are the routes of the NIC's addresses (as host prefixes) and
// routed prefixes to its port.
func (e *nicEntry) portRoutes() []reactor.PortRoute {
	var out []reactor.PortRoute
	for _, a := range e.addrs() {
		out = append(out, reactor.PortRoute{Prefix: netip.PrefixFrom(a, a.BitLen()), Port: e.port})
	}
	for _, p := range e.routes() {
		out = append(out, reactor.PortRoute{Prefix: p, Port: e.port})
	}
	return out
}

// routeNics adds the routes of the NICs given that the route table does
// not hold yet, in one new table: it costs the routes added, not the
// network's size.
func (n *network) routeNics(es ...*nicEntry) {
	var add []reactor.PortRoute
	for _, e := range es {
		if e.routed || e.port == nil {
			continue
		}
		add = append(add, e.portRoutes()...)
		e.routed = true
	}
	if len(add) != 0 {
		n.changeRoutes(add, nil)
	}
}

// changeRoutes takes the routes del out of the route table and adds add,
// in one new table; routes it cannot add are logged.
func (n *network) changeRoutes(add, del []reactor.PortRoute) {
	if err := n.plane.ChangeRoutes(add, del); err != nil {
		n.Log.Error("route table", "network", n.id, "err", err)
	}
}

// unrouteNic takes the NIC's routes out of the route table.
func (n *network) unrouteNic(e *nicEntry) {
	if !e.routed {
		return
	}
	e.routed = false
	n.changeRoutes(nil, e.portRoutes())
}

// rerouteNic replaces the routes old of a NIC whose addresses or routed
// prefixes changed by its routes now, in one new table, so that the
// addresses it keeps stay routed throughout.
func (n *network) rerouteNic(e *nicEntry, old []reactor.PortRoute) {
	if !e.routed {
		n.routeNics(e)
		return
	}
	n.changeRoutes(e.portRoutes(), old)
}

// rebuildRoutes publishes a new route table of every NIC's addresses and
// routed prefixes; reactors pick it up at their next lookup. It costs the
// network's size: a change of some NICs' routes uses routeNics and
// unrouteNic.
func (n *network) rebuildRoutes() {
	t := reactor.RouteTable{Public: n.rec.Public, MTU: n.rec.MTU}
	for _, p := range []netip.Prefix{n.rec.IPv4Subnet, n.rec.IPv6Prefix} {
		if p.IsValid() {
			t.Subnets = append(t.Subnets, p)
		}
	}
	for _, e := range n.nics {
		e.routed = e.port != nil
		if e.routed {
			t.Routes = append(t.Routes, e.portRoutes()...)
		}
	}
	if err := n.plane.PublishRoutes(t); err != nil {
		n.Log.Error("route table", "network", n.id, "err", err)
	}
}

// removePlane takes the network out of the data plane (and the uplink's
// table) once its NICs' reactors have stopped.
func (n *network) removePlane() {
	if n.plane == nil {
		return
	}
	if err := n.plane.Remove(); err != nil {
		n.Log.Error("remove network from the data plane", "network", n.id, "err", err)
	}
	n.plane = nil
}

// forget drops a stopped NetworkActor's references to its NICs' ports: its
// entries and its route table, which lead to their inboxes. Like a stopped
// NicActor (see nic.forget) it may stay reachable from its parent's set of
// children.
func (n *network) forget() {
	n.nics = nil
	n.removePlane()
}

// spawnNic starts the NicActor of e, handing it the NIC's port. It fails
// while an actor of the same id still runs, as one being deleted does
// until it has stopped.
func (n *network) spawnNic(ctx actor.Context, e *nicEntry) (*actor.PID, error) {
	rec := e.rec
	p := &probe{kind: KindNic, networkID: n.id, nicID: rec.ID}
	h := &nicHandle{port: e.port, svc: n.servicesFor(e)}
	props := p.props(func() actor.Actor { return newNic(n.deps, p, h, rec) })
	pid, err := ctx.SpawnNamed(props, "nic-"+rec.ID)
	if err != nil {
		return nil, fmt.Errorf("spawn the actor of nic %s: %w", rec.ID, err)
	}
	// Registered here too, not only on its Started: the tree shows the NIC
	// as soon as CreateNic has answered.
	n.reg.add(pid, ctx.Self(), p)
	return pid, nil
}

func (n *network) setState(ctx actor.Context, msg nicState) {
	e := n.nics[msg.id]
	if e == nil || e.state == msg.state {
		return
	}
	e.state = msg.state
	if !e.stored {
		return
	}
	n.Log.Info("nic state", "nic", msg.id, "state", stateLabel(msg.state))
	ctx.Send(ctx.Parent(), nicChanged{view: nicView(e.rec, e.state)})
}

// update replaces the network's DNS and NTP servers and, if the request
// gives one, its MTU; it answers the sender itself once every reactor has
// them (the next DHCP answer or RA carries them, routing enforces the new
// MTU), and returns only errors.
func (n *network) update(ctx actor.Context, req *netpb.UpdateNetworkRequest) error {
	if n.deleting {
		return networkNotFound(req.GetId())
	}
	dns, err := parseServers("dns_servers", req.GetDnsServers())
	if err != nil {
		return err
	}
	ntp, err := parseServers("ntp_servers", req.GetNtpServers())
	if err != nil {
		return err
	}
	mtu := n.rec.MTU
	if req.GetMtu() != 0 {
		if mtu, err = parseMTU(req.GetMtu(), n.rec.IPv6Prefix.IsValid()); err != nil {
			return err
		}
	}
	rec := *n.rec
	rec.DNSServers, rec.NTPServers, rec.MTU, rec.UpdatedAt = dns, ntp, mtu, time.Now().UTC()
	if err := n.Store.UpdateNetwork(&rec); err != nil {
		return storeFailed("store network", err)
	}
	n.rec = &rec
	ctx.Send(ctx.Parent(), networkChanged{rec: n.rec})
	n.Log.Info("network updated", "network", n.id, "dns", dns, "ntp", ntp, "mtu", mtu)
	n.rebuildRoutes()
	sender, view := ctx.Sender(), n.view(n.rec, len(n.nics))
	n.pushServices(ctx, nil, func() { ctx.Send(sender, view) })
	return nil
}

// delete deletes the network with its NICs (all of them, if forced) and
// answers sender once their NicActors have stopped. A forced delete waits
// until no NIC record is being written, so that it deletes every record
// the network has; meanwhile creates are refused.
func (n *network) delete(ctx actor.Context, req *netpb.DeleteNetworkRequest, sender *actor.PID) {
	if n.deleting {
		ctx.Send(sender, networkNotFound(req.GetId()))
		return
	}
	if len(n.nics) > 0 && !req.GetForce() {
		ctx.Send(sender, status.Errorf(codes.FailedPrecondition,
			"network %q still has %d nic(s); delete them first or set force", n.rec.Name, len(n.nics)))
		return
	}
	if len(n.writes) > 0 {
		n.closing = true
		n.afterWrites = append(n.afterWrites, func() { n.delete(ctx, req, sender) })
		return
	}
	n.closing = false
	ids := make([]string, 0, len(n.nics))
	for id, e := range n.nics {
		if !e.stored {
			continue // a create waiting for its NicActor: stopped below, it answers NotFound
		}
		ids = append(ids, id)
	}
	if err := n.Store.DeleteNetwork(n.rec); err != nil {
		ctx.Send(sender, storeFailed("delete network from store", err))
		return
	}
	n.deleting = true
	// Creates stored but not answered yet go with the network; the actor
	// stops before publishCreated would answer them.
	for _, a := range n.answers {
		ctx.Send(a.sender, networkNotFound(n.id))
	}
	n.answers = nil
	ctx.Send(ctx.Parent(), networkGone{id: n.id, nics: ids})
	futures := make([]*actor.Future, 0, len(n.nics))
	for _, e := range n.nics {
		if e.pid != nil {
			futures = append(futures, ctx.StopFuture(e.pid))
		}
	}
	afterAll(ctx, futures, func() {
		n.Log.Info("network deleted", "network", n.id, "name", n.rec.Name, "nics_deleted", len(ids))
		ctx.Send(sender, &netpb.DeleteNetworkResponse{Deleted: true, NicsDeleted: uint32(len(ids))})
		ctx.Stop(ctx.Self())
	})
}

// taken returns an LPM table of every prefix and address (as a host
// prefix) the other NICs hold, each with its owner's id, for overlap
// checks; skip names the NIC being changed. Without skip it is the
// network's claims themselves, which the caller must not change.
func (n *network) taken(skip string) *bart.Table[string] {
	if skip == "" {
		return n.claims
	}
	t := &bart.Table[string]{}
	for id, e := range n.nics {
		if id == skip {
			continue
		}
		for _, p := range e.routes() {
			t.Insert(p, id)
		}
		for _, a := range e.addrs() {
			t.Insert(netip.PrefixFrom(a, a.BitLen()), id)
		}
	}
	return t
}
