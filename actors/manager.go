package actors

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"mvirt-net/persistence"
	"mvirt-net/rpc/netpb"
)

// manager is the NetManager: root of the tree, supervisor of the
// NetworkActors, the directory that routes requests by id or name, and the
// hub of the watchers. Networks are created here; everything inside a
// network is written by its NetworkActor, which reports each change back
// (once it is durable) before it answers: each report becomes an event.
type manager struct {
	*deps
	probe    *probe
	networks map[string]*netEntry // by id
	netNames map[string]string    // name → id
	nics     map[string]*netpb.Nic
	// nicStates counts the NICs of nics by state, for the gauges.
	nicStates map[netpb.NicState]int
	// nicNames holds the ids of the NICs of each name. Names are unique
	// within a network only, and the NetworkActor checks that: this index
	// only answers lookups, and holds only NICs that exist.
	nicNames map[string]map[string]bool
	// creating holds the ids of NICs whose create is in flight.
	creating map[string]bool
	sg       secGroups
}

type netEntry struct {
	rec  *persistence.NetworkRecord
	pid  *actor.PID
	nics map[string]bool
}

func newManager(d *deps, p *probe) *manager {
	return &manager{deps: d, probe: p}
}

func (m *manager) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		m.reg.add(ctx.Self(), ctx.Parent(), m.probe)
		m.load(ctx)
	case *actor.Restarting:
		m.probe.restarts.Add(1)
		m.watches.endAll(status.Error(codes.Unavailable, "mvirt-net's directory restarted; watch again"))
	case *actor.Stopping:
		m.watches.closed = true
		m.watches.endAll(status.Error(codes.Unavailable, "mvirt-net is shutting down"))
	case *actor.Stopped:
		m.reg.remove(ctx.Self())
	case awaitReady:
		m.awaitNetworks(ctx)
	case watchNics, watchNetworks, unwatch, endWatches:
		m.receiveWatch(ctx, msg)
	case *netpb.CreateNetworkRequest:
		if msg.GetIsPublic() {
			m.createPublicNetwork(ctx, msg)
		} else {
			ctx.Respond(m.createNetwork(ctx, msg))
		}
	case *netpb.GetNetworkRequest:
		ctx.Respond(m.getNetwork(msg))
	case *netpb.ListNetworksRequest:
		ctx.Respond(m.listNetworks())
	case *netpb.UpdateNetworkRequest:
		m.forwardToNetwork(ctx, msg.GetId())
	case *netpb.DeleteNetworkRequest:
		m.forwardToNetwork(ctx, msg.GetId())
	case *netpb.CreateNicRequest:
		m.createNic(ctx, msg)
	case *netpb.GetNicRequest:
		ctx.Respond(m.getNic(msg))
	case *netpb.ListNicsRequest:
		ctx.Respond(m.listNics(msg))
	case *netpb.UpdateNicRequest:
		m.forwardToNicNetwork(ctx, msg.GetId(), func(id string) any {
			r := proto.Clone(msg).(*netpb.UpdateNicRequest)
			r.Id = id
			return r
		})
	case *netpb.DeleteNicRequest:
		m.forwardToNicNetwork(ctx, msg.GetId(), func(id string) any { return &netpb.DeleteNicRequest{Id: id} })
	case *netpb.AttachNicRequest:
		ctx.Respond(m.attachNic(msg))
	case InjectReactorPanic:
		m.forwardToNicNetwork(ctx, msg.NicID, func(id string) any { return InjectReactorPanic{NicID: id} })
	case InjectUplinkPanic:
		ctx.Forward(m.uplinkPID.Load())
	case networkChanged:
		if e := m.networks[msg.rec.ID]; e != nil {
			e.rec = msg.rec
			m.watches.networks.publish(networkEvent(e.rec.ID, networkView(e.rec, len(e.nics))))
		}
	case networkGone:
		m.dropNetwork(msg)
	case nicChanged:
		m.nicChanged(msg.view)
	case nicGone:
		m.dropNic(msg.id)
	default:
		m.receiveSecurityGroup(ctx)
	}
}

// load rebuilds the directory from the store and starts one NetworkActor
// per network. On a restart of the NetManager this runs again: the previous
// children were stopped by the restart.
func (m *manager) load(ctx actor.Context) {
	m.networks = map[string]*netEntry{}
	m.netNames = map[string]string{}
	m.nics = map[string]*netpb.Nic{}
	m.nicStates = map[netpb.NicState]int{}
	m.nicNames = map[string]map[string]bool{}
	m.creating = map[string]bool{}
	snap, err := m.Store.Load()
	if err != nil {
		panic(err)
	}
	m.spawnUplink(ctx)
	m.loadSecurityGroups()
	for _, rec := range snap.Networks {
		e := m.addNetwork(ctx, rec)
		for _, nic := range snap.Nics[rec.ID] {
			e.nics[nic.ID] = true
			m.putNic(nicView(nic, netpb.NicState_NIC_STATE_CREATED))
		}
	}
	m.Log.Info("loaded metadata", "networks", len(snap.Networks), "nics", len(m.nics))
	m.updateGauges()
}

func (m *manager) addNetwork(ctx actor.Context, rec *persistence.NetworkRecord) *netEntry {
	p := &probe{kind: KindNetwork, networkID: rec.ID}
	props := p.props(func() actor.Actor { return newNetwork(m.deps, p, rec.ID) },
		actor.WithSupervisor(actor.NewOneForOneStrategy(10, 10*time.Second, actor.DefaultDecider)))
	pid, err := ctx.SpawnNamed(props, "net-"+rec.ID)
	if err != nil {
		panic(err)
	}
	// Registered here too, not only on its Started: the tree shows the
	// network as soon as the request that made it has answered.
	m.reg.add(pid, ctx.Self(), p)
	e := &netEntry{rec: rec, pid: pid, nics: map[string]bool{}}
	m.networks[rec.ID] = e
	m.netNames[rec.Name] = rec.ID
	return e
}

// awaitNetworks answers once every NetworkActor has answered awaitReady.
func (m *manager) awaitNetworks(ctx actor.Context) {
	futures := make([]*actor.Future, 0, len(m.networks))
	for _, e := range m.networks {
		futures = append(futures, ctx.RequestFuture(e.pid, awaitReady{}, time.Minute))
	}
	sender := ctx.Sender()
	afterAll(ctx, futures, func() { ctx.Send(sender, ready{}) })
}

// afterAll runs cont once every future has completed, without blocking the
// actor in between.
func afterAll(ctx actor.Context, futures []*actor.Future, cont func()) {
	if len(futures) == 0 {
		cont()
		return
	}
	ctx.ReenterAfter(futures[0], func(any, error) { afterAll(ctx, futures[1:], cont) })
}

func (m *manager) lookupNetwork(idOrName string) *netEntry {
	if e := m.networks[idOrName]; e != nil {
		return e
	}
	if id, ok := canonicalID(idOrName); ok && m.networks[id] != nil {
		return m.networks[id]
	}
	if id, ok := m.netNames[idOrName]; ok {
		return m.networks[id]
	}
	return nil
}

func networkNotFound(idOrName string) error {
	return status.Errorf(codes.NotFound, "network %q not found", clip(idOrName))
}

func nicNotFound(idOrName string) error {
	return status.Errorf(codes.NotFound, "nic %q not found", clip(idOrName))
}

func (m *manager) createNetwork(ctx actor.Context, req *netpb.CreateNetworkRequest) any {
	rec, err := m.validateNetwork(req)
	if err != nil {
		return err
	}
	if err := m.Store.CreateNetwork(rec); err != nil {
		if errors.Is(err, persistence.ErrConflict) {
			return status.Errorf(codes.AlreadyExists, "network %q or id %s already exists", rec.Name, rec.ID)
		}
		return storeFailed("store network", err)
	}
	e := m.addNetwork(ctx, rec)
	m.updateGauges()
	m.watches.networks.publish(networkEvent(rec.ID, networkView(rec, len(e.nics))))
	m.Log.Info("network created", "network", rec.ID, "name", rec.Name,
		"ipv4", persistence.PrefixText(rec.IPv4Subnet), "ipv6", persistence.PrefixText(rec.IPv6Prefix), "public", rec.Public, "mtu", rec.MTU)
	return m.view(rec, 0)
}

func (m *manager) validateNetwork(req *netpb.CreateNetworkRequest) (*persistence.NetworkRecord, error) {
	name, err := validName("network", req.GetName(), true)
	if err != nil {
		return nil, err
	}
	if _, ok := m.netNames[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "network %q already exists", name)
	}
	id, err := newID("id", req.GetId())
	if err != nil {
		return nil, err
	}
	if e := m.networks[id]; e != nil {
		return nil, status.Errorf(codes.AlreadyExists, "a network with id %s already exists (%q)", id, e.rec.Name)
	}
	v4, err := familyPrefix("ipv4", req.GetIpv4Enabled(), req.GetIpv4Subnet(), true)
	if err != nil {
		return nil, err
	}
	v6, err := familyPrefix("ipv6", req.GetIpv6Enabled(), req.GetIpv6Prefix(), false)
	if err != nil {
		return nil, err
	}
	if !v4.IsValid() && !v6.IsValid() {
		return nil, invalid("enable at least one of IPv4 (ipv4_subnet) and IPv6 (ipv6_prefix)")
	}
	dns, err := parseServers("dns_servers", req.GetDnsServers())
	if err != nil {
		return nil, err
	}
	ntp, err := parseServers("ntp_servers", req.GetNtpServers())
	if err != nil {
		return nil, err
	}
	mtu, err := parseMTU(req.GetMtu(), v6.IsValid())
	if err != nil {
		return nil, err
	}
	if req.GetIsPublic() {
		if err := m.checkPublicOverlap(name, v4, v6); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	return &persistence.NetworkRecord{
		ID: id, Name: name, IPv4Subnet: v4, IPv6Prefix: v6, DNSServers: dns, NTPServers: ntp,
		Public: req.GetIsPublic(), MTU: mtu, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// familyPrefix validates one family's enable flag and CIDR, and that the
// CIDR leaves room for at least one NIC.
func familyPrefix(fam string, enabled bool, cidr string, want4 bool) (netip.Prefix, error) {
	field := fam + "_subnet"
	if !want4 {
		field = fam + "_prefix"
	}
	switch {
	case !enabled && cidr == "":
		return netip.Prefix{}, nil
	case !enabled:
		return netip.Prefix{}, invalid("%s %q given but %s_enabled is false", field, clip(cidr), fam)
	case cidr == "":
		return netip.Prefix{}, invalid("%s_enabled is set but %s is empty", fam, field)
	}
	p, err := parsePrefix(field, cidr, want4)
	if err != nil {
		return netip.Prefix{}, err
	}
	if err := checkSpace(field, p); err != nil {
		return netip.Prefix{}, err
	}
	if _, err := newPool(p); err != nil {
		return netip.Prefix{}, invalid("%s %s is too small to hold a NIC", field, p)
	}
	return p, nil
}

func (m *manager) checkPublicOverlap(name string, v4, v6 netip.Prefix) error {
	for _, e := range m.networks {
		if !e.rec.Public {
			continue
		}
		for _, pair := range [][2]netip.Prefix{{v4, e.rec.IPv4Subnet}, {v6, e.rec.IPv6Prefix}} {
			if a, b := pair[0], pair[1]; a.Overlaps(b) {
				return status.Errorf(codes.AlreadyExists,
					"%s overlaps %s of public network %q; public networks must not overlap", a, b, e.rec.Name)
			}
		}
	}
	return nil
}

func (m *manager) getNetwork(req *netpb.GetNetworkRequest) any {
	key := req.GetId() + req.GetName()
	if key == "" {
		return invalid("give a network id or name")
	}
	e := m.lookupNetwork(key)
	if e == nil {
		return networkNotFound(key)
	}
	return m.view(e.rec, len(e.nics))
}

func (m *manager) listNetworks() any {
	out := &netpb.ListNetworksResponse{}
	for _, e := range m.networks {
		out.Networks = append(out.Networks, m.view(e.rec, len(e.nics)))
	}
	sort.Slice(out.Networks, func(i, j int) bool { return out.Networks[i].Name < out.Networks[j].Name })
	return out
}

// forwardToNetwork hands a request to the NetworkActor that owns it; the
// NetworkActor answers the original sender.
func (m *manager) forwardToNetwork(ctx actor.Context, idOrName string) {
	if idOrName == "" {
		ctx.Respond(invalid("id must name a network"))
		return
	}
	e := m.lookupNetwork(idOrName)
	if e == nil {
		ctx.Respond(networkNotFound(idOrName))
		return
	}
	ctx.Forward(e.pid)
}

// forwardToNicNetwork resolves the NIC ref names and hands the NetworkActor
// that owns it the request that with builds for its id.
func (m *manager) forwardToNicNetwork(ctx actor.Context, ref string, with func(id string) any) {
	if ref == "" {
		ctx.Respond(invalid("id must name a nic"))
		return
	}
	view, err := m.lookupNic(ref, "")
	if err != nil {
		ctx.Respond(err)
		return
	}
	ctx.RequestWithCustomSender(m.networks[view.NetworkId].pid, with(view.Id), ctx.Sender())
}

func (m *manager) createNic(ctx actor.Context, req *netpb.CreateNicRequest) {
	if req.GetNetworkId() == "" {
		ctx.Respond(invalid("network_id must name a network by id or name"))
		return
	}
	e := m.lookupNetwork(req.GetNetworkId())
	if e == nil {
		ctx.Respond(networkNotFound(req.GetNetworkId()))
		return
	}
	name, err := validName("nic", req.GetName(), false)
	if err != nil {
		ctx.Respond(err)
		return
	}
	id, err := newID("id", req.GetId())
	if err != nil {
		ctx.Respond(err)
		return
	}
	if v := m.nics[id]; v != nil {
		ctx.Respond(status.Errorf(codes.AlreadyExists, "a nic with id %s already exists (in network %s)", id, v.NetworkId))
		return
	}
	if m.creating[id] {
		ctx.Respond(status.Errorf(codes.AlreadyExists, "a nic with id %s is being created", id))
		return
	}
	// The id is held while its create is in flight, so that two networks
	// never serve one socket path. The future always completes (with the
	// NetworkActor's answer, a dead letter or its timeout), so the hold
	// ends even if the NetworkActor crashes.
	m.creating[id] = true
	sender := ctx.Sender()
	done := ctx.RequestFuture(e.pid, createNic{req: req, id: id, name: name}, createTimeout)
	ctx.ReenterAfter(done, func(res any, err error) {
		delete(m.creating, id)
		if err != nil {
			res = status.Errorf(codes.Unavailable, "nic %s: network %q did not answer the create: %v", id, e.rec.Name, err)
		}
		if v, ok := res.(*netpb.Nic); ok {
			// The NIC's nicChanged, sent before this answer, may still wait
			// behind this continuation (a system message, which goes
			// first): take the view now, so that the id is never held by
			// neither creating nor nics, and a create of it in another
			// network cannot take its socket path meanwhile.
			m.nicChanged(v)
		}
		ctx.Send(sender, res)
	})
}

// nicChanged records a NIC's new view and tells the watchers if it
// changed.
func (m *manager) nicChanged(v *netpb.Nic) {
	if m.putNic(v) {
		m.watches.nics.publish(nicEvent(v.Id, v))
	}
}

// createTimeout bounds how long the NetManager holds a NIC id for a create
// its NetworkActor has not answered.
const createTimeout = time.Minute

// lookupNic finds the NIC ref names, by id or by name, within the network
// named by network if that is not empty. A name that several NICs share is
// FailedPrecondition, naming them: nothing picks one at random.
func (m *manager) lookupNic(ref, network string) (*netpb.Nic, error) {
	netID := ""
	if network != "" {
		e := m.lookupNetwork(network)
		if e == nil {
			return nil, networkNotFound(network)
		}
		netID = e.rec.ID
	}
	v := m.nics[ref]
	if id, ok := canonicalID(ref); ok && v == nil {
		v = m.nics[id]
	}
	if v != nil {
		if netID != "" && v.NetworkId != netID {
			return nil, status.Errorf(codes.NotFound, "nic %s is not in network %q", v.Id, network)
		}
		return v, nil
	}
	var found []*netpb.Nic
	for id := range m.nicNames[ref] {
		if v := m.nics[id]; netID == "" || v.NetworkId == netID {
			found = append(found, v)
		}
	}
	switch len(found) {
	case 0:
		if netID != "" {
			return nil, status.Errorf(codes.NotFound, "nic %q not found in network %q", ref, network)
		}
		return nil, nicNotFound(ref)
	case 1:
		return found[0], nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Id < found[j].Id })
	owners := make([]string, len(found))
	for i, v := range found {
		owners[i] = fmt.Sprintf("%s (network %q)", v.Id, m.networks[v.NetworkId].rec.Name)
	}
	return nil, status.Errorf(codes.FailedPrecondition,
		"nic name %q is used by %d nics: %s; name it by its id, or narrow the lookup to its network",
		ref, len(found), strings.Join(owners, ", "))
}

func (m *manager) getNic(req *netpb.GetNicRequest) any {
	key := req.GetId() + req.GetName()
	if key == "" {
		return invalid("give a nic id or name")
	}
	v, err := m.lookupNic(key, req.GetNetworkId())
	if err != nil {
		return err
	}
	return v
}

// attachNic tells a VMM where to connect the NIC; the NIC serves its socket
// from its creation on, so there is nothing to change.
func (m *manager) attachNic(req *netpb.AttachNicRequest) any {
	if req.GetId() == "" {
		return invalid("id must name a nic")
	}
	v, err := m.lookupNic(req.GetId(), "")
	if err != nil {
		return err
	}
	msg := "connect the VMM's vhost-user frontend to " + v.SocketPath
	switch v.State {
	case netpb.NicState_NIC_STATE_ACTIVE:
		msg += "; a VMM is connected now"
	case netpb.NicState_NIC_STATE_ERROR:
		msg += "; the nic is in state ERROR and its socket may not accept a VMM (see the daemon's log)"
	default:
		msg += "; no VMM is connected yet"
	}
	return &netpb.AttachNicResponse{Attached: true, Message: msg}
}

func (m *manager) listNics(req *netpb.ListNicsRequest) any {
	filter := ""
	if req.GetNetworkId() != "" {
		e := m.lookupNetwork(req.GetNetworkId())
		if e == nil {
			return networkNotFound(req.GetNetworkId())
		}
		filter = e.rec.ID
	}
	out := &netpb.ListNicsResponse{}
	for _, v := range m.nics {
		if filter == "" || v.NetworkId == filter {
			out.Nics = append(out.Nics, v)
		}
	}
	sort.Slice(out.Nics, func(i, j int) bool {
		a, b := out.Nics[i], out.Nics[j]
		if a.NetworkId != b.NetworkId {
			return m.networks[a.NetworkId].rec.Name < m.networks[b.NetworkId].rec.Name
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c < 0
		}
		return a.Id < b.Id
	})
	return out
}

// putNic records a NIC's view and reports whether it changed.
func (m *manager) putNic(v *netpb.Nic) bool {
	old := m.nics[v.Id]
	if old != nil && proto.Equal(old, v) {
		return false
	}
	if old != nil {
		m.unindexName(old)
		m.nicStates[old.State]--
	}
	m.nics[v.Id] = v
	m.nicStates[v.State]++
	if v.Name != "" {
		if m.nicNames[v.Name] == nil {
			m.nicNames[v.Name] = map[string]bool{}
		}
		m.nicNames[v.Name][v.Id] = true
	}
	if e := m.networks[v.NetworkId]; e != nil {
		e.nics[v.Id] = true
	}
	m.updateGauges()
	return true
}

func (m *manager) unindexName(v *netpb.Nic) {
	if ids := m.nicNames[v.Name]; ids != nil {
		delete(ids, v.Id)
		if len(ids) == 0 {
			delete(m.nicNames, v.Name)
		}
	}
}

// dropNic forgets a deleted NIC and publishes its deletion.
func (m *manager) dropNic(id string) {
	v := m.nics[id]
	if v == nil {
		return
	}
	delete(m.nics, id)
	m.nicStates[v.State]--
	m.forgetNicGroups(id)
	m.unindexName(v)
	if e := m.networks[v.NetworkId]; e != nil {
		delete(e.nics, id)
	}
	m.updateGauges()
	m.watches.nics.publish(nicEvent(id, nil))
}

// dropNetwork forgets a deleted network and its NICs, publishing the NICs'
// deletions before the network's.
func (m *manager) dropNetwork(msg networkGone) {
	for _, id := range msg.nics {
		m.dropNic(id)
	}
	if e := m.networks[msg.id]; e != nil {
		delete(m.netNames, e.rec.Name)
		delete(m.networks, msg.id)
		m.watches.networks.publish(networkEvent(msg.id, nil))
	}
	m.updateGauges()
}

func (m *manager) updateGauges() {
	if m.Metrics == nil {
		return
	}
	m.Metrics.Networks.Set(float64(len(m.networks)))
	for _, s := range []netpb.NicState{netpb.NicState_NIC_STATE_CREATED, netpb.NicState_NIC_STATE_ACTIVE, netpb.NicState_NIC_STATE_ERROR} {
		m.Metrics.Nics.WithLabelValues(stateLabel(s)).Set(float64(m.nicStates[s]))
	}
}

func stateLabel(s netpb.NicState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "NIC_STATE_"))
}
