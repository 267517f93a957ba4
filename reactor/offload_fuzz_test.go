package reactor

import (
	"testing"

	"mvirt-net/reactor/gateway"
	"mvirt-net/tests/vmm"
)

// FuzzOffloadTX sends frames with any virtio-net header, laid out in up
// to three TX buffers, from a NIC with offloads to one without: nothing
// panics, every TX chain goes back to the guest, and nothing stays lent.
func FuzzOffloadTX(f *testing.F) {
	a, b := offloadPair(f, offloadFeatures, testFeatures)
	super := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, tcpPSH|tcpACK, 1, 64, streamPayload(5000), true)
	h := tsoHeader(600)
	f.Add(h.Append(nil)[:10], super, uint16(66), uint16(1000))
	h = csumHeader()
	f.Add(h.Append(nil)[:10], super[:1000], uint16(40), uint16(300))
	f.Fuzz(func(t *testing.T, hdr, frame []byte, cut1, cut2 uint16) {
		if len(hdr) < 10 || len(frame) == 0 || len(frame) > 3*tsoTxBuf {
			return
		}
		nh, err := vmm.ParseNetHeader(append(hdr[:10:10], 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		c1 := min(int(cut1), len(frame), tsoTxBuf-vmm.NetHeaderLen)
		c2 := min(int(cut2), len(frame)-c1, tsoTxBuf)
		if len(frame)-c1-c2 > tsoTxBuf {
			return
		}
		cuts := []int{c1}
		if c2 > 0 {
			// An empty buffer would break the virtqueue rules.
			cuts = append(cuts, c2)
		}
		addPieces(t, a, vmm.NetHeader{Flags: nh.Flags, GSOType: nh.GSOType, HdrLen: nh.HdrLen, GSOSize: nh.GSOSize,
			CsumStart: nh.CsumStart, CsumOffset: nh.CsumOffset}, frame, cuts...)
		a.tx.Publish()
		a.r.processTx()
		b.r.drainInboxFrames()
		a.r.drainInboxFrames()
		a.r.reapTx()
		recvAll(t, b)
		recvAll(t, a)
		if used := usedTX(t, a); used != 1 || a.r.inflight.len() != 0 {
			t.Fatalf("%d TX chains back, %d in flight", used, a.r.inflight.len())
		}
	})
}
