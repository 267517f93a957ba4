package reactor

import (
	"os"
	"runtime/debug"
	"testing"

	"mvirt-net/tests/vmm"
)

// TestLentFrameFaultCostsThatFrame: A lends B three full-size frames, and
// A's VMM truncates its memory under the second one's bytes past its
// headers. B's copy of it faults: B drops that frame only (lent_fault),
// puts back the RX chain it had taken, delivers the frames around it and
// releases all three, so A gets every TX chain back; B's RX ring then
// serves the next frame as before.
func TestLentFrameFaultCostsThatFrame(t *testing.T) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	a, b := pair(t)
	frame := udp(a, b, 1500)
	var poisoned uint16
	for i := range 3 {
		head, err := a.tx.AddTX(vmm.NetHeader{}, frame)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			poisoned = head
		}
	}
	// The poisoned frame's first 200 bytes lie below a page boundary,
	// the rest above it, where the memory is cut off.
	page := uint64(os.Getpagesize())
	boundary := a.mem.Alloc(2*page, page) + page
	at := boundary - 200
	copy(a.mem.Bytes(at, 200), frame)
	a.tx.ModifyDesc(poisoned, 1, func(d *vmm.Desc) { d.Addr = at })
	a.tx.Publish()
	if err := a.mem.Truncate(boundary); err != nil {
		t.Fatal(err)
	}

	a.r.processTx()
	b.r.drainInboxFrames()
	if got := b.r.cfg.Stats.Drops[DropLentFault].Load(); got != 1 {
		t.Fatalf("lent_fault drops %d, want 1", got)
	}
	if got := b.r.queues[rxQueue].q.LastAvail(); got != 2 {
		t.Fatalf("B took %d RX chains for 2 frames delivered", got)
	}
	if got := drain(t, a, b); got != 2 {
		t.Fatalf("B received %d frames, want the 2 around the faulting one", got)
	}
	a.r.reapTx()
	if got := usedTX(t, a); got != 3 {
		t.Fatalf("A got %d of its 3 TX chains back", got)
	}

	fill(t, a, frame, 1)
	a.r.processTx()
	b.r.drainInboxFrames()
	if got := drain(t, a, b); got != 1 {
		t.Fatalf("B received %d frames after the fault, want 1", got)
	}
}
