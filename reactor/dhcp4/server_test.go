package dhcp4

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"

	"mvirt-net/reactor/lease"
)

var (
	nicMAC = packet.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	nicHW  = net.HardwareAddr(nicMAC[:])
	nic4   = netip.MustParseAddr("10.0.0.5")
	zero4  = netip.IPv4Unspecified()
	cfg    = Config{
		MAC:    nicMAC,
		Addr:   nic4,
		DNS:    []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("10.0.0.54")},
		NTP:    []netip.Addr{netip.MustParseAddr("10.0.0.123")},
		MTU:    1450,
		Domain: "vms.example",
	}
)

func newServer(t testing.TB, c Config) *Server {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// frame wraps a client message in the frame the NIC would send.
func frame(m *dhcpv4.DHCPv4, src, dst netip.Addr) []byte {
	dstMAC := packet.BroadcastMAC
	if dst != gateway.Broadcast4 {
		dstMAC = gateway.MAC
	}
	return packettest.UDP(nicMAC, dstMAC, src, dst, ClientPort, ServerPort, m.ToBytes())
}

func discover(mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	return must(dhcpv4.NewDiscovery(nicHW, mods...))
}

// exchange hands f to s and decodes the reply, checking the frame around it.
func exchange(t *testing.T, s *Server, f []byte, wantDst netip.Addr) (*dhcpv4.DHCPv4, Event) {
	t.Helper()
	out := make([]byte, 1514)
	n, ev, err := s.Handle(out, f)
	if err != nil || n == 0 {
		t.Fatalf("Handle: n=%d err=%v", n, err)
	}
	p := packettest.Check(t, out[:n])
	if p.SrcMAC != gateway.MAC || p.DstMAC != nicMAC || p.Src != gateway.IPv4 || p.Dst != wantDst ||
		p.SrcPort != ServerPort || p.DstPort != ClientPort {
		t.Errorf("reply frame %v %v -> %v %v, ports %d -> %d; want IP destination %v",
			p.SrcMAC, p.Src, p.DstMAC, p.Dst, p.SrcPort, p.DstPort, wantDst)
	}
	resp, err := dhcpv4.FromBytes(packet.UDP(p.L4(out[:n])).Payload())
	if err != nil {
		t.Fatalf("decoding reply: %v", err)
	}
	if resp.OpCode != dhcpv4.OpcodeBootReply || !bytes.Equal(resp.ClientHWAddr, nicHW) {
		t.Errorf("reply op %v chaddr %v", resp.OpCode, resp.ClientHWAddr)
	}
	if !resp.ServerIdentifier().Equal(net.IPv4(169, 254, 0, 1)) {
		t.Errorf("server identifier %v", resp.ServerIdentifier())
	}
	return resp, ev
}

// checkConfig checks the configuration options of an OFFER or ACK; lease
// says whether lease times must be present (absent for INFORM).
func checkConfig(t *testing.T, resp *dhcpv4.DHCPv4, lease bool) {
	t.Helper()
	if m := resp.SubnetMask(); net.IP(m).String() != "255.255.255.255" {
		t.Errorf("subnet mask %v", net.IP(m))
	}
	if r := resp.Router(); len(r) != 1 || !r[0].Equal(net.IPv4(169, 254, 0, 1)) {
		t.Errorf("router %v", r)
	}
	// RFC 3442: 169.254.0.1/32 on-link, then the default route via it.
	want121 := []byte{32, 169, 254, 0, 1, 0, 0, 0, 0, 0, 169, 254, 0, 1}
	if got := resp.Options.Get(dhcpv4.OptionClasslessStaticRoute); !bytes.Equal(got, want121) {
		t.Errorf("option 121 % x, want % x", got, want121)
	}
	if d := resp.DNS(); len(d) != 2 || !d[0].Equal(net.IPv4(10, 0, 0, 53)) || !d[1].Equal(net.IPv4(10, 0, 0, 54)) {
		t.Errorf("DNS %v", d)
	}
	if n := resp.NTPServers(); len(n) != 1 || !n[0].Equal(net.IPv4(10, 0, 0, 123)) {
		t.Errorf("NTP %v", n)
	}
	if mtu := resp.Options.Get(dhcpv4.OptionInterfaceMTU); !bytes.Equal(mtu, []byte{0x05, 0xaa}) {
		t.Errorf("MTU % x", mtu)
	}
	if d := resp.DomainName(); d != "vms.example" {
		t.Errorf("domain %q", d)
	}
	if !lease {
		for _, o := range []dhcpv4.OptionCode{dhcpv4.OptionIPAddressLeaseTime, dhcpv4.OptionRenewTimeValue, dhcpv4.OptionRebindingTimeValue} {
			if resp.Options.Has(o) {
				t.Errorf("option %v in a reply without lease", o)
			}
		}
		return
	}
	if l := resp.IPAddressLeaseTime(0); l != time.Hour {
		t.Errorf("lease time %v", l)
	}
	if l := resp.IPAddressRenewalTime(0); l != 30*time.Minute {
		t.Errorf("T1 %v", l)
	}
	if l := resp.IPAddressRebindingTime(0); l != 52*time.Minute+30*time.Second {
		t.Errorf("T2 %v", l)
	}
}

func TestDORA(t *testing.T) {
	s := newServer(t, cfg)
	disc := discover(dhcpv4.WithOption(dhcpv4.OptHostName("vm1")))
	offer, ev := exchange(t, s, frame(disc, zero4, gateway.Broadcast4), nic4)
	if offer.MessageType() != dhcpv4.MessageTypeOffer || !offer.YourIPAddr.Equal(net.IP(nic4.AsSlice())) ||
		offer.TransactionID != disc.TransactionID || ev.Kind != lease.None {
		t.Fatalf("offer %v yiaddr %v xid %v event %v", offer.MessageType(), offer.YourIPAddr, offer.TransactionID, ev.Kind)
	}
	checkConfig(t, offer, true)

	req := must(dhcpv4.NewRequestFromOffer(offer, dhcpv4.WithBroadcast(true), dhcpv4.WithOption(dhcpv4.OptHostName("vm1"))))
	ack, ev := exchange(t, s, frame(req, zero4, gateway.Broadcast4), gateway.Broadcast4)
	if ack.MessageType() != dhcpv4.MessageTypeAck || !ack.YourIPAddr.Equal(net.IP(nic4.AsSlice())) || !ack.IsBroadcast() {
		t.Fatalf("ack %v yiaddr %v broadcast %v", ack.MessageType(), ack.YourIPAddr, ack.IsBroadcast())
	}
	checkConfig(t, ack, true)
	want := Event{Kind: lease.Bound, Addr: nic4, ClientID: append([]byte{1}, nicMAC[:]...), Hostname: "vm1", LeaseTime: time.Hour}
	if ev.Kind != want.Kind || ev.Addr != want.Addr || !bytes.Equal(ev.ClientID, want.ClientID) ||
		ev.Hostname != want.Hostname || ev.LeaseTime != want.LeaseTime {
		t.Errorf("event %+v, want %+v", ev, want)
	}
}

func TestBroadcastFlagAndClientID(t *testing.T) {
	s := newServer(t, cfg)
	id := []byte{0xff, 1, 2, 3, 4, 0, 1, 2, 3}
	disc := discover(dhcpv4.WithBroadcast(true), dhcpv4.WithOption(dhcpv4.OptClientIdentifier(id)))
	offer, _ := exchange(t, s, frame(disc, zero4, gateway.Broadcast4), gateway.Broadcast4)
	if got := offer.Options.Get(dhcpv4.OptionClientIdentifier); !bytes.Equal(got, id) {
		t.Errorf("client identifier not echoed: % x", got)
	}
	req := must(dhcpv4.NewRequestFromOffer(offer, dhcpv4.WithOption(dhcpv4.OptClientIdentifier(id))))
	_, ev := exchange(t, s, frame(req, zero4, gateway.Broadcast4), gateway.Broadcast4)
	if !bytes.Equal(ev.ClientID, id) {
		t.Errorf("event client id % x", ev.ClientID)
	}
}

func request(mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	return must(dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithHwAddr(nicHW), dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest)}, mods...)...))
}

func checkNAK(t *testing.T, nak *dhcpv4.DHCPv4, ev Event) {
	t.Helper()
	if nak.MessageType() != dhcpv4.MessageTypeNak || !nak.YourIPAddr.IsUnspecified() || ev.Kind != lease.None {
		t.Errorf("NAK: %v yiaddr %v event %v", nak.MessageType(), nak.YourIPAddr, ev.Kind)
	}
	for _, o := range []dhcpv4.OptionCode{dhcpv4.OptionIPAddressLeaseTime, dhcpv4.OptionRouter, dhcpv4.OptionSubnetMask} {
		if nak.Options.Has(o) {
			t.Errorf("NAK carries option %v", o)
		}
	}
}

func TestInitReboot(t *testing.T) {
	s := newServer(t, cfg)
	ack, ev := exchange(t, s, frame(request(dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IP(nic4.AsSlice())))), zero4, gateway.Broadcast4), nic4)
	if ack.MessageType() != dhcpv4.MessageTypeAck || ev.Kind != lease.Bound {
		t.Errorf("INIT-REBOOT: %v, event %v", ack.MessageType(), ev.Kind)
	}
	checkConfig(t, ack, true)

	nak, ev := exchange(t, s, frame(request(dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 9, 9, 9)))), zero4, gateway.Broadcast4), gateway.Broadcast4)
	checkNAK(t, nak, ev)
}

func TestSelectingWrongAddressAndOtherServer(t *testing.T) {
	s := newServer(t, cfg)
	nak, ev := exchange(t, s, frame(request(
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(169, 254, 0, 1))),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 0, 0, 6))),
	), zero4, gateway.Broadcast4), gateway.Broadcast4)
	checkNAK(t, nak, ev)

	out := make([]byte, 1514)
	n, ev, err := s.Handle(out, frame(request(
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(192, 0, 2, 1))),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IP(nic4.AsSlice()))),
	), zero4, gateway.Broadcast4))
	if n != 0 || ev.Kind != lease.None || err != nil {
		t.Errorf("REQUEST for another server: n=%d event %v err %v", n, ev.Kind, err)
	}
}

func TestRenewRebind(t *testing.T) {
	s := newServer(t, cfg)
	ci := dhcpv4.WithClientIP(net.IP(nic4.AsSlice()))
	// RENEWING: unicast to the server.
	ack, ev := exchange(t, s, frame(request(ci), nic4, gateway.IPv4), nic4)
	if ack.MessageType() != dhcpv4.MessageTypeAck || ev.Kind != lease.Renewed || ev.LeaseTime != time.Hour ||
		!ack.ClientIPAddr.Equal(net.IP(nic4.AsSlice())) || !ack.YourIPAddr.Equal(net.IP(nic4.AsSlice())) {
		t.Errorf("RENEW: %v event %v ciaddr %v", ack.MessageType(), ev.Kind, ack.ClientIPAddr)
	}
	checkConfig(t, ack, true)
	// REBINDING: broadcast, still answered to ciaddr.
	ack, ev = exchange(t, s, frame(request(ci, dhcpv4.WithBroadcast(true)), nic4, gateway.Broadcast4), nic4)
	if ack.MessageType() != dhcpv4.MessageTypeAck || ev.Kind != lease.Renewed {
		t.Errorf("REBIND: %v event %v", ack.MessageType(), ev.Kind)
	}
	nak, ev := exchange(t, s, frame(request(dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 77))), netip.MustParseAddr("10.0.0.77"), gateway.IPv4), gateway.Broadcast4)
	checkNAK(t, nak, ev)
}

func TestReleaseDecline(t *testing.T) {
	s := newServer(t, cfg)
	out := make([]byte, 1514)
	sid := dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(169, 254, 0, 1)))
	rel := must(dhcpv4.New(dhcpv4.WithHwAddr(nicHW), dhcpv4.WithMessageType(dhcpv4.MessageTypeRelease),
		dhcpv4.WithClientIP(net.IP(nic4.AsSlice())), sid, dhcpv4.WithOption(dhcpv4.OptHostName("vm1"))))
	n, ev, err := s.Handle(out, frame(rel, nic4, gateway.IPv4))
	if n != 0 || err != nil || ev.Kind != lease.Released || ev.Addr != nic4 || ev.Hostname != "vm1" {
		t.Errorf("RELEASE: n=%d err=%v event %+v", n, err, ev)
	}
	dec := must(dhcpv4.New(dhcpv4.WithHwAddr(nicHW), dhcpv4.WithMessageType(dhcpv4.MessageTypeDecline), sid,
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IP(nic4.AsSlice())))))
	n, ev, err = s.Handle(out, frame(dec, zero4, gateway.Broadcast4))
	if n != 0 || err != nil || ev.Kind != lease.Declined || ev.Addr != nic4 {
		t.Errorf("DECLINE: n=%d err=%v event %+v", n, err, ev)
	}
	rel.ClientIPAddr = net.IPv4(10, 0, 0, 99)
	if n, ev, err := s.Handle(out, frame(rel, nic4, gateway.IPv4)); n != 0 || ev.Kind != lease.None || err == nil {
		t.Errorf("RELEASE of another address: n=%d event %v err %v", n, ev.Kind, err)
	}
}

func TestInform(t *testing.T) {
	s := newServer(t, cfg)
	inf := must(dhcpv4.NewInform(nicHW, net.IP(nic4.AsSlice())))
	ack, ev := exchange(t, s, frame(inf, nic4, gateway.IPv4), nic4)
	if ack.MessageType() != dhcpv4.MessageTypeAck || !ack.YourIPAddr.IsUnspecified() || ev.Kind != lease.None {
		t.Errorf("INFORM: %v yiaddr %v event %v", ack.MessageType(), ack.YourIPAddr, ev.Kind)
	}
	checkConfig(t, ack, false)
}

func TestOptionalOptionsOmitted(t *testing.T) {
	s := newServer(t, Config{MAC: nicMAC, Addr: nic4, LeaseTime: 10 * time.Minute})
	offer, _ := exchange(t, s, frame(discover(), zero4, gateway.Broadcast4), nic4)
	for _, o := range []dhcpv4.OptionCode{dhcpv4.OptionDomainNameServer, dhcpv4.OptionNTPServers, dhcpv4.OptionInterfaceMTU, dhcpv4.OptionDomainName} {
		if offer.Options.Has(o) {
			t.Errorf("option %v present though not configured", o)
		}
	}
	if l := offer.IPAddressLeaseTime(0); l != 10*time.Minute {
		t.Errorf("lease time %v", l)
	}
}

func TestNotAnswered(t *testing.T) {
	s := newServer(t, cfg)
	out := make([]byte, 1514)
	other := net.HardwareAddr{0x52, 0x54, 0, 0, 0, 0x99}
	foreign := must(dhcpv4.NewDiscovery(other))
	spoofed := frame(discover(), zero4, gateway.Broadcast4)
	copy(spoofed[6:12], other)
	garbage := packettest.UDP(nicMAC, packet.BroadcastMAC, zero4, gateway.Broadcast4, ClientPort, ServerPort, []byte("not dhcp"))
	offerAsRequest := discover()
	offerAsRequest.OpCode = dhcpv4.OpcodeBootReply
	cases := map[string][]byte{
		"foreign chaddr":      frame(foreign, zero4, gateway.Broadcast4),
		"foreign source MAC":  spoofed,
		"not DHCP":            packettest.ARP(packet.ARPRequest, nicMAC, nic4, packet.MAC{}, gateway.IPv4),
		"garbage":             garbage,
		"BOOTREPLY":           frame(offerAsRequest, zero4, gateway.Broadcast4),
		"OFFER from a client": frame(must(dhcpv4.New(dhcpv4.WithHwAddr(nicHW), dhcpv4.WithMessageType(dhcpv4.MessageTypeOffer))), zero4, gateway.Broadcast4),
		"REQUEST without any": frame(request(), zero4, gateway.Broadcast4),
		"wrong port":          packettest.UDP(nicMAC, packet.BroadcastMAC, zero4, gateway.Broadcast4, 68, 69, discover().ToBytes()),
	}
	for name, f := range cases {
		n, ev, err := s.Handle(out, f)
		if n != 0 || ev.Kind != lease.None || err == nil {
			t.Errorf("%s: n=%d event %v err %v", name, n, ev.Kind, err)
		}
	}
	if n, _, err := s.Handle(out[:100], frame(discover(), zero4, gateway.Broadcast4)); n != 0 || err == nil {
		t.Errorf("too small output buffer: n=%d err=%v", n, err)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Addr: nic4},
		{MAC: nicMAC},
		{MAC: nicMAC, Addr: netip.MustParseAddr("2001:db8::5")},
		{MAC: nicMAC, Addr: nic4, LeaseTime: time.Second},
		{MAC: nicMAC, Addr: nic4, LeaseTime: -time.Hour},
		{MAC: nicMAC, Addr: nic4, MTU: 60},
		{MAC: nicMAC, Addr: nic4, Domain: string(make([]byte, 300))},
	}
	for _, c := range bad {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if lease.Bound.String() != "bound" || lease.Kind(99).String() != "unknown" {
		t.Errorf("lease.Kind.String")
	}
}
