package virtq_test

import (
	"testing"

	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// TestKickSuppression checks the device's control over driver kicks, with
// and without EVENT_IDX, including the re-check after enabling.
func TestKickSuppression(t *testing.T) {
	for _, eventIdx := range []bool{false, true} {
		dc := vmm.DriverQueueConfig{Size: 16, EventIdx: eventIdx}
		p := newPair(t, dc, features(dc, 0), virtq.DeviceReads)
		c := virtq.NewChain(4)
		add := func() { p.drv.AddChain([][]byte{[]byte("x")}, nil) }
		drain := func() {
			for {
				ok, f := p.dev.Pop(&c)
				if f != virtq.FaultNone {
					t.Fatal(f)
				}
				if !ok {
					return
				}
				p.dev.AddUsed(c.Head, 0)
			}
		}
		add()
		if !p.drv.Publish() {
			t.Fatalf("eventidx=%v: a fresh queue wants kicks", eventIdx)
		}
		p.dev.DisableNotify()
		add()
		if p.drv.Publish() {
			t.Fatalf("eventidx=%v: kick after DisableNotify", eventIdx)
		}
		drain()
		if p.dev.EnableNotify() {
			t.Fatalf("eventidx=%v: EnableNotify on a drained queue reports work", eventIdx)
		}
		add()
		if !p.drv.Publish() {
			t.Fatalf("eventidx=%v: no kick after EnableNotify", eventIdx)
		}
		// The race: the driver adds while the device has notifications
		// off; enabling them must report the new chain.
		p.dev.DisableNotify()
		drain()
		add()
		if p.drv.Publish() {
			t.Fatalf("eventidx=%v: kick while disabled", eventIdx)
		}
		if !p.dev.EnableNotify() {
			t.Fatalf("eventidx=%v: EnableNotify missed a chain added while disabled", eventIdx)
		}
		drain()
		p.dev.Publish()
	}
}

// TestInterruptSuppression checks NeedsNotify against the driver's wishes.
func TestInterruptSuppression(t *testing.T) {
	for _, eventIdx := range []bool{false, true} {
		dc := vmm.DriverQueueConfig{Size: 16, EventIdx: eventIdx}
		p := newPair(t, dc, features(dc, 0), virtq.DeviceReads)
		c := virtq.NewChain(4)
		for range 8 {
			p.drv.AddChain([][]byte{[]byte("x")}, nil)
		}
		p.drv.Publish()
		complete := func(n int) bool {
			for range n {
				if ok, _ := p.dev.Pop(&c); !ok {
					t.Fatal("queue empty")
				}
				p.dev.AddUsed(c.Head, 0)
			}
			p.dev.Publish()
			return p.dev.NeedsNotify()
		}
		if p.dev.NeedsNotify() {
			t.Fatalf("eventidx=%v: notify with nothing published", eventIdx)
		}
		if !complete(2) {
			t.Fatalf("eventidx=%v: no notify with interrupts enabled", eventIdx)
		}
		if p.dev.NeedsNotify() {
			t.Fatalf("eventidx=%v: second notify for the same batch", eventIdx)
		}
		if got := complete(1); got != !eventIdx {
			// With EVENT_IDX the driver has not read the first batch,
			// so used_event still asks for index 0 only.
			t.Fatalf("eventidx=%v: notify for unread batch = %v", eventIdx, got)
		}
		for range 3 {
			if _, ok, err := p.drv.GetUsed(); !ok || err != nil {
				t.Fatal("GetUsed", ok, err)
			}
		}
		if !complete(1) {
			t.Fatalf("eventidx=%v: no notify after the driver caught up", eventIdx)
		}
		p.drv.GetUsed()
		p.drv.DisableInterrupts()
		if complete(1) {
			t.Fatalf("eventidx=%v: notify with interrupts disabled", eventIdx)
		}
		p.drv.GetUsed()
		if p.drv.EnableInterrupts() {
			t.Fatalf("eventidx=%v: EnableInterrupts reports used buffers", eventIdx)
		}
		if !complete(2) {
			t.Fatalf("eventidx=%v: no notify after EnableInterrupts", eventIdx)
		}
	}
}

// TestRxWaitsForMoreBuffers checks that a device short of buffers for a
// mergeable frame sleeps (EnableNotify false) instead of spinning on the
// buffers it already saw, and that the driver's next buffer kicks it.
func TestRxWaitsForMoreBuffers(t *testing.T) {
	for _, eventIdx := range []bool{false, true} {
		dc := vmm.DriverQueueConfig{Size: 16, EventIdx: eventIdx, BufSize: 256}
		p := newPair(t, dc, features(dc, virtq.FeatureNetMrgRxBuf), virtq.DeviceWrites)
		c := virtq.NewChain(4)
		p.drv.AddRX(256)
		p.drv.AddRX(256)
		p.drv.Publish()
		if r, _ := deliver(p, &c, frameFor(0, 1000)); r != virtq.RxNoBuffers {
			t.Fatalf("eventidx=%v: Deliver = %v", eventIdx, r)
		}
		if p.dev.EnableNotify() {
			t.Fatalf("eventidx=%v: EnableNotify counts buffers already seen", eventIdx)
		}
		p.drv.AddRX(256)
		p.drv.AddRX(256)
		if !p.drv.Publish() {
			t.Fatalf("eventidx=%v: no kick for new buffers", eventIdx)
		}
		if r, _ := deliver(p, &c, frameFor(0, 1000)); r != virtq.RxDelivered {
			t.Fatalf("eventidx=%v: Deliver after refill = %v", eventIdx, r)
		}
	}
}
