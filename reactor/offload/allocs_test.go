package offload_test

import (
	"testing"

	"mvirt-net/reactor/offload"
)

// TestAllocs holds validation, planning, checksum completion and
// segmentation to a budget of zero heap allocations per frame and per
// segment.
func TestAllocs(t *testing.T) {
	f := flow{flags: 0x18, mss: 1448, payload: pattern(65000, 1)}
	h, fr := f.superFrame()
	pieces := split(fr, 66, 4096, 8192, 30001, 50000)
	c := flow{v6: true, flags: 0x18, payload: pattern(1400, 2)}
	ch, cfr := c.superFrame()
	ch.GSOType, ch.GSOSize = offload.GSONone, 0
	cpieces := split(cfr, 60, 61, 901)

	var buf [offload.MaxHeaderLen]byte
	var rest [8][]byte
	var hdr [offload.MaxHeaderLen]byte
	var payload [offload.MaxPieces][]byte
	var l offload.Layout
	var s offload.Segmenter
	var wire [offload.HeaderLen]byte
	cases := map[string]func(){
		"Decode+Encode": func() { offload.Decode(wire[:]).Encode(wire[:]) },
		"Validate TSO": func() {
			head, tail := offload.Pullup(buf[:], pieces, rest[:])
			offload.Validate(h, head, tail, hostAll, &l)
		},
		"Complete": func() {
			head, tail := offload.Pullup(buf[:], cpieces, rest[:])
			offload.Validate(ch, head, tail, hostAll, &l)
			offload.Plan(ch, &l, 0)
			offload.Complete(ch, &l, head, tail)
		},
		"Segment full": func() {
			head, tail := offload.Pullup(buf[:], pieces, rest[:])
			offload.Validate(h, head, tail, hostAll, &l)
			s.Init(h, &l, head, tail, offload.ChecksumFull)
			for {
				if _, _, ok := s.Next(hdr[:], &payload); !ok {
					break
				}
			}
		},
		"Segment partial": func() {
			head, tail := offload.Pullup(buf[:], pieces, rest[:])
			offload.Validate(h, head, tail, hostAll, &l)
			s.Init(h, &l, head, tail, offload.ChecksumPartial)
			for {
				if _, _, ok := s.Next(hdr[:], &payload); !ok {
					break
				}
			}
			_ = s.SegmentHeader()
		},
	}
	for name, fn := range cases {
		if n := testing.AllocsPerRun(50, fn); n != 0 {
			t.Errorf("%s: %v allocations per run, budget 0", name, n)
		}
	}
}
