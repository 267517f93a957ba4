package dhcp4

import (
	"net/netip"
	"time"

	"mvirt-net/reactor/lease"
)

// Event reports a change of the lease to the Server's owner.
type Event struct {
	// Kind is what happened to the lease.
	Kind lease.Kind
	// Addr is the address concerned.
	Addr netip.Addr
	// ClientID is the client identifier option (61), or the hardware type
	// followed by chaddr when the client sent none.
	ClientID []byte
	// Hostname is the host name option (12), if the client sent one.
	Hostname string
	// LeaseTime is the lease granted (bound, renewed).
	LeaseTime time.Duration
}
