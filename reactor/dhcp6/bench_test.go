package dhcp6

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// BenchmarkHandle measures the slow path: a Request answered by a Reply.
func BenchmarkHandle(b *testing.B) {
	s := newServer(b, cfg)
	f := frame(message(dhcpv6.MessageTypeRequest, true, nic6))
	out := make([]byte, 1514)
	b.ReportAllocs()
	for b.Loop() {
		if n, _, err := s.Handle(out, f); n == 0 {
			b.Fatal(err)
		}
	}
}
