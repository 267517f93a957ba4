package gateway

import (
	"testing"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

// FuzzGateway feeds arbitrary frames to Classify and the responders: nothing
// may panic, and every reply must be a well-formed frame to the NIC.
func FuzzGateway(f *testing.F) {
	for _, fr := range hotFrames() {
		f.Add(fr)
	}
	f.Add(packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, nic4))
	out := make([]byte, 2048)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var p packet.Parsed
		packet.Parse(frame, &p)
		_ = Classify(&p, &cfg).String()
		for _, respond := range []func(out, frame []byte, p *packet.Parsed, cfg *Config) int{ARPReply, EchoReply} {
			n := respond(out, frame, &p, &cfg)
			if n == 0 {
				continue
			}
			r := packettest.Check(t, out[:n])
			if r.SrcMAC != MAC || r.DstMAC != nicMAC {
				t.Fatalf("reply %v -> %v", r.SrcMAC, r.DstMAC)
			}
		}
	})
}
