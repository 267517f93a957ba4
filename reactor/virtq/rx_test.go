package virtq_test

import (
	"bytes"
	"testing"

	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// deliver encodes hdr and hands frame to Deliver in two pieces, as the
// router does (rewritten headers from scratch, the rest from guest memory).
func deliver(p *pair, c *virtq.Chain, frame []byte) (virtq.RxResult, virtq.Fault) {
	hdr := vmm.NetHeader{Flags: vmm.NetHdrFDataValid, NumBuffers: 0xeeee}.Append(nil)
	cut := min(len(frame), 34)
	return p.dev.Deliver(c, hdr, [][]byte{frame[:cut], frame[cut:]})
}

// TestRxMergeable delivers frames across several small buffers and checks
// num_buffers and the bytes the driver reassembles.
func TestRxMergeable(t *testing.T) {
	for _, indirect := range []bool{false, true} {
		dc := vmm.DriverQueueConfig{Size: 128, BufSize: 512, Indirect: indirect}
		p := newPair(t, dc, features(dc, virtq.FeatureNetMrgRxBuf), virtq.DeviceWrites)
		c := virtq.NewChain(4)
		for range 128 {
			if _, err := p.drv.AddRX(512); err != nil {
				t.Fatal(err)
			}
		}
		p.drv.Publish()
		for seq, n := range []int{0, 1, 60, 500, 501, 512 - 12, 512 - 11, 1514, 4000, 9000, 14, 3} {
			frame := frameFor(seq, n)
			if r, f := deliver(p, &c, frame); r != virtq.RxDelivered || f != virtq.FaultNone {
				t.Fatalf("frame %d (%d B): Deliver = %v, %v", seq, n, r, f)
			}
			p.dev.Publish()
			hdr, got, ok, err := p.drv.RecvFrame(true)
			if !ok || err != nil {
				t.Fatalf("frame %d: RecvFrame = %v, %v", seq, ok, err)
			}
			if want := (vmm.NetHeaderLen + n + 511) / 512; int(hdr.NumBuffers) != max(want, 1) {
				t.Fatalf("frame %d (%d B): num_buffers %d, want %d", seq, n, hdr.NumBuffers, want)
			}
			if hdr.Flags != vmm.NetHdrFDataValid || !bytes.Equal(got, frame) {
				t.Fatalf("frame %d: header %+v or bytes differ", seq, hdr)
			}
			for range hdr.NumBuffers {
				p.drv.AddRX(512)
			}
			p.drv.Publish()
		}
	}
}

// TestRxNoBuffersRollsBack runs out of RX buffers in the middle of a
// mergeable frame: nothing is consumed, and the buffers serve the next
// frame that fits.
func TestRxNoBuffersRollsBack(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 8, BufSize: 256}
	p := newPair(t, dc, features(dc, virtq.FeatureNetMrgRxBuf), virtq.DeviceWrites)
	c := virtq.NewChain(4)
	if r, _ := deliver(p, &c, frameFor(0, 100)); r != virtq.RxNoBuffers {
		t.Fatalf("empty queue: %v", r)
	}
	for range 3 {
		p.drv.AddRX(256)
	}
	p.drv.Publish()
	if r, _ := deliver(p, &c, frameFor(1, 1000)); r != virtq.RxNoBuffers {
		t.Fatalf("1000 B into 3x256: %v", r)
	}
	if p.dev.LastAvail() != 0 {
		t.Fatalf("rollback left last avail at %d", p.dev.LastAvail())
	}
	p.dev.Publish()
	if _, ok, _ := p.drv.GetUsed(); ok {
		t.Fatal("rolled-back chains were published")
	}
	frame := frameFor(2, 600)
	if r, f := deliver(p, &c, frame); r != virtq.RxDelivered || f != virtq.FaultNone {
		t.Fatalf("600 B into 3x256: %v %v", r, f)
	}
	p.dev.Publish()
	hdr, got, ok, err := p.drv.RecvFrame(true)
	if !ok || err != nil || hdr.NumBuffers != 3 || !bytes.Equal(got, frame) {
		t.Fatalf("RecvFrame: %+v %v %v", hdr, ok, err)
	}
}

// TestRxTooBigForFullRing: a mergeable frame longer than every buffer of
// a full ring together can never be placed, so it is RxTooBig, not
// RxNoBuffers, and consumes nothing; with one buffer fewer posted it is
// RxNoBuffers, since the last one may make room.
func TestRxTooBigForFullRing(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 4, BufSize: 256}
	p := newPair(t, dc, features(dc, virtq.FeatureNetMrgRxBuf), virtq.DeviceWrites)
	c := virtq.NewChain(4)
	for range 3 {
		p.drv.AddRX(256)
	}
	p.drv.Publish()
	if r, _ := deliver(p, &c, frameFor(0, 1000)); r != virtq.RxNoBuffers {
		t.Fatalf("1000 B into 3 of 4x256: %v", r)
	}
	p.drv.AddRX(256)
	p.drv.Publish()
	if r, _ := deliver(p, &c, frameFor(1, 1100)); r != virtq.RxTooBig {
		t.Fatalf("1100 B into a full ring of 4x256: %v", r)
	}
	if p.dev.LastAvail() != 0 {
		t.Fatalf("refused frame left last avail at %d", p.dev.LastAvail())
	}
	frame := frameFor(2, 1000)
	if r, f := deliver(p, &c, frame); r != virtq.RxDelivered || f != virtq.FaultNone {
		t.Fatalf("1000 B into 4x256: %v %v", r, f)
	}
}

// TestRxWithoutMergeable puts each frame in one chain, with num_buffers 1,
// and refuses a frame that does not fit without consuming the chain.
func TestRxWithoutMergeable(t *testing.T) {
	for _, indirect := range []bool{false, true} {
		dc := vmm.DriverQueueConfig{Size: 16, BufSize: 1024, Indirect: indirect}
		p := newPair(t, dc, features(dc, 0), virtq.DeviceWrites)
		c := virtq.NewChain(4)
		// A two-buffer chain (header buffer + data), as older drivers post.
		if _, err := p.drv.AddChain(nil, []int{vmm.NetHeaderLen, 1024}); err != nil {
			t.Fatal(err)
		}
		p.drv.Publish()
		if r, _ := deliver(p, &c, frameFor(0, 1024+1)); r != virtq.RxTooBig {
			t.Fatalf("oversized frame: %v", r)
		}
		frame := frameFor(1, 1024)
		if r, f := deliver(p, &c, frame); r != virtq.RxDelivered || f != virtq.FaultNone {
			t.Fatalf("fitting frame: %v %v", r, f)
		}
		p.dev.Publish()
		hdr, got, ok, err := p.drv.RecvFrame(false)
		if !ok || err != nil || hdr.NumBuffers != 1 || !bytes.Equal(got, frame) {
			t.Fatalf("RecvFrame: %+v %v %v", hdr, ok, err)
		}
	}
}

// TestRxLegacyHeader delivers with the 10-byte header of a legacy device,
// which has no num_buffers.
func TestRxLegacyHeader(t *testing.T) {
	if virtq.NetHeaderLen(0) != 10 || virtq.NetHeaderLen(virtq.FeatureVersion1) != 12 || virtq.NetHeaderLen(virtq.FeatureNetMrgRxBuf) != 12 {
		t.Fatal("NetHeaderLen")
	}
	dc := vmm.DriverQueueConfig{Size: 4}
	p := newPair(t, dc, 0, virtq.DeviceWrites)
	c := virtq.NewChain(4)
	p.drv.AddRX(100)
	p.drv.Publish()
	hdr := bytes.Repeat([]byte{0xaa}, 10)
	if r, _ := p.dev.Deliver(&c, hdr, [][]byte{[]byte("frame")}); r != virtq.RxDelivered {
		t.Fatalf("Deliver: %v", r)
	}
	p.dev.Publish()
	u, ok, err := p.drv.GetUsed()
	if !ok || err != nil || string(u.Data) != string(hdr)+"frame" {
		t.Fatalf("GetUsed: %q %v %v", u.Data, ok, err)
	}
}

// TestRxShortMergeableBuffer is a driver posting a mergeable buffer too
// small for the header, which the spec forbids.
func TestRxShortMergeableBuffer(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 4}
	p := newPair(t, dc, features(dc, virtq.FeatureNetMrgRxBuf), virtq.DeviceWrites)
	c := virtq.NewChain(4)
	p.drv.AddRX(8)
	p.drv.Publish()
	if r, f := deliver(p, &c, frameFor(0, 60)); r != virtq.RxFault || f != virtq.FaultShortRxBuffer {
		t.Fatalf("Deliver = %v, %v", r, f)
	}
}

// TestRxFaultPassesThrough checks that a broken chain met by Deliver is
// reported, not skipped.
func TestRxFaultPassesThrough(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 4}
	p := newPair(t, dc, features(dc, virtq.FeatureNetMrgRxBuf), virtq.DeviceWrites)
	c := virtq.NewChain(4)
	h, _ := p.drv.AddRX(100)
	p.drv.CorruptLen(h, 0)
	p.drv.Publish()
	if r, f := deliver(p, &c, frameFor(0, 60)); r != virtq.RxFault || f != virtq.FaultZeroLength {
		t.Fatalf("Deliver = %v, %v", r, f)
	}
	for _, r := range []virtq.RxResult{virtq.RxDelivered, virtq.RxNoBuffers, virtq.RxTooBig, virtq.RxFault, 9} {
		if r.String() == "" {
			t.Errorf("RxResult %d has no name", r)
		}
	}
}
