package uring

import (
	"testing"

	"golang.org/x/sys/unix"
)

// message is a msghdr with its buffers, kept on the heap for the kernel as
// a vhost-user connection would keep one.
type message struct {
	data [64]byte
	oob  [64]byte
	iov  unix.Iovec
	hdr  unix.Msghdr
}

// newMessage points a message's header at its first dataLen data bytes and
// oobLen control bytes.
func newMessage(dataLen, oobLen int) *message {
	m := new(message)
	m.iov.Base = &m.data[0]
	m.iov.SetLen(dataLen)
	m.hdr.Iov = &m.iov
	m.hdr.SetIovlen(1)
	m.hdr.Control = &m.oob[0]
	m.hdr.SetControllen(oobLen)
	return m
}

// passedFd returns the one file descriptor carried by the control data.
func passedFd(t *testing.T, oob []byte) int {
	t.Helper()
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v; want one", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("passed fds %v, %v; want one", fds, err)
	}
	t.Cleanup(func() { unix.Close(fds[0]) })
	return fds[0]
}

// TestRecvMsgRights receives a vhost-user-like message carrying an eventfd.
func TestRecvMsgRights(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		fds := newSocketpair(t)
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		m := newMessage(len(message{}.data), len(message{}.oob))
		sqe := getSQE(t, r)
		sqe.PrepareRecvMsg(fds[0], &m.hdr, unix.MSG_CMSG_CLOEXEC)
		sqe.UserData = 1
		submit(t, r)
		if err := unix.Sendmsg(fds[1], []byte("kick"), unix.UnixRights(efd), nil, 0); err != nil {
			t.Fatal(err)
		}
		got := waitOne(t, r)
		if got.UserData != 1 || got.Res != 4 || string(m.data[:4]) != "kick" {
			t.Fatalf("completion %+v, data %q; want 4 bytes \"kick\"", got, m.data[:got.Res])
		}
		passed := passedFd(t, m.oob[:m.hdr.Controllen])
		eventfdAdd(t, passed, 2)
		if v := eventfdTake(t, efd); v != 2 {
			t.Fatalf("passed fd is not the eventfd: counter %d", v)
		}
	})
}

// TestSendMsgRights sends data and an eventfd through the ring.
func TestSendMsgRights(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		fds := newSocketpair(t)
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		rights := unix.UnixRights(efd)
		m := newMessage(len("call"), len(rights))
		copy(m.data[:], "call")
		copy(m.oob[:], rights)
		sqe := getSQE(t, r)
		sqe.PrepareSendMsg(fds[1], &m.hdr, unix.MSG_NOSIGNAL)
		sqe.UserData = 2
		if _, err := r.SubmitAndWait(1); err != nil {
			t.Fatal(err)
		}
		if got := waitOne(t, r); got.UserData != 2 || got.Res != 4 {
			t.Fatalf("completion %+v; want 4 bytes sent", got)
		}
		var data [8]byte
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := unix.Recvmsg(fds[0], data[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil || string(data[:n]) != "call" {
			t.Fatalf("Recvmsg = %q, %v; want \"call\"", data[:n], err)
		}
		eventfdAdd(t, passedFd(t, oob[:oobn]), 1)
		if v := eventfdTake(t, efd); v != 1 {
			t.Fatalf("passed fd is not the eventfd: counter %d", v)
		}
	})
}
