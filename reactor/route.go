package reactor

import (
	"net/netip"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/prefetch"
	"mvirt-net/reactor/route"
)

// DefaultMTU is the IP MTU of a network that sets none (RouteTable.MTU).
const DefaultMTU = 1500

// Dest is where frames routed to one port go: its reactor's inbox, with
// the MAC and MTU the frame must carry and fit. The Dataplane creates it
// with the port and puts it in the route tables. A Dest without an Inbox
// stands for addresses of a network that no port holds: frames to them
// are answered host unreachable, from Src4 or Src6 when they came from
// the uplink.
type Dest struct {
	Inbox *inbox.Inbox
	MAC   packet.MAC
	MTU   int
	// Src4 and Src6 are the sources of ICMP errors the uplink sends about
	// a network's addresses: the network's own subnet address (IPv4) and
	// Subnet-Router anycast address (IPv6), which the kernel routes back
	// to the uplink and no port ever holds.
	Src4, Src6 netip.Addr
}

// Routes is a network's route table as its NetworkActor publishes it.
type Routes = route.Published[*Dest]

// lastRoute is the route a reactor looked up last, in the table it used.
type lastRoute struct {
	tbl  *route.Table[*Dest]
	dst  netip.Addr
	dest *Dest
}

// Frames longer than lendMin bytes are lent to their destination; the
// first lendHead bytes (the Ethernet and IP headers, which routing
// rewrites) are copied, and kept with the inbox's bookkeeping. Shorter
// frames are cheaper to copy whole than to track. A frame with an
// offload header has every header copied instead (see offloadHead),
// since its destination may complete its checksum or cut it into
// segments there.
const (
	lendMin  = 256
	lendHead = inbox.InlineLen
)

// maxTouched bounds the inboxes one TX pass remembers to flush; past it the
// reactor flushes at once.
const maxTouched = 16

// maxBlock bounds how long a full destination inbox holds back a TX ring;
// past it frames to a destination that does not drain are dropped, so one
// stuck NIC cannot stall its senders' traffic to everyone else.
const maxBlock = time.Millisecond

// route forwards a frame to the NIC owning its destination: one lookup,
// one anti-spoofing check (answer), one filter pass and one TTL
// decrement per frame, a TSO super-frame included. Its first bytes are
// copied into the destination's inbox, where the MACs are rewritten and
// the TTL decremented; the rest of a frame longer than lendMin is lent
// (attached where it lies in this guest's buffers, in one piece or
// several, not copied), so the destination's reactor copies it once,
// straight from this guest's buffers into its own guest's, and the TX
// chain stays in flight until then (r.lent). The frame's offload header
// travels with it. Errors go back to the sender as ICMP, as a router
// sends them. It reports false, leaving the frame to the guest, when the
// destination's inbox is full and the TX ring should wait for room
// (backpressure) rather than drop.
func (r *Reactor) route(frame []byte) bool {
	p := &r.parsed
	if !r.egressAllowed(frame) {
		return true
	}
	tbl := r.cfg.Routes.Load()
	if tbl == nil {
		r.drop(DropUnrouted)
		return true
	}
	d, ok := r.lookup(tbl, p.Dst)
	if !ok || d.Inbox == nil {
		r.ensureLinear(len(frame))
		r.unreachable(frame, tbl.InNetwork(p.Dst))
		return true
	}
	if p.TTL <= 1 {
		r.ensureLinear(len(frame))
		r.icmpError(frame, icmpTimeExceeded, 0)
		return true
	}
	n := p.End
	if r.packetSize() > d.MTU {
		r.ensureLinear(len(frame))
		r.tooBig(frame, d.MTU)
		return true
	}
	head := n
	// A frame back to this NIC itself is not lent: settle, waiting on the
	// reactor's own thread, would wait for itself.
	lend := n > lendMin && !r.inflight.full() && d.Inbox != r.cfg.Inbox
	var pieces [][]byte
	if lend {
		head = r.lendHead()
		pieces = r.lentPiece[:]
		if !r.tx.inPlace {
			pieces = r.inflight.pieces()
		}
		var k int
		k, lend = r.tailPieces(pieces, frame, head, n)
		pieces = pieces[:k]
	}
	if !lend {
		head = n
		if r.tx.gsoSize > 0 && n > d.Inbox.MaxFrame() {
			return r.routeSegments(frame, d)
		}
	}
	if !d.Inbox.Room(head) && r.block(d.Inbox, head) {
		return false
	}
	// The slot lives in r.reserved while the frame is copied out of guest
	// memory, where a fault panics: the crash path cancels it, so the
	// destination's inbox does not stop at it. Commit empties it.
	slot := &r.reserved
	if *slot, ok = d.Inbox.Reserve(head); !ok {
		r.drop(DropInboxFull)
		return true
	}
	r.blockedSince = 0
	b := slot.Bytes()
	r.copyOut(b, frame)
	packet.Ethernet(b).Encode(d.MAC, gateway.MAC, p.EtherType)
	packet.DecTTL(b, p)
	if lend {
		slot.Attach(pieces)
		r.lent = inflightChain{q: d.Inbox, pos: slot.Pos()}
		if !r.tx.inPlace {
			r.lent.pieces = uint8(len(pieces))
		}
	}
	slot.SetHeader(r.tx.hdr)
	slot.Commit()
	r.touch(d.Inbox)
	return true
}

// lendHead is how much of the frame parsed route copies when it lends
// the rest: lendHead bytes for a plain frame, every header up to the
// end of the transport header for a frame with an offload header.
func (r *Reactor) lendHead() int {
	if r.tx.hdr == (inbox.Header{}) {
		return lendHead
	}
	return r.tx.headers
}

// lookup finds dst in tbl, remembering the last answer: a burst of frames
// to one destination costs one longest-prefix match. A new table (the
// network changed) forgets it.
func (r *Reactor) lookup(tbl *route.Table[*Dest], dst netip.Addr) (*Dest, bool) {
	if tbl == r.last.tbl && dst == r.last.dst {
		return r.last.dest, true
	}
	d, ok := tbl.Lookup(dst)
	if ok {
		r.last.tbl, r.last.dst, r.last.dest = tbl, dst, d
	}
	return d, ok
}

// block decides whether the TX ring waits for room in the full inbox q,
// for a frame of n bytes: only for maxBlock, and only if q takes one more
// waiter. The reactor is then woken by q's consumer through its own inbox
// doorbell, and retries.
func (r *Reactor) block(q *inbox.Inbox, n int) bool {
	now := nanotime()
	if r.blockedSince == 0 {
		r.blockedSince = now
	}
	if now-r.blockedSince >= int64(maxBlock) || !q.WaitForRoom(r.cfg.Inbox) {
		return false
	}
	r.blockedOn, r.blockedLen = q, n
	return true
}

// touch remembers an inbox to flush at the end of the pass.
func (r *Reactor) touch(q *inbox.Inbox) {
	for _, t := range r.touched[:r.nTouched] {
		if t == q {
			return
		}
	}
	if r.nTouched == maxTouched {
		q.Flush()
		return
	}
	r.touched[r.nTouched] = q
	r.nTouched++
}

// flushRouted wakes every destination this pass sent to.
func (r *Reactor) flushRouted() {
	for i, q := range r.touched[:r.nTouched] {
		q.Flush()
		r.touched[i] = nil
	}
	r.nTouched = 0
}

// drainInboxFrames delivers what other reactors routed to this NIC and
// counts the frames it took in r.handled. When the guest's RX ring has
// too few buffers, the frames left wait in the inbox (see holdRx).
func (r *Reactor) drainInboxFrames() {
	q := r.cfg.Inbox
	r.drained = 0
	r.rxWaiting = false
	filtered := r.fw.begin()
	nx := &r.next
	nx.ok = q.Next(&nx.f[nx.i])
	for r.deliverFrames(q, filtered) {
		// A lent frame faulted and was dropped: on with the rest.
	}
	q.Release()
	if r.drained == 0 && !r.rxPending {
		return
	}
	if r.batch.rxPackets != 0 && !r.rxWaiting {
		r.rxWaitSince = 0
	}
	r.flushRx()
	r.batch.flush(r.cfg.Stats)
	r.handled += r.drained
}

// deliverFrames delivers the frame r.next holds and every frame after it
// in q, counting them in r.drained. It reports true when a fault copying
// a lent frame cut it short (see catchLentFault); r.next then holds the
// frame after that one. A frame the guest has no room for yet goes back
// into q, untaken, with every frame after it, and the batch ends there
// (holdRx).
func (r *Reactor) deliverFrames(q *inbox.Inbox, filtered bool) (faulted bool) {
	defer r.catchLentFault(&faulted)
	rx := &r.queues[rxQueue]
	for nx := &r.next; nx.ok; {
		// The frame taken becomes the current one, and the next is
		// taken into the other of the two: no frame is copied.
		f := &nx.f[nx.i]
		nx.i ^= 1
		nf := &nx.f[nx.i]
		nx.ok = q.Next(nf)
		r.drained++
		// While this frame is copied, the next one's destination (and
		// the source of a lent one) come into the cache.
		if nx.ok && rx.running {
			if len(nf.Tail) > 0 {
				prefetch.Read(nf.Tail[0])
			}
			if b := rx.q.PeekBuffer(1); b != nil {
				prefetch.Write(b[:min(len(b), r.hdrLen+nf.Len())])
			}
		}
		if f.Tail != nil {
			r.lending.tail = f.Tail
			if rx.running {
				r.lending.rx = rx.q.Mark()
			}
		}
		if filtered && !r.ingressAllowed(f.Head, f.Tail) {
			// Refused, perhaps on a second try: nothing of it goes on.
			r.rx.sent = 0
		} else if !r.deliverFrame(f) && r.holdRx() {
			// The frames before this one since the drain began (and
			// the inbox's last Release) stay taken.
			r.drained--
			q.Untake(r.drained)
			nx.ok = false
		}
		r.lending.tail = nil
		if r.drained%rxPublishEvery == 0 {
			r.publishRx()
		}
	}
	r.next.f = [2]inbox.Frame{}
	return false
}

// rxPublishEvery frames, a long inbox drain gives the guest what it
// delivered so far, so that a guest polling its RX ring refills it while
// the drain goes on: a drain takes up to the inbox's 512 frames, and
// jumbo frames take several buffers each (five 2 KiB mergeable buffers
// for 9000 bytes), more than a 1024-entry ring holds. The interrupt, if
// the guest wants one, waits for the end of the drain (flushRx): one
// system call per drain, not one per 64 frames.
const rxPublishEvery = 64

type icmpKind uint8

const (
	icmpTimeExceeded icmpKind = iota
	icmpUnreachable
)

// unreachable answers a frame nobody in the network owns: host (address)
// unreachable inside the network's prefixes, network unreachable (no
// route) outside them.
func (r *Reactor) unreachable(frame []byte, inNetwork bool) {
	code := uint8(0)
	if inNetwork {
		code = 1
		if r.parsed.IPVersion == 6 {
			code = 3
		}
	}
	r.drop(DropUnrouted)
	r.icmpError(frame, icmpUnreachable, code)
}

func (r *Reactor) icmpError(frame []byte, kind icmpKind, code uint8) {
	p := &r.parsed
	n := 0
	switch {
	case p.IPVersion == 4 && kind == icmpTimeExceeded:
		n = packet.PutICMPv4TimeExceeded(r.out, frame, p, gateway.MAC, gateway.IPv4)
	case p.IPVersion == 4:
		n = packet.PutICMPv4DestUnreachable(r.out, frame, p, gateway.MAC, gateway.IPv4, code)
	case kind == icmpTimeExceeded:
		n = packet.PutICMPv6TimeExceeded(r.out, frame, p, gateway.MAC, gateway.IPv6)
	default:
		n = packet.PutICMPv6DestUnreachable(r.out, frame, p, gateway.MAC, gateway.IPv6, code)
	}
	if n > 0 {
		r.deliver(r.out[:n])
	}
}

// tooBig answers a packet larger than the destination's MTU: fragmentation
// needed (IPv4 with DF) or packet too big (IPv6). IPv4 without DF would
// need fragmenting, which the router does not do: it is dropped.
func (r *Reactor) tooBig(frame []byte, mtu int) {
	p := &r.parsed
	n := 0
	switch {
	case p.IPVersion == 6:
		n = packet.PutICMPv6PacketTooBig(r.out, frame, p, gateway.MAC, gateway.IPv6, uint32(mtu))
	case packet.IPv4(frame[p.L3Off:]).DontFragment():
		n = packet.PutICMPv4FragmentationNeeded(r.out, frame, p, gateway.MAC, gateway.IPv4, uint16(mtu))
	}
	r.drop(DropTooBig)
	if n > 0 {
		r.deliver(r.out[:n])
	}
}
