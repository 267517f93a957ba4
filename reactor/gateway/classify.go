package gateway

import "mvirt-net/reactor/packet"

// Class tells the reactor what to do with a frame from the NIC.
type Class uint8

// Classes, each naming the responder that takes the frame.
const (
	// ClassDrop: malformed (see Parsed.Reason), sent from a MAC that is not
	// the NIC's, or addressed to a unicast MAC or link-local address that is
	// not the gateway's. Count it.
	ClassDrop Class = iota
	// ClassIgnore: traffic a host legitimately sends that needs no answer:
	// multicast and broadcast datagrams, MLD reports, Neighbor and Router
	// Advertisements, ARP replies.
	ClassIgnore
	// ClassRoute: to be forwarded by destination lookup (the forwarder
	// checks the source address against the NIC's addresses and prefixes).
	ClassRoute
	// ClassARP: an ARP request, for ARPReply.
	ClassARP
	// ClassEcho: an ICMP or ICMPv6 echo request to the gateway, for
	// EchoReply.
	ClassEcho
	// ClassDHCPv4: a DHCPv4 client message, for the dhcp4 server.
	ClassDHCPv4
	// ClassDHCPv6: a DHCPv6 client message, for the dhcp6 server.
	ClassDHCPv6
	// ClassNeighborSolicit: a Neighbor Solicitation, for the ndp package.
	ClassNeighborSolicit
	// ClassRouterSolicit: a Router Solicitation, for the ndp package.
	ClassRouterSolicit
	// ClassLocal: addressed to the gateway but not something it answers
	// (a TCP connection to 169.254.0.1, say): drop or send unreachable.
	ClassLocal
	// NumClasses is the number of classes, for sizing counter arrays.
	NumClasses
)

var classNames = [NumClasses]string{
	ClassDrop:            "drop",
	ClassIgnore:          "ignore",
	ClassRoute:           "route",
	ClassARP:             "arp",
	ClassEcho:            "echo",
	ClassDHCPv4:          "dhcpv4",
	ClassDHCPv6:          "dhcpv6",
	ClassNeighborSolicit: "neighbor_solicit",
	ClassRouterSolicit:   "router_solicit",
	ClassLocal:           "local",
}

// String returns a short snake_case name suitable as a metric label.
func (c Class) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return "unknown"
}

// Well-known ports and ICMPv6 types Classify looks for.
const (
	dhcp4ServerPort = 67
	dhcp6ServerPort = 547
	mldQuery        = 130
	mldReport       = 131
	mldDone         = 132
	mldv2Report     = 143
)

// Classify tells what to do with a frame the NIC sent, from what Parse found
// in it. It reads nothing but p and cfg.
func Classify(p *packet.Parsed, cfg *Config) Class {
	if p.Reason != packet.ReasonNone && p.Reason != packet.ReasonFragment {
		return ClassDrop
	}
	if p.SrcMAC != cfg.MAC {
		return ClassDrop
	}
	switch p.EtherType {
	case packet.EtherTypeARP:
		if p.ARPOp == packet.ARPRequest {
			return ClassARP
		}
		return ClassIgnore
	case packet.EtherTypeIPv4:
		return classify4(p)
	case packet.EtherTypeIPv6:
		return classify6(p)
	}
	return ClassDrop
}

func classify4(p *packet.Parsed) Class {
	whole := p.Reason == packet.ReasonNone
	if whole && p.IPProto == packet.ProtoUDP && p.DstPort == dhcp4ServerPort &&
		(p.Dst == Broadcast4 || p.Dst == IPv4 && p.DstMAC == MAC) {
		return ClassDHCPv4
	}
	if p.DstMAC != MAC {
		if p.DstMAC.IsMulticast() {
			return ClassIgnore
		}
		return ClassDrop
	}
	switch {
	case p.Dst == IPv4:
		if whole && p.IPProto == packet.ProtoICMPv4 && p.ICMPType == packet.ICMPv4Echo {
			return ClassEcho
		}
		return ClassLocal
	case p.Dst.IsMulticast() || p.Dst == Broadcast4:
		return ClassIgnore
	case p.Dst.IsLinkLocalUnicast() || p.Dst.IsLoopback() || p.Dst.IsUnspecified():
		return ClassDrop
	}
	return ClassRoute
}

func classify6(p *packet.Parsed) Class {
	whole := p.Reason == packet.ReasonNone
	if whole && p.IPProto == packet.ProtoICMPv6 {
		switch p.ICMPType {
		case packet.ICMPv6NeighborSolicit:
			return ClassNeighborSolicit
		case packet.ICMPv6RouterSolicit:
			return ClassRouterSolicit
		case packet.ICMPv6NeighborAdvert, packet.ICMPv6RouterAdvert, packet.ICMPv6Redirect,
			mldQuery, mldReport, mldDone, mldv2Report:
			return ClassIgnore
		}
	}
	if whole && p.IPProto == packet.ProtoUDP && p.DstPort == dhcp6ServerPort &&
		(p.Dst == AllDHCPAgents || IsGatewayIPv6(p.Dst, p.Src)) {
		return ClassDHCPv6
	}
	if p.DstMAC != MAC {
		if p.DstMAC.IsMulticast() {
			return ClassIgnore
		}
		return ClassDrop
	}
	switch {
	case IsGatewayIPv6(p.Dst, p.Src):
		if whole && p.IPProto == packet.ProtoICMPv6 && p.ICMPType == packet.ICMPv6EchoRequest {
			return ClassEcho
		}
		return ClassLocal
	case p.Dst.IsMulticast():
		return ClassIgnore
	case p.Dst.IsLinkLocalUnicast() || p.Dst.IsLoopback() || p.Dst.IsUnspecified():
		return ClassDrop
	}
	return ClassRoute
}
