// Package persistence stores mvirt-net's networks, vNICs, address allocations
// and name indexes in an embedded Badger database.
//
// Every change is one synced transaction, written before the actor that owns
// the object answers its request, so a crash never loses an acknowledged
// change. Key layout (values are JSON records):
//
//	schema/version            the schema version of the store
//	net/<network-id>          NetworkRecord
//	netname/<name>            network id
//	nic/<nic-id>              NicRecord
//	nicname/<netid>/<name>    nic id (named NICs only; names are unique per network)
//	alloc/<network-id>/<addr> nic id owning that address
package persistence
