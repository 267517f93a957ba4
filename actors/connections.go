package actors

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"mvirt-net/reactor"
)

// nicConnections asks a NicActor for its reactor's tracked connections; it
// answers a []reactor.Connection.
type nicConnections struct{ nicID string }

// Connections returns the connections a NIC's reactor tracks for its
// security groups (empty while no reactor runs).
func (s *System) Connections(ctx context.Context, nicID string) ([]reactor.Connection, error) {
	res, err := s.Ask(ctx, nicConnections{nicID: nicID})
	if err != nil {
		return nil, err
	}
	conns, _ := res.([]reactor.Connection)
	return conns, nil
}

// listConnections answers with the reactor's table, waiting for it off
// the actor.
func (c *nic) listConnections(ctx actor.Context) {
	r := c.handle.reactor
	if r == nil {
		ctx.Respond([]reactor.Connection{})
		return
	}
	sender, root := ctx.Sender(), ctx.ActorSystem().Root
	reply := r.Connections()
	go func() {
		select {
		case conns := <-reply:
			root.Send(sender, conns)
		case <-r.Done():
			root.Send(sender, []reactor.Connection{})
		}
	}()
}
