package e2e_test

import (
	"testing"

	"mvirt-net/rpc/netpb"
)

// TestStaticGateway boots one guest without DHCP: its virtio-net driver
// binds to the NIC's socket (GetNic says active), and with the NIC's
// address set by hand it reaches the gateway, which answers ARP and ping.
func TestStaticGateway(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	n := l.network("static", "10.0.0.0/24", "")
	nic := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "vm"})
	g := l.boot("vm", nic, plan{static4: nic.Ipv4Address, ping: []string{gateway4}})
	l.ready(g)
	l.finish(g)
	g.expectOK(t, "link", map[string]string{"mac": nic.MacAddress})
	g.expectOK(t, "ipv4", map[string]string{"addr": nic.Ipv4Address + "/32"})
	g.expectPings(t, gateway4)
	g.expectAllPassed(t)
}
