package route

import (
	"net/netip"
	"testing"
)

// TestAllocs holds every lookup a reactor makes per packet to a budget of
// zero heap allocations.
func TestAllocs(t *testing.T) {
	tab := network(t)
	var pub Published[int]
	pub.Store(tab)
	v4 := [4]byte{10, 0, 0, 2}
	v6 := addr("fd00:1::2").As16()
	miss := [4]byte{8, 8, 8, 8}
	cases := map[string]func(){
		"Lookup v4":    func() { pub.Load().Lookup(netip.AddrFrom4(v4)) },
		"Lookup v6":    func() { pub.Load().Lookup(netip.AddrFrom16(v6)) },
		"Lookup miss":  func() { pub.Load().Lookup(netip.AddrFrom4(miss)) },
		"InNetwork v4": func() { pub.Load().InNetwork(netip.AddrFrom4(miss)) },
		"InNetwork v6": func() { pub.Load().InNetwork(netip.AddrFrom16(v6)) },
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per run, budget 0", name, n)
		}
	}
}
