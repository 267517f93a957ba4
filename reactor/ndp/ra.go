package ndp

import (
	"errors"
	"fmt"
	"net/netip"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
)

// Defaults for RAConfig fields left zero.
const (
	// DefaultRouterLifetime is the router lifetime advertised: 30 minutes.
	DefaultRouterLifetime = 1800
	// DefaultCurHopLimit is the hop limit advertised to hosts.
	DefaultCurHopLimit = 64
	// MaxDNSServers bounds the RDNSS option so that an RA always fits in
	// MaxRALen.
	MaxDNSServers = 8
	// MaxRALen is the largest RA frame RouterAdvert writes.
	MaxRALen = packet.EthernetHeaderLen + packet.IPv6HeaderLen + packet.NDPRouterAdvertLen +
		packet.NDPLinkLayerOptionLen + packet.NDPMTUOptionLen + 8 + 16*MaxDNSServers
)

// RAConfig is what Router Advertisements tell a VM besides the fixed parts
// (M=1, O=1, source fe80::1 and the gateway's MAC).
type RAConfig struct {
	// RouterLifetime in seconds; 0 selects DefaultRouterLifetime.
	RouterLifetime uint16
	// CurHopLimit advertised to hosts; 0 selects DefaultCurHopLimit.
	CurHopLimit uint8
	// MTU advertised in an MTU option; 0 omits the option.
	MTU uint32
	// DNS lists recursive DNS servers; the IPv6 ones are advertised in an
	// RDNSS option (RFC 8106), at most MaxDNSServers of them.
	DNS []netip.Addr
	// DNSLifetime in seconds; 0 selects the router lifetime.
	DNSLifetime uint32
}

// Validate reports whether c can be advertised.
func (c *RAConfig) Validate() error {
	n := 0
	for _, a := range c.DNS {
		if a.Is6() && !a.Is4In6() {
			n++
		}
	}
	if n > MaxDNSServers {
		return fmt.Errorf("router advertisement config: %d IPv6 DNS servers, at most %d fit", n, MaxDNSServers)
	}
	if c.MTU != 0 && c.MTU < packet.IPv6MinMTU {
		return errors.New("router advertisement config: MTU below the IPv6 minimum of 1280")
	}
	return nil
}

// RouterAdvert writes into out a Router Advertisement from fe80::1 to dst
// (ff02::1 for periodic sending) at dstMAC and returns the frame's length,
// or 0 if out is too small (MaxRALen is always enough).
func RouterAdvert(out []byte, dstMAC packet.MAC, dst netip.Addr, ra *RAConfig) int {
	const hdr = packet.EthernetHeaderLen + packet.IPv6HeaderLen
	if len(out) < hdr+packet.NDPRouterAdvertLen+packet.NDPLinkLayerOptionLen {
		return 0
	}
	lifetime := ra.RouterLifetime
	if lifetime == 0 {
		lifetime = DefaultRouterLifetime
	}
	hopLimit := ra.CurHopLimit
	if hopLimit == 0 {
		hopLimit = DefaultCurHopLimit
	}
	dnsLifetime := ra.DNSLifetime
	if dnsLifetime == 0 {
		dnsLifetime = uint32(lifetime)
	}
	m := out[hdr:]
	packet.NDPRouterAdvert(m).Encode(hopLimit, packet.NDPFlagManaged|packet.NDPFlagOtherConfig, lifetime, 0, 0)
	n := packet.NDPRouterAdvertLen
	n += packet.PutNDPLinkLayerOption(m[n:], packet.NDPOptSourceLinkLayer, gateway.MAC)
	if ra.MTU != 0 {
		n += packet.PutNDPMTUOption(m[n:], ra.MTU)
	}
	n += packet.PutNDPRDNSSOption(m[n:], dnsLifetime, ra.DNS)
	m = m[:n]

	packet.Ethernet(out).Encode(dstMAC, gateway.MAC, packet.EtherTypeIPv6)
	packet.IPv6(out[packet.EthernetHeaderLen:]).Encode(&packet.IPv6Fields{
		PayloadLen: uint16(n),
		NextHeader: packet.ProtoICMPv6,
		HopLimit:   packet.NDPHopLimit,
		Src:        gateway.IPv6,
		Dst:        dst,
	})
	packet.ICMP(m).SetChecksum(packet.TransportChecksum(packet.ProtoICMPv6, gateway.IPv6, dst, m))
	return hdr + n
}

// PeriodicRouterAdvert writes an unsolicited Router Advertisement to all
// nodes (ff02::1) into out and returns its length.
func PeriodicRouterAdvert(out []byte, ra *RAConfig) int {
	return RouterAdvert(out, packet.IPv6MulticastMAC(gateway.AllNodes), gateway.AllNodes, ra)
}

// RouterAdvertReply answers a Router Solicitation from the NIC, validated as
// RFC 4861 §6.1.1 requires, with a Router Advertisement unicast to the
// asker, or to all nodes when the RS came from the unspecified address. p
// must come from packet.Parse of frame. It returns the length of the frame
// written to out, or 0.
func RouterAdvertReply(out, frame []byte, p *packet.Parsed, cfg *gateway.Config, ra *RAConfig) int {
	if !validNDP(frame, p, packet.ICMPv6RouterSolicit, packet.NDPRouterSolicitLen, cfg) {
		return 0
	}
	opts := packet.NDPRouterSolicit(p.L4(frame)).Options()
	if !opts.IsValid() {
		return 0
	}
	if p.Src.IsUnspecified() {
		if _, ok := opts.SourceLinkLayer(); ok {
			return 0
		}
		return PeriodicRouterAdvert(out, ra)
	}
	return RouterAdvert(out, p.SrcMAC, p.Src, ra)
}
