package offload_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"mvirt-net/reactor/offload"
)

// fixIPv4 recomputes the IPv4 header checksum of an IPv4 frame.
func fixIPv4(fr []byte) {
	hl := int(fr[14]&0x0f) * 4
	binary.BigEndian.PutUint16(fr[24:], 0)
	binary.BigEndian.PutUint16(fr[24:], ^refSum(fr[14:14+hl]))
}

// withIPv4Options inserts 4 bytes of IPv4 options (NOP NOP NOP EOL).
func withIPv4Options(h *offload.Header, fr []byte) []byte {
	out := bytes.Join([][]byte{fr[:34], {1, 1, 1, 0}, fr[34:]}, nil)
	out[14] = 0x46
	binary.BigEndian.PutUint16(out[16:], binary.BigEndian.Uint16(out[16:])+4)
	fixIPv4(out)
	h.CsumStart += 4
	h.HdrLen += 4
	return out
}

// TestValidateAdversarial feeds Validate headers a broken or hostile guest
// might send, each against a frame that is otherwise fine.
func TestValidateAdversarial(t *testing.T) {
	tcp4 := flow{flags: 0x18, mss: 1448, payload: pattern(20000, 1)}
	tcp6 := flow{v6: true, flags: 0x18, mss: 1428, payload: pattern(20000, 2)}
	udp4 := flow{udp: true, mss: 1400, payload: pattern(20000, 3)}
	dst6 := flow{v6: true, dstOpts: 8, flags: 0x18, mss: 1428, payload: pattern(5000, 4)}
	type mut func(h *offload.Header, fr []byte) []byte
	none := func(*offload.Header, []byte) []byte { return nil }
	for _, tc := range []struct {
		name  string
		f     flow
		feat  offload.Features
		m     mut
		want  offload.Reason
		split int // head length, 0: the whole frame
	}{
		{"linux tso4", tcp4, hostAll, none, offload.ReasonNone, 0},
		{"linux tso6", tcp6, hostAll, none, offload.ReasonNone, 0},
		{"linux uso", udp4, hostAll, none, offload.ReasonNone, 0},
		{"dest opts", dst6, hostAll, none, offload.ReasonNone, 0},
		{"head just the headers", tcp4, hostAll, none, offload.ReasonNone, 54},
		{"hdr_len a short hint", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.HdrLen = 14; return nil }, offload.ReasonNone, 0},
		{"hdr_len zero", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.HdrLen = 0; return nil }, offload.ReasonNone, 0},
		{"hdr_len covering payload", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.HdrLen = 1000; return nil }, offload.ReasonNone, 0},
		{"gso_size above payload", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOSize = 20010; return nil }, offload.ReasonNone, 0},
		{"plain frame, garbage fields", tcp4, 0, func(h *offload.Header, _ []byte) []byte {
			*h = offload.Header{Flags: offload.FlagDataValid | offload.FlagRscInfo | 0xf0, HdrLen: 0xffff, GSOSize: 0xffff, CsumStart: 0xffff, CsumOffset: 0xffff}
			return nil
		}, offload.ReasonNone, 0},

		{"csum not negotiated", tcp4, hostAll &^ offload.Csum, none, offload.ReasonCsumNotNegotiated, 0},
		{"tso4 not negotiated", tcp4, hostAll &^ offload.HostTSO4, none, offload.ReasonGSONotNegotiated, 0},
		{"tso6 not negotiated", tcp6, hostAll &^ offload.HostTSO6, none, offload.ReasonGSONotNegotiated, 0},
		{"uso not negotiated", udp4, hostAll &^ offload.HostUSO, none, offload.ReasonGSONotNegotiated, 0},
		{"ufo", udp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOType = offload.GSOUDP; return nil }, offload.ReasonGSONotNegotiated, 0},
		{"unknown gso type", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOType = 2; return nil }, offload.ReasonGSONotNegotiated, 0},
		{"ecn not negotiated", tcp4, hostAll &^ offload.HostECN, func(h *offload.Header, _ []byte) []byte { h.GSOType |= offload.GSOECN; return nil }, offload.ReasonGSOECNNotNegotiated, 0},
		{"gso without needs_csum", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.Flags = 0; return nil }, offload.ReasonGSOWithoutCsum, 0},
		{"gso_size zero", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOSize = 0; return nil }, offload.ReasonGSOSizeZero, 0},
		{"gso_size beyond frame", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOSize = 20055; return nil }, offload.ReasonGSOSizeBeyondFrame, 0},
		{"hdr_len beyond frame", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.HdrLen = 20055; return nil }, offload.ReasonHdrLenBeyondFrame, 0},
		{"too many segments", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOSize = 9; return nil }, offload.ReasonGSOTooManySegments, 0},
		{"too many datagrams", udp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOSize = 150; return nil }, offload.ReasonGSOTooManySegments, 0},
		{"csum_start in IP header", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.CsumStart = 14; h.CsumOffset = 36; return nil }, offload.ReasonCsumNotL4, 0},
		{"csum_start zero", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.CsumStart = 0; return nil }, offload.ReasonCsumNotL4, 0},
		{"csum_offset not the tcp field", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.CsumOffset = 0; return nil }, offload.ReasonCsumNotL4, 0},
		{"csum_start inside tcp", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.CsumStart += 2; h.CsumOffset -= 2; return nil }, offload.ReasonCsumNotL4, 0},
		{"csum_start beyond frame", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.CsumStart = 0xffff; return nil }, offload.ReasonCsumOutsideFrame, 0},
		{"csum_offset beyond frame", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.CsumOffset = 0xffff; return nil }, offload.ReasonCsumOutsideFrame, 0},
		{"csum field in padding", tcp4, hostAll, func(h *offload.Header, fr []byte) []byte {
			*h = offload.Header{Flags: offload.FlagNeedsCsum, CsumStart: 34, CsumOffset: uint16(len(fr) - 34)}
			return append(fr, 0, 0, 0, 0)
		}, offload.ReasonCsumOutsideFrame, 0},
		{"tcpv4 on ipv6", tcp6, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOType = offload.GSOTCPv4; return nil }, offload.ReasonGSOTypeMismatch, 0},
		{"tcpv6 on ipv4", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOType = offload.GSOTCPv6; return nil }, offload.ReasonGSOTypeMismatch, 0},
		{"udp_l4 on tcp", tcp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOType = offload.GSOUDPL4; return nil }, offload.ReasonGSOTypeMismatch, 0},
		{"tcpv4 on udp", udp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOType = offload.GSOTCPv4; return nil }, offload.ReasonGSOTypeMismatch, 0},
		{"ecn on udp", udp4, hostAll, func(h *offload.Header, _ []byte) []byte { h.GSOType |= offload.GSOECN; return nil }, offload.ReasonGSOTypeMismatch, 0},
		{"ipv4 options", tcp4, hostAll, func(h *offload.Header, fr []byte) []byte { return withIPv4Options(h, fr) }, offload.ReasonGSOExtHeaders, 0},
		{"ipv6 routing header", dst6, hostAll, func(_ *offload.Header, fr []byte) []byte { fr[20] = 43; return nil }, offload.ReasonGSOExtHeaders, 0},
		{"ipv6 atomic fragment", dst6, hostAll, func(_ *offload.Header, fr []byte) []byte { fr[20] = 44; fr[56], fr[57] = 0, 0; return nil }, offload.ReasonGSOExtHeaders, 0},
		{"ipv4 fragment", tcp4, hostAll, func(_ *offload.Header, fr []byte) []byte { fr[20] |= 0x20; fixIPv4(fr); return nil }, offload.ReasonFragment, 0},
		{"ipv6 fragment", dst6, hostAll, func(_ *offload.Header, fr []byte) []byte { fr[20] = 44; fr[56], fr[57] = 0, 1; return nil }, offload.ReasonFragment, 0},
		{"bad ipv4 checksum", tcp4, hostAll, func(_ *offload.Header, fr []byte) []byte { fr[24] ^= 1; return nil }, offload.ReasonBadHeaders, 0},
		{"ipv4 longer than frame", tcp4, hostAll, func(_ *offload.Header, fr []byte) []byte { return fr[:len(fr)-1] }, offload.ReasonBadHeaders, 0},
		{"ipv6 longer than frame", tcp6, hostAll, func(_ *offload.Header, fr []byte) []byte { return fr[:len(fr)-1] }, offload.ReasonBadHeaders, 0},
		{"ipv4 ihl 4", tcp4, hostAll, func(_ *offload.Header, fr []byte) []byte { fr[14] = 0x44; return nil }, offload.ReasonBadHeaders, 0},
		{"tcp data offset 4", tcp4, hostAll, func(_ *offload.Header, fr []byte) []byte { fr[46] = 0x40; return nil }, offload.ReasonBadHeaders, 0},
		{"tcp options beyond packet", tcp4, hostAll, func(h *offload.Header, fr []byte) []byte {
			h.GSOType, h.GSOSize = offload.GSONone, 0
			fr[46] = 0xf0
			binary.BigEndian.PutUint16(fr[16:], 50)
			fixIPv4(fr)
			return fr[:64]
		}, offload.ReasonBadHeaders, 0},
		{"arp with needs_csum", tcp4, hostAll, func(h *offload.Header, fr []byte) []byte {
			*h = offload.Header{Flags: offload.FlagNeedsCsum, CsumStart: 20, CsumOffset: 2}
			fr[12], fr[13] = 0x08, 0x06
			return nil
		}, offload.ReasonBadHeaders, 0},
		{"runt", tcp4, hostAll, func(h *offload.Header, fr []byte) []byte { h.GSOType, h.GSOSize = offload.GSONone, 0; return fr[:13] }, offload.ReasonBadHeaders, 0},
		{"headers split", tcp4, hostAll, none, offload.ReasonHeadersSplit, 40},
		{"ip header split", tcp4, hostAll, none, offload.ReasonHeadersSplit, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, fr := tc.f.superFrame()
			if m := tc.m(&h, fr); m != nil {
				fr = m
			}
			head, tail := fr, [][]byte(nil)
			if tc.split > 0 {
				head, tail = fr[:tc.split], [][]byte{fr[tc.split:]}
			}
			var l offload.Layout
			if got := offload.Validate(h, head, tail, tc.feat, &l); got != tc.want {
				t.Fatalf("Validate = %v, want %v", got, tc.want)
			}
			if l.Len != len(fr) {
				t.Errorf("Layout.Len = %d, want %d", l.Len, len(fr))
			}
		})
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for r := range offload.NumReasons {
		s := r.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("reason %d: name %q", r, s)
		}
		seen[s] = true
	}
	if offload.NumReasons.String() != "unknown" {
		t.Error("NumReasons has a name")
	}
}

func TestPlan(t *testing.T) {
	tso4 := flow{flags: 0x18, mss: 1448, payload: pattern(5000, 1)}
	uso6 := flow{v6: true, udp: true, mss: 1448, payload: pattern(5000, 1)}
	ecn := flow{v6: true, ecn: true, flags: 0x98, mss: 1448, payload: pattern(5000, 1)}
	csumOnly := flow{flags: 0x18, mss: 1448, payload: pattern(500, 1)}
	for _, tc := range []struct {
		name string
		f    flow
		csum bool // strip GSO: a NEEDS_CSUM frame
		dst  offload.Features
		want offload.Action
	}{
		{"tso4 to tso4", tso4, false, offload.GuestCsum | offload.GuestTSO4, offload.ActionPassThrough},
		{"tso4 to tso6 only", tso4, false, offload.GuestCsum | offload.GuestTSO6, offload.ActionSegmentPartial},
		{"tso4 to nothing", tso4, false, 0, offload.ActionSegment},
		{"uso6 to uso4 only", uso6, false, offload.GuestCsum | offload.GuestUSO4, offload.ActionSegmentPartial},
		{"uso6 to uso6", uso6, false, offload.GuestCsum | offload.GuestUSO6, offload.ActionPassThrough},
		{"ecn to tso6 without ecn", ecn, false, offload.GuestCsum | offload.GuestTSO6, offload.ActionSegmentPartial},
		{"ecn to tso6 with ecn", ecn, false, offload.GuestCsum | offload.GuestTSO6 | offload.GuestECN, offload.ActionPassThrough},
		{"csum to guest_csum", csumOnly, true, offload.GuestCsum, offload.ActionPassThrough},
		{"csum to nothing", csumOnly, true, 0, offload.ActionComplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, fr := tc.f.superFrame()
			if tc.csum {
				h.GSOType, h.GSOSize = offload.GSONone, 0
			}
			var l offload.Layout
			if r := offload.Validate(h, fr, nil, hostAll, &l); r != offload.ReasonNone {
				t.Fatalf("Validate: %v", r)
			}
			if got := offload.Plan(h, &l, tc.dst); got != tc.want {
				t.Errorf("Plan = %v, want %v", got, tc.want)
			}
		})
	}
	var l offload.Layout
	if got := offload.Plan(offload.Header{Flags: offload.FlagDataValid}, &l, offload.All); got != offload.ActionNone {
		t.Errorf("Plan(plain) = %v", got)
	}
}

func TestPullup(t *testing.T) {
	fr := pattern(1000, 9)
	for _, pieces := range [][][]byte{{fr}, split(fr, 1, 2, 3, 300, 301), split(fr, 256), split(fr, 100, 255, 257), {fr[:0], fr[:10], fr[10:10], fr[10:]}} {
		for _, n := range []int{0, 1, 256, 2000} {
			buf := make([]byte, n)
			rest := make([][]byte, len(pieces))
			head, tail := offload.Pullup(buf, pieces, rest)
			if len(head) != min(n, len(fr)) {
				t.Fatalf("head %d bytes, want %d", len(head), min(n, len(fr)))
			}
			if got := append(bytes.Clone(head), bytes.Join(tail, nil)...); !bytes.Equal(got, fr) {
				t.Fatalf("pieces %d, buf %d: head+tail is not the frame", len(pieces), n)
			}
		}
	}
}

func TestSegmenterTooManyPieces(t *testing.T) {
	f := flow{flags: 0x18, mss: 100, payload: pattern(2000, 1)}
	h, fr := f.superFrame()
	var cuts []int
	for c := 60; c < len(fr); c += 10 {
		cuts = append(cuts, c)
	}
	pieces := split(fr, cuts...)
	var l offload.Layout
	if r := offload.Validate(h, pieces[0], pieces[1:], hostAll, &l); r != offload.ReasonNone {
		t.Fatalf("Validate: %v", r)
	}
	var s offload.Segmenter
	if r := s.Init(h, &l, pieces[0], pieces[1:], offload.ChecksumFull); r != offload.ReasonTooManyPieces {
		t.Fatalf("Init = %v, want too_many_pieces", r)
	}
	var hdr [offload.MaxHeaderLen]byte
	var payload [offload.MaxPieces][]byte
	if _, _, ok := s.Next(hdr[:], &payload); ok || s.Segments() != 0 {
		t.Fatal("Next after a refused Init handed out a segment")
	}
	h.GSOType, h.GSOSize = offload.GSONone, 0
	if r := s.Init(h, &l, pieces[0], pieces[1:], offload.ChecksumFull); r != offload.ReasonGSOTypeMismatch {
		t.Fatalf("Init without GSO = %v", r)
	}
}

func TestSegmentIPLen(t *testing.T) {
	f := flow{flags: 0x18, mss: 1448, payload: pattern(20000, 1)}
	h, fr := f.superFrame()
	var l offload.Layout
	if r := offload.Validate(h, fr, nil, hostAll, &l); r != offload.ReasonNone {
		t.Fatal(r)
	}
	if got := offload.SegmentIPLen(h, &l); got != 1488 {
		t.Errorf("TSO 1448: SegmentIPLen = %d, want 1488", got)
	}
	h.GSOSize = 30000 - 54
	if got := offload.SegmentIPLen(h, &l); got != 20040 {
		t.Errorf("gso_size above payload: SegmentIPLen = %d, want 20040", got)
	}
	h.GSOType, h.GSOSize = offload.GSONone, 0
	offload.Validate(h, fr, nil, hostAll, &l)
	if got := offload.SegmentIPLen(h, &l); got != 20040 {
		t.Errorf("NEEDS_CSUM: SegmentIPLen = %d, want 20040", got)
	}
	offload.Validate(offload.Header{}, fr, nil, hostAll, &l)
	if got := offload.SegmentIPLen(offload.Header{}, &l); got != 0 {
		t.Errorf("plain: SegmentIPLen = %d, want 0", got)
	}
}
