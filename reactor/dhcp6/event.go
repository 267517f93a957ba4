package dhcp6

import (
	"net/netip"
	"time"

	"mvirt-net/reactor/lease"
)

// EventKind says what happened to the binding; DHCPv4 and DHCPv6 share
// the kinds of package lease.
type EventKind = lease.Kind

// Binding events.
const (
	EventNone     = lease.None
	EventBound    = lease.Bound
	EventRenewed  = lease.Renewed
	EventReleased = lease.Released
	EventDeclined = lease.Declined
)

// Event reports a change of the binding to the Server's owner.
type Event struct {
	Kind EventKind
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
