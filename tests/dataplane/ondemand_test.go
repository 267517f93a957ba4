package dataplane_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// nicDrops returns the NIC's drop counter of reason in /metrics (0 while
// it has none).
func nicDrops(t *testing.T, d *daemon.Daemon, nicID, reason string) float64 {
	t.Helper()
	for _, l := range strings.Split(d.DebugGet("/metrics"), "\n") {
		if strings.HasPrefix(l, "mvirt_net_nic_drops_total{") && strings.Contains(l, `nic="`+nicID+`"`) && strings.Contains(l, `reason="`+reason+`"`) {
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

// TestFramesToNicWithoutFrontend: a NIC that no VMM ever connected to has
// no reactor until frames arrive for it; then its reactor starts, drops
// them (no RX ring) and gives the frames lent to it back, so a sender
// that sends it far more than its TX ring and the NIC's inbox hold never
// stalls; a VMM connecting afterwards gets a working NIC.
func TestFramesToNicWithoutFrontend(t *testing.T) {
	d, nics := setup(t, 2)
	a := routedNic{nicUnderTest: nics[0], g: connect(t, nics[0], vmm.GuestConfig{QueueSize: 64})}
	b := routedNic{nicUnderTest: nics[1]}
	waitState(t, d, a.Id, netpb.NicState_NIC_STATE_ACTIVE)
	const frames = 2000 // lent (1000 bytes), 30 times A's TX ring, 4 times B's inbox
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < frames; {
		err := a.g.Send(echoOf(a, b, 1000, uint16(i)))
		if err == nil {
			i++
			continue
		}
		if !errors.Is(err, vmm.ErrRingFull) || time.Now().After(deadline) {
			t.Fatalf("frame %d of %d to the NIC without a frontend: %v", i, frames, err)
		}
		time.Sleep(time.Millisecond)
	}
	for nicDrops(t, d, b.Id, "no_rx_buffer") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the NIC without a frontend counted no frame dropped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	pingGateway(t, a.g, a.nicUnderTest, 1)
	if got := nicState(t, d, b.Id); got != netpb.NicState_NIC_STATE_CREATED {
		t.Fatalf("the NIC without a frontend is %v, want CREATED", got)
	}
	b.g = connect(t, b.nicUnderTest, vmm.GuestConfig{})
	waitState(t, d, b.Id, netpb.NicState_NIC_STATE_ACTIVE)
	pingGateway(t, b.g, b.nicUnderTest, 2)
}
