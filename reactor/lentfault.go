package reactor

import (
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/virtq"
)

// A frame another NIC lent this one (see route) is copied straight out of
// the sender's guest memory, which the sender's VMM may shrink under it
// (a hostile local process truncating its memfd): the copy then faults,
// and debug.SetPanicOnFault makes the fault a panic. Such a fault costs
// that frame only, never this reactor nor its guest's connection: the
// batch recovers from it once (catchLentFault, deferred per batch, not per
// frame), drops the frame, puts back the RX chains it had taken and goes
// on with the next frame. A fault anywhere else is this guest's own and
// crashes the reactor as before.

// nextFrame is the inbox frame taken and not yet delivered, f[i] (if
// ok), beside the frame delivered before it.
type nextFrame struct {
	f  [2]inbox.Frame
	i  int
	ok bool
}

// lentCopy is the lent frame being delivered.
type lentCopy struct {
	tail [][]byte     // its lent bytes; nil between frames
	rx   virtq.RxMark // where the RX queue stood before it
}

// catchLentFault, deferred by deliverFrames, recovers from a fault while
// reading the lent bytes of the frame being delivered: the frame is
// dropped and counted (DropLentFault), the RX chains its delivery had
// taken go back to the ring unused, and *faulted tells the caller to go
// on with the rest of the batch. Any other panic goes on.
func (r *Reactor) catchLentFault(faulted *bool) {
	l := &r.lending
	if l.tail == nil {
		return
	}
	v := recover()
	tail := l.tail
	l.tail = nil
	if !faultIn(v, tail) {
		panic(v)
	}
	if rx := &r.queues[rxQueue]; rx.running {
		rx.q.Rewind(l.rx)
	}
	clear(r.rxPieces[:])
	r.rx.sent = 0
	r.drop(DropLentFault)
	*faulted = true
}

// faultIn reports whether v, a recovered panic value, is a memory fault
// at an address in one of pieces.
func faultIn(v any, pieces [][]byte) bool {
	e, ok := v.(interface{ Addr() uintptr })
	if !ok {
		return false
	}
	for _, b := range pieces {
		if contains(b, e.Addr()) {
			return true
		}
	}
	return false
}
