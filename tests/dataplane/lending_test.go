package dataplane_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// bigEcho is a 1500-byte echo request from one NIC to another: a frame
// the sending reactor lends to the receiving one instead of copying it
// through the inbox.
func bigEcho(from, to routedNic, seq uint16) []byte {
	payload := bytes.Repeat([]byte{byte(seq)}, 1500-20-8)
	return packettest.ICMPv4(from.mac, gwMAC, from.ip, to.ip, 8, 0, packettest.Echo(9, seq, payload))
}

// TestLentFramesAcrossDisconnects sends bursts of full-size frames from
// one guest to the other and, with frames still on their way, disconnects
// the sender, then the receiver, twenty times each: the daemon neither
// crashes nor gives up on lent guest memory, and full-size frames still
// arrive intact both ways afterwards.
func TestLentFramesAcrossDisconnects(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	reconnect := func(x *routedNic) {
		t.Helper()
		x.g.Close()
		x.g = connect(t, x.nicUnderTest, vmm.GuestConfig{})
		waitState(t, d, x.Id, netpb.NicState_NIC_STATE_ACTIVE)
	}
	for i := range 20 {
		for k := range 32 {
			if err := a.g.Send(bigEcho(a, b, uint16(i*32+k))); err != nil {
				t.Fatal(err)
			}
		}
		reconnect(&a)
		for k := range 32 {
			if err := a.g.Send(bigEcho(a, b, uint16(i*32+k))); err != nil {
				t.Fatal(err)
			}
		}
		reconnect(&b)
	}
	for _, pair := range [][2]*routedNic{{&a, &b}, {&b, &a}} {
		from, to := pair[0], pair[1]
		want := bigEcho(*from, *to, 4242)
		if err := from.g.Send(want); err != nil {
			t.Fatal(err)
		}
		for {
			got := recv(t, to.g)
			p := packettest.Check(t, got)
			if p.Src != from.ip || p.ICMPType != 8 || binary.BigEndian.Uint16(got[p.L4Off+6:]) != 4242 {
				continue // a frame of the bursts, sent before the last reconnect
			}
			if len(got) != len(want) || !bytes.Equal(got[34:], want[34:]) || p.TTL != 63 {
				t.Fatalf("full-size frame %s → %s: %d bytes, TTL %d, payload intact %v", from.Id, to.Id, len(got), p.TTL, bytes.Equal(got[34:], want[34:]))
			}
			break
		}
	}
	if log := d.Log(); strings.Contains(log, "still hold frames") || strings.Contains(log, "reactor crashed") {
		t.Fatalf("daemon log:\n%s", log)
	}
}
