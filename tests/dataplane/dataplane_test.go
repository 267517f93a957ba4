// Package dataplane_test drives the real daemon's data plane with the
// simulated VMM harness: handshake, gateway ARP and ping, NIC states,
// reconnects, adversarial guests and reactor crashes.
package dataplane_test

import (
	"context"
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

var (
	gwMAC = packet.MAC{0x02, 0, 0, 0, 0, 1}
	gwIP  = netip.MustParseAddr("169.254.0.1")
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// nicUnderTest is a NIC created through the API.
type nicUnderTest struct {
	*netpb.Nic
	mac packet.MAC
	ip  netip.Addr
	// ip6 is the NIC's /128, invalid if its network has no IPv6.
	ip6 netip.Addr
}

func setup(t *testing.T, nics int, args ...string) (*daemon.Daemon, []nicUnderTest) {
	t.Helper()
	return setupNetwork(t, &netpb.CreateNetworkRequest{
		Name: "net", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64",
	}, nics, args...)
}

// setupNetwork starts a daemon with args, creates the network req and nics
// NICs in it.
func setupNetwork(t *testing.T, req *netpb.CreateNetworkRequest, nics int, args ...string) (*daemon.Daemon, []nicUnderTest) {
	t.Helper()
	d := daemon.Start(t, daemon.NewDirs(t), args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("actor tree and counters:\n%s", d.DebugGet("/debug/actors"))
		}
	})
	n, err := d.Client.CreateNetwork(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	var out []nicUnderTest
	for range nics {
		nic, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id})
		if err != nil {
			t.Fatal(err)
		}
		hw, _ := net.ParseMAC(nic.MacAddress)
		ip6, _ := netip.ParseAddr(nic.Ipv6Address)
		out = append(out, nicUnderTest{Nic: nic, mac: packet.MAC(hw), ip: netip.MustParseAddr(nic.Ipv4Address), ip6: ip6})
	}
	return d, out
}

func connect(t *testing.T, nic nicUnderTest, cfg vmm.GuestConfig) *vmm.Guest {
	t.Helper()
	g, err := vmm.Connect(nic.SocketPath, cfg)
	if err != nil {
		t.Fatalf("connect to %s: %v", nic.SocketPath, err)
	}
	t.Cleanup(g.Close)
	return g
}

// arpGateway sends an ARP request for the gateway and checks the reply.
func arpGateway(t *testing.T, g *vmm.Guest, nic nicUnderTest) {
	t.Helper()
	req := packettest.ARP(1, nic.mac, nic.ip, packet.MAC{}, gwIP)
	if err := g.Send(req); err != nil {
		t.Fatal(err)
	}
	reply := recv(t, g)
	p := packettest.Check(t, reply)
	if p.ARPOp != 2 || p.SrcMAC != gwMAC || p.DstMAC != nic.mac || p.Src != gwIP || p.Dst != nic.ip {
		t.Fatalf("ARP reply: %+v", p)
	}
}

// pingGateway sends an echo request to 169.254.0.1 and checks the reply.
func pingGateway(t *testing.T, g *vmm.Guest, nic nicUnderTest, seq uint16) {
	t.Helper()
	req := packettest.ICMPv4(nic.mac, gwMAC, nic.ip, gwIP, 8, 0, packettest.Echo(7, seq, []byte("mvirt-net ping")))
	if err := g.Send(req); err != nil {
		t.Fatal(err)
	}
	reply := recv(t, g)
	p := packettest.Check(t, reply)
	if p.ICMPType != 0 || p.Src != gwIP || p.Dst != nic.ip || p.DstMAC != nic.mac || p.SrcMAC != gwMAC {
		t.Fatalf("echo reply: %+v", p)
	}
}

// recv returns the next frame the guest receives, skipping the Router
// Advertisements the gateway sends unasked.
func recv(t *testing.T, g *vmm.Guest) []byte {
	t.Helper()
	for {
		f, err := g.Recv(5 * time.Second)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if !isUnsolicitedRA(f) {
			return f
		}
	}
}

// allNodes is the link-local all-nodes group ff02::1.
var allNodes = netip.MustParseAddr("ff02::1")

// isUnsolicitedRA reports whether f is a Router Advertisement to all nodes,
// as the gateway sends periodically.
func isUnsolicitedRA(f []byte) bool {
	var p packet.Parsed
	packet.Parse(f, &p)
	return p.IPProto == packet.ProtoICMPv6 && p.ICMPType == packet.ICMPv6RouterAdvert && p.Dst == allNodes
}

func nicState(t *testing.T, d *daemon.Daemon, id string) netpb.NicState {
	t.Helper()
	n, err := d.Client.GetNic(ctx(t), &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: id}})
	if err != nil {
		t.Fatal(err)
	}
	return n.State
}

func waitState(t *testing.T, d *daemon.Daemon, id string, want netpb.NicState) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := nicState(t, d, id)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nic %s state %v, want %v", id, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGatewayARPAndPing(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  vmm.GuestConfig
	}{
		{"default features", vmm.GuestConfig{}},
		{"no event idx, no mergeable", vmm.GuestConfig{Features: 1<<32 | 1<<30 | 1<<28}},
		{"mergeable small buffers", vmm.GuestConfig{RxBufSize: 64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, nics := setup(t, 1)
			waitState(t, d, nics[0].Id, netpb.NicState_NIC_STATE_CREATED)
			g := connect(t, nics[0], tc.cfg)
			waitState(t, d, nics[0].Id, netpb.NicState_NIC_STATE_ACTIVE)
			arpGateway(t, g, nics[0])
			for seq := range uint16(50) {
				pingGateway(t, g, nics[0], seq)
			}
			g.Close()
			waitState(t, d, nics[0].Id, netpb.NicState_NIC_STATE_CREATED)
		})
	}
}
