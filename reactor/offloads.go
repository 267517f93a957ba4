package reactor

import (
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/vhostuser"
)

// A NIC with Config.Offloads offers its driver vhostuser.OffloadFeatures.
// What the driver acknowledges, without the features whose prerequisites
// it did not acknowledge (offload.Features.Consistent: such a feature is
// treated as not negotiated, never refused), is r.off: CSUM and HOST_*
// say which offload headers the driver may send (checkOffload validates
// each against them), GUEST_* which the NIC may hand it (deliverFrame).

// offered is the feature set the NIC's vhost-user sessions offer.
func (r *Reactor) offered() uint64 {
	if r.cfg.Offloads {
		return vhostuser.DefaultFeatures | vhostuser.OffloadFeatures
	}
	return vhostuser.DefaultFeatures
}

// negotiate sets r.off from the features the driver acknowledged.
func (r *Reactor) negotiate(acked uint64) {
	r.off = offload.FromVirtio(acked).Consistent()
}

// hostOffloads reports whether the driver may send frames with an
// offload header.
func (r *Reactor) hostOffloads() bool { return r.off.Has(offload.Csum) }

// checkOffload validates the offload header, not all zero, of the TX
// frame parsed (offload.Validate) and keeps, for route, the header to
// carry (only the offload fields in use, see offload.Header.PassThrough)
// and the length of the headers. It reports the drop reason of a header it refuses.
func (r *Reactor) checkOffload(frame []byte) (DropReason, bool) {
	t := &r.tx
	h := offload.Decode(t.hdr[:])
	why := offload.Validate(h, frame[:t.linear], r.txTail(frame), r.off, &t.layout)
	if why == offload.ReasonHeadersSplit && !t.inPlace {
		r.ensureLinear(len(frame))
		why = offload.Validate(h, frame[:t.linear], nil, r.off, &t.layout)
	}
	if why != offload.ReasonNone {
		return offloadDrop(why), false
	}
	t.hdr = inbox.Header{}
	h = h.PassThrough()
	if h == (offload.Header{}) {
		return 0, true
	}
	h.Encode(t.hdr[:])
	t.gsoSize = int(h.GSOSize)
	if !h.IsGSO() {
		t.gsoSize = 0
	}
	t.headers = t.layout.HdrLen
	if h.NeedsCsum() {
		t.headers = max(t.headers, int(h.CsumStart)+int(h.CsumOffset)+2)
	}
	return 0, true
}

// txTail is the part of the TX frame past the bytes take copied, as
// Validate counts it: one piece standing for its length (Validate only
// counts the tail).
func (r *Reactor) txTail(frame []byte) [][]byte {
	t := &r.tx
	if t.inPlace || t.linear == len(frame) {
		return nil
	}
	t.lenPiece[0] = frame[t.linear:]
	return t.lenPiece[:]
}

// packetSize is the size of the IP packets the TX frame parsed puts on
// the wire: for a GSO frame, its segments' (headers and gso_size bytes of
// payload), so that the MTU is checked against what the destination's
// guest, or the wire, gets.
func (r *Reactor) packetSize() int {
	n := r.parsed.End - packet.EthernetHeaderLen
	if t := &r.tx; t.hdr != (inbox.Header{}) && t.gsoSize > 0 {
		return min(n, t.layout.HdrLen-packet.EthernetHeaderLen+t.gsoSize)
	}
	return n
}
