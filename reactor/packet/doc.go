// Package packet holds the wire formats the reactor reads and writes:
// Ethernet, ARP, IPv4, IPv6 (with extension headers), ICMPv4, ICMPv6 and NDP,
// UDP and TCP, and the internet checksums over them.
//
// Headers are views over a byte slice (type IPv4 []byte and so on) with
// accessor methods; a view is checked once with its IsValid method and then
// read without further bounds reasoning. Views never own memory: they borrow
// the slice they were made from, usually a frame in guest memory owned by the
// reactor, and must not be kept after the frame is returned to the guest.
//
// Parse fills a caller-owned Parsed from an Ethernet frame without allocating
// and without returning errors: a frame it cannot use is marked with a Reason
// that the reactor counts. The builders (ICMP errors, UDP frames) write into a
// caller-owned output buffer and return the number of bytes written, 0 when
// no frame is to be sent. Nothing in this package allocates on these paths.
package packet
