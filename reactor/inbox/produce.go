package inbox

import "mvirt-net/reactor/eventfd"

// Slot is room for one frame, reserved by a producer. The producer borrows
// Bytes from Reserve until it calls Commit or Cancel; either empties the
// Slot, so that a later Cancel does nothing. The zero Slot is nothing
// reserved. A producer that may panic between Reserve and Commit (a
// fault copying from guest memory) keeps the Slot where its recovery
// path finds it and Cancels it there.
type Slot struct {
	q   *Inbox
	pos uint64
	buf []byte
	ext uint8 // what Attach and SetHeader put in the slot's slotExt
}

// Reserve reserves room for a frame of n bytes. It reports false, and
// counts the drop, when the inbox is closed, full, or n is not in
// 1..MaxFrame; it never blocks.
func (q *Inbox) Reserve(n int) (Slot, bool) {
	if n < 1 || n > q.maxFrame {
		q.drop(DropTooBig)
		return Slot{}, false
	}
	if q.closed.Load() {
		q.drop(DropClosed)
		return Slot{}, false
	}
	span := spanOf(n)
	for {
		pos := q.tail.Load()
		last := pos + span - 1
		dif := int64(q.meta[last&q.mask].seq.Load() - last)
		if dif < 0 {
			// last-Slots is not released yet: the ring is full.
			q.drop(DropFull)
			return Slot{}, false
		}
		if dif == 0 && q.tail.CompareAndSwap(pos, pos+span) {
			return Slot{q: q, pos: pos, buf: q.frame(pos, n)}, true
		}
		// Another producer moved tail since we loaded it: retry.
	}
}

// Bytes returns the reserved room, exactly as long as the frame.
func (s Slot) Bytes() []byte { return s.buf }

// Attach makes tail, in pieces, the rest of the frame: the consumer gets
// Bytes then the pieces, read from where they lie, without a copy into
// the ring. The producer must keep the pieces' memory valid and
// unchanged until Released reports the slot's position (Pos) released.
// A tail in one piece is kept in the slot itself; the list of a tail in
// several is kept as it is (not a copy), so the producer keeps that list
// unchanged too: an array of its own, indexed like its frames in flight,
// costs it no allocation per frame.
func (s *Slot) Attach(tail [][]byte) {
	i := s.pos & s.q.mask
	switch len(tail) {
	case 0:
	case 1:
		s.q.meta[i].tail[0] = tail[0]
	default:
		s.q.ext[i].pieces = tail
		s.ext |= extPieces
	}
}

// SetHeader makes h the frame's virtio_net_hdr (zero if never set).
func (s *Slot) SetHeader(h Header) {
	if h == (Header{}) {
		return
	}
	s.q.ext[s.pos&s.q.mask].hdr = h
	s.ext |= extHeader
}

// Pos returns the slot's position, for Released.
func (s Slot) Pos() uint64 { return s.pos }

// Commit hands the frame in Bytes (and its attached tail) to the consumer
// and empties s. Flush announces it.
func (s *Slot) Commit() {
	s.publish(uint32(len(s.buf)))
	s.q = nil
}

// Cancel gives the reservation up, if s holds one, and empties s; the
// consumer skips it, and it counts as DropCancelled.
func (s *Slot) Cancel() {
	if s.q == nil {
		return
	}
	s.q.drop(DropCancelled)
	s.publish(0)
	s.q = nil
}

func (s *Slot) publish(n uint32) {
	m := &s.q.meta[s.pos&s.q.mask]
	m.n = n
	m.span = uint16(spanOf(len(s.buf)))
	m.ext = s.ext
	if n == 0 {
		m.tail[0] = nil
		m.ext = 0
		if s.ext&extPieces != 0 {
			s.q.ext[s.pos&s.q.mask].pieces = nil
		}
	}
	storeRelease(&m.seq, s.pos+1)
}

// Put copies frame into the inbox and commits it: Reserve, copy, Commit.
// It reports false if the frame was dropped.
func (q *Inbox) Put(frame []byte) bool {
	s, ok := q.Reserve(len(frame))
	if ok {
		copy(s.buf, frame)
		s.Commit()
	}
	return ok
}

// Flush wakes the consumer if it is parked. A producer calls it once per
// batch for every inbox it committed frames to; until then the consumer
// may sleep on them. While the consumer is busy it costs a fence and one
// atomic load.
//
// The fence orders the Commits before it ahead of the load of parked:
// without it the load may pass a commit still in the store buffer, and a
// consumer parking at that moment misses the frame (see the package doc).
func (q *Inbox) Flush() {
	fullFence()
	if q.parked.Load() == 0 || !q.parked.CompareAndSwap(1, 0) {
		return
	}
	q.bellMu.RLock()
	if !q.closed.Load() {
		eventfd.Signal(q.bell)
	}
	q.bellMu.RUnlock()
}

// Room reports whether a Reserve of n bytes would find the ring free now.
// It is a hint for backpressure: other producers may take the room first.
func (q *Inbox) Room(n int) bool {
	pos := q.tail.Load()
	last := pos + spanOf(n) - 1
	return int64(q.meta[last&q.mask].seq.Load()-last) >= 0
}
