package dhcp4

import (
	"net/netip"
	"time"
)

// EventKind says what happened to the lease.
type EventKind uint8

// Lease events.
const (
	// EventNone: nothing to persist.
	EventNone EventKind = iota
	// EventBound: the client took the lease (ACK in SELECTING or
	// INIT-REBOOT state).
	EventBound
	// EventRenewed: the client extended its lease (RENEWING, REBINDING).
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

// Event reports a change of the lease to the Server's owner.
type Event struct {
	Kind EventKind
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
