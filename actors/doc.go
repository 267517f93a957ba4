// Package actors owns all of mvirt-net's state.
//
// The tree is fixed: one NetManager at the root (the directory of networks
// and NICs, and their supervisor), one NetworkActor per network (its
// configuration, IPAM, routed prefixes, and the write path of its NICs), and
// one NicActor per vNIC (its vhost-user socket and, through it, its reactor).
// Requests arrive as the NetService protobuf messages; every actor answers
// with the resulting protobuf message or a gRPC status error, after the
// change is durable in the store.
//
// Writers notify the NetManager of every change before they answer, so a
// request that follows an answer always sees the change.
package actors
