package packet

import (
	"net/netip"
	"testing"
)

func TestNDPOptions(t *testing.T) {
	f := fixture(t, "ns6")
	var p Parsed
	Parse(f, &p)
	ns := NDPNeighborSolicit(p.L4(f))
	if ns.Target() != gw6 {
		t.Errorf("target %v", ns.Target())
	}
	o := ns.Options()
	if !o.IsValid() {
		t.Fatalf("options % x invalid", o)
	}
	if m, ok := o.SourceLinkLayer(); !ok || m != vmMAC {
		t.Errorf("SLLA %v %v", m, ok)
	}
	if _, ok := o.TargetLinkLayer(); ok {
		t.Errorf("TLLA found in an NS")
	}

	bad := map[string]NDPOptions{
		"zero length":  {1, 0, 0, 0, 0, 0, 0, 0},
		"overrun":      {1, 2, 0, 0, 0, 0, 0, 0},
		"one byte":     {1},
		"good then 0s": {1, 1, 1, 2, 3, 4, 5, 6, 2, 0},
	}
	for name, o := range bad {
		if o.IsValid() {
			t.Errorf("%s: valid", name)
		}
	}
	if _, ok := (NDPOptions{2, 0, 1, 1, 1, 2, 3, 4, 5, 6}).TargetLinkLayer(); ok {
		t.Errorf("Find went past a zero-length option")
	}
	if _, ok := (NDPOptions{}).SourceLinkLayer(); ok {
		t.Errorf("SLLA in empty options")
	}
}

func TestNDPOptionBuilders(t *testing.T) {
	b := make([]byte, 64)
	n := PutNDPLinkLayerOption(b, NDPOptTargetLinkLayer, gwMAC)
	n += PutNDPMTUOption(b[n:], 9000)
	servers := []netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::54")}
	n += PutNDPRDNSSOption(b[n:], 5400, servers)
	if n != 8+8+40 {
		t.Fatalf("options length %d", n)
	}
	o := NDPOptions(b[:n])
	if !o.IsValid() {
		t.Fatalf("built options invalid: % x", o)
	}
	if m, ok := o.TargetLinkLayer(); !ok || m != gwMAC {
		t.Errorf("TLLA %v", m)
	}
	if mtu, ok := o.Find(NDPOptMTU); !ok || len(mtu) != 6 || mtu[5] != 0x28 || mtu[4] != 0x23 {
		t.Errorf("MTU option % x", mtu)
	}
	r, ok := o.Find(NDPOptRDNSS)
	if !ok || len(r) != 38 || netip.AddrFrom16([16]byte(r[6:22])) != servers[0] || netip.AddrFrom16([16]byte(r[22:38])) != servers[2] {
		t.Errorf("RDNSS option % x", r)
	}
	if PutNDPRDNSSOption(b, 1, servers[1:2]) != 0 || PutNDPRDNSSOption(b[:20], 1, servers) != 0 ||
		PutNDPMTUOption(b[:7], 1) != 0 || PutNDPLinkLayerOption(b[:7], 1, gwMAC) != 0 {
		t.Errorf("builders wrote into too small buffers or without servers")
	}
}

func TestPutUDPFrame(t *testing.T) {
	out := make([]byte, 200)
	payload := []byte("hello, dhcp")
	for _, tc := range []struct{ src, dst netip.Addr }{{gw4, vm4}, {gw6, vm6LL}} {
		n := PutUDPFrame(out, &UDPFrame{SrcMAC: gwMAC, DstMAC: vmMAC, Src: tc.src, Dst: tc.dst, SrcPort: 67, DstPort: 68}, payload)
		f := out[:n]
		var p Parsed
		Parse(f, &p)
		if p.Reason != ReasonNone || p.End != n || p.Src != tc.src || p.Dst != tc.dst || p.SrcPort != 67 || p.DstPort != 68 ||
			p.TTL != 64 || p.SrcMAC != gwMAC || p.DstMAC != vmMAC {
			t.Errorf("%v: parsed %+v", tc.src, p)
		}
		if c := TransportChecksum(ProtoUDP, p.Src, p.Dst, p.L4(f)); c != 0 {
			t.Errorf("%v: UDP checksum residue %#04x", tc.src, c)
		}
		if string(UDP(p.L4(f)).Payload()) != string(payload) {
			t.Errorf("%v: payload %q", tc.src, UDP(p.L4(f)).Payload())
		}
	}
	if PutUDPFrame(out, &UDPFrame{Src: gw4, Dst: vm6}, payload) != 0 {
		t.Errorf("mixed families accepted")
	}
	if PutUDPFrame(out[:50], &UDPFrame{Src: gw4, Dst: vm4}, payload) != 0 {
		t.Errorf("too small buffer accepted")
	}
}
