package tun

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// addrGenModeNone is IN6_ADDR_GEN_MODE_NONE: the kernel gives the device
// no IPv6 link-local address, so it sends no router solicitations or MLD
// reports into the data plane.
const addrGenModeNone = 1

// LinkUp sets the interface's MTU and brings it up, in the network
// namespace of the calling thread. Multicast is off: the uplink routes
// unicast only, and the kernel then sends it no MLD reports (which a
// forwarding host sends for ff02::2 on every multicast interface).
func LinkUp(name string, mtu int) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("%w: find %s: %w", ErrUnavailable, name, err)
	}
	if err := netlink.LinkSetIP6AddrGenMode(l, addrGenModeNone); err != nil {
		return fmt.Errorf("%w: %s ipv6 address generation: %w", ErrUnavailable, name, err)
	}
	if err := netlink.LinkSetMulticastOff(l); err != nil {
		return fmt.Errorf("%w: %s multicast off: %w", ErrUnavailable, name, err)
	}
	if err := netlink.LinkSetMTU(l, mtu); err != nil {
		return fmt.Errorf("%w: %s mtu %d: %w", ErrUnavailable, name, mtu, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("%w: bring %s up: %w", ErrUnavailable, name, err)
	}
	return nil
}
