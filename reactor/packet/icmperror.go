package packet

import (
	"encoding/binary"
	"net/netip"
)

// Quote limits of ICMP errors: an ICMPv4 error stays within the 576 bytes
// every host accepts (RFC 1812 §4.3.2.3), an ICMPv6 error within the IPv6
// minimum MTU (RFC 4443 §2.4 c).
const (
	icmpv4QuoteMax = 576 - IPv4MinHeaderLen - ICMPHeaderLen
	icmpv6QuoteMax = IPv6MinMTU - IPv6HeaderLen - ICMPHeaderLen
	// icmpv4QuoteMin is the original header plus 64 bits of its payload
	// that RFC 792 requires, when the original is that long.
	icmpv4QuoteMin = 8
	// icmpTOS is precedence 6 (internetwork control), RFC 1812 §4.3.2.5.
	icmpTOS = 0xc0
)

// PutICMPv4TimeExceeded writes into out an Ethernet frame carrying an ICMPv4
// time-exceeded (TTL exceeded in transit) error about the packet in frame,
// sent from srcMAC and src to the packet's sender. It returns the frame's
// length, or 0 when no error may be sent. out must not overlap frame.
func PutICMPv4TimeExceeded(out, frame []byte, p *Parsed, srcMAC MAC, src netip.Addr) int {
	return icmpv4Error(out, frame, p, srcMAC, src, ICMPv4TimeExceeded, ICMPv4TTLExceeded, 0)
}

// PutICMPv4DestUnreachable is PutICMPv4TimeExceeded for a destination-unreachable
// error with the given code (ICMPv4NetUnreach, ICMPv4HostUnreach, ...).
func PutICMPv4DestUnreachable(out, frame []byte, p *Parsed, srcMAC MAC, src netip.Addr, code uint8) int {
	return icmpv4Error(out, frame, p, srcMAC, src, ICMPv4DestUnreach, code, 0)
}

// PutICMPv4FragmentationNeeded is PutICMPv4TimeExceeded for a destination
// unreachable, fragmentation-needed error carrying the next-hop MTU
// (RFC 1191).
func PutICMPv4FragmentationNeeded(out, frame []byte, p *Parsed, srcMAC MAC, src netip.Addr, mtu uint16) int {
	return icmpv4Error(out, frame, p, srcMAC, src, ICMPv4DestUnreach, ICMPv4FragNeeded, uint32(mtu))
}

// PutICMPv6TimeExceeded writes into out an Ethernet frame carrying an ICMPv6
// time-exceeded (hop limit exceeded in transit) error about the packet in
// frame, sent from srcMAC and src to the packet's sender. It returns the
// frame's length, or 0 when no error may be sent. out must not overlap
// frame.
func PutICMPv6TimeExceeded(out, frame []byte, p *Parsed, srcMAC MAC, src netip.Addr) int {
	return icmpv6Error(out, frame, p, srcMAC, src, ICMPv6TimeExceeded, ICMPv6HopLimitExceeded, 0)
}

// PutICMPv6DestUnreachable is PutICMPv6TimeExceeded for a destination-unreachable
// error with the given code (ICMPv6NoRoute, ICMPv6AddressUnreach, ...).
func PutICMPv6DestUnreachable(out, frame []byte, p *Parsed, srcMAC MAC, src netip.Addr, code uint8) int {
	return icmpv6Error(out, frame, p, srcMAC, src, ICMPv6DestUnreach, code, 0)
}

// PutICMPv6PacketTooBig is PutICMPv6TimeExceeded for a packet-too-big error
// carrying the MTU of the next hop.
func PutICMPv6PacketTooBig(out, frame []byte, p *Parsed, srcMAC MAC, src netip.Addr, mtu uint32) int {
	return icmpv6Error(out, frame, p, srcMAC, src, ICMPv6PacketTooBig, 0, mtu)
}

// icmpv4Error builds the error; word is the second 32-bit word of the ICMP
// header (the next-hop MTU in its low 16 bits for fragmentation needed). No
// error answers an ICMP error, a non-first fragment, a link-layer or IP
// broadcast or multicast, or a source that is not a unicast host
// (RFC 1812 §4.3.2.7).
func icmpv4Error(out, frame []byte, p *Parsed, srcMAC MAC, src netip.Addr, typ, code uint8, word uint32) int {
	if p.IPVersion != 4 || p.End > len(frame) || !src.Is4() || p.DstMAC.IsMulticast() || p.SrcMAC.IsMulticast() ||
		!isUnicast4(p.Src) || !isUnicast4(p.Dst) {
		return 0
	}
	orig := IPv4(p.L3(frame))
	if orig.FragmentOffset() != 0 {
		return 0
	}
	if p.IPProto == ProtoICMPv4 && (p.L4Off == 0 || IsICMPv4Error(p.ICMPType)) {
		return 0
	}
	const hdr = EthernetHeaderLen + IPv4MinHeaderLen + ICMPHeaderLen
	quote := min(len(orig), icmpv4QuoteMax, len(out)-hdr)
	if quote < min(len(orig), orig.HeaderLen()+icmpv4QuoteMin) {
		return 0
	}
	Ethernet(out).Encode(p.SrcMAC, srcMAC, EtherTypeIPv4)
	IPv4(out[EthernetHeaderLen:]).Encode(&IPv4Fields{
		TOS:      icmpTOS,
		TotalLen: uint16(IPv4MinHeaderLen + ICMPHeaderLen + quote),
		TTL:      IPv4DefaultTTL,
		Protocol: ProtoICMPv4,
		Src:      src,
		Dst:      p.Src,
	})
	m := putICMPError(out[EthernetHeaderLen+IPv4MinHeaderLen:hdr+quote], typ, code, word, orig)
	m.SetChecksum(^Checksum(m, 0))
	return hdr + quote
}

// icmpv6Error builds the error; word is the 32-bit field after the checksum
// (the MTU of packet too big). No error answers an ICMPv6 error or redirect,
// a packet from a source that is not a unicast host, or (except packet too
// big) a packet sent to a link-layer or IPv6 multicast address
// (RFC 4443 §2.4 e).
func icmpv6Error(out, frame []byte, p *Parsed, srcMAC MAC, src netip.Addr, typ, code uint8, word uint32) int {
	if p.IPVersion != 6 || p.End > len(frame) || !src.Is6() || p.SrcMAC.IsMulticast() || !isUnicast6(p.Src) {
		return 0
	}
	if typ != ICMPv6PacketTooBig && (p.DstMAC.IsMulticast() || p.Dst.IsMulticast()) {
		return 0
	}
	if p.IPProto == ProtoICMPv6 && (p.L4Off == 0 || IsICMPv6Error(p.ICMPType)) {
		return 0
	}
	orig := p.L3(frame)
	const hdr = EthernetHeaderLen + IPv6HeaderLen + ICMPHeaderLen
	quote := min(len(orig), icmpv6QuoteMax, len(out)-hdr)
	if quote < min(len(orig), IPv6HeaderLen+icmpv4QuoteMin) {
		return 0
	}
	Ethernet(out).Encode(p.SrcMAC, srcMAC, EtherTypeIPv6)
	IPv6(out[EthernetHeaderLen:]).Encode(&IPv6Fields{
		PayloadLen: uint16(ICMPHeaderLen + quote),
		NextHeader: ProtoICMPv6,
		HopLimit:   IPv6DefaultHopLimit,
		Src:        src,
		Dst:        p.Src,
	})
	m := putICMPError(out[EthernetHeaderLen+IPv6HeaderLen:hdr+quote], typ, code, word, orig)
	m.SetChecksum(TransportChecksum(ProtoICMPv6, src, p.Src, m))
	return hdr + quote
}

// putICMPError writes into b, which is the whole ICMP message, an error of
// typ and code with word after the checksum and as much of orig as fits
// after that, and returns the message with its checksum field zero.
func putICMPError(b []byte, typ, code uint8, word uint32, orig []byte) ICMP {
	m := ICMP(b)
	m[0], m[1] = typ, code
	m.SetChecksum(0)
	binary.BigEndian.PutUint32(m[4:8], word)
	copy(m[ICMPHeaderLen:], orig)
	return m
}
