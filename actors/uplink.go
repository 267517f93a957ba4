package actors

import (
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/persistence"
	"mvirt-net/reactor"
	"mvirt-net/rpc/netpb"
)

// UplinkConfig is the uplink to the host's kernel that public networks
// leave through.
type UplinkConfig struct {
	// Name of the TUN interface (reactor.DefaultUplinkName if empty).
	Name string
	// MTU of the TUN interface (reactor.DefaultMTU if 0).
	MTU int
	// NAT masquerades public networks' traffic leaving the host.
	NAT reactor.NAT
	// Forwarding turns the host's forwarding sysctls on when they are off.
	Forwarding bool
}

// UplinkState is the uplink as introspection shows it.
type UplinkState struct {
	Up     bool   `json:"up"`
	Device string `json:"device"`
	Reason string `json:"reason,omitempty"`
}

// uplinkHandle is what the UplinkActor keeps across its own restarts: the
// open device (so the kernel's routes to it stay), its reactor, and the
// state everyone reads.
type uplinkHandle struct {
	up    *reactor.Uplink
	r     *reactor.UplinkReactor
	state atomic.Pointer[UplinkState]
}

// uplinkActor is the UplinkActor, a child of the NetManager: it opens the
// uplink while public networks exist and closes it when the last one
// goes, restarts its reactor when it crashes, and keeps the kernel's
// routes, masquerading and forwarding in line with the public networks.
type uplinkActor struct {
	*deps
	probe *probe
	h     *uplinkHandle
	// forwardingWarned is the forwarding sysctls last warned about.
	forwardingWarned string
}

// ensureUplink asks the UplinkActor to open the uplink, if it is not open,
// for a public network about to be created; it answers nil or a
// FailedPrecondition.
type ensureUplink struct{}

// syncUplink tells the UplinkActor that the public networks changed.
type syncUplink struct{}

// InjectUplinkPanic asks the UplinkActor to make its reactor panic: a
// fault-injection hook for supervision tests, reachable only when the
// daemon runs with --fault-injection.
type InjectUplinkPanic struct{}

// uplinkEvent wraps what the uplink reactor reports.
type uplinkEvent struct {
	r  *reactor.UplinkReactor
	ev reactor.Event
}

func newUplinkActor(d *deps, p *probe, h *uplinkHandle) *uplinkActor {
	return &uplinkActor{deps: d, probe: p, h: h}
}

func (a *uplinkActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.reg.add(ctx.Self(), ctx.Parent(), a.probe)
		if a.h.state.Load() == nil {
			a.h.state.Store(&UplinkState{Device: a.name(), Reason: "no public network"})
		}
		a.sync(ctx)
	case *actor.Restarting:
		a.probe.restarts.Add(1)
		a.stopReactor()
	case *actor.Stopping:
		a.stopReactor()
		a.close()
	case *actor.Stopped:
		a.reg.remove(ctx.Self())
	case ensureUplink:
		ctx.Respond(a.ensure(ctx))
	case syncUplink:
		a.sync(ctx)
	case uplinkEvent:
		a.onEvent(ctx, msg)
	case InjectUplinkPanic:
		if a.h.r == nil {
			ctx.Respond(status.Error(codes.FailedPrecondition, "no uplink reactor runs"))
			return
		}
		a.Log.Warn("fault injection: making the uplink reactor panic", "device", a.h.up.Name())
		a.h.r.InjectPanic()
		ctx.Respond(ready{})
	}
}

// ensure opens the uplink for a new public network and checks forwarding.
func (a *uplinkActor) ensure(ctx actor.Context) any {
	if a.h.up == nil {
		if err := a.open(ctx); err != nil {
			return status.Errorf(codes.FailedPrecondition, "%v", err)
		}
	}
	a.checkForwarding()
	return ready{}
}

// sync opens or closes the uplink after the number of public networks,
// and brings the kernel's routes and masquerading in line.
func (a *uplinkActor) sync(ctx actor.Context) {
	public := a.dp.PublicNetworks()
	switch {
	case public > 0 && a.h.up == nil:
		if err := a.open(ctx); err != nil {
			a.Log.Error("public networks exist but the uplink cannot be opened; they reach nothing outside",
				"public_networks", public, "err", err)
		} else {
			a.checkForwarding()
		}
	case public == 0 && a.h.up != nil:
		a.stopReactor()
		a.close()
		return
	case a.h.r == nil && a.h.up != nil:
		a.startReactor(ctx)
	}
	if a.h.up == nil {
		return
	}
	a.syncHost()
}

// syncHost makes the kernel's routes and masquerading match.
func (a *uplinkActor) syncHost() {
	res, err := a.dp.SyncHost(a.Uplink.NAT)
	if err != nil {
		a.Log.Error("kernel routes or masquerading of the uplink", "err", err)
	}
	if len(res.Added) > 0 || len(res.Removed) > 0 {
		a.Log.Info("uplink kernel routes", "added", res.Added, "removed", res.Removed)
	}
	for p, host := range res.Overlaps {
		a.Log.Warn("a public prefix overlaps a route of the host; the more specific one wins in the kernel",
			"prefix", p, "host_routes", host)
	}
}

func (a *uplinkActor) open(ctx actor.Context) error {
	name, mtu := a.name(), a.Uplink.MTU
	if mtu == 0 {
		mtu = reactor.DefaultMTU
	}
	up, err := a.dp.OpenUplink(reactor.UplinkSpec{Name: name, MTU: mtu})
	if err != nil {
		a.h.state.Store(&UplinkState{Device: name, Reason: err.Error()})
		return err
	}
	a.h.up = up
	a.probe.stats.Store(up.Stats())
	a.Log.Info("uplink open", "device", up.Name(), "mtu", mtu)
	a.startReactor(ctx)
	return nil
}

// name is the uplink's interface name.
func (a *uplinkActor) name() string {
	if a.Uplink.Name == "" {
		return reactor.DefaultUplinkName
	}
	return a.Uplink.Name
}

// close closes the uplink (the kernel removes its interface and routes
// with it) and removes the daemon's masquerading tables.
func (a *uplinkActor) close() {
	if a.h.up == nil {
		return
	}
	name := a.h.up.Name()
	if err := a.h.up.Close(); err != nil {
		a.Log.Warn("close uplink", "err", err)
	}
	a.h.up = nil
	if _, err := a.dp.SyncHost(reactor.NAT{}); err != nil {
		a.Log.Warn("remove the uplink's kernel state", "err", err)
	}
	a.h.state.Store(&UplinkState{Device: name, Reason: "no public network"})
	a.Log.Info("uplink closed", "device", name)
}

// startReactor starts the uplink's reactor; its events come back as
// messages.
func (a *uplinkActor) startReactor(ctx actor.Context) {
	self, root := ctx.Self(), ctx.ActorSystem().Root
	var r *reactor.UplinkReactor
	started := make(chan struct{})
	r, err := a.h.up.Start(func(ev reactor.Event) {
		<-started
		root.Send(self, uplinkEvent{r: r, ev: ev})
	})
	close(started)
	if err != nil {
		a.Log.Error("start uplink reactor", "err", err)
		a.h.state.Store(&UplinkState{Device: a.h.up.Name(), Reason: fmt.Sprintf("reactor: %v", err)})
		return
	}
	a.h.r = r
	a.h.state.Store(&UplinkState{Up: true, Device: a.h.up.Name()})
}

func (a *uplinkActor) stopReactor() {
	if a.h.r != nil {
		a.h.r.Stop()
		a.h.r = nil
	}
}

func (a *uplinkActor) onEvent(ctx actor.Context, msg uplinkEvent) {
	if msg.r != a.h.r {
		return
	}
	if ev, ok := msg.ev.(reactor.Crashed); ok {
		a.probe.reactorRestarts.Add(1)
		a.Log.Error("uplink reactor crashed; restarting it", "panic", ev.Value, "stack", string(ev.Stack))
		a.h.r = nil
		a.startReactor(ctx)
	}
}

// checkForwarding warns once (per set of sysctls) when the host does not
// forward, or turns forwarding on if configured to.
func (a *uplinkActor) checkForwarding() {
	off, err := reactor.ForwardingOff()
	if err != nil {
		a.Log.Warn("cannot read the forwarding sysctls", "err", err)
		return
	}
	if len(off) == 0 {
		a.forwardingWarned = ""
		return
	}
	if a.Uplink.Forwarding {
		if err := reactor.EnableForwarding(); err != nil {
			a.Log.Error("turn forwarding on", "err", err)
			return
		}
		a.Log.Info("forwarding turned on for the uplink", "sysctls", off)
		return
	}
	if key := fmt.Sprint(off); key != a.forwardingWarned {
		a.forwardingWarned = key
		a.Log.Warn("the host does not forward: VMs on public networks reach only this host, nothing beyond it; "+
			"turn it on with sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1, or start mvirt-net with --uplink-forwarding",
			"off", off)
	}
}

// uplinkView is the API form of the uplink for a public network.
func uplinkView(s *UplinkState) *netpb.UplinkStatus {
	if s == nil {
		return &netpb.UplinkStatus{Reason: "not opened yet"}
	}
	return &netpb.UplinkStatus{Up: s.Up, Device: s.Device, Reason: s.Reason}
}

// view is the API form of a network record, with the uplink's state for a
// public network.
func (d *deps) view(rec *persistence.NetworkRecord, nicCount int) *netpb.Network {
	v := networkView(rec, nicCount)
	if rec.Public {
		v.Uplink = uplinkView(d.uplink.state.Load())
	}
	return v
}

// spawnUplink starts the UplinkActor and tells the data plane's
// notifications where to go.
func (m *manager) spawnUplink(ctx actor.Context) {
	p := &probe{kind: KindUplink, uplink: m.uplink}
	props := p.props(func() actor.Actor { return newUplinkActor(m.deps, p, m.uplink) })
	pid, err := ctx.SpawnNamed(props, "uplink")
	if err != nil {
		panic(err)
	}
	m.uplinkPID.Store(pid)
}

// createPublicNetwork validates a public network, has the UplinkActor open
// the uplink (FailedPrecondition, nothing changed, if it cannot), then
// creates the network, validated again since other requests ran between.
func (m *manager) createPublicNetwork(ctx actor.Context, req *netpb.CreateNetworkRequest) {
	if _, err := m.validateNetwork(req); err != nil {
		ctx.Respond(err)
		return
	}
	f := ctx.RequestFuture(m.uplinkPID.Load(), ensureUplink{}, DefaultRequestTimeout)
	sender := ctx.Sender()
	ctx.ReenterAfter(f, func(res any, err error) {
		switch {
		case err != nil:
			ctx.Send(sender, status.Errorf(codes.Unavailable, "uplink: %v", err))
		case res != (ready{}):
			ctx.Send(sender, res)
		default:
			ctx.Send(sender, m.createNetwork(ctx, req))
		}
	})
}
