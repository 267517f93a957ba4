package reactor

import "mvirt-net/reactor/inbox"

// deliverFrame copies a frame another port routed here, head then lent
// tail, into the guest's RX queue.
func (r *Reactor) deliverFrame(f *inbox.Frame) {
	r.rxPieces[0] = f.Head
	n := 1 + copy(r.rxPieces[1:], f.Tail)
	r.put(r.rxHdr[:r.hdrLen], r.rxPieces[:n])
	clear(r.rxPieces[:n])
}
