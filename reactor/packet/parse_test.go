package packet

import (
	"encoding/hex"
	"net/netip"
	"testing"
)

var (
	vmMAC   = MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	gwMAC   = MAC{0x02, 0, 0, 0, 0, 0x01}
	vm4     = netip.MustParseAddr("10.0.0.5")
	peer4   = netip.MustParseAddr("10.0.0.9")
	gw4     = netip.MustParseAddr("169.254.0.1")
	vm6LL   = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
	vm6     = netip.MustParseAddr("2001:db8::5")
	peer6   = netip.MustParseAddr("2001:db8::9")
	gw6     = netip.MustParseAddr("fe80::1")
	allDHCP = netip.MustParseAddr("ff02::1:2")
)

// Fixtures generated independently of this package (hand-assembled headers,
// checksums computed separately), so that Parse is tested against bytes it
// did not write.
var fixtures = map[string]string{
	"arpRequest":         "ffffffffffff525400123456080600010800060400015254001234560a000005000000000000a9fe0001",
	"arpPadded":          "ffffffffffff525400123456080600010800060400015254001234560a000005000000000000a9fe0001000000000000000000000000000000000000",
	"arpBadHW":           "ffffffffffff525400123456080600060800060400015254001234560a000005000000000000a9fe0001",
	"echo4":              "0200000000015254001234560800450000241c4600004001aa8f0a000005a9fe0001080065f2007700016162636465666768",
	"udp4Padded":         "02000000000152540012345608004500001e1c46000040114a7c0a0000050a0000099c400035000a3d23123400000000000000000000000000000000",
	"tcp4Options":        "0200000000015254001234560800460000301c4600000106f4700a0000050a000009940400009c4101bb00000001000000006002ffff0000000000000000",
	"ip4BadChecksum":     "02000000000152540012345608004500001e1c46000040114b7d0a0000050a0000099c400035000a3d231234",
	"ip4BadIHL":          "02000000000152540012345608004400001a1c46000040114b800a0000050a0000099c400035000a",
	"ip4TotalLenTooLong": "0200000000015254001234560800450000c81c460000401149d20a0000050a0000099c400035000a3d231234",
	"ip4FirstFragment":   "02000000000152540012345608004500002c1c46200040112a6e0a0000050a0000099c4000350bb8000078787878787878787878787878787878",
	"ip4LaterFragment":   "0200000000015254001234560800450000241c46000240114a740a0000050a00000979797979797979797979797979797979",
	"udp4Truncated":      "0200000000015254001234560800450000171c46000040114a830a0000050a0000099c4000",
	"udp4BadLength":      "02000000000152540012345608004500001c1c46000040114a7e0a0000050a0000090001000200280000",
	"tcp4BadOffset":      "0200000000015254001234560800450000281c46000040064a7d0a0000050a000009000100020000000100000000f002ffff00000000",
	"vlan":               "0200000000015254001234568100000508004500001e1c46000040114a7c0a0000050a0000099c400035000a3d231234",
	"lldp":               "0180c200000e52540012345688cc00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	"tooShort":           "00000000000000000000",
	"ns6":                "3333ff00000152540012345686dd6000000000203afffe80000000000000505400fffe123456ff0200000000000000000001ff0000018700722200000000fe8000000000000000000000000000010101525400123456",
	"mld6HopByHop":       "33330000001652540012345686dd6000000000100001fe80000000000000505400fffe123456ff0200000000000000000000000000163a000502000001008f00ef6600000000",
	"dhcp6Solicit":       "33330001000252540012345686dd60000000000c1101fe80000000000000505400fffe123456ff02000000000000000000000001000202220223000caab301abcdef",
	"ip6LaterFragment":   "02000000000152540012345686dd6000000000182c4020010db800000000000000000000000520010db8000000000000000000000009110005c9000000077a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a",
	"ip6AtomicFragment":  "02000000000152540012345686dd6000000000122c4020010db800000000000000000000000520010db800000000000000000000000911000000000000079c400035000af5b01234",
	"ip6FirstFragment":   "02000000000152540012345686dd6000000000122c4020010db800000000000000000000000520010db800000000000000000000000911000001000000079c400035000af5b01234",
	"ip6TruncatedExt":    "02000000000152540012345686dd6000000000083c4020010db800000000000000000000000520010db80000000000000000000000091104000000000000",
	"ip6PayloadTooLong":  "02000000000152540012345686dd6000000001f4114020010db800000000000000000000000520010db80000000000000000000000099c400035000af5b01234",
	"ip6BadVersion":      "02000000000152540012345686dd40000000000a114020010db800000000000000000000000520010db80000000000000000000000099c400035000af5b01234",
	"tcp6":               "02000000000152540012345686dd600000000014060220010db800000000000000000000000520010db80000000000000000000000099c42001600000001000000005002ffff00000000",
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(fixtures[name])
	if err != nil || len(b) == 0 {
		tb.Fatalf("fixture %q: %v", name, err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	mcastNS := MAC{0x33, 0x33, 0xff, 0, 0, 1}
	v4 := func(dst MAC, r Reason, proto uint8, l4Off, end int) Parsed {
		return Parsed{Reason: r, DstMAC: dst, SrcMAC: vmMAC, EtherType: EtherTypeIPv4, IPVersion: 4,
			L3Off: 14, L4Off: l4Off, End: end, Src: vm4, Dst: peer4, TTL: 64, IPProto: proto}
	}
	v6 := func(dst MAC, r Reason, proto uint8, l4Off, end int) Parsed {
		return Parsed{Reason: r, DstMAC: dst, SrcMAC: vmMAC, EtherType: EtherTypeIPv6, IPVersion: 6,
			L3Off: 14, L4Off: l4Off, End: end, Src: vm6, Dst: peer6, TTL: 64, IPProto: proto}
	}
	with := func(p Parsed, f func(*Parsed)) Parsed { f(&p); return p }
	tests := []struct {
		name string
		want Parsed
	}{
		{"arpRequest", Parsed{DstMAC: BroadcastMAC, SrcMAC: vmMAC, EtherType: EtherTypeARP, L3Off: 14, End: 42,
			Src: vm4, Dst: gw4, ARPOp: ARPRequest}},
		{"arpPadded", Parsed{DstMAC: BroadcastMAC, SrcMAC: vmMAC, EtherType: EtherTypeARP, L3Off: 14, End: 42,
			Src: vm4, Dst: gw4, ARPOp: ARPRequest}},
		{"arpBadHW", Parsed{Reason: ReasonBadARP, DstMAC: BroadcastMAC, SrcMAC: vmMAC, EtherType: EtherTypeARP, L3Off: 14}},
		{"echo4", with(v4(gwMAC, ReasonNone, ProtoICMPv4, 34, 50), func(p *Parsed) { p.Dst = gw4; p.ICMPType = ICMPv4Echo })},
		{"udp4Padded", with(v4(gwMAC, ReasonNone, ProtoUDP, 34, 44), func(p *Parsed) { p.SrcPort, p.DstPort = 40000, 53 })},
		{"tcp4Options", with(v4(gwMAC, ReasonNone, ProtoTCP, 38, 62), func(p *Parsed) { p.TTL = 1; p.SrcPort, p.DstPort = 40001, 443 })},
		{"ip4BadChecksum", Parsed{Reason: ReasonBadIPv4Checksum, DstMAC: gwMAC, SrcMAC: vmMAC, EtherType: EtherTypeIPv4, L3Off: 14}},
		{"ip4BadIHL", Parsed{Reason: ReasonBadIPv4Header, DstMAC: gwMAC, SrcMAC: vmMAC, EtherType: EtherTypeIPv4, L3Off: 14}},
		{"ip4TotalLenTooLong", Parsed{Reason: ReasonBadIPv4Header, DstMAC: gwMAC, SrcMAC: vmMAC, EtherType: EtherTypeIPv4, L3Off: 14}},
		{"ip4FirstFragment", with(v4(gwMAC, ReasonFragment, ProtoUDP, 34, 58), func(p *Parsed) { p.SrcPort, p.DstPort = 40000, 53 })},
		{"ip4LaterFragment", v4(gwMAC, ReasonFragment, ProtoUDP, 0, 50)},
		{"udp4Truncated", v4(gwMAC, ReasonBadTransportHeader, ProtoUDP, 0, 37)},
		{"udp4BadLength", v4(gwMAC, ReasonBadTransportHeader, ProtoUDP, 0, 42)},
		{"tcp4BadOffset", v4(gwMAC, ReasonBadTransportHeader, ProtoTCP, 0, 54)},
		{"vlan", Parsed{Reason: ReasonVLANTagged, DstMAC: gwMAC, SrcMAC: vmMAC, EtherType: EtherTypeVLAN, L3Off: 14}},
		{"lldp", Parsed{Reason: ReasonUnknownEtherType, DstMAC: MAC{0x01, 0x80, 0xc2, 0, 0, 0x0e}, SrcMAC: vmMAC, EtherType: 0x88cc, L3Off: 14}},
		{"tooShort", Parsed{Reason: ReasonTooShort}},
		{"ns6", with(v6(mcastNS, ReasonNone, ProtoICMPv6, 54, 86), func(p *Parsed) {
			p.Src, p.Dst, p.TTL, p.ICMPType = vm6LL, netip.MustParseAddr("ff02::1:ff00:1"), 255, ICMPv6NeighborSolicit
		})},
		{"mld6HopByHop", with(v6(MAC{0x33, 0x33, 0, 0, 0, 0x16}, ReasonNone, ProtoICMPv6, 62, 70), func(p *Parsed) {
			p.Src, p.Dst, p.TTL, p.ICMPType = vm6LL, netip.MustParseAddr("ff02::16"), 1, 143
		})},
		{"dhcp6Solicit", with(v6(MAC{0x33, 0x33, 0, 1, 0, 2}, ReasonNone, ProtoUDP, 54, 66), func(p *Parsed) {
			p.Src, p.Dst, p.TTL, p.SrcPort, p.DstPort = vm6LL, allDHCP, 1, 546, 547
		})},
		{"ip6LaterFragment", v6(gwMAC, ReasonFragment, ProtoUDP, 0, 78)},
		{"ip6AtomicFragment", with(v6(gwMAC, ReasonNone, ProtoUDP, 62, 72), func(p *Parsed) { p.SrcPort, p.DstPort = 40000, 53 })},
		{"ip6FirstFragment", with(v6(gwMAC, ReasonFragment, ProtoUDP, 62, 72), func(p *Parsed) { p.SrcPort, p.DstPort = 40000, 53 })},
		{"ip6TruncatedExt", v6(gwMAC, ReasonBadExtensionHeader, 60, 0, 62)},
		{"ip6PayloadTooLong", Parsed{Reason: ReasonBadIPv6Header, DstMAC: gwMAC, SrcMAC: vmMAC, EtherType: EtherTypeIPv6, L3Off: 14}},
		{"ip6BadVersion", Parsed{Reason: ReasonBadIPv6Header, DstMAC: gwMAC, SrcMAC: vmMAC, EtherType: EtherTypeIPv6, L3Off: 14}},
		{"tcp6", with(v6(gwMAC, ReasonNone, ProtoTCP, 54, 74), func(p *Parsed) { p.TTL = 2; p.SrcPort, p.DstPort = 40002, 22 })},
	}
	if len(tests) != len(fixtures) {
		t.Errorf("%d cases for %d fixtures", len(tests), len(fixtures))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parsed
			Parse(fixture(t, tt.name), &p)
			if p != tt.want {
				t.Errorf("Parse:\n got %+v\nwant %+v", p, tt.want)
			}
		})
	}
}

func TestParseResetsState(t *testing.T) {
	var p Parsed
	Parse(fixture(t, "tcp6"), &p)
	Parse(fixture(t, "arpRequest"), &p)
	if p.IPVersion != 0 || p.SrcPort != 0 || p.L4Off != 0 || p.TTL != 0 {
		t.Errorf("fields of the previous frame survived: %+v", p)
	}
}

func TestParsedViews(t *testing.T) {
	f := fixture(t, "udp4Padded")
	var p Parsed
	Parse(f, &p)
	if got := len(p.L3(f)); got != 30 || p.IPLen() != 30 {
		t.Errorf("L3 length %d, IPLen %d, want 30", got, p.IPLen())
	}
	if u := UDP(p.L4(f)); u.SrcPort() != 40000 || len(u.Payload()) != 2 {
		t.Errorf("L4 view: port %d payload % x", u.SrcPort(), u.Payload())
	}
	Parse(fixture(t, "ip4LaterFragment"), &p)
	if p.L4(f) != nil {
		t.Errorf("L4 of a later fragment should be nil")
	}
}

func TestReasonString(t *testing.T) {
	seen := map[string]bool{}
	for r := range NumReasons {
		s := r.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("reason %d has name %q", r, s)
		}
		seen[s] = true
	}
	if NumReasons.String() != "unknown" {
		t.Errorf("out of range reason: %q", NumReasons.String())
	}
}

func TestViewAccessors(t *testing.T) {
	f := fixture(t, "tcp4Options")
	v := IPv4(f[14:])
	if !v.IsValid() || v.HeaderLen() != 24 || len(v.Options()) != 4 || v.Options()[0] != 0x94 ||
		v.ID() != 0x1c46 || v.DontFragment() || v.MoreFragments() || v.TOS() != 0 || len(v.Payload()) != 24 {
		t.Errorf("IPv4 accessors on % x", v)
	}
	tc := TCP(v.Payload())
	if tc.Flags() != 0x02 || tc.HeaderLen() != 24 || tc.Checksum() != 0 {
		t.Errorf("TCP accessors on % x", tc)
	}
	ff := IPv4(fixture(t, "ip4LaterFragment")[14:])
	if !ff.IsFragment() || ff.FragmentOffset() != 16 {
		t.Errorf("fragment offset %d", ff.FragmentOffset())
	}
	w := IPv6(fixture(t, "dhcp6Solicit")[14:])
	if !w.IsValid() || w.TrafficClass() != 0 || w.FlowLabel() != 0 || w.NextHeader() != ProtoUDP {
		t.Errorf("IPv6 accessors on % x", w)
	}
	e := ICMP(fixture(t, "echo4")[34:])
	if e.Type() != ICMPv4Echo || e.Code() != 0 || e.Ident() != 0x77 || e.Seq() != 1 || string(e.Payload()) != "abcdefgh" {
		t.Errorf("ICMP accessors on % x", e)
	}
	a := ARP(fixture(t, "arpRequest")[14:])
	if a.SenderMAC() != vmMAC || a.TargetMAC() != (MAC{}) {
		t.Errorf("ARP accessors on % x", a)
	}
	if s := vmMAC.String(); s != "52:54:00:12:34:56" {
		t.Errorf("MAC.String() = %q", s)
	}
	if !BroadcastMAC.IsBroadcast() || !BroadcastMAC.IsMulticast() || vmMAC.IsMulticast() || !(MAC{}).IsZero() {
		t.Errorf("MAC predicates")
	}
	if m := IPv6MulticastMAC(netip.MustParseAddr("ff02::1:ff00:1")); m != (MAC{0x33, 0x33, 0xff, 0, 0, 1}) {
		t.Errorf("IPv6MulticastMAC = %v", m)
	}
}
