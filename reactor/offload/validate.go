package offload

import "mvirt-net/reactor/packet"

// Bounds on what a guest may ask the device to segment.
const (
	// MaxHeaderLen bounds the headers (Ethernet to transport, options
	// included) of a GSO frame, which every segment repeats; it is also a
	// good size for the head a caller gathers (see Pullup).
	MaxHeaderLen = 256
	// MaxSegments bounds the TCP segments of one GSO frame: 2048 covers a
	// 64 KiB frame down to a gso_size of 32 (Linux's tcp_min_snd_mss is 48)
	// while keeping what tiny segments can multiply (headers per payload
	// byte) small.
	MaxSegments = 2048
	// MaxUDPSegments bounds the datagrams of one USO frame, as Linux's
	// UDP_MAX_SEGMENTS does (virtio_net_hdr_to_skb refuses more).
	MaxUDPSegments = 128
)

// Validate checks the header h a driver sent with a frame against the frame
// and against allowed, the offload features the device negotiated with that
// driver (CSUM and the HOST_* features say what it may send), and fills l
// with the frame's layout for Complete, Plan and Segmenter.Init.
//
// The frame (Ethernet header first, no virtio header) is head followed by
// the pieces of tail, so a frame scattered over several descriptors need not
// be linearised: head must hold at least the headers an offload needs (up to
// the end of the transport header and the checksum field), which
// MaxHeaderLen bytes do (see Pullup); tail is only counted. Validate never
// reads outside head and never allocates.
//
// A frame that asks for no offload (no NEEDS_CSUM, GSO_NONE) is accepted
// without parsing; DATA_VALID, RSC_INFO and unknown flag bits mean nothing
// from a driver and are ignored, as Linux's virtio_net_hdr_to_skb does
// (PassThrough strips them). For an offloaded frame the checks, in order:
//
//   - NEEDS_CSUM needs CSUM; a gso_type needs its HOST_* feature (UFO is
//     never negotiated), the ECN bit HOST_ECN, a gso_size other than 0, and
//     NEEDS_CSUM (virtio 1.2 §5.1.6.2.1: the driver MUST set it with GSO).
//   - gso_size and hdr_len must not exceed the frame. hdr_len is otherwise
//     a hint (§5.1.6.2: without VIRTIO_NET_F_GUEST_HDRLEN the device must
//     not rely on it; Linux sends skb_headlen, DPDK's vhost library and
//     virtio_net_hdr_to_skb ignore it), so a value shorter than the real
//     headers is accepted: the real headers are parsed.
//   - The frame must be IPv4 or IPv6 with sound headers (IPv4 header
//     checksum included), not a fragment.
//   - The checksum field (csum_start + csum_offset, 2 bytes) must lie in the
//     IP packet and csum_start no earlier than the transport header; for
//     TCP and UDP csum_start must be the transport header and csum_offset
//     its checksum field (as Linux requires for GSO). So completing the
//     checksum never writes into the Ethernet or IP header.
//   - GSO: the type must match the frame (TCPV4: TCP over IPv4, TCPV6: TCP
//     over IPv6, UDP_L4: UDP over either, ECN only with TCP); IPv4 options
//     and IPv6 extension headers other than hop-by-hop and destination
//     options are refused (a source route changes the pseudo-header and AH
//     covers the payload), as are headers longer than MaxHeaderLen; at most
//     MaxSegments (MaxUDPSegments for UDP) segments. A gso_size at or above
//     the payload is accepted, as Linux does: the frame is one segment.
func Validate(h Header, head []byte, tail [][]byte, allowed Features, l *Layout) Reason {
	*l = Layout{Len: frameLen(head, tail)}
	csum, gso := h.NeedsCsum(), h.IsGSO()
	if !csum && !gso {
		return ReasonNone
	}
	if csum && !allowed.Has(Csum) {
		return ReasonCsumNotNegotiated
	}
	if gso {
		if r := checkGSOHeader(h, allowed, l.Len); r != ReasonNone {
			return r
		}
	}
	if r := parseLayout(head, l); r != ReasonNone {
		return r
	}
	if r := checkCsum(h, head, l); r != ReasonNone {
		return r
	}
	if gso {
		return checkGSOFrame(h, l)
	}
	return ReasonNone
}

// checkGSOHeader checks the GSO fields of h on their own and against the
// frame length n.
func checkGSOHeader(h Header, allowed Features, n int) Reason {
	var need Features
	switch h.GSOKind() {
	case GSOTCPv4:
		need = HostTSO4
	case GSOTCPv6:
		need = HostTSO6
	case GSOUDPL4:
		need = HostUSO
	default:
		return ReasonGSONotNegotiated
	}
	switch {
	case !allowed.Has(need):
		return ReasonGSONotNegotiated
	case h.GSOType&GSOECN != 0 && !allowed.Has(HostECN):
		return ReasonGSOECNNotNegotiated
	case !h.NeedsCsum():
		return ReasonGSOWithoutCsum
	case h.GSOSize == 0:
		return ReasonGSOSizeZero
	case int(h.GSOSize) > n:
		return ReasonGSOSizeBeyondFrame
	case int(h.HdrLen) > n:
		return ReasonHdrLenBeyondFrame
	}
	return ReasonNone
}

// checkCsum checks where a NEEDS_CSUM frame wants its checksum.
func checkCsum(h Header, head []byte, l *Layout) Reason {
	start, field := int(h.CsumStart), int(h.CsumStart)+int(h.CsumOffset)
	if field+2 > l.End {
		return ReasonCsumOutsideFrame
	}
	if start < l.L4Off {
		return ReasonCsumNotL4
	}
	switch l.Proto {
	case packet.ProtoTCP:
		if start != l.L4Off || h.CsumOffset != tcpCsumOff {
			return ReasonCsumNotL4
		}
	case packet.ProtoUDP:
		if start != l.L4Off || h.CsumOffset != udpCsumOff {
			return ReasonCsumNotL4
		}
	}
	if field+2 > len(head) {
		return ReasonHeadersSplit
	}
	return ReasonNone
}

// checkGSOFrame checks a GSO header against the parsed frame.
func checkGSOFrame(h Header, l *Layout) Reason {
	maxSegs := MaxSegments
	switch h.GSOKind() {
	case GSOTCPv4:
		if l.IPVersion != 4 || l.Proto != packet.ProtoTCP {
			return ReasonGSOTypeMismatch
		}
	case GSOTCPv6:
		if l.IPVersion != 6 || l.Proto != packet.ProtoTCP {
			return ReasonGSOTypeMismatch
		}
	case GSOUDPL4:
		if l.Proto != packet.ProtoUDP || h.GSOType&GSOECN != 0 {
			return ReasonGSOTypeMismatch
		}
		maxSegs = MaxUDPSegments
	}
	if !l.plain || l.HdrLen > MaxHeaderLen {
		return ReasonGSOExtHeaders
	}
	if segments(l.End-l.HdrLen, int(h.GSOSize)) > maxSegs {
		return ReasonGSOTooManySegments
	}
	return ReasonNone
}

// segments returns how many segments of at most mss bytes carry payload
// bytes: at least one, also for an empty payload.
func segments(payload, mss int) int {
	return max(1, (payload+mss-1)/mss)
}

// frameLen returns the length of head followed by tail.
func frameLen(head []byte, tail [][]byte) int {
	n := len(head)
	for _, p := range tail {
		n += len(p)
	}
	return n
}
