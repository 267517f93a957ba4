package vmm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"mvirt-net/reactor/virtq/ringword"
)

// Used is a chain the device gave back.
type Used struct {
	Head uint16
	Len  uint32 // bytes the device says it wrote
	Data []byte // a copy of those bytes, from the chain's writable buffers
}

// GetUsed takes the next used element, if any, and frees its chain. It
// fails if the device broke the rules: a head not in flight, a length
// beyond the writable buffers, or a used idx that ran ahead.
func (q *DriverQueue) GetUsed() (Used, bool, error) {
	idx := ringword.Load16(q.used, 2)
	if idx == q.lastUsed {
		return Used{}, false, nil
	}
	if idx-q.lastUsed > q.size {
		return Used{}, false, fmt.Errorf("vmm: used idx %d ran %d ahead of %d", idx, idx-q.lastUsed, q.lastUsed)
	}
	off := 4 + 8*int(q.lastUsed&(q.size-1))
	id := binary.LittleEndian.Uint32(q.used[off:])
	n := binary.LittleEndian.Uint32(q.used[off+4:])
	q.lastUsed++
	if q.intrOn && q.cfg.EventIdx {
		ringword.Store16(q.avail, q.usedEventOff(), q.lastUsed)
	}
	if id >= uint32(q.size) || !q.inflight[id].live {
		return Used{}, false, fmt.Errorf("vmm: device returned descriptor %d, which is not in flight", id)
	}
	c := q.inflight[id]
	q.inflight[id] = chain{}
	q.free = append(q.free, c.main...)
	u := Used{Head: uint16(id), Len: n, Data: make([]byte, 0, n)}
	left := uint64(n)
	for _, s := range c.writable {
		k := min(left, s.n)
		u.Data = append(u.Data, q.mem.Bytes(s.gpa, int(k))...)
		left -= k
	}
	if left > 0 {
		return Used{}, false, fmt.Errorf("vmm: device wrote %d bytes into chain %d, which has %d writable", n, id, uint64(n)-left)
	}
	return u, true, nil
}

// RecvFrame takes one received frame from a receive queue: the header and
// the frame after it. With mergeable set it gathers as many used buffers
// as the header's num_buffers says (they must all be used already).
func (q *DriverQueue) RecvFrame(mergeable bool) (NetHeader, []byte, bool, error) {
	u, ok, err := q.GetUsed()
	if !ok || err != nil {
		return NetHeader{}, nil, ok, err
	}
	hdr, err := ParseNetHeader(u.Data)
	if err != nil {
		return NetHeader{}, nil, false, err
	}
	data := u.Data[NetHeaderLen:]
	if !mergeable {
		return hdr, data, true, nil
	}
	if hdr.NumBuffers == 0 {
		return NetHeader{}, nil, false, errors.New("vmm: mergeable frame with num_buffers 0")
	}
	for k := 1; k < int(hdr.NumBuffers); k++ {
		more, ok, err := q.GetUsed()
		if err != nil {
			return NetHeader{}, nil, false, err
		}
		if !ok {
			return NetHeader{}, nil, false, fmt.Errorf("vmm: frame announced %d buffers, only %d used", hdr.NumBuffers, k)
		}
		data = append(data, more.Data...)
	}
	return hdr, data, true, nil
}

// EnableInterrupts asks the device to interrupt for the next used buffer
// (with EVENT_IDX by setting used_event, without by clearing
// VRING_AVAIL_F_NO_INTERRUPT), then reports whether used buffers are
// already waiting: the driver's half of the race the spec describes.
func (q *DriverQueue) EnableInterrupts() bool {
	q.intrOn = true
	if q.cfg.EventIdx {
		ringword.Store16(q.avail, q.usedEventOff(), q.lastUsed)
	} else {
		q.setAvailFlags(q.availFlags &^ AvailFNoInterrupt)
	}
	return ringword.Load16(q.used, 2) != q.lastUsed
}

// DisableInterrupts asks the device not to interrupt: without EVENT_IDX
// by setting VRING_AVAIL_F_NO_INTERRUPT, with it (where the spec wants
// flags 0) by moving used_event just behind the used buffers read, the
// index the device reaches last; Linux writes a similar far value.
func (q *DriverQueue) DisableInterrupts() {
	q.intrOn = false
	if q.cfg.EventIdx {
		ringword.Store16(q.avail, q.usedEventOff(), q.lastUsed-1)
	} else {
		q.setAvailFlags(q.availFlags | AvailFNoInterrupt)
	}
}

// setAvailFlags writes avail.flags.
func (q *DriverQueue) setAvailFlags(f uint16) {
	q.availFlags = f
	ringword.Store16(q.avail, q.availOff, f)
}

// usedEventOff is the offset of used_event in q.avail.
func (q *DriverQueue) usedEventOff() int { return q.availOff + 4 + 2*int(q.size) }
