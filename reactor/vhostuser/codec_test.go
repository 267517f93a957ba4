package vhostuser_test

import (
	"bytes"
	"encoding"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"mvirt-net/reactor/vhostuser"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type codec interface {
	encoding.BinaryUnmarshaler
}

// TestPayloadFixtures decodes wire bytes as QEMU writes them and encodes
// the values back to the same bytes.
func TestPayloadFixtures(t *testing.T) {
	for _, c := range []struct {
		name   string
		hex    string
		decode codec
		want   encoding.BinaryAppender
	}{
		{
			"header SET_VRING_NUM need_reply", "08000000 09000000 08000000",
			new(vhostuser.Header),
			vhostuser.Header{Request: vhostuser.ReqSetVringNum, Flags: vhostuser.Version | vhostuser.FlagNeedReply, Size: 8},
		},
		{
			"vring state", "01000000 00010000",
			new(vhostuser.VringState),
			vhostuser.VringState{Index: 1, Num: 256},
		},
		{
			"vring addr", "01000000 00000000" +
				"00000000f07f0000 00200000f07f0000 00100000f07f0000 0000000000000000",
			new(vhostuser.VringAddr),
			vhostuser.VringAddr{Index: 1, Desc: 0x7ff000000000, Used: 0x7ff000002000, Avail: 0x7ff000001000},
		},
		{
			"vring file no fd", "0101000000000000",
			new(vhostuser.VringFile),
			vhostuser.VringFile{Index: 1, NoFd: true},
		},
		{
			"memory table", "02000000 00000000" +
				"0000000000000000 0000000008000000 00000000f07f0000 0000000000000000" +
				"0000000001000000 0000100000000000 00000008f07f0000 0000000000000000",
			new(vhostuser.MemoryTable),
			vhostuser.MemoryTable{Regions: []vhostuser.MemoryRegion{
				{GuestPhysAddr: 0, Size: 0x800000000, UserspaceAddr: 0x7ff000000000},
				{GuestPhysAddr: 0x100000000, Size: 0x100000, UserspaceAddr: 0x7ff008000000},
			}},
		},
		{
			"empty memory table", "00000000 00000000",
			new(vhostuser.MemoryTable),
			vhostuser.MemoryTable{Regions: []vhostuser.MemoryRegion{}},
		},
		{
			"mem reg", "0000000000000000" +
				"0000000001000000 0000100000000000 00000008f07f0000 0010000000000000",
			new(vhostuser.MemRegMsg),
			vhostuser.MemRegMsg{Region: vhostuser.MemoryRegion{
				GuestPhysAddr: 0x100000000, Size: 0x100000, UserspaceAddr: 0x7ff008000000, MmapOffset: 0x1000,
			}},
		},
		{
			"log", "0010000000000000 0000000000000000",
			new(vhostuser.Log),
			vhostuser.Log{MmapSize: 0x1000},
		},
		{
			"config", "00000000 06000000 00000000 525400123456",
			new(vhostuser.Config),
			vhostuser.Config{Data: []byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			wire := unhex(t, c.hex)
			if err := c.decode.UnmarshalBinary(wire); err != nil {
				t.Fatal(err)
			}
			got, _ := c.decode.(encoding.BinaryAppender).AppendBinary(nil)
			want, _ := c.want.AppendBinary(nil)
			if !bytes.Equal(got, wire) || !bytes.Equal(want, wire) {
				t.Errorf("decoded+encoded %x, value encodes %x, wire %x", got, want, wire)
			}
			if c.decode.UnmarshalBinary(wire[:len(wire)-1]) == nil {
				t.Error("truncated payload accepted")
			}
		})
	}
}

func TestPayloadRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		hex  string
		dec  codec
		want error
	}{
		{"u64-sized vring state", "0100000000010000 00", new(vhostuser.VringState), vhostuser.ErrBadSize},
		{"vring file reserved bit", "0102000000000000", new(vhostuser.VringFile), vhostuser.ErrBadValue},
		{"memory table count beyond data", "02000000 00000000" + strings.Repeat("00", 32), new(vhostuser.MemoryTable), vhostuser.ErrBadSize},
		{"memory table with 9 regions", "09000000 00000000" + strings.Repeat("00", 9*32), new(vhostuser.MemoryTable), vhostuser.ErrBadValue},
		{"memory table header only half", "0000", new(vhostuser.MemoryTable), vhostuser.ErrBadSize},
		{"config bigger than 256", "00000000 01010000 00000000" + strings.Repeat("00", 257), new(vhostuser.Config), vhostuser.ErrBadValue},
		{"config size beyond data", "00000000 08000000 00000000 00", new(vhostuser.Config), vhostuser.ErrBadSize},
	} {
		if err := c.dec.UnmarshalBinary(unhex(t, c.hex)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestCheckRequest(t *testing.T) {
	v := vhostuser.Version
	for _, c := range []struct {
		h    vhostuser.Header
		fds  int
		want error
	}{
		{vhostuser.Header{Request: vhostuser.ReqGetFeatures, Flags: v}, 0, nil},
		{vhostuser.Header{Request: vhostuser.ReqSetMemTable, Flags: v, Size: 8 + 8*32}, 8, nil},
		{vhostuser.Header{Request: vhostuser.ReqAddMemReg, Flags: v | vhostuser.FlagNeedReply, Size: 40}, 1, nil},
		{vhostuser.Header{Request: vhostuser.ReqAddMemReg, Flags: v, Size: 40}, 0, vhostuser.ErrBadFds},
		{vhostuser.Header{Request: vhostuser.ReqRemMemReg, Flags: v, Size: 40}, 1, nil},
		{vhostuser.Header{Request: vhostuser.ReqSetVringCall, Flags: v, Size: 8}, 2, vhostuser.ErrBadFds},
		{vhostuser.Header{Request: vhostuser.ReqSetVringAddr, Flags: v, Size: 32}, 0, vhostuser.ErrBadSize},
		{vhostuser.Header{Request: vhostuser.Request(77), Flags: v, Size: 100}, 3, nil},
		{vhostuser.Header{Request: vhostuser.Request(77), Flags: v, Size: vhostuser.MaxPayloadSize + 1}, 0, vhostuser.ErrPayloadTooLarge},
		{vhostuser.Header{Request: vhostuser.ReqGetFeatures}, 0, vhostuser.ErrBadHeader},
		{vhostuser.Header{Request: vhostuser.ReqGetFeatures, Flags: v | vhostuser.FlagReply}, 0, vhostuser.ErrBadHeader},
	} {
		if err := vhostuser.CheckRequest(c.h, c.fds); !errors.Is(err, c.want) {
			t.Errorf("%+v with %d fds: %v, want %v", c.h, c.fds, err, c.want)
		}
	}
}

func TestRequestNames(t *testing.T) {
	for r, want := range map[vhostuser.Request]string{
		vhostuser.ReqGetFeatures:      "GET_FEATURES",
		vhostuser.ReqGetMaxMemSlots:   "GET_MAX_MEM_SLOTS",
		vhostuser.ReqRemMemReg:        "REM_MEM_REG",
		vhostuser.ReqGetStatus:        "GET_STATUS",
		vhostuser.ReqCheckDeviceState: "CHECK_DEVICE_STATE",
		vhostuser.Request(200):        "REQUEST_200",
	} {
		if got := r.String(); got != want {
			t.Errorf("%d: %q, want %q", uint32(r), got, want)
		}
	}
}
