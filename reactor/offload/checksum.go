package offload

import (
	"encoding/binary"

	"mvirt-net/reactor/packet"
)

// Complete does in software what a NEEDS_CSUM frame left to the device, for
// a destination without GUEST_CSUM: it sums the frame from csum_start to the
// end of the IP packet and stores the complemented sum at csum_start +
// csum_offset, in head. By virtio 1.2 §5.1.6.2 the driver has put the
// pseudo-header sum into the checksum field, so the sum over the field as it
// is gives the full checksum; a computed 0 is stored as 0xffff, the same
// value in one's complement and the only form UDP allows (RFC 768).
//
// h and l must be what Validate accepted for this frame (head followed by
// tail). head is written (only the two checksum bytes, which Validate made
// sure lie in head) and may be the caller's copy of the frame's first bytes
// while tail stays in the sender's memory and is only read. The caller then
// sends the frame with a zero header (no NEEDS_CSUM). Complete does nothing
// for a frame without NEEDS_CSUM. It never allocates.
func Complete(h Header, l *Layout, head []byte, tail [][]byte) {
	if !h.NeedsCsum() {
		return
	}
	var c packet.Checksummer
	sumRange(&c, head, tail, int(h.CsumStart), l.End)
	sum := ^c.Sum(0)
	if sum == 0 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(head[int(h.CsumStart)+int(h.CsumOffset):], sum)
}

// sumRange adds bytes [from, to) of the frame head + tail to c.
func sumRange(c *packet.Checksummer, head []byte, tail [][]byte, from, to int) {
	off := 0
	piece := head
	for i := -1; i < len(tail) && off < to; i++ {
		if i >= 0 {
			piece = tail[i]
		}
		lo, hi := max(from-off, 0), min(to-off, len(piece))
		if lo < hi {
			c.Add(piece[lo:hi])
		}
		off += len(piece)
	}
}
