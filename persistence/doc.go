// Package persistence stores mvirt-net's networks, vNICs, address allocations
// and name indexes in an embedded Badger database.
//
// Every change is one synced transaction, written before the actor that owns
// the object answers its request, so a crash never loses an acknowledged
// change. A change is refused with ErrNoSpace unless the disk keeps room
// for what Badger may still write on its own (spaceGuard), and a disk too
// full to open the store is served from a read-only copy (readOnlyCopy)
// until it has room. Key layout (values are JSON records):
//
//	schema/version            the schema version of the store
//	net/<network-id>          NetworkRecord
//	netname/<name>            network id
//	nic/<nic-id>              NicRecord
//	nicname/<netid>/<name>    nic id (named NICs only; names are unique per network)
//	alloc/<network-id>/<addr> nic id owning that address
package persistence
