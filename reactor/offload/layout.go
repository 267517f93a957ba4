package offload

import "mvirt-net/reactor/packet"

// Layout is where the headers of an offloaded frame lie, as Validate found
// them. Offsets count from the start of the frame (the Ethernet header),
// across head and tail. The caller owns it and reuses it from frame to
// frame.
type Layout struct {
	// Len is the frame length, head and tail together.
	Len int
	// IPVersion is 4 or 6 once the headers were parsed, 0 for a frame that
	// asked for no offload (Validate does not parse those).
	IPVersion uint8
	// Proto is the transport protocol, after IPv6 extension headers.
	Proto uint8
	// L3Off is the offset of the IP header.
	L3Off int
	// L4Off is the offset of the transport header.
	L4Off int
	// HdrLen is the offset just past the transport header (TCP options
	// included): the headers every segment repeats. It equals L4Off for a
	// transport other than TCP and UDP.
	HdrLen int
	// End is the offset just past the IP packet: Ethernet padding after it
	// is not summed and not segmented.
	End int

	// plain is false for an IPv4 header with options or an IPv6 header
	// followed by extension headers other than hop-by-hop and destination
	// options.
	plain bool
}

// Transport header fields the package reads and writes.
const (
	tcpSeqOff   = 4
	tcpFlagsOff = 13
	tcpCsumOff  = 16
	udpLenOff   = 4
	udpCsumOff  = 6

	tcpFlagFIN = 0x01
	tcpFlagPSH = 0x08
	tcpFlagCWR = 0x80
)

// parseLayout fills l (whose Len is set) from the headers in head, the first
// bytes of the frame. Headers that lie in the frame but not in head yield
// ReasonHeadersSplit; headers that do not fit the frame (or the IP packet)
// ReasonBadHeaders.
func parseLayout(head []byte, l *Layout) Reason {
	if r := need(head, packet.EthernetHeaderLen, l.Len); r != ReasonNone {
		return r
	}
	l.L3Off = packet.EthernetHeaderLen
	var r Reason
	switch packet.Ethernet(head).EtherType() {
	case packet.EtherTypeIPv4:
		r = parseIPv4(head, l)
	case packet.EtherTypeIPv6:
		r = parseIPv6(head, l)
	default:
		return ReasonBadHeaders
	}
	if r != ReasonNone {
		return r
	}
	l.HdrLen = l.L4Off
	switch l.Proto {
	case packet.ProtoTCP:
		if r := need(head, l.L4Off+packet.TCPMinHeaderLen, l.End); r != ReasonNone {
			return r
		}
		thl := packet.TCP(head[l.L4Off:]).HeaderLen()
		if thl < packet.TCPMinHeaderLen {
			return ReasonBadHeaders
		}
		l.HdrLen = l.L4Off + thl
	case packet.ProtoUDP:
		l.HdrLen = l.L4Off + packet.UDPHeaderLen
	}
	return need(head, l.HdrLen, l.End)
}

func parseIPv4(head []byte, l *Layout) Reason {
	if r := need(head, l.L3Off+packet.IPv4MinHeaderLen, l.Len); r != ReasonNone {
		return r
	}
	v := packet.IPv4(head[l.L3Off:])
	hl, tl := v.HeaderLen(), int(v.TotalLen())
	if v[0]>>4 != 4 || hl < packet.IPv4MinHeaderLen || tl < hl {
		return ReasonBadHeaders
	}
	l.End = l.L3Off + tl
	if l.End > l.Len {
		return ReasonBadHeaders
	}
	if r := need(head, l.L3Off+hl, l.End); r != ReasonNone {
		return r
	}
	if packet.Checksum(v[:hl], 0) != 0xffff {
		return ReasonBadHeaders
	}
	if v.IsFragment() {
		return ReasonFragment
	}
	l.IPVersion, l.Proto = 4, v.Protocol()
	l.L4Off = l.L3Off + hl
	l.plain = hl == packet.IPv4MinHeaderLen
	return ReasonNone
}

func parseIPv6(head []byte, l *Layout) Reason {
	if r := need(head, l.L3Off+packet.IPv6HeaderLen, l.Len); r != ReasonNone {
		return r
	}
	v := packet.IPv6(head[l.L3Off:])
	if v[0]>>4 != 6 {
		return ReasonBadHeaders
	}
	l.End = l.L3Off + packet.IPv6HeaderLen + int(v.PayloadLen())
	if l.End > l.Len {
		return ReasonBadHeaders
	}
	ext := head[l.L3Off+packet.IPv6HeaderLen : min(len(head), l.End)]
	proto, off, r := packet.SkipIPv6ExtHeaders(ext, v.NextHeader())
	switch r {
	case packet.ReasonNone:
	case packet.ReasonFragment:
		return ReasonFragment
	default:
		if len(head) < l.End {
			return ReasonHeadersSplit
		}
		return ReasonBadHeaders
	}
	l.IPVersion, l.Proto = 6, proto
	l.L4Off = l.L3Off + packet.IPv6HeaderLen + off
	l.plain = onlyOptions(ext, v.NextHeader())
	return ReasonNone
}

// onlyOptions reports whether the extension header chain at the start of
// ext, whose first header is next, holds nothing but hop-by-hop and
// destination options headers, which segments repeat unchanged. The chain
// was already walked by packet.SkipIPv6ExtHeaders, so every header fits.
func onlyOptions(ext []byte, next uint8) bool {
	off := 0
	for {
		switch next {
		case packet.IPv6HopByHop, packet.IPv6DestOpts:
			next = ext[off]
			off += (int(ext[off+1]) + 1) * 8
		case packet.IPv6Routing, packet.IPv6Fragment, packet.IPv6AH:
			return false
		default:
			return true
		}
	}
}

// need checks that the first n bytes of the frame are in head: ReasonBadHeaders
// if they exceed limit (the frame or the IP packet), ReasonHeadersSplit if
// they lie beyond head.
func need(head []byte, n, limit int) Reason {
	switch {
	case n > limit:
		return ReasonBadHeaders
	case n > len(head):
		return ReasonHeadersSplit
	}
	return ReasonNone
}
