package e2e_test

import (
	"strings"
	"testing"

	"mvirt-net/rpc/netpb"
)

// TestJumboMTU boots two guests on a dual-stack network with MTU 9000:
// each learns the MTU from DHCPv4 (option 26) and the RA, and pings the
// gateway and the other guest of both families with echoes that fill
// 9000 bytes (8972 bytes of IPv4 echo data, 8952 of IPv6) without
// fragmenting them.
func TestJumboMTU(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	n := l.createNetwork(&netpb.CreateNetworkRequest{
		Name: "jumbo", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64", Mtu: 9000,
	})
	nicA := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	nicB := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})
	a := l.boot("a", nicA, plan{ping: []string{gateway4, gateway6, nicB.Ipv4Address, nicB.Ipv6Address}})
	b := l.boot("b", nicB, plan{ping: []string{gateway4, nicA.Ipv4Address, nicA.Ipv6Address}})
	l.ready(a, b)
	l.finish(a, b)
	for _, g := range []*guest{a, b} {
		g.expectAddresses(t)
		g.expectAllPassed(t)
		g.expectOK(t, "mtu", map[string]string{"link": "9000"})
	}
	for _, c := range []struct {
		g     *guest
		addrs []string
	}{{a, []string{gateway4, gateway6, nicB.Ipv4Address, nicB.Ipv6Address}}, {b, []string{gateway4, nicA.Ipv4Address, nicA.Ipv6Address}}} {
		for _, addr := range c.addrs {
			size := "8972"
			if strings.Contains(addr, ":") {
				size = "8952"
			}
			c.g.expectOK(t, "ping/"+addr, nil)
			c.g.expectOK(t, "bigping/"+addr, map[string]string{"size": size})
		}
	}
}
