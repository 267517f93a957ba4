package virtq

import (
	"encoding/binary"

	"mvirt-net/reactor/virtq/ringword"
)

// AddUsed writes a used element for the chain at head, of which the
// device wrote n bytes, without publishing it. Give chains back in any
// order, each once, and Publish at the latest after Size of them.
func (q *Queue) AddUsed(head uint16, n uint32) {
	off := usedRingOff + usedElemSize*int((q.usedIdx+q.pending)&(q.size-1))
	e := q.used[off : off+usedElemSize : off+usedElemSize]
	binary.LittleEndian.PutUint32(e[0:4], uint32(head))
	binary.LittleEndian.PutUint32(e[4:8], n)
	q.pending++
}

// Publish makes every element added since the last Publish visible to the
// driver with one atomic store of the used idx, ordered after the
// elements (see the package documentation).
func (q *Queue) Publish() {
	if q.pending == 0 {
		return
	}
	q.usedIdx += q.pending
	q.pending = 0
	ringword.Store16(q.used, usedIdxOff, q.usedIdx)
}

// NeedsNotify reports whether the driver wants an interrupt (a vhost-user
// "call") for what was published since the previous NeedsNotify: with
// VIRTIO_F_EVENT_IDX when the used idx passed the driver's used_event,
// without it unless the driver set VRING_AVAIL_F_NO_INTERRUPT. Call it
// after every Publish; it reads the driver's fields only after the used
// idx store, as the spec requires.
func (q *Queue) NeedsNotify() bool {
	old, cur := q.signalled, q.usedIdx
	q.signalled = cur
	if old == cur {
		return false
	}
	if q.eventIdx {
		return needEvent(ringword.Load16(q.avail, q.usedEventOff()), cur, old)
	}
	return ringword.Load16(q.avail, q.availOff+availFlagsOff)&availFNoInterrupt == 0
}
