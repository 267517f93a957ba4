package reactor

import (
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"testing"

	"mvirt-net/reactor/route"
)

// testPorts adds n NIC ports (inboxes, no sockets) to net.
func testPorts(t *testing.T, net *Network, n int) []*Port {
	t.Helper()
	var ports []*Port
	for i := range n {
		p, err := net.AddNIC(NICSpec{ID: string(rune('a' + i)), MAC: [6]byte{0x52, 0x54, 0, 0, 0, byte(i)}, SocketGroup: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		ports = append(ports, p)
	}
	return ports
}

// routesTo reports the port whose inbox the network's table routes a to
// (nil for none), and whether a lies in the network.
func routesTo(n *Network, ports []*Port, a string) (*Port, bool) {
	tbl := n.routes.Load()
	addr := netip.MustParseAddr(a)
	d, ok := tbl.Lookup(addr)
	for _, p := range ports {
		if ok && d.Inbox == p.inbox {
			return p, tbl.InNetwork(addr)
		}
	}
	return nil, tbl.InNetwork(addr)
}

// TestChangeRoutes adds and removes routes of a private network one change
// at a time: each table routes as stated, keeps the network's subnet and
// MTU, and the table before a change still routes as it did.
func TestChangeRoutes(t *testing.T) {
	dp := NewDataplane(DataplaneConfig{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	n := dp.NewNetwork("n")
	ports := testPorts(t, n, 3)
	a, b, c := ports[0], ports[1], ports[2]
	pfx := netip.MustParsePrefix
	err := n.PublishRoutes(RouteTable{
		Subnets: []netip.Prefix{pfx("192.0.2.0/24")}, MTU: 9000,
		Routes: []PortRoute{{pfx("192.0.2.1/32"), a}},
	})
	if err != nil {
		t.Fatal(err)
	}
	first := n.routes.Load()
	if err := n.ChangeRoutes([]PortRoute{{pfx("192.0.2.2/32"), b}, {pfx("198.51.100.7/24"), b}, {pfx("2001:db8::3/128"), c}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		addr string
		port *Port
		in   bool
	}{
		{"192.0.2.1", a, true}, {"192.0.2.2", b, true}, {"198.51.100.200", b, false},
		{"2001:db8::3", c, false}, {"192.0.2.9", nil, true},
	} {
		if p, in := routesTo(n, ports, w.addr); p != w.port || in != w.in {
			t.Errorf("after adding: %s routes to port %v (in network %v), want %v (%v)", w.addr, p, in, w.port, w.in)
		}
	}
	if d, _ := n.routes.Load().Lookup(netip.MustParseAddr("192.0.2.2")); d.MTU != 9000 {
		t.Errorf("an added route has MTU %d, the network's is 9000", d.MTU)
	}
	if first.Len() != 1 {
		t.Errorf("the table before the change has %d routes, had 1", first.Len())
	}
	err = n.ChangeRoutes([]PortRoute{{pfx("192.0.2.1/32"), b}, {netip.Prefix{}, b}}, []PortRoute{{pfx("192.0.2.2/32"), a}})
	if !errors.Is(err, route.ErrDuplicate) || !errors.Is(err, route.ErrInvalidPrefix) {
		t.Errorf("adding a held and an invalid prefix: %v, want both refused", err)
	}
	if p, _ := routesTo(n, ports, "192.0.2.1"); p != a {
		t.Errorf("a held prefix added again for another port routes to %v", p)
	}
	if p, _ := routesTo(n, ports, "192.0.2.2"); p != b {
		t.Errorf("a removal naming another port took b's route (now %v)", p)
	}
	if err := n.ChangeRoutes([]PortRoute{{pfx("192.0.2.1/32"), c}}, []PortRoute{{pfx("192.0.2.1/32"), a}, {pfx("198.51.100.0/24"), b}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := routesTo(n, ports, "192.0.2.1"); p != c {
		t.Errorf("an address moved from a to c routes to %v", p)
	}
	if p, _ := routesTo(n, ports, "198.51.100.200"); p != nil {
		t.Errorf("a removed routed prefix still routes to %v", p)
	}
	if got := n.routes.Load().Len(); got != 3 {
		t.Errorf("%d routes, want 3", got)
	}
}

// TestChangeRoutesPublic: a change of a public network's routes reaches
// what the kernel is told to route to the uplink.
func TestChangeRoutesPublic(t *testing.T) {
	dp := NewDataplane(DataplaneConfig{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	n := dp.NewNetwork("n")
	ports := testPorts(t, n, 1)
	pfx := netip.MustParsePrefix
	if err := n.PublishRoutes(RouteTable{Subnets: []netip.Prefix{pfx("192.0.2.0/24")}, Public: true}); err != nil {
		t.Fatal(err)
	}
	outside := pfx("198.51.100.0/24")
	if err := n.ChangeRoutes([]PortRoute{{pfx("192.0.2.1/32"), ports[0]}, {outside, ports[0]}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := dp.PublicPrefixes(); !slices.Contains(got, outside) {
		t.Errorf("public prefixes %v lack the routed prefix added", got)
	}
	if p, _ := routesTo(n, ports, "198.51.100.1"); p != ports[0] {
		t.Errorf("the added routed prefix routes to %v", p)
	}
	if err := n.ChangeRoutes(nil, []PortRoute{{outside, ports[0]}}); err != nil {
		t.Fatal(err)
	}
	if got := dp.PublicPrefixes(); slices.Contains(got, outside) {
		t.Errorf("public prefixes %v still hold the routed prefix removed", got)
	}
}
