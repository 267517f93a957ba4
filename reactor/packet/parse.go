package packet

import (
	"encoding/binary"
	"net/netip"
)

// Parsed is what Parse learnt about one Ethernet frame. The caller owns it
// and reuses it from frame to frame; offsets index the frame Parse was given,
// which the caller keeps owning.
type Parsed struct {
	// Reason is ReasonNone for a fully parsed frame, or the first problem
	// found. Fields of the layers before the problem are filled in.
	Reason Reason

	DstMAC    MAC
	SrcMAC    MAC
	EtherType uint16

	// IPVersion is 4 or 6 once the IP header is known to be valid, else 0.
	IPVersion uint8
	// L3Off is the offset of the ARP or IP header.
	L3Off int
	// L4Off is the offset of the transport header, 0 if unknown.
	L4Off int
	// End is the offset just past the IP packet (or ARP message): Ethernet
	// padding after it is not part of the packet.
	End int

	// Src and Dst are the IP source and destination; for ARP, the sender and
	// target protocol addresses.
	Src netip.Addr
	Dst netip.Addr
	// TTL is the IPv4 TTL or the IPv6 hop limit.
	TTL uint8
	// IPProto is the transport protocol, after IPv6 extension headers.
	IPProto uint8

	// SrcPort and DstPort are the UDP or TCP ports.
	SrcPort uint16
	DstPort uint16
	// ICMPType and ICMPCode describe an ICMPv4 or ICMPv6 message.
	ICMPType uint8
	ICMPCode uint8
	// ARPOp is the ARP operation.
	ARPOp uint16
}

// L3 returns the IP packet (or ARP message) of frame, without padding.
func (p *Parsed) L3(frame []byte) []byte { return frame[p.L3Off:p.End] }

// L4 returns the transport message of frame, or nil if its offset is unknown.
func (p *Parsed) L4(frame []byte) []byte {
	if p.L4Off == 0 {
		return nil
	}
	return frame[p.L4Off:p.End]
}

// IPLen returns the length of the IP packet (header and payload), or 0 if
// there is no valid IP header.
func (p *Parsed) IPLen() int {
	if p.IPVersion == 0 {
		return 0
	}
	return p.End - p.L3Off
}

// Parse fills p from frame, an Ethernet frame without virtio header. It
// never allocates and never fails: a frame it cannot use gets a Reason.
func Parse(frame []byte, p *Parsed) {
	*p = Parsed{}
	if len(frame) < EthernetHeaderLen {
		p.Reason = ReasonTooShort
		return
	}
	eth := Ethernet(frame)
	p.DstMAC, p.SrcMAC, p.EtherType = eth.Dst(), eth.Src(), eth.EtherType()
	p.L3Off = EthernetHeaderLen
	switch p.EtherType {
	case EtherTypeIPv4:
		parseIPv4(frame, p)
	case EtherTypeIPv6:
		parseIPv6(frame, p)
	case EtherTypeARP:
		parseARP(frame, p)
	case EtherTypeVLAN, EtherTypeQinQ:
		p.Reason = ReasonVLANTagged
	default:
		p.Reason = ReasonUnknownEtherType
	}
}

func parseARP(frame []byte, p *Parsed) {
	a := ARP(frame[EthernetHeaderLen:])
	if !a.IsValid() {
		p.Reason = ReasonBadARP
		return
	}
	p.End = EthernetHeaderLen + ARPLen
	p.ARPOp = a.Op()
	p.Src, p.Dst = a.SenderIP(), a.TargetIP()
}

func parseIPv4(frame []byte, p *Parsed) {
	v := IPv4(frame[EthernetHeaderLen:])
	if !v.IsValid() {
		p.Reason = ReasonBadIPv4Header
		return
	}
	if !v.IsChecksumValid() {
		p.Reason = ReasonBadIPv4Checksum
		return
	}
	p.IPVersion = 4
	p.End = EthernetHeaderLen + int(v.TotalLen())
	p.Src, p.Dst = v.Src(), v.Dst()
	p.TTL = v.TTL()
	p.IPProto = v.Protocol()
	if !v.IsFragment() {
		parseL4(frame, p, EthernetHeaderLen+v.HeaderLen(), false)
		return
	}
	p.Reason = ReasonFragment
	if v.FragmentOffset() == 0 {
		parseL4(frame, p, EthernetHeaderLen+v.HeaderLen(), true)
	}
}

func parseIPv6(frame []byte, p *Parsed) {
	v := IPv6(frame[EthernetHeaderLen:])
	if !v.IsValid() {
		p.Reason = ReasonBadIPv6Header
		return
	}
	p.IPVersion = 6
	p.End = EthernetHeaderLen + IPv6HeaderLen + int(v.PayloadLen())
	p.Src, p.Dst = v.Src(), v.Dst()
	p.TTL = v.HopLimit()
	proto, off, r := SkipIPv6ExtHeaders(v.Payload(), v.NextHeader())
	p.IPProto = proto
	switch r {
	case ReasonNone:
		parseL4(frame, p, EthernetHeaderLen+IPv6HeaderLen+off, false)
	case ReasonFragment:
		p.Reason = ReasonFragment
		if off >= 0 {
			parseL4(frame, p, EthernetHeaderLen+IPv6HeaderLen+off, true)
		}
	default:
		p.Reason = r
	}
}

// parseL4 reads the transport header at off. For a first fragment the UDP
// length covers the whole datagram and is not checked, and the reason stays
// ReasonFragment unless the header itself is truncated.
func parseL4(frame []byte, p *Parsed, off int, fragment bool) {
	l4 := frame[off:p.End]
	switch p.IPProto {
	case ProtoUDP:
		if len(l4) < UDPHeaderLen {
			p.Reason = ReasonBadTransportHeader
			return
		}
		if n := int(binary.BigEndian.Uint16(l4[4:6])); !fragment && (n < UDPHeaderLen || n > len(l4)) {
			p.Reason = ReasonBadTransportHeader
			return
		}
		p.SrcPort, p.DstPort = UDP(l4).SrcPort(), UDP(l4).DstPort()
	case ProtoTCP:
		if len(l4) < TCPMinHeaderLen {
			p.Reason = ReasonBadTransportHeader
			return
		}
		if hl := TCP(l4).HeaderLen(); hl < TCPMinHeaderLen || hl > len(l4) {
			p.Reason = ReasonBadTransportHeader
			return
		}
		p.SrcPort, p.DstPort = TCP(l4).SrcPort(), TCP(l4).DstPort()
	case ProtoICMPv4, ProtoICMPv6:
		if (p.IPProto == ProtoICMPv4) != (p.IPVersion == 4) {
			break
		}
		if len(l4) < ICMPHeaderLen {
			p.Reason = ReasonBadTransportHeader
			return
		}
		p.ICMPType, p.ICMPCode = l4[0], l4[1]
	}
	p.L4Off = off
}
