package dataplane_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mvirt-net/actors"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// echoOf is an echo request from one NIC to another of size bytes in all.
func echoOf(from, to routedNic, size int, seq uint16) []byte {
	payload := bytes.Repeat([]byte{byte(seq)}, size-14-20-8)
	return packettest.ICMPv4(from.mac, gwMAC, from.ip, to.ip, 8, 0, packettest.Echo(9, seq, payload))
}

// reactorRestarts reads how often the NIC's reactor restarted from
// /debug/actors.
func reactorRestarts(t *testing.T, d *daemon.Daemon, nicID string) int64 {
	t.Helper()
	var root actors.ActorInfo
	if err := json.Unmarshal([]byte(d.DebugGet("/debug/actors")), &root); err != nil {
		t.Fatalf("/debug/actors: %v", err)
	}
	n := findNic(&root, nicID)
	if n == nil {
		t.Fatalf("no NIC %s in /debug/actors", nicID)
	}
	return n.ReactorRestarts
}

// lentFaultMetric returns the NIC's line of the lent_fault drop counter in
// /metrics.
func lentFaultMetric(t *testing.T, d *daemon.Daemon, nicID string) string {
	t.Helper()
	for _, l := range strings.Split(d.DebugGet("/metrics"), "\n") {
		if strings.HasPrefix(l, "mvirt_net_nic_drops_total{") && strings.Contains(l, `nic="`+nicID+`"`) && strings.Contains(l, `reason="lent_fault"`) {
			return l
		}
	}
	t.Fatalf("no lent_fault drop counter for nic %s in /metrics", nicID)
	return ""
}

// crashed reports whether the daemon logged a crash of the NIC's reactor.
func crashed(d *daemon.Daemon, nicID string) bool {
	for _, l := range strings.Split(d.Log(), "\n") {
		if strings.Contains(l, "reactor crashed") && strings.Contains(l, nicID) {
			return true
		}
	}
	return false
}

// TestFaultingLenderCostsOneFrame: NIC b lends c 1000-byte frames (c's
// reactor copies them straight out of b's guest memory), then b's VMM
// truncates its memory under a frame on its way, while a keeps sending
// to c. c's reactor faults copying that frame: the fault must cost that
// frame only (counted as lent_fault), not c's reactor, its guest's
// connection or a's traffic.
func TestFaultingLenderCostsOneFrame(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	c := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})

	defer keepSending(t, a, c)()
	receiveFrom(t, c, a.ip, 20)
	for seq := range uint16(8) {
		if err := b.g.Send(withTTL(echoOf(b, c, 1000, seq), 64)); err != nil {
			t.Fatal(err)
		}
	}
	receiveFrom(t, c, b.ip, 8)

	// The first 200 bytes (headers, which b's reactor copies into c's
	// inbox) can be read, the rest of the lent frame faults.
	sendAcrossTruncation(t, b.g, withTTL(echoOf(b, c, 1000, 100), 64), 200)
	for deadline := time.Now().Add(10 * time.Second); drops(t, d, c.Id)["lent_fault"] == 0; {
		if reactorRestarts(t, d, c.Id) != 0 || crashed(d, c.Id) {
			t.Fatalf("a fault in b's memory crashed c's reactor:\n%s", d.Log())
		}
		if time.Now().After(deadline) {
			t.Fatal("no lent_fault drop counted for c")
		}
		time.Sleep(20 * time.Millisecond)
	}
	receiveFrom(t, c, a.ip, 50)
	if r := reactorRestarts(t, d, c.Id); r != 0 {
		t.Fatalf("c's reactor restarted %d times", r)
	}
	if crashed(d, c.Id) {
		t.Fatalf("c's reactor crashed:\n%s", d.Log())
	}
	if m := lentFaultMetric(t, d, c.Id); strings.HasSuffix(m, " 0") {
		t.Fatalf("lent_fault not counted in /metrics: %s", m)
	}
}
