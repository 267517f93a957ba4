package packet

import "testing"

func TestSkipIPv6ExtHeaders(t *testing.T) {
	hbh := []byte{IPv6Routing, 0, 1, 4, 0, 0, 0, 0}
	routing := []byte{IPv6DestOpts, 0, 0, 0, 0, 0, 0, 0}
	dst := []byte{IPv6AH, 1, 1, 4, 0, 0, 0, 0, 1, 6, 0, 0, 0, 0, 0, 0}
	ah := []byte{ProtoTCP, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	long := make([]byte, 0, 8*(maxExtHeaders+1))
	for range maxExtHeaders + 1 {
		long = append(long, IPv6DestOpts, 0, 0, 0, 0, 0, 0, 0)
	}
	cases := []struct {
		name      string
		payload   []byte
		next      uint8
		wantProto uint8
		wantOff   int
		wantR     Reason
	}{
		{"no extension header", []byte{1, 2}, ProtoUDP, ProtoUDP, 0, ReasonNone},
		{"hop-by-hop, routing, destination options, AH", cat(hbh, routing, dst, ah), IPv6HopByHop, ProtoTCP, 44, ReasonNone},
		{"no next header", cat(hbh[:0], []byte{IPv6NoNextHeader, 0, 0, 0, 0, 0, 0, 0}), IPv6DestOpts, IPv6NoNextHeader, 8, ReasonNone},
		{"truncated hop-by-hop", hbh[:6], IPv6HopByHop, IPv6HopByHop, 0, ReasonBadExtensionHeader},
		{"length past the end", []byte{ProtoUDP, 3, 0, 0, 0, 0, 0, 0}, IPv6DestOpts, IPv6DestOpts, 0, ReasonBadExtensionHeader},
		{"truncated AH", ah[:6], IPv6AH, IPv6AH, 0, ReasonBadExtensionHeader},
		{"AH length past the end", ah[:8], IPv6AH, IPv6AH, 0, ReasonBadExtensionHeader},
		{"truncated fragment header", []byte{ProtoUDP, 0, 0}, IPv6Fragment, IPv6Fragment, 0, ReasonBadExtensionHeader},
		{"too many headers", long, IPv6DestOpts, IPv6DestOpts, 8 * maxExtHeaders, ReasonBadExtensionHeader},
	}
	for _, tc := range cases {
		proto, off, r := SkipIPv6ExtHeaders(tc.payload, tc.next)
		if proto != tc.wantProto || off != tc.wantOff || r != tc.wantR {
			t.Errorf("%s: (%d, %d, %v), want (%d, %d, %v)", tc.name, proto, off, r, tc.wantProto, tc.wantOff, tc.wantR)
		}
	}
}
