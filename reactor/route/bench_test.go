package route

import (
	"net/netip"
	"testing"
)

// nic stands for what a real table points to: a destination's inbox.
type nic struct{ id int }

const benchNICs = 1000

// bigTable routes benchNICs NICs: each one /32 in 10.0.0.0/16 and one /128
// in fd00::/48, and every tenth also a routed /24 and /64.
func bigTable(b *testing.B) (tab *Table[*nic], v4, v6 []netip.Addr) {
	bld := NewBuilder[*nic]()
	for i := range benchNICs {
		n := &nic{id: i}
		a4 := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		a6 := netip.AddrFrom16([16]byte{0: 0xfd, 15: byte(i), 14: byte(i >> 8)})
		v4, v6 = append(v4, a4), append(v6, a6)
		prefixes := []netip.Prefix{netip.PrefixFrom(a4, 32), netip.PrefixFrom(a6, 128)}
		if i%10 == 0 {
			prefixes = append(prefixes,
				netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16 + byte(i>>8), byte(i), 0}), 24),
				netip.PrefixFrom(netip.AddrFrom16([16]byte{0: 0x20, 1: 0x01, 2: 0x0d, 3: 0xb8, 6: byte(i >> 8), 7: byte(i)}), 64))
		}
		for _, p := range prefixes {
			if err := bld.Add(p, n); err != nil {
				b.Fatal(err)
			}
		}
	}
	return bld.Build(), v4, v6
}

func BenchmarkLookup(b *testing.B) {
	tab, v4, v6 := bigTable(b)
	var pub Published[*nic]
	pub.Store(tab)
	routed := netip.MustParseAddr("172.16.100.9")
	miss := netip.MustParseAddr("10.9.9.9")
	for _, c := range []struct {
		name  string
		addrs []netip.Addr
	}{
		{"v4", v4}, {"v6", v6},
		{"v4-routed", []netip.Addr{routed}},
		{"v4-miss", []netip.Addr{miss}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := pub.Load().Lookup(c.addrs[i]); !ok && c.name != "v4-miss" {
					b.Fatal("no route")
				}
				i++
				if i == len(c.addrs) {
					i = 0
				}
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		bigTable(b)
	}
}
