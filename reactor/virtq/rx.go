package virtq

import "encoding/binary"

// RxResult is what Deliver did with a frame.
type RxResult uint8

// Deliver results.
const (
	RxDelivered RxResult = iota // frame written and its chains added to the used ring
	RxNoBuffers                 // not enough RX chains available (yet): nothing consumed
	RxTooBig                    // the frame fits no chain (without MRG_RXBUF) or not even a full ring (with it): nothing consumed
	RxFault                     // the guest broke the rules: see the Fault
)

// String names the result for logs and metric labels.
func (r RxResult) String() string {
	switch r {
	case RxDelivered:
		return "delivered"
	case RxNoBuffers:
		return "no-buffers"
	case RxTooBig:
		return "too-big"
	case RxFault:
		return "fault"
	}
	return "unknown"
}

// numBuffersOff is the offset of num_buffers in virtio_net_hdr_v1.
const numBuffersOff = 10

// Deliver copies one frame into the receive queue q: hdr (the encoded
// virtio_net_hdr, NetHeaderLen bytes) followed by the frame, which may be
// in pieces (frame[0], frame[1], ...). It pops chains into c, a scratch
// Chain the caller owns, and adds them to the used ring without
// publishing, so the caller batches several frames per Publish.
//
// With VIRTIO_NET_F_MRG_RXBUF the frame spans as many chains as it needs
// and num_buffers in the guest's copy of the header says how many; without
// it the frame must fit in one chain and num_buffers (if the header has
// it) is 1. When the frame cannot be placed, Deliver puts the chains it
// popped back, consumes nothing and reports RxNoBuffers, when more chains
// may make room for it, or RxTooBig, when none can: the frame does not
// fit one chain without MRG_RXBUF, or every chain of the ring with it.
// hdr and frame are only read and stay the caller's.
func (q *Queue) Deliver(c *Chain, hdr []byte, frame [][]byte) (RxResult, Fault) {
	total := len(hdr)
	for _, p := range frame {
		total += len(p)
	}
	start := q.Mark()
	src := reader{cur: hdr, rest: frame}
	var numBuffers [2][]byte // the guest bytes holding num_buffers
	written, chains := 0, 0
	for chains == 0 || written < total {
		ok, f := q.Pop(c)
		if f.Fatal() {
			return RxFault, f
		}
		if !ok {
			q.Rewind(start)
			if q.availIdx-q.lastAvail == q.size {
				return RxTooBig, FaultNone
			}
			return RxNoBuffers, FaultNone
		}
		switch {
		case !q.mergeable && c.WriteLen < total:
			q.Rewind(start)
			return RxTooBig, FaultNone
		case q.mergeable && c.WriteLen < len(hdr):
			return RxFault, FaultShortRxBuffer
		}
		segs := c.WriteSegs()
		if chains == 0 && len(hdr) >= numBuffersOff+2 {
			numBuffers[0] = byteAt(segs, numBuffersOff)
			numBuffers[1] = byteAt(segs, numBuffersOff+1)
		}
		n := src.fill(segs)
		q.AddUsed(c.Head, uint32(n))
		written += n
		chains++
	}
	if numBuffers[0] != nil && numBuffers[1] != nil {
		var v [2]byte
		binary.LittleEndian.PutUint16(v[:], uint16(chains))
		numBuffers[0][0], numBuffers[1][0] = v[0], v[1]
	}
	return RxDelivered, FaultNone
}

// RxMark is where a queue stood, for Rewind.
type RxMark struct{ lastAvail, pending uint16 }

// Mark returns where q stands: the next avail entry it pops and the used
// elements it added but did not publish.
func (q *Queue) Mark() RxMark { return RxMark{q.lastAvail, q.pending} }

// Rewind takes q back to m, which Mark returned since q last published:
// the chains popped since are put back, still the guest's and unused, and
// the used elements added since are forgotten. A Deliver that a fault in
// the frame's bytes cut short (a panic, with debug.SetPanicOnFault) is
// undone so.
func (q *Queue) Rewind(m RxMark) { q.lastAvail, q.pending = m.lastAvail, m.pending }

// reader walks the bytes of a header and frame pieces in order.
type reader struct {
	cur  []byte   // unread part of the current piece
	rest [][]byte // pieces after the current one
}

// fill copies as much as fits into dst and returns the bytes copied.
func (r *reader) fill(dst [][]byte) int {
	n := 0
	for _, d := range dst {
		for len(d) > 0 {
			if len(r.cur) == 0 {
				if len(r.rest) == 0 {
					return n
				}
				r.cur, r.rest = r.rest[0], r.rest[1:]
				continue
			}
			k := copy(d, r.cur)
			d, r.cur = d[k:], r.cur[k:]
			n += k
		}
	}
	return n
}

// byteAt returns a one-byte view of the byte at offset off across segs,
// or nil when segs are shorter.
func byteAt(segs [][]byte, off int) []byte {
	for _, s := range segs {
		if off < len(s) {
			return s[off : off+1 : off+1]
		}
		off -= len(s)
	}
	return nil
}
