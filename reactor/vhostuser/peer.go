package vhostuser

import (
	"errors"

	"golang.org/x/sys/unix"
)

// PeerGone reports whether the frontend has closed its end of the
// connection (or it broke), whether or not messages it sent before are
// still unread. It does not block or read.
func (s *Session) PeerGone() bool {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLRDHUP}}
	for {
		_, err := unix.Poll(fds, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return true
		}
		return fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
	}
}
