package filter

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// allows is the definition Allows must agree with: a linear scan over the
// rules.
func allows(rules []Rule, d Direction, proto uint8, port uint16, ported bool, remote netip.Addr) bool {
	egress := false
	for _, r := range rules {
		egress = egress || r.Direction == Egress
	}
	if d == Egress && !egress {
		return true
	}
	v4 := remote.Is4()
	for _, r := range rules {
		if r.Direction != d {
			continue
		}
		if r.CIDR.IsValid() {
			if r.CIDR.Addr().Is4() != v4 || !r.CIDR.Contains(remote) {
				continue
			}
		}
		icmp := uint8(IPProtoICMP)
		if !v4 {
			icmp = IPProtoICMPv6
		}
		switch r.Protocol {
		case ProtoAll:
			return true
		case ProtoTCP, ProtoUDP:
			want := uint8(IPProtoTCP)
			if r.Protocol == ProtoUDP {
				want = IPProtoUDP
			}
			if proto != want {
				continue
			}
			if ported && r.PortStart <= port && port <= r.PortEnd {
				return true
			}
			if !ported && r.PortStart == 0 && r.PortEnd == 65535 {
				return true
			}
		case ProtoICMP:
			if v4 && proto == icmp {
				return true
			}
		case ProtoICMPv6:
			if !v4 && proto == icmp {
				return true
			}
		}
	}
	return false
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

func TestAllows(t *testing.T) {
	rules := []Rule{
		{Direction: Ingress, Protocol: ProtoTCP, PortStart: 80, PortEnd: 80},
		{Direction: Ingress, Protocol: ProtoTCP, PortStart: 8000, PortEnd: 8100, CIDR: pfx("198.51.100.0/24")},
		{Direction: Ingress, Protocol: ProtoUDP, PortStart: 53, PortEnd: 53, CIDR: pfx("2001:db8::/32")},
		{Direction: Ingress, Protocol: ProtoICMP, CIDR: pfx("203.0.113.0/24")},
		{Direction: Ingress, Protocol: ProtoICMPv6},
		{Direction: Ingress, Protocol: ProtoAll, CIDR: pfx("10.9.0.0/16")},
	}
	m := Compile(rules)
	for _, tc := range []struct {
		d      Direction
		proto  uint8
		port   uint16
		remote string
		want   bool
	}{
		{Ingress, IPProtoTCP, 80, "192.0.2.1", true},
		{Ingress, IPProtoTCP, 80, "2001:db8::1", true},
		{Ingress, IPProtoTCP, 81, "192.0.2.1", false},
		{Ingress, IPProtoTCP, 79, "192.0.2.1", false},
		{Ingress, IPProtoUDP, 80, "192.0.2.1", false},
		{Ingress, IPProtoTCP, 8000, "198.51.100.7", true},
		{Ingress, IPProtoTCP, 8100, "198.51.100.7", true},
		{Ingress, IPProtoTCP, 8101, "198.51.100.7", false},
		{Ingress, IPProtoTCP, 8050, "198.51.101.7", false},
		{Ingress, IPProtoUDP, 53, "2001:db8:1::1", true},
		{Ingress, IPProtoUDP, 53, "2001:db9::1", false},
		{Ingress, IPProtoUDP, 53, "198.51.100.1", false},
		{Ingress, IPProtoICMP, 0, "203.0.113.9", true},
		{Ingress, IPProtoICMP, 0, "198.51.100.9", false},
		{Ingress, IPProtoICMPv6, 0, "2001:db8::9", true},
		{Ingress, IPProtoICMPv6, 0, "203.0.113.9", false},
		{Ingress, 47, 0, "10.9.3.4", true},
		{Ingress, IPProtoTCP, 22, "10.9.3.4", true},
		{Ingress, 47, 0, "10.8.3.4", false},
		// No egress rule: all egress passes.
		{Egress, IPProtoTCP, 22, "192.0.2.1", true},
		{Egress, 47, 0, "2001:db8::1", true},
	} {
		if got := m.Allows(tc.d, tc.proto, tc.port, true, ip(tc.remote)); got != tc.want {
			t.Errorf("%v proto %d port %d from %s: got %v, want %v", tc.d, tc.proto, tc.port, tc.remote, got, tc.want)
		}
	}
}

func TestEgressRulesRestrictEgress(t *testing.T) {
	m := Compile([]Rule{{Direction: Egress, Protocol: ProtoUDP, PortStart: 53, PortEnd: 53, CIDR: pfx("10.0.0.53/32")}})
	if !m.HasEgressRules() {
		t.Fatal("egress rule not seen")
	}
	if !m.Allows(Egress, IPProtoUDP, 53, true, ip("10.0.0.53")) || m.Allows(Egress, IPProtoUDP, 53, true, ip("10.0.0.54")) ||
		m.Allows(Egress, IPProtoTCP, 53, true, ip("10.0.0.53")) {
		t.Fatal("egress rule not applied")
	}
	if m.Allows(Ingress, IPProtoUDP, 53, true, ip("10.0.0.53")) {
		t.Fatal("egress rule allowed ingress")
	}
}

func TestEmptyAndNil(t *testing.T) {
	var none *Matcher
	if !none.Allows(Ingress, IPProtoTCP, 1, true, ip("192.0.2.1")) || none.HasEgressRules() || none.Len() != 0 {
		t.Fatal("nil matcher must allow everything")
	}
	empty := Compile(nil)
	if empty.Allows(Ingress, IPProtoTCP, 1, true, ip("192.0.2.1")) || !empty.Allows(Egress, IPProtoTCP, 1, true, ip("192.0.2.1")) {
		t.Fatal("groups without rules: deny ingress, allow egress")
	}
}

func TestUnknownPortOnlyWholeRange(t *testing.T) {
	m := Compile([]Rule{
		{Direction: Ingress, Protocol: ProtoUDP, PortStart: 0, PortEnd: 65535, CIDR: pfx("10.0.0.0/8")},
		{Direction: Ingress, Protocol: ProtoTCP, PortStart: 1, PortEnd: 65535},
	})
	if !m.Allows(Ingress, IPProtoUDP, 0, false, ip("10.1.2.3")) || m.Allows(Ingress, IPProtoUDP, 0, false, ip("11.1.2.3")) {
		t.Fatal("a fragment must match a rule for all ports")
	}
	if m.Allows(Ingress, IPProtoTCP, 0, false, ip("10.1.2.3")) {
		t.Fatal("a fragment matched a rule for part of the ports")
	}
}

// randomRules makes n rules from r over a small space of ports and
// prefixes, so that they overlap often.
func randomRules(r *rand.Rand, n int) []Rule {
	cidrs := []string{"", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "0.0.0.0/0",
		"2001:db8::/32", "2001:db8:1::/48", "::/0", "2001:db8::1/128"}
	out := make([]Rule, n)
	for i := range out {
		ru := Rule{Direction: Direction(r.IntN(2)), Protocol: Protocol(r.IntN(5)), PortEnd: 65535}
		if c := cidrs[r.IntN(len(cidrs))]; c != "" {
			ru.CIDR = pfx(c)
		}
		if ru.Protocol == ProtoTCP || ru.Protocol == ProtoUDP {
			if r.IntN(4) != 0 {
				a, b := uint16(r.IntN(100)), uint16(r.IntN(100))
				ru.PortStart, ru.PortEnd = min(a, b), max(a, b)
			}
		}
		if ru.Protocol == ProtoICMP && ru.CIDR.IsValid() && !ru.CIDR.Addr().Is4() {
			ru.Protocol = ProtoICMPv6
		}
		if ru.Protocol == ProtoICMPv6 && ru.CIDR.IsValid() && ru.CIDR.Addr().Is4() {
			ru.Protocol = ProtoICMP
		}
		out[i] = ru
	}
	return out
}

var probeAddrs = []netip.Addr{
	ip("10.1.2.3"), ip("10.1.2.4"), ip("10.1.3.1"), ip("10.2.0.1"), ip("192.0.2.1"),
	ip("2001:db8::1"), ip("2001:db8::2"), ip("2001:db8:1::5"), ip("2001:db9::1"),
}

// TestAgainstScan compares Allows with the linear scan over every
// direction, protocol, port and family, for many random rule sets.
func TestAgainstScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		rules := randomRules(r, 1+r.IntN(30))
		checkAgainstScan(t, rules)
	}
}

func checkAgainstScan(t *testing.T, rules []Rule) {
	t.Helper()
	m := Compile(rules)
	for d := range numDirections {
		for _, proto := range []uint8{IPProtoTCP, IPProtoUDP, IPProtoICMP, IPProtoICMPv6, 47} {
			for _, port := range []uint16{0, 1, 5, 42, 98, 99, 100, 101, 65535} {
				for _, ported := range []bool{true, false} {
					for _, a := range probeAddrs {
						want := allows(rules, d, proto, port, ported, a)
						if got := m.Allows(d, proto, port, ported, a); got != want {
							t.Fatalf("rules %v: %v proto %d port %d (known %v) remote %s: got %v, want %v",
								rules, d, proto, port, ported, a, got, want)
						}
					}
				}
			}
		}
	}
}

func FuzzCompile(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 16 {
			return
		}
		seed := binary.LittleEndian.Uint64(b)
		r := rand.New(rand.NewPCG(seed, binary.LittleEndian.Uint64(b[8:])))
		checkAgainstScan(t, randomRules(r, 1+int(seed%40)))
	})
}

func TestAllowsDoesNotAllocate(t *testing.T) {
	rules := randomRules(rand.New(rand.NewPCG(3, 4)), 100)
	m := Compile(rules)
	a4, a6 := ip("10.1.2.3"), ip("2001:db8::1")
	n := testing.AllocsPerRun(100, func() {
		m.Allows(Ingress, IPProtoTCP, 80, true, a4)
		m.Allows(Ingress, IPProtoUDP, 53, true, a6)
		m.Allows(Egress, IPProtoICMP, 0, true, a4)
	})
	if n != 0 {
		t.Fatalf("Allows allocates %v times per run", n)
	}
}

func BenchmarkAllows100Rules(b *testing.B) {
	m := Compile(randomRules(rand.New(rand.NewPCG(5, 6)), 100))
	a := ip("10.1.2.3")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Allows(Ingress, IPProtoTCP, uint16(i%100), true, a)
	}
}
