package reactor

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/reactor/route"
	"mvirt-net/reactor/vhostuser"
	"mvirt-net/tests/vmm"
)

// offloadFeatures is what a Linux driver acknowledges of what a NIC with
// offloads offers.
const offloadFeatures = testFeatures | vhostuser.OffloadFeatures

// tsoTxBuf is the TX buffer size of the offload tests' NICs: a 60 KB
// super-frame is a header buffer and four fragments, as Linux sends it.
const tsoTxBuf = 16 << 10

// offloadPair is two NICs of one network whose drivers negotiated aFeat
// and bFeat.
func offloadPair(t testing.TB, aFeat, bFeat uint64) (a, b *testNic) {
	routes := &Routes{}
	a = newTestNicWith(t, packet.MAC{0x52, 0x54, 0, 0, 0, 0xa}, netip.MustParseAddr("10.0.0.1"), routes, aFeat, tsoTxBuf)
	b = newTestNicWith(t, packet.MAC{0x52, 0x54, 0, 0, 0, 0xb}, netip.MustParseAddr("10.0.0.2"), routes, bFeat, tsoTxBuf)
	bld := route.NewBuilder[*Dest]()
	for _, n := range []*testNic{a, b} {
		if err := bld.Add(netip.PrefixFrom(n.ip, 32), &Dest{Inbox: n.r.cfg.Inbox, MAC: n.mac, MTU: DefaultMTU}); err != nil {
			t.Fatal(err)
		}
	}
	routes.Store(bld.Build())
	return a, b
}

// TCP flags the tests set.
const (
	tcpFIN = 0x01
	tcpPSH = 0x08
	tcpACK = 0x10
	tcpCWR = 0x80
)

// tcpHeaderLen is the tests' TCP header: 20 bytes and a timestamp option.
const tcpHeaderLen = 32

// tcpFrame builds a TCP/IPv4 frame from src's MAC to dst, DF set, with a
// timestamp option; its checksum is complete, or (partial) the
// pseudo-header sum a driver leaves for NEEDS_CSUM. It builds the
// expected segments independently of the segmenter under test.
func tcpFrame(srcMAC, dstMAC packet.MAC, src, dst netip.Addr, seq uint32, flags uint8, id uint16, ttl uint8, payload []byte, partial bool) []byte {
	l4 := make([]byte, tcpHeaderLen+len(payload))
	binary.BigEndian.PutUint16(l4[0:], 4000)
	binary.BigEndian.PutUint16(l4[2:], 5000)
	binary.BigEndian.PutUint32(l4[4:], seq)
	binary.BigEndian.PutUint32(l4[8:], 1)
	l4[12] = tcpHeaderLen / 4 << 4
	l4[13] = flags
	binary.BigEndian.PutUint16(l4[14:], 65535)
	copy(l4[20:], []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
	copy(l4[tcpHeaderLen:], payload)
	if partial {
		binary.BigEndian.PutUint16(l4[16:], packet.PseudoHeaderChecksum(packet.ProtoTCP, src, dst, uint16(len(l4))))
	} else {
		binary.BigEndian.PutUint16(l4[16:], packet.TransportChecksum(packet.ProtoTCP, src, dst, l4))
	}
	f := packettest.IPv4(srcMAC, dstMAC, src, dst, packet.ProtoTCP, ttl, l4)
	ip := packet.IPv4(f[packet.EthernetHeaderLen:])
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], 0x4000)
	ip.SetChecksum(0)
	ip.SetChecksum(ip.CalculateChecksum())
	return f
}

// tsoHeader is the virtio_net_hdr Linux sends with a TCPv4 super-frame
// of tcpFrame's layout.
func tsoHeader(mss uint16) vmm.NetHeader {
	return vmm.NetHeader{
		Flags: vmm.NetHdrFNeedsCsum, GSOType: vmm.NetHdrGSOTCPv4, HdrLen: 14 + 20 + tcpHeaderLen,
		GSOSize: mss, CsumStart: 14 + 20, CsumOffset: 16,
	}
}

// csumHeader is the header of a frame with a partial TCP checksum.
func csumHeader() vmm.NetHeader {
	return vmm.NetHeader{Flags: vmm.NetHdrFNeedsCsum, CsumStart: 14 + 20, CsumOffset: 16}
}

// streamPayload is n bytes that differ from segment to segment.
func streamPayload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// sendTSO queues a super-frame on a's TX ring laid out as Linux does
// (header buffer, then fragments) and runs both reactors once.
func sendTSO(t testing.TB, a, b *testNic, hdr vmm.NetHeader, frame []byte) {
	t.Helper()
	cuts := []int{14 + 20 + tcpHeaderLen}
	for rest := len(frame) - cuts[0]; rest > tsoTxBuf; rest -= tsoTxBuf - 1000 {
		cuts = append(cuts, tsoTxBuf-1000)
	}
	addPieces(t, a, hdr, frame, cuts...)
	a.tx.Publish()
	a.r.processTx()
	b.r.drainInboxFrames()
	a.r.reapTx()
}

// recvAll takes every frame b received.
func recvAll(t testing.TB, b *testNic) (hdrs []vmm.NetHeader, frames [][]byte) {
	t.Helper()
	for {
		h, f, ok, err := b.rx.RecvFrame(true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		hdrs, frames = append(hdrs, h), append(frames, f)
		for range max(h.NumBuffers, 1) {
			if _, err := b.rx.AddRX(vmm.DefaultBufSize); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.rx.Publish()
	return hdrs, frames
}

const (
	tsoPayload = 60000
	tsoMSS     = 1448
)

// TestTSOPassThrough: a super-frame to a NIC that negotiated GUEST_TSO4
// and GUEST_CSUM arrives whole, routed (MACs, TTL), spread over as many
// RX buffers as it needs, with its header (num_buffers set); it was
// lent, not copied, and its TX chain goes back once delivered.
func TestTSOPassThrough(t *testing.T) {
	a, b := offloadPair(t, offloadFeatures, offloadFeatures)
	frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, tcpPSH|tcpACK, 0x1234, 64, streamPayload(tsoPayload), true)
	hdr := tsoHeader(tsoMSS)
	sendTSO(t, a, b, hdr, frame)
	hdrs, got := recvAll(t, b)
	if len(got) != 1 {
		t.Fatalf("B received %d frames, want the super-frame; drops %v", len(got), a.r.cfg.Stats.Snapshot().Drops)
	}
	if !bytes.Equal(got[0], routedCopy(t, b, frame)) {
		t.Fatal("super-frame differs from the routed frame")
	}
	want := hdr
	want.NumBuffers = uint16((len(frame) + 12 + vmm.DefaultBufSize - 1) / vmm.DefaultBufSize)
	if hdrs[0] != want {
		t.Fatalf("header %+v, want %+v", hdrs[0], want)
	}
	if used := usedTX(t, a); used != 1 {
		t.Fatalf("A gave back %d TX chains, want 1", used)
	}
}

// expectedSegments is the independent expectation of what a TCP stack
// without TSO sends for the super-frame tcpFrame(seq, flags, id, payload)
// after one hop: gso_size payload bytes each, IP ids counting up, TTL
// decremented, sequence numbers advancing, FIN and PSH only on the last
// segment, CWR only on the first, full checksums.
func expectedSegments(a, b *testNic, seq uint32, flags uint8, id uint16, payload []byte, mss int) [][]byte {
	var segs [][]byte
	for i, off := 0, 0; off < len(payload); i, off = i+1, off+mss {
		end := min(off+mss, len(payload))
		f := flags
		if end < len(payload) {
			f &^= tcpFIN | tcpPSH
		}
		if i > 0 {
			f &^= tcpCWR
		}
		segs = append(segs, tcpFrame(gateway.MAC, b.mac, a.ip, b.ip, seq+uint32(off), f, id+uint16(i), 63, payload[off:end], false))
	}
	return segs
}

// TestTSOSegmented: a super-frame to a NIC that negotiated no offloads
// arrives as the segments a stack without TSO would have sent, each
// checked byte for byte against an independent expectation; a partial
// checksum to such a NIC arrives completed.
func TestTSOSegmented(t *testing.T) {
	a, b := offloadPair(t, offloadFeatures, testFeatures)
	payload := streamPayload(tsoPayload)
	flags := uint8(tcpFIN | tcpPSH | tcpACK | tcpCWR)
	frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, flags, 0x1234, 64, payload, true)
	sendTSO(t, a, b, tsoHeader(tsoMSS), frame)
	hdrs, got := recvAll(t, b)
	want := expectedSegments(a, b, 1000, flags, 0x1234, payload, tsoMSS)
	if len(got) != len(want) {
		t.Fatalf("B received %d segments, want %d; drops %v", len(got), len(want), b.r.cfg.Stats.Snapshot().Drops)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("segment %d of %d differs from the expectation", i, len(want))
		}
		if hdrs[i].Flags != 0 || hdrs[i].GSOType != 0 {
			t.Fatalf("segment %d came with header %+v", i, hdrs[i])
		}
	}

	small := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 7, tcpPSH|tcpACK, 9, 64, streamPayload(999), true)
	addPieces(t, a, csumHeader(), small, 66, 500)
	a.tx.Publish()
	a.r.processTx()
	b.r.drainInboxFrames()
	_, got = recvAll(t, b)
	complete := tcpFrame(gateway.MAC, b.mac, a.ip, b.ip, 7, tcpPSH|tcpACK, 9, 63, streamPayload(999), false)
	if len(got) != 1 || !bytes.Equal(got[0], complete) {
		t.Fatalf("partial checksum to a NIC without GUEST_CSUM: %d frames, completed %v", len(got), len(got) == 1 && bytes.Equal(got[0], complete))
	}
}

// TestOffloadMixedPeers: a NIC with offloads sends plain frames to one
// without and gets plain frames from it with a header of flags 0.
func TestOffloadMixedPeers(t *testing.T) {
	a, b := offloadPair(t, testFeatures, offloadFeatures)
	frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1, tcpACK, 1, 64, streamPayload(1400), false)
	sendTSO(t, a, b, vmm.NetHeader{}, frame)
	hdrs, got := recvAll(t, b)
	if len(got) != 1 || !bytes.Equal(got[0], routedCopy(t, b, frame)) || hdrs[0].Flags != 0 || hdrs[0].GSOType != 0 {
		t.Fatalf("plain frame to a NIC with offloads: %d frames, headers %+v", len(got), hdrs)
	}
}

// TestTSOMTU: the MTU check of a super-frame is its segments' size: one
// whose segments fit is routed, one whose segments do not is answered
// fragmentation needed, once, quoting the frame's start.
func TestTSOMTU(t *testing.T) {
	a, b := offloadPair(t, offloadFeatures, testFeatures)
	frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, tcpACK, 1, 64, streamPayload(9000), true)
	sendTSO(t, a, b, tsoHeader(DefaultMTU-20-tcpHeaderLen), frame)
	if _, got := recvAll(t, b); len(got) != 7 {
		t.Fatalf("super-frame of MTU-sized segments: %d segments arrived, want 7", len(got))
	}
	sendTSO(t, a, b, tsoHeader(DefaultMTU-20-tcpHeaderLen+1), frame)
	if _, got := recvAll(t, b); len(got) != 0 {
		t.Fatalf("super-frame of segments above the MTU: %d segments arrived", len(got))
	}
	_, errs := recvAll(t, a)
	if len(errs) != 1 {
		t.Fatalf("A received %d frames, want one fragmentation needed", len(errs))
	}
	p := packettest.Check(t, errs[0])
	if p.ICMPType != 3 || p.ICMPCode != 4 || binary.BigEndian.Uint16(p.L4(errs[0])[6:]) != DefaultMTU {
		t.Fatalf("got ICMP %d/%d mtu %d, want fragmentation needed, MTU %d", p.ICMPType, p.ICMPCode, binary.BigEndian.Uint16(p.L4(errs[0])[6:]), DefaultMTU)
	}
	if n := a.r.cfg.Stats.Drops[DropTooBig].Load(); n != 1 {
		t.Fatalf("too_big drops %d, want 1", n)
	}
}

// TestAdversarialOffloadHeaders: offload headers a driver must not send
// (values outside the frame, gso_size 0, an ECN bit or a gso_type not
// negotiated, ...) drop their frame, counted by reason, and give the TX
// chain back; nothing reaches B. A driver that negotiated no offloads
// has its header ignored, as before offloads existed.
func TestAdversarialOffloadHeaders(t *testing.T) {
	a, b := offloadPair(t, offloadFeatures&^(vhostuser.FeatureHostECN|vhostuser.FeatureHostTSO6), offloadFeatures)
	frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, tcpACK, 1, 64, streamPayload(5000), true)
	tso := tsoHeader(tsoMSS)
	with := func(f func(*vmm.NetHeader)) vmm.NetHeader {
		h := tso
		f(&h)
		return h
	}
	cases := []struct {
		hdr  vmm.NetHeader
		want string
	}{
		{with(func(h *vmm.NetHeader) { h.GSOSize = 0 }), "offload_gso_size_zero"},
		{with(func(h *vmm.NetHeader) { h.GSOSize = 60000 }), "offload_gso_size_beyond_frame"},
		{with(func(h *vmm.NetHeader) { h.HdrLen = 60000 }), "offload_hdr_len_beyond_frame"},
		{with(func(h *vmm.NetHeader) { h.CsumOffset = 6000 }), "offload_csum_outside_frame"},
		{with(func(h *vmm.NetHeader) { h.CsumStart = 10 }), "offload_csum_not_l4"},
		{with(func(h *vmm.NetHeader) { h.GSOType |= vmm.NetHdrGSOECN }), "offload_gso_ecn_not_negotiated"},
		{with(func(h *vmm.NetHeader) { h.GSOType = vmm.NetHdrGSOTCPv6 }), "offload_gso_not_negotiated"},
		{with(func(h *vmm.NetHeader) { h.GSOType = vmm.NetHdrGSOUDP }), "offload_gso_not_negotiated"},
		{with(func(h *vmm.NetHeader) { h.GSOType = 0x42 }), "offload_gso_not_negotiated"},
		{with(func(h *vmm.NetHeader) { h.Flags = 0 }), "offload_gso_without_csum"},
		{with(func(h *vmm.NetHeader) { h.GSOType = vmm.NetHdrGSOUDPL4 }), "offload_gso_type_mismatch"},
		{with(func(h *vmm.NetHeader) { h.CsumStart, h.CsumOffset = 0xffff, 0xffff }), "offload_csum_outside_frame"},
	}
	for _, c := range cases {
		sendTSO(t, a, b, c.hdr, frame)
	}
	if _, got := recvAll(t, b); len(got) != 0 {
		t.Fatalf("B received %d frames of refused headers", len(got))
	}
	if used := usedTX(t, a); used != len(cases) {
		t.Fatalf("A gave back %d of %d TX chains", used, len(cases))
	}
	want := map[string]uint64{}
	for _, c := range cases {
		want[c.want]++
	}
	drops := a.r.cfg.Stats.Snapshot().Drops
	for why, n := range want {
		if drops[why] != n {
			t.Errorf("%s: %d drops, want %d (all drops %v)", why, drops[why], n, drops)
		}
	}

	plain, q := offloadPair(t, testFeatures, testFeatures)
	frame = tcpFrame(plain.mac, gateway.MAC, plain.ip, q.ip, 1000, tcpACK, 1, 64, streamPayload(500), false)
	sendTSO(t, plain, q, with(func(h *vmm.NetHeader) { h.GSOSize = 0 }), frame)
	if _, got := recvAll(t, q); len(got) != 1 || !bytes.Equal(got[0], routedCopy(t, q, frame)) {
		t.Fatal("a driver without offloads had its virtio-net header acted on")
	}
}

// TestTSOAllocatesNothing: routing super-frames in pieces, lent and
// passed through whole or cut into segments, or cut into segments by
// the sender, and plain frames in pieces,
// allocates nothing per frame or per segment (counted per round of
// frames, as TestRoutedFrameAllocatesNothing does).
func TestTSOAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, c := range []struct {
		name  string
		bFeat uint64
		hdr   vmm.NetHeader
		segs  int
		// lend is false to route the super-frame as segments (see
		// routeSegments).
		lend bool
	}{
		{"pass-through", offloadFeatures, tsoHeader(tsoMSS), 1, true},
		{"segmented", testFeatures, tsoHeader(tsoMSS), 14, true},
		{"segmented by the sender", testFeatures, tsoHeader(tsoMSS), 14, false},
		{"plain in pieces", testFeatures, vmm.NetHeader{}, 1, true},
	} {
		a, b := offloadPair(t, offloadFeatures, c.bFeat)
		if !c.lend {
			a.r.inflight.limit = 0
		}
		payload, cuts := 14*tsoMSS-100, []int{66, 300, 500, 8000}
		if c.hdr.GSOType == 0 {
			payload, cuts = 1400, cuts[:3]
		}
		frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, tcpACK, 1, 64, streamPayload(payload), c.hdr.GSOType != 0)
		const batch = 4
		var before, after runtime.MemStats
		mallocs := uint64(0)
		for i := range 20 {
			for range batch {
				addPieces(t, a, c.hdr, frame, cuts...)
			}
			a.tx.Publish()
			runtime.ReadMemStats(&before)
			a.r.processTx()
			b.r.drainInboxFrames()
			a.r.reapTx()
			runtime.ReadMemStats(&after)
			if i >= 2 {
				mallocs += after.Mallocs - before.Mallocs
			}
			_, got := recvAll(t, b)
			usedTX(t, a)
			if len(got) != batch*c.segs {
				t.Fatalf("%s, round %d: B received %d of %d frames; drops %v", c.name, i, len(got), batch*c.segs, b.r.cfg.Stats.Snapshot().Drops)
			}
		}
		if a.r.cfg.Stats.Drops[DropOffload].Load() != 0 || a.r.inflight.len() != 0 {
			t.Fatalf("%s: frames not all given back", c.name)
		}
		if perRound := mallocs / 18; perRound != 0 {
			t.Fatalf("%s: %d heap allocations per round of %d super-frames", c.name, perRound, batch)
		}
	}
}

// TestTSONotLent: a super-frame that cannot be lent (the lending limit is
// reached) and is longer than the destination's inbox takes is routed
// as its segments, with partial checksums: a destination with
// GUEST_CSUM gets them so, with NEEDS_CSUM, one without gets them
// completed; both byte for byte as expected.
func TestTSONotLent(t *testing.T) {
	for _, bFeat := range []uint64{offloadFeatures &^ (vhostuser.FeatureGuestTSO4 | vhostuser.FeatureGuestTSO6), testFeatures} {
		a, b := offloadPair(t, offloadFeatures, bFeat)
		a.r.inflight.limit = 0
		payload := streamPayload(tsoPayload)
		flags := uint8(tcpFIN | tcpPSH | tcpACK)
		frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, flags, 0x1234, 64, payload, true)
		sendTSO(t, a, b, tsoHeader(tsoMSS), frame)
		hdrs, got := recvAll(t, b)
		want := expectedSegments(a, b, 1000, flags, 0x1234, payload, tsoMSS)
		partial := bFeat&vhostuser.FeatureGuestCsum != 0
		if len(got) != len(want) {
			t.Fatalf("partial %v: B received %d segments, want %d; drops %v", partial, len(got), len(want), a.r.cfg.Stats.Snapshot().Drops)
		}
		for i := range want {
			if partial {
				l4 := want[i][34:]
				binary.BigEndian.PutUint16(l4[16:], packet.PseudoHeaderChecksum(packet.ProtoTCP, a.ip, b.ip, uint16(len(l4))))
				if hdrs[i].Flags != vmm.NetHdrFNeedsCsum || hdrs[i].CsumStart != 34 || hdrs[i].CsumOffset != 16 || hdrs[i].GSOType != 0 {
					t.Fatalf("segment %d: header %+v, want NEEDS_CSUM at 34+16", i, hdrs[i])
				}
			}
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("partial %v: segment %d differs from the expectation", partial, i)
			}
		}
		if used := usedTX(t, a); used != 1 {
			t.Fatalf("A gave back %d TX chains, want 1", used)
		}
	}
}

// TestTSOToItself: a super-frame a NIC routes back to itself (never lent)
// comes back valid: as segments with complete checksums, since its
// driver did not take GUEST_CSUM.
func TestTSOToItself(t *testing.T) {
	a, _ := offloadPair(t, offloadFeatures&^vhostuser.FeatureGuestCsum, testFeatures)
	payload := streamPayload(tsoPayload)
	frame := tcpFrame(a.mac, gateway.MAC, a.ip, a.ip, 1000, tcpPSH|tcpACK, 0x1234, 64, payload, true)
	sendTSO(t, a, a, tsoHeader(tsoMSS), frame)
	_, got := recvAll(t, a)
	want := expectedSegments(a, a, 1000, tcpPSH|tcpACK, 0x1234, payload, tsoMSS)
	if len(got) != len(want) {
		t.Fatalf("A received %d segments, want %d; drops %v", len(got), len(want), a.r.cfg.Stats.Snapshot().Drops)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("segment %d differs from the expectation", i)
		}
	}
}

// benchmarkTSO times the reactors' work per 60 KB super-frame from a NIC
// with offloads to one with (pass-through) or without (segmented in
// software) GUEST_TSO4: the TX pass and the inbox drain, as
// benchmarkRouted does; bytes/s is TCP payload.
func benchmarkTSO(b *testing.B, bFeat uint64) {
	x, y := offloadPair(b, offloadFeatures, bFeat)
	frame := tcpFrame(x.mac, gateway.MAC, x.ip, y.ip, 1000, tcpACK, 1, 64, streamPayload(tsoPayload), true)
	const batch = 4
	b.ReportAllocs()
	b.SetBytes(tsoPayload)
	var routed time.Duration
	frames := 0
	b.ResetTimer()
	for ; frames < b.N; frames += batch {
		b.StopTimer()
		for range batch {
			addPieces(b, x, tsoHeader(tsoMSS), frame, 66, 15000, 15000, 15000)
		}
		x.tx.Publish()
		b.StartTimer()
		start := time.Now()
		x.r.processTx()
		y.r.drainInboxFrames()
		x.r.reapTx()
		routed += time.Since(start)
		b.StopTimer()
		recvAll(b, y)
		usedTX(b, x)
		b.StartTimer()
	}
	b.ReportMetric(float64(routed.Nanoseconds())/float64(frames), "routed_ns/frame")
	b.ReportMetric(float64(frames)*tsoPayload*8/routed.Seconds()/1e9, "payload_Gbit/s")
}

// BenchmarkTSOPassThrough measures a super-frame passed through whole.
func BenchmarkTSOPassThrough(b *testing.B) { benchmarkTSO(b, offloadFeatures) }

// BenchmarkTSOSegmented measures a super-frame cut into segments.
func BenchmarkTSOSegmented(b *testing.B) { benchmarkTSO(b, testFeatures) }
