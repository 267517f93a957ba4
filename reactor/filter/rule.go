package filter

import "net/netip"

// Direction says which traffic a rule is about.
type Direction uint8

// Directions.
const (
	// Ingress is traffic to the VM; a rule's CIDR is the source.
	Ingress Direction = iota
	// Egress is traffic from the VM; a rule's CIDR is the destination.
	Egress
	numDirections
)

// String names the direction.
func (d Direction) String() string {
	if d == Egress {
		return "egress"
	}
	return "ingress"
}

// Protocol is what a rule matches above IP.
type Protocol uint8

// Protocols of rules.
const (
	// ProtoAll matches every protocol, every port.
	ProtoAll Protocol = iota
	// ProtoTCP matches TCP in a port range.
	ProtoTCP
	// ProtoUDP matches UDP in a port range.
	ProtoUDP
	// ProtoICMP matches ICMP (IPv4 only).
	ProtoICMP
	// ProtoICMPv6 matches ICMPv6 (IPv6 only).
	ProtoICMPv6
)

// IP protocol numbers the matcher tells apart.
const (
	IPProtoICMP   = 1
	IPProtoTCP    = 6
	IPProtoUDP    = 17
	IPProtoICMPv6 = 58
)

// Rule is one validated allow rule. Ports are the destination port range,
// inclusive, and only count for TCP and UDP (0..65535 is any). An invalid
// (zero) CIDR matches every address of both families, unless the protocol
// has only one (ICMP: IPv4, ICMPv6: IPv6); a valid one matches only its
// own family.
type Rule struct {
	Direction Direction
	Protocol  Protocol
	PortStart uint16
	PortEnd   uint16
	CIDR      netip.Prefix
}

// families returns the address families (0: IPv4, 1: IPv6) r applies to.
func (r *Rule) families() []int {
	switch {
	case r.CIDR.IsValid() && r.CIDR.Addr().Is4():
		return []int{0}
	case r.CIDR.IsValid():
		return []int{1}
	case r.Protocol == ProtoICMP:
		return []int{0}
	case r.Protocol == ProtoICMPv6:
		return []int{1}
	}
	return []int{0, 1}
}

// prefix returns the CIDR of r in family fam: the rule's own, or the whole
// family's address space.
func (r *Rule) prefix(fam int) netip.Prefix {
	if r.CIDR.IsValid() {
		return r.CIDR
	}
	if fam == 0 {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
}
