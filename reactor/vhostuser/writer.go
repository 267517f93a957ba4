package vhostuser

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// AppendMessage appends a message, header then payload, to b; the header's
// size is len(payload).
func AppendMessage(b []byte, req Request, flags uint32, payload []byte) []byte {
	b, _ = Header{Request: req, Flags: flags, Size: uint32(len(payload))}.AppendBinary(b)
	return append(b, payload...)
}

// AppendReply appends the reply to req carrying payload to b.
func AppendReply(b []byte, req Request, payload []byte) []byte {
	return AppendMessage(b, req, Version|FlagReply, payload)
}

// WriteMessage sends the bytes of msg on socket fd, the descriptors of fds
// (which stay the caller's) riding with the first byte. On a non-blocking
// socket with no room it fails with an error wrapping ErrWouldBlock; the
// stream is then out of step and should be closed.
func WriteMessage(fd int, msg []byte, fds []int) error {
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for len(msg) > 0 {
		n, err := unix.SendmsgN(fd, msg, oob, nil, unix.MSG_NOSIGNAL)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return fmt.Errorf("vhost-user: sendmsg with %d bytes left: %w", len(msg), ErrWouldBlock)
		}
		if err != nil {
			return fmt.Errorf("vhost-user: sendmsg: %w", err)
		}
		msg, oob = msg[n:], nil
	}
	return nil
}
