package virtq

import (
	"encoding/binary"

	"mvirt-net/reactor/virtq/ringword"
)

// Pop takes the next available chain into c, which the caller owns (see
// Chain). It reports true with FaultNone for a valid chain, and false with
// FaultNone when nothing is available.
//
// FaultSegmentLimit comes with true: the chain is valid but has more
// buffers than c holds; c has its head and first cap(c.Segs) segments.
// The caller either uses the truncated chain (RX may write less than
// offered) or gives it back with AddUsed(c.Head, 0) and counts a drop.
// Any other Fault is fatal (see Fault): the queue must not be used again
// until Setup.
//
// Pop reads the avail idx only when it has consumed every entry seen so
// far, so a batch of pops costs one atomic load.
func (q *Queue) Pop(c *Chain) (bool, Fault) {
	if q.lastAvail == q.availIdx {
		if q.size == 0 {
			return false, FaultNone
		}
		idx := ringword.Load16(q.avail, q.availOff+availIdxOff)
		if idx-q.lastAvail > q.size {
			return false, FaultAvailIdxJump
		}
		q.availIdx = idx
		if idx == q.lastAvail {
			return false, FaultNone
		}
	}
	off := q.availOff + availRingOff + 2*int(q.lastAvail&(q.size-1))
	head := binary.LittleEndian.Uint16(q.avail[off : off+2])
	q.lastAvail++
	return true, q.walk(c, head)
}

// desc is one descriptor, copied out of guest memory once so that the
// guest cannot change it between check and use.
type desc struct {
	addr  uint64
	len   uint32
	flags uint16
	next  uint16
}

// readDesc copies descriptor i out of table, which holds at least i+1.
func readDesc(table []byte, i int) desc {
	e := table[i*descSize : i*descSize+descSize : i*descSize+descSize]
	return desc{
		addr:  binary.LittleEndian.Uint64(e[0:8]),
		len:   binary.LittleEndian.Uint32(e[8:12]),
		flags: binary.LittleEndian.Uint16(e[12:14]),
		next:  binary.LittleEndian.Uint16(e[14:16]),
	}
}

// walker holds the state of one chain walk.
type walker struct {
	q         *Queue
	c         *Chain
	sawWrite  bool // a writable buffer was seen, stored or not
	truncated bool // a buffer did not fit in c.Segs
}

// walk fills c with the chain starting at head. When c.Segs is full it
// keeps walking and checking, so that a loop is still reported as one.
func (q *Queue) walk(c *Chain, head uint16) Fault {
	c.reset(head)
	if head >= q.size {
		return FaultHeadOutOfRange
	}
	w := walker{q: q, c: c}
	i := head
	for count := 1; ; count++ {
		if count > int(q.size) {
			return FaultChainTooLong
		}
		d := readDesc(q.desc, int(i))
		if d.flags&descFIndirect != 0 {
			return w.indirect(d)
		}
		if f := w.add(d); f != FaultNone {
			return f
		}
		if d.flags&descFNext == 0 {
			return w.done()
		}
		if i = d.next; i >= q.size {
			return FaultNextOutOfRange
		}
	}
}

// indirect walks the indirect table d points to; it ends the chain.
func (w *walker) indirect(d desc) Fault {
	switch {
	case !w.q.indirect:
		return FaultIndirectNotNegotiated
	case d.flags&descFNext != 0:
		return FaultIndirectNext
	case d.len == 0 || d.len%descSize != 0:
		return FaultIndirectLength
	}
	table, ok := w.q.mem.Translate(d.addr, uint64(d.len))
	if !ok {
		return FaultIndirectOutOfMemory
	}
	n := int(d.len / descSize)
	i := 0
	for count := 1; ; count++ {
		if count > n {
			return FaultIndirectLoop
		}
		e := readDesc(table, i)
		if e.flags&descFIndirect != 0 {
			return FaultNestedIndirect
		}
		if f := w.add(e); f != FaultNone {
			return f
		}
		if e.flags&descFNext == 0 {
			return w.done()
		}
		if i = int(e.next); i >= n {
			return FaultNextOutOfRange
		}
	}
}

// add checks one buffer descriptor and appends its view to the chain.
func (w *walker) add(d desc) Fault {
	if d.len == 0 {
		return FaultZeroLength
	}
	write := d.flags&descFWrite != 0
	switch {
	case write && w.q.dir == DeviceReads, !write && w.q.dir == DeviceWrites:
		return FaultWrongDirection
	case !write && w.sawWrite:
		return FaultReadAfterWrite
	}
	b, ok := w.q.mem.Translate(d.addr, uint64(d.len))
	if !ok {
		return FaultDescOutOfMemory
	}
	w.sawWrite = w.sawWrite || write
	c := w.c
	if len(c.Segs) == cap(c.Segs) {
		w.truncated = true
		return FaultNone
	}
	c.Segs = append(c.Segs, b)
	if write {
		c.WriteLen += len(b)
	} else {
		c.Readable++
		c.ReadLen += len(b)
	}
	return FaultNone
}

// done ends a walk that found no violation.
func (w *walker) done() Fault {
	if w.truncated {
		return FaultSegmentLimit
	}
	return FaultNone
}

// Unpop gives back the chain the last Pop took, unused: the next Pop
// returns it again. It is valid only right after a Pop that reported true
// with FaultNone, before AddUsed of that chain; a device uses it to stop
// taking frames it cannot place yet (backpressure) without losing them.
func (q *Queue) Unpop() {
	q.lastAvail--
}
