package packet

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// referenceSum is the RFC 1071 algorithm written the slow, obvious way.
func referenceSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func TestChecksumRFC1071Example(t *testing.T) {
	// RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
	if got := Checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 0); got != 0xddf2 {
		t.Errorf("Checksum = %#04x, want 0xddf2", got)
	}
}

func TestChecksumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if got, want := Checksum(b, 0), referenceSum(b); got != want {
			t.Fatalf("len %d: Checksum = %#04x, reference %#04x", n, got, want)
		}
		if n%2 == 0 && n > 0 {
			half := n / 2 &^ 1
			if got := Checksum(b[half:], Checksum(b[:half], 0)); got != referenceSum(b) {
				t.Fatalf("len %d: chained sum %#04x, want %#04x", n, got, referenceSum(b))
			}
		}
	}
	all := make([]byte, 65535)
	for i := range all {
		all[i] = 0xff
	}
	if got := Checksum(all, 0xffff); got != referenceSum(all) {
		t.Errorf("all-ones buffer: %#04x", got)
	}
}

func TestTransportChecksumKnownUDP(t *testing.T) {
	f := fixture(t, "udp4Padded")
	var p Parsed
	Parse(f, &p)
	if c := TransportChecksum(ProtoUDP, p.Src, p.Dst, p.L4(f)); c != 0 {
		t.Errorf("IPv4 UDP residue %#04x", c)
	}
	f = fixture(t, "dhcp6Solicit")
	Parse(f, &p)
	if c := TransportChecksum(ProtoUDP, p.Src, p.Dst, p.L4(f)); c != 0 {
		t.Errorf("IPv6 UDP residue %#04x", c)
	}
	f = fixture(t, "ns6")
	Parse(f, &p)
	if c := TransportChecksum(ProtoICMPv6, p.Src, p.Dst, p.L4(f)); c != 0 {
		t.Errorf("ICMPv6 residue %#04x", c)
	}
}

func TestChecksumUpdateMatchesRecompute(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		var h [20]byte
		for i := range h {
			h[i] = byte(r.Uint32())
		}
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], ^Checksum(h[:], 0))
		i := 2 * r.IntN(10)
		if i == 10 {
			continue
		}
		old := binary.BigEndian.Uint16(h[i:])
		upd := uint16(r.Uint32())
		binary.BigEndian.PutUint16(h[i:], upd)
		got := ChecksumUpdate(binary.BigEndian.Uint16(h[10:]), old, upd)
		binary.BigEndian.PutUint16(h[10:], 0)
		if want := ^Checksum(h[:], 0); got != want {
			t.Fatalf("word %d %#04x->%#04x: incremental %#04x, recomputed %#04x", i, old, upd, got, want)
		}
	}
}

func TestDecTTLIPv4MatchesRecompute(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		src := netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
		f := make([]byte, 14+20+8)
		Ethernet(f).Encode(gwMAC, vmMAC, EtherTypeIPv4)
		ttl := uint8(r.IntN(256))
		IPv4(f[14:]).Encode(&IPv4Fields{TotalLen: 28, ID: uint16(r.Uint32()), TTL: ttl, Protocol: ProtoUDP,
			Src: src, Dst: peer4, TOS: byte(r.Uint32()), DontFragment: r.IntN(2) == 0})
		UDP(f[34:]).Encode(1, 2, 8)
		var p Parsed
		Parse(f, &p)
		if p.Reason != ReasonNone {
			t.Fatalf("built frame does not parse: %v", p.Reason)
		}
		ok := DecTTL(f, &p)
		h := IPv4(f[14:])
		if ttl <= 1 {
			if ok || h.TTL() != ttl {
				t.Fatalf("TTL %d: DecTTL = %v, TTL now %d", ttl, ok, h.TTL())
			}
			continue
		}
		if !ok || h.TTL() != ttl-1 || p.TTL != ttl-1 {
			t.Fatalf("TTL %d: DecTTL = %v, TTL now %d / %d", ttl, ok, h.TTL(), p.TTL)
		}
		got := h.Checksum()
		h.SetChecksum(0)
		if want := ^Checksum(h[:20], 0); got != want {
			t.Fatalf("TTL %d: incremental checksum %#04x, recomputed %#04x", ttl, got, want)
		}
	}
}

func TestDecTTLIPv6AndOthers(t *testing.T) {
	f := fixture(t, "tcp6")
	var p Parsed
	Parse(f, &p)
	if !DecTTL(f, &p) || IPv6(f[14:]).HopLimit() != 1 {
		t.Fatalf("hop limit 2 -> %d", IPv6(f[14:]).HopLimit())
	}
	if DecTTL(f, &p) || IPv6(f[14:]).HopLimit() != 1 {
		t.Errorf("hop limit 1 must not be decremented")
	}
	f = fixture(t, "arpRequest")
	Parse(f, &p)
	p.TTL = 9
	if DecTTL(f, &p) {
		t.Errorf("DecTTL on ARP succeeded")
	}
}

func TestChecksummerOddPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		b := make([]byte, r.IntN(3000))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		var c Checksummer
		for rest := b; len(rest) > 0; {
			n := min(len(rest), r.IntN(9))
			c.Add(rest[:n])
			rest = rest[n:]
		}
		if got, want := c.Sum(0x1234), ChecksumCombine(referenceSum(b), 0x1234); got != want {
			t.Fatalf("len %d: piecewise sum %#04x, want %#04x", len(b), got, want)
		}
	}
}

// TestChecksumLongRandom covers the word loops at every alignment of the
// tail, with sums that carry often (bytes near 0xff).
func TestChecksumLongRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		b := make([]byte, r.IntN(70000))
		for i := range b {
			b[i] = 0xff - byte(r.IntN(3))
		}
		init := uint16(r.Uint32())
		if got, want := Checksum(b, init), ChecksumCombine(referenceSum(b), init); got != want {
			t.Fatalf("len %d: Checksum = %#04x, reference %#04x", len(b), got, want)
		}
	}
}
