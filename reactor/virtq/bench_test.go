package virtq_test

import (
	"fmt"
	"testing"

	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// batch is how many chains the steady-state loops handle per Publish.
const batch = 32

// steadyTx is a TX queue whose driver re-offers the same chains forever:
// every avail ring slot holds a chain, and "refilling" is moving the avail
// idx, so the loop measures the device side only.
type steadyTx struct {
	p *pair
	c virtq.Chain
	n int
}

func newSteadyTx(tb testing.TB, bufs int, eventIdx bool) *steadyTx {
	dc := vmm.DriverQueueConfig{Size: 256, EventIdx: eventIdx}
	p := newPair(tb, dc, features(dc, 0), virtq.DeviceReads)
	out := make([][]byte, bufs)
	for i := range out {
		out[i] = make([]byte, 64)
	}
	for range int(dc.Size) / bufs {
		if _, err := p.drv.AddChain(out, nil); err != nil {
			tb.Fatal(err)
		}
	}
	p.drv.Publish()
	return &steadyTx{p: p, c: virtq.NewChain(8)}
}

// packet pops one chain, gives it back, and publishes every batch chains.
func (s *steadyTx) packet() {
	ok, f := s.p.dev.Pop(&s.c)
	if !ok {
		s.p.drv.JumpAvailIdx(batch)
		s.p.drv.Publish()
		ok, f = s.p.dev.Pop(&s.c)
	}
	if !ok || f != virtq.FaultNone {
		panic(fmt.Sprintf("pop: %v %v", ok, f))
	}
	s.p.dev.AddUsed(s.c.Head, 0)
	if s.n++; s.n%batch == 0 {
		s.p.dev.Publish()
		s.p.dev.NeedsNotify()
	}
}

// steadyRx is steadyTx for a receive queue and Deliver.
type steadyRx struct {
	p     *pair
	c     virtq.Chain
	hdr   []byte
	frame [][]byte
	n     int
	per   int // RX buffers per frame
}

func newSteadyRx(tb testing.TB, frameLen, bufSize int, mergeable bool) *steadyRx {
	dc := vmm.DriverQueueConfig{Size: 256, EventIdx: true, BufSize: bufSize}
	var extra virtq.Features
	if mergeable {
		extra = virtq.FeatureNetMrgRxBuf
	}
	p := newPair(tb, dc, features(dc, extra), virtq.DeviceWrites)
	for range int(dc.Size) {
		if _, err := p.drv.AddRX(bufSize); err != nil {
			tb.Fatal(err)
		}
	}
	p.drv.Publish()
	per := (vmm.NetHeaderLen + frameLen + bufSize - 1) / bufSize
	return &steadyRx{p: p, c: virtq.NewChain(8), hdr: make([]byte, vmm.NetHeaderLen),
		frame: [][]byte{make([]byte, 34), make([]byte, frameLen-34)}, per: per}
}

// packet delivers one frame, publishing every batch frames.
func (s *steadyRx) packet() {
	r, f := s.p.dev.Deliver(&s.c, s.hdr, s.frame)
	if r == virtq.RxNoBuffers {
		s.p.drv.JumpAvailIdx(uint16(batch * s.per))
		s.p.drv.Publish()
		r, f = s.p.dev.Deliver(&s.c, s.hdr, s.frame)
	}
	if r != virtq.RxDelivered {
		panic(fmt.Sprintf("deliver: %v %v", r, f))
	}
	if s.n++; s.n%batch == 0 {
		s.p.dev.Publish()
		s.p.dev.NeedsNotify()
	}
}

// TestAllocs holds the hot paths to zero allocations.
func TestAllocs(t *testing.T) {
	tx := newSteadyTx(t, 2, true)
	if a := testing.AllocsPerRun(1000, tx.packet); a != 0 {
		t.Errorf("pop+addUsed+publish: %v allocations per packet", a)
	}
	rx := newSteadyRx(t, 1500, 2048, false)
	if a := testing.AllocsPerRun(1000, rx.packet); a != 0 {
		t.Errorf("deliver: %v allocations per frame", a)
	}
	mrg := newSteadyRx(t, 1500, 512, true)
	if a := testing.AllocsPerRun(1000, mrg.packet); a != 0 {
		t.Errorf("mergeable deliver: %v allocations per frame", a)
	}
}

// BenchmarkPopUsed measures the device's per-packet cost on a TX queue:
// Pop, AddUsed, and one Publish + NeedsNotify per 32 packets.
func BenchmarkPopUsed(b *testing.B) {
	for _, bufs := range []int{1, 2, 4} {
		for _, eventIdx := range []bool{false, true} {
			b.Run(fmt.Sprintf("bufs=%d/eventidx=%v", bufs, eventIdx), func(b *testing.B) {
				s := newSteadyTx(b, bufs, eventIdx)
				b.ReportAllocs()
				for b.Loop() {
					s.packet()
				}
			})
		}
	}
}

// BenchmarkDeliver measures delivering one frame into an RX queue,
// copy included.
func BenchmarkDeliver(b *testing.B) {
	for _, tc := range []struct {
		frame, buf int
		mergeable  bool
	}{{64, 2048, false}, {1500, 2048, false}, {1500, 2048, true}, {1500, 512, true}, {9000, 4096, true}} {
		b.Run(fmt.Sprintf("frame=%d/buf=%d/mergeable=%v", tc.frame, tc.buf, tc.mergeable), func(b *testing.B) {
			s := newSteadyRx(b, tc.frame, tc.buf, tc.mergeable)
			b.SetBytes(int64(tc.frame))
			b.ReportAllocs()
			for b.Loop() {
				s.packet()
			}
		})
	}
}
