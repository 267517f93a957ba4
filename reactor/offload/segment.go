package offload

import (
	"encoding/binary"

	"mvirt-net/reactor/packet"
)

// MaxPieces bounds the pieces the payload of a GSO frame may be in (the
// part of head after the headers, and each piece of tail), and so the
// pieces of one segment's payload. Linux sends a TSO frame as a header
// buffer and at most MAX_SKB_FRAGS (17 by default, 45 at most) page
// fragments.
const MaxPieces = 64

// ChecksumMode says how the Segmenter fills the transport checksum of each
// segment.
type ChecksumMode uint8

// Checksum modes.
const (
	// ChecksumFull computes the full checksum (pseudo-header, transport
	// header and payload): for a destination without GUEST_CSUM.
	ChecksumFull ChecksumMode = iota
	// ChecksumPartial stores the pseudo-header sum only and leaves the rest
	// to the destination, which gets each segment with NEEDS_CSUM
	// (Segmenter.SegmentHeader): for a destination with GUEST_CSUM.
	ChecksumPartial
)

// Segmenter cuts a GSO frame (TCPV4, TCPV6 or UDP_L4) into the segments a
// driver that asked for segmentation offload would have sent: gso_size
// payload bytes each, the last one the remainder. Each segment is freshly
// written headers, in a buffer the caller passes to Next, plus its payload
// as slices of the source frame, so that the destination copies each
// segment once, straight into its receive buffers.
//
// Per segment: the IPv4 total length, an IPv4 id counting up from the
// frame's, and the header checksum; or the IPv6 payload length. TCP: the
// sequence number advanced by the payload before it, FIN and PSH only on
// the last segment, CWR only on the first. UDP: each segment a datagram of
// its own, with its length. The transport checksum as the ChecksumMode says.
//
// The caller owns a Segmenter and reuses it from frame to frame; Init
// resets it. It borrows head and tail from Init until the last Next and
// never writes to them. It never allocates.
type Segmenter struct {
	head    []byte
	src     [MaxPieces][]byte // payload pieces, empty ones left out
	nsrc    int
	piece   int // current piece of src
	off     int // offset in it
	left    int // payload bytes not yet handed out
	sent    int // payload bytes handed out
	seg     int // segments handed out
	mss     int
	l       Layout
	mode    ChecksumMode
	done    bool
	addrSum uint16 // one's complement sum of the source and destination addresses
	seq     uint32
	id      uint16
	flags   uint8
}

// Init prepares s to segment the frame head + tail, whose header h and
// layout l Validate accepted, in the given checksum mode. It returns
// ReasonTooManyPieces if the payload is in more than MaxPieces pieces,
// ReasonGSOTypeMismatch if h is not a TCP or UDP GSO header, and ReasonNone
// otherwise. After a refusal Next hands out nothing.
func (s *Segmenter) Init(h Header, l *Layout, head []byte, tail [][]byte, mode ChecksumMode) Reason {
	s.head, s.l, s.mode = head, *l, mode
	s.nsrc, s.piece, s.off, s.sent, s.seg = 0, 0, 0, 0, 0
	s.left = l.End - l.HdrLen
	s.mss = int(h.GSOSize)
	s.done = true
	if !h.IsGSO() || s.mss == 0 || (l.Proto != packet.ProtoTCP && l.Proto != packet.ProtoUDP) {
		return ReasonGSOTypeMismatch
	}
	// Gather the payload: head after the headers, then tail, cut at End.
	off, want := 0, l.End
	piece := head
	for i := -1; i < len(tail) && off < want; i++ {
		if i >= 0 {
			piece = tail[i]
		}
		lo, hi := max(l.HdrLen-off, 0), min(want-off, len(piece))
		off += len(piece)
		if lo >= hi {
			continue
		}
		if s.nsrc == MaxPieces {
			return ReasonTooManyPieces
		}
		s.src[s.nsrc] = piece[lo:hi]
		s.nsrc++
	}
	v := head[l.L3Off:]
	if l.IPVersion == 4 {
		ip := packet.IPv4(v)
		s.id = ip.ID()
		s.addrSum = packet.Checksum(v[12:20], 0)
	} else {
		s.addrSum = packet.Checksum(v[8:40], 0)
	}
	t := head[l.L4Off:]
	if l.Proto == packet.ProtoTCP {
		s.seq = binary.BigEndian.Uint32(t[tcpSeqOff:])
		s.flags = t[tcpFlagsOff]
	}
	s.done = false
	return ReasonNone
}

// Segments returns the number of segments the frame Init accepted is cut
// into, 0 after a refusal.
func (s *Segmenter) Segments() int {
	if s.mss == 0 || (s.done && s.seg == 0) {
		return 0
	}
	return segments(s.l.End-s.l.HdrLen, s.mss)
}

// SegmentHeader returns the virtio_net_hdr to send with every segment:
// NEEDS_CSUM at the transport checksum in ChecksumPartial mode, a zero
// header in ChecksumFull mode.
func (s *Segmenter) SegmentHeader() Header {
	if s.mode == ChecksumFull {
		return Header{}
	}
	h := Header{Flags: FlagNeedsCsum, CsumStart: uint16(s.l.L4Off), CsumOffset: tcpCsumOff}
	if s.l.Proto == packet.ProtoUDP {
		h.CsumOffset = udpCsumOff
	}
	return h
}

// Next writes the headers of the next segment into hdr (which must hold
// Layout.HdrLen bytes; MaxHeaderLen always does) and its payload, as slices
// of the source frame, into payload. It returns the length of the headers,
// the number of payload pieces and true, or false when every segment was
// handed out. The segment is hdr[:hdrLen] followed by payload[:n]. Next
// writes nothing but hdr[:hdrLen] and payload[:n], so a caller that batches
// segments before delivering them passes a buffer of its own per segment.
func (s *Segmenter) Next(hdr []byte, payload *[MaxPieces][]byte) (hdrLen, n int, ok bool) {
	if s.done {
		return 0, 0, false
	}
	size := min(s.mss, s.left)
	var c packet.Checksummer
	for need := size; need > 0; n++ {
		p := s.src[s.piece][s.off:]
		if len(p) > need {
			p = p[:need]
		}
		payload[n] = p
		if s.mode == ChecksumFull {
			c.Add(p)
		}
		need -= len(p)
		s.off += len(p)
		if s.off == len(s.src[s.piece]) {
			s.piece++
			s.off = 0
		}
	}
	s.left -= size
	last := s.left == 0
	s.done = last
	l := &s.l
	hdrLen = l.HdrLen
	copy(hdr[:hdrLen], s.head[:hdrLen])
	l4Len := hdrLen - l.L4Off + size
	ip := hdr[l.L3Off:]
	if l.IPVersion == 4 {
		binary.BigEndian.PutUint16(ip[2:4], uint16(l.L4Off-l.L3Off+l4Len))
		binary.BigEndian.PutUint16(ip[4:6], s.id+uint16(s.seg))
		packet.IPv4(ip).SetChecksum(0)
		packet.IPv4(ip).SetChecksum(^packet.Checksum(ip[:l.L4Off-l.L3Off], 0))
	} else {
		binary.BigEndian.PutUint16(ip[4:6], uint16(l.L4Off-l.L3Off-packet.IPv6HeaderLen+l4Len))
	}
	t := hdr[l.L4Off:hdrLen]
	csumOff := udpCsumOff
	if l.Proto == packet.ProtoTCP {
		csumOff = tcpCsumOff
		binary.BigEndian.PutUint32(t[tcpSeqOff:], s.seq+uint32(s.sent))
		f := s.flags
		if !last {
			f &^= tcpFlagFIN | tcpFlagPSH
		}
		if s.seg > 0 {
			f &^= tcpFlagCWR
		}
		t[tcpFlagsOff] = f
	} else {
		binary.BigEndian.PutUint16(t[udpLenOff:], uint16(l4Len))
	}
	pseudo := packet.ChecksumCombine(s.addrSum, packet.ChecksumCombine(uint16(l.Proto), uint16(l4Len)))
	if s.mode == ChecksumPartial {
		binary.BigEndian.PutUint16(t[csumOff:], pseudo)
	} else {
		binary.BigEndian.PutUint16(t[csumOff:], 0)
		sum := ^packet.ChecksumCombine(packet.Checksum(t, pseudo), c.Sum(0))
		if sum == 0 && l.Proto == packet.ProtoUDP {
			sum = 0xffff
		}
		binary.BigEndian.PutUint16(t[csumOff:], sum)
	}
	s.sent += size
	s.seg++
	return hdrLen, n, true
}
