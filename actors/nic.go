package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"mvirt-net/persistence"
	"mvirt-net/reactor"
	"mvirt-net/rpc/netpb"
)

// nicHandle holds what a NicActor keeps across its own restarts: the
// port, whose socket stays open, so a VMM reconnects to the same path,
// and whose counters keep counting.
type nicHandle struct {
	port    *reactor.Port
	svc     reactor.Services
	reactor *reactor.Reactor
	// demandGen numbers the waits for demand (see nic.awaitDemand), so
	// that a demand from the wait of an earlier incarnation is stale too.
	demandGen uint64
}

// nic is a NicActor: it owns one vNIC's vhost-user socket and the reactor
// serving it, restarts the reactor when it crashes, and reports the NIC's
// connection state to its NetworkActor. The reactor starts when the NIC
// first needs one (a frontend connects, or frames arrive; see
// reactor.Port.AwaitDemand), not with the actor: a NIC created and not
// connected costs no thread.
type nic struct {
	*deps
	probe  *probe
	handle *nicHandle
	rec    *persistence.NicRecord
	// startErr is why the reactor could not start when the actor did, and
	// listenErr why its socket did not listen then.
	startErr, listenErr error
	// relisten, while the NIC's socket does not listen, retries it.
	relisten *time.Timer
	// awaiting, while no reactor runs, cancels the wait for demand.
	awaiting func()
}

// demanded tells a NicActor that its port needs a reactor (see
// reactor.Port.AwaitDemand); gen is the wait's.
type demanded struct{ gen uint64 }

// relistenInterval is how often a NIC whose socket could not be served
// when the daemon started tries again, so that it recovers once the
// socket directory is usable, without a restart of the daemon.
const relistenInterval = time.Second

// retryListen asks a NicActor whose socket does not listen to try again.
type retryListen struct{}

// reactorEvent wraps what a reactor reports, as a message to its NicActor.
type reactorEvent struct {
	r  *reactor.Reactor
	ev reactor.Event
}

// InjectReactorPanic asks the NicActor of NicID to make its reactor panic:
// a fault-injection hook for supervision tests, reachable only when the
// daemon enables fault injection.
type InjectReactorPanic struct{ NicID string }

func newNic(d *deps, p *probe, h *nicHandle, rec *persistence.NicRecord) *nic {
	return &nic{deps: d, probe: p, handle: h, rec: rec}
}

func (c *nic) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		c.reg.add(ctx.Self(), ctx.Parent(), c.probe)
		c.probe.stats.Store(c.handle.port.Stats())
		c.listen()
		c.startErr = c.awaitDemand(ctx)
		if !c.handle.port.Listening() {
			c.scheduleListen(ctx)
		}
	case retryListen:
		c.retryListen(ctx)
	case demanded:
		c.onDemand(ctx, msg)
	case awaitStart:
		ctx.Respond(startResult{err: c.startErr, listenErr: c.listenErr})
	case *actor.Restarting:
		c.probe.restarts.Add(1)
		c.stopListenRetry()
		c.stopAwaiting()
		c.stopReactor()
	case *actor.Stopping:
		c.stopListenRetry()
		c.stopAwaiting()
		c.stopReactor()
		if err := c.handle.port.Close(); err != nil {
			c.Log.Warn("close nic port", "nic", c.rec.ID, "err", err)
		}
	case *actor.Stopped:
		c.reg.remove(ctx.Self())
		c.forget()
	case reactorEvent:
		c.onReactorEvent(ctx, msg)
	case nicServices:
		c.updateServices(ctx, msg.svc)
	case nicConnections:
		c.listConnections(ctx)
	case InjectReactorPanic:
		if c.handle.reactor != nil {
			c.handle.reactor.InjectPanic()
		}
		ctx.Respond(ready{})
	}
}

// awaitDemand checks that a reactor can start on the NIC's socket and
// waits until the NIC needs one. A NIC whose socket does not listen, or
// whose reactor could not start, is in error.
func (c *nic) awaitDemand(ctx actor.Context) error {
	if err := c.checkListening(ctx); err != nil {
		return err
	}
	err := c.handle.port.CheckStart()
	if err == nil {
		c.handle.demandGen++
		self, root, gen := ctx.Self(), ctx.ActorSystem().Root, c.handle.demandGen
		c.awaiting, err = c.handle.port.AwaitDemand(func() { root.Send(self, demanded{gen: gen}) })
	}
	if err != nil {
		return c.startFailed(ctx, err)
	}
	return nil
}

// checkListening reports the NIC in error if its socket does not listen.
func (c *nic) checkListening(ctx actor.Context) error {
	if c.handle.port.Listening() {
		return nil
	}
	ctx.Send(ctx.Parent(), nicState{id: c.rec.ID, state: netpb.NicState_NIC_STATE_ERROR})
	return errors.New("its socket does not listen")
}

// startFailed logs why the NIC's reactor cannot start and reports the
// NIC in error.
func (c *nic) startFailed(ctx actor.Context, err error) error {
	c.Log.Error("start reactor", "nic", c.rec.ID, "err", err)
	ctx.Send(ctx.Parent(), nicState{id: c.rec.ID, state: netpb.NicState_NIC_STATE_ERROR})
	return fmt.Errorf("start reactor: %w", err)
}

// onDemand starts the reactor the NIC's port waited for.
func (c *nic) onDemand(ctx actor.Context, msg demanded) {
	if c.awaiting == nil || msg.gen != c.handle.demandGen {
		return // a stale demand: the wait was cancelled
	}
	c.stopAwaiting()
	_ = c.startReactor(ctx) // a failure is logged and reported as the error state
}

func (c *nic) stopAwaiting() {
	if c.awaiting != nil {
		c.awaiting()
		c.awaiting = nil
	}
}

// startReactor starts a reactor on the NIC's socket. Its events come back
// as messages, so they are handled on the actor like everything else. A
// NIC whose socket does not listen, or whose reactor did not start, is in
// error.
func (c *nic) startReactor(ctx actor.Context) error {
	if err := c.checkListening(ctx); err != nil {
		return err
	}
	self, root := ctx.Self(), ctx.ActorSystem().Root
	var r *reactor.Reactor
	started := make(chan struct{})
	cfg := reactor.PortConfig{
		Services: c.handle.svc,
		Events: func(ev reactor.Event) {
			<-started
			root.Send(self, reactorEvent{r: r, ev: ev})
		},
	}
	var err error
	r, err = c.handle.port.Start(cfg)
	close(started)
	if err != nil {
		return c.startFailed(ctx, err)
	}
	c.handle.reactor = r
	return nil
}

// listen opens the NIC's socket unless it is open already (as it is
// when the actor restarts). It runs on the NicActor, not its
// NetworkActor, so that the NICs of a network bind their sockets in
// parallel, at start and under concurrent creates alike.
func (c *nic) listen() {
	if c.handle.port.Listening() {
		return
	}
	if c.listenErr = c.handle.port.Listen(); c.listenErr != nil {
		c.Log.Error("nic socket unusable", "nic", c.rec.ID, "err", c.listenErr)
	}
}

func (c *nic) scheduleListen(ctx actor.Context) {
	self, root := ctx.Self(), ctx.ActorSystem().Root
	c.relisten = time.AfterFunc(relistenInterval, func() { root.Send(self, retryListen{}) })
}

func (c *nic) stopListenRetry() {
	if c.relisten != nil {
		c.relisten.Stop()
		c.relisten = nil
	}
}

// retryListen tries again to listen on the NIC's socket and, once it can,
// starts its reactor.
func (c *nic) retryListen(ctx actor.Context) {
	if c.relisten == nil || c.handle.port.Listening() {
		return // a stale retry of a stopped timer
	}
	if err := c.handle.port.Listen(); err != nil {
		c.scheduleListen(ctx)
		return
	}
	c.relisten = nil
	c.Log.Info("nic socket usable again", "nic", c.rec.ID, "socket", c.rec.SocketPath)
	if err := c.awaitDemand(ctx); err == nil {
		ctx.Send(ctx.Parent(), nicState{id: c.rec.ID, state: netpb.NicState_NIC_STATE_CREATED})
	}
}

// forget drops the stopped NicActor's references to its port (and so to
// the port's 1 MiB inbox). A stopped actor can outlive its stop: protoactor
// caches the process behind every PID, and its PIDSet leaves removed PIDs
// in the unused tail of its slice, so the parent's set of children keeps
// up to about half of the NicActors ever removed from it reachable.
func (c *nic) forget() {
	c.probe.stats.Store(nil)
	c.handle.port = nil
	c.handle.reactor = nil
}

func (c *nic) stopReactor() {
	if c.handle.reactor != nil {
		c.handle.reactor.Stop()
		c.handle.reactor = nil
	}
}

func (c *nic) onReactorEvent(ctx actor.Context, msg reactorEvent) {
	if msg.r != c.handle.reactor {
		return
	}
	switch ev := msg.ev.(type) {
	case reactor.StateChanged:
		state := netpb.NicState_NIC_STATE_CREATED
		switch ev.State {
		case reactor.StateActive:
			state = netpb.NicState_NIC_STATE_ACTIVE
		case reactor.StateError:
			state = netpb.NicState_NIC_STATE_ERROR
		}
		ctx.Send(ctx.Parent(), nicState{id: c.rec.ID, state: state})
	case reactor.Lease:
		ctx.Send(ctx.Parent(), nicLease{id: c.rec.ID, lease: ev})
	case reactor.Crashed:
		c.probe.reactorRestarts.Add(1)
		c.Log.Error("reactor crashed; restarting it", "nic", c.rec.ID, "panic", ev.Value, "stack", string(ev.Stack))
		c.handle.reactor = nil
		ctx.Send(ctx.Parent(), nicState{id: c.rec.ID, state: netpb.NicState_NIC_STATE_CREATED})
		_ = c.startReactor(ctx) // a failure is logged and reported as the error state
	}
}

// updateServices hands the reactor new services and answers the sender
// (if any) once the reactor answers with them, without blocking the actor.
func (c *nic) updateServices(ctx actor.Context, svc reactor.Services) {
	c.handle.svc = svc
	sender, root, r := ctx.Sender(), ctx.ActorSystem().Root, c.handle.reactor
	if r == nil {
		if sender != nil {
			ctx.Respond(ready{})
		}
		return
	}
	applied, err := r.Update(svc)
	if err != nil {
		c.Log.Error("update nic services", "nic", c.rec.ID, "err", err)
		if sender != nil {
			ctx.Respond(ready{})
		}
		return
	}
	if sender != nil {
		go func() {
			select {
			case <-applied:
			case <-r.Done():
			}
			root.Send(sender, ready{})
		}()
	}
}
