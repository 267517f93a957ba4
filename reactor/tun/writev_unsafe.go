package tun

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxIovecs bounds the pieces of one Writev: a header, an IP packet's
// head, and the lent pieces of its tail.
const MaxIovecs = 2 + 64

// Iovecs is a Writev's room for its iovecs, owned by the caller so that a
// write costs no allocation.
type Iovecs [MaxIovecs]unix.Iovec

// Writev writes one packet, its virtio_net_hdr hdr then the IP packet
// head+tail (in pieces), to the device with one writev(2), at once: the
// kernel has taken the packet when it returns, so the pieces may be
// reused. It reports the errno of a failed write (EFAULT for a piece that
// is not readable).
func (d *Device) Writev(iov *Iovecs, hdr, head []byte, tail [][]byte) error {
	if 2+len(tail) > len(iov) {
		return unix.E2BIG
	}
	n := 0
	for i := -2; i < len(tail); i++ {
		p := head
		switch {
		case i == -2:
			p = hdr
		case i >= 0:
			p = tail[i]
		}
		if len(p) == 0 {
			continue
		}
		iov[n].Base = &p[0]
		iov[n].SetLen(len(p))
		n++
	}
	_, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(d.fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
	clear(iov[:n])
	if errno != 0 {
		return errno
	}
	return nil
}
