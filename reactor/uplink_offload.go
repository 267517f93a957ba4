package reactor

import (
	"encoding/binary"

	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
)

// The uplink's TUN takes complete packets only (no TUNSETOFFLOAD), so a
// frame with an offload header routed to the uplink goes to the kernel
// as a NIC without offloads gets it: its checksum completed, a GSO
// frame cut into segments, each written on its own.

// writesNeeded is how many write buffers the frame f takes: one, or one
// per segment of a GSO frame (an estimate from its length, never short).
func writesNeeded(f *inbox.Frame) int {
	gso := int(binary.LittleEndian.Uint16(f.Hdr[4:6]))
	if f.Hdr[1] == offload.GSONone || gso == 0 {
		return 1
	}
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
	switch offload.Plan(h, &x.layout, 0) {
	case offload.ActionComplete:
		offload.Complete(h, &x.layout, f.Head, f.Tail)
		r.write(f.Head, f.Tail)
	case offload.ActionSegment:
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
