package reactor

import (
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
)

// routeSegments routes the GSO frame parsed, which can be neither lent
// (to this NIC itself, with half the TX ring lent already, or in more
// pieces than a lent frame holds) nor copied whole (longer than d's
// inbox takes), as its segments: each a frame of its own in d's inbox,
// with a partial checksum (NEEDS_CSUM) that the destination completes
// or passes on, as its guest negotiated. The segments share the super-
// frame's one route lookup and filter pass. It reports false when the
// inbox has no room for them and the TX ring waits (see route).
func (r *Reactor) routeSegments(frame []byte, d *Dest) bool {
	t, x, p := &r.tx, &r.rx, &r.parsed
	h := offload.Decode(t.hdr[:])
	head := frame[:t.linear]
	var tail [][]byte
	if !t.inPlace && t.linear < p.End {
		k, ok := r.tailPieces(x.pieces[:], frame, t.linear, p.End)
		if !ok {
			r.drop(offloadDrop(offload.ReasonTooManyPieces))
			return true
		}
		tail = x.pieces[:k]
	}
	if why := x.seg.Init(h, &t.layout, head, tail, offload.ChecksumPartial); why != offload.ReasonNone {
		clear(x.pieces[:])
		r.drop(offloadDrop(why))
		return true
	}
	clear(x.pieces[:])
	room := x.seg.Segments() * inbox.SlotSize
	if !d.Inbox.Room(room) && r.block(d.Inbox, room) {
		return false
	}
	r.blockedSince = 0
	// As in route, each slot is r.reserved while guest memory is read.
	for range x.putSegments(d, p, p.EtherType, &r.reserved) {
		r.drop(DropInboxFull)
	}
	r.touch(d.Inbox)
	return true
}
