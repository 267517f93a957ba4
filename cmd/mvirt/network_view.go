package main

import (
	"io"
	"strconv"

	"mvirt-net/rpc/netpb"
)

// networkDetails writes one network as a list of fields.
func networkDetails(w io.Writer, n *netpb.Network) {
	row(w, "ID:", n.GetId())
	row(w, "Name:", n.GetName())
	row(w, "IPv4 subnet:", orDash(n.GetIpv4Subnet()))
	row(w, "IPv6 prefix:", orDash(n.GetIpv6Prefix()))
	row(w, "DNS servers:", list(n.GetDnsServers()))
	row(w, "NTP servers:", list(n.GetNtpServers()))
	row(w, "MTU:", strconv.FormatUint(uint64(n.GetMtu()), 10))
	row(w, "Public:", yesNo(n.GetIsPublic()))
	if u := n.GetUplink(); u != nil {
		row(w, "Uplink:", uplinkText(u))
	}
	row(w, "vNICs:", strconv.FormatUint(uint64(n.GetNicCount()), 10))
	row(w, "Created:", orDash(n.GetCreatedAt()))
	row(w, "Updated:", orDash(n.GetUpdatedAt()))
}

// networkTable writes networks as a table, one per line.
func networkTable(w io.Writer, networks []*netpb.Network) {
	row(w, "ID", "NAME", "IPV4 SUBNET", "IPV6 PREFIX", "MTU", "NICS", "PUBLIC")
	for _, n := range networks {
		row(w, n.GetId(), n.GetName(), orDash(n.GetIpv4Subnet()), orDash(n.GetIpv6Prefix()),
			strconv.FormatUint(uint64(n.GetMtu()), 10), strconv.FormatUint(uint64(n.GetNicCount()), 10), yesNo(n.GetIsPublic()))
	}
}

// uplinkText says whether a public network's uplink is up.
func uplinkText(u *netpb.UplinkStatus) string {
	if u.GetUp() {
		return "up (" + u.GetDevice() + ")"
	}
	if u.GetDevice() == "" {
		return "down: " + u.GetReason()
	}
	return "down (" + u.GetDevice() + "): " + u.GetReason()
}
