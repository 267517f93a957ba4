package dataplane_test

import (
	"strings"
	"testing"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// refusedMetric returns the NIC's line of the refused-frontends counter in
// /metrics.
func refusedMetric(t *testing.T, d *daemon.Daemon, nicID string) string {
	t.Helper()
	for _, l := range strings.Split(d.DebugGet("/metrics"), "\n") {
		if strings.HasPrefix(l, "mvirt_net_nic_refused_frontends_total{") && strings.Contains(l, `nic="`+nicID+`"`) {
			return l
		}
	}
	t.Fatalf("no refused-frontends counter for nic %s in /metrics", nicID)
	return ""
}

// TestSecondFrontendRefused: while a NIC's frontend is connected, a
// second one is refused (closed at once, logged, counted) and the first
// keeps its traffic; once the first has gone, a new one is accepted.
func TestSecondFrontendRefused(t *testing.T) {
	d, nics := setup(t, 1)
	nic := nics[0]
	first := connect(t, nic, vmm.GuestConfig{})
	waitState(t, d, nic.Id, netpb.NicState_NIC_STATE_ACTIVE)
	pingGateway(t, first, nic, 1)

	for range 2 {
		if g, err := vmm.Connect(nic.SocketPath, vmm.GuestConfig{}); err == nil {
			g.Close()
			t.Fatal("a second frontend completed its handshake on a NIC in use")
		}
	}
	for seq := range uint16(10) {
		pingGateway(t, first, nic, 2+seq)
	}
	if s := nicState(t, d, nic.Id); s != netpb.NicState_NIC_STATE_ACTIVE {
		t.Fatalf("NIC state %v after the refused connections", s)
	}
	if l := refusedMetric(t, d, nic.Id); !strings.HasSuffix(l, " 2") {
		t.Errorf("refused connections not counted: %s", l)
	}
	if !strings.Contains(d.Log(), "refused a second frontend") {
		t.Error("refused connection not logged")
	}

	first.Close()
	waitState(t, d, nic.Id, netpb.NicState_NIC_STATE_CREATED)
	again := connect(t, nic, vmm.GuestConfig{})
	waitState(t, d, nic.Id, netpb.NicState_NIC_STATE_ACTIVE)
	pingGateway(t, again, nic, 20)
}

// TestFrontendGoneIsReplaced: a frontend that went away, whether or not
// the reactor has handled its end yet (a VMM that crashed and reconnects
// at once), is replaced by the next connection, as QEMU's reconnect
// needs; none of those reconnects is refused.
func TestFrontendGoneIsReplaced(t *testing.T) {
	d, nics := setup(t, 1)
	nic := nics[0]
	for i := range 5 {
		g, err := vmm.Connect(nic.SocketPath, vmm.GuestConfig{})
		if err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		pingGateway(t, g, nic, uint16(i))
		g.Close()
		next, err := vmm.Connect(nic.SocketPath, vmm.GuestConfig{})
		if err != nil {
			t.Fatalf("reconnect %d right after a close: %v", i, err)
		}
		waitState(t, d, nic.Id, netpb.NicState_NIC_STATE_ACTIVE)
		pingGateway(t, next, nic, uint16(100+i))
		next.Close()
		waitState(t, d, nic.Id, netpb.NicState_NIC_STATE_CREATED)
	}
	if l := refusedMetric(t, d, nic.Id); !strings.HasSuffix(l, " 0") {
		t.Errorf("a reconnect after a close was refused: %s", l)
	}
}
