package reactor

import (
	"time"

	"mvirt-net/reactor/inbox"
)

// A TX chain whose frame was routed by reference (route attached the
// frame's bytes in guest memory to the destination's inbox instead of
// copying them) stays in flight until the destination's reactor has copied
// it into its own guest and released it: only then does the chain go back
// to the guest's used ring. The guest memory it points into stays mapped
// as long as anything is in flight (settle).

// inflightChain is one TX chain lent to a destination inbox.
type inflightChain struct {
	q    *inbox.Inbox
	pos  uint64
	gen  uint32 // the TX ring's generation when the chain was taken
	head uint16
	// pieces is how many entries of its piece list in pieceBuf the
	// chain's lent tail uses (0 for a tail in one piece, which the inbox
	// keeps itself).
	pieces uint8
}

// inflight is a FIFO of the chains lent, oldest first: a destination
// releases frames in order, and the frames of one TX ring usually go to a
// few destinations that drain as fast as each other.
type inflight struct {
	ring []inflightChain
	// pieceBuf holds maxLendPieces piece views per entry of ring: the
	// lent tail of entry i, when in several pieces, is in
	// pieceBuf[i*maxLendPieces:], which the destination's inbox reads
	// until it releases the frame.
	pieceBuf   [][]byte
	head, tail uint32 // positions; ring[pos % len(ring)]
	// limit is how many chains may be lent at once: half the TX ring, so
	// that the guest keeps buffers to send from while a destination
	// works through a burst; frames past it are copied.
	limit int
}

// settleTimeout bounds how long a reactor waits for destinations to release
// frames that still point into its guest's memory before it gives the
// memory up anyway (by leaking it, never by unmapping it under a reader).
const settleTimeout = time.Second

func (f *inflight) len() int   { return int(f.tail - f.head) }
func (f *inflight) full() bool { return f.len() >= f.limit }

// reserve makes room for size chains, the TX ring's size, keeping the
// chains in flight, and sets the limit for that ring. It allocates when a
// ring starts, never per frame.
func (f *inflight) reserve(size int) {
	f.limit = size / 2
	if len(f.ring) >= size {
		return
	}
	ring := make([]inflightChain, size)
	n := f.len()
	for i := range n {
		ring[i] = f.ring[(f.head+uint32(i))%uint32(len(f.ring))]
	}
	// The piece lists of the chains still in flight stay where their
	// inboxes point, in the old pieceBuf.
	f.ring, f.head, f.tail = ring, 0, uint32(n)
	f.pieceBuf = make([][]byte, size*maxLendPieces)
}

// pieces returns the room for the lent tail of the chain pushed next.
func (f *inflight) pieces() [][]byte {
	i := int(f.tail%uint32(len(f.ring))) * maxLendPieces
	return f.pieceBuf[i : i+maxLendPieces : i+maxLendPieces]
}

// push adds the chain lent, taken from the TX ring of generation gen at
// head. It writes the entry field by field: a copy of lent after writing
// gen and head into it would read them back before they reach the cache.
func (f *inflight) push(lent *inflightChain, gen uint32, head uint16) {
	c := &f.ring[f.tail%uint32(len(f.ring))]
	c.q, c.pos, c.pieces = lent.q, lent.pos, lent.pieces
	c.gen, c.head = gen, head
	f.tail++
}

func (f *inflight) front() *inflightChain { return &f.ring[f.head%uint32(len(f.ring))] }

func (f *inflight) pop() {
	c := f.front()
	if c.pieces != 0 {
		i := int(f.head%uint32(len(f.ring))) * maxLendPieces
		clear(f.pieceBuf[i : i+int(c.pieces)])
	}
	*c = inflightChain{}
	f.head++
}

// reapTx gives back to the guest, in one publish and at most one interrupt,
// every chain in flight that its destination has released, oldest first.
// Chains of an earlier generation of the ring (stopped since) are only
// forgotten.
func (r *Reactor) reapTx() {
	f := &r.inflight
	if f.len() == 0 {
		return
	}
	qs := &r.queues[txQueue]
	n := 0
	for f.len() > 0 {
		c := f.front()
		if !c.q.Released(c.pos) {
			break
		}
		if qs.running && c.gen == qs.gen {
			qs.q.AddUsed(c.head, 0)
			n++
		}
		f.pop()
	}
	if n == 0 {
		return
	}
	qs.q.Publish()
	if qs.q.NeedsNotify() {
		r.signal(qs.call)
	}
}

// awaitRelease prepares to sleep while chains are in flight: the oldest
// one's destination is asked to ring this reactor's doorbell when it next
// releases frames, or, if it takes no more waiters, the retry timer is
// armed. It reports false when that chain is released already.
func (r *Reactor) awaitRelease() bool {
	f := &r.inflight
	if f.len() == 0 {
		return true
	}
	c := f.front()
	if c.q.Released(c.pos) {
		return false
	}
	if !c.q.WaitForRoom(r.cfg.Inbox) {
		r.armRetry()
		return true
	}
	return !c.q.Released(c.pos)
}

// settle waits until no destination reads this guest's memory any more,
// reaping as it goes, so that the memory can be unmapped or the TX ring
// stopped. Meanwhile it drains its own inbox, so that two reactors
// settling at once, each holding frames the other lent, release each
// other's. It reports false if frames were still in flight after
// settleTimeout.
func (r *Reactor) settle() bool {
	deadline := nanotime() + int64(settleTimeout)
	for {
		r.reapTx()
		if r.inflight.len() == 0 {
			return true
		}
		if nanotime() > deadline {
			r.cfg.Log.Error("destinations still hold frames of this guest's memory",
				"nic", r.cfg.NicID, "frames", r.inflight.len())
			return false
		}
		r.drainInboxFrames()
		time.Sleep(20 * time.Microsecond)
	}
}
