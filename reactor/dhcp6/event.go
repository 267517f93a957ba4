package dhcp6

import (
	"net/netip"
	"time"

	"mvirt-net/reactor/lease"
)

// Event reports a change of the binding to the Server's owner.
type Event struct {
	// Kind is what happened to the lease.
	Kind lease.Kind
	// Addr is the address concerned.
	Addr netip.Addr
	// ClientID is the client's DUID as sent.
	ClientID []byte
	// IAID is the identity association the address was bound in.
	IAID [4]byte
	// Hostname is the client FQDN option (39), if the client sent one.
	Hostname string
	// ValidLifetime is the lifetime granted (bound, renewed).
	ValidLifetime time.Duration
}
