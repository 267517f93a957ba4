package dataplane_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"

	"mvirt-net/actors"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

var (
	// gwIP6 is the gateway's IPv6 address, gwLinkLocal its EUI-64
	// link-local address.
	gwIP6       = netip.MustParseAddr("fe80::1")
	gwLinkLocal = netip.MustParseAddr("fe80::ff:fe00:1")
	allRouters  = netip.MustParseAddr("ff02::2")
)

// servicesNetwork is a dual-stack network with DNS and NTP servers of both
// families.
func servicesNetwork() *netpb.CreateNetworkRequest {
	return &netpb.CreateNetworkRequest{
		Name: "services", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64",
		DnsServers: []string{"10.0.0.53", "fd00::53", "192.0.2.54", "fd00::54"},
		NtpServers: []string{"10.0.0.123", "fd00::123"},
	}
}

// setupServices starts a daemon with the services network and one NIC, and
// connects a guest to it.
func setupServices(t *testing.T) (*daemon.Daemon, nicUnderTest, *vmm.Guest) {
	t.Helper()
	d, nics := setupNetwork(t, servicesNetwork(), 1)
	return d, nics[0], connect(t, nics[0], vmm.GuestConfig{})
}

// networkServers returns the DNS and NTP servers of one family (IPv6 if
// v6) that the NIC's network has, as the API reports them; the network
// must have both.
func networkServers(t *testing.T, d *daemon.Daemon, nic nicUnderTest, v6 bool) (dns, ntp []netip.Addr) {
	t.Helper()
	n, err := d.Client.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Id{Id: nic.NetworkId}})
	if err != nil {
		t.Fatal(err)
	}
	dns, ntp = parseServers(t, n.DnsServers, v6), parseServers(t, n.NtpServers, v6)
	if len(dns) == 0 || len(ntp) == 0 {
		t.Fatalf("network %s lacks DNS or NTP servers: %v, %v", n.Id, n.DnsServers, n.NtpServers)
	}
	return dns, ntp
}

// parseServers returns the addresses of one family among ss.
func parseServers(t *testing.T, ss []string, v6 bool) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil {
			t.Fatalf("server %q: %v", s, err)
		}
		if a.Is6() == v6 {
			out = append(out, a)
		}
	}
	return out
}

// addrs converts IPs decoded by the dhcp packages for comparison.
func addrs(ips []net.IP) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		a, _ := netip.AddrFromSlice(ip)
		out = append(out, a.Unmap())
	}
	return out
}

// linkLocal returns the modified EUI-64 link-local address of mac.
func linkLocal(mac packet.MAC) netip.Addr {
	return netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 8: mac[0] ^ 2, 9: mac[1], 10: mac[2], 11: 0xff, 12: 0xfe, 13: mac[3], 14: mac[4], 15: mac[5]})
}

// solicitedNode returns the solicited-node multicast group of a.
func solicitedNode(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

// waitLease waits until the daemon logs the lease event (bound, renewed,
// released) of the NIC's DHCPv4 or DHCPv6 client: the NetworkActor logs it
// once the lease is stored.
func waitLease(t *testing.T, d *daemon.Daemon, nic nicUnderTest, v6 bool, event string) {
	t.Helper()
	want := []string{`msg="dhcp lease"`, "nic=" + nic.Id, "event=" + event}
	if v6 {
		want = append(want, "ipv6=true")
	} else {
		want = append(want, "ipv6=false")
	}
	logged := func(line string) bool {
		for _, w := range want {
			if !strings.Contains(line, w) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		for line := range strings.Lines(d.Log()) {
			if logged(line) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// drops reads the NIC's drop counters from /debug/actors.
func drops(t *testing.T, d *daemon.Daemon, nicID string) map[string]uint64 {
	t.Helper()
	var root actors.ActorInfo
	if err := json.Unmarshal([]byte(d.DebugGet("/debug/actors")), &root); err != nil {
		t.Fatalf("/debug/actors: %v", err)
	}
	if n := findNic(&root, nicID); n != nil && n.Stats != nil {
		return n.Stats.Drops
	}
	t.Fatalf("no counters of NIC %s in /debug/actors", nicID)
	return nil
}

func findNic(a *actors.ActorInfo, nicID string) *actors.ActorInfo {
	if a.Kind == actors.KindNic && a.NicID == nicID {
		return a
	}
	for _, c := range a.Children {
		if n := findNic(c, nicID); n != nil {
			return n
		}
	}
	return nil
}

// ping6 sends an ICMPv6 echo request from src to dst (a gateway address)
// and checks the reply.
func ping6(t *testing.T, g *vmm.Guest, nic nicUnderTest, src, dst netip.Addr, seq uint16) {
	t.Helper()
	echo := packettest.Echo(7, seq, []byte("mvirt-net ping6"))
	if err := g.Send(packettest.ICMPv6(nic.mac, gwMAC, src, dst, 64, packet.ICMPv6EchoRequest, 0, echo)); err != nil {
		t.Fatal(err)
	}
	f := recv(t, g)
	p := packettest.Check(t, f)
	if p.ICMPType != packet.ICMPv6EchoReply || p.Src != dst || p.Dst != src || p.SrcMAC != gwMAC || p.DstMAC != nic.mac ||
		!bytes.Equal(p.L4(f)[4:], echo) {
		t.Fatalf("echo reply to %v -> %v: %+v", src, dst, p)
	}
}

// sourceLinkLayer returns a source link-layer address option.
func sourceLinkLayer(mac packet.MAC) []byte {
	o := make([]byte, packet.NDPLinkLayerOptionLen)
	packet.PutNDPLinkLayerOption(o, packet.NDPOptSourceLinkLayer, mac)
	return o
}

// routerSolicit returns a Router Solicitation from the NIC's link-local
// address to all routers, with its source link-layer address.
func routerSolicit(nic nicUnderTest) []byte {
	body := append(make([]byte, 4), sourceLinkLayer(nic.mac)...)
	return packettest.ICMPv6(nic.mac, packet.IPv6MulticastMAC(allRouters), linkLocal(nic.mac), allRouters,
		packet.NDPHopLimit, packet.ICMPv6RouterSolicit, 0, body)
}

// neighborSolicit returns a Neighbor Solicitation for target from src to
// dst, with the NIC's source link-layer address unless src is :: (DAD).
func neighborSolicit(nic nicUnderTest, src, dst, target netip.Addr) []byte {
	body := append(make([]byte, 4), target.AsSlice()...)
	if !src.IsUnspecified() {
		body = append(body, sourceLinkLayer(nic.mac)...)
	}
	dstMAC := gwMAC
	if dst.IsMulticast() {
		dstMAC = packet.IPv6MulticastMAC(dst)
	}
	return packettest.ICMPv6(nic.mac, dstMAC, src, dst, packet.NDPHopLimit, packet.ICMPv6NeighborSolicit, 0, body)
}

// solicitRA sends a Router Solicitation and returns the Router
// Advertisement answering it, after checking the frame carrying it and the
// fixed parts: M=1, O=1, a router lifetime, the gateway's link-layer
// address.
func solicitRA(t *testing.T, g *vmm.Guest, nic nicUnderTest) packet.NDPRouterAdvert {
	t.Helper()
	if err := g.Send(routerSolicit(nic)); err != nil {
		t.Fatal(err)
	}
	f := recv(t, g)
	p := packettest.Check(t, f)
	if p.ICMPType != packet.ICMPv6RouterAdvert || p.SrcMAC != gwMAC || p.DstMAC != nic.mac ||
		p.Src != gwIP6 || p.Dst != linkLocal(nic.mac) || p.TTL != packet.NDPHopLimit {
		t.Fatalf("answer to RS: %+v", p)
	}
	ra := packet.NDPRouterAdvert(p.L4(f))
	if len(ra) < packet.NDPRouterAdvertLen || !ra.Options().IsValid() {
		t.Fatalf("RA malformed: % x", ra)
	}
	if want := packet.NDPFlagManaged | packet.NDPFlagOtherConfig; ra.Flags()&want != want {
		t.Errorf("RA flags %#02x, want M and O", ra.Flags())
	}
	if ra.RouterLifetime() == 0 {
		t.Error("RA router lifetime 0: the gateway would not be a default router")
	}
	if mac, ok := ra.Options().SourceLinkLayer(); !ok || mac != gwMAC {
		t.Errorf("RA source link-layer address %v (present %v)", mac, ok)
	}
	return ra
}

// checkRDNSS checks the RA's Recursive DNS Server option (RFC 8106) lists
// exactly dns with a non-zero lifetime.
func checkRDNSS(t *testing.T, ra packet.NDPRouterAdvert, dns []netip.Addr) {
	t.Helper()
	b, ok := ra.Options().Find(packet.NDPOptRDNSS)
	if !ok || len(b) < 6 || (len(b)-6)%16 != 0 {
		t.Fatalf("RA RDNSS option % x (present %v)", b, ok)
	}
	if binary.BigEndian.Uint32(b[2:6]) == 0 {
		t.Error("RDNSS lifetime 0")
	}
	var got []netip.Addr
	for a := b[6:]; len(a) > 0; a = a[16:] {
		got = append(got, netip.AddrFrom16([16]byte(a[:16])))
	}
	if !slices.Equal(got, dns) {
		t.Errorf("RDNSS %v, want %v", got, dns)
	}
}

// TestRouterAndNeighborDiscovery: an RS gets an RA (M, O, DNS), an NS for
// the gateway a NA with its MAC, and duplicate address detection of the
// NIC's own addresses hears nothing.
func TestRouterAndNeighborDiscovery(t *testing.T) {
	d, nic, g := setupServices(t)
	ll := linkLocal(nic.mac)

	dns, _ := networkServers(t, d, nic, true)
	checkRDNSS(t, solicitRA(t, g, nic), dns)

	other6 := netip.MustParseAddr("fd00::77")

	const solicitedNA = packet.NDPFlagRouter | packet.NDPFlagSolicited | packet.NDPFlagOverride
	for _, tc := range []struct {
		name             string
		src, dst, target netip.Addr
		// answered says whether a NA must come, from naSrc to naDst with
		// flags; otherwise nothing may.
		answered     bool
		naSrc, naDst netip.Addr
		flags        uint8
	}{
		{"resolve fe80::1", ll, solicitedNode(gwIP6), gwIP6, true, gwIP6, ll, solicitedNA},
		{"probe fe80::1 unicast", ll, gwIP6, gwIP6, true, gwIP6, ll, solicitedNA},
		{"resolve fe80::1 from the /128", nic.ip6, solicitedNode(gwIP6), gwIP6, true, gwIP6, nic.ip6, solicitedNA},
		{"resolve the gateway's EUI-64 address", ll, solicitedNode(gwLinkLocal), gwLinkLocal, true, gwLinkLocal, ll, solicitedNA},
		// The gateway is the only neighbour: it answers for any other address.
		{"resolve another address", ll, solicitedNode(other6), other6, true, gwIP6, ll, solicitedNA},
		{"resolve its own /128", ll, solicitedNode(nic.ip6), nic.ip6, false, netip.Addr{}, netip.Addr{}, 0},
		{"DAD of the NIC's /128", netip.IPv6Unspecified(), solicitedNode(nic.ip6), nic.ip6, false, netip.Addr{}, netip.Addr{}, 0},
		{"DAD of the NIC's link-local", netip.IPv6Unspecified(), solicitedNode(ll), ll, false, netip.Addr{}, netip.Addr{}, 0},
		// The gateway defends its own address, to all nodes.
		{"DAD of fe80::1", netip.IPv6Unspecified(), solicitedNode(gwIP6), gwIP6, true, gwIP6, allNodes,
			packet.NDPFlagRouter | packet.NDPFlagOverride},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := g.Send(neighborSolicit(nic, tc.src, tc.dst, tc.target)); err != nil {
				t.Fatal(err)
			}
			if !tc.answered {
				expectNothing(t, g)
				return
			}
			f := recv(t, g)
			p := packettest.Check(t, f)
			wantMAC := nic.mac
			if tc.naDst.IsMulticast() {
				wantMAC = packet.IPv6MulticastMAC(tc.naDst)
			}
			if p.ICMPType != packet.ICMPv6NeighborAdvert || p.SrcMAC != gwMAC || p.DstMAC != wantMAC ||
				p.Src != tc.naSrc || p.Dst != tc.naDst || p.TTL != packet.NDPHopLimit {
				t.Fatalf("answer to NS: %+v", p)
			}
			na := packet.NDPNeighborAdvert(p.L4(f))
			if len(na) < packet.NDPNeighborAdvertLen {
				t.Fatalf("NA too short: % x", na)
			}
			if na.Target() != tc.target || na.Flags() != tc.flags {
				t.Errorf("NA target %v flags %#02x, want %v %#02x", na.Target(), na.Flags(), tc.target, tc.flags)
			}
			if mac, ok := na.Options().TargetLinkLayer(); !ok || mac != gwMAC {
				t.Errorf("NA target link-layer address %v (present %v)", mac, ok)
			}
		})
	}
}

// TestAntiSpoofing sends frames from addresses that are not the NIC's:
// none is answered and each is counted under its reason, while the NIC's
// own addresses keep working.
func TestAntiSpoofing(t *testing.T) {
	d, nic, g := setupServices(t)
	ll := linkLocal(nic.mac)
	seq := uint16(0)
	legit := func(t *testing.T) {
		t.Helper()
		seq++
		pingGateway(t, g, nic, seq)
		ping6(t, g, nic, nic.ip6, gwIP6, seq)
		ping6(t, g, nic, ll, gwIP6, seq)
		ping6(t, g, nic, ll, gwLinkLocal, seq)
	}
	legit(t)
	for reason, n := range drops(t, d, nic.Id) {
		if n != 0 {
			t.Errorf("legitimate traffic dropped: %s = %d", reason, n)
		}
	}

	foreignMAC := packet.MAC{0x02, 0, 0, 0, 0x99, 0x99}
	foreign4 := netip.MustParseAddr("10.0.0.99")
	foreign6 := netip.MustParseAddr("fd00::99")
	echo := packettest.Echo(9, 1, []byte("spoofed"))
	for _, tc := range []struct {
		name   string
		frame  []byte
		reason string
	}{
		{"foreign source MAC, IPv4", packettest.ICMPv4(foreignMAC, gwMAC, nic.ip, gwIP, 8, 0, echo), "spoofed_mac"},
		{"foreign source MAC, IPv6", packettest.ICMPv6(foreignMAC, gwMAC, ll, gwIP6, 64, packet.ICMPv6EchoRequest, 0, echo), "spoofed_mac"},
		{"foreign IPv4 source", packettest.ICMPv4(nic.mac, gwMAC, foreign4, gwIP, 8, 0, echo), "spoofed_ipv4"},
		{"ARP from a foreign IPv4 address", packettest.ARP(packet.ARPRequest, nic.mac, foreign4, packet.MAC{}, gwIP), "spoofed_ipv4"},
		{"unspecified IPv4 source, not DHCP", packettest.ICMPv4(nic.mac, gwMAC, netip.IPv4Unspecified(), gwIP, 8, 0, echo), "spoofed_ipv4"},
		{"foreign IPv6 source", packettest.ICMPv6(nic.mac, gwMAC, foreign6, gwIP6, 64, packet.ICMPv6EchoRequest, 0, echo), "spoofed_ipv6"},
		// :: is a source for DAD and router solicitation only.
		{"unspecified IPv6 source, echo to fe80::1", packettest.ICMPv6(nic.mac, gwMAC, netip.IPv6Unspecified(), gwIP6, 64, packet.ICMPv6EchoRequest, 0, echo), "spoofed_ipv6"},
		{"unspecified IPv6 source, ICMPv6 to another VM", packettest.ICMPv6(nic.mac, gwMAC, netip.IPv6Unspecified(), netip.MustParseAddr("fd00::77"), 64, packet.ICMPv6EchoRequest, 0, echo), "spoofed_ipv6"},
		{"unspecified IPv6 source, UDP", packettest.UDP(nic.mac, gwMAC, netip.IPv6Unspecified(), netip.MustParseAddr("fd00::77"), 5000, 53, []byte("q")), "spoofed_ipv6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := drops(t, d, nic.Id)
			if err := g.Send(tc.frame); err != nil {
				t.Fatal(err)
			}
			expectNothing(t, g)
			legit(t) // answered after the spoofed frame, so it was handled
			after := drops(t, d, nic.Id)
			for reason, n := range after {
				want := before[reason]
				if reason == tc.reason {
					want++
				}
				if n != want {
					t.Errorf("drops %s: %d -> %d, want %d", reason, before[reason], n, want)
				}
			}
			if _, ok := after[tc.reason]; !ok {
				t.Errorf("no drop reason %q in %v", tc.reason, after)
			}
		})
	}
}

// TestLiveDNSUpdate changes the network's DNS servers under a bound guest:
// the next DHCPv4 ACK, DHCPv6 Reply and RA carry the new ones.
func TestLiveDNSUpdate(t *testing.T) {
	d, nic, g := setupServices(t)
	ack := dhcp4Bind(t, d, g, nic)
	reply := exchange6(t, g, nic, solicit6(t, nic, true))
	dns6, ntp6 := networkServers(t, d, nic, true)
	checkBinding6(t, reply, dhcpv6.MessageTypeReply, nic, dns6, ntp6)
	checkRDNSS(t, solicitRA(t, g, nic), dns6)

	newDNS := []string{"10.0.0.153", "fd00::153"}
	_, err := d.Client.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{
		Id: nic.NetworkId, DnsServers: newDNS, NtpServers: servicesNetwork().NtpServers,
	})
	if err != nil {
		t.Fatal(err)
	}
	want4, want6 := parseServers(t, newDNS, false), parseServers(t, newDNS, true)
	if dns4, _ := networkServers(t, d, nic, false); !slices.Equal(dns4, want4) {
		t.Fatalf("network DNS after update: %v", dns4)
	}

	ack = exchange4(t, g, nic, renew4(t, ack), nic.ip, gwIP, nic.ip)
	_, ntp4 := networkServers(t, d, nic, false)
	checkLease4(t, ack, dhcpv4.MessageTypeAck, nic, want4, ntp4)
	checkBinding6(t, exchange6(t, g, nic, renew6(t, reply)), dhcpv6.MessageTypeReply, nic, want6, ntp6)
	checkRDNSS(t, solicitRA(t, g, nic), want6)
}
