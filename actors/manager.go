package actors

import (
	"errors"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/persistence"
	"mvirt-net/rpc/netpb"
)

// manager is the NetManager: root of the tree, supervisor of the
// NetworkActors, and the directory that routes requests by id or name.
// Networks are created here; everything inside a network is written by its
// NetworkActor, which reports each change back before it answers.
type manager struct {
	*deps
	probe    *probe
	networks map[string]*netEntry // by id
	netNames map[string]string    // name → id
	nics     map[string]*netpb.Nic
	nicNames map[string]string // name → id; "" while a create is in flight
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
	case *actor.Stopped:
		m.reg.remove(ctx.Self())
	case awaitReady:
		m.awaitNetworks(ctx)
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
		m.forwardToNicNetwork(ctx, msg.GetId())
	case *netpb.DeleteNicRequest:
		m.forwardToNicNetwork(ctx, msg.GetId())
	case InjectReactorPanic:
		m.forwardToNicNetwork(ctx, msg.NicID)
	case networkChanged:
		if e := m.networks[msg.rec.ID]; e != nil {
			e.rec = msg.rec
		}
	case networkGone:
		m.dropNetwork(msg)
	case nicChanged:
		m.putNic(msg.view)
	case nicGone:
		m.dropNic(msg.id)
	case nicNameFree:
		if id, ok := m.nicNames[msg.name]; ok && id == "" {
			delete(m.nicNames, msg.name)
		}
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
	m.nicNames = map[string]string{}
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
			return status.Errorf(codes.AlreadyExists, "network %q already exists", rec.Name)
		}
		return storeFailed("store network", err)
	}
	m.addNetwork(ctx, rec)
	m.updateGauges()
	m.Log.Info("network created", "network", rec.ID, "name", rec.Name,
		"ipv4", prefixText(rec.IPv4Subnet), "ipv6", prefixText(rec.IPv6Prefix), "public", rec.Public)
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
	if req.GetIsPublic() {
		if err := m.checkPublicOverlap(name, v4, v6); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	return &persistence.NetworkRecord{
		ID: uuid.NewString(), Name: name, IPv4Subnet: v4, IPv6Prefix: v6, DNSServers: dns, NTPServers: ntp,
		Public: req.GetIsPublic(), CreatedAt: now, UpdatedAt: now,
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

func (m *manager) forwardToNicNetwork(ctx actor.Context, id string) {
	if id == "" {
		ctx.Respond(invalid("id must name a nic"))
		return
	}
	view := m.lookupNic(id)
	if view == nil {
		ctx.Respond(nicNotFound(id))
		return
	}
	ctx.Forward(m.networks[view.NetworkId].pid)
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
	if name != "" {
		if _, taken := m.nicNames[name]; taken {
			ctx.Respond(status.Errorf(codes.AlreadyExists, "nic %q already exists", name))
			return
		}
		m.nicNames[name] = ""
	}
	ctx.RequestWithCustomSender(e.pid, createNic{req: req}, ctx.Sender())
}

func (m *manager) lookupNic(idOrName string) *netpb.Nic {
	if v := m.nics[idOrName]; v != nil {
		return v
	}
	if id := m.nicNames[idOrName]; id != "" {
		return m.nics[id]
	}
	return nil
}

func (m *manager) getNic(req *netpb.GetNicRequest) any {
	key := req.GetId() + req.GetName()
	if key == "" {
		return invalid("give a nic id or name")
	}
	v := m.lookupNic(key)
	if v == nil {
		return nicNotFound(key)
	}
	return v
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

func (m *manager) putNic(v *netpb.Nic) {
	if old := m.nics[v.Id]; old != nil && old.Name != v.Name {
		delete(m.nicNames, old.Name)
	}
	m.nics[v.Id] = v
	if v.Name != "" {
		m.nicNames[v.Name] = v.Id
	}
	if e := m.networks[v.NetworkId]; e != nil {
		e.nics[v.Id] = true
	}
	m.updateGauges()
}

func (m *manager) dropNic(id string) {
	v := m.nics[id]
	if v == nil {
		return
	}
	delete(m.nics, id)
	m.forgetNicGroups(id)
	if v.Name != "" {
		delete(m.nicNames, v.Name)
	}
	if e := m.networks[v.NetworkId]; e != nil {
		delete(e.nics, id)
	}
	m.updateGauges()
}

func (m *manager) dropNetwork(msg networkGone) {
	for _, id := range msg.nics {
		m.dropNic(id)
	}
	if e := m.networks[msg.id]; e != nil {
		delete(m.netNames, e.rec.Name)
		delete(m.networks, msg.id)
	}
	m.updateGauges()
}

func (m *manager) updateGauges() {
	if m.Metrics == nil {
		return
	}
	m.Metrics.Networks.Set(float64(len(m.networks)))
	counts := map[netpb.NicState]int{}
	for _, v := range m.nics {
		counts[v.State]++
	}
	for _, s := range []netpb.NicState{netpb.NicState_NIC_STATE_CREATED, netpb.NicState_NIC_STATE_ACTIVE, netpb.NicState_NIC_STATE_ERROR} {
		m.Metrics.Nics.WithLabelValues(stateLabel(s)).Set(float64(counts[s]))
	}
}

func stateLabel(s netpb.NicState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "NIC_STATE_"))
}
