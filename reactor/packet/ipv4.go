package packet

import (
	"encoding/binary"
	"net/netip"
)

// IPv4 header constants.
const (
	IPv4MinHeaderLen = 20
	IPv4MaxHeaderLen = 60
	// IPv4DefaultTTL is the TTL of packets the gateway originates.
	IPv4DefaultTTL = 64

	ipv4FlagMF      = 0x2000
	ipv4FlagDF      = 0x4000
	ipv4FragOffMask = 0x1fff
)

// IP protocol numbers the reactor looks at.
const (
	ProtoICMPv4 uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// IPv4 is a view of an IPv4 packet: header, options and payload. Check it
// with IsValid before using the other accessors.
type IPv4 []byte

// IsValid reports whether v holds a well-formed IPv4 header whose total
// length fits in v. It does not check the header checksum.
func (v IPv4) IsValid() bool {
	if len(v) < IPv4MinHeaderLen || v[0]>>4 != 4 {
		return false
	}
	hl := v.HeaderLen()
	tl := int(v.TotalLen())
	return hl >= IPv4MinHeaderLen && hl <= tl && tl <= len(v)
}

// HeaderLen returns the header length in bytes, options included.
func (v IPv4) HeaderLen() int { return int(v[0]&0x0f) * 4 }

// TOS returns the type-of-service (DSCP and ECN) byte.
func (v IPv4) TOS() uint8 { return v[1] }

// TotalLen returns the total length field: header plus payload.
func (v IPv4) TotalLen() uint16 { return binary.BigEndian.Uint16(v[2:4]) }

// ID returns the identification field.
func (v IPv4) ID() uint16 { return binary.BigEndian.Uint16(v[4:6]) }

// DontFragment reports whether the DF flag is set.
func (v IPv4) DontFragment() bool { return binary.BigEndian.Uint16(v[6:8])&ipv4FlagDF != 0 }

// MoreFragments reports whether the MF flag is set.
func (v IPv4) MoreFragments() bool { return binary.BigEndian.Uint16(v[6:8])&ipv4FlagMF != 0 }

// FragmentOffset returns the fragment offset in bytes.
func (v IPv4) FragmentOffset() int { return int(binary.BigEndian.Uint16(v[6:8])&ipv4FragOffMask) * 8 }

// IsFragment reports whether v is a fragment of a larger datagram.
func (v IPv4) IsFragment() bool {
	return binary.BigEndian.Uint16(v[6:8])&(ipv4FlagMF|ipv4FragOffMask) != 0
}

// TTL returns the time to live.
func (v IPv4) TTL() uint8 { return v[8] }

// Protocol returns the payload's protocol number.
func (v IPv4) Protocol() uint8 { return v[9] }

// Checksum returns the header checksum field.
func (v IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(v[10:12]) }

// Src returns the source address.
func (v IPv4) Src() netip.Addr { return netip.AddrFrom4([4]byte(v[12:16])) }

// Dst returns the destination address.
func (v IPv4) Dst() netip.Addr { return netip.AddrFrom4([4]byte(v[16:20])) }

// Options returns the header options, if any.
func (v IPv4) Options() []byte { return v[IPv4MinHeaderLen:v.HeaderLen()] }

// Payload returns the bytes between the header and the total length.
func (v IPv4) Payload() []byte { return v[v.HeaderLen():v.TotalLen()] }

// SetTTL sets the time to live without fixing the checksum.
func (v IPv4) SetTTL(ttl uint8) { v[8] = ttl }

// SetChecksum sets the header checksum field.
func (v IPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(v[10:12], c) }

// CalculateChecksum returns the header checksum over the header as it is,
// checksum field included: 0 for a header whose checksum is correct, the value
// to store after SetChecksum(0) otherwise.
func (v IPv4) CalculateChecksum() uint16 { return ^Checksum(v[:v.HeaderLen()], 0) }

// IsChecksumValid reports whether the header checksum is correct.
func (v IPv4) IsChecksumValid() bool { return v.CalculateChecksum() == 0 }

// IPv4Fields are the values Encode writes into a header without options.
type IPv4Fields struct {
	TOS          uint8
	TotalLen     uint16
	ID           uint16
	DontFragment bool
	TTL          uint8
	Protocol     uint8
	Src          netip.Addr
	Dst          netip.Addr
}

// Encode writes a 20-byte header (no options, not a fragment) with its
// checksum into v[:IPv4MinHeaderLen].
func (v IPv4) Encode(f *IPv4Fields) {
	v[0] = 0x45
	v[1] = f.TOS
	binary.BigEndian.PutUint16(v[2:4], f.TotalLen)
	binary.BigEndian.PutUint16(v[4:6], f.ID)
	var flags uint16
	if f.DontFragment {
		flags = ipv4FlagDF
	}
	binary.BigEndian.PutUint16(v[6:8], flags)
	v[8] = f.TTL
	v[9] = f.Protocol
	v.SetChecksum(0)
	putAddr4(v[12:16], f.Src)
	putAddr4(v[16:20], f.Dst)
	v.SetChecksum(^Checksum(v[:IPv4MinHeaderLen], 0))
}

// putAddr4 writes a as four bytes, or zeros if a is not an IPv4 address.
func putAddr4(b []byte, a netip.Addr) {
	if a.Is4() || a.Is4In6() {
		a4 := a.As4()
		copy(b, a4[:])
		return
	}
	clear(b[:4])
}

// isUnicast4 reports whether a can be the source of a datagram that deserves
// an ICMP error: not unspecified, loopback, multicast, broadcast or class E.
func isUnicast4(a netip.Addr) bool {
	b := a.As4()
	return !a.IsUnspecified() && !a.IsLoopback() && b[0] < 224
}
