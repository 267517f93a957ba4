package actors

import (
	"fmt"
	"net/netip"
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
		Ipv4Subnet:  prefixText(r.IPv4Subnet),
		Ipv6Enabled: r.IPv6Prefix.IsValid(),
		Ipv6Prefix:  prefixText(r.IPv6Prefix),
		DnsServers:  texts(r.DNSServers),
		NtpServers:  texts(r.NTPServers),
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
		MacAddress:         r.MAC.String(),
		Ipv4Address:        addrText(r.IPv4Address),
		Ipv6Address:        addrText(r.IPv6Address),
		RoutedIpv4Prefixes: texts(r.RoutedIPv4Prefixes),
		RoutedIpv6Prefixes: texts(r.RoutedIPv6Prefixes),
		SocketPath:         r.SocketPath,
		State:              state,
		CreatedAt:          stamp(r.CreatedAt),
		UpdatedAt:          stamp(r.UpdatedAt),
	}
}

// prefixText is p as text, "" for the zero Prefix (a disabled family).
func prefixText(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

// addrText is a as text, "" for the zero Addr (a disabled family).
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// texts is every value as text; nil for none.
func texts[T fmt.Stringer](vs []T) []string {
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}
