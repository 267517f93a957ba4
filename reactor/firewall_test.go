package reactor

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"mvirt-net/reactor/conntrack"
	"mvirt-net/reactor/filter"
	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/reactor/route"
)

// guard gives n a security-group filter and a connection table of size
// entries, as Start does, and returns where to publish its matcher.
func guard(n *testNic, size int) *Filter {
	pub := &Filter{}
	n.r.fw = firewall{pub: pub, size: size}
	return pub
}

// TestConntrackTableMadeAtFirstFilter checks that a NIC gets its
// connection table only with its first security group, and keeps it
// (with its connections) when the group goes and comes back.
func TestConntrackTableMadeAtFirstFilter(t *testing.T) {
	a, b := pair(t)
	pub := guard(b, 64)
	frame := udpPorts(a, b, 4000, 5000)
	if !send(t, a, b, frame) || b.r.fw.table != nil {
		t.Fatalf("without a group: frame passed, table %v; want passed and no table", b.r.fw.table)
	}
	pub.Store(filter.Compile([]filter.Rule{allowUDP5000}))
	if !send(t, a, b, frame) || b.r.fw.table == nil || b.r.fw.table.Cap() != 64 {
		t.Fatalf("with a group: the frame must pass and the table hold 64 entries, got %v", b.r.fw.table)
	}
	table := b.r.fw.table
	pub.Store(nil)
	send(t, a, b, frame)
	pub.Store(filter.Compile([]filter.Rule{allowUDP5000}))
	if !send(t, a, b, frame) || b.r.fw.table != table {
		t.Fatal("the table was made anew when the group came back")
	}
}

// rules100 is a group of 100 rules: 99 that do not match the test's
// traffic, and extra.
func rules100(extra filter.Rule) []filter.Rule {
	out := []filter.Rule{extra}
	for i := range 99 {
		out = append(out, filter.Rule{
			Direction: filter.Ingress, Protocol: filter.ProtoTCP, PortStart: uint16(10000 + 10*i), PortEnd: uint16(10005 + 10*i),
			CIDR: netip.MustParsePrefix(fmt.Sprintf("198.51.100.%d/32", i)),
		})
	}
	return out
}

var allowUDP5000 = filter.Rule{Direction: filter.Ingress, Protocol: filter.ProtoUDP, PortStart: 5000, PortEnd: 5000}

// udpPorts is a UDP frame from a to b between the given ports.
func udpPorts(a, b *testNic, sp, dp uint16) []byte {
	return packettest.UDP(a.mac, gateway.MAC, a.ip, b.ip, sp, dp, make([]byte, 22))
}

// send routes one frame from a to b and reports whether b received it.
func send(t *testing.T, a, b *testNic, frame []byte) bool {
	t.Helper()
	fill(t, a, frame, 1)
	a.r.processTx()
	b.r.drainInboxFrames()
	a.r.reapTx()
	return drain(t, a, b) == 1
}

func drops(n *testNic, why DropReason) uint64 { return n.r.cfg.Stats.Drops[why].Load() }

// TestFilteredRoutedFrameAllocatesNothing is TestRoutedFrameAllocatesNothing
// with a group of 100 rules on both NICs: the frames of one tracked flow
// cost no allocation either.
func TestFilteredRoutedFrameAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, size := range []int{128, 1500} {
		a, b := pair(t)
		guard(a, 1024).Store(filter.Compile(rules100(allowUDP5000)))
		guard(b, 1024).Store(filter.Compile(rules100(allowUDP5000)))
		const batch = 64
		var before, after runtime.MemStats
		mallocs := uint64(0)
		frame := udp(a, b, size)
		for i := range 20 {
			fill(t, a, frame, batch)
			runtime.ReadMemStats(&before)
			a.r.processTx()
			b.r.drainInboxFrames()
			a.r.reapTx()
			runtime.ReadMemStats(&after)
			if i >= 2 {
				mallocs += after.Mallocs - before.Mallocs
			}
			if got := drain(t, a, b); got != batch {
				t.Fatalf("%d B, round %d: B received %d of %d frames; drops %+v", size, i, got, batch, b.r.cfg.Stats.Snapshot().Drops)
			}
		}
		if perRound := mallocs / 18; perRound != 0 {
			t.Fatalf("%d heap allocations per round of %d filtered %d-byte frames", perRound, batch, size)
		}
	}
}

// TestStateful: a NIC whose group allows nothing in still gets the
// replies of what it opened, and nothing else.
func TestStateful(t *testing.T) {
	a, b := pair(t)
	guard(a, 64)
	guard(b, 64).Store(filter.Compile(nil))
	if send(t, a, b, udpPorts(a, b, 4000, 5000)) {
		t.Fatal("ingress without a rule reached B")
	}
	if drops(b, DropSGIngressDenied) != 1 {
		t.Fatalf("sg_ingress_denied %d", drops(b, DropSGIngressDenied))
	}
	if !send(t, b, a, udpPorts(b, a, 6000, 7000)) {
		t.Fatal("B's own connection did not leave")
	}
	if !send(t, a, b, udpPorts(a, b, 7000, 6000)) {
		t.Fatal("the reply to B's connection did not come in")
	}
	if send(t, a, b, udpPorts(a, b, 7000, 6001)) {
		t.Fatal("another port passed as a reply")
	}
}

// TestRuleChanges: a rule added lets the next connection in; removed, it
// keeps the tracked connection and refuses the next new one.
func TestRuleChanges(t *testing.T) {
	a, b := pair(t)
	pub := guard(b, 64)
	pub.Store(filter.Compile(nil))
	if send(t, a, b, udpPorts(a, b, 4000, 5000)) {
		t.Fatal("passed before the rule")
	}
	pub.Store(filter.Compile([]filter.Rule{allowUDP5000}))
	if !send(t, a, b, udpPorts(a, b, 4000, 5000)) {
		t.Fatal("the rule did not let the next connection in")
	}
	pub.Store(filter.Compile(nil))
	if !send(t, a, b, udpPorts(a, b, 4000, 5000)) {
		t.Fatal("removing the rule dropped the tracked connection")
	}
	if send(t, a, b, udpPorts(a, b, 4001, 5000)) {
		t.Fatal("a new connection passed after the rule was removed")
	}
	pub.Store(nil)
	if !send(t, a, b, udpPorts(a, b, 4002, 5000)) {
		t.Fatal("detaching every group must let everything in")
	}
}

// TestEgressRules: with an egress rule only what it allows leaves (plus
// replies to what came in).
func TestEgressRules(t *testing.T) {
	a, b := pair(t)
	guard(b, 64)
	guard(a, 64).Store(filter.Compile([]filter.Rule{
		{Direction: filter.Egress, Protocol: filter.ProtoUDP, PortStart: 53, PortEnd: 53},
		{Direction: filter.Ingress, Protocol: filter.ProtoUDP, PortStart: 9000, PortEnd: 9000},
	}))
	if send(t, a, b, udpPorts(a, b, 4000, 5000)) || drops(a, DropSGEgressDenied) != 1 {
		t.Fatalf("egress without a rule left A (sg_egress_denied %d)", drops(a, DropSGEgressDenied))
	}
	if !send(t, a, b, udpPorts(a, b, 4000, 53)) {
		t.Fatal("egress rule did not let DNS out")
	}
	if !send(t, b, a, udpPorts(b, a, 1234, 9000)) || !send(t, a, b, udpPorts(a, b, 9000, 1234)) {
		t.Fatal("the reply to a connection allowed in did not leave")
	}
}

// TestConntrackFull: a NIC that opens more connections than its table
// holds has the rest dropped and counted, and the tracked ones still pass.
func TestConntrackFull(t *testing.T) {
	a, b := pair(t)
	guard(b, 8).Store(filter.Compile([]filter.Rule{{Direction: filter.Ingress, Protocol: filter.ProtoUDP, PortStart: 0, PortEnd: 65535}}))
	passed := 0
	for p := range 20 {
		if send(t, a, b, udpPorts(a, b, uint16(4000+p), 5000)) {
			passed++
		}
	}
	if passed != 8 || drops(b, DropConntrackFull) != 12 {
		t.Fatalf("passed %d, conntrack_full %d", passed, drops(b, DropConntrackFull))
	}
	if !send(t, a, b, udpPorts(a, b, 4000, 5000)) {
		t.Fatal("a tracked connection was dropped")
	}
}

// TestICMPErrorOfTrackedFlow: an ICMP error about B's own connection
// comes in; one about nothing tracked does not.
func TestICMPErrorOfTrackedFlow(t *testing.T) {
	a, b := pair(t)
	guard(b, 64).Store(filter.Compile(nil))
	probe := udpPorts(b, a, 6000, 33434)
	if !send(t, b, a, probe) {
		t.Fatal("probe did not leave B")
	}
	unreach := packettest.ICMPv4(a.mac, gateway.MAC, a.ip, b.ip, 3, 3, append(make([]byte, 4), probe[14:14+28]...))
	if !send(t, a, b, unreach) {
		t.Fatal("the error about B's connection did not come in")
	}
	other := udpPorts(b, a, 6001, 33434)
	stray := packettest.ICMPv4(a.mac, gateway.MAC, a.ip, b.ip, 3, 3, append(make([]byte, 4), other[14:14+28]...))
	if send(t, a, b, stray) {
		t.Fatal("an error about nothing tracked came in")
	}
}

// TestLentICMPErrorOfTrackedFlow: an ICMPv6 error long enough to be lent
// quotes its packet past the inbox head; it still relates to B's flow.
func TestLentICMPErrorOfTrackedFlow(t *testing.T) {
	routes := &Routes{}
	a := newTestNic(t, [6]byte{0x52, 0x54, 0, 0, 0, 0xa}, netip.MustParseAddr("10.0.0.1"), routes)
	b := newTestNic(t, [6]byte{0x52, 0x54, 0, 0, 0, 0xb}, netip.MustParseAddr("10.0.0.2"), routes)
	a6, b6 := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	a.r.svc.Gateway.IPv6, b.r.svc.Gateway.IPv6 = a6, b6
	bld := route.NewBuilder[*Dest]()
	for _, x := range []struct {
		n  *testNic
		ip netip.Addr
	}{{a, a6}, {b, b6}} {
		if err := bld.Add(netip.PrefixFrom(x.ip, 128), &Dest{Inbox: x.n.r.cfg.Inbox, MAC: x.n.mac, MTU: DefaultMTU}); err != nil {
			t.Fatal(err)
		}
	}
	routes.Store(bld.Build())
	guard(b, 64).Store(filter.Compile(nil))
	probe := packettest.UDP(b.mac, gateway.MAC, b6, a6, 6000, 33434, make([]byte, 600))
	if !send(t, b, a, probe) {
		t.Fatalf("probe did not leave B; drops %+v", b.r.cfg.Stats.Snapshot().Drops)
	}
	quoted := append(make([]byte, 4), probe[14:]...)
	unreach := packettest.ICMPv6(a.mac, gateway.MAC, a6, b6, 64, 1, 4, quoted)
	if len(unreach) <= lendMin {
		t.Fatalf("error of %d bytes would not be lent", len(unreach))
	}
	if !send(t, a, b, unreach) {
		t.Fatalf("the lent error about B's connection did not come in; drops %+v", b.r.cfg.Stats.Snapshot().Drops)
	}
}

// benchmarkFiltered is benchmarkRouted with a group of 100 rules on both
// NICs: the frames belong to one tracked connection.
func benchmarkFiltered(b *testing.B, size int) {
	x, y := pair(b)
	guard(x, conntrack.DefaultSize).Store(filter.Compile(rules100(allowUDP5000)))
	guard(y, conntrack.DefaultSize).Store(filter.Compile(rules100(allowUDP5000)))
	routeFrames(b, x, y, size)
}

// BenchmarkFilteredFrame64 is BenchmarkRoutedFrame64 through security
// groups of 100 rules on both NICs.
func BenchmarkFilteredFrame64(b *testing.B) { benchmarkFiltered(b, 64) }

// BenchmarkFilteredFrame1500 is BenchmarkRoutedFrame1500 through them.
func BenchmarkFilteredFrame1500(b *testing.B) { benchmarkFiltered(b, 1500) }

// BenchmarkFirewallPasses measures the two filter passes a frame of one
// tracked connection takes between two guarded NICs, alone: egress at A,
// then ingress at B (ns/op is both passes).
func BenchmarkFirewallPasses(b *testing.B) {
	x, y := pair(b)
	guard(x, conntrack.DefaultSize).Store(filter.Compile(rules100(allowUDP5000)))
	guard(y, conntrack.DefaultSize).Store(filter.Compile(rules100(allowUDP5000)))
	frame := udp(x, y, 64)
	x.r.fw.begin()
	y.r.fw.begin()
	b.ReportAllocs()
	for b.Loop() {
		if !x.r.egressAllowed(frame) || !y.r.ingressAllowed(frame, nil) {
			b.Fatal("a frame of the tracked connection was denied")
		}
	}
}
