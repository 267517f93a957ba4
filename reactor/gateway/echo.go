package gateway

import (
	"encoding/binary"

	"mvirt-net/reactor/packet"
)

// EchoReply answers an ICMP echo request to 169.254.0.1, or an ICMPv6 echo
// request to fe80::1 (or to the gateway's EUI-64 link-local from a
// link-local source), from the NIC. The request's checksum is verified; the
// reply carries the request's identifier, sequence number and data, without
// IP options or extension headers. p must come from packet.Parse of frame.
// It returns the length of the reply written to out, or 0.
func EchoReply(out, frame []byte, p *packet.Parsed, cfg *Config) int {
	if p.Reason != packet.ReasonNone || p.SrcMAC != cfg.MAC || p.ICMPCode != 0 || p.End > len(frame) {
		return 0
	}
	switch p.IPVersion {
	case 4:
		return echoReply4(out, frame, p)
	case 6:
		return echoReply6(out, frame, p)
	}
	return 0
}

func echoReply4(out, frame []byte, p *packet.Parsed) int {
	if p.IPProto != packet.ProtoICMPv4 || p.ICMPType != packet.ICMPv4Echo || p.Dst != IPv4 ||
		p.Src.IsUnspecified() || p.Src.IsMulticast() || p.Src == Broadcast4 {
		return 0
	}
	req := p.L4(frame)
	const hdr = packet.EthernetHeaderLen + packet.IPv4MinHeaderLen
	n := hdr + len(req)
	if n > len(out) || packet.Checksum(req, 0) != 0xffff {
		return 0
	}
	packet.Ethernet(out).Encode(p.SrcMAC, MAC, packet.EtherTypeIPv4)
	packet.IPv4(out[packet.EthernetHeaderLen:]).Encode(&packet.IPv4Fields{
		TOS:      packet.IPv4(p.L3(frame)).TOS(),
		TotalLen: uint16(packet.IPv4MinHeaderLen + len(req)),
		TTL:      packet.IPv4DefaultTTL,
		Protocol: packet.ProtoICMPv4,
		Src:      IPv4,
		Dst:      p.Src,
	})
	return hdr + setEchoReply(out[hdr:n], req, packet.ICMPv4EchoReply)
}

func echoReply6(out, frame []byte, p *packet.Parsed) int {
	if p.IPProto != packet.ProtoICMPv6 || p.ICMPType != packet.ICMPv6EchoRequest || !IsGatewayIPv6(p.Dst, p.Src) ||
		p.Src.IsUnspecified() || p.Src.IsMulticast() {
		return 0
	}
	req := p.L4(frame)
	const hdr = packet.EthernetHeaderLen + packet.IPv6HeaderLen
	n := hdr + len(req)
	if n > len(out) || packet.TransportChecksum(packet.ProtoICMPv6, p.Src, p.Dst, req) != 0 {
		return 0
	}
	packet.Ethernet(out).Encode(p.SrcMAC, MAC, packet.EtherTypeIPv6)
	packet.IPv6(out[packet.EthernetHeaderLen:]).Encode(&packet.IPv6Fields{
		PayloadLen: uint16(len(req)),
		NextHeader: packet.ProtoICMPv6,
		HopLimit:   packet.IPv6DefaultHopLimit,
		Src:        p.Dst,
		Dst:        p.Src,
	})
	// The pseudo-header sum does not change when source and destination
	// swap, so the reply's checksum follows from the type change alone.
	return hdr + setEchoReply(out[hdr:n], req, packet.ICMPv6EchoReply)
}

// setEchoReply copies the request into m, sets the reply type and fixes the
// checksum incrementally (the request's was verified). It returns len(m).
func setEchoReply(m, req []byte, typ uint8) int {
	copy(m, req)
	c := packet.ICMP(m)
	old := binary.BigEndian.Uint16(m[0:2])
	c.SetType(typ)
	c.SetChecksum(packet.ChecksumUpdate(c.Checksum(), old, binary.BigEndian.Uint16(m[0:2])))
	return len(m)
}
