package offload_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"mvirt-net/reactor/offload"
)

// fuzzPieces cuts frame at two fuzzer-chosen offsets into up to three
// pieces and gathers the headers into a fresh head, as the data plane does.
func fuzzPieces(frame []byte, cut1, cut2 uint16) (pieces [][]byte, head []byte, tail [][]byte) {
	a := min(int(cut1), len(frame))
	b := min(max(int(cut2), a), len(frame))
	pieces = [][]byte{frame[:a], frame[a:b], frame[b:]}
	buf := make([]byte, offload.MaxHeaderLen)
	head, tail = offload.Pullup(buf, pieces, make([][]byte, len(pieces)))
	return pieces, head, tail
}

func addSeeds(f *testing.F) {
	for _, fl := range testFlows() {
		if len(fl.payload) > 3000 {
			fl.payload = fl.payload[:3000]
		}
		h, fr := fl.superFrame()
		f.Add(h.Append(nil), fr, uint16(h.HdrLen), uint16(h.HdrLen+100), uint16(hostAll))
		h.GSOType, h.GSOSize = offload.GSONone, 0
		f.Add(h.Append(nil), fr, uint16(20), uint16(700), uint16(offload.Csum))
	}
	f.Add(make([]byte, 12), []byte{}, uint16(0), uint16(0), uint16(0))
}

// FuzzValidate checks that no header and frame make Validate, Plan or
// Complete read or write out of bounds, and that Complete writes only the
// two checksum bytes, only into head.
func FuzzValidate(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, hdr, frame []byte, cut1, cut2, feat uint16) {
		if len(hdr) < offload.HeaderLen {
			return
		}
		h := offload.Decode(hdr[:offload.HeaderLen])
		orig := bytes.Clone(frame)
		_, head, tail := fuzzPieces(frame, cut1, cut2)
		var l offload.Layout
		r := offload.Validate(h, head, tail, offload.Features(feat), &l)
		if r >= offload.NumReasons {
			t.Fatalf("reason %d out of range", r)
		}
		if r != offload.ReasonNone {
			return
		}
		if offload.Plan(h, &l, 0) != offload.ActionComplete {
			return
		}
		before := bytes.Clone(head)
		offload.Complete(h, &l, head, tail)
		field := int(h.CsumStart) + int(h.CsumOffset)
		for i := range head {
			if head[i] != before[i] && (i < field || i > field+1) {
				t.Fatalf("Complete changed byte %d outside the checksum field at %d", i, field)
			}
		}
		if !bytes.Equal(frame, orig) {
			t.Fatal("Complete wrote into the source pieces")
		}
	})
}

// FuzzSegment segments whatever Validate accepts, in both checksum modes,
// and checks that the segments carry the payload in order, each at most
// gso_size bytes of it behind the repeated headers, without touching the
// source.
func FuzzSegment(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, hdr, frame []byte, cut1, cut2, feat uint16) {
		if len(hdr) < offload.HeaderLen {
			return
		}
		h := offload.Decode(hdr[:offload.HeaderLen])
		orig := bytes.Clone(frame)
		_, head, tail := fuzzPieces(frame, cut1, cut2)
		var l offload.Layout
		if offload.Validate(h, head, tail, offload.Features(feat), &l) != offload.ReasonNone || !h.IsGSO() {
			return
		}
		whole := append(bytes.Clone(head), bytes.Join(tail, nil)...)
		want := whole[l.HdrLen:l.End]
		for _, mode := range []offload.ChecksumMode{offload.ChecksumFull, offload.ChecksumPartial} {
			var s offload.Segmenter
			if r := s.Init(h, &l, head, tail, mode); r != offload.ReasonNone {
				t.Fatalf("Init refused what Validate accepted: %v", r)
			}
			var got []byte
			var hb [offload.MaxHeaderLen]byte
			var payload [offload.MaxPieces][]byte
			segs := 0
			for {
				hl, n, ok := s.Next(hb[:], &payload)
				if !ok {
					break
				}
				segs++
				if hl != l.HdrLen {
					t.Fatalf("segment %d: %d header bytes, want %d", segs, hl, l.HdrLen)
				}
				size := 0
				seg := bytes.Clone(hb[:hl])
				for _, p := range payload[:n] {
					got = append(got, p...)
					seg = append(seg, p...)
					size += len(p)
				}
				if mode == offload.ChecksumPartial {
					// The destination completes the checksum: the segment
					// must pass validation as a NEEDS_CSUM frame.
					sh := s.SegmentHeader()
					var sl offload.Layout
					if r := offload.Validate(sh, seg, nil, offload.Csum, &sl); r != offload.ReasonNone {
						t.Fatalf("segment %d: partial segment refused: %v", segs, r)
					}
					offload.Complete(sh, &sl, seg, nil)
				}
				if !checksumsVerify(seg, &l) {
					t.Fatalf("segment %d: checksums do not verify", segs)
				}
				if size > int(h.GSOSize) {
					t.Fatalf("segment %d: %d payload bytes above gso_size %d", segs, size, h.GSOSize)
				}
				if s.Segments() < segs {
					t.Fatalf("more than Segments() = %d segments", s.Segments())
				}
			}
			if segs != s.Segments() {
				t.Fatalf("%d segments, Segments() = %d", segs, s.Segments())
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("segments carry %d payload bytes that differ from the frame's %d", len(got), len(want))
			}
		}
		if !bytes.Equal(frame, orig) {
			t.Fatal("segmenting wrote into the source")
		}
	})
}

// checksumsVerify reports whether the IPv4 header checksum (if IPv4) and
// the transport checksum of a segment with layout l verify.
func checksumsVerify(seg []byte, l *offload.Layout) bool {
	l4 := seg[l.L4Off:]
	var ph []byte
	if l.IPVersion == 4 {
		if refSum(seg[l.L3Off:l.L4Off]) != 0xffff {
			return false
		}
		ph = append(ph, seg[l.L3Off+12:l.L3Off+20]...)
		ph = append(ph, 0, l.Proto)
		ph = binary.BigEndian.AppendUint16(ph, uint16(len(l4)))
	} else {
		ph = append(ph, seg[l.L3Off+8:l.L3Off+40]...)
		ph = binary.BigEndian.AppendUint32(ph, uint32(len(l4)))
		ph = append(ph, 0, 0, 0, l.Proto)
	}
	return refSum(ph, l4) == 0xffff
}
