package packet

import "encoding/binary"

// DecTTL decrements, in place, the IPv4 TTL (fixing the header checksum
// incrementally, RFC 1624) or the IPv6 hop limit of the packet p describes,
// and updates p.TTL. It returns false and leaves the frame untouched when the
// packet must not be forwarded: TTL or hop limit of 1 or less (the caller
// then sends Time Exceeded) or no valid IP header. p must come from Parse of
// the frame; frame may be a copy of only its first bytes, as long as they
// hold the IP header.
func DecTTL(frame []byte, p *Parsed) bool {
	if p.TTL <= 1 || p.L3Off+IPv4MinHeaderLen > len(frame) || (p.IPVersion == 6 && p.L3Off+IPv6HeaderLen > len(frame)) {
		return false
	}
	switch p.IPVersion {
	case 4:
		h := IPv4(frame[p.L3Off:])
		old := binary.BigEndian.Uint16(h[8:10])
		h.SetTTL(p.TTL - 1)
		h.SetChecksum(ChecksumUpdate(h.Checksum(), old, binary.BigEndian.Uint16(h[8:10])))
	case 6:
		IPv6(frame[p.L3Off:]).SetHopLimit(p.TTL - 1)
	default:
		return false
	}
	p.TTL--
	return true
}
