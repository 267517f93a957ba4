package actors

import "github.com/asynkron/protoactor-go/actor"

// heldRequest is a request a NetworkActor put off, with whom to answer.
type heldRequest struct {
	msg    any
	sender *actor.PID
}

// holdBack puts off the current request while created NICs' records are
// being written or their creators not yet answered (see flushCreated),
// and says whether it did. Creates overlap one another
// (that is what lets their writes share a commit); every other change
// (update or delete of the network or of a NIC) sees only durable NICs,
// and waits. A create behind a held request waits too, so that requests
// keep their order and a stream of creates cannot starve the others.
func (n *network) holdBack(ctx actor.Context, isCreate bool) bool {
	if len(n.held) == 0 && (isCreate || !n.creating()) {
		return false
	}
	n.held = append(n.held, heldRequest{msg: ctx.Message(), sender: ctx.Sender()})
	return true
}

// creating says whether a create is between its reservation and its
// answer.
func (n *network) creating() bool { return n.writing > 0 || n.flushQueued }

// releaseHeld sends the held requests back to the actor, in order, with
// their senders, once no create is under way.
func (n *network) releaseHeld(ctx actor.Context) {
	if n.creating() || len(n.held) == 0 {
		return
	}
	held := n.held
	n.held = nil
	for _, h := range held {
		ctx.RequestWithCustomSender(ctx.Self(), h.msg, h.sender)
	}
}
