package gateway

import (
	"bytes"
	"net/netip"
	"testing"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

var (
	nicMAC = packet.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	nic4   = netip.MustParseAddr("10.0.0.5")
	nic6   = netip.MustParseAddr("2001:db8::5")
	nicLL  = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
	peer4  = netip.MustParseAddr("10.0.0.9")
	peer6  = netip.MustParseAddr("2001:db8::9")
	cfg    = Config{MAC: nicMAC, IPv4: nic4, IPv6: nic6}
)

func parse(f []byte) *packet.Parsed {
	var p packet.Parsed
	packet.Parse(f, &p)
	return &p
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct {
		got  netip.Addr
		want string
	}{
		{IPv4, "169.254.0.1"}, {IPv6, "fe80::1"}, {IPv6LinkLocal, "fe80::ff:fe00:1"},
		{AllNodes, "ff02::1"}, {AllDHCPAgents, "ff02::1:2"}, {Broadcast4, "255.255.255.255"},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("got %v, want %s", tc.got, tc.want)
		}
	}
	if MAC.String() != "02:00:00:00:00:01" {
		t.Errorf("MAC %v", MAC)
	}
}

func TestConfigValidate(t *testing.T) {
	good := []Config{cfg, {MAC: nicMAC}, {MAC: nicMAC, IPv6: nic6}}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := []Config{
		{},
		{MAC: packet.BroadcastMAC},
		{MAC: MAC},
		{MAC: nicMAC, IPv4: IPv4},
		{MAC: nicMAC, IPv4: nic6},
		{MAC: nicMAC, IPv4: netip.MustParseAddr("224.0.0.1")},
		{MAC: nicMAC, IPv6: nic4},
		{MAC: nicMAC, IPv6: nicLL},
		{MAC: nicMAC, IPv6: netip.MustParseAddr("::ffff:10.0.0.5")},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestARPReply(t *testing.T) {
	out := make([]byte, 1514)
	n := ARPReply(out, packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, IPv4), parse(
		packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, IPv4)), &cfg)
	if n != 42 {
		t.Fatalf("reply length %d", n)
	}
	want := packettest.ARP(packet.ARPReply, MAC, IPv4, nicMAC, nic4)
	if !bytes.Equal(out[:n], want) {
		t.Errorf("reply\n% x\nwant\n% x", out[:n], want)
	}

	// Any other target is answered with the gateway's MAC too.
	req := packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, peer4)
	if n := ARPReply(out, req, parse(req), &cfg); n != 42 ||
		!bytes.Equal(out[:n], packettest.ARP(packet.ARPReply, MAC, peer4, nicMAC, nic4)) {
		t.Errorf("reply for another VM's address: % x", out[:n])
	}

	unicastReq := packettest.ARP(packet.ARPRequest, nicMAC, nic4, MAC, IPv4)
	copy(unicastReq, MAC[:])
	if n := ARPReply(out, unicastReq, parse(unicastReq), &cfg); n != 42 {
		t.Errorf("unicast (NUD) request not answered")
	}

	noReply := map[string][]byte{
		"gratuitous request":          packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, nic4),
		"probe for own address":       packettest.ARP(packet.ARPRequest, nicMAC, netip.IPv4Unspecified(), packet.MAC{}, nic4),
		"probe for another address":   packettest.ARP(packet.ARPRequest, nicMAC, netip.IPv4Unspecified(), packet.MAC{}, peer4),
		"target is the NIC's address": packettest.ARP(packet.ARPRequest, nicMAC, netip.MustParseAddr("10.0.0.77"), packet.MAC{}, nic4),
		"reply":                       packettest.ARP(packet.ARPReply, nicMAC, nic4, MAC, IPv4),
		"spoofed source MAC":          packettest.ARP(packet.ARPRequest, packet.MAC{2, 2, 2, 2, 2, 2}, nic4, packet.MAC{}, IPv4),
		"sender MAC differs": func() []byte {
			f := packettest.ARP(packet.ARPRequest, packet.MAC{2, 2, 2, 2, 2, 2}, nic4, packet.MAC{}, IPv4)
			copy(f[6:12], nicMAC[:])
			return f
		}(),
		"broadcast target": packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, Broadcast4),
		"not ARP":          packettest.UDP(nicMAC, MAC, nic4, peer4, 1, 2, nil),
	}
	for name, f := range noReply {
		if n := ARPReply(out, f, parse(f), &cfg); n != 0 {
			t.Errorf("%s: answered (%d bytes)", name, n)
		}
	}
	if n := ARPReply(out[:41], req, parse(req), &cfg); n != 0 {
		t.Errorf("wrote into a 41-byte buffer")
	}
}

func TestEchoReply4(t *testing.T) {
	out := make([]byte, 1514)
	body := packettest.Echo(0x4242, 7, []byte("0123456789abcdefghijklmnopqrstuvwxyz!"))
	req := packettest.ICMPv4(nicMAC, MAC, nic4, IPv4, packet.ICMPv4Echo, 0, body)
	n := EchoReply(out, req, parse(req), &cfg)
	if n != len(req) {
		t.Fatalf("reply length %d, request %d", n, len(req))
	}
	p := packettest.Check(t, out[:n])
	if p.SrcMAC != MAC || p.DstMAC != nicMAC || p.Src != IPv4 || p.Dst != nic4 || p.TTL != 64 ||
		p.ICMPType != packet.ICMPv4EchoReply || p.ICMPCode != 0 {
		t.Errorf("reply %+v", p)
	}
	if m := packet.ICMP(p.L4(out[:n])); m.Ident() != 0x4242 || m.Seq() != 7 || !bytes.Equal(m[4:], body) {
		t.Errorf("reply body % x", m)
	}

	bad := append([]byte(nil), req...)
	bad[len(bad)-1] ^= 1
	noReply := map[string][]byte{
		"bad ICMP checksum": bad,
		"to another VM":     packettest.ICMPv4(nicMAC, MAC, nic4, peer4, packet.ICMPv4Echo, 0, body),
		"echo reply":        packettest.ICMPv4(nicMAC, MAC, nic4, IPv4, packet.ICMPv4EchoReply, 0, body),
		"from 0.0.0.0":      packettest.ICMPv4(nicMAC, MAC, netip.IPv4Unspecified(), IPv4, packet.ICMPv4Echo, 0, body),
		"spoofed MAC":       packettest.ICMPv4(packet.MAC{2, 9, 9, 9, 9, 9}, MAC, nic4, IPv4, packet.ICMPv4Echo, 0, body),
		"nonzero code":      packettest.ICMPv4(nicMAC, MAC, nic4, IPv4, packet.ICMPv4Echo, 1, body),
	}
	for name, f := range noReply {
		if n := EchoReply(out, f, parse(f), &cfg); n != 0 {
			t.Errorf("%s: answered (%d bytes)", name, n)
		}
	}
	if n := EchoReply(out[:len(req)-1], req, parse(req), &cfg); n != 0 {
		t.Errorf("wrote into a too small buffer")
	}
}

func TestEchoReply6(t *testing.T) {
	out := make([]byte, 1514)
	body := packettest.Echo(0x77, 1, bytes.Repeat([]byte{0xa5}, 57))
	cases := []struct {
		name     string
		src, dst netip.Addr
		answered bool
	}{
		{"fe80::1 from link-local", nicLL, IPv6, true},
		{"fe80::1 from global", nic6, IPv6, true},
		{"EUI-64 link-local from link-local", nicLL, IPv6LinkLocal, true},
		{"EUI-64 link-local from global", nic6, IPv6LinkLocal, false},
		{"another VM", nic6, peer6, false},
		{"from ::", netip.IPv6Unspecified(), IPv6, false},
	}
	for _, tc := range cases {
		req := packettest.ICMPv6(nicMAC, MAC, tc.src, tc.dst, 64, packet.ICMPv6EchoRequest, 0, body)
		n := EchoReply(out, req, parse(req), &cfg)
		if !tc.answered {
			if n != 0 {
				t.Errorf("%s: answered", tc.name)
			}
			continue
		}
		if n != len(req) {
			t.Errorf("%s: reply length %d, request %d", tc.name, n, len(req))
			continue
		}
		p := packettest.Check(t, out[:n])
		if p.SrcMAC != MAC || p.DstMAC != nicMAC || p.Src != tc.dst || p.Dst != tc.src ||
			p.ICMPType != packet.ICMPv6EchoReply || p.TTL != 64 {
			t.Errorf("%s: reply %+v", tc.name, p)
		}
		if m := packet.ICMP(p.L4(out[:n])); !bytes.Equal(m[4:], body) {
			t.Errorf("%s: reply body differs", tc.name)
		}
	}
	req := packettest.ICMPv6(nicMAC, MAC, nicLL, IPv6, 64, packet.ICMPv6EchoRequest, 0, body)
	req[len(req)-1] ^= 0x10
	if n := EchoReply(out, req, parse(req), &cfg); n != 0 {
		t.Errorf("bad checksum answered")
	}
}

func TestClassify(t *testing.T) {
	other := packet.MAC{0x52, 0x54, 0, 0, 0, 0x99}
	nsMAC := packet.IPv6MulticastMAC(netip.MustParseAddr("ff02::1:ff00:1"))
	dhcp6MAC := packet.IPv6MulticastMAC(AllDHCPAgents)
	echo := packettest.Echo(1, 1, nil)
	tcp := make([]byte, 20)
	tcp[12] = 0x50
	frag := packettest.UDP(nicMAC, MAC, nic4, peer4, 1, 2, []byte("x"))
	frag[20] = 0x20 // MF
	fragToGW := packettest.UDP(nicMAC, MAC, nic4, IPv4, 1, 2, []byte("x"))
	fragToGW[20] = 0x20
	for _, f := range [][]byte{frag, fragToGW} {
		h := packet.IPv4(f[14:])
		h.SetChecksum(0)
		h.SetChecksum(h.CalculateChecksum())
	}
	cases := []struct {
		name  string
		frame []byte
		want  Class
	}{
		{"ARP request", packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, IPv4), ClassARP},
		{"ARP reply", packettest.ARP(packet.ARPReply, nicMAC, nic4, MAC, IPv4), ClassIgnore},
		{"ARP from another MAC", packettest.ARP(packet.ARPRequest, other, nic4, packet.MAC{}, IPv4), ClassDrop},
		{"ping gateway", packettest.ICMPv4(nicMAC, MAC, nic4, IPv4, packet.ICMPv4Echo, 0, echo), ClassEcho},
		{"ping other VM", packettest.ICMPv4(nicMAC, MAC, nic4, peer4, packet.ICMPv4Echo, 0, echo), ClassRoute},
		{"TCP to gateway", packettest.IPv4(nicMAC, MAC, nic4, IPv4, packet.ProtoTCP, 64, tcp), ClassLocal},
		{"bad TCP header", packettest.IPv4(nicMAC, MAC, nic4, IPv4, packet.ProtoTCP, 64, make([]byte, 20)), ClassDrop},
		{"UDP to gateway", packettest.UDP(nicMAC, MAC, nic4, IPv4, 5000, 53, nil), ClassLocal},
		{"DHCPDISCOVER", packettest.UDP(nicMAC, packet.BroadcastMAC, netip.IPv4Unspecified(), Broadcast4, 68, 67, nil), ClassDHCPv4},
		{"DHCPREQUEST renewing", packettest.UDP(nicMAC, MAC, nic4, IPv4, 68, 67, nil), ClassDHCPv4},
		{"broadcast UDP", packettest.UDP(nicMAC, packet.BroadcastMAC, nic4, Broadcast4, 137, 137, nil), ClassIgnore},
		{"mDNS", packettest.UDP(nicMAC, packet.MAC{1, 0, 0x5e, 0, 0, 0xfb}, nic4, netip.MustParseAddr("224.0.0.251"), 5353, 5353, nil), ClassIgnore},
		{"multicast IP to gateway MAC", packettest.UDP(nicMAC, MAC, nic4, netip.MustParseAddr("239.1.1.1"), 1, 1, nil), ClassIgnore},
		{"UDP to another VM", packettest.UDP(nicMAC, MAC, nic4, peer4, 1, 2, nil), ClassRoute},
		{"to another MAC", packettest.UDP(nicMAC, other, nic4, peer4, 1, 2, nil), ClassDrop},
		{"spoofed MAC", packettest.UDP(other, MAC, nic4, peer4, 1, 2, nil), ClassDrop},
		{"link-local v4 destination", packettest.UDP(nicMAC, MAC, nic4, netip.MustParseAddr("169.254.9.9"), 1, 2, nil), ClassDrop},
		{"fragment to route", frag, ClassRoute},
		{"fragment to gateway", fragToGW, ClassLocal},
		{"NS", packettest.ICMPv6(nicMAC, nsMAC, nicLL, netip.MustParseAddr("ff02::1:ff00:1"), 255, packet.ICMPv6NeighborSolicit, 0, make([]byte, 20)), ClassNeighborSolicit},
		{"RS", packettest.ICMPv6(nicMAC, packet.IPv6MulticastMAC(netip.MustParseAddr("ff02::2")), nicLL, netip.MustParseAddr("ff02::2"), 255, packet.ICMPv6RouterSolicit, 0, make([]byte, 4)), ClassRouterSolicit},
		{"NA", packettest.ICMPv6(nicMAC, packet.IPv6MulticastMAC(AllNodes), nicLL, AllNodes, 255, packet.ICMPv6NeighborAdvert, 0, make([]byte, 20)), ClassIgnore},
		{"MLDv2 report", packettest.ICMPv6(nicMAC, packet.IPv6MulticastMAC(netip.MustParseAddr("ff02::16")), nicLL, netip.MustParseAddr("ff02::16"), 1, mldv2Report, 0, make([]byte, 4)), ClassIgnore},
		{"ping6 gateway", packettest.ICMPv6(nicMAC, MAC, nicLL, IPv6, 64, packet.ICMPv6EchoRequest, 0, echo), ClassEcho},
		{"ping6 gateway EUI-64", packettest.ICMPv6(nicMAC, MAC, nicLL, IPv6LinkLocal, 64, packet.ICMPv6EchoRequest, 0, echo), ClassEcho},
		{"ping6 other VM", packettest.ICMPv6(nicMAC, MAC, nic6, peer6, 64, packet.ICMPv6EchoRequest, 0, echo), ClassRoute},
		{"DHCPv6 Solicit", packettest.UDP(nicMAC, dhcp6MAC, nicLL, AllDHCPAgents, 546, 547, nil), ClassDHCPv6},
		{"DHCPv6 unicast", packettest.UDP(nicMAC, MAC, nicLL, IPv6, 546, 547, nil), ClassDHCPv6},
		{"UDP to fe80::1", packettest.UDP(nicMAC, MAC, nicLL, IPv6, 546, 53, nil), ClassLocal},
		{"mDNS v6", packettest.UDP(nicMAC, packet.IPv6MulticastMAC(netip.MustParseAddr("ff02::fb")), nicLL, netip.MustParseAddr("ff02::fb"), 5353, 5353, nil), ClassIgnore},
		{"other link-local", packettest.UDP(nicMAC, MAC, nicLL, netip.MustParseAddr("fe80::9"), 1, 2, nil), ClassDrop},
		{"UDP6 to another VM", packettest.UDP(nicMAC, MAC, nic6, peer6, 1, 2, nil), ClassRoute},
		{"IPv6 to another MAC", packettest.UDP(nicMAC, other, nic6, peer6, 1, 2, nil), ClassDrop},
		{"truncated", packettest.UDP(nicMAC, MAC, nic4, peer4, 1, 2, nil)[:30], ClassDrop},
	}
	for _, tc := range cases {
		if got := Classify(parse(tc.frame), &cfg); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if ClassRoute.String() != "route" || NumClasses.String() != "unknown" {
		t.Errorf("Class.String")
	}
	for c := range NumClasses {
		if classNames[c] == "" {
			t.Errorf("class %d has no name", c)
		}
	}
}
