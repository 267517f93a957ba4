// Package ndp is the gateway's side of IPv6 Neighbor Discovery (RFC 4861)
// towards one NIC: Neighbor Advertisements answering Neighbor Solicitations
// for any target but the asker's own addresses, and Router Advertisements
// (M=1, O=1: addresses and other configuration come from DHCPv6) both in
// answer to Router Solicitations and for periodic sending.
//
// Like the gateway package, every function writes its frame into a
// caller-owned buffer, returns the frame's length (0: nothing to send) and
// does not allocate.
package ndp
