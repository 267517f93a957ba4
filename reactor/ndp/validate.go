package ndp

import (
	"net/netip"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
)

// validNDP checks what RFC 4861 §6.1.1 and §7.1.1 require of every
// solicitation: sent by the NIC, hop limit 255, code 0, long enough, correct
// checksum, and a source that is either unspecified or a unicast address.
func validNDP(frame []byte, p *packet.Parsed, typ uint8, minLen int, cfg *gateway.Config) bool {
	if p.Reason != packet.ReasonNone || p.IPVersion != 6 || p.IPProto != packet.ProtoICMPv6 ||
		p.ICMPType != typ || p.ICMPCode != 0 || p.TTL != packet.NDPHopLimit ||
		p.SrcMAC != cfg.MAC || p.End > len(frame) || p.Src.IsMulticast() {
		return false
	}
	m := p.L4(frame)
	return len(m) >= minLen && packet.TransportChecksum(packet.ProtoICMPv6, p.Src, p.Dst, m) == 0
}

// solicitedNode returns the solicited-node multicast group of a
// (ff02::1:ffXX:XXXX, RFC 4291 §2.7.1).
func solicitedNode(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}
