package dataplane_test

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

var (
	broadcast4 = netip.MustParseAddr("255.255.255.255")
	// allDHCPAgents is All_DHCP_Relay_Agents_and_Servers, ff02::1:2.
	allDHCPAgents = netip.MustParseAddr("ff02::1:2")
)

// exchange4 sends the DHCPv4 client message m from src to dst (broadcast
// or the gateway), receives the answer and checks the frame carrying it
// (gateway to the NIC's MAC, IP destination wantDst, port 67 to 68) and
// what every reply carries (xid, chaddr, server identifier 169.254.0.1).
func exchange4(t *testing.T, g *vmm.Guest, nic nicUnderTest, m *dhcpv4.DHCPv4, src, dst, wantDst netip.Addr) *dhcpv4.DHCPv4 {
	t.Helper()
	dstMAC := gwMAC
	if dst == broadcast4 {
		dstMAC = packet.BroadcastMAC
	}
	if err := g.Send(packettest.UDP(nic.mac, dstMAC, src, dst, 68, 67, m.ToBytes())); err != nil {
		t.Fatal(err)
	}
	f := recv(t, g)
	p := packettest.Check(t, f)
	if p.IPProto != packet.ProtoUDP || p.SrcMAC != gwMAC || p.DstMAC != nic.mac || p.Src != gwIP || p.Dst != wantDst ||
		p.SrcPort != 67 || p.DstPort != 68 {
		t.Fatalf("answer to DHCP %s: %+v, want IP destination %v", m.MessageType(), p, wantDst)
	}
	resp, err := dhcpv4.FromBytes(packet.UDP(p.L4(f)).Payload())
	if err != nil {
		t.Fatalf("decoding answer to DHCP %s: %v", m.MessageType(), err)
	}
	if resp.OpCode != dhcpv4.OpcodeBootReply || resp.TransactionID != m.TransactionID ||
		!bytes.Equal(resp.ClientHWAddr, nic.mac[:]) {
		t.Errorf("reply op %v xid %v chaddr %v", resp.OpCode, resp.TransactionID, resp.ClientHWAddr)
	}
	if sid := resp.ServerIdentifier(); !sid.Equal(gwIP.AsSlice()) {
		t.Errorf("server identifier %v", sid)
	}
	return resp
}

// checkLease4 checks an OFFER or ACK: the NIC's /32, the gateway as router
// made reachable on-link by option 121, the DNS and NTP servers, a lease
// time.
func checkLease4(t *testing.T, resp *dhcpv4.DHCPv4, typ dhcpv4.MessageType, nic nicUnderTest, dns, ntp []netip.Addr) {
	t.Helper()
	if resp.MessageType() != typ {
		t.Fatalf("got %s, want %s", resp.MessageType(), typ)
	}
	if !resp.YourIPAddr.Equal(nic.ip.AsSlice()) {
		t.Errorf("yiaddr %v, want %v", resp.YourIPAddr, nic.ip)
	}
	if m := resp.SubnetMask(); !bytes.Equal(m, net.CIDRMask(32, 32)) {
		t.Errorf("subnet mask %v", net.IP(m))
	}
	if r := addrs(resp.Router()); !slices.Equal(r, []netip.Addr{gwIP}) {
		t.Errorf("router %v", r)
	}
	// RFC 3442: 169.254.0.1/32 on-link (router 0.0.0.0), 0.0.0.0/0 via it.
	want121 := []byte{32, 169, 254, 0, 1, 0, 0, 0, 0, 0, 169, 254, 0, 1}
	if got := resp.Options.Get(dhcpv4.OptionClasslessStaticRoute); !bytes.Equal(got, want121) {
		t.Errorf("option 121 % x, want % x", got, want121)
	}
	if got := addrs(resp.DNS()); !slices.Equal(got, dns) {
		t.Errorf("DNS %v, want %v", got, dns)
	}
	if got := addrs(resp.NTPServers()); !slices.Equal(got, ntp) {
		t.Errorf("NTP %v, want %v", got, ntp)
	}
	if !resp.Options.Has(dhcpv4.OptionIPAddressLeaseTime) || resp.IPAddressLeaseTime(0) <= 0 {
		t.Errorf("lease time %v", resp.IPAddressLeaseTime(0))
	}
}

// dhcp4Bind runs DISCOVER, OFFER, REQUEST, ACK and returns the ACK.
func dhcp4Bind(t *testing.T, d *daemon.Daemon, g *vmm.Guest, nic nicUnderTest) *dhcpv4.DHCPv4 {
	t.Helper()
	dns, ntp := networkServers(t, d, nic, false)
	zero := netip.IPv4Unspecified()
	disc, err := dhcpv4.NewDiscovery(nic.mac[:], dhcpv4.WithOption(dhcpv4.OptHostName("vm1")))
	if err != nil {
		t.Fatal(err)
	}
	// Without the broadcast flag the answer goes to yiaddr.
	offer := exchange4(t, g, nic, disc, zero, broadcast4, nic.ip)
	checkLease4(t, offer, dhcpv4.MessageTypeOffer, nic, dns, ntp)

	req, err := dhcpv4.NewRequestFromOffer(offer, dhcpv4.WithOption(dhcpv4.OptHostName("vm1")))
	if err != nil {
		t.Fatal(err)
	}
	if !req.ServerIdentifier().Equal(gwIP.AsSlice()) || !req.RequestedIPAddress().Equal(nic.ip.AsSlice()) {
		t.Fatalf("REQUEST built with server id %v requested %v", req.ServerIdentifier(), req.RequestedIPAddress())
	}
	ack := exchange4(t, g, nic, req, zero, broadcast4, nic.ip)
	checkLease4(t, ack, dhcpv4.MessageTypeAck, nic, dns, ntp)
	waitLease(t, d, nic, false, "bound")
	return ack
}

// renew4 returns the REQUEST of a client in RENEWING state: ciaddr set, no
// server identifier or requested address, unicast.
func renew4(t *testing.T, ack *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	t.Helper()
	m, err := dhcpv4.NewRenewFromAck(ack)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDHCPv4 walks a client through DORA, RENEW, wrong REQUESTs and
// RELEASE.
func TestDHCPv4(t *testing.T) {
	d, nic, g := setupServices(t)
	dns, ntp := networkServers(t, d, nic, false)
	ack := dhcp4Bind(t, d, g, nic)

	ack = exchange4(t, g, nic, renew4(t, ack), nic.ip, gwIP, nic.ip)
	checkLease4(t, ack, dhcpv4.MessageTypeAck, nic, dns, ntp)
	if !ack.ClientIPAddr.Equal(nic.ip.AsSlice()) {
		t.Errorf("RENEW ACK ciaddr %v", ack.ClientIPAddr)
	}
	waitLease(t, d, nic, false, "renewed")

	wrong := dhcpv4.OptRequestedIPAddress(net.IPv4(10, 0, 0, 99))
	for _, tc := range []struct {
		name string
		mods []dhcpv4.Modifier
	}{
		{"SELECTING", []dhcpv4.Modifier{dhcpv4.WithOption(wrong), dhcpv4.WithOption(dhcpv4.OptServerIdentifier(gwIP.AsSlice()))}},
		{"INIT-REBOOT", []dhcpv4.Modifier{dhcpv4.WithOption(wrong)}},
	} {
		t.Run("NAK in "+tc.name, func(t *testing.T) {
			req, err := dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithHwAddr(nic.mac[:]),
				dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest)}, tc.mods...)...)
			if err != nil {
				t.Fatal(err)
			}
			// RFC 2131 §4.1: a NAK is broadcast.
			nak := exchange4(t, g, nic, req, netip.IPv4Unspecified(), broadcast4, broadcast4)
			if nak.MessageType() != dhcpv4.MessageTypeNak || !nak.YourIPAddr.IsUnspecified() ||
				nak.Options.Has(dhcpv4.OptionIPAddressLeaseTime) {
				t.Errorf("NAK: %s", nak.Summary())
			}
		})
	}

	rel, err := dhcpv4.NewReleaseFromACK(ack)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(packettest.UDP(nic.mac, gwMAC, nic.ip, gwIP, 68, 67, rel.ToBytes())); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, g)
	waitLease(t, d, nic, false, "released")
}

// solicit6 returns a SOLICIT from the NIC, with rapid commit if rapid.
func solicit6(t *testing.T, nic nicUnderTest, rapid bool) *dhcpv6.Message {
	t.Helper()
	var mods []dhcpv6.Modifier
	if rapid {
		mods = append(mods, dhcpv6.WithRapidCommit)
	}
	m, err := dhcpv6.NewSolicit(nic.mac[:], mods...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// renew6 returns a RENEW for the binding a REPLY made.
func renew6(t *testing.T, reply *dhcpv6.Message) *dhcpv6.Message {
	t.Helper()
	m, err := dhcpv6.NewMessage()
	if err != nil {
		t.Fatal(err)
	}
	m.MessageType = dhcpv6.MessageTypeRenew
	m.AddOption(dhcpv6.OptClientID(reply.Options.ClientID()))
	m.AddOption(dhcpv6.OptServerID(reply.Options.ServerID()))
	m.AddOption(dhcpv6.OptElapsedTime(0))
	m.AddOption(reply.Options.OneIANA())
	return m
}

// exchange6 sends m from the NIC's link-local address to ff02::1:2,
// receives the answer and checks the frame carrying it (fe80::1 and the
// gateway's MAC to the asker, port 547 to 546) and what every answer
// carries (xid, client identifier, a server identifier).
func exchange6(t *testing.T, g *vmm.Guest, nic nicUnderTest, m *dhcpv6.Message) *dhcpv6.Message {
	t.Helper()
	ll := linkLocal(nic.mac)
	if err := g.Send(packettest.UDP(nic.mac, packet.IPv6MulticastMAC(allDHCPAgents), ll, allDHCPAgents, 546, 547, m.ToBytes())); err != nil {
		t.Fatal(err)
	}
	f := recv(t, g)
	p := packettest.Check(t, f)
	if p.IPProto != packet.ProtoUDP || p.SrcMAC != gwMAC || p.DstMAC != nic.mac || p.Src != gwIP6 || p.Dst != ll ||
		p.SrcPort != 547 || p.DstPort != 546 {
		t.Fatalf("answer to DHCPv6 %s: %+v", m.MessageType, p)
	}
	resp, err := dhcpv6.MessageFromBytes(packet.UDP(p.L4(f)).Payload())
	if err != nil {
		t.Fatalf("decoding answer to DHCPv6 %s: %v", m.MessageType, err)
	}
	if resp.TransactionID != m.TransactionID {
		t.Errorf("xid %v, want %v", resp.TransactionID, m.TransactionID)
	}
	if cid := resp.Options.ClientID(); cid == nil || !cid.Equal(m.Options.ClientID()) {
		t.Errorf("client identifier %v, want %v", cid, m.Options.ClientID())
	}
	if resp.Options.ServerID() == nil {
		t.Error("no server identifier")
	}
	return resp
}

// checkBinding6 checks an ADVERTISE or REPLY: the NIC's /128 in the IA_NA,
// the DNS and NTP servers.
func checkBinding6(t *testing.T, resp *dhcpv6.Message, typ dhcpv6.MessageType, nic nicUnderTest, dns, ntp []netip.Addr) {
	t.Helper()
	if resp.MessageType != typ {
		t.Fatalf("got %s, want %s", resp.MessageType, typ)
	}
	if st := resp.Options.Status(); st != nil && st.StatusCode != 0 {
		t.Errorf("status %v", st)
	}
	ia := resp.Options.OneIANA()
	if ia == nil {
		t.Fatalf("no IA_NA in %s", resp.Summary())
	}
	addr := ia.Options.OneAddress()
	if addr == nil || !addr.IPv6Addr.Equal(nic.ip6.AsSlice()) || addr.PreferredLifetime <= 0 ||
		addr.ValidLifetime < addr.PreferredLifetime {
		t.Errorf("IA_NA %v, want %v", ia, nic.ip6)
	}
	if st := ia.Options.Status(); st != nil && st.StatusCode != 0 {
		t.Errorf("IA_NA status %v", st)
	}
	if got := addrs(resp.Options.DNS()); !slices.Equal(got, dns) {
		t.Errorf("DNS %v, want %v", got, dns)
	}
	if got := addrs(resp.Options.NTPServers()); !slices.Equal(got, ntp) {
		t.Errorf("NTP %v, want %v", got, ntp)
	}
}

// TestDHCPv6 walks a client through SOLICIT, ADVERTISE, REQUEST, REPLY
// and a rapid-commit SOLICIT.
func TestDHCPv6(t *testing.T) {
	d, nic, g := setupServices(t)
	dns, ntp := networkServers(t, d, nic, true)

	sol := solicit6(t, nic, false)
	adv := exchange6(t, g, nic, sol)
	checkBinding6(t, adv, dhcpv6.MessageTypeAdvertise, nic, dns, ntp)
	if got, want := adv.Options.OneIANA().IaId, sol.Options.OneIANA().IaId; got != want {
		t.Errorf("IAID %x, want %x", got, want)
	}
	adv2 := exchange6(t, g, nic, solicit6(t, nic, false))
	if !adv2.Options.ServerID().Equal(adv.Options.ServerID()) {
		t.Errorf("server DUID changed between solicits: %v, then %v", adv.Options.ServerID(), adv2.Options.ServerID())
	}

	req, err := dhcpv6.NewRequestFromAdvertise(adv2)
	if err != nil {
		t.Fatal(err)
	}
	reply := exchange6(t, g, nic, req)
	checkBinding6(t, reply, dhcpv6.MessageTypeReply, nic, dns, ntp)
	if !reply.Options.ServerID().Equal(adv.Options.ServerID()) {
		t.Errorf("server DUID of the REPLY %v, of the ADVERTISE %v", reply.Options.ServerID(), adv.Options.ServerID())
	}
	waitLease(t, d, nic, true, "bound")

	reply = exchange6(t, g, nic, solicit6(t, nic, true))
	checkBinding6(t, reply, dhcpv6.MessageTypeReply, nic, dns, ntp)
	if reply.GetOneOption(dhcpv6.OptionRapidCommit) == nil {
		t.Error("rapid-commit REPLY without the rapid commit option")
	}
}
