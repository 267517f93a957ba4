package persistence

import "fmt"

// The limits of a network's IP MTU (NetworkRecord.MTU).
const (
	// DefaultMTU is the MTU of a network that never set one; a stored
	// network without an MTU loads with it.
	DefaultMTU = 1500
	// MinMTU is the smallest MTU of a network with IPv6, the IPv6 minimum
	// link MTU (RFC 8200 §5).
	MinMTU = 1280
	// MinMTUIPv4Only is the smallest MTU of a network without IPv6: the
	// datagram every IPv4 host must accept (RFC 791).
	MinMTUIPv4Only = 576
	// MaxMTU is the largest MTU, a jumbo frame's.
	MaxMTU = 9000
)

// MinMTUFor returns the smallest MTU a network may have: MinMTU with IPv6,
// MinMTUIPv4Only without.
func MinMTUFor(ipv6 bool) int {
	if ipv6 {
		return MinMTU
	}
	return MinMTUIPv4Only
}

// checkMTU checks a network's MTU against its limits.
func checkMTU(mtu int, ipv6 bool) error {
	if lo := MinMTUFor(ipv6); mtu < lo || mtu > MaxMTU {
		return fmt.Errorf("mtu %d is outside %d-%d", mtu, lo, MaxMTU)
	}
	return nil
}
