package reactor

import (
	"bytes"
	"testing"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/offload"
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
			if w, r := st.RxPackets.Load(), st.TxPackets.Load(); w != 1 || r != 1 {
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
