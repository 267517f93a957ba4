// Package packettest builds frames for tests and checks the frames the
// reactor's packet logic writes: every checksum, every length. It is
// imported only by tests.
package packettest

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"mvirt-net/reactor/packet"
)

// IPv4 returns an Ethernet frame carrying an IPv4 packet with the given
// transport message l4, copied as is, and a correct header checksum.
func IPv4(srcMAC, dstMAC packet.MAC, src, dst netip.Addr, proto, ttl uint8, l4 []byte) []byte {
	b := make([]byte, packet.EthernetHeaderLen+packet.IPv4MinHeaderLen+len(l4))
	packet.Ethernet(b).Encode(dstMAC, srcMAC, packet.EtherTypeIPv4)
	packet.IPv4(b[packet.EthernetHeaderLen:]).Encode(&packet.IPv4Fields{
		TotalLen: uint16(packet.IPv4MinHeaderLen + len(l4)),
		ID:       0x1234,
		TTL:      ttl,
		Protocol: proto,
		Src:      src,
		Dst:      dst,
	})
	copy(b[packet.EthernetHeaderLen+packet.IPv4MinHeaderLen:], l4)
	return b
}

// IPv6 returns an Ethernet frame carrying an IPv6 packet whose payload
// (extension headers and transport message) is copied as is.
func IPv6(srcMAC, dstMAC packet.MAC, src, dst netip.Addr, next, hopLimit uint8, payload []byte) []byte {
	b := make([]byte, packet.EthernetHeaderLen+packet.IPv6HeaderLen+len(payload))
	packet.Ethernet(b).Encode(dstMAC, srcMAC, packet.EtherTypeIPv6)
	packet.IPv6(b[packet.EthernetHeaderLen:]).Encode(&packet.IPv6Fields{
		PayloadLen: uint16(len(payload)),
		NextHeader: next,
		HopLimit:   hopLimit,
		Src:        src,
		Dst:        dst,
	})
	copy(b[packet.EthernetHeaderLen+packet.IPv6HeaderLen:], payload)
	return b
}

// ICMPv4 returns an Ethernet frame carrying an ICMPv4 message of the given
// type and code; rest is the message after the checksum field. The checksum
// is computed.
func ICMPv4(srcMAC, dstMAC packet.MAC, src, dst netip.Addr, typ, code uint8, rest []byte) []byte {
	m := append([]byte{typ, code, 0, 0}, rest...)
	binary.BigEndian.PutUint16(m[2:4], ^packet.Checksum(m, 0))
	return IPv4(srcMAC, dstMAC, src, dst, packet.ProtoICMPv4, 64, m)
}

// ICMPv6 returns an Ethernet frame carrying an ICMPv6 message of the given
// type and code; rest is the message after the checksum field. The checksum
// is computed.
func ICMPv6(srcMAC, dstMAC packet.MAC, src, dst netip.Addr, hopLimit, typ, code uint8, rest []byte) []byte {
	m := append([]byte{typ, code, 0, 0}, rest...)
	binary.BigEndian.PutUint16(m[2:4], packet.TransportChecksum(packet.ProtoICMPv6, src, dst, m))
	return IPv6(srcMAC, dstMAC, src, dst, packet.ProtoICMPv6, hopLimit, m)
}

// Echo returns the body of an echo request or reply (after the checksum):
// identifier, sequence number and data.
func Echo(id, seq uint16, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, seq)
	return append(b, data...)
}

// UDP returns an Ethernet frame carrying a UDP datagram with correct
// checksums, IPv4 or IPv6 after the family of src and dst.
func UDP(srcMAC, dstMAC packet.MAC, src, dst netip.Addr, srcPort, dstPort uint16, payload []byte) []byte {
	b := make([]byte, 14+40+8+len(payload))
	n := packet.PutUDPFrame(b, &packet.UDPFrame{
		SrcMAC: srcMAC, DstMAC: dstMAC, Src: src, Dst: dst, SrcPort: srcPort, DstPort: dstPort,
	}, payload)
	return b[:n]
}

// ARP returns an Ethernet frame carrying an ARP message. The Ethernet
// destination is broadcast for a request and targetMAC for a reply.
func ARP(op uint16, senderMAC packet.MAC, senderIP netip.Addr, targetMAC packet.MAC, targetIP netip.Addr) []byte {
	b := make([]byte, packet.EthernetHeaderLen+packet.ARPLen)
	dst := packet.BroadcastMAC
	if op == packet.ARPReply {
		dst = targetMAC
	}
	packet.Ethernet(b).Encode(dst, senderMAC, packet.EtherTypeARP)
	packet.ARP(b[packet.EthernetHeaderLen:]).Encode(op, senderMAC, senderIP, targetMAC, targetIP)
	return b
}

// Check parses frame, fails tb unless it parses completely, has no Ethernet
// padding and carries correct IPv4 header and transport checksums (UDP, TCP,
// ICMPv4, ICMPv6), and returns what Parse found.
func Check(tb testing.TB, frame []byte) packet.Parsed {
	tb.Helper()
	var p packet.Parsed
	packet.Parse(frame, &p)
	if p.Reason != packet.ReasonNone {
		tb.Fatalf("frame does not parse: %v\n% x", p.Reason, frame)
	}
	if p.End != len(frame) {
		tb.Errorf("frame is %d bytes, packet ends at %d", len(frame), p.End)
	}
	if p.IPVersion == 0 {
		return p
	}
	l4 := p.L4(frame)
	switch {
	case p.IPProto == packet.ProtoICMPv4 && p.IPVersion == 4:
		if c := ^packet.Checksum(l4, 0); c != 0 {
			tb.Errorf("ICMPv4 checksum wrong (residue %#04x)", c)
		}
	case p.IPProto == packet.ProtoUDP || p.IPProto == packet.ProtoTCP || p.IPProto == packet.ProtoICMPv6:
		if p.IPProto == packet.ProtoUDP && packet.UDP(l4).Checksum() == 0 {
			tb.Errorf("UDP checksum missing")
		}
		if c := packet.TransportChecksum(p.IPProto, p.Src, p.Dst, l4); c != 0 {
			tb.Errorf("protocol %d checksum wrong (residue %#04x)", p.IPProto, c)
		}
	}
	return p
}
