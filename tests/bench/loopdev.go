package bench

import (
	"encoding/binary"
	"errors"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// loopDevice is the most trivial back-end there is, in-process, to
// measure the harness alone: each step takes the frames on the transmit
// ring of one port and copies each, virtio header and all, into the next
// receive buffer of another, one buffer per frame. It never asks for
// kicks and signals the call eventfds as EVENT_IDX says, like a polling
// back-end. It waits for receive buffers instead of dropping.
type loopDevice struct {
	tx, rx *ring
	// The device's side of each ring: next available element to take,
	// used idx to publish.
	txAvail, txUsed uint16
	rxAvail, rxUsed uint16
}

// newLoopDevice connects from's transmit ring to to's receive ring. Both
// ports must be in this process and have no back-end of their own.
func newLoopDevice(from, to *port) *loopDevice {
	return &loopDevice{tx: from.tx, rx: to.rx}
}

// step moves what both rings allow, up to a burst, and returns how many
// frames it moved.
func (d *loopDevice) step() int {
	const burst = 64
	txEnd := loadHigh16(d.tx.avail, 0)
	rxEnd := loadHigh16(d.rx.avail, 0)
	n := 0
	for ; n < burst && d.txAvail != txEnd && d.rxAvail != rxEnd; n++ {
		th := d.availHead(d.tx, d.txAvail)
		rh := d.availHead(d.rx, d.rxAvail)
		d.txAvail++
		d.rxAvail++
		src := d.descBuf(d.tx, th)
		dst := d.descBuf(d.rx, rh)
		m := copy(dst, src)
		binary.LittleEndian.PutUint16(dst[10:], 1) // num_buffers
		d.putUsed(d.tx, d.txUsed, th, 0)
		d.putUsed(d.rx, d.rxUsed, rh, uint32(m))
		d.txUsed++
		d.rxUsed++
	}
	if n > 0 {
		d.publish(d.tx, d.txUsed, uint16(n))
		d.publish(d.rx, d.rxUsed, uint16(n))
	}
	return n
}

// availHead reads available element i of r.
func (d *loopDevice) availHead(r *ring, i uint16) uint16 {
	return binary.LittleEndian.Uint16(r.avail[4+2*int(i&(r.size-1)):])
}

// descBuf returns the buffer descriptor head of r points at, as the
// descriptor says (address and length), through the guest memory.
func (d *loopDevice) descBuf(r *ring, head uint16) []byte {
	e := r.desc[16*int(head):]
	return r.mem.Bytes(binary.LittleEndian.Uint64(e), int(binary.LittleEndian.Uint32(e[8:])))
}

// putUsed writes used element i of r.
func (d *loopDevice) putUsed(r *ring, i, head uint16, n uint32) {
	e := r.used[4+8*int(i&(r.size-1)):]
	binary.LittleEndian.PutUint32(e, uint32(head))
	binary.LittleEndian.PutUint32(e[4:], n)
}

// publish stores r's used idx, which moved by n to cur, and signals the
// driver if that crossed its used_event.
func (d *loopDevice) publish(r *ring, cur, n uint16) {
	storeWord(r.used, 0, 0, cur)
	event := loadLow16(r.avail, 4+2*int(r.size))
	if cur-event-1 < n {
		one := [8]byte{1}
		_, _ = unix.Write(r.call, one[:])
	}
}

// selfTest runs a generator, a loopDevice and a sink in lockstep on one
// thread for d: what the harness costs per frame, and the rate one core
// reaches with it, without any back-end or wake-up. Elapsed is the
// thread's CPU time, so the rate is per core even on a busy machine.
func selfTest(frame []byte, pc portConfig, d time.Duration) (throughput, error) {
	a, err := newPort(pc)
	if err != nil {
		return throughput{}, err
	}
	defer a.close()
	b, err := newPort(pc)
	if err != nil {
		return throughput{}, err
	}
	defer b.close()
	b.rx.postAll()
	gen, err := newGenerator(a, frame)
	if err != nil {
		return throughput{}, err
	}
	snk, dev := newSink(b), newLoopDevice(a, b)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := gen.start(); err != nil {
		return throughput{}, err
	}
	cpu0, start := threadCPU(), time.Now()
	for i := 0; i%256 != 0 || time.Since(start) < d; i++ {
		dev.step()
		if err := errors.Join(gen.recycle(), snk.drain()); err != nil {
			return throughput{}, err
		}
	}
	return throughput{
		Size: len(frame), Sent: gen.sent.Load(), Frames: snk.frames.Load(), Bytes: snk.bytes.Load(),
		Elapsed: threadCPU() - cpu0,
	}, nil
}
