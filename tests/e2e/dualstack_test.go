package e2e_test

import (
	"testing"

	"mvirt-net/rpc/netpb"
)

// TestDualStack boots two guests on a dual-stack network: each leases
// exactly the /32 and /128 the API reports for its NIC (DHCPv4, DHCPv6
// after a Router Advertisement), gets default routes via the gateway,
// pings the gateway of both families and the other guest over both.
func TestDualStack(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	n := l.network("dual", "10.0.0.0/24", "fd00::/64")
	nicA := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	nicB := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})
	a := l.boot("a", nicA, plan{ping: []string{gateway4, gateway6, nicB.Ipv4Address, nicB.Ipv6Address}})
	b := l.boot("b", nicB, plan{ping: []string{gateway4, gateway6, nicA.Ipv4Address, nicA.Ipv6Address}})
	l.ready(a, b)
	l.finish(a, b)
	for _, g := range []*guest{a, b} {
		g.expectAddresses(t)
		g.expectPings(t, gateway4, gateway6)
		g.expectAllPassed(t)
	}
	a.expectPings(t, nicB.Ipv4Address, nicB.Ipv6Address)
	b.expectPings(t, nicA.Ipv4Address, nicA.Ipv6Address)
}
