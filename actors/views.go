package actors

import (
	"slices"
	"time"

	"mvirt-net/persistence"
	"mvirt-net/rpc/netpb"
)

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// networkView is the API form of a network record; every call builds a new
// message, so answers never share mutable state with actors.
func networkView(r *persistence.NetworkRecord, nicCount int) *netpb.Network {
	return &netpb.Network{
		Id:          r.ID,
		Name:        r.Name,
		Ipv4Enabled: r.IPv4Subnet != "",
		Ipv4Subnet:  r.IPv4Subnet,
		Ipv6Enabled: r.IPv6Prefix != "",
		Ipv6Prefix:  r.IPv6Prefix,
		DnsServers:  slices.Clone(r.DNSServers),
		NtpServers:  slices.Clone(r.NTPServers),
		NicCount:    uint32(nicCount),
		CreatedAt:   stamp(r.CreatedAt),
		UpdatedAt:   stamp(r.UpdatedAt),
		IsPublic:    r.Public,
	}
}

// nicView is the API form of a NIC record in the given state.
func nicView(r *persistence.NicRecord, state netpb.NicState) *netpb.Nic {
	return &netpb.Nic{
		Id:                 r.ID,
		Name:               r.Name,
		NetworkId:          r.NetworkID,
		MacAddress:         r.MAC,
		Ipv4Address:        r.IPv4Address,
		Ipv6Address:        r.IPv6Address,
		RoutedIpv4Prefixes: slices.Clone(r.RoutedIPv4Prefixes),
		RoutedIpv6Prefixes: slices.Clone(r.RoutedIPv6Prefixes),
		SocketPath:         r.SocketPath,
		State:              state,
		CreatedAt:          stamp(r.CreatedAt),
		UpdatedAt:          stamp(r.UpdatedAt),
	}
}
