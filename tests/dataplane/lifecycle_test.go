package dataplane_test

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
	"time"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// goroutines reads the daemon's go_goroutines gauge.
func goroutines(t *testing.T, d *daemon.Daemon) int {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(d.DebugGet("/metrics")))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}

func openFds(t *testing.T, d *daemon.Daemon) int {
	t.Helper()
	n, err := d.OpenFds()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReconnectHundredTimes connects, pings and disconnects 100 times and
// checks that the daemon's descriptors and goroutines come back to where
// they were.
func TestReconnectHundredTimes(t *testing.T) {
	d, nics := setup(t, 1)
	g := connect(t, nics[0], vmm.GuestConfig{})
	pingGateway(t, g, nics[0], 0)
	g.Close()
	waitState(t, d, nics[0].Id, netpb.NicState_NIC_STATE_CREATED)
	gors := goroutines(t, d) // first: its HTTP connection stays open
	fds := openFds(t, d)

	for i := range 100 {
		g, err := vmm.Connect(nics[0].SocketPath, vmm.GuestConfig{QueueSize: 64})
		if err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		pingGateway(t, g, nics[0], uint16(i))
		g.Close()
	}
	waitState(t, d, nics[0].Id, netpb.NicState_NIC_STATE_CREATED)
	// A leak grows with the reconnects (100 of them); the runtime's and
	// the servers' own short-lived goroutines come and go, so allow a few
	// and give them time to end.
	deadline := time.Now().Add(5 * time.Second)
	for {
		gotGors := goroutines(t, d)
		gotFds := openFds(t, d)
		if gotGors <= gors+3 && gotFds <= fds {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 100 reconnects: daemon goroutines %d (before %d), fds %d (before %d)", gotGors, gors, gotFds, fds)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReactorPanicRestarts injects a panic into a reactor: it restarts on
// the same socket, a reconnecting guest passes traffic, and the other NIC
// never notices.
func TestReactorPanicRestarts(t *testing.T) {
	d, nics := setup(t, 2, "--fault-injection")
	victim := connect(t, nics[0], vmm.GuestConfig{})
	bystander := connect(t, nics[1], vmm.GuestConfig{})
	pingGateway(t, victim, nics[0], 1)
	pingGateway(t, bystander, nics[1], 1)

	if out := d.DebugPost("/debug/nics/" + nics[0].Id + "/panic"); out != "" {
		t.Fatalf("inject panic: %s", out)
	}
	waitState(t, d, nics[0].Id, netpb.NicState_NIC_STATE_CREATED)
	pingGateway(t, bystander, nics[1], 2)
	victim.Close()

	again := connect(t, nics[0], vmm.GuestConfig{})
	waitState(t, d, nics[0].Id, netpb.NicState_NIC_STATE_ACTIVE)
	for seq := range uint16(10) {
		pingGateway(t, again, nics[0], 10+seq)
	}
	pingGateway(t, bystander, nics[1], 3)
	if tree := d.DebugGet("/debug/actors"); !strings.Contains(tree, `"reactor_restarts": 1`) {
		t.Fatalf("restart not counted in /debug/actors:\n%s", tree)
	}
}
