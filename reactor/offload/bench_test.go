package offload_test

import (
	"testing"

	"mvirt-net/reactor/offload"
)

// BenchmarkSegment64KiB cuts a 64 KiB TCP super-frame, laid out as Linux
// sends it (a header buffer and 4 KiB page fragments), into 1448-byte
// segments with full checksums. Bytes are the payload; ns/segment is
// reported.
func BenchmarkSegment64KiB(b *testing.B) {
	for _, mode := range []struct {
		name string
		m    offload.ChecksumMode
	}{{"full", offload.ChecksumFull}, {"partial", offload.ChecksumPartial}} {
		b.Run(mode.name, func(b *testing.B) {
			f := flow{flags: 0x18, mss: 1448, payload: pattern(65535-40, 1)}
			h, fr := f.superFrame()
			var cuts []int
			for c := int(h.HdrLen); c < len(fr); c += 4096 {
				cuts = append(cuts, c)
			}
			pieces := split(fr, cuts...)
			var buf [offload.MaxHeaderLen]byte
			rest := make([][]byte, len(pieces))
			var hdr [offload.MaxHeaderLen]byte
			var payload [offload.MaxPieces][]byte
			var l offload.Layout
			var s offload.Segmenter
			b.SetBytes(int64(len(f.payload)))
			b.ReportAllocs()
			segs := 0
			for b.Loop() {
				head, tail := offload.Pullup(buf[:], pieces, rest)
				if offload.Validate(h, head, tail, hostAll, &l) != offload.ReasonNone {
					b.Fatal("refused")
				}
				s.Init(h, &l, head, tail, mode.m)
				for {
					if _, _, ok := s.Next(hdr[:], &payload); !ok {
						break
					}
					segs++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(segs), "ns/segment")
		})
	}
}

// BenchmarkChecksumComplete completes the checksum of a 9000-byte and a
// 64 KiB NEEDS_CSUM TCP frame in pieces, headers in a separate head.
func BenchmarkChecksumComplete(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"9000", 9000 - 54}, {"64KiB", 65535 - 40}} {
		b.Run(size.name, func(b *testing.B) {
			f := flow{flags: 0x18, mss: 1 << 15, payload: pattern(size.n, 1)}
			h, fr := f.superFrame()
			h.GSOType, h.GSOSize = offload.GSONone, 0
			var cuts []int
			for c := int(h.HdrLen); c < len(fr); c += 4096 {
				cuts = append(cuts, c)
			}
			pieces := split(fr, cuts...)
			var buf [offload.MaxHeaderLen]byte
			rest := make([][]byte, len(pieces))
			var l offload.Layout
			b.SetBytes(int64(len(fr)))
			b.ReportAllocs()
			for b.Loop() {
				head, tail := offload.Pullup(buf[:], pieces, rest)
				offload.Validate(h, head, tail, offload.Csum, &l)
				offload.Complete(h, &l, head, tail)
			}
		})
	}
}

// BenchmarkValidate validates a 64 KiB TCP super-frame whose headers are
// gathered from its first pieces, as the data plane does for every frame a
// guest sends with an offload.
func BenchmarkValidate(b *testing.B) {
	f := flow{flags: 0x18, mss: 1448, payload: pattern(65535-40, 1)}
	h, fr := f.superFrame()
	var cuts []int
	for c := int(h.HdrLen); c < len(fr); c += 4096 {
		cuts = append(cuts, c)
	}
	pieces := split(fr, cuts...)
	var buf [offload.MaxHeaderLen]byte
	rest := make([][]byte, len(pieces))
	var l offload.Layout
	b.ReportAllocs()
	for b.Loop() {
		head, tail := offload.Pullup(buf[:], pieces, rest)
		if offload.Validate(h, head, tail, hostAll, &l) != offload.ReasonNone {
			b.Fatal("refused")
		}
	}
}
