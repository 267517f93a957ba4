package offload_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"mvirt-net/reactor/offload"
)

// segmentAll validates and segments the frame pieces and returns every
// segment as one byte slice.
func segmentAll(t *testing.T, h offload.Header, pieces [][]byte, mode offload.ChecksumMode) [][]byte {
	t.Helper()
	var buf [offload.MaxHeaderLen]byte
	rest := make([][]byte, len(pieces))
	head, tail := offload.Pullup(buf[:], pieces, rest)
	var l offload.Layout
	if r := offload.Validate(h, head, tail, hostAll, &l); r != offload.ReasonNone {
		t.Fatalf("Validate: %v", r)
	}
	var s offload.Segmenter
	if r := s.Init(h, &l, head, tail, mode); r != offload.ReasonNone {
		t.Fatalf("Init: %v", r)
	}
	var out [][]byte
	var hdr [offload.MaxHeaderLen]byte
	var payload [offload.MaxPieces][]byte
	for {
		hl, n, ok := s.Next(hdr[:], &payload)
		if !ok {
			break
		}
		seg := append([]byte(nil), hdr[:hl]...)
		for _, p := range payload[:n] {
			seg = append(seg, p...)
		}
		out = append(out, seg)
	}
	if len(out) != s.Segments() {
		t.Errorf("Segments() = %d, Next gave %d", s.Segments(), len(out))
	}
	return out
}

func testFlows() map[string]flow {
	return map[string]flow{
		"tcp4 64KiB":         {flags: 0x18, seq: 0xfffff000, id: 0xfff0, mss: 1448, payload: pattern(65536-54, 1)},
		"tcp4 FIN PSH CWR":   {flags: 0x80 | 0x10 | 0x08 | 0x01, ecn: true, seq: 7, mss: 1000, payload: pattern(4500, 2)},
		"tcp4 options":       {flags: 0x10, tcpOpts: 12, mss: 1448, payload: pattern(10000, 3)},
		"tcp4 exact":         {flags: 0x18, mss: 1000, payload: pattern(3000, 4)},
		"tcp4 one segment":   {flags: 0x18, mss: 1250, payload: pattern(1200, 5)},
		"tcp4 empty":         {flags: 0x11, mss: 40},
		"tcp4 odd mss":       {flags: 0x18, mss: 1001, payload: pattern(7777, 6)},
		"tcp6 64KiB":         {v6: true, flags: 0x18, seq: 1, mss: 1428, payload: pattern(65535-40-20, 7)},
		"tcp6 dest opts":     {v6: true, dstOpts: 16, flags: 0x19, mss: 1200, payload: pattern(5000, 8)},
		"tcp6 ECN":           {v6: true, ecn: true, flags: 0x98, mss: 500, payload: pattern(1777, 9)},
		"udp4 USO":           {udp: true, id: 100, mss: 1472, payload: pattern(60000, 10)},
		"udp4 USO remainder": {udp: true, mss: 1000, payload: pattern(2345, 11)},
		"udp6 USO":           {udp: true, v6: true, mss: 1232, payload: pattern(30001, 12)},
	}
}

// TestSegmentMatchesReference compares every segment, byte for byte, with
// a reference segmentation built from scratch, for frames in one piece and
// in many (odd-sized, splitting headers and segments).
func TestSegmentMatchesReference(t *testing.T) {
	for name, f := range testFlows() {
		h, fr := f.superFrame()
		want := f.segments()
		layouts := map[string][][]byte{
			"linear":     {fr},
			"head+frags": split(fr, int(h.HdrLen), int(h.HdrLen)+3, len(fr)/2+1),
			"split hdr":  split(fr, 7, 30, 41),
		}
		if len(fr) > 200 {
			var cuts []int
			for c := 1; c < len(fr); c += 97 + c%13 {
				cuts = append(cuts, c)
			}
			if len(cuts) < offload.MaxPieces {
				layouts["many odd"] = split(fr, cuts...)
			}
		}
		for lname, pieces := range layouts {
			t.Run(fmt.Sprintf("%s/%s", name, lname), func(t *testing.T) {
				got := segmentAll(t, h, pieces, offload.ChecksumFull)
				if len(got) != len(want) {
					t.Fatalf("%d segments, want %d", len(got), len(want))
				}
				for i := range got {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("segment %d differs:\n got %x\nwant %x", i, got[i][:min(len(got[i]), 80)], want[i][:min(len(want[i]), 80)])
					}
					checkSegment(t, &f, got[i], i, len(want))
				}
			})
		}
	}
}

// checkSegment verifies one full-checksum segment on its own: lengths,
// checksums by recomputation, size bound.
func checkSegment(t *testing.T, f *flow, seg []byte, i, n int) {
	t.Helper()
	l3 := seg[14:]
	var l4 []byte
	if f.v6 {
		pl := int(binary.BigEndian.Uint16(l3[4:]))
		if 54+pl != len(seg) {
			t.Fatalf("segment %d: payload length %d for %d bytes", i, pl, len(seg))
		}
		l4 = l3[40+f.dstOpts:]
	} else {
		if tl := int(binary.BigEndian.Uint16(l3[2:])); 14+tl != len(seg) {
			t.Fatalf("segment %d: total length %d for %d bytes", i, tl, len(seg))
		}
		if refSum(l3[:20]) != 0xffff {
			t.Fatalf("segment %d: bad IPv4 header checksum", i)
		}
		if id := binary.BigEndian.Uint16(l3[4:]); id != f.id+uint16(i) {
			t.Fatalf("segment %d: IPv4 id %d, want %d", i, id, f.id+uint16(i))
		}
		l4 = l3[20:]
	}
	if refSum(f.pseudo(len(l4)), l4) != 0xffff {
		t.Fatalf("segment %d: bad transport checksum", i)
	}
	hl := 8
	if !f.udp {
		hl = int(l4[12]>>4) * 4
		flags := l4[13]
		if i < n-1 && flags&0x09 != 0 || i > 0 && flags&0x80 != 0 {
			t.Fatalf("segment %d of %d: flags %#x", i, n, flags)
		}
	} else if int(binary.BigEndian.Uint16(l4[4:])) != len(l4) {
		t.Fatalf("segment %d: UDP length", i)
	}
	if len(l4)-hl > f.mss {
		t.Fatalf("segment %d: %d payload bytes above gso_size %d", i, len(l4)-hl, f.mss)
	}
}

// TestSegmentPartial checks ChecksumPartial: the same segments with the
// pseudo-header sum in the checksum field, and a header that leaves the
// rest to the destination; completing each gives the reference segment.
func TestSegmentPartial(t *testing.T) {
	for name, f := range testFlows() {
		t.Run(name, func(t *testing.T) {
			h, fr := f.superFrame()
			want := f.segments()
			got := segmentAll(t, h, split(fr, int(h.HdrLen), len(fr)-1), offload.ChecksumPartial)
			if len(got) != len(want) {
				t.Fatalf("%d segments, want %d", len(got), len(want))
			}
			var l offload.Layout
			var s offload.Segmenter
			offload.Validate(h, fr, nil, hostAll, &l)
			s.Init(h, &l, fr, nil, offload.ChecksumPartial)
			sh := s.SegmentHeader()
			if sh.Flags != offload.FlagNeedsCsum || sh.CsumStart != h.CsumStart || sh.CsumOffset != h.CsumOffset || sh.IsGSO() {
				t.Fatalf("SegmentHeader %+v", sh)
			}
			for i := range got {
				seg := got[i]
				var sl offload.Layout
				if r := offload.Validate(sh, seg, nil, offload.Csum, &sl); r != offload.ReasonNone {
					t.Fatalf("segment %d: Validate: %v", i, r)
				}
				offload.Complete(sh, &sl, seg, nil)
				if !bytes.Equal(seg, want[i]) {
					t.Fatalf("segment %d differs after Complete", i)
				}
			}
		})
	}
}
