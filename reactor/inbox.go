package reactor

import "mvirt-net/reactor/eventfd"

// command is a control message from the owner, delivered through the inbox
// channel and announced on the doorbell eventfd the ring waits on.
type command interface{ isCommand() }

type cmdStop struct{}
type cmdPanic struct{}

func (cmdStop) isCommand()  {}
func (cmdPanic) isCommand() {}

// send queues c for the reactor and rings its doorbell. It returns at once
// if the reactor has ended.
func (r *Reactor) send(c command) {
	select {
	case r.inbox <- c:
		eventfd.Signal(r.bell)
	case <-r.done:
	}
}

// drainInbox runs every queued command.
func (r *Reactor) drainInbox() {
	for {
		select {
		case c := <-r.inbox:
			r.handle(c)
		default:
			return
		}
	}
}

func (r *Reactor) handle(c command) {
	switch c := c.(type) {
	case cmdServices:
		r.svc = c.svc
		close(c.applied)
		r.cfg.Log.Info("nic services updated", "nic", r.cfg.NicID)
	case cmdConnections:
		r.listConnections(c)
	case cmdStop:
		r.stopping = true
	case cmdPanic:
		panic("injected reactor panic")
	}
}
