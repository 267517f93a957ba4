package hugepages

import (
	"bytes"
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

var gwMAC = packet.MAC{0x02, 0, 0, 0, 0, 1}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func createNetwork(t *testing.T, d *daemon.Daemon) string {
	t.Helper()
	n, err := d.Client.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: "net", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	return n.Id
}

// vnic is a NIC with a connected harness frontend.
type vnic struct {
	id  string
	mac packet.MAC
	ip  netip.Addr
	g   *vmm.Guest
}

// connect connects a harness frontend to nic and waits until it is
// active.
func connect(t *testing.T, d *daemon.Daemon, nic *netpb.Nic) vnic {
	t.Helper()
	hw, _ := net.ParseMAC(nic.MacAddress)
	g, err := vmm.Connect(nic.SocketPath, vmm.GuestConfig{})
	if err != nil {
		t.Fatalf("connect to %s: %v", nic.SocketPath, err)
	}
	t.Cleanup(g.Close)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := d.Client.GetNic(ctx(t), &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: nic.Id}})
		if err != nil {
			t.Fatal(err)
		}
		if n.State == netpb.NicState_NIC_STATE_ACTIVE {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nic %s state %v, want active", nic.Id, n.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return vnic{id: nic.Id, mac: packet.MAC(hw), ip: netip.MustParseAddr(nic.Ipv4Address), g: g}
}

// payloadSizes make frames that go through the inbox's slot memory: one
// copied whole (longer than a slot's inline bytes), one lent (its head in
// the slot memory, the rest read from the sender's buffer).
var payloadSizes = []int{150, 1400}

// exchange sends echo requests from a to b and from b to a and checks
// that each arrives routed, with its payload intact.
func exchange(t *testing.T, a, b vnic) {
	t.Helper()
	for i, n := range payloadSizes {
		for _, dir := range [][2]vnic{{a, b}, {b, a}} {
			from, to := dir[0], dir[1]
			payload := bytes.Repeat([]byte{byte(i + 1)}, n)
			frame := packettest.ICMPv4(from.mac, gwMAC, from.ip, to.ip, 8, 0, packettest.Echo(3, uint16(i), payload))
			if err := from.g.Send(frame); err != nil {
				t.Fatal(err)
			}
			got := recvIPv4(t, to.g)
			p := packettest.Check(t, got)
			if p.SrcMAC != gwMAC || p.DstMAC != to.mac || p.Src != from.ip || p.Dst != to.ip {
				t.Fatalf("routed frame at %s: %+v", to.id, p)
			}
			if !bytes.HasSuffix(got, payload) {
				t.Fatalf("routed frame of %d bytes at %s lost its %d-byte payload", len(got), to.id, n)
			}
		}
	}
}

// recvIPv4 returns the next IPv4 frame g receives, skipping the gateway's
// unsolicited IPv6 advertisements.
func recvIPv4(t *testing.T, g *vmm.Guest) []byte {
	t.Helper()
	for {
		f, err := g.Recv(5 * time.Second)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		var p packet.Parsed
		if packet.Parse(f, &p); p.Src.Is4() {
			return f
		}
	}
}
