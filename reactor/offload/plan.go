package offload

// Action is what the device does with an offloaded frame for one
// destination.
type Action uint8

// Actions, from Plan.
const (
	// ActionNone: the frame asked for no offload; send it with a zero
	// header.
	ActionNone Action = iota
	// ActionPassThrough: the destination takes the frame as it is; send it
	// whole with Header.PassThrough.
	ActionPassThrough
	// ActionComplete: complete the checksum (Complete) and send the frame
	// with a zero header.
	ActionComplete
	// ActionSegment: segment it (Segmenter, ChecksumFull) and send each
	// segment with a zero header.
	ActionSegment
	// ActionSegmentPartial: segment it with checksums left partial
	// (Segmenter, ChecksumPartial) and send each segment with
	// Segmenter.SegmentHeader: the destination has GUEST_CSUM but not the
	// GUEST_TSO/USO (or GUEST_ECN) feature the frame needs.
	ActionSegmentPartial
)

// String names the action for logs and metric labels.
func (a Action) String() string {
	switch a {
	case ActionNone:
		return "none"
	case ActionPassThrough:
		return "pass_through"
	case ActionComplete:
		return "complete"
	case ActionSegment:
		return "segment"
	case ActionSegmentPartial:
		return "segment_partial"
	}
	return "unknown"
}

// Plan decides what to do with a frame whose header h and layout l Validate
// accepted, for a destination that negotiated the offload features dst (its
// GUEST_* features and GUEST_CSUM say what it takes). Plan is pure and
// never allocates.
func Plan(h Header, l *Layout, dst Features) Action {
	switch {
	case h.IsGSO():
		if dst.Has(guestNeeds(h, l)) {
			return ActionPassThrough
		}
		if dst.Has(GuestCsum) {
			return ActionSegmentPartial
		}
		return ActionSegment
	case h.NeedsCsum():
		if dst.Has(GuestCsum) {
			return ActionPassThrough
		}
		return ActionComplete
	}
	return ActionNone
}

// guestNeeds returns the features a destination needs to take the GSO frame
// h as it is.
func guestNeeds(h Header, l *Layout) Features {
	need := GuestCsum
	switch h.GSOKind() {
	case GSOTCPv4:
		need |= GuestTSO4
	case GSOTCPv6:
		need |= GuestTSO6
	case GSOUDPL4:
		need |= GuestUSO4
		if l.IPVersion == 6 {
			need = GuestCsum | GuestUSO6
		}
	}
	if h.GSOType&GSOECN != 0 {
		need |= GuestECN
	}
	return need
}

// SegmentIPLen returns the IP length (IP header to end of payload) of the
// largest packet the frame becomes on the wire, for the MTU check: for a
// GSO frame that of its first segment (headers plus gso_size payload, or
// the whole payload if smaller), for any other frame Validate parsed (one
// with NEEDS_CSUM) that of the frame itself. It returns 0 for a frame
// Validate did not parse (no offload asked; its own IP length applies).
func SegmentIPLen(h Header, l *Layout) int {
	if l.IPVersion == 0 {
		return 0
	}
	if !h.IsGSO() {
		return l.End - l.L3Off
	}
	return l.HdrLen - l.L3Off + min(int(h.GSOSize), l.End-l.HdrLen)
}
