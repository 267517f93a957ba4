package dataplane_test

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/reactor/vhostuser"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// mtuNetwork creates a dual-stack network with the given MTU (0: none
// set).
func mtuNetwork(t *testing.T, d *daemon.Daemon, name string, mtu uint32) *netpb.Network {
	t.Helper()
	n, err := d.Client.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{
		Name: name, Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64", Mtu: mtu,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// createNicWith is createNic with a guest of cfg.
func createNicWith(t *testing.T, d *daemon.Daemon, networkID string, cfg vmm.GuestConfig) routedNic {
	t.Helper()
	nic, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: networkID})
	if err != nil {
		t.Fatal(err)
	}
	hw, _ := net.ParseMAC(nic.MacAddress)
	n := routedNic{nicUnderTest: nicUnderTest{Nic: nic, mac: packet.MAC(hw)}}
	n.ip, _ = netip.ParseAddr(nic.Ipv4Address)
	n.ip6, _ = netip.ParseAddr(nic.Ipv6Address)
	n.nicUnderTest.ip6 = n.ip6
	n.g = connect(t, n.nicUnderTest, cfg)
	waitState(t, d, nic.Id, netpb.NicState_NIC_STATE_ACTIVE)
	return n
}

// pattern returns n bytes that differ from one position to the next.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

// echo4Of is an echo request from one NIC to dst, with the don't-fragment
// bit, in an IPv4 packet of size bytes.
func echo4Of(from routedNic, dst netip.Addr, size int, seq uint16) []byte {
	f := packettest.ICMPv4(from.mac, gwMAC, from.ip, dst, 8, 0, packettest.Echo(9, seq, pattern(size-20-8, byte(seq))))
	packet.IPv4(f[packet.EthernetHeaderLen:])[6] |= 0x40
	return withTTL(f, 64)
}

// udp6Of is a UDP datagram from one NIC to dst in an IPv6 packet of size
// bytes.
func udp6Of(from routedNic, dst netip.Addr, size int, seed byte) []byte {
	return packettest.UDP(from.mac, gwMAC, from.ip6, dst, 4000, 5000, pattern(size-40-8, seed))
}

// expectDelivered receives at to the frame sent, as routed: the gateway's
// and to's MACs, the TTL or hop limit one less, and every other byte of
// the IP packet as sent.
func expectDelivered(t *testing.T, to routedNic, sent []byte) {
	t.Helper()
	got := recv(t, to.g)
	p := packettest.Check(t, got)
	var want packet.Parsed
	packet.Parse(sent, &want)
	if len(got) != len(sent) || p.SrcMAC != gwMAC || p.DstMAC != to.mac || p.TTL != want.TTL-1 {
		t.Fatalf("routed frame at %s: %d bytes %+v, want %d bytes, ttl %d", to.Id, len(got), p, len(sent), want.TTL-1)
	}
	// What routing rewrites: TTL and header checksum (IPv4), hop limit (IPv6).
	skip := map[int]bool{packet.EthernetHeaderLen + 7: true}
	if p.IPVersion == 4 {
		skip = map[int]bool{packet.EthernetHeaderLen + 8: true, packet.EthernetHeaderLen + 10: true, packet.EthernetHeaderLen + 11: true}
	}
	for i := packet.EthernetHeaderLen; i < len(sent); i++ {
		if !skip[i] && got[i] != sent[i] {
			t.Fatalf("routed frame at %s differs from the one sent at byte %d: %#02x, want %#02x", to.Id, i, got[i], sent[i])
		}
	}
}

// expectTooBig receives at from the ICMP error to a packet above mtu:
// fragmentation needed (IPv4) or packet too big (IPv6), naming mtu.
func expectTooBig(t *testing.T, from routedNic, v6 bool, mtu int) {
	t.Helper()
	f := recv(t, from.g)
	p := packettest.Check(t, f)
	m := packet.ICMP(f[p.L4Off:])
	switch {
	case v6 && (p.ICMPType != packet.ICMPv6PacketTooBig || m.MTU6() != uint32(mtu)):
		t.Fatalf("want packet too big with MTU %d, got %+v (mtu %d)", mtu, p, m.MTU6())
	case !v6 && (p.ICMPType != 3 || p.ICMPCode != 4 || m.MTU() != uint16(mtu)):
		t.Fatalf("want fragmentation needed with MTU %d, got %+v (mtu %d)", mtu, p, m.MTU())
	}
}

// TestJumboFrames routes 9000-byte IP packets between two NICs of an MTU
// 9000 network, both ways and both families, byte for byte: copied (the
// frame spans several TX buffers), lent (it lies in one) into mergeable
// 2 KiB RX buffers, and lent into single 9 KiB RX buffers of guests
// without mergeable buffers. 9001 bytes are answered with the MTU.
func TestJumboFrames(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	const big = 9216
	for i, tc := range []struct {
		name string
		cfg  vmm.GuestConfig
	}{
		{"copied", vmm.GuestConfig{}},
		{"lent", vmm.GuestConfig{TxBufSize: big}},
		{"lent without mergeable buffers", vmm.GuestConfig{
			TxBufSize: big, RxBufSize: big + vmm.NetHeaderLen, Features: vhostuser.DefaultFeatures &^ vhostuser.FeatureMrgRxbuf,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := mtuNetwork(t, d, tc.name, 9000)
			a := createNicWith(t, d, n.Id, tc.cfg)
			b := createNicWith(t, d, n.Id, tc.cfg)
			for seq := range uint16(3) {
				f := echo4Of(a, b.ip, 9000, uint16(i)*8+seq)
				if err := a.g.Send(f); err != nil {
					t.Fatal(err)
				}
				expectDelivered(t, b, f)
				f = udp6Of(b, a.ip6, 9000, byte(seq))
				if err := b.g.Send(f); err != nil {
					t.Fatal(err)
				}
				expectDelivered(t, a, f)
			}
			if err := a.g.Send(echo4Of(a, b.ip, 9001, 99)); err != nil {
				t.Fatal(err)
			}
			expectTooBig(t, a, false, 9000)
			if err := a.g.Send(udp6Of(a, b.ip6, 9001, 1)); err != nil {
				t.Fatal(err)
			}
			expectTooBig(t, a, true, 9000)
			expectNothing(t, b.g)
			for _, id := range []string{a.Id, b.Id} {
				if dr := drops(t, d, id); dr["oversize"]+dr["rx_too_big"]+dr["inbox_full"] != 0 {
					t.Fatalf("drops at %s: %v", id, dr)
				}
			}
		})
	}
}

// raMTU returns the MTU option of an RA; ok is false without one.
func raMTU(t *testing.T, ra packet.NDPRouterAdvert) (mtu uint32, ok bool) {
	t.Helper()
	b, ok := ra.Options().Find(packet.NDPOptMTU)
	if !ok {
		return 0, false
	}
	if len(b) != packet.NDPMTUOptionLen-2 {
		t.Fatalf("RA MTU option % x", b)
	}
	return binary.BigEndian.Uint32(b[2:6]), true
}

// offeredMTU runs a DISCOVER and returns the interface MTU (option 26) of
// the OFFER.
func offeredMTU(t *testing.T, nic routedNic) uint16 {
	t.Helper()
	disc, err := dhcpv4.NewDiscovery(nic.mac[:])
	if err != nil {
		t.Fatal(err)
	}
	offer := exchange4(t, nic.g, nic.nicUnderTest, disc, netip.IPv4Unspecified(), broadcast4, nic.ip)
	b := offer.Options.Get(dhcpv4.OptionInterfaceMTU)
	if len(b) != 2 {
		t.Fatalf("offer's interface MTU option % x", b)
	}
	return binary.BigEndian.Uint16(b)
}

// TestNetworkMTUOnTheWire checks what a network's MTU does to its guests:
// DHCPv4 offers and RAs announce it, packets above it get fragmentation
// needed / packet too big naming it, packets of exactly it pass, a
// front-end may set it (NET_SET_MTU) but not more; after UpdateNetwork
// lowers it, all of that follows at once.
func TestNetworkMTUOnTheWire(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := mtuNetwork(t, d, "net", 0)
	a := createNicWith(t, d, n.Id, vmm.GuestConfig{})
	b := createNicWith(t, d, n.Id, vmm.GuestConfig{})

	check := func(mtu int, seq uint16) {
		t.Helper()
		// What QEMU's host_mtu would say: the network's MTU, not more.
		if err := a.g.Front.SetNetMTU(uint64(mtu)); err != nil {
			t.Fatalf("NET_SET_MTU %d: %v", mtu, err)
		}
		if err := a.g.Front.SetNetMTU(uint64(mtu + 1)); !errors.Is(err, vmm.ErrNack) {
			t.Fatalf("NET_SET_MTU %d above the network's %d: %v, want ErrNack", mtu+1, mtu, err)
		}
		if got := offeredMTU(t, a); int(got) != mtu {
			t.Fatalf("DHCPv4 offer announces MTU %d, want %d", got, mtu)
		}
		if got, ok := raMTU(t, solicitRA(t, a.g, a.nicUnderTest)); !ok || int(got) != mtu {
			t.Fatalf("RA announces MTU %d (option present %v), want %d", got, ok, mtu)
		}
		for _, v6 := range []bool{false, true} {
			over, fits := echo4Of(a, b.ip, mtu+1, seq), echo4Of(a, b.ip, mtu, seq+1)
			if v6 {
				over, fits = udp6Of(a, b.ip6, mtu+1, byte(seq)), udp6Of(a, b.ip6, mtu, byte(seq+1))
			}
			if err := a.g.Send(over); err != nil {
				t.Fatal(err)
			}
			expectTooBig(t, a, v6, mtu)
			if err := a.g.Send(fits); err != nil {
				t.Fatal(err)
			}
			expectDelivered(t, b, fits)
		}
	}
	check(1500, 1)

	up, err := d.Client.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: n.Id, Mtu: 1400})
	if err != nil || up.Mtu != 1400 {
		t.Fatalf("UpdateNetwork(mtu 1400): %v %v", up, err)
	}
	// A packet between the two limits now gets an error, before any new
	// DHCP or RA exchange.
	if err := a.g.Send(echo4Of(a, b.ip, 1450, 9)); err != nil {
		t.Fatal(err)
	}
	expectTooBig(t, a, false, 1400)
	if err := a.g.Send(udp6Of(a, b.ip6, 1450, 9)); err != nil {
		t.Fatal(err)
	}
	expectTooBig(t, a, true, 1400)
	expectNothing(t, b.g)
	check(1400, 11)
}
