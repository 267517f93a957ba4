package dataplane_test

import (
	"bytes"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// sendAcrossTruncation makes g send frame from a buffer that straddles a
// page boundary, then truncates g's memory at that boundary before it
// kicks: the first valid bytes of the frame (its headers) can be read,
// the rest faults when the device copies it.
func sendAcrossTruncation(t *testing.T, g *vmm.Guest, frame []byte, valid int) {
	t.Helper()
	page := uint64(os.Getpagesize())
	boundary := g.Mem.Alloc(2*page, page) + page
	at := boundary - uint64(valid)
	copy(g.Mem.Bytes(at, valid), frame[:valid])
	head, err := g.TX.AddTX(vmm.NetHeader{}, frame)
	if err != nil {
		t.Fatal(err)
	}
	g.TX.ModifyDesc(head, 1, func(d *vmm.Desc) { d.Addr = at })
	if err := g.Mem.Truncate(boundary); err != nil {
		t.Fatal(err)
	}
	g.TX.Publish()
	if err := g.KickTX(); err != nil {
		t.Fatal(err)
	}
}

// TestFaultingSenderDoesNotStallDestination: while NIC a keeps sending
// to c, NIC b sends c a frame whose bytes lie partly in memory b's VMM
// has just truncated. b's reactor faults copying it into c's inbox, with
// the slot reserved; the slot must be given up, or c's inbox stops at it
// and c never receives a's frames again.
func TestFaultingSenderDoesNotStallDestination(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	c := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})

	defer keepSending(t, a, c)()
	receiveFrom(t, c, a.ip, 20)
	payload := bytes.Repeat([]byte{0xa5}, 158)
	poisoned := withTTL(packettest.ICMPv4(b.mac, gwMAC, b.ip, c.ip, 8, 0, packettest.Echo(9, 1, payload)), 64)
	sendAcrossTruncation(t, b.g, poisoned, 100)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(d.Log(), "reactor crashed"); {
		if time.Now().After(deadline) {
			t.Fatal("b's reactor did not fault on its truncated memory")
		}
		time.Sleep(20 * time.Millisecond)
	}
	receiveFrom(t, c, a.ip, 50)
}

// keepSending makes from send to a small echo request every millisecond
// until the returned function is called, which waits for it to stop.
func keepSending(t *testing.T, from, to routedNic) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := uint16(0); ; seq++ {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
			if err := from.g.Send(echo4(from, to.ip, 64, seq)); err != nil {
				t.Errorf("%s sends: %v", from.Id, err)
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// receiveFrom waits until to's guest has received want frames from src,
// skipping others.
func receiveFrom(t *testing.T, to routedNic, src netip.Addr, want int) {
	t.Helper()
	for got := 0; got < want; {
		if p := packettest.Check(t, recv(t, to.g)); p.Src == src {
			got++
		}
	}
}
