package dhcp6

import (
	"net/netip"
	"time"
)

// EventKind says what happened to the binding.
type EventKind uint8

// Binding events.
const (
	// EventNone: nothing to persist.
	EventNone EventKind = iota
	// EventBound: the client took the address (Request, or Solicit with
	// rapid commit).
	EventBound
	// EventRenewed: the client extended the binding (Renew, Rebind).
	EventRenewed
	// EventReleased: the client gave the address back.
	EventReleased
	// EventDeclined: the client found the address in use.
	EventDeclined
)

var eventNames = [...]string{"none", "bound", "renewed", "released", "declined"}

// String returns a short lower-case name.
func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "unknown"
}

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
