// Package reactor is the data plane of one vNIC: one Reactor per NIC, on
// one OS thread (runtime.LockOSThread, optionally pinned to a CPU), waiting
// on nothing but its own io_uring.
//
// Through that ring it serves the NIC's vhost-user socket (accepting a
// frontend, then its control messages), the TX and RX kick eventfds of the
// virtqueues, and its inbox doorbell, on which its owner (the NicActor)
// sends control messages. It processes rings in batches: drain every
// available TX chain, answer what the gateway answers itself into the RX
// ring, publish the used entries and signal the guest once per batch,
// honouring VIRTIO_RING_F_EVENT_IDX. An idle NIC costs no CPU: its thread
// sleeps in io_uring_enter.
//
// A panic in the reactor is recovered, its resources are released, and the
// owner is told through Config.Events; the listening socket is the owner's,
// so the VMM reconnects to the same path when the owner starts a new
// Reactor.
//
// The control plane talks to the data plane through one facade, the
// Dataplane: it adds networks and ports (a vhost-user NIC is a port),
// publishes each network's route table, and starts the reactors that
// serve the ports. A port's reactor is started when the port first needs
// one (Port.AwaitDemand: a frontend connects, or frames arrive); until
// then a single epoll shared by every waiting port watches its socket and
// inbox. The inboxes, route tables and reactor configs behind it are no
// business of the actors (reactor/deps_test.go).
package reactor
