package reactor

import (
	"mvirt-net/reactor/eventfd"
	"mvirt-net/reactor/inbox"
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
			r.inflight.push(&r.lent, qs.gen, qs.chain.Head)
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
// the virtio-net header, and the header itself (see txframe.go). It
// reports false when the frame must wait for room at its destination
// (see route).
func (r *Reactor) handleTx(c *virtq.Chain) bool {
	if c.ReadLen <= r.hdrLen {
		r.drop(DropMalformed)
		return true
	}
	if c.ReadLen-r.hdrLen > len(r.frame) {
		r.drop(DropOversize)
		return true
	}
	frame := r.take(c.ReadSegs())
	if r.parsed.Reason != packet.ReasonNone {
		r.drop(DropMalformed)
		return true
	}
	if r.tx.hdr != (inbox.Header{}) {
		if why, ok := r.checkOffload(frame); !ok {
			r.drop(why)
			return true
		}
	}
	if !r.answer(frame) {
		return false
	}
	r.batch.txPackets++
	r.batch.txBytes += uint64(len(frame))
	return true
}

// deliver copies a frame the gateway built, complete and in one piece,
// into the guest's RX queue (see put), or drops it if the guest has no
// room: an answer does not wait for RX buffers.
func (r *Reactor) deliver(frame []byte) {
	r.rxPieces[0] = frame
	if !r.put(r.rxHdr[:r.hdrLen], r.rxPieces[:1]) {
		r.drop(DropNoRxBuffer)
	}
	r.rxPieces[0] = nil
}

// put copies a frame in pieces behind the virtio-net header hdr into the
// guest's RX queue; publishing waits for the end of the batch (flushRx).
// It reports false, having delivered and counted nothing, when the ring
// has too few RX buffers for the frame yet: the caller drops it or lets
// it wait for the guest to add some (holdRx). A frame that can never be
// placed (no ring running, or too big for it) is dropped and counted.
func (r *Reactor) put(hdr []byte, pieces [][]byte) bool {
	qs := &r.queues[rxQueue]
	if !qs.running {
		r.drop(DropNoRxBuffer)
		return true
	}
	res, f := qs.q.Deliver(&r.rxChain, hdr, pieces)
	switch res {
	case virtq.RxDelivered:
		r.rxPending = true
		r.batch.rxPackets++
		for _, p := range pieces {
			r.batch.rxBytes += uint64(len(p))
		}
	case virtq.RxNoBuffers:
		return false
	case virtq.RxTooBig:
		r.drop(DropRxTooBig)
	case virtq.RxFault:
		r.fault(rxQueue, f)
	}
	return true
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

// publishRx gives the guest the RX buffers put filled so far, without
// interrupting it: flushRx, at the end of the batch, decides that for
// everything published since the last interrupt.
func (r *Reactor) publishRx() {
	if qs := &r.queues[rxQueue]; r.rxPending && qs.running {
		qs.q.Publish()
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
