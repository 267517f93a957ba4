package packet

import "testing"

func BenchmarkParseIPv4UDP(b *testing.B) { benchmarkParse(b, udp4Frame(1500, peer4)) }

func BenchmarkParseIPv6TCP(b *testing.B) { benchmarkParse(b, fixture(b, "tcp6")) }

func BenchmarkParseARP(b *testing.B) { benchmarkParse(b, fixture(b, "arpRequest")) }

// benchmarkParse measures Parse of frame f.
func benchmarkParse(b *testing.B, f []byte) {
	var p Parsed
	b.ReportAllocs()
	for b.Loop() {
		Parse(f, &p)
	}
}

func BenchmarkDecTTL(b *testing.B) {
	f := udp4Frame(1500, peer4)
	var p Parsed
	Parse(f, &p)
	b.ReportAllocs()
	for b.Loop() {
		p.TTL = 64
		DecTTL(f, &p)
	}
}

func BenchmarkChecksum1500(b *testing.B) {
	f := udp4Frame(1500, peer4)
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		Checksum(f, 0)
	}
}

func BenchmarkICMPv4TimeExceeded(b *testing.B) {
	f := udp4Frame(1500, peer4)
	out := make([]byte, 2048)
	var p Parsed
	Parse(f, &p)
	b.ReportAllocs()
	for b.Loop() {
		PutICMPv4TimeExceeded(out, f, &p, gwMAC, gw4)
	}
}

func BenchmarkICMPv6PacketTooBig(b *testing.B) {
	f := udp6Frame(1500, peer6)
	out := make([]byte, 2048)
	var p Parsed
	Parse(f, &p)
	b.ReportAllocs()
	for b.Loop() {
		PutICMPv6PacketTooBig(out, f, &p, gwMAC, gw6, 1280)
	}
}
