package reactor

import (
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
)

// A frame the guest sends lies in one or more readable segments of its TX
// chain, behind the virtio-net header. A frame in one segment is used in
// place. A frame in several (Linux sends a TSO frame as a header buffer
// and page fragments) is split: only its first bytes, the headers that
// parsing, routing and filtering read, are copied into the reactor's
// frame buffer, and the rest stays where it lies, to be lent to the
// destination piece by piece (see route). A frame the gateway answers, or
// one whose headers do not fit the copied bytes, is copied whole.

// splitHead is how many bytes of a frame in several segments are copied
// for parsing: Ethernet, IP with options or extension headers, and the
// longest TCP header.
const splitHead = 256

// tcpMaxHeaderLen is the length of a TCP header with the most options.
const tcpMaxHeaderLen = 60

// maxLendPieces bounds the pieces of a lent frame's tail: the buffer of a
// Linux TSO frame's headers and its page fragments (MAX_SKB_FRAGS, 17).
// A frame in more pieces is copied instead.
const maxLendPieces = 20

// txFrame is the frame handleTx works on.
type txFrame struct {
	// hdr is the driver's virtio_net_hdr (without num_buffers); zero
	// when no host offload was negotiated, whatever the driver wrote.
	hdr inbox.Header
	// segs are the frame's bytes past the virtio-net header, views into
	// segBuf.
	segs   [][]byte
	segBuf [maxSegs][]byte
	// inPlace says the frame is segs[0] itself; otherwise the first
	// linear bytes of the frame are valid in the reactor's frame buffer.
	inPlace bool
	linear  int
	// For a frame with an offload header (checkOffload): its layout,
	// the length of its headers through the transport header and the
	// checksum field, and its gso_size (0 without GSO).
	layout  offload.Layout
	headers int
	gsoSize int
	// lenPiece stands for the bytes past linear (see txTail).
	lenPiece [1][]byte
}

// take reads the frame of a TX chain's readable segments: its virtio-net
// header into r.tx.hdr, the frame parsed into r.parsed. It returns the
// frame: the guest's buffer (in place), or the reactor's frame buffer
// whose bytes past r.tx.linear are not the frame's (split) until
// ensureLinear copies them.
func (r *Reactor) take(segs [][]byte) []byte {
	t := &r.tx
	t.hdr, t.gsoSize, t.headers = inbox.Header{}, 0, 0
	// The common cases: header and frame in one buffer, or the header in
	// a buffer of its own and the frame in the next; the frame is used in
	// place.
	var hdr, frame []byte
	switch {
	case len(segs) == 1 && len(segs[0]) > r.hdrLen:
		hdr, frame = segs[0][:r.hdrLen], segs[0][r.hdrLen:]
	case len(segs) == 2 && len(segs[0]) == r.hdrLen && len(segs[1]) > 0:
		hdr, frame = segs[0], segs[1]
	}
	n := 1
	if frame != nil {
		if r.hostOffloads() {
			t.hdr = inbox.Header(hdr[:inbox.HeaderLen])
		}
		t.segBuf[0] = frame
	} else {
		n = r.splitHeader(segs)
		if !r.hostOffloads() {
			t.hdr = inbox.Header{}
		}
	}
	t.segs = t.segBuf[:n]
	if n == 1 {
		t.inPlace, t.linear = true, len(t.segs[0])
		packet.Parse(t.segs[0], &r.parsed)
		return t.segs[0]
	}
	total := 0
	for _, s := range t.segs {
		total += len(s)
	}
	t.inPlace = false
	t.linear = gather(r.frame[:min(total, splitHead)], t.segs, 0)
	frame = r.frame[:total]
	packet.Parse(frame, &r.parsed)
	if p := &r.parsed; p.Reason != packet.ReasonNone ||
		(p.IPProto != packet.ProtoTCP && p.IPProto != packet.ProtoUDP) ||
		p.L4Off == 0 || p.L4Off+tcpMaxHeaderLen > t.linear {
		r.ensureLinear(total)
		packet.Parse(frame, &r.parsed)
	}
	return frame
}

// splitHeader copies the virtio-net header at the start of segs, in as
// many of them as it spans, into r.tx.hdr, puts the frame's segments
// after it into r.tx.segBuf and returns how many there are.
func (r *Reactor) splitHeader(segs [][]byte) int {
	t := &r.tx
	skip, k, i := r.hdrLen, 0, 0
	for ; i < len(segs) && len(segs[i]) <= skip; i++ {
		k += copy(t.hdr[k:], segs[i])
		skip -= len(segs[i])
	}
	n := 0
	for j := i; j < len(segs); j++ {
		s := segs[j]
		if j == i {
			copy(t.hdr[k:], s[:skip])
			s = s[skip:]
		}
		t.segBuf[n] = s
		n++
	}
	return n
}

// ensureLinear makes the first n bytes of a split frame valid in the
// reactor's frame buffer.
func (r *Reactor) ensureLinear(n int) {
	t := &r.tx
	if t.inPlace || n <= t.linear {
		return
	}
	t.linear += gather(r.frame[t.linear:n], t.segs, t.linear)
}

// whole returns the TX frame handled with every byte in place and its
// checksum complete, for the gateway to answer: a split frame is copied
// whole, and a partial checksum (NEEDS_CSUM) completed in the reactor's
// frame buffer, never in the guest's.
func (r *Reactor) whole(frame []byte) []byte {
	t := &r.tx
	r.ensureLinear(len(frame))
	if t.hdr == (inbox.Header{}) {
		return frame
	}
	h := offload.Decode(t.hdr[:])
	if !h.NeedsCsum() || h.IsGSO() {
		return frame
	}
	if t.inPlace {
		frame = r.frame[:copy(r.frame, frame)]
		t.inPlace, t.linear = false, len(frame)
	}
	offload.Complete(h, &t.layout, frame, nil)
	return frame
}

// copyOut copies the first len(dst) bytes of frame, the frame take
// returned, into dst.
func (r *Reactor) copyOut(dst, frame []byte) {
	t := &r.tx
	if t.inPlace {
		copy(dst, frame)
		return
	}
	k := copy(dst, r.frame[:min(t.linear, len(dst))])
	if k < len(dst) {
		gather(dst[k:], t.segs, k)
	}
}

// tailPieces fills dst with views of the frame's bytes from..to where they
// lie in the guest's buffers, and returns how many it used, or false when
// dst is too short for them.
func (r *Reactor) tailPieces(dst [][]byte, frame []byte, from, to int) (int, bool) {
	t := &r.tx
	if t.inPlace {
		dst[0] = frame[from:to]
		return 1, true
	}
	n, off := 0, 0
	for _, s := range t.segs {
		if off >= to {
			break
		}
		lo, hi := max(from-off, 0), min(len(s), to-off)
		off += len(s)
		if lo >= hi {
			continue
		}
		if n == len(dst) {
			return 0, false
		}
		dst[n] = s[lo:hi]
		n++
	}
	return n, true
}

// gather copies bytes of segs, from offset off on, into dst, and returns
// how many it copied.
func gather(dst []byte, segs [][]byte, off int) int {
	n := 0
	for _, s := range segs {
		if n == len(dst) {
			break
		}
		if off >= len(s) {
			off -= len(s)
			continue
		}
		n += copy(dst[n:], s[off:])
		off = 0
	}
	return n
}
