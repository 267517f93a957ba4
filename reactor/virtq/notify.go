package virtq

import "mvirt-net/reactor/virtq/ringword"

// DisableNotify asks the driver not to kick the device: the owner is going
// to poll the queue anyway. Without VIRTIO_F_EVENT_IDX it sets
// VRING_USED_F_NO_NOTIFY; with it there is nothing to write, since the
// driver kicks only when it passes avail_event, which stays where it is.
func (q *Queue) DisableNotify() {
	if !q.eventIdx {
		q.setUsedFlags(q.usedFlags | usedFNoNotify)
	}
}

// EnableNotify asks the driver to kick the device when it makes a chain
// available beyond those the queue has already seen, then reads the avail
// idx again to close the race with a driver that added one before it saw
// the request. It reports whether the driver added chains since the queue
// last read the avail idx; if so, the owner should DisableNotify and go
// on popping instead of waiting for a kick.
//
// Call it when Pop reported the queue empty, or when Deliver reported
// RxNoBuffers: then chains seen but too few for a frame do not count, and
// the owner sleeps until the driver adds more (vhost does the same).
func (q *Queue) EnableNotify() bool {
	if q.eventIdx {
		ringword.Store16(q.used, q.availEventOff(), q.availIdx)
	} else {
		q.setUsedFlags(q.usedFlags &^ usedFNoNotify)
	}
	return ringword.Load16(q.avail, q.availOff+availIdxOff) != q.availIdx
}

// setUsedFlags writes used.flags if it changes.
func (q *Queue) setUsedFlags(f uint16) {
	if f != q.usedFlags {
		q.usedFlags = f
		ringword.Store16(q.used, usedFlagsOff, f)
	}
}

// Available reports whether the driver made chains available that Pop has
// not taken yet: one atomic load, for an owner that polls the queue
// instead of waiting for a kick.
func (q *Queue) Available() bool {
	return q.size != 0 && (q.lastAvail != q.availIdx || ringword.Load16(q.avail, q.availOff+availIdxOff) != q.lastAvail)
}
