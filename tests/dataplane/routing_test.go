package dataplane_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// routedNic is a NIC with both addresses and a connected guest.
type routedNic struct {
	nicUnderTest
	ip6 netip.Addr
	g   *vmm.Guest
}

func createNic(t *testing.T, d *daemon.Daemon, req *netpb.CreateNicRequest) routedNic {
	t.Helper()
	nic, err := d.Client.CreateNic(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	hw, _ := net.ParseMAC(nic.MacAddress)
	n := routedNic{nicUnderTest: nicUnderTest{Nic: nic, mac: packet.MAC(hw)}}
	n.ip, _ = netip.ParseAddr(nic.Ipv4Address)
	n.ip6, _ = netip.ParseAddr(nic.Ipv6Address)
	n.g = connect(t, n.nicUnderTest, vmm.GuestConfig{})
	waitState(t, d, nic.Id, netpb.NicState_NIC_STATE_ACTIVE)
	return n
}

func createNetwork(t *testing.T, d *daemon.Daemon, name string) *netpb.Network {
	t.Helper()
	n, err := d.Client.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{
		Name: name, Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64",
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func echo4(from routedNic, dst netip.Addr, ttl uint8, seq uint16) []byte {
	icmp := packettest.ICMPv4(from.mac, gwMAC, from.ip, dst, 8, 0, packettest.Echo(9, seq, []byte("vm to vm")))
	return withTTL(icmp, ttl)
}

// withTTL rewrites the TTL of an IPv4 frame and fixes the header checksum.
func withTTL(frame []byte, ttl uint8) []byte {
	ip := packet.IPv4(frame[packet.EthernetHeaderLen:])
	ip[8] = ttl
	ip[10], ip[11] = 0, 0
	c := ip.CalculateChecksum()
	ip[10], ip[11] = byte(c>>8), byte(c)
	return frame
}

func echo6(from routedNic, dst netip.Addr, hops uint8, seq uint16) []byte {
	return packettest.ICMPv6(from.mac, gwMAC, from.ip6, dst, hops, 128, 0, packettest.Echo(9, seq, []byte("vm to vm")))
}

// expectRouted receives a frame at to and checks it came through the
// gateway from src with the hop limit decremented.
func expectRouted(t *testing.T, to routedNic, src netip.Addr, ttl uint8) packet.Parsed {
	t.Helper()
	p := packettest.Check(t, recv(t, to.g))
	if p.SrcMAC != gwMAC || p.DstMAC != to.mac || p.Src != src || p.TTL != ttl {
		t.Fatalf("routed frame at %s: %+v (want src %s ttl %d)", to.Id, p, src, ttl)
	}
	return p
}

// expectNothing checks that no frame other than RAs reaches g for a while.
func expectNothing(t *testing.T, g *vmm.Guest) {
	t.Helper()
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		f, err := g.Recv(time.Until(deadline))
		if err != nil {
			return
		}
		var p packet.Parsed
		if packet.Parse(f, &p); p.IPProto == 58 && p.ICMPType == 134 {
			continue
		}
		t.Fatalf("unexpected frame: %+v", p)
	}
}

func TestVMToVMRouting(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	c := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})

	for i, pair := range [][2]routedNic{{a, b}, {b, c}, {c, a}} {
		from, to := pair[0], pair[1]
		if err := from.g.Send(echo4(from, to.ip, 64, uint16(i))); err != nil {
			t.Fatal(err)
		}
		req := expectRouted(t, to, from.ip, 63)
		if req.ICMPType != 8 {
			t.Fatalf("not an echo request: %+v", req)
		}
		if err := to.g.Send(packettest.ICMPv4(to.mac, gwMAC, to.ip, from.ip, 0, 0, packettest.Echo(9, uint16(i), []byte("vm to vm")))); err != nil {
			t.Fatal(err)
		}
		expectRouted(t, from, to.ip, 63)

		if err := from.g.Send(echo6(from, to.ip6, 64, uint16(i))); err != nil {
			t.Fatal(err)
		}
		expectRouted(t, to, from.ip6, 63)
	}

	t.Run("time exceeded", func(t *testing.T) {
		if err := a.g.Send(echo4(a, b.ip, 1, 1)); err != nil {
			t.Fatal(err)
		}
		p := packettest.Check(t, recv(t, a.g))
		if p.ICMPType != 11 || p.Src != netip.MustParseAddr("169.254.0.1") || p.Dst != a.ip {
			t.Fatalf("want ICMP time exceeded, got %+v", p)
		}
		if err := a.g.Send(echo6(a, b.ip6, 1, 1)); err != nil {
			t.Fatal(err)
		}
		if p := packettest.Check(t, recv(t, a.g)); p.ICMPType != 3 || p.Dst != a.ip6 {
			t.Fatalf("want ICMPv6 time exceeded, got %+v", p)
		}
		expectNothing(t, b.g)
	})
	t.Run("unreachable", func(t *testing.T) {
		if err := a.g.Send(echo4(a, netip.MustParseAddr("10.0.0.200"), 64, 1)); err != nil {
			t.Fatal(err)
		}
		if p := packettest.Check(t, recv(t, a.g)); p.ICMPType != 3 || p.ICMPCode != 1 {
			t.Fatalf("want ICMP host unreachable, got %+v", p)
		}
		if err := a.g.Send(echo6(a, netip.MustParseAddr("fd00::200"), 64, 1)); err != nil {
			t.Fatal(err)
		}
		if p := packettest.Check(t, recv(t, a.g)); p.ICMPType != 1 || p.ICMPCode != 3 {
			t.Fatalf("want ICMPv6 address unreachable, got %+v", p)
		}
	})
}

// TestNetworksAreIsolated runs two networks with the same subnet: a packet
// from one never reaches the other.
func TestNetworksAreIsolated(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	red, blue := createNetwork(t, d, "red"), createNetwork(t, d, "blue")
	redA := createNic(t, d, &netpb.CreateNicRequest{NetworkId: red.Id})
	blueA := createNic(t, d, &netpb.CreateNicRequest{NetworkId: blue.Id})
	blueB := createNic(t, d, &netpb.CreateNicRequest{NetworkId: blue.Id})
	if redA.ip != blueA.ip {
		t.Fatalf("test needs equal addresses, got %s and %s", redA.ip, blueA.ip)
	}
	// 10.0.0.2 exists only in blue: from red it is unreachable.
	if err := redA.g.Send(echo4(redA, blueB.ip, 64, 1)); err != nil {
		t.Fatal(err)
	}
	if p := packettest.Check(t, recv(t, redA.g)); p.ICMPType != 3 {
		t.Fatalf("want unreachable inside red, got %+v", p)
	}
	expectNothing(t, blueB.g)
	// Inside blue, routing works.
	if err := blueA.g.Send(echo4(blueA, blueB.ip, 64, 2)); err != nil {
		t.Fatal(err)
	}
	expectRouted(t, blueB, blueA.ip, 63)
	expectNothing(t, redA.g)
}

// TestRoutedPrefix routes 10.0.1.0/24 to a router NIC, then removes it.
func TestRoutedPrefix(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := createNetwork(t, d, "net")
	router := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: []string{"10.0.1.0/24"}})
	client := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	behind := netip.MustParseAddr("10.0.1.7")

	if err := client.g.Send(echo4(client, behind, 64, 1)); err != nil {
		t.Fatal(err)
	}
	expectRouted(t, router, client.ip, 63)
	// The router may answer from the routed prefix: that is no spoofing.
	reply := packettest.ICMPv4(router.mac, gwMAC, behind, client.ip, 0, 0, packettest.Echo(9, 1, []byte("vm to vm")))
	if err := router.g.Send(reply); err != nil {
		t.Fatal(err)
	}
	expectRouted(t, client, behind, 63)

	if _, err := d.Client.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: router.Id}); err != nil {
		t.Fatal(err)
	}
	if err := client.g.Send(echo4(client, behind, 64, 2)); err != nil {
		t.Fatal(err)
	}
	if p := packettest.Check(t, recv(t, client.g)); p.ICMPType != 3 {
		t.Fatalf("after removing the prefix want unreachable, got %+v", p)
	}
	expectNothing(t, router.g)
}

// TestTooBigForDestination sends packets larger than the destination's
// 1500-byte MTU: IPv4 with DF gets fragmentation needed, IPv6 packet too
// big, each naming the MTU, and nothing reaches the destination.
func TestTooBigForDestination(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	payload := make([]byte, 1600)

	big4 := packettest.ICMPv4(a.mac, gwMAC, a.ip, b.ip, 8, 0, packettest.Echo(9, 1, payload))
	ip := packet.IPv4(big4[packet.EthernetHeaderLen:])
	ip[6] |= 0x40 // DF
	big4 = withTTL(big4, 64)
	if err := a.g.Send(big4); err != nil {
		t.Fatal(err)
	}
	f := recv(t, a.g)
	p := packettest.Check(t, f)
	if p.ICMPType != 3 || p.ICMPCode != 4 || packet.ICMP(f[p.L4Off:]).MTU() != 1500 {
		t.Fatalf("want fragmentation needed with MTU 1500, got %+v", p)
	}

	big6 := packettest.ICMPv6(a.mac, gwMAC, a.ip6, b.ip6, 64, 128, 0, packettest.Echo(9, 2, payload))
	if err := a.g.Send(big6); err != nil {
		t.Fatal(err)
	}
	f = recv(t, a.g)
	p = packettest.Check(t, f)
	if p.ICMPType != 2 || packet.ICMP(f[p.L4Off:]).MTU6() != 1500 {
		t.Fatalf("want packet too big with MTU 1500, got %+v", p)
	}
	expectNothing(t, b.g)
}
