package virtq_test

import (
	"testing"

	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// TestUnpop gives a popped chain back and pops it again, unchanged.
func TestUnpop(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 16}
	p := newPair(t, dc, features(dc, 0), virtq.DeviceReads)
	for _, f := range [][]byte{[]byte("first frame"), []byte("second frame")} {
		if _, err := p.drv.AddTX(vmm.NetHeader{}, f); err != nil {
			t.Fatal(err)
		}
	}
	p.drv.Publish()
	c := virtq.NewChain(8)
	if ok, f := p.dev.Pop(&c); !ok || f != virtq.FaultNone {
		t.Fatalf("pop: %v %v", ok, f)
	}
	first := c.Head
	p.dev.Unpop()
	if p.dev.LastAvail() != 0 {
		t.Fatalf("last avail %d after unpop", p.dev.LastAvail())
	}
	if ok, _ := p.dev.Pop(&c); !ok || c.Head != first {
		t.Fatalf("after unpop got head %d, want %d", c.Head, first)
	}
	if ok, _ := p.dev.Pop(&c); !ok || c.Head == first {
		t.Fatal("second chain not popped")
	}
	if ok, _ := p.dev.Pop(&c); ok {
		t.Fatal("popped a third chain")
	}
}
