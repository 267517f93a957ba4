package vmm_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/guestmem"
	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// device maps mem as the back-end does and starts a virtq.Queue on q.
func device(t *testing.T, mem *vmm.GuestMemory, q *vmm.DriverQueue, feat virtq.Features, dir virtq.Direction) *virtq.Queue {
	t.Helper()
	r := mem.Region()
	fd, err := unix.Dup(r.Fd)
	if err != nil {
		t.Fatal(err)
	}
	tbl := &guestmem.Table{}
	t.Cleanup(func() { tbl.Close() })
	if err := tbl.Add(guestmem.Region{GuestPhysAddr: r.GuestPhysAddr, Size: r.Size, UserspaceAddr: r.UserspaceAddr}, fd); err != nil {
		t.Fatal(err)
	}
	v := q.Vring(-1, -1)
	dev := &virtq.Queue{}
	if err := dev.Setup(tbl, virtq.Config{Size: v.Size, Features: feat, Dir: dir, Space: virtq.UserAddrs, Desc: v.Desc, Avail: v.Avail, Used: v.Used}); err != nil {
		t.Fatal(err)
	}
	return dev
}

func newMem(t *testing.T, cfgs ...vmm.DriverQueueConfig) *vmm.GuestMemory {
	t.Helper()
	n := uint64(4096)
	for _, c := range cfgs {
		n += c.MemoryNeeded()
	}
	mem, err := vmm.NewGuestMemory(int(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	return mem
}

// TestDriverAgainstDevice moves frames both ways between a TX and an RX
// queue of one guest and the real device code.
func TestDriverAgainstDevice(t *testing.T) {
	txc := vmm.DriverQueueConfig{Size: 64, EventIdx: true, Indirect: true, AvailOddWord: true}
	rxc := vmm.DriverQueueConfig{Size: 64, EventIdx: true, BufSize: 1024}
	mem := newMem(t, txc, rxc)
	tx, err := vmm.NewDriverQueue(mem, txc)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := vmm.NewDriverQueue(mem, rxc)
	if err != nil {
		t.Fatal(err)
	}
	if _, avail, _ := tx.Addrs(); avail%4 != 2 {
		t.Fatalf("AvailOddWord: avail at %#x", avail)
	}
	feat := virtq.FeatureVersion1 | virtq.FeatureEventIdx | virtq.FeatureIndirectDesc | virtq.FeatureNetMrgRxBuf
	devTx := device(t, mem, tx, feat, virtq.DeviceReads)
	devRx := device(t, mem, rx, feat, virtq.DeviceWrites)
	for range 64 {
		if _, err := rx.AddRX(1024); err != nil {
			t.Fatal(err)
		}
	}
	if !rx.Publish() {
		t.Fatal("no kick for the first RX buffers")
	}
	c := virtq.NewChain(16)
	for i := range 200 {
		frame := bytes.Repeat([]byte{byte(i)}, 60+i*13)
		if _, err := tx.AddTX(vmm.NetHeader{GSOType: vmm.NetHdrGSONone}, frame); err != nil {
			t.Fatal(err)
		}
		tx.Publish()
		// The device loops the frame back: TX chain to RX buffers.
		if ok, f := devTx.Pop(&c); !ok || f != virtq.FaultNone {
			t.Fatalf("frame %d: Pop %v %v", i, ok, f)
		}
		in := c.ReadSegs()
		hdr, err := vmm.ParseNetHeader(in[0])
		if err != nil || hdr.GSOType != vmm.NetHdrGSONone {
			t.Fatalf("frame %d: header %+v %v", i, hdr, err)
		}
		head := c.Head
		out := vmm.NetHeader{Flags: vmm.NetHdrFDataValid}.Append(nil)
		if r, f := devRx.Deliver(&c, out, in[1:]); r != virtq.RxDelivered {
			t.Fatalf("frame %d: Deliver %v %v", i, r, f)
		}
		devTx.AddUsed(head, 0)
		devTx.Publish()
		devRx.Publish()
		if _, ok, err := tx.GetUsed(); !ok || err != nil {
			t.Fatalf("frame %d: tx GetUsed %v %v", i, ok, err)
		}
		h, got, ok, err := rx.RecvFrame(true)
		if !ok || err != nil || !bytes.Equal(got, frame) || h.Flags != vmm.NetHdrFDataValid {
			t.Fatalf("frame %d: RecvFrame %+v %v %v, %d bytes", i, h, ok, err, len(got))
		}
		for range h.NumBuffers {
			rx.AddRX(1024)
		}
		rx.Publish()
	}
}

// TestDriverChecksDevice plays a broken device by writing the used ring
// directly and expects GetUsed to notice.
func TestDriverChecksDevice(t *testing.T) {
	cfg := vmm.DriverQueueConfig{Size: 8}
	setUsed := func(mem *vmm.GuestMemory, q *vmm.DriverQueue, slot int, id, n uint32, idx uint16) {
		_, _, used := q.Addrs()
		b := mem.Bytes(used, 4+8*8)
		binary.LittleEndian.PutUint32(b[4+8*slot:], id)
		binary.LittleEndian.PutUint32(b[8+8*slot:], n)
		binary.LittleEndian.PutUint16(b[2:], idx)
	}
	tests := []struct {
		name  string
		id, n uint32
		idx   uint16
	}{
		{"head not in flight", 5, 0, 1},
		{"head out of range", 8, 0, 1},
		{"length beyond buffers", 0, 101, 1},
		{"used idx ran ahead", 0, 0, 9},
	}
	for _, tc := range tests {
		mem := newMem(t, cfg)
		q, err := vmm.NewDriverQueue(mem, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := q.AddRX(100); err != nil || h != 0 {
			t.Fatalf("AddRX: %d %v", h, err)
		}
		q.Publish()
		setUsed(mem, q, 0, tc.id, tc.n, tc.idx)
		if _, _, err := q.GetUsed(); err == nil {
			t.Errorf("%s: GetUsed accepted it", tc.name)
		}
	}
}

func TestDriverQueueLimits(t *testing.T) {
	cfg := vmm.DriverQueueConfig{Size: 4, BufSize: 64}
	mem := newMem(t, cfg)
	if _, err := vmm.NewDriverQueue(mem, vmm.DriverQueueConfig{Size: 6}); err == nil {
		t.Fatal("size 6 accepted")
	}
	q, err := vmm.NewDriverQueue(mem, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.AddChain(nil, nil); err == nil {
		t.Fatal("empty chain accepted")
	}
	if _, err := q.AddChain([][]byte{make([]byte, 65)}, nil); err == nil {
		t.Fatal("oversized buffer accepted")
	}
	if _, err := q.AddChain(nil, []int{1, 2, 3, 4, 5}); !errors.Is(err, vmm.ErrRingFull) {
		t.Fatalf("five buffers in four descriptors: %v", err)
	}
	if _, err := q.AddTX(vmm.NetHeader{}, make([]byte, 64*3)); err != nil || q.FreeDescs() != 0 {
		t.Fatalf("AddTX of 4 buffers: %v, %d free", err, q.FreeDescs())
	}
	if _, err := q.AddRX(1); !errors.Is(err, vmm.ErrRingFull) {
		t.Fatalf("full ring: %v", err)
	}
	if _, err := vmm.NewDriverQueue(mem, vmm.DriverQueueConfig{Size: 1024}); err == nil {
		t.Fatal("queue larger than the memory left accepted")
	}
}

// TestCorruptionHelpers checks that each helper changes the descriptor it
// names, in direct and indirect chains.
func TestCorruptionHelpers(t *testing.T) {
	for _, indirect := range []bool{false, true} {
		cfg := vmm.DriverQueueConfig{Size: 8, Indirect: indirect}
		mem := newMem(t, cfg)
		q, _ := vmm.NewDriverQueue(mem, cfg)
		h, err := q.AddChain([][]byte{[]byte("a")}, []int{10})
		if err != nil {
			t.Fatal(err)
		}
		descs, first := 2, 0
		if indirect {
			descs, first = 3, 1
		}
		if q.ChainDescs(h) != descs {
			t.Fatalf("indirect=%v: %d descriptors", indirect, q.ChainDescs(h))
		}
		read := func(k int) (d vmm.Desc) {
			q.ModifyDesc(h, k, func(x *vmm.Desc) { d = *x })
			return d
		}
		q.CorruptAddr(h, 0x1234)
		q.CorruptLen(h, 7)
		q.FlipDirection(h, 1)
		q.CorruptLoop(h)
		if d := read(first); d.Addr != 0x1234 || d.Len != 7 {
			t.Fatalf("indirect=%v: first buffer %+v", indirect, d)
		}
		last := read(descs - 1)
		wantNext := h
		if indirect {
			wantNext = 0
		}
		if last.Flags&vmm.DescFWrite != 0 || last.Flags&vmm.DescFNext == 0 || last.Next != wantNext {
			t.Fatalf("indirect=%v: last descriptor %+v", indirect, last)
		}
		idx := q.AvailIdx()
		q.PushBogusHead(99)
		q.JumpAvailIdx(3)
		if q.AvailIdx() != idx+4 {
			t.Fatalf("avail idx %d, want %d", q.AvailIdx(), idx+4)
		}
	}
}
