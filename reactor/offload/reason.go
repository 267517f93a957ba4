package offload

// Reason says why a frame's virtio_net_hdr was refused. ReasonNone means it
// was accepted. Reasons index per-port drop counters: NumReasons sizes such
// an array, and String gives a stable metric label.
type Reason uint8

// Drop reasons.
const (
	ReasonNone Reason = iota
	// ReasonCsumNotNegotiated: NEEDS_CSUM without VIRTIO_NET_F_CSUM.
	ReasonCsumNotNegotiated
	// ReasonBadHeaders: an offloaded frame (NEEDS_CSUM or GSO) whose
	// Ethernet, IP or transport header is truncated or malformed, or which
	// is not IP.
	ReasonBadHeaders
	// ReasonHeadersSplit: the headers an offload needs (up to and including
	// the transport header, or the checksum field) are not all in head.
	ReasonHeadersSplit
	// ReasonFragment: NEEDS_CSUM or GSO on an IP fragment.
	ReasonFragment
	// ReasonCsumOutsideFrame: csum_start + csum_offset + 2 lies beyond the
	// IP packet.
	ReasonCsumOutsideFrame
	// ReasonCsumNotL4: csum_start lies before the transport header, or, for
	// TCP and UDP, is not the transport header with csum_offset its
	// checksum field.
	ReasonCsumNotL4
	// ReasonHdrLenBeyondFrame: a GSO frame whose hdr_len exceeds the frame.
	ReasonHdrLenBeyondFrame
	// ReasonGSONotNegotiated: a gso_type the device did not negotiate
	// (HOST_TSO4, HOST_TSO6, HOST_USO), UFO, or an unknown type.
	ReasonGSONotNegotiated
	// ReasonGSOECNNotNegotiated: the ECN bit without VIRTIO_NET_F_HOST_ECN.
	ReasonGSOECNNotNegotiated
	// ReasonGSOTypeMismatch: the gso_type does not match the frame (TCPV4 on
	// IPv6, UDP_L4 on TCP, ECN on UDP, ...).
	ReasonGSOTypeMismatch
	// ReasonGSOWithoutCsum: a GSO frame without NEEDS_CSUM.
	ReasonGSOWithoutCsum
	// ReasonGSOSizeZero: a gso_type with gso_size 0.
	ReasonGSOSizeZero
	// ReasonGSOSizeBeyondFrame: gso_size larger than the whole frame.
	ReasonGSOSizeBeyondFrame
	// ReasonGSOTooManySegments: more than MaxSegments segments.
	ReasonGSOTooManySegments
	// ReasonGSOExtHeaders: GSO on an IPv4 packet with options or an IPv6
	// packet with extension headers other than hop-by-hop and destination
	// options, which are not segmented.
	ReasonGSOExtHeaders
	// ReasonTooManyPieces: the frame is in more pieces than the segmenter
	// takes (MaxPieces).
	ReasonTooManyPieces
	// NumReasons is the number of reasons, for sizing counter arrays.
	NumReasons
)

var reasonNames = [NumReasons]string{
	ReasonNone:                "none",
	ReasonCsumNotNegotiated:   "csum_not_negotiated",
	ReasonBadHeaders:          "bad_headers",
	ReasonHeadersSplit:        "headers_split",
	ReasonFragment:            "fragment",
	ReasonCsumOutsideFrame:    "csum_outside_frame",
	ReasonCsumNotL4:           "csum_not_l4",
	ReasonHdrLenBeyondFrame:   "hdr_len_beyond_frame",
	ReasonGSONotNegotiated:    "gso_not_negotiated",
	ReasonGSOECNNotNegotiated: "gso_ecn_not_negotiated",
	ReasonGSOTypeMismatch:     "gso_type_mismatch",
	ReasonGSOWithoutCsum:      "gso_without_csum",
	ReasonGSOSizeZero:         "gso_size_zero",
	ReasonGSOSizeBeyondFrame:  "gso_size_beyond_frame",
	ReasonGSOTooManySegments:  "gso_too_many_segments",
	ReasonGSOExtHeaders:       "gso_ext_headers",
	ReasonTooManyPieces:       "too_many_pieces",
}

// String returns the reason's lower_snake name, suitable as a metric label.
func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "unknown"
}
