package virtq_test

import (
	"testing"

	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// TestPeekBuffer: PeekBuffer(k) shows the first buffer of the chain k
// pops ahead, the one Pop then returns; it changes nothing, and shows
// nothing the last avail idx read does not cover, nothing past it, and
// nothing behind an indirect descriptor.
func TestPeekBuffer(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 16, BufSize: 1024}
	p := newPair(t, dc, features(dc, 0), virtq.DeviceWrites)
	for range 3 {
		if _, err := p.drv.AddRX(1024); err != nil {
			t.Fatal(err)
		}
	}
	p.drv.Publish()
	c := virtq.NewChain(4)
	if p.dev.PeekBuffer(0) != nil {
		t.Fatal("PeekBuffer saw chains before Pop read the avail idx")
	}
	if ok, f := p.dev.Pop(&c); !ok || f != virtq.FaultNone {
		t.Fatalf("Pop = %v, %v", ok, f)
	}
	first, second := p.dev.PeekBuffer(0), p.dev.PeekBuffer(1)
	if len(first) != 1024 || len(second) != 1024 {
		t.Fatalf("peeked %d and %d bytes, want the two 1024-byte buffers left", len(first), len(second))
	}
	if p.dev.PeekBuffer(2) != nil {
		t.Fatal("PeekBuffer past the available chains returned a buffer")
	}
	for i, peeked := range [][]byte{first, second} {
		if ok, f := p.dev.Pop(&c); !ok || f != virtq.FaultNone {
			t.Fatalf("Pop %d = %v, %v", i, ok, f)
		}
		if got := c.WriteSegs()[0]; &got[0] != &peeked[0] || len(got) != len(peeked) {
			t.Fatalf("chain %d: peeked a buffer that Pop did not return", i)
		}
	}
	if p.dev.PeekBuffer(0) != nil {
		t.Fatal("PeekBuffer on an empty queue returned a buffer")
	}

	di := vmm.DriverQueueConfig{Size: 16, BufSize: 1024, Indirect: true}
	q := newPair(t, di, features(di, 0), virtq.DeviceReads)
	for range 2 {
		if _, err := q.drv.AddTX(vmm.NetHeader{}, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	q.drv.Publish()
	if ok, f := q.dev.Pop(&c); !ok || f != virtq.FaultNone {
		t.Fatalf("Pop = %v, %v", ok, f)
	}
	if q.dev.PeekBuffer(0) != nil {
		t.Fatal("PeekBuffer looked through an indirect descriptor")
	}
}
