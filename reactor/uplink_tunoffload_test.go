package reactor

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/reactor/tun"
	"mvirt-net/tests/vmm"
)

// recvFrames delivers what b's inbox holds into its guest, while A's
// lent TX chains come back, until want frames arrived (or 2 s passed),
// and returns them with their headers.
func recvFrames(t testing.TB, a, b *testNic, want int) (hdrs []vmm.NetHeader, got [][]byte) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		a.r.reapTx()
		b.r.drainInboxFrames()
		h, f := recvAll(t, b)
		hdrs, got = append(hdrs, h...), append(got, f...)
		time.Sleep(time.Millisecond)
	}
	a.r.reapTx()
	return hdrs, got
}

// settledCount waits up to a second for c to reach want (the uplink's
// reactor counts a pass's packets at its end, perhaps after they
// arrived) and returns it.
func settledCount(c interface{ Load() uint64 }, want uint64) uint64 {
	deadline := time.Now().Add(time.Second)
	for c.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return c.Load()
}

// requireTunOffloads fails the test if the kernel refused the uplink's
// TCP offloads.
func requireTunOffloads(t testing.TB, rig *uplinkRig) {
	t.Helper()
	need := offload.Csum | offload.GuestCsum | offload.HostTSO4 | offload.GuestTSO4 | offload.HostTSO6 | offload.GuestTSO6
	if got := rig.up.Offloads(); !got.Has(need) {
		t.Fatalf("uplink offloads %v, want at least %v", got, need)
	}
}

// TestUplinkOffloadsSuperFrameThroughKernel: with offloads, a super-frame
// a NIC sends to the other public network goes to the kernel whole (one
// write), the kernel forwards it whole back into the TUN (one read, a
// GSO frame longer than an inbox slot takes, so lent), and the NIC there
// gets it as its driver negotiated: the super-frame itself with its
// header (GUEST_TSO4), or the segments a stack without TSO would have
// sent, byte for byte.
func TestUplinkOffloadsSuperFrameThroughKernel(t *testing.T) {
	for _, c := range []struct {
		name  string
		bFeat uint64
	}{{"guest_tso4", offloadFeatures}, {"no offloads", 0}} {
		t.Run(c.name, func(t *testing.T) {
			rig := newUplinkRigWith(t, uplinkRigOpts{Offloads: true, AFeat: offloadFeatures, BFeat: c.bFeat})
			requireTunOffloads(t, rig)
			a, b := rig.a, rig.b
			payload := streamPayload(20000)
			flags := uint8(tcpFIN | tcpPSH | tcpACK)
			frame := tcpFrame(a.mac, gateway.MAC, nicA4, nicB4, 1000, flags, 0x1234, 64, payload, true)
			sendTSO(t, a, b, tsoHeader(tsoMSS), frame)
			want := 1
			if c.bFeat == 0 {
				want = (len(payload) + tsoMSS - 1) / tsoMSS
			}
			hdrs, got := recvFrames(t, a, b, want)
			if len(got) != want {
				t.Fatalf("B received %d of %d frames; A drops %v, uplink %+v, B drops %v", len(got), want,
					a.r.cfg.Stats.Snapshot().Drops, rig.up.Stats().Snapshot(), b.r.cfg.Stats.Snapshot().Drops)
			}
			st := rig.up.Stats()
			if w, r := settledCount(&st.RxPackets, 1), settledCount(&st.TxPackets, 1); w != 1 || r != 1 {
				t.Fatalf("uplink wrote %d and read %d packets, want the super-frame once each way", w, r)
			}
			if c.bFeat != 0 {
				whole := tcpFrame(gateway.MAC, b.mac, nicA4, nicB4, 1000, flags, 0x1234, 61, payload, true)
				if !bytes.Equal(got[0], whole) {
					t.Fatal("super-frame differs from the one sent, routed three hops")
				}
				h := hdrs[0]
				if h.GSOType != vmm.NetHdrGSOTCPv4 || h.GSOSize != tsoMSS || h.Flags&vmm.NetHdrFNeedsCsum == 0 ||
					h.CsumStart != 14+20 || h.CsumOffset != 16 {
					t.Fatalf("super-frame header %+v", h)
				}
				return
			}
			for i, off := 0, 0; off < len(payload); i, off = i+1, off+tsoMSS {
				end := min(off+tsoMSS, len(payload))
				f := flags
				if end < len(payload) {
					f &^= tcpFIN | tcpPSH
				}
				seg := tcpFrame(gateway.MAC, b.mac, nicA4, nicB4, 1000+uint32(off), f, 0x1234+uint16(i), 61, payload[off:end], false)
				if !bytes.Equal(got[i], seg) {
					t.Fatalf("segment %d differs from the expectation", i)
				}
				if hdrs[i].Flags != 0 || hdrs[i].GSOType != 0 {
					t.Fatalf("segment %d came with header %+v", i, hdrs[i])
				}
			}
		})
	}
}

// usoFrame is a UDP/IPv4 super-frame from src:4000 to dst:port with the
// pseudo-header sum a driver leaves for NEEDS_CSUM, and its header.
func usoFrame(srcMAC packet.MAC, src, dst netip.Addr, port uint16, payload []byte, mss uint16) (vmm.NetHeader, []byte) {
	f := packettest.UDP(srcMAC, gateway.MAC, src, dst, 4000, port, payload)
	l4 := f[packet.EthernetHeaderLen+20:]
	binary.BigEndian.PutUint16(l4[6:], packet.PseudoHeaderChecksum(packet.ProtoUDP, src, dst, uint16(len(l4))))
	return vmm.NetHeader{
		Flags: vmm.NetHdrFNeedsCsum, GSOType: vmm.NetHdrGSOUDPL4, HdrLen: 14 + 20 + 8,
		GSOSize: mss, CsumStart: 14 + 20, CsumOffset: 6,
	}, f
}

// TestUplinkOffloadsUSOToSocket: with offloads, a UDP super-frame (USO) a
// NIC sends to an outside socket goes to the kernel whole, in one write,
// and the socket receives its datagrams, payload byte for byte.
func TestUplinkOffloadsUSOToSocket(t *testing.T) {
	rig := newUplinkRigWith(t, uplinkRigOpts{Offloads: true, AFeat: offloadFeatures})
	requireTunOffloads(t, rig)
	if !rig.up.Offloads().Has(offload.GuestUSO4) {
		t.Skipf("the kernel refused TUN_F_USO4 (offloads %v)", rig.up.Offloads())
	}
	sock := rig.listenUDP(t, netip.AddrPortFrom(outside4, 7100))
	const mss, n = 1000, 10
	payload := streamPayload(mss * n)
	hdr, frame := usoFrame(rig.a.mac, nicA4, outside4, 7100, payload, mss)
	addPieces(t, rig.a, hdr, frame, 42, 5000)
	rig.a.tx.Publish()
	rig.a.r.processTx()
	var got []byte
	buf := make([]byte, 65536)
	for range n {
		_ = sock.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := sock.Read(buf)
		if err != nil {
			t.Fatalf("socket received %d of %d bytes: %v; A drops %v, uplink %+v", len(got), len(payload), err,
				rig.a.r.cfg.Stats.Snapshot().Drops, rig.up.Stats().Snapshot())
		}
		if k != mss {
			t.Fatalf("datagram of %d bytes, want %d", k, mss)
		}
		got = append(got, buf[:k]...)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("the datagrams' payload differs from the super-frame's")
	}
	if w := settledCount(&rig.up.Stats().RxPackets, 1); w != 1 {
		t.Fatalf("uplink wrote %d packets, want the super-frame in one", w)
	}
}

// TestUplinkOffloadsGSOFromSocket: with offloads, a UDP GSO send
// (UDP_SEGMENT) of an outside socket, over IPv4 and IPv6, reaches the
// uplink as one super-frame, which a NIC with GUEST_USO4/6 receives whole
// and a NIC without offloads as valid datagrams, payload byte for byte.
func TestUplinkOffloadsGSOFromSocket(t *testing.T) {
	for _, c := range []struct {
		name     string
		bFeat    uint64
		src, dst netip.Addr
	}{
		{"guest_uso4", offloadFeatures, outside4, nicB4},
		{"no offloads", 0, outside4, nicB4},
		{"guest_uso6", offloadFeatures, outside6, nicB6},
		{"no offloads ipv6", 0, outside6, nicB6},
	} {
		t.Run(c.name, func(t *testing.T) {
			rig := newUplinkRigWith(t, uplinkRigOpts{Offloads: true, BFeat: c.bFeat})
			requireTunOffloads(t, rig)
			if !rig.up.Offloads().Has(offload.HostUSO) {
				t.Skipf("the kernel refused TUN_F_USO4/6 (offloads %v)", rig.up.Offloads())
			}
			sock := rig.listenUDP(t, netip.AddrPortFrom(c.src, 7200))
			const mss, n = 1000, 12
			raw, err := sock.SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var serr error
			if err := raw.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_SEGMENT, mss)
			}); err != nil || serr != nil {
				t.Fatalf("UDP_SEGMENT: %v %v", err, serr)
			}
			payload := streamPayload(mss * n)
			if _, err := sock.WriteToUDPAddrPort(payload, netip.AddrPortFrom(c.dst, 7300)); err != nil {
				t.Fatal(err)
			}
			want := 1
			if c.bFeat == 0 {
				want = n
			}
			hdrs, got := recvFrames(t, rig.a, rig.b, want)
			if len(got) != want {
				t.Fatalf("B received %d of %d frames; uplink %+v, B drops %v", len(got), want,
					rig.up.Stats().Snapshot(), rig.b.r.cfg.Stats.Snapshot().Drops)
			}
			if r := settledCount(&rig.up.Stats().TxPackets, 1); r != 1 {
				t.Fatalf("uplink read %d packets, want the super-frame in one", r)
			}
			var data []byte
			for i, f := range got {
				var p packet.Parsed
				if c.bFeat == 0 {
					p = packettest.Check(t, f)
					if hdrs[i].Flags != 0 || hdrs[i].GSOType != 0 {
						t.Fatalf("datagram %d came with header %+v", i, hdrs[i])
					}
				} else {
					packet.Parse(f, &p)
					h := hdrs[i]
					if h.GSOType != vmm.NetHdrGSOUDPL4 || h.GSOSize != mss || h.Flags&vmm.NetHdrFNeedsCsum == 0 {
						t.Fatalf("super-frame header %+v", h)
					}
				}
				if p.Src != c.src || p.Dst != c.dst {
					t.Fatalf("frame %d from %v to %v", i, p.Src, p.Dst)
				}
				data = append(data, f[p.L4Off+8:p.End]...)
			}
			if !bytes.Equal(data, payload) {
				t.Fatalf("B received %d bytes of payload, not the %d sent", len(data), len(payload))
			}
		})
	}
}

// TestUplinkOffloadsAllocateNothing extends TestUplinkPathAllocatesNothing
// to super-frames with offloads: NIC A's TX pass, the uplink's whole
// write to the TUN, its read of the kernel's super-frame, lent to B's
// inbox, and B's delivery (whole, or cut into segments) allocate nothing
// per frame.
func TestUplinkOffloadsAllocateNothing(t *testing.T) {
	for _, c := range []struct {
		name     string
		bFeat    uint64
		perFrame uint64
	}{{"guest_tso4", offloadFeatures, 1}, {"no offloads", 0, 14}} {
		t.Run(c.name, func(t *testing.T) {
			rig := newUplinkRigWith(t, uplinkRigOpts{Offloads: true, AFeat: offloadFeatures, BFeat: c.bFeat})
			requireTunOffloads(t, rig)
			a, b := rig.a, rig.b
			frame := tcpFrame(a.mac, gateway.MAC, nicA4, nicB4, 1000, tcpPSH|tcpACK, 0x1234, 64, streamPayload(20000), true)
			const rounds = 20
			var before, after runtime.MemStats
			mallocs := uint64(0)
			for i := range rounds {
				addPieces(t, a, tsoHeader(tsoMSS), frame, 66, 10000)
				a.tx.Publish()
				want := b.r.cfg.Stats.RxPackets.Load() + c.perFrame
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
				if _, got := recvAll(t, b); uint64(len(got)) != c.perFrame {
					t.Fatalf("round %d: B received %d of %d frames; uplink %+v, B drops %v", i, len(got), c.perFrame,
						rig.up.Stats().Snapshot(), b.r.cfg.Stats.Snapshot().Drops)
				}
				usedTX(t, a)
			}
			if perRound := mallocs / (rounds - 2); perRound != 0 {
				t.Fatalf("%d heap allocations per super-frame through the uplink", perRound)
			}
		})
	}
}

// benchmarkUplinkSuperFrames times 60000-byte TCP super-frames NIC →
// uplink → kernel → uplink → NIC (B with GUEST_TSO4), one at a time: with
// the TUN's offloads the super-frame crosses whole, without them the
// uplink cuts it and the kernel forwards 42 segments.
func benchmarkUplinkSuperFrames(b *testing.B, offloads bool) {
	rig := newUplinkRigWith(b, uplinkRigOpts{Offloads: offloads, AFeat: offloadFeatures, BFeat: offloadFeatures})
	x, y := rig.a, rig.b
	payload := streamPayload(tsoPayload)
	frame := tcpFrame(x.mac, gateway.MAC, nicA4, nicB4, 1000, tcpPSH|tcpACK, 0x1234, 64, payload, true)
	per := uint64(1)
	if !offloads {
		per = uint64((len(payload) + tsoMSS - 1) / tsoMSS)
	}
	cuts := []int{14 + 20 + tcpHeaderLen}
	for rest := len(frame) - cuts[0]; rest > tsoTxBuf; rest -= tsoTxBuf - 1000 {
		cuts = append(cuts, tsoTxBuf-1000)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		b.StopTimer()
		addPieces(b, x, tsoHeader(tsoMSS), frame, cuts...)
		x.tx.Publish()
		want := y.r.cfg.Stats.RxPackets.Load() + per
		b.StartTimer()
		x.r.processTx()
		for deadline := time.Now().Add(2 * time.Second); y.r.cfg.Stats.RxPackets.Load() < want; {
			x.r.reapTx()
			y.r.drainInboxFrames()
			if time.Now().After(deadline) {
				b.Fatalf("super-frame lost on the way through the kernel: uplink %+v", rig.up.Stats().Snapshot())
			}
		}
		x.r.reapTx()
		b.StopTimer()
		recvAll(b, y)
		usedTX(b, x)
		b.StartTimer()
	}
}

// BenchmarkUplinkSuperFramesOffloads: the TUN with offloads.
func BenchmarkUplinkSuperFramesOffloads(b *testing.B) { benchmarkUplinkSuperFrames(b, true) }

// BenchmarkUplinkSuperFramesSegmented: the TUN without offloads.
func BenchmarkUplinkSuperFramesSegmented(b *testing.B) { benchmarkUplinkSuperFrames(b, false) }

// TestUplinkOffloadsKernelHeaders: with offloads, a packet from the
// kernel whose virtio_net_hdr (relative to the IP packet) does not fit it
// is dropped and counted by its reason, and one that does is routed with
// it.
func TestUplinkOffloadsKernelHeaders(t *testing.T) {
	rig := newUplinkRigWith(t, uplinkRigOpts{Offloads: true})
	requireTunOffloads(t, rig)
	r := &UplinkReactor{up: rig.up, out: make([]byte, maxFrame)}
	ip := tcpFrame(packet.MAC{}, packet.MAC{}, outside4, nicA4, 1, tcpACK, 1, 64, streamPayload(1400), true)[packet.EthernetHeaderLen:]
	read := func(h offload.Header) {
		buf := make([]byte, tunRoom+tun.HdrLen+len(ip))
		h.Encode(buf[tunRoom : tunRoom+tun.HdrLen])
		copy(buf[tunRoom+tun.HdrLen:], ip)
		r.fromKernel(buf, tun.HdrLen+len(ip), 0)
	}
	csum := offload.Header{Flags: offload.FlagNeedsCsum, CsumStart: 20, CsumOffset: 16}
	tso := csum
	tso.GSOType, tso.GSOSize, tso.HdrLen = offload.GSOTCPv4, 700, 20+tcpHeaderLen
	with := func(h offload.Header, f func(*offload.Header)) offload.Header { f(&h); return h }
	for _, c := range []struct {
		name string
		h    offload.Header
		why  offload.Reason
	}{
		{"gso_size 0", with(tso, func(h *offload.Header) { h.GSOSize = 0 }), offload.ReasonGSOSizeZero},
		{"checksum outside", with(csum, func(h *offload.Header) { h.CsumStart = 4000 }), offload.ReasonCsumOutsideFrame},
		{"checksum before L4", with(csum, func(h *offload.Header) { h.CsumStart = 10 }), offload.ReasonCsumNotL4},
		{"UDP GSO on TCP", with(tso, func(h *offload.Header) { h.GSOType = offload.GSOUDPL4 }), offload.ReasonGSOTypeMismatch},
	} {
		before := rig.up.stats.Drops[offloadDrop(c.why)].Load()
		read(c.h)
		if got := rig.up.stats.Drops[offloadDrop(c.why)].Load() - before; got != 1 {
			t.Errorf("%s: %d drops as %s, want 1", c.name, got, offloadDrop(c.why))
		}
	}
	if r.nTouched != 0 {
		t.Fatal("a packet with a refused header was routed")
	}
	for _, h := range []offload.Header{csum, tso} {
		read(h)
		if r.nTouched != 1 {
			t.Fatalf("header %+v: packet not routed; drops %v", h, rig.up.Stats().Snapshot().Drops)
		}
		r.flushRouted()
		var f inbox.Frame
		ok := rig.a.r.cfg.Inbox.Next(&f)
		if !ok || offload.Decode(f.Hdr[:]) != h.Rebased(packet.EthernetHeaderLen) {
			t.Fatalf("header %+v: inbox frame %v with header %+v", h, ok, offload.Decode(f.Hdr[:]))
		}
		rig.a.r.cfg.Inbox.Release()
	}
}

// TestUplinkOffloadsLargeKernelFrames: a super-frame from the kernel
// longer than an inbox slot takes is lent to the NIC's inbox from its
// read buffer, which is not read into again until the NIC released it;
// with half the read buffers lent already it goes as its segments
// instead. Either way a NIC without offloads gets the same valid
// segments.
func TestUplinkOffloadsLargeKernelFrames(t *testing.T) {
	rig := newUplinkRigWith(t, uplinkRigOpts{Offloads: true})
	requireTunOffloads(t, rig)
	payload := streamPayload(12000)
	ip := tcpFrame(packet.MAC{}, packet.MAC{}, outside4, nicB4, 1, tcpACK, 1, 64, payload, true)[packet.EthernetHeaderLen:]
	h := offload.Header{Flags: offload.FlagNeedsCsum, CsumStart: 20, CsumOffset: 16,
		GSOType: offload.GSOTCPv4, GSOSize: tsoMSS, HdrLen: 20 + tcpHeaderLen}
	for _, lentAlready := range []int{0, maxLentReads} {
		r := &UplinkReactor{up: rig.up, out: make([]byte, maxFrame), nLent: lentAlready}
		buf := make([]byte, tunRoom+tun.HdrLen+len(ip))
		h.Encode(buf[tunRoom : tunRoom+tun.HdrLen])
		copy(buf[tunRoom+tun.HdrLen:], ip)
		r.fromKernel(buf, tun.HdrLen+len(ip), 3)
		r.flushRouted()
		lent := r.lent[3].q != nil
		if lent != (lentAlready == 0) {
			t.Fatalf("%d lent already: read buffer lent %v", lentAlready, lent)
		}
		r.reapReads()
		if lent && r.nLent != 1 {
			t.Fatal("a lent read buffer came back before the NIC released it")
		}
		rig.b.r.drainInboxFrames()
		if lent && !rig.b.r.cfg.Inbox.Released(r.lent[3].pos) {
			t.Fatal("the NIC did not release the lent frame")
		}
		_, got := recvAll(t, rig.b)
		var data []byte
		for _, f := range got {
			p := packettest.Check(t, f)
			data = append(data, f[p.L4Off+tcpHeaderLen:p.End]...)
		}
		if want := (len(payload) + tsoMSS - 1) / tsoMSS; len(got) != want || !bytes.Equal(data, payload) {
			t.Fatalf("%d lent already: B received %d of %d segments, payload intact %v; drops %v", lentAlready,
				len(got), want, bytes.Equal(data, payload), rig.b.r.cfg.Stats.Snapshot().Drops)
		}
	}
}
