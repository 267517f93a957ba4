package virtq

import "encoding/binary"

// PeekBuffer returns the first buffer of the chain ahead entries past the
// next one Pop would take (0 is that next one), or nil if the queue has no
// such chain as far as the avail idx last read shows, or its first
// descriptor is indirect or out of range. It changes nothing, and its
// answer is only a hint, for prefetching: the guest may rewrite the
// descriptor before the chain is popped and checked. Like Pop, it may be
// called only on a queue that is set up and running.
func (q *Queue) PeekBuffer(ahead uint16) []byte {
	if q.size == 0 || q.availIdx-q.lastAvail <= ahead {
		return nil
	}
	off := q.availOff + availRingOff + 2*int((q.lastAvail+ahead)&(q.size-1))
	head := binary.LittleEndian.Uint16(q.avail[off : off+2])
	if head >= q.size {
		return nil
	}
	d := readDesc(q.desc, int(head))
	if d.flags&descFIndirect != 0 || d.len == 0 {
		return nil
	}
	b, _ := q.mem.Translate(d.addr, uint64(d.len))
	return b
}
