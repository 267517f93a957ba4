// Package conntrack is a NIC's connection tracker: which connections are
// established through its security groups, so that their packets pass in
// both directions whatever the rules say now.
//
// A Table is a fixed array allocated once, when the NIC's reactor starts,
// and used only by that reactor's thread: nothing in it allocates, locks
// or blocks. It is split into buckets of bucketSlots entries; a key hashes
// (with a per-table random seed, so a guest cannot aim at one bucket) to
// one bucket. Expired entries are free slots: eviction is lazy, done by
// the insert that needs the slot, and costs one pass over one bucket. A
// new connection whose bucket has no free slot is refused (Insert returns
// nil) and the reactor drops it: a NIC that opens connections as fast as
// it can fills its own table and no other.
//
// Keys are seen from the NIC: Local is the VM's address and port, Remote
// the peer's, so both directions of a connection share one key. TCP and
// UDP are keyed by the 5-tuple, ICMP and ICMPv6 echo by the echo id, any
// other protocol by its addresses. ParseFlow reads a frame's headers,
// including the packet an ICMP error quotes, so that errors about a
// tracked connection pass too.
package conntrack
