package dhcp6

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

// FuzzHandle wraps arbitrary DHCPv6 payloads in a frame from the NIC and
// hands them to the server: nothing may panic, and every reply must be a
// well-formed frame carrying a decodable DHCPv6 message.
func FuzzHandle(f *testing.F) {
	f.Add(solicit().ToBytes())
	f.Add(solicit(dhcpv6.WithRapidCommit).ToBytes())
	f.Add(message(dhcpv6.MessageTypeRenew, true, nic6).ToBytes())
	f.Add(message(dhcpv6.MessageTypeConfirm, false, nic6).ToBytes())
	s := newServer(f, cfg)
	out := make([]byte, 1514)
	f.Fuzz(func(t *testing.T, payload []byte) {
		fr := packettest.UDP(nicMAC, packet.IPv6MulticastMAC(gateway.AllDHCPAgents), nicLL, gateway.AllDHCPAgents, ClientPort, ServerPort, payload)
		n, _, _ := s.Handle(out, fr)
		if n == 0 {
			return
		}
		p := packettest.Check(t, out[:n])
		if _, err := dhcpv6.MessageFromBytes(packet.UDP(p.L4(out[:n])).Payload()); err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
	})
}
