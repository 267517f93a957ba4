package reactor

import (
	"bytes"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/reactor/tun"
)

// listenUDP opens a UDP socket on addr inside the rig's namespace.
func (rig *uplinkRig) listenUDP(t testing.TB, addr netip.AddrPort) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	rig.ns.do(t, func() {
		var err error
		if c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr)); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestUplinkBothDirections: a NIC of a public network reaches an outside
// host through the uplink and the kernel, over IPv4 and IPv6, and the
// host's answer reaches the NIC, routed like a frame between NICs (the
// gateway's MAC, hop limit decremented).
func TestUplinkBothDirections(t *testing.T) {
	rig := newUplinkRig(t)
	for _, c := range []struct{ nic, out netip.Addr }{{nicA4, outside4}, {nicA6, outside6}} {
		t.Run(c.out.String(), func(t *testing.T) {
			sock := rig.listenUDP(t, netip.AddrPortFrom(c.out, 7000))
			payload := []byte("from the guest " + c.nic.String())
			buf := make([]byte, 2048)
			var n int
			var from netip.AddrPort
			var err error
			// A namespace just made has once answered the first IPv6
			// datagram with an ICMPv6 error instead of delivering it:
			// the guest sends up to three.
			for range 3 {
				fill(t, rig.a, packettest.UDP(rig.a.mac, gateway.MAC, c.nic, c.out, 4000, 7000, payload), 1)
				rig.a.r.processTx()
				_ = sock.SetReadDeadline(time.Now().Add(time.Second))
				if n, from, err = sock.ReadFromUDPAddrPort(buf); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatalf("outside host received nothing: %v; nic drops %v, uplink %+v", err,
					rig.a.r.cfg.Stats.Snapshot().Drops, rig.up.Stats().Snapshot())
			}
			if from != netip.AddrPortFrom(c.nic, 4000) || !bytes.Equal(buf[:n], payload) {
				t.Fatalf("outside host received %q from %v", buf[:n], from)
			}
			answer := []byte("from the outside")
			if _, err := sock.WriteToUDPAddrPort(answer, from); err != nil {
				t.Fatal(err)
			}
			f := receive(t, rig.a)
			p := packettest.Check(t, f)
			for p.IPProto != packet.ProtoUDP {
				f = receive(t, rig.a) // the ICMPv6 error of a retried datagram
				p = packettest.Check(t, f)
			}
			hops := uint8(63)
			if p.Src != c.out || p.Dst != c.nic || p.DstMAC != rig.a.mac || p.SrcMAC != gateway.MAC || p.TTL != hops {
				t.Fatalf("nic received %+v, want from %v to %v, hop limit %d", p, c.out, c.nic, hops)
			}
			if got := p.L4(f)[8:]; !bytes.Equal(got, answer) {
				t.Fatalf("nic received payload %q", got)
			}
		})
	}
	st := rig.up.Stats().Snapshot()
	if st.TxPackets < 2 || st.RxPackets < 2 || st.TxPackets != st.RxPackets {
		t.Fatalf("uplink counted %d packets from the kernel and %d to it, want 2 and 2 (a retry: one more each); %+v", st.TxPackets, st.RxPackets, st)
	}
}

// icmpListener is a raw ICMP or ICMPv6 socket inside the namespace: it
// sees every ICMP message the kernel receives there.
func (rig *uplinkRig) icmpListener(t testing.TB, v6 bool) int {
	t.Helper()
	fd := -1
	rig.ns.do(t, func() {
		var err error
		if v6 {
			fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
		} else {
			fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	tv := unix.NsecToTimeval(int64(10 * time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return fd
}

// icmpFrom waits for an ICMP message of type typ and code from src on fd
// (a raw IPv4 socket's reads start with the IP header, IPv6's do not).
func icmpFrom(t testing.TB, fd int, v6 bool, src netip.Addr, typ, code uint8) {
	t.Helper()
	buf := make([]byte, 2048)
	for {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			t.Fatalf("no ICMP type %d code %d from %v: %v", typ, code, src, err)
		}
		msg := buf[:n]
		var got netip.Addr
		switch sa := from.(type) {
		case *unix.SockaddrInet4:
			got = netip.AddrFrom4(sa.Addr)
			msg = msg[int(msg[0]&0xf)*4:]
		case *unix.SockaddrInet6:
			got = netip.AddrFrom16(sa.Addr)
		}
		if got == src && msg[0] == typ && msg[1] == code {
			return
		}
		if !v6 || msg[0] < 128 {
			t.Logf("skipping ICMP type %d code %d from %v", msg[0], msg[1], got)
		}
	}
}

// sendUDP sends a datagram of size bytes from the namespace to dst, with
// the given TTL or hop limit, never fragmented.
func (rig *uplinkRig) sendUDP(t testing.TB, dst netip.Addr, size, ttl int) {
	t.Helper()
	family, lvl, ttlOpt, pmtu, do := unix.AF_INET, unix.IPPROTO_IP, unix.IP_TTL, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO
	if dst.Is6() {
		family, lvl, ttlOpt, pmtu, do = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DO
	}
	rig.ns.do(t, func() {
		fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.SetsockoptInt(fd, lvl, ttlOpt, ttl); err != nil {
			t.Fatal(err)
		}
		if err := unix.SetsockoptInt(fd, lvl, pmtu, do); err != nil {
			t.Fatal(err)
		}
		var sa unix.Sockaddr = &unix.SockaddrInet6{Port: 9, Addr: dst.As16()}
		if dst.Is4() {
			sa = &unix.SockaddrInet4{Port: 9, Addr: dst.As4()}
		}
		if err := unix.Sendto(fd, make([]byte, size), 0, sa); err != nil {
			t.Fatalf("send %d bytes to %v: %v", size, dst, err)
		}
	})
}

// TestUplinkICMPErrors: what the kernel sends to the uplink that no NIC
// can take is answered as a router answers it, from the destination
// network's own address: host unreachable for an address of a public
// network that no NIC holds, time exceeded for a packet whose hop limit
// runs out, fragmentation needed / packet too big at the NIC's MTU. A
// packet for no public network is dropped. Each is counted.
func TestUplinkICMPErrors(t *testing.T) {
	rig := newUplinkRig(t)
	ic4, ic6 := rig.icmpListener(t, false), rig.icmpListener(t, true)
	src4, src6 := net1v4.Addr(), net1v6.Addr()
	cases := []struct {
		name      string
		dst       netip.Addr
		size, ttl int
		fd        int
		v6        bool
		typ, code uint8
	}{
		{"host unreachable v4", netip.MustParseAddr("203.0.113.99"), 100, 64, ic4, false, packet.ICMPv4DestUnreach, packet.ICMPv4HostUnreach},
		{"host unreachable v6", netip.MustParseAddr("2001:db8:1::99"), 100, 64, ic6, true, packet.ICMPv6DestUnreach, packet.ICMPv6AddressUnreach},
		{"time exceeded v4", nicA4, 100, 1, ic4, false, packet.ICMPv4TimeExceeded, packet.ICMPv4TTLExceeded},
		{"time exceeded v6", nicA6, 100, 1, ic6, true, packet.ICMPv6TimeExceeded, packet.ICMPv6HopLimitExceeded},
		{"fragmentation needed", nicA4, 2000, 64, ic4, false, packet.ICMPv4DestUnreach, packet.ICMPv4FragNeeded},
		{"packet too big", nicA6, 2000, 64, ic6, true, packet.ICMPv6PacketTooBig, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rig.sendUDP(t, c.dst, c.size, c.ttl)
			src := src4
			if c.v6 {
				src = src6
			}
			icmpFrom(t, c.fd, c.v6, src, c.typ, c.code)
		})
	}
	rig.sendUDP(t, netip.MustParseAddr("203.0.113.200"), 100, 64)
	deadline := time.Now().Add(2 * time.Second)
	st := rig.up.Stats()
	for st.Drops[DropNotPublic].Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	want := map[DropReason]uint64{DropUnrouted: 2, DropTooBig: 2, DropNotPublic: 1}
	for r, n := range want {
		if got := st.Drops[r].Load(); got != n {
			t.Errorf("uplink dropped %d packets as %s, want %d", got, r, n)
		}
	}
	if got := rig.a.r.cfg.Stats.RxPackets.Load(); got != 0 {
		t.Errorf("nic A received %d frames, want none", got)
	}
}

// TestUplinkMalformed: packets from the kernel that do not parse, or that
// ask for offloads the uplink does not do, are dropped and counted; none
// reaches a NIC.
func TestUplinkMalformed(t *testing.T) {
	rig := newUplinkRig(t)
	r := &UplinkReactor{up: rig.up, out: make([]byte, maxFrame)}
	good := packettest.UDP(packet.MAC{}, packet.MAC{}, outside4, nicA4, 9, 9, make([]byte, 64))[packet.EthernetHeaderLen:]
	read := func(hdr [tun.HdrLen]byte, ip []byte) {
		buf := make([]byte, tunRoom+tun.HdrLen+len(ip))
		copy(buf[tunRoom:], hdr[:])
		copy(buf[tunRoom+tun.HdrLen:], ip)
		r.fromKernel(buf, tun.HdrLen+len(ip))
	}
	var plain [tun.HdrLen]byte
	badVersion := bytes.Clone(good)
	badVersion[0] = 0x55
	badLength := bytes.Clone(good)
	badLength[2], badLength[3] = 0x10, 0
	cases := []struct {
		name string
		hdr  [tun.HdrLen]byte
		ip   []byte
		why  DropReason
	}{
		{"header only", plain, nil, DropMalformed},
		{"short", plain, good[:12], DropMalformed},
		{"bad version", plain, badVersion, DropMalformed},
		{"bad length", plain, badLength, DropMalformed},
		{"partial checksum", [tun.HdrLen]byte{tun.FlagNeedsCsum}, good, DropOffload},
		{"segmentation", [tun.HdrLen]byte{1: 1}, good, DropOffload},
	}
	for _, c := range cases {
		before := rig.up.stats.Drops[c.why].Load()
		read(c.hdr, c.ip)
		if got := rig.up.stats.Drops[c.why].Load() - before; got != 1 {
			t.Errorf("%s: %d drops as %s, want 1", c.name, got, c.why)
		}
	}
	if r.nTouched != 0 {
		t.Fatal("a malformed packet was routed")
	}
}

// TestUplinkPathAllocatesNothing proves the path NIC → uplink → kernel →
// uplink → NIC (two public networks, the kernel forwarding between them)
// allocates nothing per frame: the NIC's TX pass and route into the
// uplink's inbox, the uplink's write to the TUN, its read and route into
// the other NIC's inbox, the delivery into that NIC's guest, for frames
// copied whole and lent. It counts allocations per round of 64 frames,
// rounded down, as TestRoutedFrameAllocatesNothing does.
func TestUplinkPathAllocatesNothing(t *testing.T) {
	rig := newUplinkRig(t)
	a, b := rig.a, rig.b
	for _, size := range []int{128, 1500} {
		const batch, rounds = 64, 20
		frame := packettest.UDP(a.mac, gateway.MAC, a.ip, b.ip, 4000, 5000, make([]byte, size-42))
		var before, after runtime.MemStats
		mallocs := uint64(0)
		for i := range rounds {
			fill(t, a, frame, batch)
			want := b.r.cfg.Stats.RxPackets.Load() + batch
			runtime.ReadMemStats(&before)
			a.r.processTx()
			deadline := time.Now().Add(2 * time.Second)
			for b.r.cfg.Stats.RxPackets.Load() < want && time.Now().Before(deadline) {
				a.r.reapTx()
				b.r.drainInboxFrames()
				runtime.Gosched()
			}
			a.r.reapTx()
			runtime.ReadMemStats(&after)
			if i >= 2 {
				mallocs += after.Mallocs - before.Mallocs
			}
			if got := drain(t, a, b); got != batch {
				t.Fatalf("%d B, round %d: B received %d of %d frames; A drops %v, uplink %+v", size, i, got, batch,
					a.r.cfg.Stats.Snapshot().Drops, rig.up.Stats().Snapshot())
			}
		}
		if perRound := mallocs / (rounds - 2); perRound != 0 {
			t.Fatalf("%d heap allocations per round of %d %d-byte frames through the uplink", perRound, batch, size)
		}
	}
}

// TestUplinkRoutesFollowTheNetworks: default routes to the uplink exist
// only in public networks' tables and only while the uplink is open; an
// address of the network's own subnet that no NIC holds stays
// unreachable, never sent out; the uplink routes into public networks
// only.
func TestUplinkRoutesFollowTheNetworks(t *testing.T) {
	rig := newUplinkRig(t)
	private := rig.dp.NewNetwork("private")
	if err := private.PublishRoutes(RouteTable{Subnets: []netip.Prefix{notPublic}}); err != nil {
		t.Fatal(err)
	}
	far, unheld := netip.MustParseAddr("198.51.100.200"), netip.MustParseAddr("203.0.113.99")
	toUplink := func(n *Network, dst netip.Addr) bool {
		d, ok := n.routes.Load().Lookup(dst)
		return ok && d == rig.up.dest
	}
	if !toUplink(rig.n1, far) || !toUplink(rig.n1, outside6) {
		t.Error("a public network does not route outside destinations to the uplink")
	}
	if toUplink(private, far) {
		t.Error("a network that is not public routes to the uplink")
	}
	if d, ok := rig.n1.routes.Load().Lookup(unheld); !ok || d.Inbox != nil {
		t.Errorf("an unheld address of a public network routes to %+v, want unreachable", d)
	}
	if _, ok := rig.up.routes.Load().Lookup(netip.MustParseAddr("203.0.113.130")); ok {
		t.Error("the uplink routes into a network that is not public")
	}
	got := rig.dp.PublicPrefixes()
	for _, p := range []netip.Prefix{net1v4, net1v6, net2v4, net2v6} {
		if !slices.Contains(got, p) {
			t.Errorf("public prefixes %v lack %v", got, p)
		}
	}
	if slices.Contains(got, notPublic) {
		t.Errorf("public prefixes %v hold the private network's", got)
	}
	rig.ur.Stop()
	if err := rig.up.Close(); err != nil {
		t.Fatal(err)
	}
	if d, ok := rig.n1.routes.Load().Lookup(far); ok {
		t.Errorf("with the uplink closed, %v routes to %+v", far, d)
	}
	if d, ok := rig.n1.routes.Load().Lookup(nicA4); !ok || d.Inbox != rig.a.r.cfg.Inbox {
		t.Errorf("with the uplink closed, the nic's own address routes to %+v", d)
	}
}

// TestUplinkReactorCrash: a panic in the uplink's reactor is reported as
// Crashed once its thread has ended; a new reactor on the same device
// (the owner's restart) carries traffic again, the kernel's routes to
// the device untouched.
func TestUplinkReactorCrash(t *testing.T) {
	rig := newUplinkRig(t)
	rig.ur.InjectPanic()
	select {
	case ev := <-rig.events:
		if _, ok := ev.(Crashed); !ok {
			t.Fatalf("uplink reactor reported %#v, want Crashed", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no Crashed event from the uplink reactor")
	}
	<-rig.ur.Done()
	rig.start(t)
	sock := rig.listenUDP(t, netip.AddrPortFrom(outside4, 7001))
	fill(t, rig.a, packettest.UDP(rig.a.mac, gateway.MAC, nicA4, outside4, 4000, 7001, []byte("after the crash")), 1)
	rig.a.r.processTx()
	_ = sock.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	if n, _, err := sock.ReadFromUDPAddrPort(buf); err != nil || string(buf[:n]) != "after the crash" {
		t.Fatalf("after a restart the outside received %q, %v", buf[:n], err)
	}
}

// benchmarkUplinkPath times frames NIC → uplink → kernel (forwarding
// between two public networks in the rig's namespace) → uplink → NIC,
// batches of 64 in flight: frames/s and bytes/s through the kernel and
// both directions of the uplink, with allocations per frame.
func benchmarkUplinkPath(b *testing.B, size int) {
	rig := newUplinkRig(b)
	x, y := rig.a, rig.b
	const batch = 64
	frame := packettest.UDP(x.mac, gateway.MAC, x.ip, y.ip, 4000, 5000, make([]byte, size-42))
	b.ReportAllocs()
	b.SetBytes(int64(size))
	start := time.Now()
	frames := 0
	for ; frames < b.N; frames += batch {
		b.StopTimer()
		fill(b, x, frame, batch)
		want := y.r.cfg.Stats.RxPackets.Load() + batch
		b.StartTimer()
		x.r.processTx()
		for deadline := time.Now().Add(2 * time.Second); y.r.cfg.Stats.RxPackets.Load() < want; {
			x.r.reapTx()
			y.r.drainInboxFrames()
			if time.Now().After(deadline) {
				b.Fatalf("frames lost on the way through the kernel: uplink %+v", rig.up.Stats().Snapshot())
			}
		}
		x.r.reapTx()
		b.StopTimer()
		drain(b, x, y)
		b.StartTimer()
	}
	b.ReportMetric(float64(frames)/time.Since(start).Seconds()/1e6, "Mpps_wall")
}

// BenchmarkUplinkPath64 is benchmarkUplinkPath at 64-byte frames.
func BenchmarkUplinkPath64(b *testing.B) { benchmarkUplinkPath(b, 64) }

// BenchmarkUplinkPath1500 is benchmarkUplinkPath at 1500-byte frames.
func BenchmarkUplinkPath1500(b *testing.B) { benchmarkUplinkPath(b, 1500) }
