package packet

// Reason says why Parse could not fully parse a frame. ReasonNone means the
// frame was parsed completely. Reasons are meant to index per-NIC drop
// counters: NumReasons sizes such an array.
type Reason uint8

// Parse outcomes. Fields of Parsed that precede the failing layer are valid
// (for example a ReasonBadTransportHeader packet has valid IP fields).
const (
	ReasonNone Reason = iota
	// ReasonTooShort: shorter than an Ethernet header.
	ReasonTooShort
	// ReasonVLANTagged: an 802.1Q or 802.1ad tagged frame.
	ReasonVLANTagged
	// ReasonUnknownEtherType: neither IPv4, IPv6 nor ARP.
	ReasonUnknownEtherType
	// ReasonBadARP: ARP that is not IPv4 over Ethernet, or truncated.
	ReasonBadARP
	// ReasonBadIPv4Header: wrong version, header length or total length.
	ReasonBadIPv4Header
	// ReasonBadIPv4Checksum: the IPv4 header checksum is wrong.
	ReasonBadIPv4Checksum
	// ReasonBadIPv6Header: wrong version or a payload longer than the frame.
	ReasonBadIPv6Header
	// ReasonBadExtensionHeader: a truncated or overlong IPv6 header chain.
	ReasonBadExtensionHeader
	// ReasonFragment: an IPv4 or IPv6 fragment. L3 fields are valid; L4
	// fields are valid only for a first fragment (L4Off != 0).
	ReasonFragment
	// ReasonBadTransportHeader: a truncated UDP, TCP, ICMP or ICMPv6 header.
	ReasonBadTransportHeader
	// NumReasons is the number of reasons, for sizing counter arrays.
	NumReasons
)

var reasonNames = [NumReasons]string{
	ReasonNone:               "none",
	ReasonTooShort:           "too_short",
	ReasonVLANTagged:         "vlan_tagged",
	ReasonUnknownEtherType:   "unknown_ethertype",
	ReasonBadARP:             "bad_arp",
	ReasonBadIPv4Header:      "bad_ipv4_header",
	ReasonBadIPv4Checksum:    "bad_ipv4_checksum",
	ReasonBadIPv6Header:      "bad_ipv6_header",
	ReasonBadExtensionHeader: "bad_extension_header",
	ReasonFragment:           "fragment",
	ReasonBadTransportHeader: "bad_transport_header",
}

// String returns a short snake_case name suitable as a metric label.
func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "unknown"
}
