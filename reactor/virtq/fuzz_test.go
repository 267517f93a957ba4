package virtq

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/guestmem"

	"mvirt-net/reactor/virtq/ringword"
)

// The fuzz guest has one 64 KiB region at fuzzBase: descriptor table,
// available ring, used ring, an area for indirect tables, then data.
const (
	fuzzBase     = 0x10000
	fuzzSize     = 0x10000
	fuzzDesc     = fuzzBase
	fuzzAvail    = fuzzBase + 0x1000
	fuzzUsed     = fuzzBase + 0x2000
	fuzzIndirect = fuzzBase + 0x3000
	fuzzIndirLen = 64 // entries in the indirect area
)

// fuzzEnv is the memory shared by all runs of one fuzz process.
type fuzzEnv struct {
	tbl  *guestmem.Table
	mem  []byte // the whole region, as the device sees it
	zero []byte
}

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	fd, err := unix.MemfdCreate("virtq-fuzz", unix.MFD_CLOEXEC)
	if err != nil {
		tb.Fatal(err)
	}
	if err := unix.Ftruncate(fd, fuzzSize); err != nil {
		tb.Fatal(err)
	}
	tbl := &guestmem.Table{}
	if err := tbl.Add(guestmem.Region{GuestPhysAddr: fuzzBase, Size: fuzzSize, UserspaceAddr: 0x7000_0000}, fd); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tbl.Close() })
	mem, _ := tbl.Translate(fuzzBase, fuzzSize)
	return &fuzzEnv{tbl: tbl, mem: mem, zero: make([]byte, fuzzSize)}
}

// input hands out fuzz bytes, then zeros.
type input []byte

func (in *input) u8() byte {
	if len(*in) == 0 {
		return 0
	}
	b := (*in)[0]
	*in = (*in)[1:]
	return b
}

func (in *input) u16() uint16 { return uint16(in.u8()) | uint16(in.u8())<<8 }
func (in *input) u32() uint32 { return uint32(in.u16()) | uint32(in.u16())<<16 }
func (in *input) u64() uint64 { return uint64(in.u32()) | uint64(in.u32())<<32 }

// putDesc writes a descriptor from the input, steered towards guest
// memory unless the input asks for a raw one: most addresses then land in
// or just past the region, most lengths are small.
func (in *input) putDesc(b []byte) {
	addr, n := in.u64(), in.u32()
	if addr>>63 == 0 {
		addr = fuzzBase + addr%(fuzzSize+0x100)
	}
	if n>>31 == 0 {
		n %= 0x1100
	}
	binary.LittleEndian.PutUint64(b[0:], addr)
	binary.LittleEndian.PutUint32(b[8:], n)
	binary.LittleEndian.PutUint16(b[12:], in.u16())
	binary.LittleEndian.PutUint16(b[14:], in.u16())
}

// run lays out a guest from data, then drives the queue with operations
// from data, checking that every view the queue hands out lies inside the
// region and that nothing panics. It returns the number of chains popped.
func (e *fuzzEnv) run(t *testing.T, data []byte) int {
	copy(e.mem, e.zero)
	in := input(data)
	size := uint16(1) << (in.u8() % 9)
	mode := in.u8()
	var feat Features
	if mode&1 != 0 {
		feat |= FeatureEventIdx
	}
	if mode&2 != 0 {
		feat |= FeatureIndirectDesc
	}
	if mode&4 != 0 {
		feat |= FeatureNetMrgRxBuf | FeatureVersion1
	}
	availAt := uint64(fuzzAvail)
	if mode&8 != 0 {
		availAt += 2
	}
	dir := Direction((mode>>4)%3 + 1)
	lastAvail := in.u16()
	avail := e.mem[availAt-fuzzBase:]
	binary.LittleEndian.PutUint16(avail[0:], in.u16())                             // flags
	binary.LittleEndian.PutUint16(avail[2:], lastAvail+uint16(in.u8())%(2*size+2)) // idx
	for i := range int(size) {
		binary.LittleEndian.PutUint16(avail[4+2*i:], in.u16()%(size+2))
	}
	binary.LittleEndian.PutUint16(avail[4+2*int(size):], in.u16()) // used_event
	for i := range int(size) {
		in.putDesc(e.mem[fuzzDesc-fuzzBase+16*i:])
	}
	for i := range fuzzIndirLen {
		in.putDesc(e.mem[fuzzIndirect-fuzzBase+16*i:])
	}

	var q Queue
	err := q.Setup(e.tbl, Config{Size: size, Features: feat, Dir: dir, Space: GuestPhys,
		Desc: fuzzDesc, Avail: availAt, Used: fuzzUsed, LastAvail: lastAvail})
	if err != nil {
		t.Fatalf("setup of a valid layout: %v", err)
	}
	c := NewChain(4)
	popped := 0
	frame := make([]byte, 3000)
	hdr := make([]byte, NetHeaderLen(feat))
	for range 3*int(size) + 8 {
		var f Fault
		switch op := in.u8(); op % 6 {
		case 0, 1:
			var ok bool
			ok, f = q.Pop(&c)
			if ok && !f.Fatal() {
				e.checkChain(t, &c, size)
				q.AddUsed(c.Head, uint32(c.WriteLen))
				popped++
			}
		case 2:
			q.Publish()
			q.NeedsNotify()
		case 3:
			q.EnableNotify()
			q.DisableNotify()
		case 4:
			var r RxResult
			r, f = q.Deliver(&c, hdr, [][]byte{frame[:int(in.u16())%len(frame)]})
			if (r == RxFault) != f.Fatal() {
				t.Fatalf("Deliver = %v with fault %v", r, f)
			}
		case 5: // the guest moves its index, possibly wildly
			binary.LittleEndian.PutUint16(avail[2:], lastAvail+in.u16()%(2*size+2))
		}
		if f >= numFaults {
			t.Fatalf("fault %d out of range", f)
		}
		if f.Fatal() {
			return popped
		}
	}
	return popped
}

// checkChain checks that a popped chain's views lie inside guest memory
// and that its totals add up.
func (e *fuzzEnv) checkChain(t *testing.T, c *Chain, size uint16) {
	lo, hi := ringword.HostAddr(e.mem), ringword.HostAddr(e.mem)+fuzzSize
	var r, w int
	for i, s := range c.Segs {
		if len(s) == 0 || cap(s) != len(s) {
			t.Fatalf("segment %d: len %d cap %d", i, len(s), cap(s))
		}
		if a := ringword.HostAddr(s); a < lo || a+uintptr(len(s)) > hi {
			t.Fatalf("segment %d outside guest memory", i)
		}
		if i < c.Readable {
			r += len(s)
		} else {
			w += len(s)
		}
	}
	if r != c.ReadLen || w != c.WriteLen || c.Head >= size {
		t.Fatalf("head %d, totals %d/%d, chain says %d/%d", c.Head, r, w, c.ReadLen, c.WriteLen)
	}
}

// fuzzSeed builds an input for a valid ring of n chains of one buffer
// each, in the given mode, then ops.
func fuzzSeed(sizeExp, mode byte, n int, ops ...byte) []byte {
	size := 1 << sizeExp
	b := []byte{sizeExp, mode, 0, 0, 0, 0, byte(n)}
	for i := range size {
		b = binary.LittleEndian.AppendUint16(b, uint16(i))
	}
	b = append(b, 0, 0)
	write := uint16(0)
	if mode>>4%3+1 == byte(DeviceWrites) {
		write = descFWrite
	}
	for i := range size {
		b = binary.LittleEndian.AppendUint64(b, uint64(0x4000+0x100*i))
		b = binary.LittleEndian.AppendUint32(b, 200)
		b = binary.LittleEndian.AppendUint16(b, write)
		b = binary.LittleEndian.AppendUint16(b, 0)
	}
	for range fuzzIndirLen * 16 {
		b = append(b, 0)
	}
	return append(b, ops...)
}

func FuzzPop(f *testing.F) {
	e := newFuzzEnv(f)
	f.Add(fuzzSeed(3, 0x00, 8, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, 2))
	f.Add(fuzzSeed(4, 0x0b, 5, 0, 1, 5, 9, 0, 0, 2, 3))
	f.Add(fuzzSeed(3, 0x15, 8, 4, 100, 0, 4, 200, 9, 2, 3, 4, 0, 0))
	f.Add(fuzzSeed(8, 0x27, 200, 0, 0, 0, 0, 2, 3, 0, 2))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) { e.run(t, data) })
}

// TestFuzzSeedsPop checks that the seeds pop chains, so that the fuzzer
// starts from inputs that reach the chain walk.
func TestFuzzSeedsPop(t *testing.T) {
	e := newFuzzEnv(t)
	for _, mode := range []byte{0x00, 0x0b, 0x15, 0x27} {
		if n := e.run(t, fuzzSeed(3, mode, 8)); n != 8 {
			t.Errorf("mode %#x: %d chains popped, want 8", mode, n)
		}
	}
}
