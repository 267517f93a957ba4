package vhostuser_test

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/vhostuser"
	"mvirt-net/tests/vmm"
)

// sendRaw sends one message built from its parts, size = len(payload).
func sendRaw(t *testing.T, f *vmm.Frontend, req vhostuser.Request, flags uint32, payload []byte, fds []int) {
	t.Helper()
	msg := vhostuser.AppendMessage(nil, req, vhostuser.Version|flags, payload)
	if err := f.SendRaw(msg, fds); err != nil {
		t.Fatal(err)
	}
}

// expectAck reads a REPLY_ACK for req and returns its status.
func expectAck(t *testing.T, f *vmm.Frontend, req vhostuser.Request) uint64 {
	t.Helper()
	h, p, err := f.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if h.Request != req || h.Flags != vhostuser.Version|vhostuser.FlagReply {
		t.Fatalf("reply %+v to %v", h, req)
	}
	v, err := vhostuser.ParseU64(p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// nineRegions turns a table of eight regions into one announcing nine.
func nineRegions(p []byte) []byte {
	p = append(p, make([]byte, vhostuser.MemoryRegionSize)...)
	binary.LittleEndian.PutUint32(p, 9)
	return p
}

func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

func eventfds(t *testing.T, n int) []int {
	t.Helper()
	fds := make([]int, n)
	for i := range fds {
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		fds[i] = fd
	}
	return fds
}

// TestFatalMessages sends a message that breaks the protocol and checks
// that the session ends with the right error and that every descriptor it
// received is closed.
func TestFatalMessages(t *testing.T) {
	table := func(n int) []byte {
		var mt vhostuser.MemoryTable
		for i := range n {
			mt.Regions = append(mt.Regions, vhostuser.MemoryRegion{GuestPhysAddr: uint64(i) << 20, Size: 1 << 20})
		}
		p, _ := mt.AppendBinary(nil)
		return p
	}
	for _, c := range []struct {
		name    string
		req     vhostuser.Request
		flags   uint32
		payload []byte
		fds     int
		want    error
	}{
		{"short SET_FEATURES", vhostuser.ReqSetFeatures, 0, make([]byte, 4), 0, vhostuser.ErrBadSize},
		{"GET_FEATURES with payload", vhostuser.ReqGetFeatures, 0, make([]byte, 8), 0, vhostuser.ErrBadSize},
		{"long SET_VRING_ADDR", vhostuser.ReqSetVringAddr, 0, make([]byte, 48), 0, vhostuser.ErrBadSize},
		{"mem table size lies", vhostuser.ReqSetMemTable, 0, table(2)[:40], 2, vhostuser.ErrBadSize},
		{"mem table of 9 regions", vhostuser.ReqSetMemTable, 0, nineRegions(table(8)), 0, vhostuser.ErrBadValue},
		{"GET_FEATURES with an fd", vhostuser.ReqGetFeatures, 0, nil, 1, vhostuser.ErrBadFds},
		{"SET_VRING_NUM with an fd", vhostuser.ReqSetVringNum, 0, make([]byte, 8), 1, vhostuser.ErrBadFds},
		{"9 fds", vhostuser.ReqSetMemTable, 0, table(8), 9, vhostuser.ErrBadFds},
		{"20 fds", vhostuser.ReqSetLogBase, 0, make([]byte, 16), 20, vhostuser.ErrBadFds},
		{"2 regions, 1 fd", vhostuser.ReqSetMemTable, 0, table(2), 1, vhostuser.ErrBadFds},
		{"kick with no-fd flag and an fd", vhostuser.ReqSetVringKick, 0, vhostuser.AppendU64(nil, vhostuser.VringNoFdMask), 1, vhostuser.ErrBadFds},
		{"kick without fd nor flag", vhostuser.ReqSetVringKick, 0, vhostuser.AppendU64(nil, 0), 0, vhostuser.ErrBadFds},
		{"kick reserved bits", vhostuser.ReqSetVringKick, 0, vhostuser.AppendU64(nil, 1<<20), 1, vhostuser.ErrBadValue},
		{"version 2", vhostuser.ReqGetFeatures, 0x2 &^ vhostuser.Version, nil, 0, vhostuser.ErrBadHeader},
		{"reply flag", vhostuser.ReqGetFeatures, vhostuser.FlagReply, nil, 0, vhostuser.ErrBadHeader},
		{"payload too large", vhostuser.ReqSetConfig, 0, make([]byte, vhostuser.MaxPayloadSize+1), 0, vhostuser.ErrPayloadTooLarge},
		{"unsupported request with reply", vhostuser.ReqGetConfig, 0, make([]byte, 12), 0, vhostuser.ErrUnsupported},
		{"GET_VRING_BASE of queue 5", vhostuser.ReqGetVringBase, 0, []byte{5, 0, 0, 0, 0, 0, 0, 0}, 0, vhostuser.ErrBadValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, b := startSession(t, vhostuser.SessionConfig{})
			before := openFds(t)
			fds := eventfds(t, c.fds)
			msg := vhostuser.AppendMessage(nil, c.req, vhostuser.Version, c.payload)
			if c.flags&vhostuser.FlagVersionMask != 0 {
				binary.LittleEndian.PutUint32(msg[4:], c.flags)
			} else {
				binary.LittleEndian.PutUint32(msg[4:], vhostuser.Version|c.flags)
			}
			if err := f.SendRaw(msg, fds); err != nil {
				t.Fatal(err)
			}
			if err := b.wait(t); !errors.Is(err, c.want) {
				t.Errorf("session ended with %v, want %v", err, c.want)
			}
			closeAll(fds)
			if after := openFds(t); after != before-1 {
				t.Errorf("%d descriptors open, want %d (the session's socket closed)", after, before-1)
			}
		})
	}
}

func TestRefusedRequestsKeepConnection(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	log := memfd(t, 4096)
	before := openFds(t)
	logPayload, _ := vhostuser.Log{MmapSize: 4096}.AppendBinary(nil)

	sendRaw(t, f, vhostuser.ReqSetLogBase, vhostuser.FlagNeedReply, logPayload, []int{log})
	if st := expectAck(t, f, vhostuser.ReqSetLogBase); st == 0 {
		t.Error("SET_LOG_BASE acknowledged")
	}
	sendRaw(t, f, vhostuser.ReqSetLogFd, 0, nil, []int{log})
	sendRaw(t, f, vhostuser.Request(99), vhostuser.FlagNeedReply, []byte("whatever"), []int{log, log})
	if st := expectAck(t, f, vhostuser.Request(99)); st == 0 {
		t.Error("unknown request acknowledged")
	}
	sendRaw(t, f, vhostuser.Request(1000), 0, nil, nil)
	sendRaw(t, f, vhostuser.ReqSendRARP, 0, make([]byte, 8), nil)
	sendRaw(t, f, vhostuser.ReqSetVringNum, vhostuser.FlagNeedReply, []byte{0, 0, 0, 0, 0, 1, 0, 0}, nil)
	if st := expectAck(t, f, vhostuser.ReqSetVringNum); st != 0 {
		t.Errorf("SET_VRING_NUM 256 refused: %d", st)
	}
	roundTrip(t, f)
	if after := openFds(t); after != before {
		t.Errorf("%d descriptors open, want %d", after, before)
	}
	select {
	case err := <-b.done:
		t.Fatalf("session ended: %v", err)
	default:
	}
}

func TestPeerDisconnectMidMessage(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	before := openFds(t)
	fds := eventfds(t, 1)
	msg := vhostuser.AppendMessage(nil, vhostuser.ReqAddMemReg, vhostuser.Version, make([]byte, vhostuser.MemRegMsgSize))
	if err := f.SendRaw(msg[:vhostuser.HeaderSize+10], fds); err != nil {
		t.Fatal(err)
	}
	closeAll(fds)
	time.Sleep(50 * time.Millisecond) // let the session read the fragment
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.wait(t); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("session ended with %v, want unexpected EOF", err)
	}
	if after := openFds(t); after != before-2 {
		// The front-end's socket and the session's socket.
		t.Errorf("%d descriptors open, want %d", after, before-2)
	}
}

func TestCleanDisconnect(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol)
	before := openFds(t)
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.wait(t); !errors.Is(err, io.EOF) {
		t.Errorf("session ended with %v, want EOF", err)
	}
	// The session stopped the rings, withdrew memory and closed every
	// descriptor it got; both sockets are gone.
	if after := openFds(t); after != before-2 {
		t.Errorf("%d descriptors open, want %d", after, before-2)
	}
	equalEvents(t, b.dev.takeEvents(), "add 0x0", "start 0", "start 1", "stop 0", "stop 1", "remove 0x0")
}

func TestMessageInPieces(t *testing.T) {
	f, _ := startSession(t, vhostuser.SessionConfig{})
	msg := vhostuser.AppendMessage(nil, vhostuser.ReqGetVringBase, vhostuser.Version, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	for _, piece := range [][]byte{msg[:5], msg[5:13], msg[13:]} {
		if err := f.SendRaw(piece, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	h, p, err := f.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var st vhostuser.VringState
	if h.Request != vhostuser.ReqGetVringBase || st.UnmarshalBinary(p) != nil || st.Index != 1 {
		t.Errorf("reply %+v %x", h, p)
	}
}
