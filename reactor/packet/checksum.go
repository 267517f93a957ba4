package packet

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Checksum returns the 16-bit one's complement sum of b, added to initial,
// not complemented. Sums of consecutive pieces can be chained through
// initial as long as every piece but the last has an even length (see
// Checksummer for pieces of any length).
//
// It adds 64-bit words with carry, loaded little-endian (a plain load on
// amd64 and arm64), and swaps the bytes of the folded result: a one's complement
// sum of 64-bit words folds to the same 16-bit sum as one of 16-bit words
// (2^16 ≡ 1 modulo 2^16-1), and summing byte-swapped words gives the
// byte-swapped sum (RFC 1071 §2(B)).
func Checksum(b []byte, initial uint16) uint16 {
	s, carry := uint64(bits.ReverseBytes16(initial)), uint64(0)
	for len(b) >= 64 {
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b), carry)
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b[8:]), carry)
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b[16:]), carry)
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b[24:]), carry)
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b[32:]), carry)
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b[40:]), carry)
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b[48:]), carry)
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b[56:]), carry)
		b = b[64:]
	}
	for len(b) >= 8 {
		s, carry = bits.Add64(s, binary.LittleEndian.Uint64(b), carry)
		b = b[8:]
	}
	var t uint64
	if len(b) >= 4 {
		t = uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		t += uint64(binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		t += uint64(b[0])
	}
	s, carry = bits.Add64(s, t, carry)
	return bits.ReverseBytes16(fold(s>>32 + s&0xffffffff + carry))
}

// ChecksumCombine returns the one's complement sum of a and b.
func ChecksumCombine(a, b uint16) uint16 { return fold(uint64(a) + uint64(b)) }

// fold reduces a wide one's complement sum to 16 bits.
func fold(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// PseudoHeaderChecksum returns the one's complement sum of the IPv4 or IPv6
// pseudo-header (RFC 768, RFC 8200 §8.1) for a transport payload of the given
// length, not complemented. src and dst must be of the same family.
func PseudoHeaderChecksum(proto uint8, src, dst netip.Addr, length uint16) uint16 {
	var s uint16
	if src.Is4() {
		s4, d4 := src.As4(), dst.As4()
		s = Checksum(s4[:], 0)
		s = Checksum(d4[:], s)
	} else {
		s16, d16 := src.As16(), dst.As16()
		s = Checksum(s16[:], 0)
		s = Checksum(d16[:], s)
	}
	return ChecksumCombine(s, ChecksumCombine(uint16(proto), length))
}

// TransportChecksum returns the checksum of a UDP, TCP or ICMPv6 message l4
// sent from src to dst, computed over the pseudo-header and l4 with its
// checksum field as it is: 0 for a message whose checksum is correct, the
// value to store after zeroing the field otherwise. A UDP sender must send
// 0xffff for a computed 0 (RFC 768).
func TransportChecksum(proto uint8, src, dst netip.Addr, l4 []byte) uint16 {
	return ^Checksum(l4, PseudoHeaderChecksum(proto, src, dst, uint16(len(l4))))
}

// ChecksumUpdate returns the checksum field after one 16-bit word it covers
// changed from old to updated, by RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
func ChecksumUpdate(check, old, updated uint16) uint16 {
	return ^fold(uint64(^check) + uint64(^old) + uint64(updated))
}

// Checksummer accumulates the one's complement sum of a byte stream given in
// consecutive pieces of any length, odd ones included: a piece that starts
// at an odd offset of the stream has its sum byte-swapped (RFC 1071 §2(B))
// before it is added. The zero value is an empty sum. It never allocates.
type Checksummer struct {
	sum uint64
	odd bool
}

// Add appends b to the summed stream.
func (c *Checksummer) Add(b []byte) {
	s := Checksum(b, 0)
	if c.odd {
		s = bits.ReverseBytes16(s)
	}
	c.sum += uint64(s)
	if len(b)%2 == 1 {
		c.odd = !c.odd
	}
}

// Sum returns the one's complement sum of everything added, added to
// initial, not complemented.
func (c *Checksummer) Sum(initial uint16) uint16 { return fold(c.sum + uint64(initial)) }
