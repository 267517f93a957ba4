package vhostuser

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// OOBSize is the size of the ancillary-data buffer a Reader needs to receive
// MaxFds descriptors with one message.
var OOBSize = unix.CmsgSpace(4 * MaxFds)

// Reader reassembles messages, with the descriptors sent alongside them,
// from a stream socket that may return them in pieces. It never blocks: it
// reads with MSG_DONTWAIT and keeps a partial message until the rest
// arrives.
//
// The header is read on its own first, so that one recvmsg never reaches
// into the next message and the descriptors received are those of the
// message being read.
type Reader struct {
	fd   int
	oob  []byte
	hdr  Header
	n    int // bytes of the current message in buf
	nfds int // descriptors of the current message in fds
	buf  [HeaderSize + MaxPayloadSize]byte
	fds  [MaxFds]int
}

// NewReader returns a Reader of socket fd that receives ancillary data into
// oob, which the caller owns and must not use while the Reader lives; it
// should hold OOBSize bytes (a shorter buffer makes messages carrying more
// descriptors than fit fail with ErrBadFds).
func NewReader(fd int, oob []byte) *Reader {
	if len(oob) > OOBSize {
		oob = oob[:OOBSize]
	}
	return &Reader{fd: fd, oob: oob}
}

// Read reads the next message into m. It returns ErrWouldBlock when the
// socket holds no complete message yet (what has arrived is kept), io.EOF
// when the peer closed the connection between messages, and any other
// error when the stream can no longer be trusted, after closing the
// descriptors received with the broken message: the caller should close
// the connection.
//
// Read checks only that the payload fits MaxPayloadSize; see CheckRequest.
func (r *Reader) Read(m *Message) error {
	for {
		end := HeaderSize
		if r.n >= HeaderSize {
			end += int(r.hdr.Size)
		}
		if r.n == end && r.n >= HeaderSize {
			m.Header = r.hdr
			m.Payload = r.buf[HeaderSize:end]
			m.Fds = r.fds[:r.nfds]
			r.n, r.nfds = 0, 0
			return nil
		}
		n, oobn, flags, _, err := unix.Recvmsg(r.fd, r.buf[r.n:end], r.oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return ErrWouldBlock
		}
		if err != nil {
			r.Discard()
			return fmt.Errorf("vhost-user: recvmsg: %w", err)
		}
		if err := r.collect(r.oob[:oobn], flags); err != nil {
			r.Discard()
			return err
		}
		if n == 0 {
			if r.n == 0 && r.nfds == 0 {
				return io.EOF
			}
			r.Discard()
			return fmt.Errorf("vhost-user: connection closed inside a message: %w", io.ErrUnexpectedEOF)
		}
		prev := r.n
		r.n += n
		if prev < HeaderSize && r.n == HeaderSize {
			_ = r.hdr.UnmarshalBinary(r.buf[:HeaderSize])
			if r.hdr.Size > MaxPayloadSize {
				hdr := r.hdr
				r.Discard()
				return fmt.Errorf("%v: %d payload bytes: %w", hdr.Request, hdr.Size, ErrPayloadTooLarge)
			}
		}
	}
}

// collect keeps the descriptors of one recvmsg's ancillary data, closing
// those beyond MaxFds.
func (r *Reader) collect(oob []byte, flags int) error {
	var err error
	if flags&unix.MSG_CTRUNC != 0 {
		err = fmt.Errorf("ancillary data truncated: %w", ErrBadFds)
	}
	if len(oob) == 0 {
		return err
	}
	cmsgs, perr := unix.ParseSocketControlMessage(oob)
	if perr != nil {
		return fmt.Errorf("vhost-user: ancillary data: %w", perr)
	}
	for i := range cmsgs {
		if cmsgs[i].Header.Level != unix.SOL_SOCKET || cmsgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		fds, perr := unix.ParseUnixRights(&cmsgs[i])
		if perr != nil {
			return fmt.Errorf("vhost-user: SCM_RIGHTS: %w", perr)
		}
		for _, fd := range fds {
			if r.nfds < len(r.fds) {
				r.fds[r.nfds] = fd
				r.nfds++
				continue
			}
			_ = unix.Close(fd)
			err = fmt.Errorf("more than %d descriptors: %w", MaxFds, ErrBadFds)
		}
	}
	return err
}

// Discard drops the partial message being read and closes the descriptors
// received with it.
func (r *Reader) Discard() {
	closeFds(r.fds[:r.nfds])
	r.n, r.nfds = 0, 0
}
