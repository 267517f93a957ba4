package actors

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/persistence"
)

// The record of a NIC being created is written off the NetworkActor's
// turn. The actor has already taken the NIC's name, MAC and addresses (so
// the creates after it see them as taken) and started its NicActor; a
// goroutine hands the record to the store, whose group commit puts the
// records of concurrent creates into one synced transaction, and tells the
// actor with nicWritten. Meanwhile the actor handles the next requests.
// A failed write gives back what the NIC had taken and stops it before the
// create answers its error; a successful one is answered only after it is
// durable and the network's route table holds the NIC. A SIGKILL before
// the write is durable leaves no record (and the socket is swept at the
// next start); after it, a stored NIC that the next start serves, whether
// or not its create was answered.

// nicWritten tells a NetworkActor that the record of e, a NIC being
// created for sender, is durably stored (err nil) or not.
type nicWritten struct {
	e      *nicEntry
	sender *actor.PID
	err    error
}

// publishCreated asks the NetworkActor to publish a route table with the
// NICs stored since the last one, and then to answer their creates: one
// table for all the creates whose writes shared a commit.
type publishCreated struct{}

// answer is a stored NIC's create, waiting for publishCreated.
type answer struct {
	e      *nicEntry
	sender *actor.PID
}

// writeNic starts the write of e's record.
func (n *network) writeNic(ctx actor.Context, e *nicEntry, sender *actor.PID) {
	n.writes[e.rec.ID] = e
	self, root, store, rec := ctx.Self(), ctx.ActorSystem().Root, n.Store, e.rec
	go func() {
		err := store.PutNic(rec, nil)
		root.Send(self, nicWritten{e: e, sender: sender, err: err})
	}()
}

// nicWritten completes the create whose write ended, and then runs the
// deletes of the network that waited for the writes in flight.
func (n *network) nicWritten(ctx actor.Context, msg nicWritten) {
	e := msg.e
	if n.writes[e.rec.ID] != e {
		n.staleWrite(ctx, msg)
		return
	}
	delete(n.writes, e.rec.ID)
	if msg.err != nil {
		n.abandon(ctx, e, writeError(e.rec, msg.err), msg.sender)
	} else {
		e.stored = true
		n.answers = append(n.answers, answer{e: e, sender: msg.sender})
		if len(n.answers) == 1 {
			ctx.Send(ctx.Self(), publishCreated{})
		}
	}
	if len(n.writes) == 0 {
		waiting := n.afterWrites
		n.afterWrites = nil
		for _, f := range waiting {
			f()
		}
	}
}

// publishCreated publishes the routes of the NICs stored since the last
// table and answers their creates, each with its NIC's view; a NIC that a
// forced DeleteNetwork took meanwhile answers NotFound.
func (n *network) publishCreated(ctx actor.Context) {
	answers := n.answers
	n.answers = nil
	stored := make([]*nicEntry, 0, len(answers))
	for _, a := range answers {
		if !n.deleting && n.nics[a.e.rec.ID] == a.e {
			stored = append(stored, a.e)
		}
	}
	n.routeNics(stored...)
	for _, a := range answers {
		rec := a.e.rec
		if n.deleting || n.nics[rec.ID] != a.e {
			ctx.Send(a.sender, networkNotFound(n.id))
			continue
		}
		view := nicView(rec, a.e.state)
		ctx.Send(ctx.Parent(), nicChanged{view: view})
		n.Log.Info("nic created", "nic", rec.ID, "name", rec.Name, "network", n.id, "mac", rec.MAC.String(),
			"ipv4", persistence.AddrText(rec.IPv4Address), "ipv6", persistence.AddrText(rec.IPv6Address), "socket", rec.SocketPath)
		ctx.Send(a.sender, view)
	}
}

// staleWrite answers a write that a previous incarnation of the actor
// started before it restarted (the NicActor it started is gone with it).
// A stored record that the restart's load did not see yet is served now.
func (n *network) staleWrite(ctx actor.Context, msg nicWritten) {
	rec := msg.e.rec
	if msg.err != nil {
		ctx.Send(msg.sender, writeError(rec, msg.err))
		return
	}
	e := n.nics[rec.ID]
	if e == nil && !n.deleting {
		if e = n.serveStored(ctx, rec); e != nil {
			n.routeNics(e)
		}
	}
	if e == nil {
		ctx.Send(msg.sender, status.Errorf(codes.Unavailable,
			"nic %s is stored, but network %s restarted while it was created and cannot serve it; it is served after the daemon's next start", rec.ID, n.id))
		return
	}
	ctx.Send(msg.sender, nicView(e.rec, e.state))
}

// writeError is a failed create write, as the create's answer.
func writeError(rec *persistence.NicRecord, err error) error {
	switch {
	case errors.Is(err, persistence.ErrConflict):
		return status.Errorf(codes.AlreadyExists, "nic %s conflicts with an existing nic: %v", describe(rec.ID, rec.Name), err)
	case errors.Is(err, persistence.ErrNotFound):
		return networkNotFound(rec.NetworkID)
	}
	return storeFailed("store nic", err)
}
