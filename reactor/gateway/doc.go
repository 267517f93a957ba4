// Package gateway is what the gateway of a vNIC answers itself on the hot
// path: ARP for any address but the asker's own, ICMP and ICMPv6 echo to its
// addresses, and Classify, which tells the reactor whether a frame from the
// NIC is for the gateway (and which responder takes it) or to be routed.
//
// Every VM sees the same gateway: 169.254.0.1 and fe80::1 behind MAC
// 02:00:00:00:00:01. The responders write their reply into a caller-owned
// buffer and return its length (0: no reply); none of them allocates.
package gateway
