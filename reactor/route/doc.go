// Package route is the route table of one network: which destination (in
// practice, which NIC's inbox) serves a destination address, by longest
// prefix over every NIC's /32, /128 and routed prefixes.
//
// The network's owner (its NetworkActor) fills a Builder whenever the
// network's NICs, addresses or routed prefixes change, and publishes the
// immutable Table it builds through a Published holder. The network's
// reactors Load the current Table once per batch and look destinations up
// without a lock and without allocating. A change of a few routes edits
// the published Table (Edit): the new Table shares every node the change
// does not touch, so it costs the depth of the trie rather than the
// number of routes. A reactor that still holds the old Table finishes its
// batch with it, and the garbage collector frees what only the old Table
// held after the last reader lets go.
//
// The table is generic in its destination type D, so that this package does
// not depend on the reactor: D is typically a pointer to the destination
// NIC's inbox.
package route
