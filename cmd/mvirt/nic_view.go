package main

import (
	"io"
	"strings"

	"mvirt-net/rpc/netpb"
)

// nicDetails writes one vNIC as a list of fields.
func nicDetails(w io.Writer, n *netpb.Nic) {
	row(w, "ID:", n.GetId())
	row(w, "Name:", orDash(n.GetName()))
	row(w, "Network:", n.GetNetworkId())
	row(w, "MAC:", n.GetMacAddress())
	row(w, "IPv4:", orDash(n.GetIpv4Address()))
	row(w, "IPv6:", orDash(n.GetIpv6Address()))
	row(w, "Routed IPv4:", list(n.GetRoutedIpv4Prefixes()))
	row(w, "Routed IPv6:", list(n.GetRoutedIpv6Prefixes()))
	row(w, "Socket:", orDash(n.GetSocketPath()))
	row(w, "State:", nicState(n.GetState()))
	row(w, "Created:", orDash(n.GetCreatedAt()))
	row(w, "Updated:", orDash(n.GetUpdatedAt()))
}

// nicTable writes vNICs as a table, one per line.
func nicTable(w io.Writer, nics []*netpb.Nic) {
	row(w, "ID", "NAME", "NETWORK", "MAC", "IPV4", "IPV6", "STATE")
	for _, n := range nics {
		row(w, n.GetId(), orDash(n.GetName()), n.GetNetworkId(), n.GetMacAddress(),
			orDash(n.GetIpv4Address()), orDash(n.GetIpv6Address()), nicState(n.GetState()))
	}
}

// nicState shows a state without its enum prefix: "created", "active"...
func nicState(s netpb.NicState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "NIC_STATE_"))
}

// nicLabel is how messages name a vNIC: its name, or its UUID when unnamed.
func nicLabel(n *netpb.Nic) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	return n.GetId()
}
