// Package lease names what happened to the address a NIC's DHCP server
// hands out, for the server's owner to persist. The DHCPv4 server (package
// dhcp4) and the DHCPv6 server (package dhcp6) report the same kinds, so
// that their owner treats leases and bindings alike.
package lease

// Kind says what happened to a DHCPv4 lease or a DHCPv6 binding.
type Kind uint8

// Lease events.
const (
	// None: nothing to persist.
	None Kind = iota
	// Bound: the client took the address (DHCPv4: ACK in SELECTING or
	// INIT-REBOOT state; DHCPv6: Request, or Solicit with rapid commit).
	Bound
	// Renewed: the client extended its lease (DHCPv4: RENEWING,
	// REBINDING; DHCPv6: Renew, Rebind).
	Renewed
	// Released: the client gave the address back.
	Released
	// Declined: the client found the address in use.
	Declined
)

var names = [...]string{"none", "bound", "renewed", "released", "declined"}

// String returns a short lower-case name.
func (k Kind) String() string {
	if int(k) < len(names) {
		return names[k]
	}
	return "unknown"
}
