package virtq

import (
	"encoding/binary"
	"testing"

	"mvirt-net/reactor/virtq/ringword"
)

func TestNeedEvent(t *testing.T) {
	tests := []struct {
		event, new, old uint16
		want            bool
	}{
		{0, 1, 0, true},
		{0, 2, 1, false},
		{5, 10, 0, true},
		{10, 10, 0, false},
		{9, 10, 0, true},
		{0xffff, 2, 0xfffe, true}, // window wraps
		{1, 2, 0xfffe, true},
		{2, 2, 0xfffe, false},
		{3, 3, 3, false},
	}
	for _, tc := range tests {
		if got := needEvent(tc.event, tc.new, tc.old); got != tc.want {
			t.Errorf("needEvent(%d, %d, %d) = %v, want %v", tc.event, tc.new, tc.old, got, tc.want)
		}
	}
}

// TestStore16KeepsNeighbour checks that the 16-bit atomics touch only
// their field, at both positions within a word.
func TestStore16KeepsNeighbour(t *testing.T) {
	buf := make([]byte, 20)
	lead := int(-ringword.HostAddr(buf) & 3)
	buf = buf[lead : lead+16]
	for i := range buf {
		buf[i] = byte(0xa0 + i)
	}
	ringword.Store16(buf, 4, 0x1234)
	ringword.Store16(buf, 10, 0xbeef)
	if ringword.Load16(buf, 4) != 0x1234 || ringword.Load16(buf, 10) != 0xbeef {
		t.Fatal("load16 does not return what store16 stored")
	}
	if binary.LittleEndian.Uint16(buf[4:]) != 0x1234 || binary.LittleEndian.Uint16(buf[10:]) != 0xbeef {
		t.Fatal("fields not little-endian in memory")
	}
	for _, i := range []int{0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15} {
		if buf[i] != byte(0xa0+i) {
			t.Errorf("byte %d changed to %#x", i, buf[i])
		}
	}
}

func TestReaderAndByteAt(t *testing.T) {
	r := reader{cur: []byte("HDR"), rest: [][]byte{nil, []byte("ab"), []byte(""), []byte("cdefg")}}
	d1, d2, d3 := make([]byte, 4), make([]byte, 2), make([]byte, 10)
	if n := r.fill([][]byte{d1, d2}); n != 6 || string(d1) != "HDRa" || string(d2) != "bc" {
		t.Fatalf("first fill: %d %q %q", n, d1, d2)
	}
	if n := r.fill([][]byte{d3}); n != 4 || string(d3[:4]) != "defg" {
		t.Fatalf("second fill: %d %q", n, d3)
	}
	if n := r.fill([][]byte{d3}); n != 0 {
		t.Fatalf("fill after end: %d", n)
	}
	segs := [][]byte{[]byte("abc"), []byte("d"), []byte("ef")}
	for off, want := range "abcdef" {
		if b := byteAt(segs, off); len(b) != 1 || cap(b) != 1 || b[0] != byte(want) {
			t.Fatalf("byteAt %d = %q", off, b)
		}
	}
	if byteAt(segs, 6) != nil {
		t.Fatal("byteAt past end")
	}
}
