package reactor

import (
	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/tun"
)

// With offloads on, the kernel hands the uplink what its stack and GRO
// made: packets with partial checksums (NEEDS_CSUM) and GSO super-frames
// of up to 64 KiB, each read whole into one read buffer. Such a frame is
// validated against the TUN's offloads and routed like any other, with
// its header (rebased to the Ethernet frame) in the destination's inbox,
// where the NIC's own delivery (deliverFrame) passes it on, completes its
// checksum or cuts it into segments, as its guest negotiated. A frame
// longer than the inbox takes is lent: its headers are copied, the rest
// is attached where it lies in the read buffer, which is read into again
// only once the destination has released it (reapReads). Past
// maxLentReads lent buffers, a GSO frame goes into the inbox as its
// segments (partial checksums) instead.

// maxLentReads bounds the read buffers lent at once: half of them, so
// that the kernel always has reads to complete.
const maxLentReads = uplinkReads / 2

// lentRead is a read buffer lent to a destination inbox, at pos.
type lentRead struct {
	q   *inbox.Inbox
	pos uint64
}

// readBufLen is the length of a read buffer: room, virtio_net_hdr, and
// the largest packet the TUN sends, a 64 KiB super-frame with offloads.
func readBufLen(off offload.Features) int {
	if off.Has(offload.HostTSO4) || off.Has(offload.HostTSO6) || off.Has(offload.HostUSO) {
		return tunRoom + tun.HdrLen + maxFrame
	}
	return tunRoom + tun.HdrLen + inboxMaxFrame
}

// checkKernelOffload validates the offload header h the kernel sent with
// the frame parsed, rebased to the Ethernet frame, against the TUN's
// offloads, and keeps it in r.hdr for the frame's inbox slot (zero: a
// plain packet). It reports false when the frame is dropped.
func (r *UplinkReactor) checkKernelOffload(h offload.Header, frame []byte) bool {
	r.hdr = inbox.Header{}
	h = h.PassThrough()
	if h == (offload.Header{}) {
		return true
	}
	if r.up.off == 0 {
		r.drop(DropOffload)
		return false
	}
	h = h.Rebased(packet.EthernetHeaderLen)
	if why := offload.Validate(h, frame[:r.parsed.End], nil, r.up.off, &r.off.layout); why != offload.ReasonNone {
		r.drop(offloadDrop(why))
		return false
	}
	h.Encode(r.hdr[:])
	return true
}

// packetSize is the IP length of the largest packet the frame parsed
// becomes on the wire: a GSO frame's segments', for the MTU check.
func (r *UplinkReactor) packetSize() int {
	if r.hdr != (inbox.Header{}) {
		if n := offload.SegmentIPLen(offload.Decode(r.hdr[:]), &r.off.layout); n > 0 {
			return n
		}
	}
	return r.parsed.End - packet.EthernetHeaderLen
}

// offloadHeaders is how much of the frame parsed, with the offload
// header r.hdr, its destination may rewrite: every header, up to the end
// of the transport checksum.
func (r *UplinkReactor) offloadHeaders() int {
	h := offload.Decode(r.hdr[:])
	n := r.off.layout.HdrLen
	if h.NeedsCsum() {
		n = max(n, int(h.CsumStart)+int(h.CsumOffset)+2)
	}
	return n
}

// forwardLarge forwards the frame parsed with an offload header, read
// into buffer idx and longer than d's inbox takes: lent if a read buffer
// may be, else (a GSO frame) as its segments.
func (r *UplinkReactor) forwardLarge(frame []byte, d *Dest, et uint16, idx int) {
	p := &r.parsed
	if r.nLent < maxLentReads {
		head := r.offloadHeaders()
		slot, ok := d.Inbox.Reserve(head)
		if !ok {
			r.drop(DropInboxFull)
			return
		}
		b := slot.Bytes()
		copy(b, frame[:head])
		packet.Ethernet(b).Encode(d.MAC, gateway.MAC, et)
		packet.DecTTL(b, p)
		r.lentTail[idx][0] = frame[head:p.End]
		slot.Attach(r.lentTail[idx][:])
		slot.SetHeader(r.hdr)
		r.lent[idx] = lentRead{q: d.Inbox, pos: slot.Pos()}
		r.nLent++
		slot.Commit()
		r.touch(d.Inbox)
		return
	}
	h := offload.Decode(r.hdr[:])
	if !h.IsGSO() {
		r.drop(DropTooBig)
		return
	}
	x := &r.off
	if why := x.seg.Init(h, &x.layout, frame[:p.End], nil, offload.ChecksumPartial); why != offload.ReasonNone {
		r.drop(offloadDrop(why))
		return
	}
	var slot inbox.Slot
	for range x.putSegments(d, p, et, &slot) {
		r.drop(DropInboxFull)
	}
	r.touch(d.Inbox)
}

// reapReads reads again into every lent read buffer its destination has
// released.
func (r *UplinkReactor) reapReads() {
	if r.nLent == 0 {
		return
	}
	for i := range r.lent {
		l := &r.lent[i]
		if l.q == nil || !l.q.Released(l.pos) {
			continue
		}
		*l = lentRead{}
		r.lentTail[i][0] = nil
		r.nLent--
		r.armRead(i)
	}
}
