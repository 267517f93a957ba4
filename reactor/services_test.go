package reactor

import (
	"fmt"
	"mvirt-net/reactor/packet"
	"net/netip"
	"testing"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/ndp"
)

// A network may have more IPv6 DNS servers than an RA's RDNSS option
// carries: the NIC's services still build, RAs advertise the first
// ndp.MaxDNSServers IPv6 ones and DHCP keeps the whole list.
func TestServicesWithManyDNSServers(t *testing.T) {
	var dns []netip.Addr
	for i := 1; i <= 20; i++ {
		dns = append(dns, netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i)), netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", i)))
	}
	mac := packet.MAC{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	svc, err := newServices(Services{
		Gateway: gateway.Config{MAC: mac, IPv4: netip.MustParseAddr("10.0.0.2"), IPv6: netip.MustParseAddr("fd00::2")},
		DNS:     dns,
	})
	if err != nil {
		t.Fatalf("services with %d DNS servers: %v", len(dns), err)
	}
	if len(svc.ra.DNS) != ndp.MaxDNSServers {
		t.Fatalf("RA advertises %d DNS servers, want %d", len(svc.ra.DNS), ndp.MaxDNSServers)
	}
	for i, a := range svc.ra.DNS {
		if a != dns[2*i] {
			t.Fatalf("RA DNS server %d is %s, want %s", i, a, dns[2*i])
		}
	}
	if len(svc.DNS) != len(dns) {
		t.Fatalf("DHCP keeps %d DNS servers, want %d", len(svc.DNS), len(dns))
	}
}
