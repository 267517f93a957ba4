package virtq_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/guestmem"
	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// pair is one virtqueue seen from both ends over one memfd: the guest's
// driver (vmm) and our device (virtq), which maps the memory separately,
// as the daemon does.
type pair struct {
	mem *vmm.GuestMemory
	tbl *guestmem.Table
	drv *vmm.DriverQueue
	dev *virtq.Queue
}

// newPair builds a pair; the device sees the rings through front-end
// virtual addresses, as after vhost-user SET_VRING_ADDR.
func newPair(tb testing.TB, dc vmm.DriverQueueConfig, feat virtq.Features, dir virtq.Direction) *pair {
	tb.Helper()
	mem, err := vmm.NewGuestMemory(int(dc.MemoryNeeded()) + 1<<16)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { mem.Close() })
	drv, err := vmm.NewDriverQueue(mem, dc)
	if err != nil {
		tb.Fatal(err)
	}
	tbl := &guestmem.Table{}
	tb.Cleanup(func() { tbl.Close() })
	r := mem.Region()
	fd, err := unix.Dup(r.Fd)
	if err != nil {
		tb.Fatal(err)
	}
	if err := tbl.Add(guestmem.Region{GuestPhysAddr: r.GuestPhysAddr, Size: r.Size, UserspaceAddr: r.UserspaceAddr, MmapOffset: r.MmapOffset}, fd); err != nil {
		tb.Fatal(err)
	}
	p := &pair{mem: mem, tbl: tbl, drv: drv, dev: &virtq.Queue{}}
	p.setup(tb, feat, dir, 0)
	return p
}

// setup (re)starts the device queue at lastAvail.
func (p *pair) setup(tb testing.TB, feat virtq.Features, dir virtq.Direction, lastAvail uint16) {
	tb.Helper()
	d, a, u := p.drv.UserAddrs()
	err := p.dev.Setup(p.tbl, virtq.Config{
		Size: p.drv.Size(), Features: feat, Dir: dir, Space: virtq.UserAddrs,
		Desc: d, Avail: a, Used: u, LastAvail: lastAvail,
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// features returns the device features matching a driver configuration.
func features(dc vmm.DriverQueueConfig, extra virtq.Features) virtq.Features {
	f := virtq.FeatureVersion1 | extra
	if dc.EventIdx {
		f |= virtq.FeatureEventIdx
	}
	if dc.Indirect {
		f |= virtq.FeatureIndirectDesc
	}
	return f
}

// gather concatenates segments.
func gather(segs [][]byte) []byte {
	var b []byte
	for _, s := range segs {
		b = append(b, s...)
	}
	return b
}

// frameFor returns a recognisable frame of n bytes for sequence number seq.
func frameFor(seq, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seq*7 + i)
	}
	if n >= 4 {
		b[0], b[1], b[2], b[3] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
	}
	return b
}

// frameLen picks a frame length for sequence number seq, between 14 and max.
func frameLen(seq, max int) int {
	return 14 + (seq*131)%(max-13)
}
