package actors

import (
	"mvirt-net/persistence"
	"mvirt-net/reactor"
	"mvirt-net/rpc/netpb"
)

// Messages between actors of the tree. Requests from outside are the
// NetService protobuf requests themselves.

// createNic carries a CreateNic request from the NetManager, which has
// resolved the network and checked the name and id, to the NetworkActor,
// which owns the name's uniqueness within the network.
type createNic struct {
	req  *netpb.CreateNicRequest
	id   string
	name string
}

// awaitReady asks an actor to answer once it has started; the NetManager
// answers once every network has.
type awaitReady struct{}

// ready answers awaitReady.
type ready struct{}

// networkChanged tells the NetManager a network's new record.
type networkChanged struct{ rec *persistence.NetworkRecord }

// networkGone tells the NetManager a network and its NICs are deleted.
type networkGone struct {
	id   string
	nics []string
}

// nicChanged tells the NetManager a NIC's new view.
type nicChanged struct{ view *netpb.Nic }

// nicGone tells the NetManager a NIC is deleted.
type nicGone struct{ id string }

// nicState tells a NetworkActor its NIC's connection state changed.
type nicState struct {
	id    string
	state netpb.NicState
}

// nicServices gives a NicActor the services its reactor offers.
type nicServices struct{ svc reactor.Services }

// nicLease tells a NetworkActor about a NIC's DHCP lease change.
type nicLease struct {
	id    string
	lease reactor.Lease
}

// awaitStart asks a new NicActor whether it started its reactor; it
// answers startResult.
type awaitStart struct{}

// startResult answers awaitStart: err is why the reactor did not start,
// listenErr why the NIC's socket does not listen (then err says so too).
type startResult struct{ err, listenErr error }
