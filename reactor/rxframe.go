package reactor

import (
	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
)

// rxOffload is what deliverFrame needs for frames with an offload
// header: their layout, and the segmenter with room for one segment's
// headers and pieces. routeSegments borrows the segmenter and its room
// on the TX side (both run on the reactor's thread, one after the
// other).
type rxOffload struct {
	layout  offload.Layout
	seg     offload.Segmenter
	hdr     [offload.MaxHeaderLen]byte
	payload [offload.MaxPieces][]byte
	pieces  [1 + offload.MaxPieces][]byte
	// sent counts the segments of the frame at the inbox's head that
	// reached the guest before its RX ring ran out of buffers: when the
	// frame is tried again, segment goes on after them.
	sent int
}

// deliverFrame copies a frame another port routed here, head then lent
// tail, into the guest's RX queue. A frame with an offload header goes
// as this guest negotiated (offload.Plan): whole with its header when the
// guest takes it so (one super-frame spread over as many RX buffers as
// it needs), else with the checksum completed, or cut into segments each
// copied once, straight from the source. It reports false when the
// guest's RX ring has too few buffers for the frame (or for its next
// segment) yet; the frame is then as it was, to be tried again or
// dropped (see holdRx).
func (r *Reactor) deliverFrame(f *inbox.Frame) bool {
	r.rxPieces[0] = f.Head
	n := 1
	switch len(f.Tail) {
	case 0:
	case 1:
		r.rxPieces[1] = f.Tail[0]
		n = 2
	default:
		n += copy(r.rxPieces[1:], f.Tail)
	}
	pieces := r.rxPieces[:n]
	var done bool
	if f.Hdr == (inbox.Header{}) {
		done = r.put(r.rxHdr[:r.hdrLen], pieces)
	} else {
		done = r.deliverOffloaded(f, pieces)
	}
	clear(pieces)
	return done
}

// deliverOffloaded is deliverFrame for a frame with an offload header,
// in pieces.
func (r *Reactor) deliverOffloaded(f *inbox.Frame, pieces [][]byte) bool {
	x := &r.rx
	h := offload.Decode(f.Hdr[:])
	if why := offload.Validate(h, f.Head, f.Tail, offload.All, &x.layout); why != offload.ReasonNone {
		r.drop(offloadDrop(why))
		return true
	}
	switch a := offload.Plan(h, &x.layout, r.off); a {
	case offload.ActionPassThrough:
		h.PassThrough().Encode(r.rxOff[:r.hdrLen])
		return r.put(r.rxOff[:r.hdrLen], pieces)
	case offload.ActionComplete:
		return r.complete(h, f, pieces)
	case offload.ActionSegment, offload.ActionSegmentPartial:
		mode := offload.ChecksumFull
		if a == offload.ActionSegmentPartial {
			mode = offload.ChecksumPartial
		}
		return r.segment(h, f, mode)
	default:
		return r.put(r.rxHdr[:r.hdrLen], pieces)
	}
}

// complete delivers f, in pieces, with the checksum its sender left to
// the device filled in. When the guest has no room for it yet, the
// checksum field gets back what the sender wrote, so that the frame
// tried again is summed over the same bytes.
func (r *Reactor) complete(h offload.Header, f *inbox.Frame, pieces [][]byte) bool {
	if !h.NeedsCsum() {
		return r.put(r.rxHdr[:r.hdrLen], pieces)
	}
	at := int(h.CsumStart) + int(h.CsumOffset)
	sum := f.Head[at : at+2 : at+2]
	was := [2]byte{sum[0], sum[1]}
	offload.Complete(h, &r.rx.layout, f.Head, f.Tail)
	if r.put(r.rxHdr[:r.hdrLen], pieces) {
		return true
	}
	sum[0], sum[1] = was[0], was[1]
	return false
}

// segment delivers the GSO frame f as the segments a driver without
// segmentation offload would have sent, each its own RX frame. When the
// guest's RX ring runs out of buffers it reports false, remembering how
// many segments went (rxOffload.sent), and the frame tried again goes
// on with the next one.
func (r *Reactor) segment(h offload.Header, f *inbox.Frame, mode offload.ChecksumMode) bool {
	x := &r.rx
	if why := x.seg.Init(h, &x.layout, f.Head, f.Tail, mode); why != offload.ReasonNone {
		x.sent = 0
		r.drop(offloadDrop(why))
		return true
	}
	x.seg.SegmentHeader().Encode(r.rxOff[:r.hdrLen])
	done := true
	for i := 0; ; i++ {
		hl, n, ok := x.seg.Next(x.hdr[:], &x.payload)
		if !ok {
			break
		}
		if i < x.sent {
			continue
		}
		x.pieces[0] = x.hdr[:hl]
		copy(x.pieces[1:], x.payload[:n])
		if !r.put(r.rxOff[:r.hdrLen], x.pieces[:1+n]) {
			x.sent, done = i, false
			break
		}
	}
	if done {
		x.sent = 0
	}
	clear(x.pieces[:])
	clear(x.payload[:])
	return done
}

// putSegments writes every segment of x.seg, initialised by the caller,
// into d's inbox as a frame of its own: d's MACs, ethertype et, the
// segment header, and the super-frame's TTL p.TTL decremented once. Each
// reservation lives in *slot while the payload is copied (a NIC passes
// its r.reserved, which a fault in guest memory cancels). It returns how
// many segments found no room.
func (x *rxOffload) putSegments(d *Dest, p *packet.Parsed, et uint16, slot *inbox.Slot) (full int) {
	var sh inbox.Header
	x.seg.SegmentHeader().Encode(sh[:])
	ttl := p.TTL
	for {
		hl, n, ok := x.seg.Next(x.hdr[:], &x.payload)
		if !ok {
			break
		}
		size := hl
		for _, pc := range x.payload[:n] {
			size += len(pc)
		}
		if *slot, ok = d.Inbox.Reserve(size); !ok {
			full++
			continue
		}
		b := slot.Bytes()
		off := copy(b, x.hdr[:hl])
		for _, pc := range x.payload[:n] {
			off += copy(b[off:], pc)
		}
		packet.Ethernet(b).Encode(d.MAC, gateway.MAC, et)
		p.TTL = ttl
		packet.DecTTL(b, p)
		slot.SetHeader(sh)
		slot.Commit()
	}
	clear(x.payload[:])
	return full
}
