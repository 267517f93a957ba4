package vmm

import "fmt"

// These helpers break the rules of the spec on purpose, so that tests can
// check that the device notices. Apply them after adding a chain and
// before Publish.

// ChainDescs returns the number of descriptors of the in-flight chain at
// head, in walk order: for an indirect chain the main descriptor first,
// then the table entries.
func (q *DriverQueue) ChainDescs(head uint16) int {
	return len(q.chainOf(head).descs)
}

// ModifyDesc rewrites the k-th descriptor (walk order, see ChainDescs) of
// the in-flight chain at head.
func (q *DriverQueue) ModifyDesc(head uint16, k int, modify func(*Desc)) {
	gpa := q.chainOf(head).descs[k]
	d := q.getDesc(gpa)
	modify(&d)
	q.putDesc(gpa, d)
}

// CorruptLoop makes the chain at head loop: its last descriptor points
// back to its first (within the indirect table for an indirect chain).
func (q *DriverQueue) CorruptLoop(head uint16) {
	first := head
	if q.firstBuffer(head) == 1 {
		first = 0
	}
	q.ModifyDesc(head, q.ChainDescs(head)-1, func(d *Desc) {
		d.Flags |= DescFNext
		d.Next = first
	})
}

// CorruptAddr points the first buffer of the chain at head to addr.
func (q *DriverQueue) CorruptAddr(head uint16, addr uint64) {
	q.ModifyDesc(head, q.firstBuffer(head), func(d *Desc) { d.Addr = addr })
}

// CorruptLen sets the length of the first buffer of the chain at head.
func (q *DriverQueue) CorruptLen(head uint16, n uint32) {
	q.ModifyDesc(head, q.firstBuffer(head), func(d *Desc) { d.Len = n })
}

// FlipDirection toggles VIRTQ_DESC_F_WRITE on the k-th buffer (counting
// buffers only, not an indirect chain's main descriptor) of the chain at
// head.
func (q *DriverQueue) FlipDirection(head uint16, k int) {
	q.ModifyDesc(head, q.firstBuffer(head)+k, func(d *Desc) { d.Flags ^= DescFWrite })
}

// PushBogusHead makes descriptor index id available as a chain head,
// without any bookkeeping: id may be out of range or not a chain.
func (q *DriverQueue) PushBogusHead(id uint16) { q.pushRaw(id) }

// JumpAvailIdx moves the avail idx n entries further than the chains the
// driver added.
func (q *DriverQueue) JumpAvailIdx(n uint16) { q.availIdx += n }

// chainOf returns the in-flight chain at head; misuse is a test bug.
func (q *DriverQueue) chainOf(head uint16) *chain {
	if head >= q.size || !q.inflight[head].live {
		panic(fmt.Sprintf("vmm: chain %d is not in flight", head))
	}
	return &q.inflight[head]
}

// firstBuffer returns the walk index of the chain's first buffer
// descriptor: 1 for an indirect chain (after the main descriptor), else 0.
func (q *DriverQueue) firstBuffer(head uint16) int {
	if c := q.chainOf(head); len(c.descs) > len(c.main) {
		return 1
	}
	return 0
}
