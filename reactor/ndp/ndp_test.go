package ndp

import (
	"net/netip"
	"testing"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

var (
	nicMAC = packet.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	nicLL  = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
	nic6   = netip.MustParseAddr("2001:db8::5")
	peer6  = netip.MustParseAddr("2001:db8::9")
	cfg    = gateway.Config{MAC: nicMAC, IPv4: netip.MustParseAddr("10.0.0.5"), IPv6: nic6}
	dns    = []netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::35")}
)

func parse(f []byte) *packet.Parsed {
	var p packet.Parsed
	packet.Parse(f, &p)
	return &p
}

// nsBody is an NS after its checksum: reserved, target, options.
func nsBody(target netip.Addr, opts ...byte) []byte {
	t := target.As16()
	return append(append(make([]byte, 4), t[:]...), opts...)
}

func slla(m packet.MAC) []byte { return append([]byte{packet.NDPOptSourceLinkLayer, 1}, m[:]...) }

// ns builds a Neighbor Solicitation from src to dst, or to the target's
// solicited-node group when dst is solicited.
func ns(src, dst, target netip.Addr, hopLimit uint8, opts ...byte) []byte {
	if dst == solicited {
		dst = solicitedNode(target)
	}
	dstMAC := gateway.MAC
	if dst.IsMulticast() {
		dstMAC = packet.IPv6MulticastMAC(dst)
	}
	return packettest.ICMPv6(nicMAC, dstMAC, src, dst, hopLimit, packet.ICMPv6NeighborSolicit, 0, nsBody(target, opts...))
}

// solicited stands for the target's solicited-node group in ns.
var solicited netip.Addr

func TestNeighborAdvert(t *testing.T) {
	out := make([]byte, 1514)
	cases := []struct {
		name       string
		frame      []byte
		target     netip.Addr
		src, dst   netip.Addr
		dstMAC     packet.MAC
		flags      uint8
		noResponse bool
	}{
		{name: "fe80::1 from link-local", frame: ns(nicLL, solicited, gateway.IPv6, 255, slla(nicMAC)...),
			target: gateway.IPv6, src: gateway.IPv6, dst: nicLL, dstMAC: nicMAC, flags: 0xe0},
		{name: "fe80::1 without SLLA", frame: ns(nicLL, solicited, gateway.IPv6, 255),
			target: gateway.IPv6, src: gateway.IPv6, dst: nicLL, dstMAC: nicMAC, flags: 0xe0},
		{name: "unicast NUD of fe80::1", frame: ns(nic6, gateway.IPv6, gateway.IPv6, 255, slla(nicMAC)...),
			target: gateway.IPv6, src: gateway.IPv6, dst: nic6, dstMAC: nicMAC, flags: 0xe0},
		{name: "gateway EUI-64 link-local", frame: ns(nicLL, solicited, gateway.IPv6LinkLocal, 255),
			target: gateway.IPv6LinkLocal, src: gateway.IPv6LinkLocal, dst: nicLL, dstMAC: nicMAC, flags: 0xe0},
		{name: "another VM's address", frame: ns(nic6, solicited, peer6, 255, slla(nicMAC)...),
			target: peer6, src: gateway.IPv6, dst: nic6, dstMAC: nicMAC, flags: 0xe0},
		{name: "DAD of fe80::1 is defended", frame: ns(netip.IPv6Unspecified(), solicited, gateway.IPv6, 255),
			target: gateway.IPv6, src: gateway.IPv6, dst: gateway.AllNodes, dstMAC: packet.MAC{0x33, 0x33, 0, 0, 0, 1},
			flags: packet.NDPFlagRouter | packet.NDPFlagOverride},
		{name: "DAD of own link-local", frame: ns(netip.IPv6Unspecified(), solicited, nicLL, 255), noResponse: true},
		{name: "DAD of own /128", frame: ns(netip.IPv6Unspecified(), solicited, nic6, 255), noResponse: true},
		{name: "DAD of another address", frame: ns(netip.IPv6Unspecified(), solicited, peer6, 255), noResponse: true},
		{name: "DAD with SLLA", frame: ns(netip.IPv6Unspecified(), solicited, gateway.IPv6, 255, slla(nicMAC)...), noResponse: true},
		{name: "DAD not to solicited-node", frame: ns(netip.IPv6Unspecified(), gateway.AllNodes, gateway.IPv6, 255), noResponse: true},
		{name: "asker's own address", frame: ns(nic6, solicited, nic6, 255), noResponse: true},
		{name: "NIC's /128 from link-local", frame: ns(nicLL, solicited, nic6, 255), noResponse: true},
		{name: "hop limit 64", frame: ns(nicLL, solicited, gateway.IPv6, 64), noResponse: true},
		{name: "multicast target", frame: ns(nicLL, gateway.IPv6, gateway.AllNodes, 255), noResponse: true},
		{name: "zero-length option", frame: ns(nicLL, solicited, gateway.IPv6, 255, 1, 0, 0, 0, 0, 0, 0, 0), noResponse: true},
		{name: "truncated", frame: packettest.ICMPv6(nicMAC, gateway.MAC, nicLL, gateway.IPv6, 255, packet.ICMPv6NeighborSolicit, 0, make([]byte, 12)), noResponse: true},
		{name: "code 1", frame: packettest.ICMPv6(nicMAC, gateway.MAC, nicLL, gateway.IPv6, 255, packet.ICMPv6NeighborSolicit, 1, nsBody(gateway.IPv6)), noResponse: true},
		{name: "bad checksum", frame: func() []byte { f := ns(nicLL, solicited, gateway.IPv6, 255); f[len(f)-1] ^= 1; return f }(), noResponse: true},
		{name: "spoofed MAC", frame: func() []byte { f := ns(nicLL, solicited, gateway.IPv6, 255); f[11] = 0x99; return f }(), noResponse: true},
		{name: "RS is not an NS", frame: packettest.ICMPv6(nicMAC, gateway.MAC, nicLL, gateway.IPv6, 255, packet.ICMPv6RouterSolicit, 0, make([]byte, 4)), noResponse: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NeighborAdvert(out, tc.frame, parse(tc.frame), &cfg)
			if tc.noResponse {
				if n != 0 {
					t.Fatalf("answered with %d bytes", n)
				}
				return
			}
			if n != naLen {
				t.Fatalf("NA length %d", n)
			}
			p := packettest.Check(t, out[:n])
			if p.SrcMAC != gateway.MAC || p.DstMAC != tc.dstMAC || p.Src != tc.src || p.Dst != tc.dst ||
				p.TTL != 255 || p.ICMPType != packet.ICMPv6NeighborAdvert || p.ICMPCode != 0 {
				t.Errorf("NA %+v", p)
			}
			na := packet.NDPNeighborAdvert(p.L4(out[:n]))
			if na.Target() != tc.target || na.Flags() != tc.flags {
				t.Errorf("target %v flags %#x, want %v %#x", na.Target(), na.Flags(), tc.target, tc.flags)
			}
			if m, ok := na.Options().TargetLinkLayer(); !ok || m != gateway.MAC {
				t.Errorf("TLLA %v %v", m, ok)
			}
		})
	}
	f := ns(nicLL, solicited, gateway.IPv6, 255)
	if n := NeighborAdvert(out[:naLen-1], f, parse(f), &cfg); n != 0 {
		t.Errorf("wrote into a too small buffer")
	}
}

func rs(src netip.Addr, hopLimit uint8, opts ...byte) []byte {
	allRouters := netip.MustParseAddr("ff02::2")
	return packettest.ICMPv6(nicMAC, packet.IPv6MulticastMAC(allRouters), src, allRouters, hopLimit,
		packet.ICMPv6RouterSolicit, 0, append(make([]byte, 4), opts...))
}

// checkRA checks a Router Advertisement frame and returns its options.
func checkRA(t *testing.T, f []byte, dstMAC packet.MAC, dst netip.Addr, lifetime uint16) packet.NDPOptions {
	t.Helper()
	p := packettest.Check(t, f)
	if p.SrcMAC != gateway.MAC || p.DstMAC != dstMAC || p.Src != gateway.IPv6 || p.Dst != dst ||
		p.TTL != 255 || p.ICMPType != packet.ICMPv6RouterAdvert || p.ICMPCode != 0 {
		t.Errorf("RA %+v", p)
	}
	ra := packet.NDPRouterAdvert(p.L4(f))
	if ra.Flags() != packet.NDPFlagManaged|packet.NDPFlagOtherConfig || ra.RouterLifetime() != lifetime ||
		ra.CurHopLimit() != 64 || ra.ReachableTime() != 0 || ra.RetransTimer() != 0 {
		t.Errorf("RA flags %#x lifetime %d hop limit %d", ra.Flags(), ra.RouterLifetime(), ra.CurHopLimit())
	}
	o := ra.Options()
	if !o.IsValid() {
		t.Fatalf("RA options invalid: % x", o)
	}
	if m, ok := o.SourceLinkLayer(); !ok || m != gateway.MAC {
		t.Errorf("SLLA %v %v", m, ok)
	}
	return o
}

func TestRouterAdvertReply(t *testing.T) {
	out := make([]byte, MaxRALen)
	ra := RAConfig{MTU: 1450, DNS: dns}

	f := rs(nicLL, 255, slla(nicMAC)...)
	n := RouterAdvertReply(out, f, parse(f), &cfg, &ra)
	o := checkRA(t, out[:n], nicMAC, nicLL, 1800)
	mtu, ok := o.Find(packet.NDPOptMTU)
	if !ok || mtu[2] != 0 || mtu[3] != 0 || mtu[4] != 0x05 || mtu[5] != 0xaa {
		t.Errorf("MTU option % x", mtu)
	}
	r, ok := o.Find(packet.NDPOptRDNSS)
	if !ok || len(r) != 6+32 {
		t.Fatalf("RDNSS option % x", r)
	}
	if life := uint32(r[2])<<24 | uint32(r[3])<<16 | uint32(r[4])<<8 | uint32(r[5]); life != 1800 {
		t.Errorf("RDNSS lifetime %d", life)
	}
	if a, b := netip.AddrFrom16([16]byte(r[6:22])), netip.AddrFrom16([16]byte(r[22:38])); a != dns[0] || b != dns[2] {
		t.Errorf("RDNSS servers %v %v", a, b)
	}

	// From ::, the answer goes to all nodes.
	f = rs(netip.IPv6Unspecified(), 255)
	n = RouterAdvertReply(out, f, parse(f), &cfg, &RAConfig{RouterLifetime: 600})
	o = checkRA(t, out[:n], packet.MAC{0x33, 0x33, 0, 0, 0, 1}, gateway.AllNodes, 600)
	if _, ok := o.Find(packet.NDPOptMTU); ok {
		t.Errorf("MTU option without an MTU")
	}
	if _, ok := o.Find(packet.NDPOptRDNSS); ok {
		t.Errorf("RDNSS option without DNS servers")
	}

	noReply := map[string][]byte{
		"unspecified source with SLLA": rs(netip.IPv6Unspecified(), 255, slla(nicMAC)...),
		"hop limit 1":                  rs(nicLL, 1),
		"zero-length option":           rs(nicLL, 255, 1, 0, 0, 0, 0, 0, 0, 0),
		"bad checksum":                 func() []byte { f := rs(nicLL, 255); f[len(f)-1] ^= 1; return f }(),
		"NS":                           ns(nicLL, solicited, gateway.IPv6, 255),
	}
	for name, f := range noReply {
		if n := RouterAdvertReply(out, f, parse(f), &cfg, &ra); n != 0 {
			t.Errorf("%s: answered (%d bytes)", name, n)
		}
	}
}

func TestPeriodicRouterAdvert(t *testing.T) {
	out := make([]byte, MaxRALen)
	n := PeriodicRouterAdvert(out, &RAConfig{DNS: dns[:1], DNSLifetime: 300})
	o := checkRA(t, out[:n], packet.MAC{0x33, 0x33, 0, 0, 0, 1}, gateway.AllNodes, DefaultRouterLifetime)
	if r, ok := o.Find(packet.NDPOptRDNSS); !ok || len(r) != 22 || r[5] != 44 || r[4] != 1 {
		t.Errorf("RDNSS option % x", r)
	}
	if PeriodicRouterAdvert(out[:50], &RAConfig{}) != 0 {
		t.Errorf("wrote into a too small buffer")
	}
	many := make([]netip.Addr, MaxDNSServers)
	for i := range many {
		many[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)})
	}
	if n := PeriodicRouterAdvert(out, &RAConfig{MTU: 9000, DNS: many}); n != MaxRALen {
		t.Errorf("largest RA is %d bytes, MaxRALen %d", n, MaxRALen)
	}
}

func TestRAConfigValidate(t *testing.T) {
	if err := (&RAConfig{MTU: 1500, DNS: dns}).Validate(); err != nil {
		t.Error(err)
	}
	if err := (&RAConfig{MTU: 1000}).Validate(); err == nil {
		t.Error("MTU 1000 accepted")
	}
	many := make([]netip.Addr, MaxDNSServers+1)
	for i := range many {
		many[i] = netip.IPv6Loopback()
	}
	if err := (&RAConfig{DNS: many}).Validate(); err == nil {
		t.Error("too many DNS servers accepted")
	}
}

func TestSolicitedNode(t *testing.T) {
	if got := solicitedNode(netip.MustParseAddr("2001:db8::1:2345:6789")); got.String() != "ff02::1:ff45:6789" {
		t.Errorf("solicited-node group %v", got)
	}
}
