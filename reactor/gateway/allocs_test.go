package gateway

import (
	"testing"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

func hotFrames() map[string][]byte {
	return map[string][]byte{
		"arp":   packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, IPv4),
		"echo4": packettest.ICMPv4(nicMAC, MAC, nic4, IPv4, packet.ICMPv4Echo, 0, packettest.Echo(1, 1, make([]byte, 56))),
		"echo6": packettest.ICMPv6(nicMAC, MAC, nicLL, IPv6, 64, packet.ICMPv6EchoRequest, 0, packettest.Echo(1, 1, make([]byte, 56))),
		"route": packettest.UDP(nicMAC, MAC, nic4, peer4, 1000, 2000, make([]byte, 1400)),
	}
}

// TestAllocs holds ARP, echo and classification to zero heap allocations.
func TestAllocs(t *testing.T) {
	out := make([]byte, 2048)
	var p packet.Parsed
	for name, f := range hotFrames() {
		n := testing.AllocsPerRun(100, func() {
			packet.Parse(f, &p)
			switch Classify(&p, &cfg) {
			case ClassARP:
				ARPReply(out, f, &p, &cfg)
			case ClassEcho:
				EchoReply(out, f, &p, &cfg)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per frame, budget 0", name, n)
		}
	}
}

func benchmarkFrame(b *testing.B, name string, respond func(out, frame []byte, p *packet.Parsed, cfg *Config) int) {
	f := hotFrames()[name]
	out := make([]byte, 2048)
	var p packet.Parsed
	b.ReportAllocs()
	for b.Loop() {
		packet.Parse(f, &p)
		Classify(&p, &cfg)
		if respond != nil && respond(out, f, &p, &cfg) == 0 {
			b.Fatal("no reply")
		}
	}
}

func BenchmarkARPReply(b *testing.B)   { benchmarkFrame(b, "arp", ARPReply) }
func BenchmarkEchoReply4(b *testing.B) { benchmarkFrame(b, "echo4", EchoReply) }
func BenchmarkEchoReply6(b *testing.B) { benchmarkFrame(b, "echo6", EchoReply) }
func BenchmarkClassifyRoute(b *testing.B) {
	benchmarkFrame(b, "route", nil)
}
