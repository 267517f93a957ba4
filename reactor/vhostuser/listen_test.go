package vhostuser_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/vhostuser"
	"mvirt-net/tests/vmm"
)

func TestListenAcceptDial(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nic.sock")
	stale, err := vhostuser.Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	// A crashed daemon leaves its socket file behind.
	if err := unix.Close(stale.Fd()); err != nil {
		t.Fatal(err)
	}
	l, err := vhostuser.Listen(path, -1)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != vhostuser.SocketMode {
		t.Errorf("socket mode %v", st.Mode())
	}
	if _, err := l.Accept(); !errors.Is(err, vhostuser.ErrWouldBlock) {
		t.Errorf("accept with nobody waiting: %v", err)
	}
	f, err := vmm.Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s := vhostuser.NewSession(fd, newFakeDevice(), vhostuser.SessionConfig{})
	defer s.Close()
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("accepted socket flags %#x, %v: want non-blocking", fl, err)
	}
	if err := f.Send(vhostuser.ReqGetQueueNum, 0, nil, nil); err != nil {
		t.Fatal(err)
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if _, err := unix.Poll(pfd, 2000); err != nil {
		t.Fatal(err)
	}
	if err := s.HandleReadable(); err != nil {
		t.Fatal(err)
	}
	h, p, err := f.ReadMessage()
	if err != nil || h.Request != vhostuser.ReqGetQueueNum {
		t.Fatalf("reply %+v, %v", h, err)
	}
	if n, _ := vhostuser.ParseU64(p); n != vhostuser.NumQueues {
		t.Errorf("GET_QUEUE_NUM = %d", n)
	}
	if s.Features() != 0 || s.ProtocolFeatures() != 0 {
		t.Errorf("features %#x / %#x acknowledged by nobody", s.Features(), s.ProtocolFeatures())
	}
	if l.Path() != path {
		t.Errorf("Path() = %q", l.Path())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left after Close: %v", err)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-socket")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := vhostuser.Listen(path, -1); !errors.Is(err, os.ErrExist) {
		t.Errorf("Listen over a regular file: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Errorf("file touched: %q, %v", b, err)
	}
}

func TestListenerCloseKeepsReplacement(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nic.sock")
	old, err := vhostuser.Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	repl, err := vhostuser.Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer repl.Close()
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := vmm.Dial(path)
	if err != nil {
		t.Fatalf("replacement socket gone: %v", err)
	}
	_ = f.Close()
}
