package vhostuser_test

import (
	"bytes"
	"encoding"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/vhostuser"
)

// payloadFor returns the decoder of a request's payload, if it has one.
func payloadFor(r vhostuser.Request) encoding.BinaryUnmarshaler {
	switch r {
	case vhostuser.ReqSetVringNum, vhostuser.ReqSetVringBase, vhostuser.ReqGetVringBase, vhostuser.ReqSetVringEnable:
		return new(vhostuser.VringState)
	case vhostuser.ReqSetVringAddr:
		return new(vhostuser.VringAddr)
	case vhostuser.ReqSetVringKick, vhostuser.ReqSetVringCall, vhostuser.ReqSetVringErr:
		return new(vhostuser.VringFile)
	case vhostuser.ReqSetMemTable:
		return new(vhostuser.MemoryTable)
	case vhostuser.ReqAddMemReg, vhostuser.ReqRemMemReg:
		return new(vhostuser.MemRegMsg)
	case vhostuser.ReqSetLogBase:
		return new(vhostuser.Log)
	case vhostuser.ReqGetConfig, vhostuser.ReqSetConfig:
		return new(vhostuser.Config)
	}
	return nil
}

// FuzzDecode decodes arbitrary bytes as a header and payload: no panic, and
// whatever decodes encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, seed := range [][]byte{
		vhostuser.AppendMessage(nil, vhostuser.ReqSetVringNum, 1, []byte{0, 0, 0, 0, 0, 1, 0, 0}),
		vhostuser.AppendMessage(nil, vhostuser.ReqSetMemTable, 1, append([]byte{1, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 32)...)),
		vhostuser.AppendMessage(nil, vhostuser.ReqSetVringAddr, 9, make([]byte, 40)),
		vhostuser.AppendMessage(nil, vhostuser.ReqAddMemReg, 9, make([]byte, 40)),
		vhostuser.AppendMessage(nil, vhostuser.ReqSetConfig, 1, []byte{0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2}),
		vhostuser.AppendMessage(nil, vhostuser.ReqSetVringKick, 1, []byte{1, 1, 0, 0, 0, 0, 0, 0}),
	} {
		f.Add(seed, uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, nfds uint8) {
		var h vhostuser.Header
		if len(b) < vhostuser.HeaderSize || h.UnmarshalBinary(b[:vhostuser.HeaderSize]) != nil {
			return
		}
		payload := b[vhostuser.HeaderSize:]
		if vhostuser.CheckRequest(h, int(nfds)) != nil || int(h.Size) != len(payload) {
			return
		}
		dec := payloadFor(h.Request)
		if dec == nil || dec.UnmarshalBinary(payload) != nil {
			return
		}
		again, err := dec.(encoding.BinaryAppender).AppendBinary(nil)
		if err != nil {
			t.Fatalf("%v: decoded but does not encode: %v", h.Request, err)
		}
		// Padding is not kept: it encodes as zeros.
		want := append([]byte(nil), payload...)
		switch dec.(type) {
		case *vhostuser.MemoryTable:
			clear(want[4:8])
		case *vhostuser.MemRegMsg:
			clear(want[:8])
		}
		if !bytes.Equal(again, want) {
			t.Fatalf("%v: %x encodes back as %x", h.Request, payload, again)
		}
	})
}

// FuzzSession feeds a Session sequences of arbitrary messages, each with
// a few descriptors (small memfds, which serve as memory and as eventfds
// alike): it must not panic, must keep its Device contract, and
// must leave no descriptor open once closed.
func FuzzSession(f *testing.F) {
	var seed []byte
	for _, m := range [][]byte{
		vhostuser.AppendMessage(nil, vhostuser.ReqSetFeatures, 1, vhostuser.AppendU64(nil, vhostuser.DefaultFeatures)),
		vhostuser.AppendMessage(nil, vhostuser.ReqSetVringNum, 1, []byte{0, 0, 0, 0, 0, 1, 0, 0}),
		vhostuser.AppendMessage(nil, vhostuser.ReqSetVringAddr, 1, make([]byte, 40)),
		vhostuser.AppendMessage(nil, vhostuser.ReqSetVringKick, 1, []byte{0, 1, 0, 0, 0, 0, 0, 0}),
		vhostuser.AppendMessage(nil, vhostuser.ReqSetVringEnable, 9, []byte{0, 0, 0, 0, 1, 0, 0, 0}),
		vhostuser.AppendMessage(nil, vhostuser.ReqGetVringBase, 1, make([]byte, 8)),
	} {
		seed = append(seed, 0)
		seed = append(seed, m...)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		before := openFds(t)
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		dev := newFakeDevice()
		s := vhostuser.NewSession(pair[1], dev, vhostuser.SessionConfig{})
		// Each message: one byte of descriptor count, a header, its payload.
		var out []byte
		for len(b) > 1+vhostuser.HeaderSize {
			nfds := int(b[0] % 4)
			var m vhostuser.Message
			_ = m.Header.UnmarshalBinary(b[1 : 1+vhostuser.HeaderSize])
			b = b[1+vhostuser.HeaderSize:]
			n := min(int(m.Size), len(b))
			m.Payload, b = b[:n], b[n:]
			m.Size = uint32(n)
			fds := make([]int, nfds)
			for i := range fds {
				fds[i], err = unix.MemfdCreate("fuzz", unix.MFD_CLOEXEC)
				if err == nil {
					err = unix.Ftruncate(fds[i], 1<<16)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			m.Fds = fds
			var herr error
			out, herr = s.Handle(&m, out[:0])
			if herr != nil && errors.Is(herr, vhostuser.ErrWouldBlock) {
				t.Fatalf("Handle would block: %v", herr)
			}
			for _, fd := range fds {
				if fd >= 0 {
					t.Fatalf("descriptor %d neither taken nor closed", fd)
				}
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_ = unix.Close(pair[0])
		if after := openFds(t); after != before {
			t.Errorf("%d descriptors open after Close, %d before", after, before)
		}
		dev.check(t)
		for q, run := range dev.running {
			if run {
				t.Errorf("queue %d still running after Close", q)
			}
		}
		if len(dev.regions) != 0 {
			t.Errorf("%d regions left after Close", len(dev.regions))
		}
	})
}
