// Package dhcp4 is the DHCPv4 server of one NIC (RFC 2131): it hands the
// NIC's one /32 to the one client behind it, with the gateway 169.254.0.1 as
// server identifier and router, made reachable on-link by a classless
// static route (RFC 3442).
//
// Server.Handle takes a whole Ethernet frame from the NIC and writes the whole
// reply frame (Ethernet, IPv4, UDP, DHCP) into a caller-owned buffer. It
// keeps no state: the lease is the NIC's address, and what happened to it
// (bound, renewed, released, declined) comes back as an Event for the owner
// to persist. DHCP is off the hot path; message encoding uses
// github.com/insomniacslk/dhcp/dhcpv4 and allocates.
package dhcp4
