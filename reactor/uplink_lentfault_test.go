package reactor

import (
	"net/netip"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/tests/vmm"
)

// TestUplinkLentFrameFault: a NIC lends the uplink three 1000-byte
// datagrams to the outside, and its VMM truncates its memory under the
// second one's bytes past its headers. The uplink reactor's copy of it
// faults: it drops that frame only (lent_fault) and writes the other two,
// without crashing (the rig fails on any Crashed event).
func TestUplinkLentFrameFault(t *testing.T) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	rig := newUplinkRig(t)
	a := rig.a
	sock := rig.listenUDP(t, netip.AddrPortFrom(outside4, 7000))
	frames := make([][]byte, 3)
	var poisoned uint16
	for i := range frames {
		payload := make([]byte, 1000-42)
		payload[0] = byte(i)
		frames[i] = packettest.UDP(a.mac, gateway.MAC, nicA4, outside4, 4000, 7000, payload)
		head, err := a.tx.AddTX(vmm.NetHeader{}, frames[i])
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			poisoned = head
		}
	}
	page := uint64(os.Getpagesize())
	boundary := a.mem.Alloc(2*page, page) + page
	at := boundary - 200
	copy(a.mem.Bytes(at, 200), frames[1])
	a.tx.ModifyDesc(poisoned, 1, func(d *vmm.Desc) { d.Addr = at })
	a.tx.Publish()
	if err := a.mem.Truncate(boundary); err != nil {
		t.Fatal(err)
	}
	a.r.processTx()

	buf := make([]byte, 2048)
	for _, want := range []byte{0, 2} {
		_ = sock.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := sock.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("outside host received nothing: %v; uplink %+v", err, rig.up.Stats().Snapshot())
		}
		if n != 1000-42 || buf[0] != want {
			t.Fatalf("outside host received %d bytes of datagram %d, want datagram %d", n, buf[0], want)
		}
	}
	if got := rig.up.Stats().Drops[DropLentFault].Load(); got != 1 {
		t.Fatalf("uplink lent_fault drops %d, want 1", got)
	}
}
