package dhcp4

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"mvirt-net/reactor/gateway"
)

// BenchmarkHandle measures the slow path: a DHCPREQUEST answered by an ACK.
func BenchmarkHandle(b *testing.B) {
	s := newServer(b, cfg)
	f := frame(request(dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(nic4.AsSlice()))), zero4, gateway.Broadcast4)
	out := make([]byte, 1514)
	b.ReportAllocs()
	for b.Loop() {
		if n, _, err := s.Handle(out, f); n == 0 {
			b.Fatal(err)
		}
	}
}
