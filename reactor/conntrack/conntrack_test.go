package conntrack

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

var (
	macA = packet.MAC{0x52, 0x54, 0, 0, 0, 1}
	macB = packet.MAC{0x52, 0x54, 0, 0, 0, 2}
	a4   = netip.MustParseAddr("10.0.0.1")
	b4   = netip.MustParseAddr("10.0.0.2")
	a6   = netip.MustParseAddr("fd00::1")
	b6   = netip.MustParseAddr("fd00::2")
)

// tcpHeader is a 20-byte TCP header (checksum left zero: the tracker does
// not check it).
func tcpHeader(sp, dp uint16, flags uint8) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h, sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	h[12] = 5 << 4
	h[13] = flags
	return h
}

func tcpFrame(src, dst netip.Addr, sp, dp uint16, flags uint8) []byte {
	if src.Is4() {
		return packettest.IPv4(macA, macB, src, dst, packet.ProtoTCP, 64, tcpHeader(sp, dp, flags))
	}
	return packettest.IPv6(macA, macB, src, dst, packet.ProtoTCP, 64, tcpHeader(sp, dp, flags))
}

func parse(frame []byte) Flow {
	var f Flow
	ParseFlow(frame, &f)
	return f
}

func TestParseFlow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
		want  Flow
	}{
		{"tcp4", tcpFrame(a4, b4, 40000, 80, FlagSYN), Flow{Kind: KindPorts, Src: a4, Dst: b4, Proto: 6, SrcPort: 40000, DstPort: 80, TCPFlags: FlagSYN}},
		{"tcp6", tcpFrame(a6, b6, 40000, 443, FlagACK), Flow{Kind: KindPorts, Src: a6, Dst: b6, Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: FlagACK}},
		{"udp6", packettest.UDP(macA, macB, a6, b6, 5353, 53, []byte("q")), Flow{Kind: KindPorts, Src: a6, Dst: b6, Proto: 17, SrcPort: 5353, DstPort: 53}},
		{"echo4", packettest.ICMPv4(macA, macB, a4, b4, 8, 0, packettest.Echo(77, 1, nil)), Flow{Kind: KindEcho, Src: a4, Dst: b4, Proto: 1, SrcPort: 77, DstPort: 77, EchoRequest: true}},
		{"echo6 reply", packettest.ICMPv6(macA, macB, a6, b6, 64, 129, 0, packettest.Echo(9, 1, nil)), Flow{Kind: KindEcho, Src: a6, Dst: b6, Proto: 58, SrcPort: 9, DstPort: 9}},
		{"gre", packettest.IPv4(macA, macB, a4, b4, 47, 64, make([]byte, 8)), Flow{Kind: KindOther, Src: a4, Dst: b4, Proto: 47}},
		{"arp", packettest.ARP(packet.ARPRequest, macA, a4, packet.MAC{}, b4), Flow{}},
		{"truncated", tcpFrame(a4, b4, 1, 2, 0)[:30], Flow{}},
		{"short tcp", tcpFrame(a4, b4, 1, 2, 0)[:14+20+10], Flow{Kind: KindOther, Src: a4, Dst: b4, Proto: 6}},
	} {
		if got := parse(tc.frame); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestParseFragment(t *testing.T) {
	later := tcpFrame(a4, b4, 1, 2, FlagACK)
	binary.BigEndian.PutUint16(later[14+6:], 100) // fragment offset 800
	if f := parse(later); f.Kind != KindOther || f.Proto != 6 || f.SrcPort != 0 {
		t.Fatalf("later fragment: %+v", f)
	}
}

// TestKeysMatchBothWays: a packet sent by the NIC and the reply it gets
// share a key, and so do a packet the NIC gets and its answer.
func TestKeysMatchBothWays(t *testing.T) {
	for _, pair := range [][2][]byte{
		{tcpFrame(a4, b4, 40000, 80, FlagSYN), tcpFrame(b4, a4, 80, 40000, FlagSYN|FlagACK)},
		{packettest.UDP(macA, macB, a6, b6, 5353, 53, nil), packettest.UDP(macB, macA, b6, a6, 53, 5353, nil)},
		{packettest.ICMPv4(macA, macB, a4, b4, 8, 0, packettest.Echo(5, 1, nil)), packettest.ICMPv4(macB, macA, b4, a4, 0, 0, packettest.Echo(5, 1, nil))},
		{packettest.IPv4(macA, macB, a4, b4, 47, 64, nil), packettest.IPv4(macB, macA, b4, a4, 47, 64, nil)},
	} {
		out, back := parse(pair[0]), parse(pair[1])
		if out.Key(true) != back.Key(false) {
			t.Errorf("egress %+v and its reply %+v differ", out.Key(true), back.Key(false))
		}
		if out.Key(false) != back.Key(true) {
			t.Errorf("ingress %+v and its answer %+v differ", out.Key(false), back.Key(true))
		}
	}
	// A request from the peer with the same id is not the reply.
	ask, peerAsks := parse(packettest.ICMPv4(macA, macB, a4, b4, 8, 0, packettest.Echo(5, 1, nil))),
		parse(packettest.ICMPv4(macB, macA, b4, a4, 8, 0, packettest.Echo(5, 1, nil)))
	if ask.Key(true) == peerAsks.Key(false) {
		t.Error("the peer's echo request has the key of the NIC's own")
	}
	f := parse(tcpFrame(a4, b4, 40000, 80, FlagSYN))
	k := f.Key(true)
	if k.LocalAddr() != a4 || k.RemoteAddr() != b4 || k.LocalPort != 40000 || k.RemotePort != 80 {
		t.Fatalf("key %+v", k)
	}
}

// TestICMPErrorRelates: an error about a packet the NIC sent has that
// packet's connection key, for both families.
func TestICMPErrorRelates(t *testing.T) {
	sent4 := packettest.UDP(macA, macB, a4, b4, 5000, 9999, []byte("probe"))
	err4 := packettest.ICMPv4(macB, macA, b4, a4, 3, 3, append(make([]byte, 4), sent4[14:14+28]...))
	sent6 := tcpFrame(a6, b6, 40000, 81, FlagSYN)
	err6 := packettest.ICMPv6(macB, macA, b6, a6, 64, 1, 4, append(make([]byte, 4), sent6[14:]...))
	echo := packettest.ICMPv4(macA, macB, a4, b4, 8, 0, packettest.Echo(3, 1, nil))
	err4echo := packettest.ICMPv4(macB, macA, b4, a4, 11, 0, append(make([]byte, 4), echo[14:14+28]...))
	for _, tc := range []struct{ sent, err []byte }{{sent4, err4}, {sent6, err6}, {echo, err4echo}} {
		e := parse(tc.err)
		if e.Kind != KindICMPError {
			t.Fatalf("not an error: %+v", e)
		}
		sent := parse(tc.sent)
		if want, got := sent.Key(true), e.Key(false); want != got {
			t.Errorf("error key %+v, connection %+v", got, want)
		}
	}
}

func key(lp uint16) Key {
	f := parse(tcpFrame(a4, b4, lp, 80, FlagSYN))
	return f.Key(true)
}

const sec = int64(time.Second)

func TestTCPStates(t *testing.T) {
	tbl := New(64)
	k := key(1000)
	now := int64(1)
	e := tbl.Insert(&k, true, now)
	e.Seen(true, FlagSYN, now)
	if e.State != StateNew || e.ExpiresIn(now) != TimeoutTCPOpening {
		t.Fatalf("after SYN: %v %v", e.State, e.ExpiresIn(now))
	}
	// A retransmitted SYN keeps it opening.
	e.Seen(true, FlagSYN, now)
	if e.State != StateNew {
		t.Fatalf("after second SYN: %v", e.State)
	}
	e.Seen(false, FlagSYN|FlagACK, now)
	if e.State != StateEstablished || e.ExpiresIn(now) != TimeoutTCPEstablished {
		t.Fatalf("after SYN-ACK: %v %v", e.State, e.ExpiresIn(now))
	}
	e.Seen(true, FlagFIN|FlagACK, now)
	if e.State != StateClosing {
		t.Fatalf("after one FIN: %v", e.State)
	}
	e.Seen(false, FlagFIN|FlagACK, now)
	if e.State != StateClosed || e.ExpiresIn(now) != TimeoutTCPClosed {
		t.Fatalf("after both FINs: %v %v", e.State, e.ExpiresIn(now))
	}
	if tbl.Lookup(&k, now+int64(TimeoutTCPClosed)-1) == nil || tbl.Lookup(&k, now+int64(TimeoutTCPClosed)) != nil {
		t.Fatal("closed connection must live exactly TimeoutTCPClosed")
	}

	k2 := key(1001)
	e = tbl.Insert(&k2, false, now)
	e.Seen(false, FlagSYN, now)
	e.Seen(true, FlagSYN|FlagACK, now)
	e.Seen(false, FlagRST, now)
	if e.State != StateClosed {
		t.Fatalf("after RST: %v", e.State)
	}

	// Picked up in the middle: established at once.
	k3 := key(1002)
	e = tbl.Insert(&k3, true, now)
	e.Seen(true, FlagACK, now)
	if e.State != StateEstablished {
		t.Fatalf("mid-stream pick-up: %v", e.State)
	}
	e.Reopen(false)
	if e.State != StateNew || e.Egress || e.Key != k3 {
		t.Fatalf("reopened: %+v", e)
	}
}

func TestIdleTimeouts(t *testing.T) {
	tbl := New(64)
	fu, fg := parse(packettest.UDP(macA, macB, a4, b4, 1, 2, nil)), parse(packettest.IPv4(macA, macB, a4, b4, 47, 64, nil))
	udp, gre := fu.Key(true), fg.Key(true)
	tcp := key(7)
	now := 10 * sec
	tbl.Insert(&udp, true, now).Seen(true, 0, now)
	tbl.Insert(&gre, true, now).Seen(true, 0, now)
	e := tbl.Insert(&tcp, true, now)
	e.Seen(true, FlagSYN, now)
	e.Seen(false, FlagSYN|FlagACK, now)
	for _, tc := range []struct {
		k     Key
		after time.Duration
	}{{udp, TimeoutUDP}, {gre, TimeoutOther}, {tcp, TimeoutTCPEstablished}} {
		if tbl.Lookup(&tc.k, now+int64(tc.after)-1) == nil {
			t.Errorf("%+v expired before %v", tc.k, tc.after)
		}
		if tbl.Lookup(&tc.k, now+int64(tc.after)) != nil {
			t.Errorf("%+v alive after %v", tc.k, tc.after)
		}
	}
	// Traffic renews: a UDP reply 20 s later keeps it 30 s from then.
	e = tbl.Lookup(&udp, now+20*sec)
	e.Seen(false, 0, now+20*sec)
	if e.State != StateEstablished || tbl.Lookup(&udp, now+45*sec) == nil {
		t.Fatal("reply did not renew the UDP flow")
	}
}

// TestFullTable fills one bucket: the next connection is refused, closed
// connections give way first, expired ones always.
func TestFullTable(t *testing.T) {
	tbl := New(1)
	if tbl.Cap() != bucketSlots {
		t.Fatalf("cap %d", tbl.Cap())
	}
	now := sec
	var keys []Key
	for i := range bucketSlots {
		k := key(uint16(2000 + i))
		keys = append(keys, k)
		e := tbl.Insert(&k, true, now)
		if e == nil {
			t.Fatalf("insert %d refused", i)
		}
		e.Seen(true, FlagSYN, now)
	}
	extra := key(3000)
	if tbl.Insert(&extra, true, now) != nil {
		t.Fatal("a full table took a connection")
	}
	tbl.Lookup(&keys[3], now).Seen(true, FlagRST, now)
	if e := tbl.Insert(&extra, true, now); e == nil || tbl.Lookup(&keys[3], now) != nil {
		t.Fatal("a closed connection did not give way")
	} else {
		e.Seen(true, FlagSYN, now)
	}
	later := now + int64(TimeoutTCPOpening)
	another := key(3001)
	if tbl.Insert(&another, true, later) == nil {
		t.Fatal("expired connections did not give way")
	}
	n := 0
	tbl.Each(later, func(*Entry) { n++ })
	if n != 0 {
		t.Fatalf("%d entries live after expiry (the new one was not Seen)", n)
	}
}

// TestFloodStaysInItsTable: a SYN flood through a table refuses what does
// not fit and never grows it.
func TestFloodStaysInItsTable(t *testing.T) {
	tbl := New(1024)
	refused := 0
	for i := range 10000 {
		k := key(uint16(i))
		k.RemotePort = uint16(i >> 16)
		if e := tbl.Insert(&k, true, sec); e == nil {
			refused++
		} else {
			e.Seen(true, FlagSYN, sec)
		}
	}
	live := 0
	tbl.Each(sec, func(*Entry) { live++ })
	if live > tbl.Cap() || live < tbl.Cap()/2 || refused != 10000-live || tbl.Cap() != 1024 {
		t.Fatalf("live %d refused %d cap %d", live, refused, tbl.Cap())
	}
}

func TestNoAllocations(t *testing.T) {
	tbl := New(1024)
	frame := tcpFrame(a4, b4, 40000, 80, FlagSYN)
	var f Flow
	n := testing.AllocsPerRun(100, func() {
		ParseFlow(frame, &f)
		k := f.Key(true)
		if e := tbl.Lookup(&k, sec); e != nil {
			e.Seen(true, f.TCPFlags, sec)
		} else if e := tbl.Insert(&k, true, sec); e != nil {
			e.Seen(true, f.TCPFlags, sec)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per packet", n)
	}
}

func FuzzParseFlow(f *testing.F) {
	f.Add(tcpFrame(a4, b4, 1, 2, FlagSYN))
	f.Add(tcpFrame(a6, b6, 1, 2, FlagSYN))
	sent := packettest.UDP(macA, macB, a6, b6, 5000, 53, nil)
	f.Add(packettest.ICMPv6(macB, macA, b6, a6, 64, 1, 4, append(make([]byte, 4), sent[14:]...)))
	f.Add(packettest.ICMPv4(macA, macB, a4, b4, 3, 1, make([]byte, 40)))
	tbl := New(64)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl Flow
		ParseFlow(b, &fl)
		if fl.Kind != KindNone && !fl.Src.IsValid() {
			t.Fatalf("flow without addresses: %+v", fl)
		}
		checkSignature(t, b)
		if fl.Kind == KindNone {
			return
		}
		k := fl.Key(false)
		if tbl.Lookup(&k, sec) != nil {
			return
		}
		if e := tbl.Insert(&k, false, sec); e != nil {
			e.Seen(false, fl.TCPFlags, sec)
			if tbl.Lookup(&k, sec) != e {
				t.Fatal("inserted entry not found")
			}
		}
	})
}

// TestSignature: a frame has a signature only when it is the common TCP
// or UDP packet, and two frames' signatures are equal, and a Recent that
// remembers one passes the other, exactly when ParseFlow reads the same
// protocol, addresses and ports from both.
func TestSignature(t *testing.T) {
	later := tcpFrame(a4, b4, 1, 2, FlagACK)
	binary.BigEndian.PutUint16(later[14+6:], 100)
	c4, c6 := netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("fd00::3")
	var signed [][]byte
	for _, tc := range []struct {
		frame []byte
		ok    bool
	}{
		{tcpFrame(a4, b4, 40000, 80, FlagSYN|FlagACK), true},
		{tcpFrame(a4, b4, 40000, 80, FlagACK), true},
		{tcpFrame(a4, b4, 40000, 81, FlagACK), true},
		{tcpFrame(a4, b4, 40001, 80, FlagACK), true},
		{tcpFrame(b4, a4, 80, 40000, FlagACK), true},
		{tcpFrame(a4, c4, 40000, 80, FlagACK), true},
		{tcpFrame(a6, b6, 40000, 443, FlagFIN), true},
		{tcpFrame(a6, b6, 40000, 443, FlagACK), true},
		{tcpFrame(a6, c6, 40000, 443, FlagACK), true},
		{tcpFrame(b6, a6, 443, 40000, FlagACK), true},
		{packettest.UDP(macA, macB, a4, b4, 40000, 80, []byte("q")), true},
		{packettest.UDP(macA, macB, a4, b4, 5353, 53, []byte("q")), true},
		{packettest.UDP(macA, macB, a6, b6, 5353, 53, []byte("q")), true},
		{packettest.UDP(macA, macB, a6, b6, 5353, 54, []byte("q")), true},
		{packettest.ICMPv4(macA, macB, a4, b4, 8, 0, packettest.Echo(5, 1, nil)), false},
		{later, false},
	} {
		if _, _, ok := Signature(tc.frame); ok != tc.ok {
			t.Fatalf("Signature ok=%v, want %v: %+v", ok, tc.ok, parse(tc.frame))
		}
		checkSignature(t, tc.frame)
		if tc.ok {
			signed = append(signed, tc.frame)
		}
	}
	// The TTL is not part of a connection (a routed frame's is one
	// less); a later fragment of the connection's flow is not the
	// common packet.
	lowTTL := tcpFrame(a4, b4, 1, 2, FlagACK)
	lowTTL[14+8]--
	if !passes(tcpFrame(a4, b4, 1, 2, FlagACK), lowTTL) || passes(tcpFrame(a4, b4, 1, 2, FlagACK), later) {
		t.Fatal("a Recent passes a later fragment or refuses another TTL")
	}
	for _, x := range signed {
		for _, y := range signed {
			sx, _, _ := Signature(x)
			sy, _, _ := Signature(y)
			fx, fy := parse(x), parse(y)
			same := fx.Proto == fy.Proto && fx.Src == fy.Src && fx.Dst == fy.Dst && fx.SrcPort == fy.SrcPort && fx.DstPort == fy.DstPort
			if (sx == sy) != same {
				t.Fatalf("signatures equal %v, flows the same %v: %+v and %+v", sx == sy, same, fx, fy)
			}
			if passes(x, y) != same {
				t.Fatalf("Recent of one passes the other %v, flows the same %v: %+v and %+v", !same, same, fx, fy)
			}
		}
	}
}

// checkSignature fails unless frame's signature, if it has one, is that
// of a TCP or UDP packet with ports, with its protocol and flags, and the
// frame passes a Recent that remembers it.
func checkSignature(t *testing.T, frame []byte) {
	t.Helper()
	sig, flags, ok := Signature(frame)
	if !ok {
		return
	}
	f := parse(frame)
	if f.Kind != KindPorts || sig.proto != f.Proto || sig.v6 == f.Src.Is4() || flags != f.TCPFlags {
		t.Fatalf("signature %+v flags %x; ParseFlow %+v", sig, flags, f)
	}
	if flags&(FlagFIN|FlagRST) == 0 && !passes(frame, frame) {
		t.Fatalf("a Recent that remembers a frame does not pass it; signature %+v", sig)
	}
}

// passes reports whether a Recent that remembers frame x, of an
// established connection, passes frame y.
func passes(x, y []byte) bool {
	var f Flow
	ParseFlow(x, &f)
	k := f.Key(true)
	tbl := New(64)
	e := tbl.Insert(&k, true, sec)
	e.Seen(true, FlagSYN, sec)
	e.Seen(false, FlagSYN|FlagACK, sec)
	var r Recent
	r.Remember(x, e)
	return r.Pass(y, true, sec+1)
}
