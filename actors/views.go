package actors

import (
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
		Ipv4Enabled: r.IPv4Subnet.IsValid(),
		Ipv4Subnet:  persistence.PrefixText(r.IPv4Subnet),
		Ipv6Enabled: r.IPv6Prefix.IsValid(),
		Ipv6Prefix:  persistence.PrefixText(r.IPv6Prefix),
		DnsServers:  persistence.Texts(r.DNSServers),
		NtpServers:  persistence.Texts(r.NTPServers),
		NicCount:    uint32(nicCount),
		CreatedAt:   stamp(r.CreatedAt),
		UpdatedAt:   stamp(r.UpdatedAt),
		IsPublic:    r.Public,
		Mtu:         uint32(r.MTU),
	}
}

// nicView is the API form of a NIC record in the given state.
func nicView(r *persistence.NicRecord, state netpb.NicState) *netpb.Nic {
	return &netpb.Nic{
		Id:                 r.ID,
		Name:               r.Name,
		NetworkId:          r.NetworkID,
		MacAddress:         r.MAC.String(),
		Ipv4Address:        persistence.AddrText(r.IPv4Address),
		Ipv6Address:        persistence.AddrText(r.IPv6Address),
		RoutedIpv4Prefixes: persistence.Texts(r.RoutedIPv4Prefixes),
		RoutedIpv6Prefixes: persistence.Texts(r.RoutedIPv6Prefixes),
		SocketPath:         r.SocketPath,
		State:              state,
		CreatedAt:          stamp(r.CreatedAt),
		UpdatedAt:          stamp(r.UpdatedAt),
	}
}
