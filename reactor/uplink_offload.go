package reactor

import (
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
)

// A frame with an offload header routed to the uplink goes to the kernel
// as the TUN's offloads allow (Uplink.Offloads, as a NIC's negotiated
// features): whole, with its header rebased to the IP packet, in one
// writev (writeWhole), when the TUN takes it so; else as a NIC without
// offloads gets it: its checksum completed, a GSO frame cut into
// segments, each written on its own.

// writesNeeded is how many write buffers the frame f takes: one, or one
// per segment of a GSO frame (an estimate from its length, never short).
func writesNeeded(f *inbox.Frame) int {
	h := offload.Decode(f.Hdr[:])
	if !h.IsGSO() || h.GSOSize == 0 {
		return 1
	}
	gso := int(h.GSOSize)
	return (f.Len() + gso - 1) / gso
}

// writeFrame writes the frame f to the TUN as complete packets.
func (r *UplinkReactor) writeFrame(f *inbox.Frame) {
	if f.Hdr == (inbox.Header{}) {
		r.write(f.Head, f.Tail)
		return
	}
	x := &r.off
	h := offload.Decode(f.Hdr[:])
	if why := offload.Validate(h, f.Head, f.Tail, offload.All, &x.layout); why != offload.ReasonNone {
		r.drop(offloadDrop(why))
		return
	}
	switch offload.Plan(h, &x.layout, r.up.off) {
	case offload.ActionPassThrough:
		r.writeWhole(h.PassThrough().Rebased(-packet.EthernetHeaderLen), f)
	case offload.ActionComplete:
		offload.Complete(h, &x.layout, f.Head, f.Tail)
		r.write(f.Head, f.Tail)
	case offload.ActionSegment, offload.ActionSegmentPartial:
		if why := x.seg.Init(h, &x.layout, f.Head, f.Tail, offload.ChecksumFull); why != offload.ReasonNone {
			r.drop(offloadDrop(why))
			return
		}
		for {
			hl, n, ok := x.seg.Next(x.hdr[:], &x.payload)
			if !ok {
				break
			}
			r.write(x.hdr[:hl], x.payload[:n])
		}
		clear(x.payload[:])
	default:
		r.write(f.Head, f.Tail)
	}
}

// writeWhole writes the frame f, its IP packet behind the offload header
// h, to the TUN in one writev straight from the inbox and the frame's
// lent pieces: no copy, no segmentation. The write is synchronous (a TUN
// write never waits), so the frame may be released after it; writes
// queued on the ring before it are submitted first, to keep the order.
func (r *UplinkReactor) writeWhole(h offload.Header, f *inbox.Frame) {
	if len(f.Head) < packet.EthernetHeaderLen {
		r.drop(DropMalformed)
		return
	}
	h.Encode(r.whdr[:])
	if r.ring.SQReady() > 0 {
		if _, err := r.ring.Submit(); err != nil {
			r.drop(DropUplinkWrite)
			return
		}
	}
	if err := r.up.dev.Writev(&r.iov, r.whdr[:], f.Head[packet.EthernetHeaderLen:], f.Tail); err != nil {
		r.drop(DropUplinkWrite)
		return
	}
	r.batch.rxPackets++
	r.batch.rxBytes += uint64(f.Len() - packet.EthernetHeaderLen)
}
