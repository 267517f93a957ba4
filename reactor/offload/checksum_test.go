package offload_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"mvirt-net/reactor/offload"
)

// TestComplete completes the checksum of NEEDS_CSUM frames (not GSO) given
// whole and in odd pieces, the head a separate writable copy, and compares
// with the frame built with its full checksum.
func TestComplete(t *testing.T) {
	for name, f := range map[string]flow{
		"tcp4":       {flags: 0x18, payload: pattern(1400, 1)},
		"tcp4 odd":   {flags: 0x18, tcpOpts: 4, payload: pattern(1001, 2)},
		"tcp6":       {v6: true, flags: 0x18, payload: pattern(8999, 3)},
		"udp4":       {udp: true, payload: pattern(333, 4)},
		"udp6 empty": {udp: true, v6: true},
	} {
		t.Run(name, func(t *testing.T) {
			f.mss = 1 << 15
			h, fr := f.superFrame()
			h.GSOType, h.GSOSize, h.HdrLen = offload.GSONone, 0, 0
			want := f.frame(f.payload, 0, 1, 0)
			for _, pieces := range [][][]byte{{fr}, split(fr, 3, 60, 61, 62, 501, 502)} {
				orig := bytes.Clone(fr)
				var buf [offload.MaxHeaderLen]byte
				rest := make([][]byte, len(pieces))
				head, tail := offload.Pullup(buf[:], pieces, rest)
				var l offload.Layout
				if r := offload.Validate(h, head, tail, offload.Csum, &l); r != offload.ReasonNone {
					t.Fatalf("Validate: %v", r)
				}
				if a := offload.Plan(h, &l, 0); a != offload.ActionComplete {
					t.Fatalf("Plan = %v", a)
				}
				offload.Complete(h, &l, head, tail)
				got := append(bytes.Clone(head), bytes.Join(tail, nil)...)
				if !bytes.Equal(got, want) {
					t.Fatalf("completed frame differs:\n got %x\nwant %x", got[:60], want[:60])
				}
				if !bytes.Equal(fr, orig) {
					t.Fatal("Complete wrote to the source frame")
				}
			}
		})
	}
}

// TestCompleteZero checks that a UDP checksum that computes to zero is sent
// as 0xffff.
func TestCompleteZero(t *testing.T) {
	f := flow{udp: true, payload: make([]byte, 2)}
	f.mss = 100
	h, fr := f.superFrame()
	h.GSOType, h.GSOSize = offload.GSONone, 0
	// Choose the payload so that the sum over the datagram is 0xffff.
	full := f.frame(f.payload, 0, 1, 0)
	c := binary.BigEndian.Uint16(full[34+6:])
	binary.BigEndian.PutUint16(fr[len(fr)-2:], c)
	var l offload.Layout
	if r := offload.Validate(h, fr, nil, offload.Csum, &l); r != offload.ReasonNone {
		t.Fatalf("Validate: %v", r)
	}
	offload.Complete(h, &l, fr, nil)
	if got := binary.BigEndian.Uint16(fr[34+6:]); got != 0xffff {
		t.Fatalf("checksum %#04x, want 0xffff", got)
	}
	if refSum(f.pseudo(len(fr)-34), fr[34:]) != 0xffff {
		t.Fatal("checksum does not verify")
	}
}
