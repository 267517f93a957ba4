package inbox

// Next takes the oldest committed frame not yet taken into f, skipping
// cancelled ones, or reports false if there is none (the next frame in
// order may be reserved but not yet committed). The consumer borrows the
// frame's bytes, and its Tail, until Release; it may take several frames
// before releasing them together.
func (q *Inbox) Next(f *Frame) bool {
	if !q.Peek(f) {
		return false
	}
	q.read += uint64(q.meta[q.read&q.mask].span)
	return true
}

// Peek puts into f the frame Next would take, without taking it, or
// reports false if there is none.
func (q *Inbox) Peek(f *Frame) bool {
	for {
		m := &q.meta[q.read&q.mask]
		if m.seq.Load() != q.read+1 {
			return false
		}
		if m.n != 0 {
			q.take(f, m, q.read, int(m.n))
			return true
		}
		// A cancelled reservation: Next would skip it too.
		q.read += uint64(m.span)
	}
}

// take fills f with the committed frame of n bytes at pos, whose
// bookkeeping is m.
func (q *Inbox) take(f *Frame, m *slot, pos uint64, n int) {
	f.Head = q.frame(pos, n)
	f.Tail = nil
	if m.tail[0] != nil {
		f.Tail = m.tail[:]
	}
	f.Hdr = Header{}
	if m.ext == 0 {
		return
	}
	x := &q.ext[pos&q.mask]
	if m.ext&extPieces != 0 {
		f.Tail = x.pieces
	}
	if m.ext&extHeader != 0 {
		f.Hdr = x.hdr
	}
}

// Untake gives back, untouched, every frame Next returned since the last
// Release but the first keep: Next returns them again, in the same
// order, and Release leaves them in the ring. A consumer whose guest has
// no room for a frame so leaves it, and every frame after it, waiting.
// It walks the bookkeeping of the frames it keeps, so that taking frames
// costs nothing more for a consumer that may give some back.
func (q *Inbox) Untake(keep int) {
	p := q.head
	for p != q.read {
		m := &q.meta[p&q.mask]
		if m.n != 0 {
			if keep == 0 {
				break
			}
			keep--
		}
		p += uint64(m.span)
	}
	q.read = p
}

// Release gives back every frame Next has returned, for producers to
// reuse; neither their bytes nor their tails may be used any more.
func (q *Inbox) Release() {
	size := q.mask + 1
	if q.head != q.read {
		for p := q.head; p != q.read; p++ {
			m := &q.meta[p&q.mask]
			m.tail[0] = nil
			if m.ext&extPieces != 0 {
				q.ext[p&q.mask].pieces = nil
			}
			storeRelease(&m.seq, p+size)
		}
		q.head = q.read
		// The releases must be visible before waiting is loaded, or a
		// producer registering meanwhile misses them (see the package
		// doc).
		fullFence()
	}
	if q.waiting.Load() != 0 {
		q.wakeWaiters()
	}
}

// Park announces that the consumer is about to wait on the doorbell. It
// reports false, and stays unparked, if a frame is already waiting: the
// consumer must then drain instead of waiting. Call it after every frame
// taken so far has been handled and the doorbell READ is armed.
func (q *Inbox) Park() bool {
	q.parked.Store(1)
	if q.meta[q.read&q.mask].seq.Load() == q.read+1 {
		q.parked.Store(0)
		return false
	}
	return true
}

// ParkHolding is Park for a consumer that holds frames back in the ring
// (see Untake) until its guest has room for them: it does not look for a
// committed frame, since those wait too, and always parks. Producers'
// Flush then rings the doorbell, and so does the wake-up of a waiting
// producer (WaitForRoom) by another inbox's Release, which the consumer's
// reactor may be waiting for as a producer itself.
func (q *Inbox) ParkHolding() { q.parked.Store(1) }

// Unpark tells producers that the consumer is awake, so that their Flush
// costs no system call. The consumer calls it when its wait ends for any
// reason; a Flush that rang the doorbell has already unparked it.
func (q *Inbox) Unpark() {
	if q.parked.Load() != 0 {
		q.parked.Store(0)
	}
}

// Released reports whether the frame a producer committed at position pos
// (Slot.Pos) is done with: the consumer released it, or the inbox is
// closed, which its owner does only once the consumer has stopped. Its
// attached tail may then be reused. Any goroutine may call it.
func (q *Inbox) Released(pos uint64) bool {
	return q.meta[pos&q.mask].seq.Load()-pos > q.mask || q.closed.Load()
}
