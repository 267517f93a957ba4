package dataplane_test

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/vmm"
)

// TestAdversarialGuest breaks the virtqueue rules in every way the device
// must detect. Each time the NIC goes to ERROR, the daemon and the other
// NIC keep working, and a reconnect brings the bad NIC back.
func TestAdversarialGuest(t *testing.T) {
	d, nics := setup(t, 2)
	bad, good := nics[0], nics[1]
	bystander := connect(t, good, vmm.GuestConfig{})

	frame := packettest.ICMPv4(bad.mac, gwMAC, bad.ip, gwIP, 8, 0, packettest.Echo(1, 1, nil))
	cases := map[string]func(g *vmm.Guest, head uint16){
		"address outside guest memory": func(g *vmm.Guest, h uint16) { g.TX.CorruptAddr(h, 1<<40) },
		"descriptor loop":              func(g *vmm.Guest, h uint16) { g.TX.CorruptLoop(h) },
		"zero-length buffer":           func(g *vmm.Guest, h uint16) { g.TX.CorruptLen(h, 0) },
		"oversize buffer":              func(g *vmm.Guest, h uint16) { g.TX.CorruptLen(h, 1<<31) },
		"writable buffer on TX":        func(g *vmm.Guest, h uint16) { g.TX.FlipDirection(h, 0) },
		"head out of range":            func(g *vmm.Guest, _ uint16) { g.TX.PushBogusHead(60000) },
		"avail idx jump":               func(g *vmm.Guest, _ uint16) { g.TX.JumpAvailIdx(1000) },
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			g := connect(t, bad, vmm.GuestConfig{})
			waitState(t, d, bad.Id, netpb.NicState_NIC_STATE_ACTIVE)
			pingGateway(t, g, bad, 1)
			head, err := g.TX.AddTX(vmm.NetHeader{}, frame)
			if err != nil {
				t.Fatal(err)
			}
			corrupt(g, head)
			g.TX.Publish()
			if err := g.KickTX(); err != nil {
				t.Fatal(err)
			}
			waitState(t, d, bad.Id, netpb.NicState_NIC_STATE_ERROR)
			pingGateway(t, bystander, good, 2)
			g.Close()
			waitState(t, d, bad.Id, netpb.NicState_NIC_STATE_CREATED)
			again := connect(t, bad, vmm.GuestConfig{})
			pingGateway(t, again, bad, 3)
			again.Close()
		})
	}
	if !strings.Contains(d.Log(), "guest violated the virtqueue contract") {
		t.Error("violations were not logged")
	}
}

// TestKickStorm hammers a NIC's kick eventfd from the guest side while
// another NIC pings: the daemon stays up and responsive.
func TestKickStorm(t *testing.T) {
	d, nics := setup(t, 2)
	stormer := connect(t, nics[0], vmm.GuestConfig{})
	other := connect(t, nics[1], vmm.GuestConfig{})
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			if err := stormer.KickTX(); err != nil && err != unix.EAGAIN {
				done <- n
				return
			}
			n++
		}
	}()
	deadline := time.Now().Add(2 * time.Second)
	for seq := uint16(0); time.Now().Before(deadline); seq++ {
		pingGateway(t, other, nics[1], seq)
	}
	close(stop)
	kicks := <-done
	t.Logf("%d kicks sent during the storm", kicks)
	pingGateway(t, stormer, nics[0], 1)
	if s := nicState(t, d, nics[0].Id); s != netpb.NicState_NIC_STATE_ACTIVE {
		t.Fatalf("storming NIC state %v", s)
	}
}
