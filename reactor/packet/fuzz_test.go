package packet

import "testing"

// FuzzParse feeds arbitrary frames to Parse and to everything that consumes
// its result; nothing may panic and the offsets must stay inside the frame.
func FuzzParse(f *testing.F) {
	for name := range fixtures {
		f.Add(fixture(f, name))
	}
	f.Add(udp4Frame(600, peer4))
	f.Add(udp6Frame(1300, peer6))
	out := make([]byte, 2048)
	small := make([]byte, 60)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var p Parsed
		Parse(frame, &p)
		if p.End > len(frame) || p.L4Off > p.End || (p.L4Off != 0 && p.L4Off < p.L3Off) {
			t.Fatalf("offsets out of the frame: %+v (len %d)", p, len(frame))
		}
		if p.IPVersion != 0 && p.IPLen() <= 0 {
			t.Fatalf("IP packet of length %d", p.IPLen())
		}
		_ = p.Reason.String()
		for _, o := range [][]byte{out, small} {
			PutICMPv4TimeExceeded(o, frame, &p, gwMAC, gw4)
			PutICMPv4FragmentationNeeded(o, frame, &p, gwMAC, gw4, 1280)
			PutICMPv6TimeExceeded(o, frame, &p, gwMAC, gw6)
			PutICMPv6PacketTooBig(o, frame, &p, gwMAC, gw6, 1280)
		}
		if p.IPProto == ProtoICMPv6 && p.L4Off != 0 {
			o := NDPOptions(p.L4(frame)[ICMPHeaderLen:])
			o.IsValid()
			o.SourceLinkLayer()
		}
		c := append([]byte(nil), frame...)
		DecTTL(c, &p)
		var q Parsed
		Parse(c, &q)
		if p.IPVersion != 0 && q.Reason != p.Reason {
			t.Fatalf("DecTTL changed the parse: %v -> %v", p.Reason, q.Reason)
		}
	})
}
