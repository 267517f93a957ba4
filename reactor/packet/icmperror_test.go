package packet

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// checkICMPError parses an ICMP error frame the builders wrote and checks
// addressing, checksums and that the quote is the head of orig.
func checkICMPError(t *testing.T, out []byte, orig []byte, version uint8, typ, code uint8) ICMP {
	t.Helper()
	var p Parsed
	Parse(out, &p)
	if p.Reason != ReasonNone || p.IPVersion != version || p.End != len(out) {
		t.Fatalf("error frame: reason %v version %d end %d len %d", p.Reason, p.IPVersion, p.End, len(out))
	}
	if p.SrcMAC != gwMAC || p.DstMAC != vmMAC {
		t.Errorf("MACs %v -> %v", p.SrcMAC, p.DstMAC)
	}
	if p.ICMPType != typ || p.ICMPCode != code {
		t.Errorf("type/code %d/%d, want %d/%d", p.ICMPType, p.ICMPCode, typ, code)
	}
	m := ICMP(p.L4(out))
	if version == 4 {
		if p.Src != gw4 || p.Dst != vm4 {
			t.Errorf("IPs %v -> %v", p.Src, p.Dst)
		}
		if c := ^Checksum(m, 0); c != 0 {
			t.Errorf("ICMPv4 checksum residue %#04x", c)
		}
		if IPv4(out[14:]).TOS() != 0xc0 {
			t.Errorf("TOS %#x", IPv4(out[14:]).TOS())
		}
	} else {
		if p.Src != gw6 || p.Dst != vm6 {
			t.Errorf("IPs %v -> %v", p.Src, p.Dst)
		}
		if c := TransportChecksum(ProtoICMPv6, p.Src, p.Dst, m); c != 0 {
			t.Errorf("ICMPv6 checksum residue %#04x", c)
		}
	}
	if !bytes.HasPrefix(orig, m.Payload()) {
		t.Errorf("quote is not the head of the original packet")
	}
	return m
}

func udp4Frame(size int, dst netip.Addr) []byte {
	f := make([]byte, 14+size)
	Ethernet(f).Encode(gwMAC, vmMAC, EtherTypeIPv4)
	IPv4(f[14:]).Encode(&IPv4Fields{TotalLen: uint16(size), TTL: 1, Protocol: ProtoUDP, Src: vm4, Dst: dst, DontFragment: true})
	UDP(f[34:]).Encode(33434, 33435, uint16(size-20))
	return f
}

func udp6Frame(size int, dst netip.Addr) []byte {
	f := make([]byte, 14+size)
	Ethernet(f).Encode(gwMAC, vmMAC, EtherTypeIPv6)
	IPv6(f[14:]).Encode(&IPv6Fields{PayloadLen: uint16(size - 40), NextHeader: ProtoUDP, HopLimit: 1, Src: vm6, Dst: dst})
	UDP(f[54:]).Encode(33434, 33435, uint16(size-40))
	return f
}

func TestICMPv4Errors(t *testing.T) {
	out := make([]byte, 2048)
	var p Parsed

	small := udp4Frame(60, peer4)
	Parse(small, &p)
	n := PutICMPv4TimeExceeded(out, small, &p, gwMAC, gw4)
	if n != 14+20+8+60 {
		t.Fatalf("time exceeded length %d", n)
	}
	checkICMPError(t, out[:n], small[14:], 4, ICMPv4TimeExceeded, 0)

	big := udp4Frame(1500, peer4)
	Parse(big, &p)
	n = PutICMPv4FragmentationNeeded(out, big, &p, gwMAC, gw4, 1400)
	if n != 14+576 {
		t.Fatalf("fragmentation needed length %d, want 576-byte datagram", n)
	}
	m := checkICMPError(t, out[:n], big[14:], 4, ICMPv4DestUnreach, ICMPv4FragNeeded)
	if m.MTU() != 1400 || binary.BigEndian.Uint16(m[4:6]) != 0 {
		t.Errorf("next-hop MTU %d", m.MTU())
	}

	n = PutICMPv4DestUnreachable(out, big, &p, gwMAC, gw4, ICMPv4HostUnreach)
	checkICMPError(t, out[:n], big[14:], 4, ICMPv4DestUnreach, ICMPv4HostUnreach)

	// An output buffer too small for header plus 8 bytes of payload.
	if n := PutICMPv4TimeExceeded(out[:14+28+20+7], big, &p, gwMAC, gw4); n != 0 {
		t.Errorf("wrote %d bytes into a too small buffer", n)
	}
	// Truncated to fit a smaller output buffer when enough is quoted.
	if n := PutICMPv4TimeExceeded(out[:14+28+100], big, &p, gwMAC, gw4); n != 14+28+100 {
		t.Errorf("truncated error length %d", n)
	}
}

func TestICMPv4ErrorSuppressed(t *testing.T) {
	out := make([]byte, 2048)
	var p Parsed
	cases := map[string]func() []byte{
		"error about an ICMP error": func() []byte {
			inner := udp4Frame(28, peer4)
			f := make([]byte, 14+20+8+28)
			Ethernet(f).Encode(gwMAC, vmMAC, EtherTypeIPv4)
			IPv4(f[14:]).Encode(&IPv4Fields{TotalLen: 56, TTL: 1, Protocol: ProtoICMPv4, Src: vm4, Dst: peer4})
			m := ICMP(f[34:])
			m[0] = ICMPv4DestUnreach
			copy(m[8:], inner[14:])
			m.SetChecksum(^Checksum(m, 0))
			return f
		},
		"later fragment":      func() []byte { return fixture(t, "ip4LaterFragment") },
		"broadcast dst IP":    func() []byte { return udp4Frame(40, netip.MustParseAddr("255.255.255.255")) },
		"multicast dst IP":    func() []byte { return udp4Frame(40, netip.MustParseAddr("224.0.0.251")) },
		"broadcast dst MAC":   func() []byte { f := udp4Frame(40, peer4); copy(f, BroadcastMAC[:]); return f },
		"unspecified src":     func() []byte { f := udp4Frame(40, peer4); clear(f[26:30]); fixIPv4(f); return f },
		"not IPv4":            func() []byte { return fixture(t, "arpRequest") },
		"truncated ICMP":      func() []byte { f := fixture(t, "echo4"); f[23] = ProtoICMPv4; return f[:40] },
		"bad header checksum": func() []byte { return fixture(t, "ip4BadChecksum") },
	}
	for name, mk := range cases {
		f := mk()
		Parse(f, &p)
		if n := PutICMPv4TimeExceeded(out, f, &p, gwMAC, gw4); n != 0 {
			t.Errorf("%s: an error was built (%d bytes)", name, n)
		}
	}
	f := udp4Frame(40, peer4)
	Parse(f, &p)
	if n := PutICMPv4TimeExceeded(out, f, &p, gwMAC, gw6); n != 0 {
		t.Errorf("IPv6 source accepted for an ICMPv4 error")
	}
}

func fixIPv4(f []byte) {
	h := IPv4(f[14:])
	h.SetChecksum(0)
	h.SetChecksum(h.CalculateChecksum())
}

func TestICMPv6Errors(t *testing.T) {
	out := make([]byte, 2048)
	var p Parsed

	small := udp6Frame(80, peer6)
	Parse(small, &p)
	n := PutICMPv6TimeExceeded(out, small, &p, gwMAC, gw6)
	if n != 14+40+8+80 {
		t.Fatalf("time exceeded length %d", n)
	}
	checkICMPError(t, out[:n], small[14:], 6, ICMPv6TimeExceeded, 0)

	big := udp6Frame(1500, peer6)
	Parse(big, &p)
	n = PutICMPv6PacketTooBig(out, big, &p, gwMAC, gw6, 1400)
	if n != 14+1280 {
		t.Fatalf("packet too big length %d, want a 1280-byte packet", n)
	}
	m := checkICMPError(t, out[:n], big[14:], 6, ICMPv6PacketTooBig, 0)
	if m.MTU6() != 1400 {
		t.Errorf("MTU %d", m.MTU6())
	}
	n = PutICMPv6DestUnreachable(out, big, &p, gwMAC, gw6, ICMPv6AddressUnreach)
	checkICMPError(t, out[:n], big[14:], 6, ICMPv6DestUnreach, ICMPv6AddressUnreach)

	// Packet too big is sent even about multicast, other errors are not.
	mc := udp6Frame(80, netip.MustParseAddr("ff05::2"))
	mcMAC := IPv6MulticastMAC(netip.MustParseAddr("ff05::2"))
	copy(mc, mcMAC[:])
	Parse(mc, &p)
	if n := PutICMPv6PacketTooBig(out, mc, &p, gwMAC, gw6, 1280); n == 0 {
		t.Errorf("no packet too big about a multicast packet")
	}
	if n := PutICMPv6DestUnreachable(out, mc, &p, gwMAC, gw6, 0); n != 0 {
		t.Errorf("destination unreachable about a multicast packet")
	}
}

func TestICMPv6ErrorSuppressed(t *testing.T) {
	out := make([]byte, 2048)
	var p Parsed
	cases := map[string][]byte{
		"NS (error-free but multicast)": fixture(t, "ns6"),
		"unspecified source": func() []byte {
			f := udp6Frame(80, peer6)
			clear(f[22:38])
			return f
		}(),
		"ICMPv6 error": func() []byte {
			f := make([]byte, 14+40+8+48)
			Ethernet(f).Encode(gwMAC, vmMAC, EtherTypeIPv6)
			IPv6(f[14:]).Encode(&IPv6Fields{PayloadLen: 56, NextHeader: ProtoICMPv6, HopLimit: 1, Src: vm6, Dst: peer6})
			f[54] = ICMPv6DestUnreach
			return f
		}(),
		"later fragment of ICMPv6": func() []byte {
			f := fixture(t, "ip6LaterFragment")
			f[54] = ProtoICMPv6
			return f
		}(),
		"IPv4": fixture(t, "echo4"),
	}
	for name, f := range cases {
		Parse(f, &p)
		if n := PutICMPv6TimeExceeded(out, f, &p, gwMAC, gw6); n != 0 {
			t.Errorf("%s: an error was built (%d bytes)", name, n)
		}
	}
}
