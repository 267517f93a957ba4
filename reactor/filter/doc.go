// Package filter compiles the rules of a NIC's security groups into an
// immutable Matcher that a reactor consults for every new connection.
//
// The owner (an actor) compiles the union of the rules of every group
// attached to a NIC with Compile and publishes the Matcher behind an
// atomic pointer (Published); the reactor loads it once per batch. A nil
// Matcher means the NIC has no group: everything passes.
//
// Lookups are tables, not a scan over rules: per direction and address
// family, TCP and UDP keep their rules' port ranges as sorted interval
// bounds (a binary search over at most 2n+1 bounds) and each interval a
// set of CIDRs in a bart LPM table; ICMP and the other protocols keep one
// CIDR set each. Allows never allocates.
//
// Rules only allow: there are no deny rules. Which connections are already
// established is the connection tracker's business (package conntrack).
package filter
