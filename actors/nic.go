package actors

import (
	"net"

	"github.com/asynkron/protoactor-go/actor"

	"mvirt-net/persistence"
)

// nicHandle holds what a NicActor keeps across its own restarts: the
// listening socket stays open, so a VMM reconnects to the same path.
type nicHandle struct {
	ln *net.UnixListener
}

// nic is a NicActor: it owns one vNIC's vhost-user socket.
type nic struct {
	*deps
	probe  *probe
	handle *nicHandle
	rec    *persistence.NicRecord
}

func newNic(d *deps, p *probe, h *nicHandle, rec *persistence.NicRecord) *nic {
	return &nic{deps: d, probe: p, handle: h, rec: rec}
}

func (c *nic) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		c.reg.add(ctx.Self(), ctx.Parent(), c.probe)
	case *actor.Restarting:
		c.probe.restarts.Add(1)
	case *actor.Stopping:
		c.closeSocket()
	case *actor.Stopped:
		c.reg.remove(ctx.Self())
	case awaitReady:
		ctx.Respond(ready{})
	}
}

func (c *nic) closeSocket() {
	if c.handle.ln == nil {
		return
	}
	if err := c.handle.ln.Close(); err != nil {
		c.Log.Warn("close nic socket", "nic", c.rec.ID, "err", err)
	}
	c.handle.ln = nil
}
