// Package dhcp6 is the stateful DHCPv6 server of one NIC (RFC 8415): it
// hands the NIC's one /128 to the one client behind it in an IA_NA, along
// with DNS servers, NTP servers and a domain search list, from fe80::1 and
// under a stable DUID-LL derived from the gateway's MAC.
//
// Server.Handle takes a whole Ethernet frame from the NIC and writes the
// whole reply frame (Ethernet, IPv6, UDP, DHCPv6) into a caller-owned buffer.
// It keeps no state: the binding is the NIC's address, and what happened to
// it comes back as an Event for the owner to persist. DHCPv6 is off the hot
// path; message encoding uses github.com/insomniacslk/dhcp/dhcpv6 and
// allocates.
package dhcp6
