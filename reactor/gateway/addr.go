package gateway

import (
	"net/netip"

	"mvirt-net/reactor/packet"
)

// The gateway's identity, the same for every NIC.
var (
	// MAC is the source of every frame the gateway sends to a VM.
	MAC = packet.MAC{0x02, 0, 0, 0, 0, 0x01}
	// IPv4 is the gateway's IPv4 address, the VM's default router and the
	// DHCPv4 server identifier.
	IPv4 = netip.AddrFrom4([4]byte{169, 254, 0, 1})
	// IPv6 is the gateway's IPv6 address, the source of Router
	// Advertisements and DHCPv6 replies.
	IPv6 = netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 15: 1})
	// IPv6LinkLocal is the modified EUI-64 link-local address of MAC
	// (fe80::ff:fe00:1), which a host may also use to reach the gateway.
	IPv6LinkLocal = netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 11: 0xff, 12: 0xfe, 15: 1})
	// AllNodes is the link-local all-nodes group ff02::1.
	AllNodes = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 1})
	// AllDHCPAgents is the All_DHCP_Relay_Agents_and_Servers group ff02::1:2.
	AllDHCPAgents = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 13: 1, 15: 2})
	// Broadcast4 is the limited broadcast address 255.255.255.255.
	Broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// IsGatewayIPv6 reports whether dst, in a packet from src, names the
// gateway: fe80::1 from any source, or the gateway's EUI-64 link-local from
// a link-local source.
func IsGatewayIPv6(dst, src netip.Addr) bool {
	return dst == IPv6 || (dst == IPv6LinkLocal && src.IsLinkLocalUnicast())
}
