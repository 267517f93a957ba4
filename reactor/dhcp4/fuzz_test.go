package dhcp4

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

// FuzzHandle wraps arbitrary DHCP payloads in a frame from the NIC and
// hands them to the server: nothing may panic, and every reply must be a
// well-formed frame carrying a decodable DHCP reply.
func FuzzHandle(f *testing.F) {
	f.Add(discover().ToBytes())
	f.Add(request(dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(nic4.AsSlice()))).ToBytes())
	f.Add(must(dhcpv4.NewInform(nicHW, nic4.AsSlice())).ToBytes())
	s := newServer(f, cfg)
	out := make([]byte, 1514)
	f.Fuzz(func(t *testing.T, payload []byte) {
		fr := packettest.UDP(nicMAC, packet.BroadcastMAC, zero4, gateway.Broadcast4, ClientPort, ServerPort, payload)
		n, _, _ := s.Handle(out, fr)
		if n == 0 {
			return
		}
		p := packettest.Check(t, out[:n])
		if _, err := dhcpv4.FromBytes(packet.UDP(p.L4(out[:n])).Payload()); err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
	})
}
