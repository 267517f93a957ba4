package reactor

import (
	"bytes"
	"testing"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/tests/vmm"
)

// TestUplinkSegmentsSuperFrames: a super-frame a NIC with offloads sends
// to the outside goes to the kernel as complete segments (lent and cut by
// the uplink, or cut by the sender when it cannot be lent), which the
// kernel forwards to a NIC of the other public network: every segment
// arrives there as a stack without TSO would have sent it, after three
// hops (into the uplink, the kernel, out of it).
func TestUplinkSegmentsSuperFrames(t *testing.T) {
	rig := newUplinkRig(t)
	a, b := rig.a, rig.b
	a.r.negotiate(offloadFeatures)
	payload := streamPayload(20000)
	flags := uint8(tcpFIN | tcpPSH | tcpACK)
	frame := tcpFrame(a.mac, gateway.MAC, nicA4, nicB4, 1000, flags, 0x1234, 64, payload, true)
	for _, lend := range []bool{true, false} {
		if !lend {
			a.r.inflight.limit = 0
		}
		cuts := []int{66}
		for range 10 {
			cuts = append(cuts, 1999)
		}
		addPieces(t, a, tsoHeader(tsoMSS), frame, cuts...)
		a.tx.Publish()
		a.r.processTx()
		var got [][]byte
		deadline := time.Now().Add(2 * time.Second)
		for len(got) < 14 && time.Now().Before(deadline) {
			a.r.reapTx()
			b.r.drainInboxFrames()
			for {
				_, f, ok, err := b.rx.RecvFrame(true)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				got = append(got, f)
				if _, err := b.rx.AddRX(vmm.DefaultBufSize); err != nil {
					t.Fatal(err)
				}
			}
			b.rx.Publish()
			time.Sleep(time.Millisecond)
		}
		if len(got) != 14 {
			t.Fatalf("lent %v: B received %d of 14 segments; A drops %v, uplink %+v", lend, len(got),
				a.r.cfg.Stats.Snapshot().Drops, rig.up.Stats().Snapshot())
		}
		for i, off := 0, 0; off < len(payload); i, off = i+1, off+tsoMSS {
			end := min(off+tsoMSS, len(payload))
			f := flags
			if end < len(payload) {
				f &^= tcpFIN | tcpPSH
			}
			want := tcpFrame(gateway.MAC, b.mac, nicA4, nicB4, 1000+uint32(off), f, 0x1234+uint16(i), 61, payload[off:end], false)
			if !bytes.Equal(got[i], want) {
				t.Fatalf("lent %v: segment %d differs from the expectation", lend, i)
			}
		}
		a.r.reapTx()
		usedTX(t, a)
	}
}
