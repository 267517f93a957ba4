package actors

import (
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
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

// nicStartTimeout bounds how long a create waits for its NicActor to
// start the NIC's reactor.
const nicStartTimeout = 10 * time.Second

// createNic creates a NIC: both its running NicActor (listening socket,
// reactor) and its record, or neither. The NIC is started first and its
// record written last, so every failure before the write only has to stop
// what was started, and a crash before it leaves no record; a crash after
// it is a stored NIC that the next start serves. The write runs off the
// actor's turn (see network_writes.go), so the writes of concurrent creates
// share a commit while the actor goes on with the next request; the
// sender is answered once the NIC is both started and durably stored. Its
// name must be unique within the network (another network may use it);
// its id, checked by the NetManager, is claimed for good by the store.
func (n *network) createNic(ctx actor.Context, msg createNic) {
	sender := ctx.Sender()
	fail := func(err error) { ctx.Send(sender, err) }
	e, err := n.prepareNic(msg)
	if err != nil {
		fail(err)
		return
	}
	if e.pid, err = n.spawnNic(ctx, e); err != nil {
		n.unadopt(e)
		if cerr := e.port.Close(); cerr != nil {
			n.Log.Warn("close nic port", "nic", e.rec.ID, "err", cerr)
		}
		fail(status.Errorf(codes.Unavailable, "%v; retry once it has stopped", err))
		return
	}
	ctx.ReenterAfter(ctx.RequestFuture(e.pid, awaitStart{}, nicStartTimeout), func(res any, err error) {
		if n.deleting || n.nics[e.rec.ID] != e {
			fail(networkNotFound(n.id)) // DeleteNetwork stopped it meanwhile
			return
		}
		if err == nil {
			err = startError(e.rec, res)
		}
		if err != nil {
			n.abandon(ctx, e, err, sender)
			return
		}
		n.writeNic(ctx, e, sender)
	})
}

// abandon undoes a create that failed after its NicActor was spawned: the
// NIC's addresses, name and MAC go back to the network, its NicActor
// stops (closing its port), and then the sender gets err.
func (n *network) abandon(ctx actor.Context, e *nicEntry, err error, sender *actor.PID) {
	n.unrouteNic(e)
	n.unadopt(e)
	ctx.ReenterAfter(ctx.StopFuture(e.pid), func(any, error) { ctx.Send(sender, err) })
}

// startError is the error of a NicActor's answer to awaitStart, as the
// create's answer.
func startError(rec *persistence.NicRecord, res any) error {
	r, ok := res.(startResult)
	switch {
	case !ok:
		return status.Errorf(codes.Internal, "start nic %s: unexpected answer %T", rec.ID, res)
	case r.listenErr != nil:
		return status.Errorf(codes.FailedPrecondition, "nic %s: cannot serve its vhost-user socket: %v", describe(rec.ID, rec.Name), r.listenErr)
	case r.err != nil:
		return status.Errorf(codes.Internal, "start nic %s: %v", rec.ID, r.err)
	}
	return nil
}

// prepareNic validates a create, checks its id and name against the
// network's NICs (those being created included), picks the NIC's MAC and
// addresses, makes its port (its NicActor makes it listen on its socket)
// and takes it into the network's state (so that concurrent creates see its name, MAC and
// addresses as taken). Nothing is stored yet.
func (n *network) prepareNic(msg createNic) (*nicEntry, error) {
	req, id := msg.req, msg.id
	if e := n.nics[id]; e != nil {
		return nil, status.Errorf(codes.AlreadyExists, "a nic with id %s already exists", id)
	}
	if msg.name != "" {
		for _, e := range n.nics {
			if e.rec.Name == msg.name {
				return nil, status.Errorf(codes.AlreadyExists, "nic %q already exists in network %q (id %s)", msg.name, n.rec.Name, e.rec.ID)
			}
		}
	}
	mac, err := n.pickMAC(req.GetMacAddress())
	if err != nil {
		return nil, err
	}
	others := n.taken("")
	routes4, routes6, err := n.checkRoutes(others, req.GetRoutedIpv4Prefixes(), req.GetRoutedIpv6Prefixes())
	if err != nil {
		return nil, err
	}
	v4, err := n.pickAddr(others, "ipv4_address", req.GetIpv4Address(), n.pool4, true)
	if err != nil {
		return nil, err
	}
	v6, err := n.pickAddr(others, "ipv6_address", req.GetIpv6Address(), n.pool6, false)
	if err != nil {
		return nil, err
	}
	for _, a := range []netip.Addr{v4, v6} {
		for _, r := range append(routes4, routes6...) {
			if a.IsValid() && r.Contains(a) {
				return nil, invalid("routed prefix %s contains the nic's own address %s", r, a)
			}
		}
	}
	now := time.Now().UTC()
	rec := &persistence.NicRecord{
		ID: id, Name: msg.name, NetworkID: n.id, MAC: mac, IPv4Address: v4, IPv6Address: v6,
		RoutedIPv4Prefixes: routes4, RoutedIPv6Prefixes: routes6,
		SocketPath: nicSocketPath(n.SocketDir, id), CreatedAt: now, UpdatedAt: now,
	}
	port, err := n.plane.AddNIC(nicSpec(rec, n.SocketGroup))
	if errors.Is(err, reactor.ErrNoHugepages) {
		return nil, status.Errorf(codes.ResourceExhausted, "create nic port: %v", err)
	}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "create nic port: %v", err)
	}
	e, err := n.adopt(rec, port)
	if err != nil {
		n.release(rec) // what adopt took of the addresses pickAddr found free
		_ = port.Close()
		return nil, status.Errorf(codes.Internal, "take addresses of nic %s: %v", id, err)
	}
	return e, nil
}

// unadopt undoes adopt for a NIC whose create failed: its addresses go back
// to the pools. The caller stops its NicActor, which closes its port.
func (n *network) unadopt(e *nicEntry) {
	delete(n.nics, e.rec.ID)
	n.unclaim(e)
	n.release(e.rec)
}

// pickMAC validates a requested MAC or generates one in the 52:54:00 range
// QEMU uses; either way unique in the network.
func (n *network) pickMAC(want string) (net.HardwareAddr, error) {
	inUse := func(m net.HardwareAddr) string { return n.macs[string(m)] }
	if want != "" {
		m, err := parseMAC(want)
		if err != nil {
			return nil, err
		}
		if id := inUse(m); id != "" {
			return nil, status.Errorf(codes.AlreadyExists, "mac_address %s is already used by nic %s", m, id)
		}
		return m, nil
	}
	for {
		m := net.HardwareAddr{0x52, 0x54, 0x00, 0, 0, 0}
		_, _ = rand.Read(m[3:])
		if inUse(m) == "" {
			return m, nil
		}
	}
}

// pickAddr validates a requested address or allocates the lowest free one
// that no prefix of others covers. The zero Addr means the family is
// disabled.
func (n *network) pickAddr(others *bart.Table[string], field, want string, pool *ipam.Pool, want4 bool) (netip.Addr, error) {
	if pool == nil {
		if want != "" {
			return netip.Addr{}, invalid("%s given but network %q has %s disabled", field, n.rec.Name, family(want4))
		}
		return netip.Addr{}, nil
	}
	covered := func(a netip.Addr) string {
		id, _ := others.Lookup(a)
		return id
	}
	if want == "" {
		a, err := pool.Lowest(func(a netip.Addr) bool { return covered(a) != "" })
		if err != nil {
			return netip.Addr{}, status.Errorf(codes.ResourceExhausted, "%s: no free %s address in %s", n.rec.Name, family(want4), pool.Prefix())
		}
		return a, nil
	}
	a, err := parseAddr(field, want, want4)
	if err != nil {
		return netip.Addr{}, err
	}
	if err := pool.Check(a); err != nil {
		if errors.Is(err, ipam.ErrInUse) {
			return netip.Addr{}, status.Errorf(codes.AlreadyExists, "%s %s is already in use in network %q", field, a, n.rec.Name)
		}
		return netip.Addr{}, invalid("%s: %v", field, err)
	}
	if id := covered(a); id != "" {
		return netip.Addr{}, status.Errorf(codes.AlreadyExists, "%s %s lies in a prefix routed to nic %s", field, a, id)
	}
	return a, nil
}

// checkRoutes validates a NIC's routed prefixes: at most maxRoutes, the
// family enabled, none overlapping an address or prefix of others (the
// other NICs').
func (n *network) checkRoutes(others *bart.Table[string], v4, v6 []string) ([]netip.Prefix, []netip.Prefix, error) {
	if len(v4)+len(v6) > maxRoutes {
		return nil, nil, invalid("the request routes %d prefixes; a nic routes at most %d (IPv4 and IPv6 together)", len(v4)+len(v6), maxRoutes)
	}
	r4, err := parseRoutes("routed_ipv4_prefixes", v4, true)
	if err != nil {
		return nil, nil, err
	}
	r6, err := parseRoutes("routed_ipv6_prefixes", v6, false)
	if err != nil {
		return nil, nil, err
	}
	if len(r4) > 0 && n.pool4 == nil {
		return nil, nil, invalid("routed_ipv4_prefixes given but network %q has IPv4 disabled", n.rec.Name)
	}
	if len(r6) > 0 && n.pool6 == nil {
		return nil, nil, invalid("routed_ipv6_prefixes given but network %q has IPv6 disabled", n.rec.Name)
	}
	for _, p := range append(r4, r6...) {
		if t, owner, ok := overlapOf(others, p); ok {
			return nil, nil, status.Errorf(codes.AlreadyExists, "routed prefix %s overlaps %s of nic %s", p, t, owner)
		}
	}
	return r4, r6, nil
}

// updateNic replaces a NIC's routed prefixes; it answers the sender itself
// once the NIC's reactor has them, and returns only errors.
func (n *network) updateNic(ctx actor.Context, req *netpb.UpdateNicRequest) error {
	e := n.nics[req.GetId()]
	if e == nil || !e.stored || n.deleting {
		return nicNotFound(req.GetId())
	}
	r4, r6, err := n.checkRoutes(n.taken(e.rec.ID), req.GetRoutedIpv4Prefixes(), req.GetRoutedIpv6Prefixes())
	if err != nil {
		return err
	}
	for _, a := range e.addrs() {
		for _, r := range append(r4, r6...) {
			if r.Contains(a) {
				return invalid("routed prefix %s contains the nic's own address %s", r, a)
			}
		}
	}
	rec := *e.rec
	rec.RoutedIPv4Prefixes, rec.RoutedIPv6Prefixes = r4, r6
	rec.UpdatedAt = time.Now().UTC()
	if err := n.Store.PutNic(&rec, e.rec); err != nil {
		return storeFailed("store nic", err)
	}
	old := e.portRoutes()
	n.unclaim(e)
	e.rec = &rec
	n.claim(e)
	n.rerouteNic(e, old)
	view := nicView(e.rec, e.state)
	ctx.Send(ctx.Parent(), nicChanged{view: view})
	n.Log.Info("nic updated", "nic", rec.ID, "routed_ipv4", rec.RoutedIPv4Prefixes, "routed_ipv6", rec.RoutedIPv6Prefixes)
	sender := ctx.Sender()
	n.pushServices(ctx, e, func() { ctx.Send(sender, view) })
	return nil
}

// deleteNic removes the NIC from the store and the network at once, and
// answers when its NicActor has stopped and its socket is gone.
func (n *network) deleteNic(ctx actor.Context, req *netpb.DeleteNicRequest) {
	e := n.nics[req.GetId()]
	if e == nil || !e.stored || n.deleting {
		ctx.Respond(nicNotFound(req.GetId()))
		return
	}
	if err := n.Store.DeleteNic(e.rec); err != nil {
		ctx.Respond(storeFailed("delete nic from store", err))
		return
	}
	n.unrouteNic(e)
	n.unadopt(e)
	ctx.Send(ctx.Parent(), nicGone{id: e.rec.ID})
	sender := ctx.Sender()
	done := func() {
		n.Log.Info("nic deleted", "nic", e.rec.ID, "name", e.rec.Name)
		ctx.Send(sender, &netpb.DeleteNicResponse{Deleted: true})
	}
	if e.pid == nil {
		done() // no port, no actor: nothing to stop (see loadNic)
		return
	}
	ctx.ReenterAfter(ctx.StopFuture(e.pid), func(any, error) { done() })
}

func (n *network) release(rec *persistence.NicRecord) {
	for _, r := range []struct {
		a    netip.Addr
		pool *ipam.Pool
	}{{rec.IPv4Address, n.pool4}, {rec.IPv6Address, n.pool6}} {
		if r.a.IsValid() && r.pool != nil {
			r.pool.Release(r.a)
		}
	}
}
