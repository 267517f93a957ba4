package dataplane_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

const (
	// floodTableSize is the --conntrack-size of the flood test: small, so
	// that the flooder fills its table at once.
	floodTableSize = 1024
	// floodNewConns is how many new connections A opens to B during the
	// flood, and again after it.
	floodNewConns = 40
	// floodWindow is how many frames A sends before B must have them all;
	// far below a virtqueue or an inbox, so nothing is dropped for room.
	floodWindow = 32
	// floodFrames is how many frames of the established connection each
	// throughput measurement sends from A to B.
	floodFrames = 4096
)

// sendAll sends frame from g, waiting for room when the TX ring is full;
// it gives up if the device takes nothing for 10 seconds.
func sendAll(g *vmm.Guest, frame []byte) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := g.Send(frame)
		if !errors.Is(err, vmm.ErrRingFull) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("send: TX ring still full after 10s: %w", err)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// stream sends floodFrames frames of the established connection sp→dp
// from a to b in windows of floodWindow, checks that b gets every one of
// them, and returns the frames per second delivered.
func stream(t *testing.T, a, b routedNic, sp, dp uint16) float64 {
	t.Helper()
	frame := tcp4(a, b.ip, sp, dp, flagACK)
	start := time.Now()
	for sent := 0; sent < floodFrames; sent += floodWindow {
		for range floodWindow {
			if err := sendAll(a.g, frame); err != nil {
				t.Fatal(err)
			}
		}
		for range floodWindow {
			var p packet.Parsed
			packet.Parse(recv(t, b.g), &p)
			if p.Src != a.ip || p.IPProto != packet.ProtoTCP || p.SrcPort != sp || p.DstPort != dp {
				t.Fatalf("B got %+v, want TCP %s:%d → :%d", p, a.ip, sp, dp)
			}
		}
	}
	return floodFrames / time.Since(start).Seconds()
}

// openConn opens the TCP connection sp→dp from a to b, handshake both
// ways, and fails unless every segment passes.
func openConn(t *testing.T, a, b routedNic, sp, dp uint16) {
	t.Helper()
	passes(t, a, b, tcp4(a, b.ip, sp, dp, flagSYN))
	passes(t, b, a, tcp4(b, a.ip, dp, sp, flagSYN|flagACK))
	passes(t, a, b, tcp4(a, b.ip, sp, dp, flagACK))
}

// floodFrame is the i-th frame of a flood from f to v: TCP SYNs and UDP
// datagrams in turn, each from another source port (and, past one round
// of ports, to another destination port), so each opens a new flow.
func floodFrame(f, v routedNic, i int) []byte {
	sp := uint16(1024 + i%60000)
	dp := uint16(1 + i/60000)
	if i%2 == 0 {
		return tcp4(f, v.ip, sp, dp, flagSYN)
	}
	return packettest.UDP(f.mac, gwMAC, f.ip, v.ip, sp, dp, []byte("scan"))
}

// floodResult is what a flood did: the frames it sent, and why it ended
// early if it did.
type floodResult struct {
	sent int
	err  error
}

// startFlood sends the frames gen(0), gen(1), ... from f to v as fast as
// f's ring takes them, while a second goroutine drains v, until the
// returned function is called; that function stops the flood and returns
// what it did. The test's cleanup stops a flood left running.
func startFlood(t *testing.T, f, v routedNic, gen func(i int) []byte) func() floodResult {
	stop := make(chan struct{})
	done := make(chan floodResult, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := v.g.Recv(50 * time.Millisecond); err != nil && !errors.Is(err, vmm.ErrTimeout) {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		var r floodResult
		for ; ; r.sent++ {
			select {
			case <-stop:
				done <- r
				return
			default:
			}
			if err := sendAll(f.g, gen(r.sent)); err != nil {
				r.err = fmt.Errorf("flood frame %d: %w", r.sent, err)
				<-stop
				done <- r
				return
			}
		}
	}()
	var once sync.Once
	var res floodResult
	stopFlood := func() floodResult {
		once.Do(func() {
			close(stop)
			res = <-done
			wg.Wait()
		})
		return res
	}
	t.Cleanup(func() { stopFlood() })
	return stopFlood
}

// waitConntrackFull waits until the connection table of one of the NICs
// has refused a new connection.
func waitConntrackFull(t *testing.T, d *daemon.Daemon, nicIDs ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, id := range nicIDs {
			if drops(t, d, id)["conntrack_full"] > 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no conntrack_full on %v after the flood", nicIDs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSecurityGroupFlood: a VM that opens new flows as fast as it can (a
// SYN flood and a UDP port scan) fills its own NIC's connection table and
// no other: another pair of NICs in the network keeps its established
// connection and opens new ones, all delivered, with nothing dropped.
// Throughput of the other pair with and without the flood is logged.
func TestSecurityGroupFlood(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t), fmt.Sprintf("--conntrack-size=%d", floodTableSize))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("actor tree and counters:\n%s", d.DebugGet("/debug/actors"))
		}
	})
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	f := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	v := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})

	if _, err := d.Client.CreateSecurityGroup(ctx(t), &netpb.CreateSecurityGroupRequest{Name: "open"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []netpb.RuleProtocol{netpb.RuleProtocol_RULE_PROTOCOL_TCP, netpb.RuleProtocol_RULE_PROTOCOL_UDP} {
		addRule(t, d, &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: "open",
			Direction: netpb.RuleDirection_RULE_DIRECTION_INGRESS, Protocol: p})
	}
	for _, nic := range []routedNic{a, b, f, v} {
		if _, err := d.Client.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: nic.Id, SecurityGroupId: "open"}); err != nil {
			t.Fatal(err)
		}
	}

	// The established connection A→B, and its throughput without a flood.
	openConn(t, a, b, 40000, 80)
	quiet := stream(t, a, b, 40000, 80)

	// A control: the same frames at the same pace, but of two flows only,
	// which F's table holds: what is left of the throughput is what the
	// load costs on shared cores, not what a full table does.
	stopControl := startFlood(t, f, v, func(i int) []byte { return floodFrame(f, v, i%2) })
	control := stream(t, a, b, 40000, 80)
	ctl := stopControl()
	if ctl.err != nil {
		t.Fatal(ctl.err)
	}
	if got := drops(t, d, f.Id)["conntrack_full"]; got != 0 {
		t.Fatalf("conntrack_full of F after a flood of two flows: %d", got)
	}

	stopFlood := startFlood(t, f, v, func(i int) []byte { return floodFrame(f, v, i) })
	// Once the flooder's table is full, A opens new connections to B and
	// the established one keeps flowing.
	waitConntrackFull(t, d, f.Id, v.Id)
	for i := range uint16(floodNewConns) {
		openConn(t, a, b, 41000+i, 443)
	}
	during := stream(t, a, b, 40000, 80)
	// While it floods, the flooder's table is full and no bigger.
	if got := len(conntrackOf(t, d, f.Id)); got != floodTableSize {
		t.Errorf("the flooder tracks %d connections during the flood, want its full table of %d", got, floodTableSize)
	}
	res := stopFlood()
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.sent < 4*floodTableSize {
		t.Fatalf("flooder sent %d frames, want far more than its table of %d", res.sent, floodTableSize)
	}

	// And after the flood, with the flooder's table still full.
	for i := range uint16(floodNewConns) {
		openConn(t, a, b, 42000+i, 443)
	}
	after := stream(t, a, b, 40000, 80)

	for _, nic := range []routedNic{a, b} {
		got := drops(t, d, nic.Id)
		for _, reason := range []string{"conntrack_full", "sg_ingress_denied", "sg_egress_denied"} {
			if got[reason] != 0 {
				t.Errorf("%s of %s: %d, want 0 (%v)", reason, nic.Id, got[reason], got)
			}
		}
		// Exactly the connections A opened to B, in both tables.
		if conns := conntrackOf(t, d, nic.Id); len(conns) != 1+2*floodNewConns {
			t.Errorf("%s tracks %d connections, want %d", nic.Id, len(conns), 1+2*floodNewConns)
		}
	}
	if got := len(conntrackOf(t, d, v.Id)); got > floodTableSize {
		t.Errorf("V tracks %d connections, more than its table of %d", got, floodTableSize)
	}
	fFull := drops(t, d, f.Id)["conntrack_full"]
	if fFull == 0 {
		t.Errorf("the flooder's conntrack_full stayed 0 after %d new flows", res.sent)
	}
	t.Logf("flood: %d frames of new flows from F, conntrack_full F %d V %d, F tracks %d, V tracks %d",
		res.sent, fFull, drops(t, d, v.Id)["conntrack_full"], len(conntrackOf(t, d, f.Id)), len(conntrackOf(t, d, v.Id)))
	t.Logf("A→B established connection, %d frames of 54 B in windows of %d: %.0f frames/s without flood, %.0f during the flood of new flows (%.2f×), %.0f during the control flood of two flows (%.2f×, F sent %d), %.0f after",
		floodFrames, floodWindow, quiet, during, during/quiet, control, control/quiet, ctl.sent, after)
}
