package actors

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gaissmai/bart"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/actors/ipam"
	"mvirt-net/persistence"
	"mvirt-net/rpc/netpb"
)

// createNic validates and reserves a new NIC (its MAC, addresses and
// port), and opens its socket and writes its record in the background:
// the network goes on with other creates meanwhile, so that concurrent
// creates share one synced commit. The sender gets its answer from
// nicStored, once the socket listens and the record is durable.
func (n *network) createNic(ctx actor.Context, req *netpb.CreateNicRequest) {
	e, err := n.reserveNic(req)
	if err != nil {
		if req.GetName() != "" {
			ctx.Send(ctx.Parent(), nicNameFree{name: req.GetName()})
		}
		ctx.Respond(err)
		return
	}
	n.writing++
	self, root, sender, store := ctx.Self(), ctx.ActorSystem().Root, ctx.Sender(), n.Store
	go func() {
		err := e.port.Listen()
		if err != nil {
			err = status.Errorf(codes.Internal, "create vhost-user socket: %v", err)
		} else if err = store.PutNic(e.rec, nil); err != nil {
			err = storeError(e.rec, err)
		}
		root.Send(self, nicStored{id: e.rec.ID, err: err, sender: sender, port: e.port})
	}()
}

// reserveNic checks a CreateNic request and takes what the NIC needs: an
// entry in the network marked pending, its addresses, its port (not yet
// listening).
func (n *network) reserveNic(req *netpb.CreateNicRequest) (*nicEntry, error) {
	mac, err := n.pickMAC(req.GetMacAddress())
	if err != nil {
		return nil, err
	}
	others := n.allClaimed()
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
	id := uuid.NewString()
	rec := &persistence.NicRecord{
		ID: id, Name: req.GetName(), NetworkID: n.id, MAC: mac, IPv4Address: v4, IPv6Address: v6,
		RoutedIPv4Prefixes: routes4, RoutedIPv6Prefixes: routes6,
		SocketPath: nicSocketPath(n.SocketDir, id), CreatedAt: now, UpdatedAt: now,
	}
	port, err := n.plane.AddNIC(nicSpec(rec, n.SocketGroup))
	if err != nil {
		return nil, status.Errorf(codes.Internal, "create nic port: %v", err)
	}
	e, err := n.adopt(rec, port)
	if err != nil {
		_ = port.Close()
		return nil, status.Errorf(codes.Internal, "take addresses of nic %s: %v", id, err)
	}
	e.pending = true
	return e, nil
}

// storeError is the gRPC error of a NIC record that could not be stored.
func storeError(rec *persistence.NicRecord, err error) error {
	if errors.Is(err, persistence.ErrConflict) {
		return status.Errorf(codes.AlreadyExists, "nic %s conflicts with an existing nic: %v", describe(rec.ID, rec.Name), err)
	}
	return status.Errorf(codes.Internal, "store nic: %v", err)
}

// nicStored finishes a CreateNic once its record is written: on success
// the NIC's actor starts and the sender gets its view; on failure the
// reservation is given back and the sender gets the error.
func (n *network) nicStored(ctx actor.Context, msg nicStored) {
	e := n.nics[msg.id]
	if e == nil || !e.pending {
		// The actor restarted while the record was written: the reloaded
		// network knows the NIC if the write landed first.
		_ = msg.port.Close()
		ctx.Send(msg.sender, status.Errorf(codes.Aborted, "network %s restarted while nic %s was stored; list the nics to see whether it exists", n.id, msg.id))
		return
	}
	n.writing--
	defer n.releaseHeld(ctx)
	rec := e.rec
	if msg.err != nil {
		_ = e.port.Close()
		delete(n.nics, rec.ID)
		n.release(rec)
		if rec.Name != "" {
			ctx.Send(ctx.Parent(), nicNameFree{name: rec.Name})
		}
		ctx.Send(msg.sender, msg.err)
		return
	}
	e.pending = false
	e.pid = n.spawnNic(ctx, e)
	n.created = append(n.created, createdNic{e: e, sender: msg.sender})
	if !n.flushQueued {
		n.flushQueued = true
		ctx.Send(ctx.Self(), flushCreated{})
	}
}

// flushCreated publishes the routes to every NIC stored since the last
// flush, in one table, and then answers their creators. The NICs of one
// group commit are stored back to back, ahead of this message in the
// mailbox, so a group costs one route table, not one per NIC.
func (n *network) flushCreated(ctx actor.Context) {
	n.flushQueued = false
	n.rebuildRoutes()
	for _, c := range n.created {
		rec := c.e.rec
		view := nicView(rec, c.e.state)
		ctx.Send(ctx.Parent(), nicChanged{view: view})
		n.Log.Info("nic created", "nic", rec.ID, "name", rec.Name, "network", n.id, "mac", rec.MAC.String(),
			"ipv4", addrText(rec.IPv4Address), "ipv6", addrText(rec.IPv6Address), "socket", rec.SocketPath)
		ctx.Send(c.sender, view)
	}
	n.created = nil
	n.releaseHeld(ctx)
}

// pickMAC validates a requested MAC or generates one in the 52:54:00 range
// QEMU uses; either way unique in the network.
func (n *network) pickMAC(want string) (net.HardwareAddr, error) {
	inUse := func(m net.HardwareAddr) string {
		for id, e := range n.nics {
			if bytes.Equal(e.rec.MAC, m) {
				return id
			}
		}
		return ""
	}
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
	if e == nil || n.deleting {
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
		return status.Errorf(codes.Internal, "store nic: %v", err)
	}
	e.rec = &rec
	n.claimed = nil
	n.rebuildRoutes()
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
	if e == nil || n.deleting {
		ctx.Respond(nicNotFound(req.GetId()))
		return
	}
	if err := n.Store.DeleteNic(e.rec); err != nil {
		ctx.Respond(status.Errorf(codes.Internal, "delete nic from store: %v", err))
		return
	}
	delete(n.nics, e.rec.ID)
	n.release(e.rec)
	n.rebuildRoutes()
	ctx.Send(ctx.Parent(), nicGone{id: e.rec.ID})
	sender := ctx.Sender()
	ctx.ReenterAfter(ctx.StopFuture(e.pid), func(any, error) {
		n.Log.Info("nic deleted", "nic", e.rec.ID, "name", e.rec.Name)
		ctx.Send(sender, &netpb.DeleteNicResponse{Deleted: true})
	})
}

func (n *network) release(rec *persistence.NicRecord) {
	n.claimed = nil
	for _, r := range []struct {
		a    netip.Addr
		pool *ipam.Pool
	}{{rec.IPv4Address, n.pool4}, {rec.IPv6Address, n.pool6}} {
		if r.a.IsValid() && r.pool != nil {
			r.pool.Release(r.a)
		}
	}
}
