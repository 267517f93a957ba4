package reactor

import (
	"bytes"
	"testing"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/tests/vmm"
)

// addPieces queues frame on n's TX ring as Linux lays out a frame with
// fragments: the virtio-net header and the first cuts[0] bytes in one
// buffer, then a buffer per further cut, then the rest.
func addPieces(t testing.TB, n *testNic, hdr vmm.NetHeader, frame []byte, cuts ...int) {
	t.Helper()
	out := [][]byte{append(hdr.Append(nil), frame[:cuts[0]]...)}
	at := cuts[0]
	for _, c := range cuts[1:] {
		out = append(out, frame[at:at+c])
		at += c
	}
	if at < len(frame) {
		out = append(out, frame[at:])
	}
	if _, err := n.tx.AddChain(out, nil); err != nil {
		t.Fatal(err)
	}
}

// routedCopy is frame as the router delivers it to b: MACs rewritten,
// TTL decremented.
func routedCopy(t testing.TB, b *testNic, frame []byte) []byte {
	t.Helper()
	want := bytes.Clone(frame)
	var p packet.Parsed
	packet.Parse(want, &p)
	packet.Ethernet(want).Encode(b.mac, gateway.MAC, p.EtherType)
	if !packet.DecTTL(want, &p) {
		t.Fatal("test frame has no TTL to decrement")
	}
	return want
}

// TestLentFrameInPieces: a frame in several TX buffers (headers, then
// fragments of odd sizes) is lent piece by piece, not copied: B gets it
// intact and routed, and A's chains go back only once B released them. A
// frame in more pieces than a lent frame holds is copied whole, and
// arrives as intact.
func TestLentFrameInPieces(t *testing.T) {
	a, b := pair(t)
	frame := udp(a, b, 1500)
	for i := range frame[42:] {
		frame[42+i] = byte(i * 7)
	}
	want := routedCopy(t, b, frame)
	layouts := [][]int{
		{42, 100, 333, 1},  // headers alone first, then odd fragments
		{20, 7, 900},       // headers cut in the middle of the IP header
		{0, 1500},          // the virtio-net header alone, frame in one buffer
		{14, 60, 61, 1000}, // the Ethernet header alone
	}
	for _, cuts := range layouts {
		addPieces(t, a, vmm.NetHeader{}, frame, cuts...)
	}
	a.tx.Publish()
	a.r.processTx()
	if got := a.r.inflight.len(); got != len(layouts) {
		t.Fatalf("%d of %d frames lent", got, len(layouts))
	}
	a.r.reapTx()
	if usedTX(t, a) != 0 {
		t.Fatal("A gave a TX chain back before B read its frame")
	}
	b.r.drainInboxFrames()
	for i := range layouts {
		_, got, ok, err := b.rx.RecvFrame(true)
		if err != nil || !ok {
			t.Fatalf("frame %d: received %v, %v", i, ok, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d (cuts %v) differs from the routed frame", i, layouts[i])
		}
	}
	a.r.reapTx()
	if used := usedTX(t, a); used != len(layouts) || a.r.inflight.len() != 0 {
		t.Fatalf("A gave back %d of %d TX chains, %d in flight", used, len(layouts), a.r.inflight.len())
	}

	cuts := []int{42}
	for range maxLendPieces + 4 {
		cuts = append(cuts, 50)
	}
	addPieces(t, a, vmm.NetHeader{}, frame, cuts...)
	a.tx.Publish()
	a.r.processTx()
	if a.r.inflight.len() != 0 {
		t.Fatal("a frame in more pieces than a lent frame holds was lent")
	}
	b.r.drainInboxFrames()
	if _, got, ok, err := b.rx.RecvFrame(true); err != nil || !ok || !bytes.Equal(got, want) {
		t.Fatalf("copied frame in %d pieces: received %v, %v, intact %v", len(cuts)+1, ok, err, bytes.Equal(got, want))
	}
}

// TestGatewayAnswersFrameInPieces: frames in several buffers that the
// gateway answers (an echo request) or that routing refuses (a TTL of 1)
// are answered from their real bytes: the echo reply carries the
// request's data, the time exceeded quotes the frame's start.
func TestGatewayAnswersFrameInPieces(t *testing.T) {
	a, b := pair(t)
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	echo := packettest.ICMPv4(a.mac, gateway.MAC, a.ip, gateway.IPv4, 8, 0, packettest.Echo(7, 1, data))
	addPieces(t, a, vmm.NetHeader{}, echo, 34, 300, 11)
	expiring := udp(a, b, 1500)
	expiring[packet.EthernetHeaderLen+8] = 1
	ip := packet.IPv4(expiring[packet.EthernetHeaderLen:])
	ip.SetChecksum(0)
	ip.SetChecksum(ip.CalculateChecksum())
	addPieces(t, a, vmm.NetHeader{}, expiring, 42, 500)
	a.tx.Publish()
	a.r.processTx()
	_, reply, ok, err := a.rx.RecvFrame(true)
	if err != nil || !ok {
		t.Fatalf("no echo reply: %v, %v", ok, err)
	}
	p := packettest.Check(t, reply)
	if p.ICMPType != 0 || !bytes.Equal(p.L4(reply)[8:], data) {
		t.Fatalf("echo reply type %d, data intact %v", p.ICMPType, bytes.Equal(p.L4(reply)[8:], data))
	}
	_, te, ok, err := a.rx.RecvFrame(true)
	if err != nil || !ok {
		t.Fatalf("no time exceeded: %v, %v", ok, err)
	}
	p = packettest.Check(t, te)
	quoted := p.L4(te)[8:]
	if p.ICMPType != 11 || !bytes.Equal(quoted, expiring[packet.EthernetHeaderLen:packet.EthernetHeaderLen+len(quoted)]) || len(quoted) < 28 {
		t.Fatalf("time exceeded type %d quoting %d bytes, as sent: %v", p.ICMPType, len(quoted),
			bytes.Equal(quoted, expiring[packet.EthernetHeaderLen:packet.EthernetHeaderLen+len(quoted)]))
	}
}
