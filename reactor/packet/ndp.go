package packet

import (
	"encoding/binary"
	"net/netip"
)

// NDP message lengths (ICMPv6 header included, options excluded).
const (
	NDPRouterSolicitLen   = 8
	NDPRouterAdvertLen    = 16
	NDPNeighborSolicitLen = 24
	NDPNeighborAdvertLen  = 24
	// NDPHopLimit is the hop limit every NDP message must carry (RFC 4861).
	NDPHopLimit = 255
)

// NDP option types (RFC 4861 §4.6, RFC 8106).
const (
	NDPOptSourceLinkLayer uint8 = 1
	NDPOptTargetLinkLayer uint8 = 2
	NDPOptPrefixInfo      uint8 = 3
	NDPOptMTU             uint8 = 5
	NDPOptRDNSS           uint8 = 25
)

// Flags of a Neighbor Advertisement, in its first message-specific byte.
const (
	NDPFlagRouter    uint8 = 0x80
	NDPFlagSolicited uint8 = 0x40
	NDPFlagOverride  uint8 = 0x20
)

// Flags of a Router Advertisement, in its second message-specific byte.
const (
	NDPFlagManaged     uint8 = 0x80
	NDPFlagOtherConfig uint8 = 0x40
)

// NDPNeighborSolicit is a view of a Neighbor Solicitation message, ICMPv6
// header included. It must hold at least NDPNeighborSolicitLen bytes.
type NDPNeighborSolicit []byte

// Target returns the target address.
func (m NDPNeighborSolicit) Target() netip.Addr { return netip.AddrFrom16([16]byte(m[8:24])) }

// Options returns the options after the fixed part.
func (m NDPNeighborSolicit) Options() NDPOptions { return NDPOptions(m[NDPNeighborSolicitLen:]) }

// NDPNeighborAdvert is a view of a Neighbor Advertisement message, ICMPv6
// header included. It must hold at least NDPNeighborAdvertLen bytes.
type NDPNeighborAdvert []byte

// Flags returns the R, S and O flags (NDPFlagRouter and so on).
func (m NDPNeighborAdvert) Flags() uint8 { return m[4] }

// Target returns the target address.
func (m NDPNeighborAdvert) Target() netip.Addr { return netip.AddrFrom16([16]byte(m[8:24])) }

// Options returns the options after the fixed part.
func (m NDPNeighborAdvert) Options() NDPOptions { return NDPOptions(m[NDPNeighborAdvertLen:]) }

// Encode writes type, code, zero checksum, flags and target.
func (m NDPNeighborAdvert) Encode(flags uint8, target netip.Addr) {
	m[0], m[1] = ICMPv6NeighborAdvert, 0
	binary.BigEndian.PutUint16(m[2:4], 0)
	m[4], m[5], m[6], m[7] = flags, 0, 0, 0
	t := target.As16()
	copy(m[8:24], t[:])
}

// NDPRouterSolicit is a view of a Router Solicitation message, ICMPv6 header
// included. It must hold at least NDPRouterSolicitLen bytes.
type NDPRouterSolicit []byte

// Options returns the options after the fixed part.
func (m NDPRouterSolicit) Options() NDPOptions { return NDPOptions(m[NDPRouterSolicitLen:]) }

// NDPRouterAdvert is a view of a Router Advertisement message, ICMPv6 header
// included. It must hold at least NDPRouterAdvertLen bytes.
type NDPRouterAdvert []byte

// CurHopLimit returns the hop limit hosts should use.
func (m NDPRouterAdvert) CurHopLimit() uint8 { return m[4] }

// Flags returns the M and O flags (NDPFlagManaged, NDPFlagOtherConfig).
func (m NDPRouterAdvert) Flags() uint8 { return m[5] }

// RouterLifetime returns the router lifetime in seconds.
func (m NDPRouterAdvert) RouterLifetime() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// ReachableTime returns the reachable time in milliseconds.
func (m NDPRouterAdvert) ReachableTime() uint32 { return binary.BigEndian.Uint32(m[8:12]) }

// RetransTimer returns the retransmission timer in milliseconds.
func (m NDPRouterAdvert) RetransTimer() uint32 { return binary.BigEndian.Uint32(m[12:16]) }

// Options returns the options after the fixed part.
func (m NDPRouterAdvert) Options() NDPOptions { return NDPOptions(m[NDPRouterAdvertLen:]) }

// Encode writes type, code, zero checksum and the fixed fields.
func (m NDPRouterAdvert) Encode(curHopLimit, flags uint8, lifetime uint16, reachable, retrans uint32) {
	m[0], m[1] = ICMPv6RouterAdvert, 0
	binary.BigEndian.PutUint16(m[2:4], 0)
	m[4], m[5] = curHopLimit, flags
	binary.BigEndian.PutUint16(m[6:8], lifetime)
	binary.BigEndian.PutUint32(m[8:12], reachable)
	binary.BigEndian.PutUint32(m[12:16], retrans)
}

// NDPOptions is a view of the options of an NDP message: a sequence of
// type, length (in units of 8 bytes) and value.
type NDPOptions []byte

// IsValid reports whether every option has a non-zero length and fits
// (RFC 4861 §4.6: a zero length makes the whole message invalid).
func (o NDPOptions) IsValid() bool {
	for len(o) > 0 {
		if len(o) < 2 {
			return false
		}
		n := int(o[1]) * 8
		if n == 0 || n > len(o) {
			return false
		}
		o = o[n:]
	}
	return true
}

// Find returns the body (after type and length) of the first option of type
// typ. It stops at the first malformed option.
func (o NDPOptions) Find(typ uint8) ([]byte, bool) {
	for len(o) >= 2 {
		n := int(o[1]) * 8
		if n == 0 || n > len(o) {
			return nil, false
		}
		if o[0] == typ {
			return o[2:n], true
		}
		o = o[n:]
	}
	return nil, false
}

// SourceLinkLayer returns the source link-layer address option, if present.
func (o NDPOptions) SourceLinkLayer() (MAC, bool) { return o.linkLayer(NDPOptSourceLinkLayer) }

// TargetLinkLayer returns the target link-layer address option, if present.
func (o NDPOptions) TargetLinkLayer() (MAC, bool) { return o.linkLayer(NDPOptTargetLinkLayer) }

func (o NDPOptions) linkLayer(typ uint8) (MAC, bool) {
	b, ok := o.Find(typ)
	if !ok || len(b) < 6 {
		return MAC{}, false
	}
	return MAC(b[:6]), true
}

// NDPLinkLayerOptionLen is the length of an Ethernet link-layer address
// option.
const NDPLinkLayerOptionLen = 8

// PutNDPLinkLayerOption writes a source or target link-layer address option
// (typ NDPOptSourceLinkLayer or NDPOptTargetLinkLayer) into b and returns its
// length, or 0 if b is too short.
func PutNDPLinkLayerOption(b []byte, typ uint8, mac MAC) int {
	if len(b) < NDPLinkLayerOptionLen {
		return 0
	}
	b[0], b[1] = typ, 1
	copy(b[2:8], mac[:])
	return NDPLinkLayerOptionLen
}

// NDPMTUOptionLen is the length of an MTU option.
const NDPMTUOptionLen = 8

// PutNDPMTUOption writes an MTU option into b and returns its length, or 0
// if b is too short.
func PutNDPMTUOption(b []byte, mtu uint32) int {
	if len(b) < NDPMTUOptionLen {
		return 0
	}
	b[0], b[1], b[2], b[3] = NDPOptMTU, 1, 0, 0
	binary.BigEndian.PutUint32(b[4:8], mtu)
	return NDPMTUOptionLen
}

// PutNDPRDNSSOption writes a Recursive DNS Server option (RFC 8106 §5.1)
// listing the IPv6 addresses among servers into b and returns its length. It
// returns 0 if there is no IPv6 server or b is too short.
func PutNDPRDNSSOption(b []byte, lifetime uint32, servers []netip.Addr) int {
	n := 0
	for _, s := range servers {
		if s.Is6() && !s.Is4In6() {
			n++
		}
	}
	l := 8 + 16*n
	if n == 0 || len(b) < l || n > 127 {
		return 0
	}
	b[0], b[1], b[2], b[3] = NDPOptRDNSS, uint8(l/8), 0, 0
	binary.BigEndian.PutUint32(b[4:8], lifetime)
	off := 8
	for _, s := range servers {
		if s.Is6() && !s.Is4In6() {
			a := s.As16()
			copy(b[off:off+16], a[:])
			off += 16
		}
	}
	return l
}
