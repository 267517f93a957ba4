package reactor

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/tests/vmm"
)

// Addresses of the uplink tests, documentation ranges only: two public
// networks, a NIC in each, and the "outside" host, an address on the
// namespace's loopback that the kernel answers itself.
var (
	net1v4, net1v6 = netip.MustParsePrefix("203.0.113.0/25"), netip.MustParsePrefix("2001:db8:1::/64")
	net2v4, net2v6 = netip.MustParsePrefix("198.51.100.0/25"), netip.MustParsePrefix("2001:db8:2::/64")
	nicA4, nicA6   = netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("2001:db8:1::10")
	nicB4, nicB6   = netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("2001:db8:2::10")
	outside4       = netip.MustParseAddr("198.51.100.200")
	outside6       = netip.MustParseAddr("2001:db8:ff::1")
	// notPublic is routed to the uplink by the kernel but belongs to no
	// public network.
	notPublic = netip.MustParsePrefix("203.0.113.128/25")
)

// uplinkRig is a data plane with an uplink in a namespace of its own and
// one NIC (driven by the test, as in hotpath_test) in each of two public
// networks; the namespace forwards between the networks and holds the
// outside addresses.
type uplinkRig struct {
	ns     *testNS
	dp     *Dataplane
	up     *Uplink
	ur     *UplinkReactor
	n1, n2 *Network
	a, b   *testNic
	// tables are what n1 and n2 published.
	tables [2]RouteTable
	events chan Event
}

const rigUplinkMTU = 4000

func newUplinkRig(t testing.TB) *uplinkRig {
	t.Helper()
	return newUplinkRigWith(t, uplinkRigOpts{})
}

// uplinkRigOpts: Offloads opens the uplink with offloads (the daemon's
// --offloads); NICs A and B negotiate AFeat and BFeat (testFeatures if
// zero) and have TX buffers for super-frames.
type uplinkRigOpts struct {
	Offloads     bool
	AFeat, BFeat uint64
}

func newUplinkRigWith(t testing.TB, o uplinkRigOpts) *uplinkRig {
	t.Helper()
	ns := newTestNS(t)
	rig := &uplinkRig{ns: ns, dp: NewDataplane(DataplaneConfig{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Offloads: o.Offloads,
	})}
	n1, n2 := rig.dp.NewNetwork("n1"), rig.dp.NewNetwork("n2")
	rig.n1, rig.n2 = n1, n2
	rig.a = newDualNic(t, packet.MAC{0x52, 0x54, 0, 0, 1, 0xa}, nicA4, nicA6, n1, o.AFeat)
	rig.b = newDualNic(t, packet.MAC{0x52, 0x54, 0, 0, 2, 0xb}, nicB4, nicB6, n2, o.BFeat)
	for i, x := range []struct {
		n      *Network
		nic    *testNic
		v4, v6 netip.Prefix
		a6     netip.Addr
	}{{n1, rig.a, net1v4, net1v6, nicA6}, {n2, rig.b, net2v4, net2v6, nicB6}} {
		ib := x.nic.r.cfg.Inbox
		port := &Port{net: x.n, id: x.nic.ip.String(), inbox: ib, dest: &Dest{Inbox: ib, MAC: x.nic.mac, MTU: DefaultMTU}}
		rig.tables[i] = RouteTable{
			Subnets: []netip.Prefix{x.v4, x.v6},
			Routes:  []PortRoute{{netip.PrefixFrom(x.nic.ip, 32), port}, {netip.PrefixFrom(x.a6, 128), port}},
			Public:  true,
		}
		if err := x.n.PublishRoutes(rig.tables[i]); err != nil {
			t.Fatal(err)
		}
	}
	name := uniqueName("mvt")
	ns.do(t, func() {
		up, err := rig.dp.OpenUplink(UplinkSpec{Name: name, MTU: rigUplinkMTU})
		if err != nil {
			t.Fatal(err)
		}
		rig.up = up
	})
	t.Cleanup(func() {
		if err := rig.up.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, s := range []string{
		"net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
		"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf." + name + ".send_redirects=0",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf." + name + ".rp_filter=0",
	} {
		ns.run(t, "sysctl", "-qw", s)
	}
	for _, p := range []netip.Prefix{net1v4, net1v6, net2v4, net2v6, notPublic} {
		ns.run(t, "ip", "route", "add", p.String(), "dev", name)
	}
	ns.run(t, "ip", "addr", "add", netip.PrefixFrom(outside4, 32).String(), "dev", "lo")
	ns.run(t, "ip", "addr", "add", netip.PrefixFrom(outside6, 128).String(), "dev", "lo", "nodad")
	ns.awaitIPv6(t)
	rig.events = make(chan Event, 4)
	rig.start(t)
	t.Cleanup(func() {
		rig.ur.Stop()
		select {
		case ev := <-rig.events:
			t.Errorf("uplink reactor event nobody expected: %#v", ev)
		default:
		}
	})
	return rig
}

// start starts a reactor on the rig's uplink; its events go to
// rig.events.
func (rig *uplinkRig) start(t testing.TB) {
	t.Helper()
	ur, err := rig.up.Start(func(ev Event) { rig.events <- ev })
	if err != nil {
		t.Fatal(err)
	}
	rig.ur = ur
}

// newDualNic is newTestNic with an IPv6 address too, on network n's
// route table; a NIC with features (zero: testFeatures) has TX buffers
// for super-frames.
func newDualNic(t testing.TB, mac packet.MAC, ip4, ip6 netip.Addr, n *Network, features uint64) *testNic {
	t.Helper()
	var nic *testNic
	if features == 0 {
		nic = newTestNic(t, mac, ip4, &n.routes)
	} else {
		nic = newTestNicWith(t, mac, ip4, &n.routes, features, tsoTxBuf)
	}
	svc, err := newServices(Services{Gateway: gateway.Config{MAC: mac, IPv4: ip4, IPv6: ip6}})
	if err != nil {
		t.Fatal(err)
	}
	nic.r.svc = svc
	return nic
}

// receive delivers what n's inbox holds into its guest until a frame
// arrives there (or a second passes) and returns it.
func receive(t testing.TB, n *testNic) []byte {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		n.r.drainInboxFrames()
		_, f, ok, err := n.rx.RecvFrame(true)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if _, err := n.rx.AddRX(vmm.DefaultBufSize); err != nil {
				t.Fatal(err)
			}
			n.rx.Publish()
			return f
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("nic %s received nothing within a second", n.ip)
	return nil
}
