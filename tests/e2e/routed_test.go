package e2e_test

import (
	"testing"

	"mvirt-net/rpc/netpb"
)

// TestRoutedPrefix gives guest b routed prefixes of both families; b puts
// an address of each on lo, and guest a reaches them through the router.
func TestRoutedPrefix(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	n := l.network("routed", "10.0.0.0/24", "fd00::/64")
	nicA := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	nicB := l.nic(&netpb.CreateNicRequest{
		NetworkId: n.Id, Name: "b",
		RoutedIpv4Prefixes: []string{"10.1.0.0/24"}, RoutedIpv6Prefixes: []string{"fd00:1::/64"},
	})
	const lo4, lo6 = "10.1.0.1", "fd00:1::1"
	a := l.boot("a", nicA, plan{ping: []string{lo4, lo6}})
	b := l.boot("b", nicB, plan{lo: []string{lo4 + "/32", lo6 + "/128"}})
	l.ready(a, b)
	l.finish(a, b)
	for _, g := range []*guest{a, b} {
		g.expectAddresses(t)
		g.expectAllPassed(t)
	}
	b.expectOK(t, "lo", nil)
	a.expectPings(t, lo4, lo6)
}
