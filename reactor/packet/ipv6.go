package packet

import (
	"encoding/binary"
	"net/netip"
)

// IPv6 header constants.
const (
	IPv6HeaderLen = 40
	// IPv6DefaultHopLimit is the hop limit of packets the gateway originates
	// (other than NDP, which uses 255).
	IPv6DefaultHopLimit = 64
	// IPv6MinMTU is the minimum link MTU of RFC 8200 §5.
	IPv6MinMTU = 1280
)

// IPv6 extension header numbers that Parse skips to find the transport.
const (
	IPv6HopByHop     uint8 = 0
	IPv6Routing      uint8 = 43
	IPv6Fragment     uint8 = 44
	IPv6AH           uint8 = 51
	IPv6NoNextHeader uint8 = 59
	IPv6DestOpts     uint8 = 60
)

// maxExtHeaders bounds the work spent on a chain of extension headers.
const maxExtHeaders = 8

// IPv6 is a view of an IPv6 packet: fixed header and payload. Check it with
// IsValid before using the other accessors.
type IPv6 []byte

// IsValid reports whether v holds an IPv6 header whose payload fits in v.
func (v IPv6) IsValid() bool {
	return len(v) >= IPv6HeaderLen && v[0]>>4 == 6 &&
		IPv6HeaderLen+int(v.PayloadLen()) <= len(v)
}

// TrafficClass returns the traffic class byte.
func (v IPv6) TrafficClass() uint8 { return v[0]<<4 | v[1]>>4 }

// FlowLabel returns the 20-bit flow label.
func (v IPv6) FlowLabel() uint32 { return binary.BigEndian.Uint32(v[0:4]) & 0xfffff }

// PayloadLen returns the payload length field (extension headers included).
func (v IPv6) PayloadLen() uint16 { return binary.BigEndian.Uint16(v[4:6]) }

// NextHeader returns the type of the header after the fixed header.
func (v IPv6) NextHeader() uint8 { return v[6] }

// HopLimit returns the hop limit.
func (v IPv6) HopLimit() uint8 { return v[7] }

// SetHopLimit sets the hop limit.
func (v IPv6) SetHopLimit(h uint8) { v[7] = h }

// Src returns the source address.
func (v IPv6) Src() netip.Addr { return netip.AddrFrom16([16]byte(v[8:24])) }

// Dst returns the destination address.
func (v IPv6) Dst() netip.Addr { return netip.AddrFrom16([16]byte(v[24:40])) }

// Payload returns the bytes after the fixed header, up to the payload length.
func (v IPv6) Payload() []byte { return v[IPv6HeaderLen : IPv6HeaderLen+int(v.PayloadLen())] }

// IPv6Fields are the values Encode writes into a fixed header.
type IPv6Fields struct {
	TrafficClass uint8
	FlowLabel    uint32
	PayloadLen   uint16
	NextHeader   uint8
	HopLimit     uint8
	Src          netip.Addr
	Dst          netip.Addr
}

// Encode writes the fixed header into v[:IPv6HeaderLen].
func (v IPv6) Encode(f *IPv6Fields) {
	binary.BigEndian.PutUint32(v[0:4], 6<<28|uint32(f.TrafficClass)<<20|f.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(v[4:6], f.PayloadLen)
	v[6] = f.NextHeader
	v[7] = f.HopLimit
	src, dst := f.Src.As16(), f.Dst.As16()
	copy(v[8:24], src[:])
	copy(v[24:40], dst[:])
}

// SkipIPv6ExtHeaders walks the extension headers at the start of payload,
// whose first header is of type next, and returns the transport protocol and
// its offset in payload. It skips hop-by-hop, routing, destination options,
// authentication and atomic fragment headers. A fragment header of a real
// fragment yields ReasonFragment with the fragment's protocol and offset; for
// a non-first fragment the offset is -1. A header that does not fit in
// payload, or a chain longer than eight headers, yields
// ReasonBadExtensionHeader.
func SkipIPv6ExtHeaders(payload []byte, next uint8) (proto uint8, off int, r Reason) {
	for range maxExtHeaders {
		var n int
		switch next {
		case IPv6HopByHop, IPv6Routing, IPv6DestOpts:
			if len(payload)-off < 8 {
				return next, off, ReasonBadExtensionHeader
			}
			n = (int(payload[off+1]) + 1) * 8
		case IPv6AH:
			if len(payload)-off < 8 {
				return next, off, ReasonBadExtensionHeader
			}
			n = (int(payload[off+1]) + 2) * 4
		case IPv6Fragment:
			if len(payload)-off < 8 {
				return next, off, ReasonBadExtensionHeader
			}
			fo := binary.BigEndian.Uint16(payload[off+2 : off+4])
			next = payload[off]
			off += 8
			if fo&0xfff8 != 0 {
				return next, -1, ReasonFragment
			}
			if fo&1 != 0 {
				r = ReasonFragment
			}
			continue
		default:
			return next, off, r
		}
		if len(payload)-off < n {
			return next, off, ReasonBadExtensionHeader
		}
		next = payload[off]
		off += n
	}
	return next, off, ReasonBadExtensionHeader
}

// isUnicast6 reports whether a can be the source of a packet that deserves
// an ICMPv6 error: not unspecified, loopback or multicast.
func isUnicast6(a netip.Addr) bool {
	return !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast()
}
