package vhostuser

import "golang.org/x/sys/unix"

// Message is one message as a Reader delivers it.
//
// Payload and the Fds slice are borrowed from the Reader and valid until its
// next Read. The descriptors in Fds belong to the caller of Read: it keeps
// each one (TakeFd) or closes it (CloseFds).
type Message struct {
	Header
	Payload []byte
	Fds     []int
}

// TakeFd returns the i-th descriptor and marks it taken, so that CloseFds
// leaves it open; the caller now owns it.
func (m *Message) TakeFd(i int) int {
	fd := m.Fds[i]
	m.Fds[i] = -1
	return fd
}

// CloseFds closes every descriptor of m not taken and forgets them.
func (m *Message) CloseFds() {
	closeFds(m.Fds)
	m.Fds = m.Fds[:0]
}

// closeFds closes the non-negative descriptors of fds and marks them -1.
func closeFds(fds []int) {
	for i, fd := range fds {
		if fd >= 0 {
			_ = unix.Close(fd)
			fds[i] = -1
		}
	}
}
