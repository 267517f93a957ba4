package ndp

import (
	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
)

// naLen is the length of the Neighbor Advertisement frame the gateway sends:
// the message and one target link-layer address option.
const naLen = packet.EthernetHeaderLen + packet.IPv6HeaderLen + packet.NDPNeighborAdvertLen + packet.NDPLinkLayerOptionLen

// NeighborAdvert answers a Neighbor Solicitation from the NIC with a
// Neighbor Advertisement naming the gateway's MAC (flags router, solicited,
// override) for any target but the asker's own addresses: the NS source and
// the NIC's /128. Duplicate address detection (source ::) is answered only
// when it probes one of the gateway's own addresses, which the gateway then
// defends with an unsolicited advertisement to all nodes; a VM checking its
// own tentative address hears nothing, so DAD succeeds. The NS is validated
// as RFC 4861 §7.1.1 requires. p must come from packet.Parse of frame. It
// returns the length of the frame written to out, or 0.
func NeighborAdvert(out, frame []byte, p *packet.Parsed, cfg *gateway.Config) int {
	if !validNDP(frame, p, packet.ICMPv6NeighborSolicit, packet.NDPNeighborSolicitLen, cfg) || len(out) < naLen {
		return 0
	}
	ns := packet.NDPNeighborSolicit(p.L4(frame))
	target := ns.Target()
	if target.IsMulticast() || !target.Is6() || target.Is4In6() || target.IsUnspecified() || target.IsLoopback() {
		return 0
	}
	opts := ns.Options()
	if !opts.IsValid() {
		return 0
	}
	src := gateway.IPv6
	dstMAC, dst := p.SrcMAC, p.Src
	flags := packet.NDPFlagRouter | packet.NDPFlagSolicited | packet.NDPFlagOverride
	if target == gateway.IPv6 || target == gateway.IPv6LinkLocal {
		src = target
	}
	if p.Src.IsUnspecified() {
		// DAD: the NS must go to the target's solicited-node group and carry
		// no source link-layer address (RFC 4861 §7.1.1).
		if _, ok := opts.SourceLinkLayer(); ok || p.Dst != solicitedNode(target) || src != target {
			return 0
		}
		dstMAC, dst = packet.IPv6MulticastMAC(gateway.AllNodes), gateway.AllNodes
		flags &^= packet.NDPFlagSolicited
	} else if target == p.Src || target == cfg.IPv6 {
		return 0
	}

	packet.Ethernet(out).Encode(dstMAC, gateway.MAC, packet.EtherTypeIPv6)
	packet.IPv6(out[packet.EthernetHeaderLen:]).Encode(&packet.IPv6Fields{
		PayloadLen: packet.NDPNeighborAdvertLen + packet.NDPLinkLayerOptionLen,
		NextHeader: packet.ProtoICMPv6,
		HopLimit:   packet.NDPHopLimit,
		Src:        src,
		Dst:        dst,
	})
	m := out[packet.EthernetHeaderLen+packet.IPv6HeaderLen : naLen]
	packet.NDPNeighborAdvert(m).Encode(flags, target)
	packet.PutNDPLinkLayerOption(m[packet.NDPNeighborAdvertLen:], packet.NDPOptTargetLinkLayer, gateway.MAC)
	packet.ICMP(m).SetChecksum(packet.TransportChecksum(packet.ProtoICMPv6, src, dst, m))
	return naLen
}
