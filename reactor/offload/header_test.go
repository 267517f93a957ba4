package offload_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"mvirt-net/reactor/offload"
)

func TestHeaderFixtures(t *testing.T) {
	for _, tc := range []struct {
		hex string
		h   offload.Header
	}{
		{"000000000000000000000000", offload.Header{}},
		{"0104360096052200100003ff", offload.Header{Flags: offload.FlagNeedsCsum, GSOType: offload.GSOTCPv6, HdrLen: 54, GSOSize: 1430, CsumStart: 34, CsumOffset: 16, NumBuffers: 0xff03}},
		{"0281ffff0100020003000400", offload.Header{Flags: offload.FlagDataValid, GSOType: offload.GSOTCPv4 | offload.GSOECN, HdrLen: 0xffff, GSOSize: 1, CsumStart: 2, CsumOffset: 3, NumBuffers: 4}},
	} {
		want, _ := hex.DecodeString(tc.hex)
		if got := offload.Decode(want); got != tc.h {
			t.Errorf("Decode(%s) = %+v, want %+v", tc.hex, got, tc.h)
		}
		var b [offload.HeaderLen]byte
		tc.h.Encode(b[:])
		if !bytes.Equal(b[:], want) || !bytes.Equal(tc.h.Append(nil), want) {
			t.Errorf("Encode(%+v) = %x, want %s", tc.h, b, tc.hex)
		}
		legacy := offload.Decode(want[:offload.LegacyHeaderLen])
		if wantL := tc.h; legacy != func() offload.Header { wantL.NumBuffers = 0; return wantL }() {
			t.Errorf("legacy Decode(%s) = %+v", tc.hex, legacy)
		}
		lb := bytes.Repeat([]byte{0xee}, offload.LegacyHeaderLen+2)
		tc.h.Encode(lb[:offload.LegacyHeaderLen])
		if !bytes.Equal(lb[:offload.LegacyHeaderLen], want[:offload.LegacyHeaderLen]) || lb[10] != 0xee || lb[11] != 0xee {
			t.Errorf("legacy Encode(%+v) = %x", tc.h, lb)
		}
	}
}

func TestPassThrough(t *testing.T) {
	h := offload.Header{Flags: 0xff, GSOType: offload.GSOTCPv4, HdrLen: 54, GSOSize: 1448, CsumStart: 34, CsumOffset: 16, NumBuffers: 9}
	want := offload.Header{Flags: offload.FlagNeedsCsum, GSOType: offload.GSOTCPv4, HdrLen: 54, GSOSize: 1448, CsumStart: 34, CsumOffset: 16}
	if got := h.PassThrough(); got != want {
		t.Errorf("PassThrough = %+v, want %+v", got, want)
	}
	plain := offload.Header{Flags: offload.FlagDataValid, HdrLen: 3, GSOSize: 4, CsumStart: 5, CsumOffset: 6}
	if got := plain.PassThrough(); got != (offload.Header{}) {
		t.Errorf("PassThrough of a plain header = %+v, want zero", got)
	}
}

func TestFeatureBits(t *testing.T) {
	for _, tc := range []struct {
		f   offload.Features
		bit uint
	}{
		{offload.Csum, 0}, {offload.GuestCsum, 1}, {offload.GuestTSO4, 7}, {offload.GuestTSO6, 8},
		{offload.GuestECN, 9}, {offload.HostTSO4, 11}, {offload.HostTSO6, 12}, {offload.HostECN, 13},
		{offload.GuestUSO4, 54}, {offload.GuestUSO6, 55}, {offload.HostUSO, 56},
	} {
		if got := tc.f.Virtio(); got != 1<<tc.bit {
			t.Errorf("%v.Virtio() = %#x, want bit %d", tc.f, got, tc.bit)
		}
		if got := offload.FromVirtio(1<<tc.bit | 1<<15 | 1<<32 | 1<<10 | 1<<14); got != tc.f {
			t.Errorf("FromVirtio(bit %d) = %v, want %v", tc.bit, got, tc.f)
		}
	}
	if got := offload.FromVirtio(^uint64(0)); got != offload.All {
		t.Errorf("FromVirtio(all ones) = %v", got)
	}
	if s := (offload.Csum | offload.HostTSO4).String(); s != "csum,host_tso4" {
		t.Errorf("String = %q", s)
	}
}

func TestFeaturesConsistent(t *testing.T) {
	for _, tc := range []struct{ in, want offload.Features }{
		{offload.All, offload.All},
		{0, 0},
		{offload.HostTSO4 | offload.HostTSO6 | offload.HostUSO | offload.HostECN, 0},
		{offload.Csum | offload.HostECN, offload.Csum},
		{offload.Csum | offload.HostTSO6 | offload.HostECN, offload.Csum | offload.HostTSO6 | offload.HostECN},
		{offload.Csum | offload.HostUSO | offload.HostECN, offload.Csum | offload.HostUSO},
		{offload.GuestTSO4 | offload.GuestTSO6 | offload.GuestUSO4 | offload.GuestUSO6 | offload.GuestECN, 0},
		{offload.GuestCsum | offload.GuestECN, offload.GuestCsum},
		{offload.GuestCsum | offload.GuestTSO4 | offload.GuestECN, offload.GuestCsum | offload.GuestTSO4 | offload.GuestECN},
		{offload.GuestCsum | offload.GuestUSO6, offload.GuestCsum | offload.GuestUSO6},
		{offload.All &^ offload.Csum, offload.All &^ (offload.Csum | offload.HostTSO4 | offload.HostTSO6 | offload.HostUSO | offload.HostECN)},
		{offload.All &^ offload.GuestCsum, offload.All &^ (offload.GuestCsum | offload.GuestTSO4 | offload.GuestTSO6 | offload.GuestUSO4 | offload.GuestUSO6 | offload.GuestECN)},
	} {
		if got := tc.in.Consistent(); got != tc.want {
			t.Errorf("(%v).Consistent() = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRebased(t *testing.T) {
	h := offload.Header{Flags: offload.FlagNeedsCsum, GSOType: offload.GSOTCPv4, HdrLen: 40, GSOSize: 1448, CsumStart: 20, CsumOffset: 16}
	want := offload.Header{Flags: offload.FlagNeedsCsum, GSOType: offload.GSOTCPv4, HdrLen: 54, GSOSize: 1448, CsumStart: 34, CsumOffset: 16}
	if got := h.Rebased(14); got != want {
		t.Errorf("Rebased(14) = %+v, want %+v", got, want)
	}
	if got := want.Rebased(-14); got != h {
		t.Errorf("Rebased(-14) = %+v, want %+v", got, h)
	}
	plain := offload.Header{CsumStart: 7, HdrLen: 9}
	if got := plain.Rebased(14); got != plain {
		t.Errorf("Rebased of a plain header = %+v", got)
	}
}
