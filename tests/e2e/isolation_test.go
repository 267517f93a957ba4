package e2e_test

import (
	"testing"

	"mvirt-net/rpc/netpb"
)

// TestIsolation puts guest c on a second network with the same subnet
// and prefix as the first, where guests a and b run: a reaches b (routing
// works in this run), but neither a nor c reaches the other network's
// guests, while each reaches its own gateway.
func TestIsolation(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	n1 := l.network("one", "10.0.0.0/24", "fd00::/64")
	n2 := l.network("two", "10.0.0.0/24", "fd00::/64")
	nicA := l.nic(&netpb.CreateNicRequest{NetworkId: n1.Id, Name: "a"})
	nicB := l.nic(&netpb.CreateNicRequest{NetworkId: n1.Id, Name: "b"})
	// c's addresses are free in network one, so that a reply could only
	// come from crossing networks.
	nicC := l.nic(&netpb.CreateNicRequest{NetworkId: n2.Id, Name: "c", Ipv4Address: "10.0.0.250", Ipv6Address: "fd00::250"})
	a := l.boot("a", nicA, plan{
		ping:   []string{gateway4, gateway6, nicB.Ipv4Address, nicB.Ipv6Address},
		noping: []string{nicC.Ipv4Address, nicC.Ipv6Address},
	})
	b := l.boot("b", nicB, plan{ping: []string{gateway4}})
	c := l.boot("c", nicC, plan{
		ping:   []string{gateway4, gateway6},
		noping: []string{nicA.Ipv4Address, nicA.Ipv6Address, nicB.Ipv4Address, nicB.Ipv6Address},
	})
	l.ready(a, b, c)
	l.finish(a, b, c)
	for _, g := range []*guest{a, b, c} {
		g.expectAddresses(t)
		g.expectAllPassed(t)
	}
	a.expectPings(t, gateway4, gateway6, nicB.Ipv4Address, nicB.Ipv6Address)
	c.expectPings(t, gateway4, gateway6)
	for _, addr := range []string{nicC.Ipv4Address, nicC.Ipv6Address} {
		a.expectOK(t, "noping/"+addr, nil)
	}
	for _, addr := range []string{nicA.Ipv4Address, nicA.Ipv6Address, nicB.Ipv4Address, nicB.Ipv6Address} {
		c.expectOK(t, "noping/"+addr, nil)
	}
}
