package reactor

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

// TestUplinkMTUBelowTheNetwork gives a public network an MTU above the
// uplink's: a packet that fits the network but not the uplink gets
// fragmentation needed / packet too big naming the uplink's MTU from the
// gateway, and is not sent out; the kernel's packets up to the uplink's
// MTU, larger than 1500, reach the NIC whole.
func TestUplinkMTUBelowTheNetwork(t *testing.T) {
	rig := newUplinkRig(t)
	t1 := rig.tables[0]
	t1.MTU = 9000
	if err := rig.n1.PublishRoutes(t1); err != nil {
		t.Fatal(err)
	}
	const size = rigUplinkMTU + 1000
	for _, c := range []struct{ nic, out netip.Addr }{{nicA4, outside4}, {nicA6, outside6}} {
		f := packettest.UDP(rig.a.mac, gateway.MAC, c.nic, c.out, 4000, 7000, make([]byte, size-28))
		if c.nic.Is6() {
			f = packettest.UDP(rig.a.mac, gateway.MAC, c.nic, c.out, 4000, 7000, make([]byte, size-48))
		} else {
			setDF(f)
		}
		fill(t, rig.a, f, 1)
		rig.a.r.processTx()
		got := receive(t, rig.a)
		p := packettest.Check(t, got)
		m := packet.ICMP(got[p.L4Off:])
		switch {
		case c.nic.Is6() && (p.ICMPType != packet.ICMPv6PacketTooBig || m.MTU6() != rigUplinkMTU):
			t.Fatalf("%v: want packet too big with MTU %d, got %+v", c.out, rigUplinkMTU, p)
		case c.nic.Is4() && (p.ICMPType != packet.ICMPv4DestUnreach || p.ICMPCode != packet.ICMPv4FragNeeded || m.MTU() != rigUplinkMTU):
			t.Fatalf("%v: want fragmentation needed with MTU %d, got %+v", c.out, rigUplinkMTU, p)
		}
	}
	if st := rig.up.Stats(); st.RxPackets.Load() != 0 {
		t.Fatalf("uplink wrote %d packets to the kernel, want none", st.RxPackets.Load())
	}

	for _, dst := range []netip.Addr{nicA4, nicA6} {
		rig.sendUDP(t, dst, rigUplinkMTU-100, 64)
		deadline := time.Now().Add(2 * time.Second)
		for {
			f := receive(t, rig.a)
			p := packettest.Check(t, f)
			if p.IPProto == packet.ProtoUDP && p.Dst == dst {
				if n := p.End - p.L4Off - 8; n != rigUplinkMTU-100 || !bytes.Equal(p.L4(f)[8:], make([]byte, n)) {
					t.Fatalf("nic received a %d-byte datagram, want %d zero bytes", n, rigUplinkMTU-100)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no datagram to %v", dst)
			}
		}
	}
}

// setDF sets the don't-fragment bit of an IPv4 frame and fixes its header
// checksum.
func setDF(f []byte) {
	ip := packet.IPv4(f[packet.EthernetHeaderLen:])
	ip[6] |= 0x40
	ip[10], ip[11] = 0, 0
	c := ip.CalculateChecksum()
	ip[10], ip[11] = byte(c>>8), byte(c)
}
