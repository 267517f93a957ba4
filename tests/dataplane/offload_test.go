package dataplane_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/reactor/vhostuser"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// The offload tests' guests: one that takes every offload the daemon
// offers (as Linux does), one that takes none, and the TX buffer size
// that lets a 60 KB super-frame go as a header buffer and a few
// fragments.
var (
	withOffloads = vmm.GuestConfig{TxBufSize: 16 << 10}
	noOffloads   = vmm.GuestConfig{Features: vhostuser.DefaultFeatures}
)

const (
	tcpFIN, tcpPSH, tcpACK, tcpCWR = 0x01, 0x08, 0x10, 0x80
	// tcpHdrLen is the tests' TCP header: 20 bytes and a timestamp.
	tcpHdrLen = 32
	headers   = 14 + 20 + tcpHdrLen
	mss       = 1448
)

// tcpFrame4 builds a TCP/IPv4 frame with DF and a timestamp option; its
// checksum complete, or (partial) the pseudo-header sum a driver leaves
// for NEEDS_CSUM. It is also the tests' independent expectation of
// each segment a super-frame is cut into.
func tcpFrame4(srcMAC, dstMAC packet.MAC, src, dst netip.Addr, seq uint32, flags uint8, id uint16, ttl uint8, payload []byte, partial bool) []byte {
	l4 := make([]byte, tcpHdrLen+len(payload))
	binary.BigEndian.PutUint16(l4[0:], 33000)
	binary.BigEndian.PutUint16(l4[2:], 5201)
	binary.BigEndian.PutUint32(l4[4:], seq)
	binary.BigEndian.PutUint32(l4[8:], 77)
	l4[12], l4[13] = tcpHdrLen/4<<4, flags
	binary.BigEndian.PutUint16(l4[14:], 502)
	copy(l4[20:], []byte{1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0})
	copy(l4[tcpHdrLen:], payload)
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

// tso4 is the header Linux sends with a TCPv4 super-frame of tcp4's
// layout; csum4 that of a frame with a partial checksum only.
var (
	tso4  = vmm.NetHeader{Flags: vmm.NetHdrFNeedsCsum, GSOType: vmm.NetHdrGSOTCPv4, HdrLen: headers, GSOSize: mss, CsumStart: 34, CsumOffset: 16}
	csum4 = vmm.NetHeader{Flags: vmm.NetHdrFNeedsCsum, CsumStart: 34, CsumOffset: 16}
)

// inPieces cuts a frame as Linux lays out a TSO frame: the headers, then
// fragments of at most 15000 bytes.
func inPieces(frame []byte) [][]byte {
	pieces := [][]byte{frame[:headers]}
	for rest := frame[headers:]; len(rest) > 0; {
		n := min(len(rest), 15000)
		pieces, rest = append(pieces, rest[:n]), rest[n:]
	}
	return pieces
}

// recvData receives the next frame that is not an unsolicited RA.
func recvData(t *testing.T, g *vmm.Guest) (vmm.NetHeader, []byte) {
	t.Helper()
	for {
		h, f, err := g.RecvWithHeader(5 * time.Second)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if !isUnsolicitedRA(f) {
			return h, f
		}
	}
}

// TestOffloadDelivery: a guest with offloads sends TSO super-frames
// (header buffer and fragments) and partial checksums. A guest that
// negotiated GUEST_TSO4 gets the super-frame whole, routed, with its
// header; one without offloads gets the segments a stack without TSO
// would have sent, each compared with an independent expectation, and
// the checksum completed. Frames back from the guest without offloads
// reach the one with offloads with a header of flags 0.
func TestOffloadDelivery(t *testing.T) {
	d, _ := setup(t, 0)
	n := networkID(t, d)
	a := createNicWith(t, d, n, withOffloads)
	b := createNicWith(t, d, n, noOffloads)
	c := createNicWith(t, d, n, withOffloads)
	if a.g.Features&vhostuser.OffloadFeatures != vhostuser.OffloadFeatures || b.g.Features&vhostuser.OffloadFeatures != 0 {
		t.Fatalf("negotiated %#x and %#x", a.g.Features, b.g.Features)
	}
	payload := pattern(60000, 3)
	flags := uint8(tcpFIN | tcpPSH | tcpACK | tcpCWR)

	super := tcpFrame4(a.mac, gwMAC, a.ip, c.ip, 5000, flags, 0x4242, 64, payload, true)
	if err := a.g.SendPieces(tso4, inPieces(super)); err != nil {
		t.Fatal(err)
	}
	h, got := recvData(t, c.g)
	want := tcpFrame4(gwMAC, c.mac, a.ip, c.ip, 5000, flags, 0x4242, 63, payload, true)
	if !bytes.Equal(got, want) {
		t.Fatalf("super-frame to a guest with GUEST_TSO4: %d bytes, as routed: %v", len(got), bytes.Equal(got, want))
	}
	if h.Flags != vmm.NetHdrFNeedsCsum || h.GSOType != vmm.NetHdrGSOTCPv4 || h.GSOSize != mss || h.CsumStart != 34 || h.CsumOffset != 16 || h.NumBuffers < 2 {
		t.Fatalf("super-frame header %+v", h)
	}

	super = tcpFrame4(a.mac, gwMAC, a.ip, b.ip, 5000, flags, 0x4242, 64, payload, true)
	if err := a.g.SendPieces(tso4, inPieces(super)); err != nil {
		t.Fatal(err)
	}
	for i, off := 0, 0; off < len(payload); i, off = i+1, off+mss {
		end := min(off+mss, len(payload))
		f := flags
		if end < len(payload) {
			f &^= tcpFIN | tcpPSH
		}
		if i > 0 {
			f &^= tcpCWR
		}
		want := tcpFrame4(gwMAC, b.mac, a.ip, b.ip, 5000+uint32(off), f, 0x4242+uint16(i), 63, payload[off:end], false)
		if _, got := recvData(t, b.g); !bytes.Equal(got, want) {
			t.Fatalf("segment %d differs from the expectation", i)
		}
	}

	small := tcpFrame4(a.mac, gwMAC, a.ip, b.ip, 9, tcpPSH|tcpACK, 1, 64, pattern(900, 5), true)
	if err := a.g.SendPieces(csum4, [][]byte{small[:100], small[100:]}); err != nil {
		t.Fatal(err)
	}
	if _, got := recvData(t, b.g); !bytes.Equal(got, tcpFrame4(gwMAC, b.mac, a.ip, b.ip, 9, tcpPSH|tcpACK, 1, 63, pattern(900, 5), false)) {
		t.Fatal("partial checksum not completed for a guest without GUEST_CSUM")
	}

	back := tcpFrame4(b.mac, gwMAC, b.ip, a.ip, 77, tcpACK, 2, 64, pattern(1400, 9), false)
	if err := b.g.Send(back); err != nil {
		t.Fatal(err)
	}
	h, got = recvData(t, a.g)
	if !bytes.Equal(got, tcpFrame4(gwMAC, a.mac, b.ip, a.ip, 77, tcpACK, 2, 63, pattern(1400, 9), false)) || h.Flags != 0 || h.GSOType != 0 {
		t.Fatalf("plain frame to a guest with offloads: header %+v", h)
	}
}

// networkID returns the id of the network setup created.
func networkID(t *testing.T, d *daemon.Daemon) string {
	t.Helper()
	l, err := d.Client.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil || len(l.Networks) != 1 {
		t.Fatalf("networks %v, %v", l, err)
	}
	return l.Networks[0].Id
}

// dropMetric returns the NIC's drop counter for reason in /metrics.
func dropMetric(t *testing.T, d *daemon.Daemon, nicID, reason string) string {
	t.Helper()
	for _, l := range strings.Split(d.DebugGet("/metrics"), "\n") {
		if strings.HasPrefix(l, "mvirt_net_nic_drops_total{") && strings.Contains(l, `nic="`+nicID+`"`) && strings.Contains(l, `reason="`+reason+`"`) {
			return l[strings.LastIndexByte(l, ' ')+1:]
		}
	}
	t.Fatalf("no %s drop counter for nic %s in /metrics", reason, nicID)
	return ""
}

// TestOffloadAdversarialHeaders: headers a driver must not send are
// dropped and counted by reason; the NIC stays active and its next good
// super-frame is delivered.
func TestOffloadAdversarialHeaders(t *testing.T) {
	d, _ := setup(t, 0)
	n := networkID(t, d)
	a := createNicWith(t, d, n, withOffloads)
	b := createNicWith(t, d, n, noOffloads)
	super := tcpFrame4(a.mac, gwMAC, a.ip, b.ip, 1, tcpACK, 1, 64, pattern(20000, 1), true)
	bad := map[string]vmm.NetHeader{}
	for reason, f := range map[string]func(*vmm.NetHeader){
		"offload_gso_size_zero":         func(h *vmm.NetHeader) { h.GSOSize = 0 },
		"offload_gso_size_beyond_frame": func(h *vmm.NetHeader) { h.GSOSize = 50000 },
		"offload_hdr_len_beyond_frame":  func(h *vmm.NetHeader) { h.HdrLen = 50000 },
		"offload_csum_outside_frame":    func(h *vmm.NetHeader) { h.CsumStart, h.CsumOffset = 0xffff, 0xffff },
		"offload_csum_not_l4":           func(h *vmm.NetHeader) { h.CsumStart = 2 },
		"offload_gso_not_negotiated":    func(h *vmm.NetHeader) { h.GSOType = vmm.NetHdrGSOUDP },
		"offload_gso_type_mismatch":     func(h *vmm.NetHeader) { h.GSOType = vmm.NetHdrGSOTCPv6 },
		"offload_gso_without_csum":      func(h *vmm.NetHeader) { h.Flags = 0 },
	} {
		h := tso4
		f(&h)
		bad[reason] = h
	}
	for _, h := range bad {
		if err := a.g.SendPieces(h, inPieces(super)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.g.SendPieces(tso4, inPieces(super)); err != nil {
		t.Fatal(err)
	}
	_, got := recvData(t, b.g)
	if want := tcpFrame4(gwMAC, b.mac, a.ip, b.ip, 1, tcpACK, 1, 63, pattern(20000, 1)[:mss], false); !bytes.Equal(got, want) {
		t.Fatal("first segment of the good super-frame after the refused ones differs")
	}
	for reason := range bad {
		if v := dropMetric(t, d, a.Id, reason); v != "1" {
			t.Errorf("%s: %s drops, want 1", reason, v)
		}
	}
	if s := nicState(t, d, a.Id); s != netpb.NicState_NIC_STATE_ACTIVE {
		t.Fatalf("NIC state %v after refused headers", s)
	}
}

// TestOffloadsOff: with --offloads=false the daemon offers no offload
// feature, a guest's virtio-net header is not acted on, and traffic
// flows as before offloads existed.
func TestOffloadsOff(t *testing.T) {
	d, _ := setup(t, 0, "--offloads=false")
	n := networkID(t, d)
	a := createNicWith(t, d, n, vmm.GuestConfig{})
	b := createNicWith(t, d, n, vmm.GuestConfig{})
	if a.g.Features&vhostuser.OffloadFeatures != 0 {
		t.Fatalf("offloads offered: %#x", a.g.Features)
	}
	frame := tcpFrame4(a.mac, gwMAC, a.ip, b.ip, 1, tcpACK, 1, 64, pattern(1400, 2), false)
	if err := a.g.SendPieces(csum4, [][]byte{frame[:66], frame[66:]}); err != nil {
		t.Fatal(err)
	}
	h, got := recvData(t, b.g)
	if !bytes.Equal(got, tcpFrame4(gwMAC, b.mac, a.ip, b.ip, 1, tcpACK, 1, 63, pattern(1400, 2), false)) || h.Flags != 0 {
		t.Fatalf("frame not routed as sent: header %+v", h)
	}
}
