package dhcp6

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/insomniacslk/dhcp/rfc1035label"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"

	"mvirt-net/reactor/lease"
)

var (
	nicMAC = packet.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	nicHW  = net.HardwareAddr(nicMAC[:])
	nicLL  = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
	nic6   = netip.MustParseAddr("2001:db8::5")
	iaid   = [4]byte{0x00, 0x12, 0x34, 0x56}
	cfg    = Config{
		MAC:          nicMAC,
		Addr:         nic6,
		DNS:          []netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("10.0.0.53")},
		NTP:          []netip.Addr{netip.MustParseAddr("2001:db8::123")},
		DomainSearch: []string{"vms.example"},
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

// frame wraps a client message in the frame the NIC would send to
// ff02::1:2.
func frame(m *dhcpv6.Message) []byte {
	return packettest.UDP(nicMAC, packet.IPv6MulticastMAC(gateway.AllDHCPAgents), nicLL, gateway.AllDHCPAgents,
		ClientPort, ServerPort, m.ToBytes())
}

func solicit(mods ...dhcpv6.Modifier) *dhcpv6.Message {
	return must(dhcpv6.NewSolicit(nicHW, mods...))
}

// message builds a client message of type t with the client's DUID and an
// IA_NA listing addrs.
func message(t dhcpv6.MessageType, withServerID bool, addrs ...netip.Addr) *dhcpv6.Message {
	m := must(dhcpv6.NewMessage())
	m.MessageType = t
	m.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: nicHW}))
	if withServerID {
		m.AddOption(dhcpv6.OptServerID(ServerDUID()))
	}
	ia := &dhcpv6.OptIANA{IaId: iaid}
	for _, a := range addrs {
		ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.IP(a.AsSlice()), PreferredLifetime: time.Hour, ValidLifetime: time.Hour})
	}
	m.AddOption(ia)
	return m
}

// exchange hands f to s and decodes the reply, checking the frame and the
// identifiers around it.
func exchange(t *testing.T, s *Server, req *dhcpv6.Message, f []byte, want dhcpv6.MessageType) (*dhcpv6.Message, Event) {
	t.Helper()
	out := make([]byte, 1514)
	n, ev, err := s.Handle(out, f)
	if err != nil || n == 0 {
		t.Fatalf("Handle: n=%d err=%v", n, err)
	}
	p := packettest.Check(t, out[:n])
	if p.SrcMAC != gateway.MAC || p.DstMAC != nicMAC || p.Src != gateway.IPv6 || p.Dst != nicLL ||
		p.SrcPort != ServerPort || p.DstPort != ClientPort {
		t.Errorf("reply frame %v %v -> %v %v, ports %d -> %d", p.SrcMAC, p.Src, p.DstMAC, p.Dst, p.SrcPort, p.DstPort)
	}
	resp, err := dhcpv6.MessageFromBytes(packet.UDP(p.L4(out[:n])).Payload())
	if err != nil {
		t.Fatalf("decoding reply: %v", err)
	}
	if resp.MessageType != want || resp.TransactionID != req.TransactionID {
		t.Fatalf("reply %s xid %v, want %s xid %v", resp.MessageType, resp.TransactionID, want, req.TransactionID)
	}
	if sid := resp.Options.ServerID(); sid == nil || !bytes.Equal(sid.ToBytes(), []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}) {
		t.Errorf("server DUID %v", sid)
	}
	if cid := resp.Options.ClientID(); req.Options.ClientID() != nil && (cid == nil || !cid.Equal(req.Options.ClientID())) {
		t.Errorf("client DUID %v, want %v", cid, req.Options.ClientID())
	}
	checkInfo(t, resp)
	return resp, ev
}

// checkInfo checks DNS, domain search and NTP.
func checkInfo(t *testing.T, resp *dhcpv6.Message) {
	t.Helper()
	if d := resp.Options.DNS(); len(d) != 1 || !d[0].Equal(net.ParseIP("2001:db8::53")) {
		t.Errorf("DNS %v", d)
	}
	if l := resp.Options.DomainSearchList(); l == nil || !slices.Equal(l.Labels, []string{"vms.example"}) {
		t.Errorf("domain search %v", l)
	}
	if n := resp.Options.NTPServers(); len(n) != 1 || !n[0].Equal(net.ParseIP("2001:db8::123")) {
		t.Errorf("NTP %v", n)
	}
}

// checkIA checks the one IA_NA of a reply and returns it.
func checkIA(t *testing.T, resp *dhcpv6.Message) *dhcpv6.OptIANA {
	t.Helper()
	ias := resp.Options.IANA()
	if len(ias) != 1 {
		t.Fatalf("%d IA_NA options", len(ias))
	}
	ia := ias[0]
	if ia.IaId != iaid || ia.T1 != 30*time.Minute || ia.T2 != 48*time.Minute {
		t.Errorf("IA_NA IAID %x T1 %v T2 %v", ia.IaId, ia.T1, ia.T2)
	}
	a := ia.Options.OneAddress()
	if a == nil || !a.IPv6Addr.Equal(net.IP(nic6.AsSlice())) || a.PreferredLifetime != time.Hour || a.ValidLifetime != 2*time.Hour {
		t.Errorf("IA address %v", a)
	}
	return ia
}

func checkEvent(t *testing.T, ev Event, kind lease.Kind, cid dhcpv6.DUID) {
	t.Helper()
	if ev.Kind != kind || ev.Addr != nic6 || !bytes.Equal(ev.ClientID, cid.ToBytes()) {
		t.Errorf("event %+v, want %v for %v", ev, kind, cid)
	}
	if (kind == lease.Bound || kind == lease.Renewed) && (ev.IAID != iaid || ev.ValidLifetime != 2*time.Hour) {
		t.Errorf("event IAID %x lifetime %v", ev.IAID, ev.ValidLifetime)
	}
}

func TestSolicitAdvertiseRequestReply(t *testing.T) {
	s := newServer(t, cfg)
	sol := solicit(dhcpv6.WithFQDN(0, "vm1"))
	adv, ev := exchange(t, s, sol, frame(sol), dhcpv6.MessageTypeAdvertise)
	checkIA(t, adv)
	if adv.Options.Preference() != 255 || ev.Kind != lease.None {
		t.Errorf("preference %d, event %v", adv.Options.Preference(), ev.Kind)
	}
	if adv.GetOneOption(dhcpv6.OptionRapidCommit) != nil {
		t.Errorf("rapid commit option without rapid commit")
	}

	req := must(dhcpv6.NewRequestFromAdvertise(adv, dhcpv6.WithFQDN(0, "vm1")))
	rep, ev := exchange(t, s, req, frame(req), dhcpv6.MessageTypeReply)
	checkIA(t, rep)
	checkEvent(t, ev, lease.Bound, sol.Options.ClientID())
	if ev.Hostname != "vm1" {
		t.Errorf("hostname %q", ev.Hostname)
	}
}

func TestRapidCommit(t *testing.T) {
	s := newServer(t, cfg)
	sol := solicit(dhcpv6.WithRapidCommit)
	rep, ev := exchange(t, s, sol, frame(sol), dhcpv6.MessageTypeReply)
	checkIA(t, rep)
	if rep.GetOneOption(dhcpv6.OptionRapidCommit) == nil {
		t.Errorf("no rapid commit option in the reply")
	}
	checkEvent(t, ev, lease.Bound, sol.Options.ClientID())
}

func TestRenewRebind(t *testing.T) {
	s := newServer(t, cfg)
	renew := message(dhcpv6.MessageTypeRenew, true, nic6)
	rep, ev := exchange(t, s, renew, frame(renew), dhcpv6.MessageTypeReply)
	checkIA(t, rep)
	checkEvent(t, ev, lease.Renewed, renew.Options.ClientID())

	rebind := message(dhcpv6.MessageTypeRebind, false, nic6)
	rep, ev = exchange(t, s, rebind, frame(rebind), dhcpv6.MessageTypeReply)
	checkIA(t, rep)
	checkEvent(t, ev, lease.Renewed, rebind.Options.ClientID())

	// A stale address comes back with lifetimes 0.
	stale := netip.MustParseAddr("2001:db8::77")
	renew = message(dhcpv6.MessageTypeRenew, true, stale)
	rep, _ = exchange(t, s, renew, frame(renew), dhcpv6.MessageTypeReply)
	addrs := rep.Options.OneIANA().Options.Addresses()
	if len(addrs) != 2 || !addrs[1].IPv6Addr.Equal(net.IP(stale.AsSlice())) || addrs[1].ValidLifetime != 0 || addrs[1].PreferredLifetime != 0 {
		t.Errorf("addresses %v", addrs)
	}
}

func TestConfirm(t *testing.T) {
	s := newServer(t, cfg)
	conf := message(dhcpv6.MessageTypeConfirm, false, nic6)
	rep, ev := exchange(t, s, conf, frame(conf), dhcpv6.MessageTypeReply)
	if st := rep.Options.Status(); st == nil || st.StatusCode != iana.StatusSuccess || ev.Kind != lease.None {
		t.Errorf("confirm of own address: %v", st)
	}
	if len(rep.Options.IANA()) != 0 {
		t.Errorf("IA_NA in a Confirm reply")
	}
	conf = message(dhcpv6.MessageTypeConfirm, false, netip.MustParseAddr("2001:db8:1::5"))
	rep, _ = exchange(t, s, conf, frame(conf), dhcpv6.MessageTypeReply)
	if st := rep.Options.Status(); st == nil || st.StatusCode != iana.StatusNotOnLink {
		t.Errorf("confirm of another address: %v", st)
	}
	out := make([]byte, 1514)
	if n, _, err := s.Handle(out, frame(message(dhcpv6.MessageTypeConfirm, false))); n != 0 || err != nil {
		t.Errorf("confirm without addresses: n=%d err=%v", n, err)
	}
}

func TestReleaseDecline(t *testing.T) {
	s := newServer(t, cfg)
	for _, tc := range []struct {
		t    dhcpv6.MessageType
		kind lease.Kind
	}{{dhcpv6.MessageTypeRelease, lease.Released}, {dhcpv6.MessageTypeDecline, lease.Declined}} {
		m := message(tc.t, true, nic6)
		rep, ev := exchange(t, s, m, frame(m), dhcpv6.MessageTypeReply)
		if st := rep.Options.Status(); st == nil || st.StatusCode != iana.StatusSuccess {
			t.Errorf("%s: status %v", tc.t, st)
		}
		checkEvent(t, ev, tc.kind, m.Options.ClientID())
		if ev.IAID != iaid {
			t.Errorf("%s: IAID %x", tc.t, ev.IAID)
		}
	}
}

func TestInformationRequest(t *testing.T) {
	s := newServer(t, cfg)
	ir := must(dhcpv6.NewMessage())
	ir.MessageType = dhcpv6.MessageTypeInformationRequest
	ir.AddOption(dhcpv6.OptRequestedOption(dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionSNTPServerList))
	rep, ev := exchange(t, s, ir, frame(ir), dhcpv6.MessageTypeReply)
	if len(rep.Options.IANA()) != 0 || ev.Kind != lease.None {
		t.Errorf("IA_NA or event in an Information-request reply")
	}
	if sntp := rep.Options.SNTP(); len(sntp) != 1 || !sntp[0].Equal(net.ParseIP("2001:db8::123")) {
		t.Errorf("SNTP %v", sntp)
	}
	// Without a request for option 31, only option 56 carries NTP.
	ir2 := must(dhcpv6.NewMessage())
	ir2.MessageType = dhcpv6.MessageTypeInformationRequest
	ir2.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: nicHW}))
	ir2.AddOption(dhcpv6.OptServerID(ServerDUID()))
	rep, _ = exchange(t, s, ir2, frame(ir2), dhcpv6.MessageTypeReply)
	if rep.Options.SNTP() != nil {
		t.Errorf("unrequested SNTP option")
	}
}

func TestUnicastToGateway(t *testing.T) {
	s := newServer(t, cfg)
	renew := message(dhcpv6.MessageTypeRenew, true, nic6)
	f := packettest.UDP(nicMAC, gateway.MAC, nicLL, gateway.IPv6, ClientPort, ServerPort, renew.ToBytes())
	exchange(t, s, renew, f, dhcpv6.MessageTypeReply)
}

func TestIAVariants(t *testing.T) {
	s := newServer(t, cfg)
	// Two IA_NAs: the second gets NoAddrsAvail.
	sol := solicit()
	sol.AddOption(&dhcpv6.OptIANA{IaId: [4]byte{9, 9, 9, 9}})
	adv, _ := exchange(t, s, sol, frame(sol), dhcpv6.MessageTypeAdvertise)
	ias := adv.Options.IANA()
	if len(ias) != 2 || ias[0].Options.OneAddress() == nil || ias[1].Options.Status() == nil ||
		ias[1].Options.Status().StatusCode != iana.StatusNoAddrsAvail || ias[1].IaId != [4]byte{9, 9, 9, 9} {
		t.Errorf("IA_NAs %v", ias)
	}
	// Only an IA_PD: NoPrefixAvail in it, NoAddrsAvail overall.
	pd := must(dhcpv6.NewMessage())
	pd.MessageType = dhcpv6.MessageTypeSolicit
	pd.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: nicHW}))
	pd.AddOption(&dhcpv6.OptIAPD{IaId: [4]byte{1, 2, 3, 4}})
	adv, _ = exchange(t, s, pd, frame(pd), dhcpv6.MessageTypeAdvertise)
	if st := adv.Options.Status(); st == nil || st.StatusCode != iana.StatusNoAddrsAvail {
		t.Errorf("top-level status %v", st)
	}
	if p := adv.Options.OneIAPD(); p == nil || p.Options.Status() == nil || p.Options.Status().StatusCode != iana.StatusNoPrefixAvail {
		t.Errorf("IA_PD %v", p)
	}
	if len(adv.Options.IANA()) != 0 {
		t.Errorf("IA_NA invented")
	}
}

func TestNotAnswered(t *testing.T) {
	s := newServer(t, cfg)
	out := make([]byte, 1514)
	otherServer := message(dhcpv6.MessageTypeRequest, false, nic6)
	otherServer.AddOption(dhcpv6.OptServerID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 2}}))
	if n, ev, err := s.Handle(out, frame(otherServer)); n != 0 || ev.Kind != lease.None || err != nil {
		t.Errorf("Request for another server: n=%d event %v err %v", n, ev.Kind, err)
	}

	noCID := message(dhcpv6.MessageTypeRequest, true, nic6)
	noCID.Options.Del(dhcpv6.OptionClientID)
	irWithIA := message(dhcpv6.MessageTypeInformationRequest, false, nic6)
	spoofed := frame(solicit())
	spoofed[11] = 0x99
	elsewhere := packettest.UDP(nicMAC, gateway.MAC, nicLL, netip.MustParseAddr("fe80::9"), ClientPort, ServerPort, solicit().ToBytes())
	fromUnspecified := packettest.UDP(nicMAC, packet.IPv6MulticastMAC(gateway.AllDHCPAgents), netip.IPv6Unspecified(), gateway.AllDHCPAgents, ClientPort, ServerPort, solicit().ToBytes())
	advert := message(dhcpv6.MessageTypeAdvertise, true, nic6)
	relay := must(dhcpv6.EncapsulateRelay(solicit(), dhcpv6.MessageTypeRelayForward, net.IPv6zero, net.IP(nicLL.AsSlice())))
	relayFrame := packettest.UDP(nicMAC, packet.IPv6MulticastMAC(gateway.AllDHCPAgents), nicLL, gateway.AllDHCPAgents, ClientPort, ServerPort, relay.ToBytes())
	cases := map[string][]byte{
		"Solicit with server ID":     frame(message(dhcpv6.MessageTypeSolicit, true, nic6)),
		"Rebind with server ID":      frame(message(dhcpv6.MessageTypeRebind, true, nic6)),
		"Request without server ID":  frame(message(dhcpv6.MessageTypeRequest, false, nic6)),
		"Request without client ID":  frame(noCID),
		"Information-request + IA":   frame(irWithIA),
		"Advertise from a client":    frame(advert),
		"relay message":              relayFrame,
		"garbage":                    packettest.UDP(nicMAC, gateway.MAC, nicLL, gateway.AllDHCPAgents, ClientPort, ServerPort, []byte{1}),
		"spoofed MAC":                spoofed,
		"to another address":         elsewhere,
		"from the unspecified":       fromUnspecified,
		"not DHCPv6":                 packettest.ARP(packet.ARPRequest, nicMAC, netip.MustParseAddr("10.0.0.5"), packet.MAC{}, gateway.IPv4),
		"wrong port":                 packettest.UDP(nicMAC, gateway.MAC, nicLL, gateway.AllDHCPAgents, ClientPort, 548, solicit().ToBytes()),
		"Solicit without client ID?": packettest.UDP(nicMAC, gateway.MAC, nicLL, gateway.AllDHCPAgents, ClientPort, ServerPort, []byte{1, 0, 0, 1}),
	}
	for name, f := range cases {
		if n, ev, err := s.Handle(out, f); n != 0 || ev.Kind != lease.None || err == nil {
			t.Errorf("%s: n=%d event %v err %v", name, n, ev.Kind, err)
		}
	}
	if n, _, err := s.Handle(out[:80], frame(solicit())); n != 0 || err == nil {
		t.Errorf("too small output buffer: n=%d err=%v", n, err)
	}
}

func TestConfig(t *testing.T) {
	bad := []Config{
		{Addr: nic6},
		{MAC: nicMAC},
		{MAC: nicMAC, Addr: netip.MustParseAddr("10.0.0.5")},
		{MAC: nicMAC, Addr: nicLL},
		{MAC: nicMAC, Addr: nic6, PreferredLifetime: time.Second},
		{MAC: nicMAC, Addr: nic6, PreferredLifetime: 3 * time.Hour, ValidLifetime: time.Hour},
	}
	for _, c := range bad {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	s := newServer(t, Config{MAC: nicMAC, Addr: nic6, PreferredLifetime: 3 * time.Hour})
	if s.preferred != 3*time.Hour || s.valid != 3*time.Hour || len(s.info) != 0 || s.sntp != nil {
		t.Errorf("defaults: preferred %v valid %v info %v", s.preferred, s.valid, s.info)
	}
	if lease.Renewed.String() != "renewed" || lease.Kind(42).String() != "unknown" {
		t.Errorf("lease.Kind.String")
	}
	if l := (&rfc1035label.Labels{Labels: cfg.DomainSearch}).ToBytes(); len(l) == 0 {
		t.Errorf("domain search list does not encode")
	}
}
