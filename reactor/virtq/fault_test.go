package virtq_test

import (
	"testing"

	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// TestGuestViolations breaks each rule of the spec from the driver side
// and checks that Pop reports it with the right Fault, and that a good
// chain before it still pops.
func TestGuestViolations(t *testing.T) {
	frame := frameFor(1, 100)
	tx := func(q *vmm.DriverQueue) uint16 {
		h, err := q.AddTX(vmm.NetHeader{}, frame)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name     string
		dc       vmm.DriverQueueConfig
		feat     virtq.Features // on top of what dc implies
		noIndir  bool           // withhold INDIRECT_DESC from the device
		dir      virtq.Direction
		corrupt  func(q *vmm.DriverQueue)
		want     virtq.Fault
		wantTrue bool // Pop reports the entry consumed
	}{
		{name: "loop", corrupt: func(q *vmm.DriverQueue) { q.CorruptLoop(tx(q)) }, want: virtq.FaultChainTooLong},
		{name: "self loop", corrupt: func(q *vmm.DriverQueue) {
			h := tx(q)
			q.ModifyDesc(h, 0, func(d *vmm.Desc) { d.Flags |= vmm.DescFNext; d.Next = h })
		}, want: virtq.FaultChainTooLong},
		{name: "addr out of range", corrupt: func(q *vmm.DriverQueue) { q.CorruptAddr(tx(q), 0x1000) }, want: virtq.FaultDescOutOfMemory},
		{name: "addr straddles memory start", corrupt: func(q *vmm.DriverQueue) {
			q.ModifyDesc(tx(q), 0, func(d *vmm.Desc) { d.Addr = vmm.DefaultGuestBase - 6 })
		}, want: virtq.FaultDescOutOfMemory},
		{name: "addr+len wraps", corrupt: func(q *vmm.DriverQueue) {
			h := tx(q)
			q.ModifyDesc(h, 0, func(d *vmm.Desc) { d.Addr = ^uint64(0) - 3; d.Len = 12 })
		}, want: virtq.FaultDescOutOfMemory},
		{name: "len past memory", corrupt: func(q *vmm.DriverQueue) { q.CorruptLen(tx(q), 0xffffffff) }, want: virtq.FaultDescOutOfMemory},
		{name: "zero length", corrupt: func(q *vmm.DriverQueue) { q.CorruptLen(tx(q), 0) }, want: virtq.FaultZeroLength},
		{name: "writable on tx", corrupt: func(q *vmm.DriverQueue) { q.FlipDirection(tx(q), 1) }, want: virtq.FaultWrongDirection},
		{name: "readable on rx", dir: virtq.DeviceWrites, corrupt: func(q *vmm.DriverQueue) {
			h, _ := q.AddRX(100)
			q.FlipDirection(h, 0)
		}, want: virtq.FaultWrongDirection},
		{name: "read after write", dir: virtq.AnyDirection, corrupt: func(q *vmm.DriverQueue) {
			h, _ := q.AddChain([][]byte{[]byte("x")}, []int{10})
			q.FlipDirection(h, 0)
			q.FlipDirection(h, 1)
		}, want: virtq.FaultReadAfterWrite},
		{name: "bogus head", corrupt: func(q *vmm.DriverQueue) { q.PushBogusHead(q.Size()) }, want: virtq.FaultHeadOutOfRange},
		{name: "bogus head max", corrupt: func(q *vmm.DriverQueue) { q.PushBogusHead(0xffff) }, want: virtq.FaultHeadOutOfRange},
		{name: "next out of range", corrupt: func(q *vmm.DriverQueue) {
			q.ModifyDesc(tx(q), 1, func(d *vmm.Desc) { d.Flags |= vmm.DescFNext; d.Next = 16 })
		}, want: virtq.FaultNextOutOfRange},
		{name: "avail idx jump", corrupt: func(q *vmm.DriverQueue) { tx(q); q.JumpAvailIdx(q.Size()) }, want: virtq.FaultAvailIdxJump},
		{name: "avail idx backwards", corrupt: func(q *vmm.DriverQueue) { q.JumpAvailIdx(0xffff) }, want: virtq.FaultAvailIdxJump},
		{name: "indirect loop", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) { q.CorruptLoop(tx(q)) }, want: virtq.FaultIndirectLoop},
		{name: "indirect next out of table", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.ModifyDesc(tx(q), 2, func(d *vmm.Desc) { d.Flags |= vmm.DescFNext; d.Next = 2 })
		}, want: virtq.FaultNextOutOfRange},
		{name: "indirect not negotiated", dc: vmm.DriverQueueConfig{Indirect: true}, noIndir: true,
			corrupt: func(q *vmm.DriverQueue) { tx(q) }, want: virtq.FaultIndirectNotNegotiated},
		{name: "indirect with next", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.ModifyDesc(tx(q), 0, func(d *vmm.Desc) { d.Flags |= vmm.DescFNext })
		}, want: virtq.FaultIndirectNext},
		{name: "indirect length not multiple of 16", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.ModifyDesc(tx(q), 0, func(d *vmm.Desc) { d.Len = 20 })
		}, want: virtq.FaultIndirectLength},
		{name: "indirect length zero", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.ModifyDesc(tx(q), 0, func(d *vmm.Desc) { d.Len = 0 })
		}, want: virtq.FaultIndirectLength},
		{name: "indirect table out of memory", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.ModifyDesc(tx(q), 0, func(d *vmm.Desc) { d.Addr = 16 })
		}, want: virtq.FaultIndirectOutOfMemory},
		{name: "nested indirect", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.ModifyDesc(tx(q), 1, func(d *vmm.Desc) { d.Flags |= vmm.DescFIndirect })
		}, want: virtq.FaultNestedIndirect},
		{name: "indirect buffer out of memory", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.CorruptAddr(tx(q), 0)
		}, want: virtq.FaultDescOutOfMemory},
		{name: "indirect zero length", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.CorruptLen(tx(q), 0)
		}, want: virtq.FaultZeroLength},
		{name: "indirect wrong direction", dc: vmm.DriverQueueConfig{Indirect: true}, corrupt: func(q *vmm.DriverQueue) {
			q.FlipDirection(tx(q), 0)
		}, want: virtq.FaultWrongDirection},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dc := tc.dc
			dc.Size = 16
			dir := tc.dir
			if dir == 0 {
				dir = virtq.DeviceReads
			}
			feat := features(dc, tc.feat)
			if tc.noIndir {
				feat &^= virtq.FeatureIndirectDesc
			}
			p := newPair(t, dc, feat, dir)
			c := virtq.NewChain(8)
			if dir == virtq.DeviceReads && !tc.noIndir {
				tx(p.drv)
				p.drv.Publish()
				if ok, f := p.dev.Pop(&c); !ok || f != virtq.FaultNone {
					t.Fatalf("good chain: Pop = %v, %v", ok, f)
				}
			}
			tc.corrupt(p.drv)
			p.drv.Publish()
			_, f := p.dev.Pop(&c)
			if f != tc.want {
				t.Fatalf("Pop fault = %v, want %v", f, tc.want)
			}
			if !f.Fatal() {
				t.Fatalf("%v is not fatal", f)
			}
		})
	}
}

// TestFaultNames checks that every Fault has its own name.
func TestFaultNames(t *testing.T) {
	seen := map[string]bool{}
	for f := virtq.FaultNone; f <= virtq.FaultSegmentLimit; f++ {
		s := f.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("fault %d has name %q", f, s)
		}
		seen[s] = true
	}
	if virtq.Fault(200).String() != "unknown" {
		t.Error("out-of-range fault has a name")
	}
	if virtq.FaultNone.Fatal() || virtq.FaultSegmentLimit.Fatal() || !virtq.FaultZeroLength.Fatal() {
		t.Error("Fatal misclassifies")
	}
}
