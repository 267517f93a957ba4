package packet

import "net/netip"

// UDPFrame describes the headers of an Ethernet / IP / UDP frame to build.
// Src and Dst are both IPv4 or both IPv6 addresses.
type UDPFrame struct {
	SrcMAC  MAC
	DstMAC  MAC
	Src     netip.Addr
	Dst     netip.Addr
	SrcPort uint16
	DstPort uint16
	// TTL is the IPv4 TTL or IPv6 hop limit; 0 selects 64.
	TTL uint8
}

// PutUDPFrame writes into out a frame with the headers f describes, payload,
// and correct IPv4 and UDP checksums. It returns the frame's length, or 0 if
// out is too small, the payload too long or the addresses of mixed or
// unknown families. out must not overlap payload.
func PutUDPFrame(out []byte, f *UDPFrame, payload []byte) int {
	ttl := f.TTL
	if ttl == 0 {
		ttl = IPv4DefaultTTL
	}
	udpLen := UDPHeaderLen + len(payload)
	var l3 int
	switch {
	case f.Src.Is4() && f.Dst.Is4():
		l3 = IPv4MinHeaderLen
	case f.Src.Is6() && f.Dst.Is6():
		l3 = IPv6HeaderLen
	default:
		return 0
	}
	n := EthernetHeaderLen + l3 + udpLen
	if n > len(out) || l3+udpLen > 0xffff {
		return 0
	}
	if l3 == IPv4MinHeaderLen {
		Ethernet(out).Encode(f.DstMAC, f.SrcMAC, EtherTypeIPv4)
		IPv4(out[EthernetHeaderLen:]).Encode(&IPv4Fields{
			TotalLen: uint16(l3 + udpLen),
			TTL:      ttl,
			Protocol: ProtoUDP,
			Src:      f.Src,
			Dst:      f.Dst,
		})
	} else {
		Ethernet(out).Encode(f.DstMAC, f.SrcMAC, EtherTypeIPv6)
		IPv6(out[EthernetHeaderLen:]).Encode(&IPv6Fields{
			PayloadLen: uint16(udpLen),
			NextHeader: ProtoUDP,
			HopLimit:   ttl,
			Src:        f.Src,
			Dst:        f.Dst,
		})
	}
	u := UDP(out[EthernetHeaderLen+l3 : n])
	u.Encode(f.SrcPort, f.DstPort, uint16(udpLen))
	copy(u[UDPHeaderLen:], payload)
	c := TransportChecksum(ProtoUDP, f.Src, f.Dst, u)
	if c == 0 {
		c = 0xffff
	}
	u.SetChecksum(c)
	return n
}
