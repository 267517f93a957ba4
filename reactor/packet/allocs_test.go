package packet

import "testing"

// TestAllocs holds the hot path to a budget of zero heap allocations.
func TestAllocs(t *testing.T) {
	out := make([]byte, 2048)
	v4 := udp4Frame(1500, peer4)
	v6 := udp6Frame(1500, peer6)
	ns := fixture(t, "ns6")
	var p Parsed
	cases := map[string]func(){
		"Parse IPv4": func() { Parse(v4, &p) },
		"Parse IPv6": func() { Parse(v6, &p) },
		"Parse NS":   func() { Parse(ns, &p) },
		"DecTTL IPv4": func() {
			Parse(v4, &p)
			p.TTL = 64
			DecTTL(v4, &p)
		},
		"ICMPv4 time exceeded": func() { Parse(v4, &p); PutICMPv4TimeExceeded(out, v4, &p, gwMAC, gw4) },
		"ICMPv6 too big":       func() { Parse(v6, &p); PutICMPv6PacketTooBig(out, v6, &p, gwMAC, gw6, 1280) },
		"NDP options": func() {
			Parse(ns, &p)
			NDPNeighborSolicit(p.L4(ns)).Options().SourceLinkLayer()
		},
		"UDP frame": func() {
			PutUDPFrame(out, &UDPFrame{SrcMAC: gwMAC, DstMAC: vmMAC, Src: gw6, Dst: vm6, SrcPort: 547, DstPort: 546}, v4[:300])
		},
		"Checksum": func() { Checksum(v4, 0) },
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run, budget 0", name, n)
		}
	}
}
