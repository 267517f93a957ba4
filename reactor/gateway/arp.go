package gateway

import "mvirt-net/reactor/packet"

// arpReplyLen is the length of the ARP reply frame, without padding: the
// frame goes over virtio, which needs none.
const arpReplyLen = packet.EthernetHeaderLen + packet.ARPLen

// ARPReply answers an ARP request from the NIC with the gateway's MAC for
// every target address except the asker's own: requests whose target is the
// sender address or the NIC's /32 (gratuitous ARP, announcements) and probes
// (sender 0.0.0.0, RFC 5227) get no reply, so that duplicate address
// detection succeeds. p must come from packet.Parse of frame. It returns the
// length of the reply written to out, or 0.
func ARPReply(out, frame []byte, p *packet.Parsed, cfg *Config) int {
	if p.Reason != packet.ReasonNone || p.EtherType != packet.EtherTypeARP || p.ARPOp != packet.ARPRequest ||
		p.SrcMAC != cfg.MAC || len(out) < arpReplyLen || p.End > len(frame) {
		return 0
	}
	if packet.ARP(p.L3(frame)).SenderMAC() != cfg.MAC {
		return 0
	}
	sender, target := p.Src, p.Dst
	if sender.IsUnspecified() || target == sender || target == cfg.IPv4 ||
		target.IsUnspecified() || target.IsMulticast() || target == Broadcast4 {
		return 0
	}
	packet.Ethernet(out).Encode(cfg.MAC, MAC, packet.EtherTypeARP)
	packet.ARP(out[packet.EthernetHeaderLen:]).Encode(packet.ARPReply, MAC, target, cfg.MAC, sender)
	return arpReplyLen
}
