package reactor

import (
	"mvirt-net/reactor/eventfd"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/virtq"
)

// processTx drains the guest's TX queue: first it gives back the chains
// whose lent frames were released (reapTx), then it takes up to txBudget
// chains, each handled and returned to the used ring (or lent), then one
// publish and at most one interrupt for the pass, for TX and for whatever
// the pass delivered to RX. It counts the chains it took in r.handled. A
// busy-polling reactor leaves guest kicks off when the ring runs empty;
// quiesce turns them on before it sleeps.
func (r *Reactor) processTx() {
	r.reapTx()
	qs := &r.queues[txQueue]
	r.txMore = false
	r.blockedOn = nil
	if !qs.running {
		return
	}
	qs.q.DisableNotify()
	r.fw.begin()
	n := 0
	for ; ; n++ {
		if n == txBudget {
			r.txMore = true
			break
		}
		ok, f := qs.q.Pop(&qs.chain)
		if f != virtq.FaultNone && f != virtq.FaultSegmentLimit {
			r.fault(txQueue, f)
			return
		}
		if !ok {
			if r.cfg.BusyPoll == 0 && qs.q.EnableNotify() {
				qs.q.DisableNotify()
				continue
			}
			break
		}
		if f == virtq.FaultSegmentLimit {
			r.drop(DropSegmentLimit)
		} else if !r.handleTx(&qs.chain) {
			// A full inbox holds the ring back: the chain stays the
			// guest's and notifications stay off until there is room.
			qs.q.Unpop()
			r.armRetry()
			break
		}
		if r.lent.q != nil {
			r.lent.head, r.lent.gen = qs.chain.Head, qs.gen
			r.inflight.push(r.lent)
			r.lent = inflightChain{}
		} else {
			qs.q.AddUsed(qs.chain.Head, 0)
		}
		if !qs.running {
			return
		}
	}
	qs.q.Publish()
	if qs.q.NeedsNotify() {
		r.signal(qs.call)
	}
	r.flushRx()
	r.flushRouted()
	r.batch.flush(r.cfg.Stats)
	r.handled += n
}

// handleTx takes one frame the guest sent: the chain's readable bytes past
// the virtio-net header. A frame in one segment is used in place; one in
// several is copied into the reactor's frame buffer. It reports false when
// the frame must wait for room at its destination (see route).
func (r *Reactor) handleTx(c *virtq.Chain) bool {
	if c.ReadLen <= r.hdrLen {
		r.drop(DropMalformed)
		return true
	}
	if c.ReadLen-r.hdrLen > len(r.frame) {
		r.drop(DropOversize)
		return true
	}
	var frame []byte
	frame, r.inPlace = r.linearize(c.ReadSegs())
	packet.Parse(frame, &r.parsed)
	if r.parsed.Reason != packet.ReasonNone {
		r.drop(DropMalformed)
		return true
	}
	if !r.answer(frame) {
		return false
	}
	r.batch.txPackets++
	r.batch.txBytes += uint64(len(frame))
	return true
}

// linearize returns the frame in segs after the virtio-net header, and
// whether it is the guest's buffer itself (a frame in one segment) rather
// than a copy in the reactor's frame buffer.
func (r *Reactor) linearize(segs [][]byte) ([]byte, bool) {
	skip := r.hdrLen
	for len(segs) > 0 && len(segs[0]) <= skip {
		skip -= len(segs[0])
		segs = segs[1:]
	}
	if len(segs) == 1 {
		return segs[0][skip:], true
	}
	n := copy(r.frame, segs[0][skip:])
	for _, s := range segs[1:] {
		n += copy(r.frame[n:], s)
	}
	return r.frame[:n], false
}

// deliver copies a frame, head then tail (which may be nil), into the
// guest's RX queue; publishing waits for the end of the batch (flushRx).
func (r *Reactor) deliver(head, tail []byte) {
	qs := &r.queues[rxQueue]
	if !qs.running {
		r.drop(DropNoRxBuffer)
		return
	}
	r.rxPieces[0], r.rxPieces[1] = head, tail
	res, f := qs.q.Deliver(&r.rxChain, r.rxHdr[:r.hdrLen], r.rxPieces[:])
	r.rxPieces[0], r.rxPieces[1] = nil, nil
	switch res {
	case virtq.RxDelivered:
		r.rxPending = true
		r.batch.rxPackets++
		r.batch.rxBytes += uint64(len(head) + len(tail))
	case virtq.RxNoBuffers:
		r.drop(DropNoRxBuffer)
	case virtq.RxTooBig:
		r.drop(DropRxTooBig)
	case virtq.RxFault:
		r.fault(rxQueue, f)
	}
}

// flushRx publishes what deliver added and interrupts the guest if it
// asked for it.
func (r *Reactor) flushRx() {
	qs := &r.queues[rxQueue]
	if !r.rxPending || !qs.running {
		return
	}
	r.rxPending = false
	qs.q.Publish()
	if qs.q.NeedsNotify() {
		r.signal(qs.call)
	}
}

// signal interrupts the guest through a call eventfd.
func (r *Reactor) signal(fd int) {
	if fd < 0 {
		return
	}
	if eventfd.Signal(fd) {
		r.cfg.Stats.Calls.Add(1)
	}
}

func (r *Reactor) drop(why DropReason) {
	r.cfg.Stats.Drops[why].Add(1)
}
