package vmm

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestNetHeaderFixtures(t *testing.T) {
	tests := []struct {
		hex string
		h   NetHeader
	}{
		{"000000000000000000000000", NetHeader{}},
		{"000000000000000000000100", NetHeader{NumBuffers: 1}},
		{"0104360096052200100003ff", NetHeader{Flags: NetHdrFNeedsCsum, GSOType: NetHdrGSOTCPv6, HdrLen: 54, GSOSize: 1430, CsumStart: 34, CsumOffset: 16, NumBuffers: 0xff03}},
		{"0281ffff0100020003000400", NetHeader{Flags: NetHdrFDataValid, GSOType: NetHdrGSOTCPv4 | NetHdrGSOECN, HdrLen: 0xffff, GSOSize: 1, CsumStart: 2, CsumOffset: 3, NumBuffers: 4}},
	}
	for _, tc := range tests {
		want, _ := hex.DecodeString(tc.hex)
		if got := tc.h.Append(nil); !bytes.Equal(got, want) {
			t.Errorf("%+v encodes as %x, want %s", tc.h, got, tc.hex)
		}
		h, err := ParseNetHeader(append(want, 0xaa, 0xbb))
		if err != nil || h != tc.h {
			t.Errorf("%s parses as %+v, %v", tc.hex, h, err)
		}
	}
	if _, err := ParseNetHeader(make([]byte, NetHeaderLen-1)); err == nil {
		t.Error("short header parsed")
	}
}

func FuzzNetHeader(f *testing.F) {
	f.Add(make([]byte, NetHeaderLen))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseNetHeader(b)
		if err != nil {
			if len(b) >= NetHeaderLen {
				t.Fatalf("%x: %v", b, err)
			}
			return
		}
		if got := h.Append(nil); !bytes.Equal(got, b[:NetHeaderLen]) {
			t.Fatalf("round trip %x -> %x", b[:NetHeaderLen], got)
		}
	})
}
